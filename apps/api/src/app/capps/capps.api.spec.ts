// The Capp endpoints end to end, in-process, on the real PostgreSQL, Redis and control plane.
import { get } from 'node:http';

import helmet from 'helmet';
import { Client } from 'pg';

import {
  AnyJson,
  cappBody,
  cappPath,
  clusterCapp,
  clusterClient,
  createNamespace,
  eventually,
  startTestApi,
  suffix,
  TestApi,
} from '../../testing/api-fixture';

interface Resource {
  metadata: {
    name: string;
    namespace: string;
    resourceVersion: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: Record<string, AnyJson>;
  sync: { state: string; attempts: number; appliedVersion?: number; error?: string };
}
interface Revision {
  number: number;
  source: string;
  createdBy: string;
  spec: Record<string, AnyJson>;
  metadata: { labels: Record<string, string> };
}
interface Envelope {
  statusCode: number;
  error: string;
  message: string;
  details: { path: string; rule: string; message: string }[];
}

/** GET with node:http (no headers added, unlike fetch). */
function plainGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** The headers helmet's defaults set on a response (what every answer of the API must carry). */
function helmetHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: string) => (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
  };
  helmet()({} as never, res as never, () => undefined);
  return headers;
}

describe('Capps REST API', () => {
  let api: TestApi;
  let ns: string;
  const base = (): string => `/api/v1/namespaces/${ns}/capps`;

  beforeAll(async () => {
    api = await startTestApi();
    ns = `api-${suffix()}`;
    await createNamespace(ns);
  });
  afterAll(() => api?.close());

  it('creates a Capp: stored, applied to the cluster, answered 201 with an ETag and sync Synced', async () => {
    const res = await api.request<Resource>('POST', base(), {
      body: cappBody('web', {}, { labels: { app: 'web' } }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.headers.get('location')).toBe(`${base()}/web`);
    expect(res.body.sync).toMatchObject({ state: 'Synced', appliedVersion: 1 });
    // Defaults the CRD would apply are part of the stored spec.
    expect(res.body.spec).toMatchObject({ scaleMetric: 'concurrency', state: 'enabled' });

    const cr = await clusterCapp(ns, 'web');
    expect(cr?.['metadata'].labels).toEqual({ app: 'web' });
    expect(cr?.['metadata'].annotations['rcs.dana.io/last-updated-by']).toBe('dev');
    expect(cr?.['metadata'].managedFields.map((f: { manager: string }) => f.manager)).toContain('capp-api');
    expect(cr?.['spec'].configurationSpec.template.spec.containers[0].image).toBe(
      'ghcr.io/dana-team/capp-gin-app:v0.2.0',
    );

    const again = await api.request<Envelope>('POST', base(), { body: cappBody('web') });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/already exists/);
  });

  it('keeps revisions 2..11 after a create and 10 updates, and the cluster has the last one', async () => {
    await api.request('POST', base(), { body: cappBody('history') });
    for (let i = 1; i <= 10; i++) {
      const res = await api.request<Resource>('PUT', `${base()}/history`, {
        body: cappBody('history', { routeSpec: { routeTimeoutSeconds: 10 + i } }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBe(`"${i + 1}"`);
    }
    const revisions = await api.request<{ items: Revision[] }>('GET', `${base()}/history/revisions`);
    expect(revisions.body.items.map((r) => r.number)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(revisions.body.items.every((r) => r.source === 'api' && r.createdBy === 'dev')).toBe(true);
    expect((await clusterCapp(ns, 'history'))?.['spec'].routeSpec.routeTimeoutSeconds).toBe(20);

    const pruned = await api.request<Envelope>('GET', `${base()}/history/revisions/1`);
    expect(pruned.status).toBe(404);
  });

  it('records no revision for an update that changes nothing', async () => {
    await api.request('POST', base(), { body: cappBody('same', {}, { labels: { a: 'b' } }) });
    // The same content, spelled differently: explicit defaults, other key order, no apiVersion/kind.
    const bare = cappBody('same', { state: 'enabled', scaleMetric: 'concurrency' }, { labels: { a: 'b' } });
    delete bare['apiVersion'];
    delete bare['kind'];
    const res = await api.request<Resource>('PUT', `${base()}/same`, { body: bare });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"1"');
    const revisions = await api.request<{ items: Revision[] }>('GET', `${base()}/same/revisions`);
    expect(revisions.body.items.map((r) => r.number)).toEqual([1]);
  });

  it('rolls back: a new revision with the old content, and the cluster follows', async () => {
    await api.request('POST', base(), { body: cappBody('roll', { scaleMetric: 'rps' }) });
    await api.request('PUT', `${base()}/roll`, { body: cappBody('roll', { scaleMetric: 'cpu' }) });
    expect((await clusterCapp(ns, 'roll'))?.['spec'].scaleMetric).toBe('cpu');

    const res = await api.request<Resource>('POST', `${base()}/roll/rollback`, { body: { revision: 1 } });
    expect(res.status).toBe(200);
    expect(res.body.spec['scaleMetric']).toBe('rps');
    const revisions = (await api.request<{ items: Revision[] }>('GET', `${base()}/roll/revisions`)).body
      .items;
    expect(revisions.map((r) => [r.number, r.source, r.spec['scaleMetric']])).toEqual([
      [1, 'api', 'rps'],
      [2, 'api', 'cpu'],
      [3, 'rollback', 'rps'],
    ]);
    expect(revisions[2].spec).toEqual(revisions[0].spec);
    expect((await clusterCapp(ns, 'roll'))?.['spec'].scaleMetric).toBe('rps');

    const missing = await api.request<Envelope>('POST', `${base()}/roll/rollback`, {
      body: { revision: 99 },
    });
    expect(missing.status).toBe(404);
    const bad = await api.request<Envelope>('POST', `${base()}/roll/rollback`, { body: { revision: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([expect.objectContaining({ path: 'revision', rule: 'minimum' })]);
  });

  it('accepts TLS without a hostname, as v0.3.5 does, and says it has no effect in a Warning header', async () => {
    const res = await api.request<Resource>('POST', base(), {
      body: cappBody('tls-only', { routeSpec: { tlsEnabled: true } }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('warning')).toBe(
      '299 - "spec.routeSpec.tlsEnabled: tlsEnabled has no effect without routeSpec.hostname: no Certificate is issued (rule tlsWithoutHostname)"',
    );
    expect((await clusterCapp(ns, 'tls-only'))?.['spec'].routeSpec).toEqual({ tlsEnabled: true });
    const fixed = await api.request<Resource>('PATCH', `${base()}/tls-only`, {
      body: { spec: { routeSpec: { tlsEnabled: false } } },
      contentType: 'application/merge-patch+json',
    });
    expect(fixed.status).toBe(200);
    expect(fixed.headers.get('warning')).toBeNull();
  });

  it('refuses an invalid body with 400 naming each bad field and its rule, and stores nothing', async () => {
    const res = await api.request<Envelope>('POST', base(), {
      body: cappBody('Bad_Name', { scaleMetric: 'gpu', logSpec: { type: 'elastic' } }),
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    const found = res.body.details.map((d) => `${d.path}:${d.rule}`);
    expect(found).toEqual(expect.arrayContaining(['metadata.name:name', 'spec.scaleMetric:enum']));
    expect(found.some((f) => f.startsWith('spec.logSpec'))).toBe(true);
    expect(res.body.message).toContain('spec.scaleMetric');
    const list = await api.request<{ items: Resource[] }>('GET', base());
    expect(list.body.items.map((i) => i.metadata.name)).not.toContain('Bad_Name');
  });

  it('refuses with 422, storing nothing, what the cluster’s own admission refuses', async () => {
    // A ValidatingAdmissionPolicy stands for what only the cluster can judge (webhooks, policies).
    const kube = clusterClient().rest;
    const admission = '/apis/admissionregistration.k8s.io/v1';
    const policy = `no-legacy-${suffix()}`;
    await kube.request('POST', `${admission}/validatingadmissionpolicies`, {
      body: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: policy },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [
              {
                apiGroups: ['rcs.dana.io'],
                apiVersions: ['v1alpha1'],
                operations: ['CREATE', 'UPDATE'],
                resources: ['capps'],
              },
            ],
          },
          validations: [
            {
              expression: "!has(object.metadata.labels) || !('legacy' in object.metadata.labels)",
              message: 'legacy apps are not allowed here',
            },
          ],
        },
      },
    });
    await kube.request('POST', `${admission}/validatingadmissionpolicybindings`, {
      body: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name: policy },
        spec: {
          policyName: policy,
          validationActions: ['Deny'],
          matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } },
        },
      },
    });
    try {
      const legacy = cappBody('legacy', {}, { labels: { legacy: 'yes' } });
      await eventually('the policy in force', async () => {
        const dry = await kube.raw('POST', cappPath(ns), {
          query: { dryRun: 'All' },
          body: { ...legacy, metadata: { ...(legacy['metadata'] as object), namespace: ns } },
        });
        return dry.status === 422;
      });
      const res = await api.request<Envelope>('POST', base(), { body: legacy });
      expect(res.status).toBe(422);
      expect(res.body.error).toBe('Unprocessable Entity');
      expect(res.body.message).toContain('legacy apps are not allowed here');
      expect((await api.request('GET', `${base()}/legacy`)).status).toBe(404);
      // An update the cluster would refuse is refused too, and the stored Capp is unchanged.
      const refused = await api.request<Envelope>('PATCH', `${base()}/web`, {
        body: { metadata: { labels: { legacy: 'yes' } } },
        contentType: 'application/merge-patch+json',
      });
      expect(refused.status).toBe(422);
      expect((await api.request<Resource>('GET', `${base()}/web`)).body.metadata.labels).toEqual({
        app: 'web',
      });
    } finally {
      await kube.raw('DELETE', `${admission}/validatingadmissionpolicybindings/${policy}`);
      await kube.raw('DELETE', `${admission}/validatingadmissionpolicies/${policy}`);
    }
  });

  it('serves a read from its cached view only while the row is unchanged, whoever wrote it', async () => {
    await api.request('POST', base(), { body: cappBody('viewed') });
    const first = await api.request<{ status: unknown; sync: unknown }>('GET', `${base()}/viewed`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    const created = Date.parse(
      (first.body as { metadata?: { creationTimestamp?: string } }).metadata?.creationTimestamp ?? '',
    );
    expect(Math.abs(Date.now() - created)).toBeLessThan(60_000);
    // Another replica (or the watcher) writes status straight to the row: no version bump, no ETag change.
    const client = new Client({ connectionString: api.db.url });
    await client.connect();
    try {
      await client.query(`UPDATE "Capp" SET "status" = $1 WHERE "namespace" = $2 AND "name" = 'viewed'`, [
        JSON.stringify({ observedGeneration: 7, urls: ['https://viewed.example'] }),
        ns,
      ]);
    } finally {
      await client.end();
    }
    const again = await api.request<{ status: { observedGeneration?: number } }>('GET', `${base()}/viewed`);
    expect(again.body.status.observedGeneration).toBe(7);
    const page = await api.request<{
      items: { metadata: { name: string }; status: { observedGeneration?: number } }[];
    }>('GET', `${base()}?limit=500`);
    expect(page.body.items.find((i) => i.metadata.name === 'viewed')?.status.observedGeneration).toBe(7);
  });

  it('answers a read with helmet’s security headers, its length and ETag; HEAD and If-None-Match as HTTP says', async () => {
    await api.request('POST', base(), { body: cappBody('headers') });
    const res = await fetch(`${api.url}${base()}/headers`);
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect((JSON.parse(body) as Resource).metadata.name).toBe('headers');
    const security = helmetHeaders();
    expect(Object.keys(security).length).toBeGreaterThan(10);
    for (const [name, value] of Object.entries(security))
      expect([name, res.headers.get(name)]).toEqual([name, value]);

    // Again from the cached view: the same bytes and headers.
    const cached = await fetch(`${api.url}${base()}/headers`);
    expect(await cached.text()).toBe(body);
    expect(cached.headers.get('content-length')).toBe(res.headers.get('content-length'));

    const head = await fetch(`${api.url}${base()}/headers`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(res.headers.get('content-length'));
    expect(head.headers.get('etag')).toBe('"1"');
    expect(await head.text()).toBe('');

    // Conditional reads as a plain HTTP client sends them (fetch adds `Cache-Control: no-cache`).
    const unchanged = await plainGet(`${api.url}${base()}/headers`, { 'if-none-match': '"1"' });
    expect([unchanged.status, unchanged.body]).toEqual([304, '']);
    const changed = await plainGet(`${api.url}${base()}/headers`, { 'if-none-match': '"0"' });
    expect([changed.status, changed.body]).toEqual([200, body]);
    const noCache = await plainGet(`${api.url}${base()}/headers`, {
      'if-none-match': '"1"',
      'cache-control': 'no-cache',
    });
    expect([noCache.status, noCache.body]).toEqual([200, body]);

    // Errors carry them too.
    const missing = await fetch(`${api.url}${base()}/no-such-capp`);
    expect(missing.status).toBe(404);
    for (const [name, value] of Object.entries(security))
      expect([name, missing.headers.get(name)]).toEqual([name, value]);
  });

  it('refuses path parameters no kubectl user could use with 400 naming them, storing nothing', async () => {
    const rows = async (): Promise<number> => {
      const client = new Client({ connectionString: api.db.url });
      await client.connect();
      try {
        return Number((await client.query('SELECT count(*) AS n FROM "Capp"')).rows[0].n);
      } finally {
        await client.end();
      }
    };
    const before = await rows();
    const cases: Array<[string, string, unknown, string, string]> = [
      ['POST', '/api/v1/namespaces/%17/capps', cappBody('x'), 'ns', 'pattern'],
      ['POST', `/api/v1/namespaces/${encodeURIComponent('𝓣𝓱𝓮 𝓺𝓾𝓲𝓬𝓴')}/capps`, cappBody('x'), 'ns', 'pattern'],
      ['POST', `/api/v1/namespaces/${'a'.repeat(64)}/capps`, cappBody('x'), 'ns', 'maxLength'],
      ['GET', '/api/v1/namespaces/Default/capps', undefined, 'ns', 'pattern'],
      ['PUT', `${base()}/Web`, cappBody('Web'), 'name', 'pattern'],
      ['GET', `${base()}/1web`, undefined, 'name', 'pattern'],
      ['DELETE', `${base()}/${'w'.repeat(64)}`, undefined, 'name', 'maxLength'],
      ['GET', `${base()}/web/revisions/99999999999999999`, undefined, 'revision', 'type'],
      ['GET', `${base()}/web/revisions/0`, undefined, 'revision', 'type'],
      ['GET', `${base()}/web/revisions/1e3`, undefined, 'revision', 'type'],
      ['POST', `${base()}/web/rollback`, { revision: 3.8e16 }, 'revision', 'maximum'],
    ];
    for (const [method, path, body, param, rule] of cases) {
      const res = await api.request<Envelope>(method, path, { body });
      expect({ method, path, status: res.status, details: res.body.details }).toEqual({
        method,
        path,
        status: 400,
        details: [expect.objectContaining({ path: param, rule })],
      });
    }
    expect(await rows()).toBe(before);
  });

  it('refuses a malformed percent-escape in a path parameter with 400 in the envelope', async () => {
    for (const path of [`${base()}/%E0%A4%A`, '/api/v1/namespaces/%ZZ/capps']) {
      const res = await api.request<Envelope>('GET', path);
      expect({ path, status: res.status, error: res.body.error, details: res.body.details }).toEqual({
        path,
        status: 400,
        error: 'Bad Request',
        details: [expect.objectContaining({ path: 'path', rule: 'encoding' })],
      });
    }
  });

  it('documents the refusals it answers: 400 for a bad path parameter everywhere, 422 on every write', async () => {
    const doc = (await api.request<AnyJson>('GET', '/docs-json')).body;
    const missing: string[] = [];
    for (const [path, item] of Object.entries<AnyJson>(doc.paths)) {
      for (const [method, op] of Object.entries<AnyJson>(item)) {
        const statuses = Object.keys(op.responses);
        if (path.includes('{') && !statuses.includes('400')) missing.push(`${method} ${path} 400`);
        const write = ['post', 'put', 'patch'].includes(method);
        if (write && !statuses.includes('422')) missing.push(`${method} ${path} 422`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('refuses a Capp in a namespace that does not exist with 422 naming it, storing nothing', async () => {
    const missing = `nope-${suffix()}`;
    const res = await api.request<Envelope>('POST', `/api/v1/namespaces/${missing}/capps`, {
      body: cappBody('web'),
    });
    expect(res.status).toBe(422);
    expect(res.body.details).toEqual([
      expect.objectContaining({ path: 'metadata.namespace', rule: 'NotFound' }),
    ]);
    expect(res.body.details[0].message).toContain(missing);
    const list = await api.request<{ items: Resource[] }>('GET', `/api/v1/namespaces/${missing}/capps`);
    expect(list.body.items).toEqual([]);
  });

  it('refuses unknown fields, including server-owned ones like status', async () => {
    const body = { ...cappBody('unknown', { replicas: 3 }), status: {} };
    const res = await api.request<Envelope>('POST', base(), { body });
    expect(res.status).toBe(400);
    expect(res.body.details.map((d) => `${d.path}:${d.rule}`).sort()).toEqual([
      'spec.replicas:unknownField',
      'status:unknownField',
    ]);
  });

  it('refuses a body whose namespace or name contradicts the URL', async () => {
    const res = await api.request<Envelope>('POST', base(), {
      body: cappBody('elsewhere', {}, { namespace: 'other' }),
    });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([
      expect.objectContaining({ path: 'metadata.namespace', rule: 'match' }),
    ]);
    const nameless = await api.request<Envelope>('POST', base(), {
      body: { spec: cappBody('x')['spec'], metadata: {} },
    });
    expect(nameless.body.details).toEqual([
      expect.objectContaining({ path: 'metadata.name', rule: 'required' }),
    ]);
  });

  it('answers 412 to a write with a stale If-Match and applies a fresh one', async () => {
    const created = await api.request<Resource>('POST', base(), { body: cappBody('etag') });
    const etag = created.headers.get('etag') ?? '';
    const first = await api.request('PUT', `${base()}/etag`, {
      body: cappBody('etag', { scaleMetric: 'rps' }),
      headers: { 'if-match': etag },
    });
    expect(first.status).toBe(200);
    const stale = await api.request<Envelope>('PUT', `${base()}/etag`, {
      body: cappBody('etag', { scaleMetric: 'cpu' }),
      headers: { 'if-match': etag },
    });
    expect(stale.status).toBe(412);
    expect(stale.body.error).toBe('Precondition Failed');
    const staleDelete = await api.request('DELETE', `${base()}/etag`, { headers: { 'if-match': etag } });
    expect(staleDelete.status).toBe(412);
    expect((await api.request<Resource>('GET', `${base()}/etag`)).body.spec['scaleMetric']).toBe('rps');
  });

  it('merge-patches labels and spec, validating the result whole', async () => {
    await api.request('POST', base(), {
      body: cappBody('patchme', {}, { labels: { keep: 'yes', drop: 'me' } }),
    });
    const res = await api.request<Resource>('PATCH', `${base()}/patchme`, {
      body: { metadata: { labels: { drop: null, tier: 'front' } }, spec: { scaleMetric: 'memory' } },
      contentType: 'application/merge-patch+json',
    });
    expect(res.status).toBe(200);
    expect(res.body.metadata.labels).toEqual({ keep: 'yes', tier: 'front' });
    expect(res.body.spec['scaleMetric']).toBe('memory');
    expect((await clusterCapp(ns, 'patchme'))?.['spec'].scaleMetric).toBe('memory');

    const invalid = await api.request<Envelope>('PATCH', `${base()}/patchme`, {
      body: { spec: { minReplicas: 3, maxReplicas: 1 } },
      contentType: 'application/merge-patch+json',
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.details).toEqual([
      expect.objectContaining({ path: 'spec.maxReplicas', rule: 'maxReplicasAtLeastMinReplicas' }),
    ]);
  });

  it('disables and enables a Capp through /state', async () => {
    await api.request('POST', base(), { body: cappBody('toggle') });
    const off = await api.request<Resource>('PUT', `${base()}/toggle/state`, { body: { state: 'disabled' } });
    expect(off.status).toBe(200);
    expect((await clusterCapp(ns, 'toggle'))?.['spec'].state).toBe('disabled');
    const bad = await api.request<Envelope>('PUT', `${base()}/toggle/state`, { body: { state: 'paused' } });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([expect.objectContaining({ path: 'state', rule: 'enum' })]);
    await api.request('PUT', `${base()}/toggle/state`, { body: { state: 'enabled' } });
    const revisions = (await api.request<{ items: Revision[] }>('GET', `${base()}/toggle/revisions`)).body
      .items;
    expect(revisions.map((r) => r.spec['state'])).toEqual(['enabled', 'disabled', 'enabled']);
  });

  it('deletes the CR and then the row', async () => {
    await api.request('POST', base(), { body: cappBody('gone') });
    expect(await clusterCapp(ns, 'gone')).toBeDefined();
    const res = await api.request<Resource>('DELETE', `${base()}/gone`);
    expect(res.status).toBe(200);
    expect(await clusterCapp(ns, 'gone')).toBeUndefined();
    expect((await api.request('GET', `${base()}/gone`)).status).toBe(404);
    expect((await api.request('GET', `${base()}/gone/revisions`)).status).toBe(404);
  });

  it('filters lists by label selector and state', async () => {
    const names = (res: { body: { items: Resource[] } }): string[] =>
      res.body.items.map((i) => i.metadata.name);
    const sel = async (s: string): Promise<string[]> =>
      names(
        await api.request<{ items: Resource[] }>('GET', `${base()}?labelSelector=${encodeURIComponent(s)}`),
      );
    expect(await sel('app=web')).toEqual(['web']);
    expect(await sel('keep in (yes,no),tier')).toEqual(['patchme']);
    expect(await sel('a')).toEqual(['same']);
    expect((await sel('!app')).includes('web')).toBe(false);
    expect((await sel('app!=web')).includes('web')).toBe(false);
    await api.request('PUT', `${base()}/toggle/state`, { body: { state: 'disabled' } });
    expect(names(await api.request<{ items: Resource[] }>('GET', `${base()}?state=disabled`))).toEqual([
      'toggle',
    ]);
    const bad = await api.request<Envelope>(
      'GET',
      `${base()}?labelSelector=${encodeURIComponent('a in (b')}`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.details[0]).toMatchObject({ path: 'labelSelector' });
  });

  it('answers 404 in the error envelope for an unknown Capp or route', async () => {
    const res = await api.request<Envelope>('GET', `${base()}/nope`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: expect.stringContaining('nope'),
      details: [],
    });
    const route = await api.request<Envelope>('GET', '/api/v1/nothing-here');
    expect(route.status).toBe(404);
    expect(route.body.statusCode).toBe(404);
  });

  it('refuses a body over the size limit with 413 and malformed JSON with 400, in the envelope', async () => {
    const huge = cappBody('huge', {}, { annotations: { big: 'x'.repeat(600 * 1024) } });
    const res = await api.request<Envelope>('POST', base(), { body: huge });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ statusCode: 413, details: [] });
    const broken = await api.request<Envelope>('POST', base(), {
      raw: '{"metadata":',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.status).toBe(400);
    expect(broken.body.statusCode).toBe(400);
  });

  it('walks all of 250 Capps page by page with no duplicates or gaps', async () => {
    const pageNs = `page-${suffix()}`;
    await createNamespace(pageNs);
    const want = Array.from({ length: 250 }, (_, i) => `app-${String(i).padStart(3, '0')}`);
    // Rows are what pagination walks; the cluster applies them in the background.
    for (let i = 0; i < want.length; i += 25) {
      const statuses = await Promise.all(
        want
          .slice(i, i + 25)
          .map(
            async (name) =>
              (await api.request('POST', `/api/v1/namespaces/${pageNs}/capps`, { body: cappBody(name) }))
                .status,
          ),
      );
      expect(statuses.filter((s) => s !== 201 && s !== 202)).toEqual([]);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const q = `limit=40${cursor ? `&continue=${encodeURIComponent(cursor)}` : ''}`;
      const res = await api.request<{ items: Resource[]; metadata: { continue?: string } }>(
        'GET',
        `/api/v1/namespaces/${pageNs}/capps?${q}`,
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((i) => i.metadata.name));
      cursor = res.body.metadata.continue;
      pages++;
    } while (cursor);
    expect(pages).toBe(7);
    expect(seen).toEqual(want);

    // Across namespaces (GET /capps) the same walk finds them too, in (namespace, name) order.
    const all: string[] = [];
    cursor = undefined;
    do {
      const q = `limit=100${cursor ? `&continue=${encodeURIComponent(cursor)}` : ''}`;
      const res: { body: { items: Resource[]; metadata: { continue?: string } } } = await api.request<{
        items: Resource[];
        metadata: { continue?: string };
      }>('GET', `/api/v1/capps?${q}`);
      all.push(...res.body.items.filter((i) => i.metadata.namespace === pageNs).map((i) => i.metadata.name));
      cursor = res.body.metadata.continue;
    } while (cursor);
    expect(all).toEqual(want);

    const bad = await api.request<Envelope>('GET', `/api/v1/namespaces/${pageNs}/capps?continue=garbage`);
    expect(bad.status).toBe(400);
    const tooMany = await api.request<Envelope>('GET', `/api/v1/namespaces/${pageNs}/capps?limit=501`);
    expect(tooMany.body.details).toEqual([expect.objectContaining({ path: 'limit', rule: 'maximum' })]);

    await eventually(
      'every paged Capp in the cluster',
      async () => (await clusterCapp(pageNs, 'app-249')) !== undefined,
      60_000,
    );
  });

  it('serves /healthz, /readyz and Prometheus /metrics outside /api/v1', async () => {
    expect((await api.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await api.request<{ status: string; details: Record<string, { status: string }> }>(
      'GET',
      '/readyz',
    );
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.body.details).sort()).toEqual(['cluster', 'database', 'redis']);
    const metrics = await api.request<string>('GET', '/metrics');
    expect(metrics.body).toMatch(
      /capp_api_http_requests_total\{method="POST",route="\/api\/v1\/namespaces\/:ns\/capps",status="201"\} \d+/,
    );
    // Reads answered by the controller itself (common/send-json.ts) and 404s are counted and timed alike.
    expect(metrics.body).toMatch(
      /capp_api_http_requests_total\{method="GET",route="\/api\/v1\/namespaces\/:ns\/capps\/:name",status="200"\} \d+/,
    );
    expect(metrics.body).toMatch(
      /capp_api_http_requests_total\{method="GET",route="\/api\/v1\/namespaces\/:ns\/capps\/:name",status="404"\} \d+/,
    );
    const count =
      /capp_api_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/namespaces\/:ns\/capps\/:name"\} (\d+)/.exec(
        metrics.body,
      );
    expect(Number(count?.[1])).toBeGreaterThan(0);
    expect(metrics.body).toMatch(/capp_api_sync_total\{operation="apply",result="ok"\} \d+/);
    expect(metrics.body).toMatch(/capp_api_sync_queue_depth \d+/);
  });
});

describe('rate limiting', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(() => api?.close());

  it('answers 429 with Retry-After once a client exceeds its requests per minute', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push((await api.request('GET', '/api/v1/namespaces/default/capps')).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const limited = await api.request<Envelope>('GET', '/api/v1/namespaces/default/capps');
    expect(limited.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect(limited.headers.get('retry-after')).toBeTruthy();
    // Probes are never limited.
    expect((await api.request('GET', '/healthz')).status).toBe(200);
  });

  it('documents 429 on every operation, as the limiter guards them all (reads too)', async () => {
    const doc = (await api.request<AnyJson>('GET', '/docs-json')).body;
    const undocumented = Object.entries<AnyJson>(doc.paths).flatMap(([path, item]) =>
      Object.entries<AnyJson>(item)
        .filter(([, op]) => !('429' in op.responses))
        .map(([method]) => `${method} ${path}`),
    );
    expect(undocumented).toEqual([]);
  });
});
