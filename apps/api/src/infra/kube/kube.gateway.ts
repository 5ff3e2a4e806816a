import {
  ANNOTATION_LAST_UPDATED_BY,
  Capp,
  CAPP_API_VERSION,
  CAPP_GROUP,
  CAPP_KIND,
  CAPP_PLURAL,
  CAPP_VERSION,
} from '@capp/capp-model';
import {
  ApiException,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesListObject,
  KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  VersionApi,
} from '@kubernetes/client-node';

import type { CappContent } from '../../app/capps/capps.repository';
import { PooledKubeConfig } from './pooled-kube-config';

export const API_FIELD_MANAGER = 'capp-api';

export interface AuthenticatedUser {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface AccessRequest {
  verb: string;
  /** Empty for a cluster-wide check (e.g. list across namespaces). */
  namespace: string;
  name?: string;
}

export interface StatusCause {
  field?: string;
  reason?: string;
  message?: string;
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

interface StatusBody {
  message?: unknown;
  details?: { causes?: StatusCause[] };
}

function parseStatus(body: unknown): StatusBody | undefined {
  try {
    return (typeof body === 'string' ? JSON.parse(body) : body) as StatusBody;
  } catch {
    return typeof body === 'string' && body ? { message: body.slice(0, 500) } : undefined;
  }
}

/** client-node errors → ClusterError: 400/422 (the object is invalid) are permanent, the rest retried. */
export function toClusterError(err: unknown, what: string): ClusterError {
  if (err instanceof ClusterError) return err;
  if (err instanceof ApiException) {
    const code = (err as ApiException<unknown>).code;
    const status = parseStatus((err as ApiException<unknown>).body);
    const message = typeof status?.message === 'string' ? status.message : `HTTP ${code}`;
    return new ClusterError(
      `${what}: ${message}`,
      code,
      code === 400 || code === 422,
      status?.details?.causes ?? [],
    );
  }
  const cause = (err as { cause?: { code?: string } }).cause;
  const detail = [(err as Error)?.message, cause?.code].filter(Boolean).join(' ');
  return new ClusterError(`${what}: cluster unreachable (${detail || String(err)})`, undefined, false);
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

/** Everything the API asks of the Kubernetes API server. */
export class KubeGateway {
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;
  private readonly authn: AuthenticationV1Api;
  private readonly authz: AuthorizationV1Api;
  private readonly version: VersionApi;

  constructor(readonly kubeConfig: KubeConfig) {
    this.objects = KubernetesObjectApi.makeApiClient(kubeConfig);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.authn = kubeConfig.makeApiClient(AuthenticationV1Api);
    this.authz = kubeConfig.makeApiClient(AuthorizationV1Api);
    this.version = kubeConfig.makeApiClient(VersionApi);
  }

  /** Nest calls it at shutdown, after the sync queue has drained: closes pooled connections. */
  onApplicationShutdown(): void {
    if (this.kubeConfig instanceof PooledKubeConfig) this.kubeConfig.close();
  }

  /** KUBECONFIG's file, else in-cluster, else the default loading rules. */
  static fromKubeconfig(path: string | undefined): KubeGateway {
    const kc = new PooledKubeConfig();
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
    return new KubeGateway(kc);
  }

  /**
   * Server-side apply under field manager `capp-api`; returns the CR's new resourceVersion. With
   * `dryRun`, the apiserver runs validation and admission (webhooks, policies) and stores nothing.
   */
  async applyCapp(capp: Capp, options: { dryRun?: boolean } = {}): Promise<string | undefined> {
    try {
      const applied = await this.objects.patch(
        capp as unknown as KubernetesObject,
        undefined,
        options.dryRun ? 'All' : undefined,
        API_FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      );
      if (!options.dryRun && applied.metadata?.deletionTimestamp)
        throw new ClusterError(
          `capp ${capp.metadata.namespace}/${capp.metadata.name} is still being deleted in the cluster; it is applied again once it is gone`,
          409,
          false,
        );
      return applied.metadata?.resourceVersion;
    } catch (err) {
      throw toClusterError(err, `apply capp ${capp.metadata.namespace}/${capp.metadata.name}`);
    }
  }

  /** Deletes the CR (the operator's finalizer then removes its children); absent is fine. */
  async deleteCapp(namespace: string, name: string): Promise<void> {
    try {
      await this.custom.deleteNamespacedCustomObject({
        group: CAPP_GROUP,
        version: CAPP_VERSION,
        plural: CAPP_PLURAL,
        namespace,
        name,
      });
    } catch (err) {
      if (err instanceof ApiException && (err as ApiException<unknown>).code === 404) return;
      throw toClusterError(err, `delete capp ${namespace}/${name}`);
    }
  }

  async listCapps(): Promise<KubernetesListObject<KubernetesObject>> {
    try {
      return (await this.custom.listClusterCustomObject({
        group: CAPP_GROUP,
        version: CAPP_VERSION,
        plural: CAPP_PLURAL,
      })) as KubernetesListObject<KubernetesObject>;
    } catch (err) {
      throw toClusterError(err, 'list capps');
    }
  }

  /** TokenReview: who holds this bearer token (undefined when the token is not valid). */
  async authenticate(token: string): Promise<AuthenticatedUser | undefined> {
    try {
      const review = await this.authn.createTokenReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
      });
      const status = review.status;
      if (!status?.authenticated || !status.user?.username) return undefined;
      return {
        username: status.user.username,
        uid: status.user.uid,
        groups: status.user.groups ?? [],
        extra: status.user.extra,
      };
    } catch (err) {
      throw toClusterError(err, 'token review');
    }
  }

  /** SubjectAccessReview on `capps.rcs.dana.io`: may this user do this? */
  async authorize(
    user: AuthenticatedUser,
    access: AccessRequest,
  ): Promise<{ allowed: boolean; reason?: string }> {
    try {
      const review = await this.authz.createSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: user.username,
            uid: user.uid,
            groups: user.groups,
            extra: user.extra,
            resourceAttributes: {
              group: CAPP_GROUP,
              version: CAPP_VERSION,
              resource: CAPP_PLURAL,
              verb: access.verb,
              namespace: access.namespace || undefined,
              name: access.name,
            },
          },
        },
      });
      return { allowed: review.status?.allowed === true, reason: review.status?.reason };
    } catch (err) {
      throw toClusterError(err, 'subject access review');
    }
  }

  /** Whether the API server answers (for /readyz). */
  async ping(): Promise<void> {
    try {
      await this.version.getCode();
    } catch (err) {
      throw toClusterError(err, 'version');
    }
  }
}
