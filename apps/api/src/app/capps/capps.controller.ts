import { cappSpecWarnings, CappWrite, formatWarnings } from '@capp/capp-model';
import { CappWriteDto } from '@capp/capp-model/dto';
import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';

import { Access, AuthedRequest } from '../../auth/auth.guard';
import { Authenticator } from '../../auth/authenticator';
import { InvalidInputError, UnauthenticatedError } from '../../common/errors';
import { NAME_PARAM, NAME_PIPE, NS_PARAM, NS_PIPE, REVISION_PARAM, REVISION_PIPE } from '../../common/params';
import { sendJson } from '../../common/send-json';
import { validationPipe } from '../../common/validation';
import { API_EXAMPLES, errorResponses, schemaRef } from '../../openapi/openapi';
import { CappResource, etagOf, RevisionView, toResource, toRevisionView } from './capp-content';
import { CappViews } from './capp-views';
import { CappRecord } from './capps.repository';
import { CappsService, Page, WriteResult } from './capps.service';
import { ListCappsQuery } from './dto/list-capps.query';
import { RollbackDto } from './dto/rollback.dto';
import { SetStateDto } from './dto/set-state.dto';
import { LabelSelectorError, parseLabelSelector } from './label-selector';

/** A CappList, as JSON text. */
function listOf(page: Page, res: Response): string {
  res.type('application/json');
  return CappViews.list(page.items, page.continue);
}

function selector(raw: string | undefined): ReturnType<typeof parseLabelSelector> {
  try {
    return parseLabelSelector(raw);
  } catch (err) {
    if (err instanceof LabelSelectorError)
      throw new InvalidInputError(`invalid labelSelector: ${err.message}`, [
        { path: 'labelSelector', rule: 'labelSelector', message: err.message },
      ]);
    throw err;
  }
}

/**
 * What the stored Capp has that is valid but probably not meant (e.g. `tlsEnabled` without a
 * hostname), as the Kubernetes API server says it: one `Warning: 299 - "<text>"` header each.
 */
function warn(res: Response, record: CappRecord): void {
  const warnings = formatWarnings(cappSpecWarnings(record.spec));
  if (warnings.length)
    res.setHeader(
      'Warning',
      warnings.map((w) => `299 - "${w.replace(/[\\"]/g, (c) => `\\${c}`)}"`),
    );
}

/**
 * 200/201 when the cluster has the write, 202 when not (yet: `sync` says why); ETag on every answer,
 * and a Warning header for each warning of the stored Capp.
 */
function send(res: Response, record: CappRecord, applied: number, location?: string): CappResource {
  res.status(record.syncState === 'Synced' ? applied : 202);
  res.setHeader('ETag', etagOf(record));
  if (location) res.setHeader('Location', location);
  warn(res, record);
  return toResource(record);
}

function user(req: AuthedRequest): string {
  return req.user?.username ?? 'unknown';
}

const NS = NS_PARAM;
const NAME = NAME_PARAM;
const IF_MATCH = ApiHeader({
  name: 'If-Match',
  required: false,
  description: 'ETag from a previous read: the write fails with 412 if the Capp changed since.',
});
const CAPP_RESPONSES = [
  ApiResponse({ status: 200, description: 'Applied to the cluster.', schema: schemaRef('Capp') }),
  ApiResponse({
    status: 202,
    description: 'Stored; the cluster has not applied it yet (`sync.state: Pending`).',
    schema: schemaRef('Capp'),
  }),
];

function apply(...decorators: MethodDecorator[]): MethodDecorator {
  return (target, key, descriptor) => {
    for (const d of decorators) d(target, key, descriptor);
  };
}

@ApiTags('capps')
@ApiBearerAuth()
@Controller({ path: 'namespaces/:ns/capps', version: '1' })
export class CappsController {
  constructor(
    private readonly capps: CappsService,
    private readonly views: CappViews,
  ) {}

  @Get()
  @Access('list')
  @ApiOperation({
    summary: 'List the Capps of a namespace',
    description: 'Cursor pagination: pass `metadata.continue` of a page as `continue` for the next.',
  })
  @NS
  @ApiResponse({ status: 200, schema: schemaRef('CappList') })
  @apply(...errorResponses(400, 401, 403, 429, 503))
  async list(
    @Param('ns', NS_PIPE) ns: string,
    @Query() query: ListCappsQuery,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    return listOf(
      await this.capps.list({
        namespaces: [ns],
        labelSelector: selector(query.labelSelector),
        state: query.state,
        limit: query.limit,
        continue: query.continue,
      }),
      res,
    );
  }

