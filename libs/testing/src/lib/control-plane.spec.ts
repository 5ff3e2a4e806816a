import { randomBytes } from 'node:crypto';

import { CAPP_API_VERSION, CAPP_KIND, type KubeObject } from '@capp/capp-model';
import {
  CAPP_TYPE,
  CONFIGMAP_TYPE,
  KubeApiError,
  KubeClient,
  KubeRest,
  NAMESPACE_TYPE,
  NotFoundError,
  resourcePath,
  type ResourceType,
  TOKEN_REVIEW_TYPE,
  type WatchEvent,
} from '@capp/kube';

import { testEnvironment } from './environment';
import { waitFor } from './wait';

const NFSPVC_TYPE: ResourceType = {
  apiVersion: 'nfspvc.dana.io/v1alpha1',
  kind: 'NfsPvc',
  plural: 'nfspvcs',
  namespaced: true,
};
const FIELD_MANAGER = 'control-plane-proof';
let namespace: string;

const env = testEnvironment();
const admin = KubeRest.fromKubeconfig(process.env['KUBECONFIG']);
const kube = new KubeClient(admin, { fieldManager: FIELD_MANAGER, types: [NFSPVC_TYPE] });

/** A client that authenticates as a static user (token auth) instead of the admin. */
function clientAs(user: string): KubeClient {
  const { server, ca } = env.target;
  const rest = KubeRest.fromTarget({ server, token: env.userToken(user), ...(ca ? { ca } : {}) });
  return new KubeClient(rest, { fieldManager: FIELD_MANAGER });
}

/** The API server's refusal of `request` (undefined when it succeeded); other failures are rethrown. */
async function refusal(request: Promise<unknown>): Promise<KubeApiError | undefined> {
  try {
    await request;
    return undefined;
  } catch (err) {
    if (err instanceof KubeApiError) return err;
    throw err;
  }
}

function capp(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: CAPP_API_VERSION,
    kind: CAPP_KIND,
    metadata: { name, namespace },
    spec: {
      configurationSpec: { template: { spec: { containers: [{ image: 'ghcr.io/dana-team/hello:1.0' }] } } },
      ...spec,
    },
  };
}

beforeAll(async () => {
  namespace = `proof-${randomBytes(3).toString('hex')}`;
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
});

afterAll(async () => {
  await kube.delete(NAMESPACE_TYPE, undefined, namespace).catch(() => undefined);
  kube.close();
});

