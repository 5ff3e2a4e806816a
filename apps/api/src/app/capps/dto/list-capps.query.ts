import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../capps.service';

export class ListCappsQuery {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: DEFAULT_PAGE_SIZE,
    description: 'Page size.',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `continue` token of the previous page.' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  continue?: string;

  @ApiPropertyOptional({
    description: 'Kubernetes label selector, e.g. `app=web,tier in (front,back),!legacy`.',
    example: 'app=web',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  labelSelector?: string;

  @ApiPropertyOptional({ enum: ['enabled', 'disabled'], description: 'Only Capps in this state.' })
  @IsOptional()
  @IsIn(['enabled', 'disabled'])
  state?: 'enabled' | 'disabled';
}
