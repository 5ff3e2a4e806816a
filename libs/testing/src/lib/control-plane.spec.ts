import { randomBytes } from 'node:crypto';

import { CAPP_GROUP, CAPP_KIND, CAPP_PLURAL, CAPP_VERSION } from '@capp/capp-model';
import {
  ApiException,
  AuthenticationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1ConfigMap,
  Watch,
} from '@kubernetes/client-node';

import { testEnvironment } from './environment';

type Obj = Record<string, unknown> & { metadata: { name: string; uid: string; [k: string]: unknown } };

const env = testEnvironment();
const admin = new KubeConfig();
admin.loadFromFile(process.env['KUBECONFIG'] ?? '');
const core = admin.makeApiClient(CoreV1Api);
const custom = admin.makeApiClient(CustomObjectsApi);

/** A client that authenticates as a static user (token auth) instead of the admin. */
function clientAs<T>(user: string, api: new (...args: never[]) => T): T {
  const kc = new KubeConfig();
  kc.loadFromFile(process.env['KUBECONFIG'] ?? '');
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig without a cluster');
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: user, token: env.userToken(user) }],
    contexts: [{ name: user, cluster: cluster.name, user }],
    currentContext: user,
  });
  return kc.makeApiClient(api as never) as T;
}

function errorBody(err: unknown): { code: number; message: string } {
  if (!(err instanceof ApiException)) throw err;
  const body: unknown = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
  return { code: err.code, message: String((body as { message?: unknown }).message ?? '') };
}

async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function capp(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: `${CAPP_GROUP}/${CAPP_VERSION}`,
    kind: CAPP_KIND,
    metadata: { name },
    spec: {
      configurationSpec: { template: { spec: { containers: [{ image: 'ghcr.io/dana-team/hello:1.0' }] } } },
      ...spec,
    },
  };
}

const capps = { group: CAPP_GROUP, version: CAPP_VERSION, plural: CAPP_PLURAL };
let namespace: string;

beforeAll(async () => {
  namespace = `proof-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe('the real control plane', () => {
  it('stores a ConfigMap in a new namespace and reads it back', async () => {
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'settings' }, data: { greeting: 'hello' } },
    });
    const read = await core.readNamespacedConfigMap({ namespace, name: 'settings' });
    expect(read.data).toEqual({ greeting: 'hello' });
    expect(read.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('deletes an NfsPvc through the garbage collector once its owning Capp is deleted', async () => {
    const owner = (await custom.createNamespacedCustomObject({
      ...capps,
      namespace,
      body: capp('gc-owner'),
    })) as Obj;
    const nfs = { group: 'nfspvc.dana.io', version: 'v1alpha1', plural: 'nfspvcs' };
    await custom.createNamespacedCustomObject({
      ...nfs,
      namespace,
      body: {
        apiVersion: 'nfspvc.dana.io/v1alpha1',
        kind: 'NfsPvc',
        metadata: {
          name: 'gc-owner-data',
          ownerReferences: [
            {
              apiVersion: `${CAPP_GROUP}/${CAPP_VERSION}`,
              kind: CAPP_KIND,
              name: owner.metadata.name,
              uid: owner.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: {
          server: 'nfs.example.com',
          path: '/exports/data',
          capacity: { storage: '1Gi' },
          accessModes: ['ReadWriteMany'],
        },
      },
    });

    // The dependent exists, with its ownerReference, until the owner goes away.
    const dependent = (await custom.getNamespacedCustomObject({
      ...nfs,
      namespace,
      name: 'gc-owner-data',
    })) as Obj;
    expect(dependent.metadata['ownerReferences']).toEqual([
      expect.objectContaining({ uid: owner.metadata.uid }),
    ]);

    // Background propagation: the apiserver deletes only the Capp; the NfsPvc is the GC's job.
    await custom.deleteNamespacedCustomObject({
      ...capps,
      namespace,
      name: 'gc-owner',
      propagationPolicy: 'Background',
    });

    const status = await eventually(() =>
      custom.getNamespacedCustomObject({ ...nfs, namespace, name: 'gc-owner-data' }).then(
        () => undefined,
        (err: unknown) => errorBody(err).code,
      ),
    );
    expect(status).toBe(404);
  });

  it('streams ADDED, MODIFIED and DELETED to a watch, in order', async () => {
    const seen: string[] = [];
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    // Resolves once the apiserver has accepted the watch, so no event below can be missed.
    const watch = await new Watch(admin).watch(
      `/api/v1/namespaces/${namespace}/configmaps`,
      { fieldSelector: 'metadata.name=watched' },
      (phase: string, obj: V1ConfigMap) => {
        seen.push(`${phase}:${obj.data?.['v'] ?? ''}`);
        if (phase === 'DELETED') finished();
      },
      () => finished(),
    );
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'watched' }, data: { v: '1' } },
    });
    await core.replaceNamespacedConfigMap({
      namespace,
      name: 'watched',
      body: { metadata: { name: 'watched' }, data: { v: '2' } },
    });
    await core.deleteNamespacedConfigMap({ namespace, name: 'watched' });
    await done;
    watch.abort();
    expect(seen).toEqual(['ADDED:1', 'MODIFIED:2', 'DELETED:2']);
  });

  it('rejects a Capp with TLS but no hostname, naming spec.routeSpec.tlsEnabled (CEL rule of the CRD)', async () => {
    const rejected = await custom
      .createNamespacedCustomObject({
        ...capps,
        namespace,
        body: capp('tls-no-host', { routeSpec: { tlsEnabled: true } }),
      })
      .then(() => undefined, errorBody);
    expect(rejected?.code).toBe(422);
    expect(rejected?.message).toContain('spec.routeSpec.tlsEnabled');
    expect(rejected?.message).toContain('tlsEnabled requires routeSpec.hostname');
  });

  it('accepts a valid Capp and fills in the schema defaults', async () => {
    const created = (await custom.createNamespacedCustomObject({
      ...capps,
      namespace,
      body: capp('web'),
    })) as Obj & {
      spec: Record<string, unknown>;
    };
    expect(created.spec['scaleMetric']).toBe('concurrency');
    expect(created.spec['state']).toBe('enabled');
  });

  it('lets RBAC decide: a static user without bindings gets 403 on capps, the admin gets 200', async () => {
    const asAlice = clientAs('alice', CustomObjectsApi);
    const denied = await asAlice
      .listNamespacedCustomObject({ ...capps, namespace })
      .then(() => undefined, errorBody);
    expect(denied?.code).toBe(403);
    expect(denied?.message).toContain('User "alice" cannot list resource "capps"');

    const allowed = await custom.listNamespacedCustomObjectWithHttpInfo({ ...capps, namespace });
    expect(allowed.httpStatusCode).toBe(200);
  });

  it('authenticates a ServiceAccount token minted through the TokenRequest API (TokenReview)', async () => {
    const token = await env.mintServiceAccountToken(namespace, 'robot');
    const review = await admin.makeApiClient(AuthenticationV1Api).createTokenReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    expect(review.status?.authenticated).toBe(true);
    expect(review.status?.user?.username).toBe(`system:serviceaccount:${namespace}:robot`);
  });
});
