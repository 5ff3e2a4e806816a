// HealthScopes through the API, on the real apiserver's RBAC: CRUD straight to the cluster, /health 200/503.
import { HEALTHSCOPE_TYPE } from '@capp/kube';

import {
  type AnyJson,
  cluster,
  clusterClient,
  createNamespace,
  grant,
  startTestApi,
  suffix,
  type TestApi,
} from '../../testing/api-fixture';

describe('HealthScopes through the API (RBAC on healthscopes.rcs.dana.io)', () => {
  let api: TestApi;
  let ns: string;
  const env = cluster();
  const path = (rest = ''): string => `/api/v1/namespaces/${ns}/healthscopes${rest}`;
  const body = (name: string, spec: Record<string, unknown> = { cappRefs: ['web', 'api'] }): AnyJson => ({
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'HealthScope',
    metadata: { name, labels: { team: 'shop' } },
    spec,
  });

  /** Plays the operator: writes the scope's status. */
  async function evaluated(name: string, health: 'Healthy' | 'Unhealthy'): Promise<void> {
    const t = '2026-11-30T10:00:00Z';
    await clusterClient().apply(
      {
        apiVersion: 'rcs.dana.io/v1alpha1',
        kind: 'HealthScope',
        metadata: { name, namespace: ns },
        status: {
          observedGeneration: 1,
          health,
          total: 2,
          healthy: health === 'Healthy' ? 2 : 1,
          unhealthy: health === 'Healthy' ? 0 : 1,
          unknown: 0,
          disabled: 0,
          lastChanged: t,
          capps: [
            {
              name: 'api',
              health,
              reason: health === 'Healthy' ? 'Ready' : 'ProbeFailed',
              message: 'HTTP 500',
              since: t,
            },
            { name: 'web', health: 'Healthy', reason: 'Ready', message: '', since: t },
          ],
          conditions: [
            {
              type: 'Healthy',
              status: health === 'Healthy' ? 'True' : 'False',
              reason: 'x',
              message: 'api: ProbeFailed (HTTP 500)',
              lastTransitionTime: t,
            },
          ],
        },
      },
      { subresource: 'status' },
    );
  }

  beforeAll(async () => {
    api = await startTestApi({ AUTH_MODE: 'kubernetes', AUTH_CACHE_SECONDS: '0' });
    ns = `hs-${suffix()}`;
    await createNamespace(ns);
  });
  afterAll(() => api?.close());

  it('answers 403 to a token without access to healthscopes (access to capps is not enough)', async () => {
    const alice = env.userToken('alice');
    await grant(ns, { kind: 'User', name: 'alice' }, ['get', 'list', 'create', 'update', 'delete']);
    const denied = await api.request<AnyJson>('GET', path('/shop/health'), { token: alice });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toContain('"alice" cannot get healthscopes.rcs.dana.io in namespace');
    expect((await api.request('POST', path(), { token: alice, body: body('shop') })).status).toBe(403);
  });

  it('creates, reads, lists, replaces and deletes a scope in the cluster', async () => {
    const bob = env.userToken('bob');
    await grant(
      ns,
      { kind: 'User', name: 'bob' },
      ['get', 'list', 'create', 'update', 'delete'],
      ['healthscopes'],
    );
    const created = await api.request<AnyJson>('POST', path(), { token: bob, body: body('shop') });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(path('/shop'));
    expect(created.body).toMatchObject({
      kind: 'HealthScope',
      metadata: { name: 'shop', namespace: ns },
      spec: { cappRefs: ['web', 'api'] },
    });
    expect(await clusterClient().get(HEALTHSCOPE_TYPE, ns, 'shop')).toBeDefined();

    expect((await api.request('POST', path(), { token: bob, body: body('shop') })).status).toBe(409);
    const list = await api.request<AnyJson>('GET', path(), { token: bob });
    expect(list.body.items.map((s: AnyJson) => s.metadata.name)).toEqual(['shop']);

    const replaced = await api.request<AnyJson>('PUT', path('/shop'), {
      token: bob,
      body: body('shop', { selector: { matchLabels: { app: 'shop' } }, probe: { path: '/healthz' } }),
    });
    expect(replaced.status).toBe(200);
    // A replace: cappRefs are gone; the CRD's defaults fill the probe.
    expect(replaced.body.spec).toEqual({
      selector: { matchLabels: { app: 'shop' } },
      probe: { method: 'GET', path: '/healthz', periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 },
      unknownIs: 'unhealthy',
    });
    expect((await api.request('PUT', path('/nope'), { token: bob, body: body('nope') })).status).toBe(404);

    await api.request('POST', path(), { token: bob, body: body('gone') });
    const deleted = await api.request<AnyJson>('DELETE', path('/gone'), { token: bob });
    expect(deleted.status).toBe(200);
    expect((await api.request('GET', path('/gone'), { token: bob })).status).toBe(404);
  });

  it('refuses an invalid scope with 400 naming the field and rule, storing nothing', async () => {
    const bob = env.userToken('bob');
    const bad = await api.request<AnyJson>('POST', path(), {
      token: bob,
      body: body('bad', { cappRefs: ['web'], probe: { method: 'POST', host: 'evil.example.com' } }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'spec.probe.method', rule: 'enum' }),
        expect.objectContaining({ path: 'spec.probe.host', rule: 'unknownField' }),
      ]),
    );
    expect(await clusterClient().get(HEALTHSCOPE_TYPE, ns, 'bad')).toBeUndefined();
  });

  it('answers /health with 503 until evaluated, 200 when Healthy and 503 when not, naming the members', async () => {
    const bob = env.userToken('bob');
    await api.request('POST', path(), { token: bob, body: body('lb') });
    const fresh = await api.request<AnyJson>('GET', path('/lb/health'), { token: bob });
    expect(fresh.status).toBe(503);
    expect(fresh.body).toMatchObject({
      health: 'Unknown',
      healthy: false,
      message: expect.stringContaining('not evaluated'),
    });

    await evaluated('lb', 'Healthy');
    const ok = await api.request<AnyJson>('GET', path('/lb/health'), { token: bob });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(ok.body).toMatchObject({
      name: 'lb',
      health: 'Healthy',
      healthy: true,
      total: 2,
      counts: { healthy: 2 },
    });

    await evaluated('lb', 'Unhealthy');
    const bad = await api.request<AnyJson>('GET', path('/lb/health'), { token: bob });
    expect(bad.status).toBe(503);
    expect(bad.body.members).toContainEqual(
      expect.objectContaining({ name: 'api', health: 'Unhealthy', reason: 'ProbeFailed' }),
    );
    expect(bad.body.message).toContain('api: ProbeFailed');
    expect((await api.request('GET', path('/missing/health'), { token: bob })).status).toBe(404);
  });

  it('documents every HealthScope route in the OpenAPI document, /health with 200 and 503', async () => {
    const doc = (await api.request<AnyJson>('GET', '/docs-json')).body;
    const base = '/api/v1/namespaces/{ns}/healthscopes';
    expect(Object.keys(doc.paths[base])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths[`${base}/{name}`])).toEqual(
      expect.arrayContaining(['get', 'put', 'delete']),
    );
    expect(Object.keys(doc.paths[`${base}/{name}/health`].get.responses)).toEqual(
      expect.arrayContaining(['200', '503', '403']),
    );
    expect(doc.components.schemas.HealthScopeWrite.properties.spec.properties.probe).toBeDefined();
  });
});