describe('the real control plane', () => {
  it('stores a ConfigMap in a new namespace and reads it back', async () => {
    await kube.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace },
      data: { greeting: 'hello' },
    });
    const read = await kube.get(CONFIGMAP_TYPE, namespace, 'settings');
    expect(read?.['data']).toEqual({ greeting: 'hello' });
    expect(read?.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('deletes an NfsPvc through the garbage collector once its owning Capp is deleted', async () => {
    const owner = await kube.create(capp('gc-owner'));
    await kube.create({
      apiVersion: NFSPVC_TYPE.apiVersion,
      kind: NFSPVC_TYPE.kind,
      metadata: {
        name: 'gc-owner-data',
        namespace,
        ownerReferences: [
          {
            apiVersion: CAPP_API_VERSION,
            kind: CAPP_KIND,
            name: owner.metadata.name,
            uid: owner.metadata.uid ?? '',
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
    });

    // The dependent exists, with its ownerReference, until the owner goes away.
    const dependent = await kube.get(NFSPVC_TYPE, namespace, 'gc-owner-data');
    expect(dependent?.metadata.ownerReferences).toEqual([
      expect.objectContaining({ uid: owner.metadata.uid }),
    ]);

    // Background propagation: the apiserver deletes only the Capp; the NfsPvc is the GC's job.
    expect(await kube.delete(CAPP_TYPE, namespace, 'gc-owner')).toBe(true);

    const gone = await waitFor(
      'the garbage collector to delete the NfsPvc',
      () => refusal(admin.request('GET', resourcePath(NFSPVC_TYPE, namespace, 'gc-owner-data'))),
      45_000,
    );
    expect(gone).toBeInstanceOf(NotFoundError);
    expect(gone.statusCode).toBe(404);
  });

  it('streams ADDED, MODIFIED and DELETED to a watch, in order', async () => {
    const fieldSelector = 'metadata.name=watched';
    // Watching from the resourceVersion of a list replays every later event, however late the
    // watch connection is established, so no event below can be missed.
    const { metadata } = await kube.list(CONFIGMAP_TYPE, { namespace, fieldSelector });
    const seen: string[] = [];
    const stop = new AbortController();
    // Settles once DELETED arrived (or the server ended the stream early, which the check below catches).
    const watching = admin
      .watch<KubeObject>(
        resourcePath(CONFIGMAP_TYPE, namespace),
        { fieldSelector, resourceVersion: metadata.resourceVersion },
        ({ type, object }: WatchEvent<KubeObject>) => {
          if (type === 'BOOKMARK') return;
          const data = object['data'] as Record<string, string> | undefined;
          seen.push(`${type}:${data?.['v'] ?? ''}`);
          if (type === 'DELETED') stop.abort();
        },
        stop.signal,
      )
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    const configMap = (v: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'watched', namespace },
      data: { v },
    });
    try {
      await kube.create(configMap('1'));
      await kube.apply(configMap('2'));
      expect(await kube.delete(CONFIGMAP_TYPE, namespace, 'watched')).toBe(true);
      expect(await watching).toBeUndefined();
    } finally {
      stop.abort();
    }
    expect(seen).toEqual(['ADDED:1', 'MODIFIED:2', 'DELETED:2']);
  });

  it('rejects a Capp with maxReplicas below minReplicas, naming spec.maxReplicas (CEL rule of the CRD)', async () => {
    const rejected = await refusal(kube.create(capp('inverted', { minReplicas: 3, maxReplicas: 1 })));
    expect(rejected?.statusCode).toBe(422);
    expect(rejected?.message).toContain('spec.maxReplicas');
    expect(rejected?.message).toContain('maxReplicas must be greater than or equal to minReplicas');
  });

  it('accepts what container-app-operator v0.3.5 accepts: TLS without a hostname, an empty hostname', async () => {
    const created = await kube.create(capp('tls-no-host', { routeSpec: { hostname: '', tlsEnabled: true } }));
    expect(created.spec?.['routeSpec']).toEqual({ hostname: '', tlsEnabled: true });
  });

  it('accepts a valid Capp and fills in the schema defaults', async () => {
    const created = await kube.create(capp('web'));
    expect(created.spec?.['scaleMetric']).toBe('concurrency');
    expect(created.spec?.['state']).toBe('enabled');
  });

  it('lets RBAC decide: a static user without bindings gets 403 on capps, the admin gets 200', async () => {
    const asAlice = clientAs('alice');
    try {
      const denied = await refusal(asAlice.list(CAPP_TYPE, { namespace }));
      expect(denied?.statusCode).toBe(403);
      expect(denied?.message).toContain('User "alice" cannot list resource "capps"');
    } finally {
      asAlice.close();
    }

    const allowed = await admin.raw('GET', resourcePath(CAPP_TYPE, namespace));
    expect(allowed.status).toBe(200);
  });

  it('authenticates a ServiceAccount token minted through the TokenRequest API (TokenReview)', async () => {
    const token = await env.mintServiceAccountToken(namespace, 'robot');
    const review = await admin.request<{
      status?: { authenticated?: boolean; user?: { username?: string } };
    }>('POST', resourcePath(TOKEN_REVIEW_TYPE), {
      body: { apiVersion: TOKEN_REVIEW_TYPE.apiVersion, kind: TOKEN_REVIEW_TYPE.kind, spec: { token } },
    });
    expect(review.status?.authenticated).toBe(true);
    expect(review.status?.user?.username).toBe(`system:serviceaccount:${namespace}:robot`);
  });
});
