import type { HealthScope } from '@capp/capp-model';
import { Body, Controller, Delete, Get, Param, Post, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';

import { Access } from '../../auth/auth.guard';
import { NAME_PARAM, NAME_PIPE, NS_PARAM, NS_PIPE } from '../../common/params';
import { API_EXAMPLES, errorResponses, schemaRef } from '../../openapi/openapi';
import { type HealthReport, HealthScopesService } from './healthscopes.service';

export interface HealthScopeList {
  apiVersion: 'rcs.dana.io/v1alpha1';
  kind: 'HealthScopeList';
  items: HealthScope[];
}

const RESOURCE = { resource: 'healthscopes' } as const;

function apply(...decorators: MethodDecorator[]): MethodDecorator {
  return (target, key, descriptor) => {
    for (const d of decorators) d(target, key, descriptor);
  };
}

/**
 * HealthScopes (DESIGN §10): the aggregated health of a group of Capps. Authorized with
 * SubjectAccessReviews on healthscopes.rcs.dana.io; stored in the cluster only (ADR 0007).
 */
@ApiTags('healthscopes')
@ApiBearerAuth()
@Controller({ path: 'namespaces/:ns/healthscopes', version: '1' })
export class HealthScopesController {
  constructor(private readonly scopes: HealthScopesService) {}

  @Get()
  @Access('list', RESOURCE)
  @ApiOperation({ summary: 'List the HealthScopes of a namespace', description: 'With their status.' })
  @NS_PARAM
  @ApiResponse({ status: 200, schema: schemaRef('HealthScopeList') })
  @apply(...errorResponses(400, 401, 403, 429, 503))
  async list(@Param('ns', NS_PIPE) ns: string): Promise<HealthScopeList> {
    return { apiVersion: 'rcs.dana.io/v1alpha1', kind: 'HealthScopeList', items: await this.scopes.list(ns) };
  }

  @Post()
  @Access('create', RESOURCE)
  @ApiOperation({
    summary: 'Create a HealthScope',
    description:
      'The body is the CR as kubectl would apply it (`metadata` + `spec`); the operator writes its status.',
  })
  @NS_PARAM
  @ApiBody({ schema: schemaRef('HealthScopeWrite'), examples: API_EXAMPLES.healthScope })
  @ApiResponse({ status: 201, description: 'Created in the cluster.', schema: schemaRef('HealthScope') })
  @apply(...errorResponses(400, 401, 403, 409, 413, 422, 429, 503))
  async create(
    @Param('ns', NS_PIPE) ns: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<HealthScope> {
    const scope = await this.scopes.create(ns, body);
    res.status(201).setHeader('Location', `/api/v1/namespaces/${ns}/healthscopes/${scope.metadata.name}`);
    return scope;
  }

  @Get(':name')
  @Access('get', RESOURCE)
  @ApiOperation({
    summary: 'Read a HealthScope',
    description: 'With its status as the operator last wrote it.',
  })
  @NS_PARAM
  @NAME_PARAM
  @ApiResponse({ status: 200, schema: schemaRef('HealthScope') })
  @apply(...errorResponses(400, 401, 403, 404, 429, 503))
  async get(@Param('ns', NS_PIPE) ns: string, @Param('name', NAME_PIPE) name: string): Promise<HealthScope> {
    return this.scopes.get(ns, name);
  }

  @Put(':name')
  @Access('update', RESOURCE)
  @ApiOperation({ summary: 'Replace a HealthScope', description: 'Labels, annotations and spec.' })
  @NS_PARAM
  @NAME_PARAM
  @ApiBody({ schema: schemaRef('HealthScopeWrite'), examples: API_EXAMPLES.healthScope })
  @ApiResponse({ status: 200, description: 'Replaced in the cluster.', schema: schemaRef('HealthScope') })
  @apply(...errorResponses(400, 401, 403, 404, 409, 413, 422, 429, 503))
  async replace(
    @Param('ns', NS_PIPE) ns: string,
    @Param('name', NAME_PIPE) name: string,
    @Body() body: unknown,
  ): Promise<HealthScope> {
    return this.scopes.replace(ns, name, body);
  }

  @Delete(':name')
  @Access('delete', RESOURCE)
  @ApiOperation({
    summary: 'Delete a HealthScope',
    description: 'Its Capps stop listing it in status.scopes.',
  })
  @NS_PARAM
  @NAME_PARAM
  @ApiResponse({
    status: 200,
    description: 'Deleted; the last known object.',
    schema: schemaRef('HealthScope'),
  })
  @apply(...errorResponses(400, 401, 403, 404, 429, 503))
  async delete(
    @Param('ns', NS_PIPE) ns: string,
    @Param('name', NAME_PIPE) name: string,
  ): Promise<HealthScope> {
    return this.scopes.delete(ns, name);
  }

  @Get(':name/health')
  @Access('get', RESOURCE)
  @ApiOperation({
    summary: 'The health of a HealthScope: 200 when Healthy, 503 when not',
    description:
      'For a load balancer or an uptime checker: 200 only when the scope is Healthy; 503 when it is ' +
      'Unhealthy, Unknown, Empty or not evaluated yet. The body names every member with its health and reason.',
  })
  @NS_PARAM
  @NAME_PARAM
  @ApiResponse({ status: 200, description: 'Healthy.', schema: schemaRef('HealthReport') })
  @ApiResponse({
    status: 503,
    description:
      'Not healthy (Unhealthy, Unknown, Empty, not evaluated yet: `health` says which), or the Kubernetes API server is unavailable (the error envelope).',
    schema: { oneOf: [schemaRef('HealthReport'), schemaRef('Error')] },
  })
  @apply(...errorResponses(400, 401, 403, 404, 429))
  async health(
    @Param('ns', NS_PIPE) ns: string,
    @Param('name', NAME_PIPE) name: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<HealthReport> {
    const report = await this.scopes.health(ns, name);
    res.status(report.healthy ? 200 : 503).setHeader('Cache-Control', 'no-store');
    return report;
  }
}
