import {
  CAPP_API_VERSION,
  type HealthScope,
  HEALTHSCOPE_KIND,
  type HealthScopeWrite,
  isPlainObject,
  type ScopeHealth,
  validateHealthScopeWrite,
} from '@capp/capp-model';

import {
  AlreadyExistsError,
  DomainError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
} from '../../common/errors';
import { ClusterError, type KubeGateway } from '../../infra/kube/kube.gateway';

/** The cluster did not answer (or answered 5xx): nothing was changed. */
export class ClusterUnavailableError extends DomainError {
  readonly status = 503;
  readonly error = 'Service Unavailable';
}

/** What `GET …/healthscopes/{name}/health` answers: the scope's verdict and its members. */
export interface HealthReport {
  namespace: string;
  name: string;
  health: ScopeHealth;
  healthy: boolean;
  total: number;
  counts: { healthy: number; unhealthy: number; unknown: number; disabled: number };
  lastChanged?: string;
  message: string;
  members: NonNullable<NonNullable<HealthScope['status']>['capps']>;
}

/** A ClusterError in the API's terms (see `toClusterError`). */
function domainError(err: unknown, kind: string): unknown {
  if (!(err instanceof ClusterError)) return err;
  if (err.status === 404 && err.causes.some((c) => c.field === 'metadata.namespace'))
    return new InvalidInputError(
      err.message,
      [{ path: 'metadata.namespace', rule: 'exists', message: err.message }],
      422,
    );
  if (err.status === 404) return new NotFoundError(`${kind} not found`);
  if (err.status === 409) return new AlreadyExistsError(err.message);
  if (err.status === 400 || err.status === 422)
    return new InvalidInputError(
      err.message,
      err.causes.map((c) => ({ path: c.field ?? '', rule: c.reason ?? 'invalid', message: c.message ?? '' })),
      422,
    );
  if (err.status === 403) return new ForbiddenError(err.message);
  return new ClusterUnavailableError(err.message);
}

/**
 * HealthScopes through the API (ADR 0007): validated by `@capp/capp-model`, then straight to the
 * cluster, where RBAC, admission and the CRD's schema judge them again; the status is the operator's.
 */
export class HealthScopesService {
  constructor(private readonly kube: KubeGateway) {}

  async list(namespace: string): Promise<HealthScope[]> {
    return this.call(() => this.kube.listHealthScopes(namespace), 'healthscope');
  }

  async get(namespace: string, name: string): Promise<HealthScope> {
    const scope = await this.call(() => this.kube.getHealthScope(namespace, name), 'healthscope');
    if (!scope) throw new NotFoundError(`healthscope ${namespace}/${name} not found`);
    return scope;
  }

  async create(namespace: string, body: unknown): Promise<HealthScope> {
    const scope = this.object(namespace, undefined, body);
    return this.call(() => this.kube.createHealthScope(scope), 'healthscope');
  }

  async replace(namespace: string, name: string, body: unknown): Promise<HealthScope> {
    const scope = this.object(namespace, name, body);
    const live = await this.get(namespace, name); // PUT replaces; it does not create
    const { resourceVersion } = live.metadata;
    return this.call(
      () => this.kube.replaceHealthScope({ ...scope, metadata: { ...scope.metadata, resourceVersion } }),
      'healthscope',
    );
  }

  async delete(namespace: string, name: string): Promise<HealthScope> {
    const scope = await this.get(namespace, name);
    await this.call(() => this.kube.deleteHealthScope(namespace, name), 'healthscope');
    return scope;
  }

  async health(namespace: string, name: string): Promise<HealthReport> {
    return report(await this.get(namespace, name));
  }

  /** The CR from a write body, judged first; the path's namespace and name win (and must agree). */
  private object(namespace: string, name: string | undefined, body: unknown): HealthScope {
    const issues = validateHealthScopeWrite(body);
    if (issues.length)
      throw new InvalidInputError(
        `the request is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        issues,
      );
    const write = body as HealthScopeWrite;
    const meta = write.metadata;
    const mismatch = (field: string, path: string, inBody: string | undefined): void => {
      if (inBody !== undefined && inBody !== path) {
        const message = `must match the path (${path}), got "${inBody}"`;
        throw new InvalidInputError(`the request is invalid: metadata.${field} ${message}`, [
          { path: `metadata.${field}`, rule: 'matchesPath', message },
        ]);
      }
    };
    mismatch('namespace', namespace, meta.namespace);
    if (name !== undefined) mismatch('name', name, meta.name);
    const finalName = name ?? meta.name;
    if (!finalName)
      throw new InvalidInputError('the request is invalid: metadata.name is required', [
        { path: 'metadata.name', rule: 'required', message: 'is required' },
      ]);
    return {
      apiVersion: CAPP_API_VERSION,
      kind: HEALTHSCOPE_KIND,
      metadata: {
        name: finalName,
        namespace,
        ...(isPlainObject(meta.labels) ? { labels: meta.labels } : {}),
        ...(isPlainObject(meta.annotations) ? { annotations: meta.annotations } : {}),
      },
      spec: write.spec,
    };
  }

  private async call<T>(fn: () => Promise<T>, kind: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw domainError(err, kind);
    }
  }
}

/** The scope's status as a load balancer or an uptime checker reads it; not yet evaluated is Unknown. */
export function report(scope: HealthScope): HealthReport {
  const s = scope.status;
  const health = s?.health ?? 'Unknown';
  const evaluated = s?.observedGeneration === undefined || s.observedGeneration === scope.metadata.generation;
  const condition = s?.conditions?.find((c) => c.type === 'Healthy');
  return {
    namespace: scope.metadata.namespace ?? '',
    name: scope.metadata.name,
    health,
    healthy: health === 'Healthy',
    total: s?.total ?? 0,
    counts: {
      healthy: s?.healthy ?? 0,
      unhealthy: s?.unhealthy ?? 0,
      unknown: s?.unknown ?? 0,
      disabled: s?.disabled ?? 0,
    },
    ...(s?.lastChanged ? { lastChanged: s.lastChanged } : {}),
    message: !s?.health
      ? 'not evaluated yet (is the operator running?)'
      : `${condition?.message ?? ''}${evaluated ? '' : ' (the latest spec is not evaluated yet)'}`,
    members: s?.capps ?? [],
  };
}
