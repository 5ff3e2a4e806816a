import type { CappTrait } from '@capp/capp-model';
import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';

import { Access } from '../../auth/auth.guard';
import { NotFoundError } from '../../common/errors';
import { KubeGateway } from '../../infra/kube/kube.gateway';
import { errorResponses, schemaRef } from '../../openapi/openapi';
import { TRAIT_NAME_PIPE } from './trait-name.pipe';

export interface CappTraitList {
  apiVersion: 'rcs.dana.io/v1alpha1';
  kind: 'CappTraitList';
  items: CappTrait[];
}

function apply(...decorators: MethodDecorator[]): MethodDecorator {
  return (target, key, descriptor) => {
    for (const d of decorators) d(target, key, descriptor);
  };
}

/**
 * The catalogue of patch traits app teams may name in `spec.traits` (cluster-scoped CappTraits,
 * read from the cluster: the platform team manages them with kubectl or the chart). Read only;
 * authorized like `kubectl get capptraits` (SubjectAccessReview on capptraits.rcs.dana.io).
 */
@ApiTags('traits')
@ApiBearerAuth()
@Controller({ path: 'traits', version: '1' })
export class TraitsController {
  constructor(private readonly kube: KubeGateway) {}

  @Get()
  @Access('list', { resource: 'capptraits' })
  @ApiOperation({
    summary: 'List the CappTraits',
    description: 'Each with its parameters (a JSON Schema), what it applies to and whether it restarts pods.',
  })
  @ApiResponse({ status: 200, schema: schemaRef('CappTraitList') })
  @apply(...errorResponses(401, 403, 429, 503))
  async list(): Promise<CappTraitList> {
    return { apiVersion: 'rcs.dana.io/v1alpha1', kind: 'CappTraitList', items: await this.kube.listTraits() };
  }

  @Get(':name')
  @Access('get', { resource: 'capptraits' })
  @ApiOperation({ summary: 'Read a CappTrait' })
  @ApiParam({ name: 'name', description: 'The CappTrait (a DNS-1123 subdomain).', example: 'sidecar' })
  @ApiResponse({ status: 200, schema: schemaRef('CappTrait') })
  @apply(...errorResponses(400, 401, 403, 404, 429, 503))
  async get(@Param('name', TRAIT_NAME_PIPE) name: string): Promise<CappTrait> {
    const trait = await this.kube.getTrait(name);
    if (!trait) throw new NotFoundError(`CappTrait "${name}" not found`);
    return trait;
  }
}
