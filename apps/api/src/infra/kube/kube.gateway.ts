import {
  ANNOTATION_LAST_UPDATED_BY,
  Capp,
  CAPP_API_VERSION,
  CAPP_GROUP,
  CAPP_KIND,
  CAPP_PLURAL,
  CAPP_VERSION,
  type CappTrait,
  type HealthScope,
  type KubeObject,
} from '@capp/capp-model';
import {
  CAPP_TRAIT_TYPE,
  CAPP_TYPE,
  HEALTHSCOPE_TYPE,
  KubeApiError,
  KubeClient,
  KubeRest,
  KubeUnreachableError,
  NAMESPACE_TYPE,
  resourcePath,
  type StatusCause,
  SUBJECT_ACCESS_REVIEW_TYPE,
  TOKEN_REVIEW_TYPE,
} from '@capp/kube';

import type { CappContent } from '../../app/capps/capps.repository';

export type { StatusCause } from '@capp/kube';

export const API_FIELD_MANAGER = 'capp-api';

/** What the API shows of a CappTrait: its spec and a few identity fields (no managedFields). */
function traitView(t: CappTrait): CappTrait {
  const { name, uid, resourceVersion, generation, creationTimestamp, labels } =
    t.metadata as CappTrait['metadata'] & Record<string, unknown>;
  return {
    apiVersion: t.apiVersion,
    kind: t.kind,
    metadata: Object.fromEntries(
      Object.entries({ name, uid, resourceVersion, generation, creationTimestamp, labels }).filter(
        ([, v]) => v !== undefined,
      ),
    ) as CappTrait['metadata'],
    spec: t.spec,
  };
}

export interface AuthenticatedUser {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface AccessRequest {
  verb: string;
  /** The resource of rcs.dana.io (default `capps`; `capptraits` for the trait catalogue). */
  resource?: string;
  /** Empty for a cluster-wide check (e.g. list across namespaces). */
  namespace: string;
  name?: string;
}

/** A failure talking to the cluster, classified for retrying. */
export class ClusterError extends Error {
  constructor(
    message: string,
    /** HTTP status, or undefined when the cluster could not be reached. */
    readonly status: number | undefined,
    /** Retrying the same request cannot succeed (the apiserver rejected the object). */
    readonly permanent: boolean,
    /** The apiserver's (or an admission webhook's) field-level causes. */
    readonly causes: StatusCause[] = [],
  ) {
    super(message);
  }
}

/**
 * Answers that retrying cannot change: the object is invalid (400, 422), refused by admission or RBAC
 * (403; an admission webhook's denial is a 403 unless it says otherwise). A missing namespace (404)
 * is too; a 404 for the Capp kind itself (the CRD not installed yet) is not. 409, 429, 5xx, timeouts
 * and an unreachable server can heal and are retried.
 */
const PERMANENT_STATUSES = new Set([400, 403, 422]);

/** libs/kube errors → ClusterError (see PERMANENT_STATUSES); an unreachable API server has no status. */
export function toClusterError(err: unknown, what: string): ClusterError {
  if (err instanceof ClusterError) return err;
  if (err instanceof KubeApiError) {
    // A Capp in a namespace that does not exist: the user's mistake, named like a field error.
    if (err.statusCode === 404 && err.details.kind === 'namespaces')
      return new ClusterError(`${what}: ${err.message}`, 404, true, [
        { field: 'metadata.namespace', reason: 'NotFound', message: err.message },
      ]);
    return new ClusterError(
      `${what}: ${err.message}`,
      err.statusCode,
      PERMANENT_STATUSES.has(err.statusCode),
      err.causes,
    );
  }
  const detail = err instanceof KubeUnreachableError ? unreachableDetail(err) : String(err);
  return new ClusterError(`${what}: cluster unreachable (${detail})`, undefined, false);
}

function unreachableDetail(err: KubeUnreachableError): string {
  const cause = err.cause as { message?: string; code?: string } | undefined;
  return [cause?.message, cause?.code].filter(Boolean).join(' ') || err.message;
}

/** The Capp CR the API applies for a row: only the fields the API owns. */
export function cappObject(namespace: string, name: string, content: CappContent, by: string): Capp {
  return {
    apiVersion: CAPP_API_VERSION,
    kind: CAPP_KIND,
    metadata: {
      name,
      namespace,
      labels: content.labels,
      annotations: { ...content.annotations, [ANNOTATION_LAST_UPDATED_BY]: by },
    },
    spec: content.spec,
  };
}

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
}

