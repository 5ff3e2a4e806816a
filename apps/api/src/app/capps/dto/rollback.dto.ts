import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Min } from 'class-validator';

export class RollbackDto {
  @ApiProperty({
    minimum: 1,
    example: 1,
    description: 'The revision whose content becomes current (as a new revision).',
  })
  @IsInt()
  @Min(1)
  revision!: number;
}
