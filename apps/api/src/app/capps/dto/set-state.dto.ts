import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';

export class SetStateDto {
  @ApiProperty({
    enum: ['enabled', 'disabled'],
    example: 'disabled',
    description: '`disabled` removes the Knative Service and keeps the rest.',
  })
  @IsIn(['enabled', 'disabled'])
  state!: 'enabled' | 'disabled';
}