interface SubjectAccessReviewStatus {
  allowed?: boolean;
  reason?: string;
}

/** What the cluster answered to an apply. */
export interface AppliedCapp {
  resourceVersion?: string;
  uid?: string;
}

/** Everything the API asks of the Kubernetes API server (through `@capp/kube`, field manager `capp-api`). */
export class KubeGateway {
  readonly client: KubeClient;
  private identity?: Promise<string | null>;

  constructor(readonly rest: KubeRest) {
    this.client = new KubeClient(rest, { fieldManager: API_FIELD_MANAGER });
  }

  /** KUBECONFIG's file, else in-cluster, else the default loading rules. */
  static fromKubeconfig(path: string | undefined): KubeGateway {
    return new KubeGateway(KubeRest.fromKubeconfig(path));
  }

  /** Nest calls it at shutdown, after the sync queue has drained: closes pooled connections. */
  onApplicationShutdown(): void {
    this.rest.close();
  }

  /**
   * Server-side apply under field manager `capp-api`; returns the CR's new resourceVersion and uid.
   * With `dryRun`, the apiserver runs validation and admission (webhooks, policies) and stores nothing.
   */
  async applyCapp(capp: Capp, options: { dryRun?: boolean } = {}): Promise<AppliedCapp> {
    const what = `apply capp ${capp.metadata.namespace}/${capp.metadata.name}`;
    let applied: KubeObject;
    try {
      applied = await this.client.apply(capp, { dryRun: options.dryRun });
    } catch (err) {
      throw toClusterError(err, what);
    }
    if (!options.dryRun && applied.metadata.deletionTimestamp)
      throw new ClusterError(
        `capp ${capp.metadata.namespace}/${capp.metadata.name} is still being deleted in the cluster; it is applied again once it is gone`,
        409,
        false,
      );
    return { resourceVersion: applied.metadata.resourceVersion, uid: applied.metadata.uid };
  }

  /**
   * The cluster's identity: the uid of its `kube-system` namespace, which a rebuilt cluster does not
   * share. Read once and remembered (`fresh` reads it again); null when it cannot be read (unreachable,
   * or no RBAC to get that namespace) — rows then record no identity and are re-applied when missing.
   */
  clusterIdentity(options: { fresh?: boolean } = {}): Promise<string | null> {
    if (!this.identity || options.fresh) {
      const read: Promise<string | null> = this.client
        .get(NAMESPACE_TYPE, undefined, 'kube-system')
        .then((ns) => ns?.metadata.uid ?? null)
        .catch(() => {
          // Not remembered: the next call asks again.
          if (this.identity === read) this.identity = undefined;
          return null;
        });
      this.identity = read;
    }
    return this.identity;
  }

  /** Deletes the CR (the operator's finalizer then removes its children); absent is fine. */
  async deleteCapp(namespace: string, name: string): Promise<void> {
    try {
      await this.client.delete(CAPP_TYPE, namespace, name);
    } catch (err) {
      throw toClusterError(err, `delete capp ${namespace}/${name}`);
    }
  }

  /** TokenReview: who holds this bearer token (undefined when the token is not valid). */
  async authenticate(token: string): Promise<AuthenticatedUser | undefined> {
    let status: TokenReviewStatus | undefined;
    try {
      ({ status } = await this.rest.request<{ status?: TokenReviewStatus }>(
        'POST',
        resourcePath(TOKEN_REVIEW_TYPE),
        { body: { apiVersion: TOKEN_REVIEW_TYPE.apiVersion, kind: TOKEN_REVIEW_TYPE.kind, spec: { token } } },
      ));
    } catch (err) {
      throw toClusterError(err, 'token review');
    }
    if (!status?.authenticated || !status.user?.username) return undefined;
    return {
      username: status.user.username,
      uid: status.user.uid,
      groups: status.user.groups ?? [],
      extra: status.user.extra,
    };
  }

