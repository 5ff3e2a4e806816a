// Authentication (TokenReview) and authorization (SubjectAccessReview) against the real apiserver's RBAC.
import {
  cappBody,
  cluster,
  clusterClient,
  createNamespace,
  grant,
  startTestApi,
  suffix,
  TestApi,
} from '../testing/api-fixture';
import { REVIEW_CONCURRENCY } from './authenticator';

interface Envelope {
  statusCode: number;
  error: string;
  message: string;
}

describe('API authentication and authorization (cluster RBAC decides)', () => {
  let api: TestApi;
  let nsA: string;
  let nsB: string;
  const env = cluster();

  beforeAll(async () => {
    // No reuse of answers here, so a RoleBinding takes effect on the next request.
    api = await startTestApi({ AUTH_MODE: 'kubernetes', AUTH_CACHE_SECONDS: '0' });
    nsA = `auth-a-${suffix()}`;
    nsB = `auth-b-${suffix()}`;
    await createNamespace(nsA);
    await createNamespace(nsB);
  });
  afterAll(() => api?.close());

  it('answers 401 without a bearer token or with one the cluster does not know', async () => {
    const none = await api.request<Envelope>('GET', `/api/v1/namespaces/${nsA}/capps`);
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({
      statusCode: 401,
      error: 'Unauthorized',
      message: expect.stringMatching(/bearer token/),
    });
    const bogus = await api.request<Envelope>('GET', `/api/v1/namespaces/${nsA}/capps`, {
      token: 'not-a-real-token',
    });
    expect(bogus.status).toBe(401);
    expect(bogus.body.message).toMatch(/not valid/);
  });

  it('answers 403 to a user without RBAC in the namespace, naming the verb and namespace, and 200 once a RoleBinding allows it', async () => {
    const alice = env.userToken('alice');
    const denied = await api.request<Envelope>('POST', `/api/v1/namespaces/${nsA}/capps`, {
      token: alice,
      body: cappBody('web'),
    });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toContain('"alice" cannot create capps.rcs.dana.io in namespace');
    expect(denied.body.message).toContain(nsA);

    await grant(nsA, { kind: 'User', name: 'alice' }, ['get', 'list', 'create']);
    const created = await api.request('POST', `/api/v1/namespaces/${nsA}/capps`, {
      token: alice,
      body: cappBody('web'),
    });
    expect(created.status).toBe(201);
    expect((await api.request('GET', `/api/v1/namespaces/${nsA}/capps/web`, { token: alice })).status).toBe(
      200,
    );
    // Allowed to create, not to delete.
    expect(
      (await api.request('DELETE', `/api/v1/namespaces/${nsA}/capps/web`, { token: alice })).status,
    ).toBe(403);
    // Nothing in the other namespace.
    expect((await api.request('GET', `/api/v1/namespaces/${nsB}/capps`, { token: alice })).status).toBe(403);

    const revisions = await api.request<{ items: { createdBy: string }[] }>(
      'GET',
      `/api/v1/namespaces/${nsA}/capps/web/revisions`,
      { token: alice },
    );
    expect(revisions.body.items[0].createdBy).toBe('alice');
  });

  it('accepts ServiceAccount tokens, with that ServiceAccount’s RBAC', async () => {
    await clusterClient().rest.request('POST', `/api/v1/namespaces/${nsB}/serviceaccounts`, {
      body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'deployer' } },
    });
    const token = await env.mintServiceAccountToken(nsB, 'deployer');
    expect((await api.request('GET', `/api/v1/namespaces/${nsB}/capps`, { token })).status).toBe(403);
    await grant(nsB, { kind: 'ServiceAccount', name: 'deployer', namespace: nsB }, ['list', 'create']);
    const created = await api.request('POST', `/api/v1/namespaces/${nsB}/capps`, {
      token,
      body: cappBody('svc'),
    });
    expect(created.status).toBe(201);
  });

  it('lists across namespaces only what the caller may list', async () => {
    const alice = env.userToken('alice');
    const res = await api.request<{ items: { metadata: { namespace: string } }[] }>('GET', '/api/v1/capps', {
      token: alice,
    });
    expect(res.status).toBe(200);
    const namespaces = new Set(res.body.items.map((i) => i.metadata.namespace));
    expect([...namespaces]).toEqual([nsA]);

    // The cluster admin (system:masters) sees both.
    const admin = await api.request<{ items: { metadata: { namespace: string } }[] }>(
      'GET',
      '/api/v1/capps?limit=500',
      { token: env.adminToken },
    );
    const all = new Set(admin.body.items.map((i) => i.metadata.namespace));
    expect(all.has(nsA) && all.has(nsB)).toBe(true);
  });

  it('lists across more namespaces than it reviews at once exactly those the caller may list', async () => {
    const many = Array.from({ length: REVIEW_CONCURRENCY + 4 }, (_, i) => `auth-m${i}-${suffix()}`);
    await Promise.all(
      many.map(async (ns) => {
        await createNamespace(ns);
        const created = await api.request('POST', `/api/v1/namespaces/${ns}/capps`, {
          token: env.adminToken,
          body: cappBody('app'),
        });
        expect(created.status).toBe(201);
      }),
    );
    const allowed = many.filter((_, i) => i % 3 !== 1);
    for (const ns of allowed) await grant(ns, { kind: 'User', name: 'bob' }, ['list']);

    const res = await api.request<{ items: { metadata: { namespace: string } }[] }>(
      'GET',
      '/api/v1/capps?limit=500',
      { token: env.userToken('bob') },
    );
    expect(res.status).toBe(200);
    expect(res.body.items.map((i) => i.metadata.namespace).sort()).toEqual([...allowed].sort());
  });

  it('never writes a token to the logs', async () => {
    const tokens = [env.userToken('alice'), env.adminToken, 'not-a-real-token'];
    expect(api.logs.length).toBeGreaterThan(0);
    for (const line of api.logs) for (const t of tokens) expect(line).not.toContain(t);
    expect(api.logs.some((l) => l.includes('"authorization":"[redacted]"'))).toBe(true);
  });

  it('logs one line per request at info and below, none for successful requests above it', async () => {
    const path = `/api/v1/namespaces/${nsA}/capps`;
    const requestLines = (logs: string[]) => logs.filter((l) => l.includes('"url":"' + path + '"'));
    const before = requestLines(api.logs).length;
    await api.request('GET', path, { token: env.adminToken });
    expect(requestLines(api.logs).length).toBe(before + 1);
    const quiet = await startTestApi({ AUTH_MODE: 'kubernetes', LOG_LEVEL: 'warn' });
    try {
      expect((await quiet.request('GET', path, { token: env.adminToken })).status).toBe(200);
      expect(requestLines(quiet.logs)).toEqual([]);
    } finally {
      await quiet.close();
    }
  });

  it('leaves health, metrics and docs open', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/docs-json'])
      expect((await api.request('GET', path)).status).toBe(200);
  });
});
