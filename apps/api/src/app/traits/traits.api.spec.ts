// GET /api/v1/traits[/{name}] and Capps with spec.traits through the API, on the real cluster.
import { CAPP_TRAIT_TYPE } from '@capp/kube';

import {
  AnyJson,
  cappBody,
  cluster,
  clusterClient,
  createNamespace,
  startTestApi,
  suffix,
  TestApi,
} from '../../testing/api-fixture';

describe('traits in the REST API', () => {
  let api: TestApi;
  let authed: TestApi;
  let ns: string;
  const name = `api-sidecar-${suffix()}`;

  beforeAll(async () => {
    api = await startTestApi();
    authed = await startTestApi({ AUTH_MODE: 'kubernetes', AUTH_CACHE_SECONDS: '0' });
    ns = `api-traits-${suffix()}`;
    await createNamespace(ns);
    await clusterClient().apply({
      apiVersion: 'rcs.dana.io/v1alpha1',
      kind: 'CappTrait',
      metadata: { name },
      spec: {
        podDisruptive: true,
        parameters: { type: 'object', properties: { image: { type: 'string', default: 'envoy:1' } } },
        patch: {
          template:
            '{"spec": {"template": {"spec": {"containers": [{"name": "s", "image": parameter.image}]}}}}',
        },
      },
    });
  });
  afterAll(async () => {
    await clusterClient()
      .delete(CAPP_TRAIT_TYPE, undefined, name)
      .catch(() => false);
    await api?.close();
    await authed?.close();
  });

  it('lists the CappTraits and reads one, without managedFields', async () => {
    const list = await api.request<{ kind: string; items: Array<{ metadata: AnyJson }> }>(
      'GET',
      '/api/v1/traits',
    );
    expect(list.status).toBe(200);
    expect(list.body.kind).toBe('CappTraitList');
    expect(list.body.items.map((t) => t.metadata.name)).toContain(name);
    const one = await api.request<{ metadata: AnyJson; spec: AnyJson }>('GET', `/api/v1/traits/${name}`);
    expect(one.status).toBe(200);
    expect(one.body.spec).toMatchObject({ podDisruptive: true, patch: { template: expect.any(String) } });
    expect(one.body.metadata.managedFields).toBeUndefined();
  });

  it('answers 404 for an unknown trait and 400 for a name that cannot be one', async () => {
    expect((await api.request('GET', '/api/v1/traits/no-such-trait')).status).toBe(404);
    const bad = await api.request<{ details: AnyJson[] }>('GET', '/api/v1/traits/Not_A_Name');
    expect(bad.status).toBe(400);
    expect(bad.body.details[0]).toMatchObject({ path: 'name', rule: 'pattern' });
  });

  it('authorizes like kubectl get capptraits: 403 without RBAC on capptraits', async () => {
    const token = cluster().userToken('carol'); // a static user with no cluster-wide rights
    const denied = await authed.request<{ message: string }>('GET', '/api/v1/traits', { token });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toContain('cannot list capptraits.rcs.dana.io');
  });

  it('stores spec.traits in the Capp and its revisions, and a rollback brings them back', async () => {
    const base = `/api/v1/namespaces/${ns}/capps`;
    const traits = [{ type: name, properties: { image: 'envoy:2' } }];
    const created = await api.request<{ spec: AnyJson }>('POST', base, {
      body: cappBody('traited', { traits }),
    });
    expect([201, 202]).toContain(created.status);
    expect(created.body.spec.traits).toEqual(traits);
    const replaced = await api.request('PUT', `${base}/traited`, {
      body: cappBody('traited', { traits: [] }),
    });
    expect([200, 202]).toContain(replaced.status);
    const revisions = await api.request<{ items: Array<{ number: number; spec: AnyJson }> }>(
      'GET',
      `${base}/traited/revisions`,
    );
    expect(revisions.body.items.find((r) => r.number === 1)?.spec.traits).toEqual(traits);
    const rolledBack = await api.request<{ spec: AnyJson }>('POST', `${base}/traited/rollback`, {
      body: { revision: 1 },
    });
    expect(rolledBack.body.spec.traits).toEqual(traits);
  });
});
