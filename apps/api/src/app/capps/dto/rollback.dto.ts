import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';

import { MAX_REVISION } from '../../../common/params';

export class RollbackDto {
  @ApiProperty({
    minimum: 1,
    maximum: MAX_REVISION,
    example: 1,
    description: 'The revision whose content becomes current (as a new revision).',
  })
  @IsInt()
  @Min(1)
  @Max(MAX_REVISION)
  revision!: number;
}