  /** SubjectAccessReview on `capps.rcs.dana.io` (or `access.resource`): may this user do this? */
  async authorize(
    user: AuthenticatedUser,
    access: AccessRequest,
  ): Promise<{ allowed: boolean; reason?: string }> {
    const body = {
      apiVersion: SUBJECT_ACCESS_REVIEW_TYPE.apiVersion,
      kind: SUBJECT_ACCESS_REVIEW_TYPE.kind,
      spec: {
        user: user.username,
        uid: user.uid,
        groups: user.groups,
        extra: user.extra,
        resourceAttributes: {
          group: CAPP_GROUP,
          version: CAPP_VERSION,
          resource: access.resource ?? CAPP_PLURAL,
          verb: access.verb,
          namespace: access.namespace || undefined,
          name: access.name,
        },
      },
    };
    try {
      const { status } = await this.rest.request<{ status?: SubjectAccessReviewStatus }>(
        'POST',
        resourcePath(SUBJECT_ACCESS_REVIEW_TYPE),
        { body },
      );
      return { allowed: status?.allowed === true, reason: status?.reason };
    } catch (err) {
      throw toClusterError(err, 'subject access review');
    }
  }

  /**
   * HealthScopes, straight from and to the cluster (ADR 0007): a scope is read-mostly, its status is
   * the operator's, and nothing of it needs a history. Errors are {@link ClusterError}s.
   */
  async listHealthScopes(namespace: string): Promise<HealthScope[]> {
    try {
      return (await this.client.list<HealthScope>(HEALTHSCOPE_TYPE, { namespace })).items;
    } catch (err) {
      throw toClusterError(err, `list healthscopes in ${namespace}`);
    }
  }

  async getHealthScope(namespace: string, name: string): Promise<HealthScope | undefined> {
    try {
      return await this.client.get<HealthScope>(HEALTHSCOPE_TYPE, namespace, name);
    } catch (err) {
      throw toClusterError(err, `get healthscope ${namespace}/${name}`);
    }
  }

  /** Creates (POST: a 409 ClusterError when the name is taken). */
  async createHealthScope(scope: HealthScope): Promise<HealthScope> {
    try {
      return await this.client.create<HealthScope>(scope);
    } catch (err) {
      throw toClusterError(err, `create healthscope ${scope.metadata.namespace}/${scope.metadata.name}`);
    }
  }

  /**
   * Replaces labels, annotations and spec (PUT: what the body leaves out is removed, whoever set it);
   * `metadata.resourceVersion` makes it a 409 when the scope changed since it was read.
   */
  async replaceHealthScope(scope: HealthScope): Promise<HealthScope> {
    try {
      return await this.client.update<HealthScope>(scope);
    } catch (err) {
      throw toClusterError(err, `replace healthscope ${scope.metadata.namespace}/${scope.metadata.name}`);
    }
  }

  /** False when it was already gone. */
  async deleteHealthScope(namespace: string, name: string): Promise<boolean> {
    try {
      return await this.client.delete(HEALTHSCOPE_TYPE, namespace, name);
    } catch (err) {
      throw toClusterError(err, `delete healthscope ${namespace}/${name}`);
    }
  }

  /** The CappTraits (cluster-scoped), without their bookkeeping; [] when their CRD is not installed. */
  async listTraits(): Promise<CappTrait[]> {
    try {
      const list = await this.client.list<CappTrait>(CAPP_TRAIT_TYPE);
      return list.items.map(traitView).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 404) return [];
      throw toClusterError(err, 'list capptraits');
    }
  }

  /** One CappTrait, or undefined. */
  async getTrait(name: string): Promise<CappTrait | undefined> {
    try {
      const trait = await this.client.get<CappTrait>(CAPP_TRAIT_TYPE, undefined, name);
      return trait && traitView(trait);
    } catch (err) {
      throw toClusterError(err, 'get capptrait');
    }
  }

  /** Whether the API server answers (for /readyz). */
  async ping(): Promise<void> {
    try {
      await this.rest.request('GET', '/version');
    } catch (err) {
      throw toClusterError(err, 'version');
    }
  }
}