  @Post()
  @Access('create')
  @ApiOperation({
    summary: 'Create a Capp',
    description: 'The body is the CR as kubectl would apply it (`metadata` + `spec`).',
  })
  @NS
  @ApiBody({ schema: schemaRef('CappWrite'), examples: API_EXAMPLES.create })
  @ApiResponse({ status: 201, description: 'Created and applied to the cluster.', schema: schemaRef('Capp') })
  @ApiResponse({
    status: 202,
    description: 'Stored; the cluster has not applied it yet (`sync.state: Pending`).',
    schema: schemaRef('Capp'),
  })
  @apply(...errorResponses(400, 401, 403, 409, 413, 422, 429, 503))
  async create(
    @Param('ns', NS_PIPE) ns: string,
    @Body(validationPipe(CappWriteDto)) body: CappWrite,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CappResource> {
    const { record } = await this.capps.create(ns, body, user(req));
    return send(res, record, 201, `/api/v1/namespaces/${ns}/capps/${record.name}`);
  }

  @Get(':name')
  @Access('get')
  @ApiOperation({
    summary: 'Read a Capp',
    description: 'With its cached cluster `status` and `sync` state; the ETag header is for If-Match.',
  })
  @NS
  @NAME
  @ApiResponse({ status: 200, schema: schemaRef('Capp') })
  @apply(...errorResponses(400, 401, 403, 404, 429, 503))
  async get(
    @Param('ns', NS_PIPE) ns: string,
    @Param('name', NAME_PIPE) name: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const row = await this.capps.get(ns, name);
    // The cached view as it is: no serialization, nor Express's `res.send` (common/send-json.ts).
    sendJson(req, res, etagOf(row), this.views.json(row));
  }

  @Put(':name')
  @Access('update')
  @ApiOperation({
    summary: 'Replace a Capp',
    description: 'Full replace of labels, annotations and spec. An identical body records no revision.',
  })
  @NS
  @NAME
  @IF_MATCH
  @ApiBody({ schema: schemaRef('CappWrite'), examples: API_EXAMPLES.replace })
  @apply(...CAPP_RESPONSES, ...errorResponses(400, 401, 403, 404, 409, 412, 413, 422, 429, 503))
  async replace(
    @Param('ns', NS_PIPE) ns: string,
    @Param('name', NAME_PIPE) name: string,
    @Body(validationPipe(CappWriteDto)) body: CappWrite,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CappResource> {
    return this.answer(res, await this.capps.replace(ns, name, body, ifMatch, user(req)));
  }

  @Patch(':name')
  @Access('patch')
  @ApiOperation({
    summary: 'Merge-patch a Capp',
    description:
      'RFC 7386 JSON merge patch on `{metadata: {labels, annotations}, spec}`; `null` removes a field. The result is validated whole.',
  })
  @NS
  @NAME
  @IF_MATCH
  @ApiBody({ schema: { type: 'object' }, examples: API_EXAMPLES.patch })
  @apply(...CAPP_RESPONSES, ...errorResponses(400, 401, 403, 404, 409, 412, 413, 422, 429, 503))
  async patch(
    @Param('ns', NS_PIPE) ns: string,
    @Param('name', NAME_PIPE) name: string,
    @Body() patch: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CappResource> {
    return this.answer(res, await this.capps.patch(ns, name, patch, ifMatch, user(req)));
  }

  @Delete(':name')
  @Access('delete')
  @ApiOperation({
    summary: 'Delete a Capp',
    description: 'Removes the CR (the operator removes its children), then the row and its revisions.',
  })
  @NS
  @NAME
  @IF_MATCH
  @ApiResponse({
    status: 200,
    description: 'Deleted from the cluster and the API.',
    schema: schemaRef('Capp'),
  })
  @ApiResponse({
    status: 202,
    description: 'Deletion accepted; the cluster has not removed it yet.',
    schema: schemaRef('Capp'),
  })
  @apply(...errorResponses(400, 401, 403, 404, 412, 429, 503))
  async delete(
    @Param('ns', NS_PIPE) ns: string,
    @Param('name', NAME_PIPE) name: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CappResource> {
    const { record, gone } = await this.capps.delete(ns, name, ifMatch, user(req));
    res.status(gone ? 200 : 202);
    const resource = toResource(record);
    // Gone from the cluster and the API: the last known object, its deletion synced.
    return gone ? { ...resource, sync: { ...resource.sync, state: 'Synced' } } : resource;
  }

  @Put(':name/state')
  @Access('patch')
  @ApiBody({ type: SetStateDto, examples: API_EXAMPLES.state })
  @ApiOperation({
    summary: 'Enable or disable a Capp',
    description: '`disabled` removes the Knative Service and keeps everything else.',
  })
  @NS
  @NAME
  @IF_MATCH
  @apply(...CAPP_RESPONSES, ...errorResponses(400, 401, 403, 404, 409, 412, 422, 429, 503))
  async setState(
    @Param('ns', NS_PIPE) ns: string,
    @Param('name', NAME_PIPE) name: string,
    @Body() body: SetStateDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CappResource> {
    return this.answer(res, await this.capps.setState(ns, name, body.state, ifMatch, user(req)));
  }

  @Get(':name/revisions')
  @Access('get')
  @ApiOperation({
    summary: 'List the revisions of a Capp',
    description: 'Oldest first; only the most recent ones are kept (10 by default).',
  })
  @NS
  @NAME
  @ApiResponse({ status: 200, schema: schemaRef('RevisionList') })
  @apply(...errorResponses(400, 401, 403, 404, 429, 503))
  async revisions(
    @Param('ns', NS_PIPE) ns: string,
    @Param('name', NAME_PIPE) name: string,
  ): Promise<{ items: RevisionView[] }> {
    return { items: (await this.capps.revisions(ns, name)).map(toRevisionView) };
  }

  @Get(':name/revisions/:revision')
  @Access('get')
  @ApiOperation({ summary: 'Read one revision of a Capp' })
  @NS
  @NAME
  @REVISION_PARAM
  @ApiResponse({ status: 200, schema: schemaRef('Revision') })
  @apply(...errorResponses(400, 401, 403, 404, 429, 503))
  async revision(
    @Param('ns', NS_PIPE) ns: string,
    @Param('name', NAME_PIPE) name: string,
    @Param('revision', REVISION_PIPE) revision: number,
  ): Promise<RevisionView> {
    return toRevisionView(await this.capps.revision(ns, name, revision));
  }

  @Post(':name/rollback')
  @Access('update')
  @ApiBody({ type: RollbackDto, examples: API_EXAMPLES.rollback })
  @HttpCode(200)
  @ApiOperation({
    summary: 'Roll a Capp back to a revision',
    description: 'Records a new revision with the old content; the cluster follows.',
  })
  @NS
  @NAME
  @apply(...CAPP_RESPONSES, ...errorResponses(400, 401, 403, 404, 409, 422, 429, 503))
  async rollback(
    @Param('ns', NS_PIPE) ns: string,
    @Param('name', NAME_PIPE) name: string,
    @Body() body: RollbackDto,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CappResource> {
    return this.answer(res, await this.capps.rollback(ns, name, body.revision, user(req)));
  }

  private answer(res: Response, result: WriteResult): CappResource {
    return send(res, result.record, 200);
  }
}

@ApiTags('capps')
@ApiBearerAuth()
@Controller({ path: 'capps', version: '1' })
export class AllCappsController {
  constructor(
    private readonly capps: CappsService,
    private readonly authenticator: Authenticator,
  ) {}

  @Get()
  @Access('list', { perNamespace: true })
  @ApiOperation({
    summary: 'List Capps across the namespaces the caller may list',
    description:
      'Everything for a caller allowed to list capps cluster-wide; otherwise the namespaces where RBAC allows `list`.',
  })
  @ApiResponse({ status: 200, schema: schemaRef('CappList') })
  @apply(...errorResponses(400, 401, 429, 503))
  async list(
    @Query() query: ListCappsQuery,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    const who = req.user;
    if (!who) throw new UnauthenticatedError('not authenticated');
    const clusterWide = (await this.authenticator.allowed(who, { verb: 'list', namespace: '' })).allowed;
    const namespaces = clusterWide
      ? undefined
      : await this.authenticator.allowedNamespaces(who, 'list', await this.capps.namespaces());
    return listOf(
      await this.capps.list({
        namespaces,
        labelSelector: selector(query.labelSelector),
        state: query.state,
        limit: query.limit,
        continue: query.continue,
      }),
      res,
    );
  }
}
