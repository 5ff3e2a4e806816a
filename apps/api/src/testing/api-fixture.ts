import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';

import { CAPP_TYPE, KubeClient, KubeRest, NAMESPACE_TYPE, resourcePath } from '@capp/kube';
import { createMigratedDatabase, type MigratedDatabase, testEnvironment, waitFor } from '@capp/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import pino from 'pino';

import { createApi } from '../bootstrap';
import { ApiConfig, loadApiConfig } from '../config/api-config';
import { REDACTED_PATHS } from '../infra/logging/logger';

/** What integration tests need around an API served in-process on the real PostgreSQL, Redis and cluster. */
export interface TestApi {
  url: string;
  config: ApiConfig;
  db: MigratedDatabase;
  app: NestExpressApplication;
  /** Every log line the API wrote (JSON), for assertions such as "no token is logged". */
  logs: string[];
  request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: RequestOptions,
  ): Promise<ApiResponse<T>>;
  /** Stops the API (graceful shutdown), keeping its database. */
  stop(): Promise<void>;
  /** Stops the API and drops its database (unless the database was given). */
  close(): Promise<void>;
}

export interface RequestOptions {
  body?: unknown;
  /** Raw body (sent as is). */
  raw?: string;
  token?: string;
  headers?: Record<string, string>;
  contentType?: string;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** JSON read back from the cluster or the API, for deep assertions (the one loosely typed value in tests). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJson = any;

export const suffix = (): string => randomBytes(3).toString('hex');

export async function startTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const given = env['DATABASE_URL'];
  const db: MigratedDatabase = given
    ? { url: given, name: new URL(given).pathname.slice(1), drop: async () => undefined }
    : await createMigratedDatabase();
  const config = loadApiConfig({
    DATABASE_URL: db.url,
    REDIS_URL: process.env['REDIS_URL'],
    KUBECONFIG: process.env['KUBECONFIG'],
    HOST: '127.0.0.1',
    PORT: '0',
    AUTH_MODE: 'none',
    WATCH_CLUSTER: 'false',
    QUEUE_PREFIX: `test-${suffix()}`,
    SYNC_WAIT_MS: '5000',
    // Tests share 2 cores with a control plane: give the dry run time rather than accept blindly.
    ADMISSION_TIMEOUT_MS: '20000',
    RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'debug',
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done): void {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = pino(
    { level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    sink,
  );
  const app = await createApi(config, logger);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const api: TestApi = {
    url,
    config,
    db,
    app,
    logs,
    async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      if (options.token) headers['authorization'] = `Bearer ${options.token}`;
      let body: string | undefined = options.raw;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] = options.contentType ?? 'application/json';
      }
      const res = await fetch(`${url}${path}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON (e.g. /metrics)
      }
      return { status: res.status, body: parsed as T, headers: res.headers };
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await app.close();
    },
    async close(): Promise<void> {
      await api.stop();
      await db.drop().catch(() => undefined);
    },
  };
  return api;
}

/** The admin view of the cluster (what kubectl would show). */
export function cluster(): ReturnType<typeof testEnvironment> {
  return testEnvironment();
}

let admin: KubeClient | undefined;

/**
 * The cluster as its admin, as kubectl would act on it: server-side applies under field manager
 * `capp-testing`, `.rest` for any other request.
 */
export function clusterClient(): KubeClient {
  admin ??= new KubeClient(KubeRest.fromTarget(cluster().target), { fieldManager: 'capp-testing' });
  return admin;
}

export async function createNamespace(name: string): Promise<void> {
  await clusterClient().rest.request('POST', resourcePath(NAMESPACE_TYPE), {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
  });
}

/** A Role allowing `verbs` on capps.rcs.dana.io (or `resources`) in the namespace, bound to the user or ServiceAccount. */
export async function grant(
  namespace: string,
  user: { kind: 'User' | 'ServiceAccount'; name: string; namespace?: string },
  verbs: string[],
  resources: string[] = ['capps'],
): Promise<void> {
  const kube = clusterClient().rest;
  const name = `capps-${suffix()}`;
  const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}`;
  await kube.request('POST', `${rbac}/roles`, {
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name },
      rules: [{ apiGroups: ['rcs.dana.io'], resources, verbs }],
    },
  });
  await kube.request('POST', `${rbac}/rolebindings`, {
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [
        user.kind === 'User'
          ? { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: user.name }
          : { kind: 'ServiceAccount', name: user.name, namespace: user.namespace },
      ],
    },
  });
  // kube-apiserver's RBAC authorizer learns of the binding through its informers: a request sent at
  // once may still be denied on a busy machine. Wait until the cluster itself allows every verb.
  const username =
    user.kind === 'User' ? user.name : `system:serviceaccount:${user.namespace ?? namespace}:${user.name}`;
  for (const verb of verbs)
    for (const resource of resources)
      await waitFor(`RBAC to allow ${username} to ${verb} ${resource} in ${namespace}`, async () => {
        const review = (await kube.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: { user: username, resourceAttributes: { namespace, verb, group: 'rcs.dana.io', resource } },
          },
        })) as { status?: { allowed?: boolean } };
        return review.status?.allowed === true;
      });
}

export function cappPath(namespace: string, name = ''): string {
  return resourcePath(CAPP_TYPE, namespace, name || undefined);
}

/** The Capp CR in the cluster, or undefined when absent. */
export function clusterCapp(namespace: string, name: string): Promise<Record<string, AnyJson> | undefined> {
  return clusterClient().get(CAPP_TYPE, namespace, name);
}

/** Polls until the probe holds (see `waitFor` in @capp/testing). */
export const eventually = waitFor;

export function cappBody(
  name: string,
  spec: Record<string, unknown> = {},
  metadata: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name, ...metadata },
    spec: {
      configurationSpec: {
        template: { spec: { containers: [{ name: 'app', image: 'ghcr.io/dana-team/capp-gin-app:v0.2.0' }] } },
      },
      ...spec,
    },
  };
}
