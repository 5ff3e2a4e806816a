// Property-based fuzzing of the running API, driven by its own OpenAPI document (GET /docs-json):
// hostile path and query parameters, schema-shaped and arbitrary JSON bodies. Whatever is sent, the
// API answers no 5xx, only statuses the document lists for the operation, and stores nothing when it
// answers 4xx. fast-check prints the seed and the shrunk request of a failure; replay it with
// `FUZZ_SEED=<seed>`. `FUZZ_RUNS` sets the requests per mode (150; each mode stops after 60 s anyway).
import fc from 'fast-check';
import { Client } from 'pg';

import {
  type AnyJson,
  cappBody,
  cluster,
  clusterClient,
  createNamespace,
  grant,
  startTestApi,
  suffix,
  TestApi,
} from '../testing/api-fixture';

type Json = AnyJson;

interface Operation {
  method: string;
  /** The templated path, e.g. `/api/v1/namespaces/{ns}/capps/{name}`. */
  path: string;
  parameters: { name: string; in: string; schema?: Json }[];
  body?: { schema: Json; examples: Json[] };
  statuses: Set<number>;
}

interface FuzzRequest {
  op: Operation;
  path: string;
  query: string;
  headers: Record<string, string>;
  body?: Json;
  raw?: string;
}

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 150);
const SEED = process.env['FUZZ_SEED'] ? Number(process.env['FUZZ_SEED']) : undefined;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function operationsOf(doc: Json): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const content = op.requestBody?.content?.['application/json'];
      ops.push({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        body: content
          ? {
              schema: content.schema,
              examples: Object.values<Json>(content.examples ?? {}).map((e) => e.value),
            }
          : undefined,
        statuses: new Set(Object.keys(op.responses).map(Number)),
      });
    }
  }
  return ops;
}

// ---- arbitraries --------------------------------------------------------------------------------

/** Strings a hostile or careless client sends as a path or query parameter. */
function hostileString(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.constantFrom(
      '\u0017',
      '\u0000',
      '\n',
      ' ',
      '%',
      '..x',
      '../etc/passwd',
      '..%2F..',
      'a/b',
      'a\\b',
      '-a',
      'a-',
      'A',
      '0',
      '1e3',
      '𝓣𝓱𝓮 𝓺𝓾𝓲𝓬𝓴',
      'ümlaut',
      'a'.repeat(64),
      'a'.repeat(254),
      'x'.repeat(5000),
      '99999999999999999999',
      '-1',
      '3.8e16',
      'null',
    ),
    fc.stringMatching(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/),
  );
}

/** A path segment: usually percent-encoded, sometimes a raw (possibly malformed) escape. */
function segment(value: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 9, arbitrary: value.map(encodeSegment) },
    { weight: 1, arbitrary: fc.constantFrom('%', '%E0%A4%A', '%ZZ', '%00', '%C0%AE') },
  );
}

function encodeSegment(value: string): string {
  // `.` and `..` are resolved by any URL parser before they reach a route: send them escaped twice.
  if (value === '.' || value === '..' || value === '') return encodeURIComponent(`${value}x`);
  return encodeURIComponent(value);
}

const hugeInteger = fc.oneof(
  fc.constantFrom(2 ** 31, 2 ** 31 - 1, 2 ** 53, 3.8e16, 1e308, -(2 ** 31), 0, -1),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(Number),
  fc.double(),
);

function resolve(doc: Json, schema: Json): Json {
  let s = schema;
  for (let i = 0; s?.$ref && i < 10; i++)
    s = s.$ref
      .split('/')
      .slice(1)
      .reduce((o: Json, k: string) => o?.[k], doc);
  return s ?? {};
}

/** A value shaped like the schema (types, enums, bounds, required fields), with hostile leaves. */
function fromSchema(doc: Json, schema: Json, depth = 0): fc.Arbitrary<Json> {
  const s = resolve(doc, schema);
  if (depth > 6) return fc.constant(undefined);
  const alternatives = s.oneOf ?? s.anyOf;
  if (alternatives) return fc.oneof(...alternatives.map((a: Json) => fromSchema(doc, a, depth + 1)));
  if (s.allOf) return fromSchema(doc, Object.assign({}, ...s.allOf.map((a: Json) => resolve(doc, a))), depth);
  if (s.enum) return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...s.enum) }, hostileString());
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return s.format === 'int-or-string' || s['x-kubernetes-int-or-string']
        ? fc.oneof(hostileString(), fc.integer())
        : hostileString();
    case 'integer':
    case 'number':
      return fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: s.minimum ?? 0, max: s.maximum ?? 100 }) },
        { weight: 1, arbitrary: hugeInteger },
      );
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(fromSchema(doc, s.items ?? {}, depth + 1), { maxLength: 3 });
    case 'object': {
      const props: Record<string, Json> = s.properties ?? {};
      const required = new Set<string>(s.required ?? []);
      if (Object.keys(props).length === 0)
        return fc.dictionary(
          hostileString(),
          s.additionalProperties ? fromSchema(doc, s.additionalProperties, depth + 1) : fc.jsonValue(),
          { maxKeys: 3 },
        );
      const shape: Record<string, fc.Arbitrary<Json>> = {};
      for (const [key, value] of Object.entries(props)) shape[key] = fromSchema(doc, value, depth + 1);
      return fc.record(shape, {
        requiredKeys: Object.keys(props).filter((k) => required.has(k) || depth < 2),
      });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A valid example with one leaf replaced: the most likely way past the first check. */
function mutated(example: Json): fc.Arbitrary<Json> {
  const leaves: string[][] = [];
  const walk = (v: Json, at: string[]): void => {
    if (v && typeof v === 'object') {
      leaves.push(at);
      for (const [k, c] of Object.entries(v)) walk(c, [...at, k]);
    } else leaves.push(at);
  };
  walk(example, []);
  return fc
    .tuple(fc.constantFrom(...leaves), fc.oneof(hostileString(), hugeInteger, fc.jsonValue({ maxDepth: 2 })))
    .map(([at, value]) => {
      if (at.length === 0) return value;
      const copy = structuredClone(example);
      let o = copy;
      for (const k of at.slice(0, -1)) o = o[k];
      o[at[at.length - 1]] = value;
      return copy;
    });
}

function requestFor(op: Operation, env: FuzzEnv, doc: Json): fc.Arbitrary<FuzzRequest> {
  const pathArbs: Record<string, fc.Arbitrary<string>> = {};
  const queryArbs: Record<string, fc.Arbitrary<string>> = {};
  for (const p of op.parameters) {
    if (p.in === 'path') {
      const known =
        p.name === 'ns'
          ? fc.constantFrom(env.namespace, env.namespace, `missing-${env.run}`)
          : p.name === 'name'
            ? fc.constantFrom(env.existing, `web-${env.run}`, 'a')
            : fc.oneof(fc.integer({ min: 1, max: 3 }).map(String), hugeInteger.map(String));
      pathArbs[p.name] = fc.oneof(
        { weight: 3, arbitrary: known.map(encodeSegment) },
        segment(hostileString()),
      );
    } else if (p.in === 'query') {
      queryArbs[p.name] = fc.oneof(
        fromSchema(doc, p.schema ?? {}).map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))),
        hostileString(),
      );
    }
  }
  const path = fc
    .record(pathArbs)
    .map((values) => op.path.replace(/\{(\w+)\}/g, (_m, name: string) => values[name] ?? 'x'));
  const query = fc
    .tuple(
      fc.record(queryArbs, { requiredKeys: [] }),
      fc.option(fc.tuple(hostileString(), hostileString()), { freq: 8 }),
    )
    .map(([values, extra]) => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(values)) if (v !== undefined) q.append(k, v);
      if (extra) q.append(extra[0], extra[1]);
      const text = q.toString();
      return text ? `?${text}` : '';
    });
  const headers = fc.record(
    {
      'if-match': fc.oneof(fc.constant('"1"'), fc.string({ unit: 'grapheme-ascii', maxLength: 20 })),
      // Mostly the caller's own (none, or the real token); sometimes one the cluster does not know.
      authorization: fc.oneof(
        { weight: 6, arbitrary: fc.constant('') },
        { weight: 1, arbitrary: fc.constantFrom('Bearer not-a-token', 'Basic YTpi') },
      ),
    },
    { requiredKeys: ['authorization'] },
  );
  const body: fc.Arbitrary<{ body?: Json; raw?: string }> = op.body
    ? fc.oneof(
        { weight: 4, arbitrary: fromSchema(doc, op.body.schema).map((b) => ({ body: b })) },
        ...(op.body.examples.length
          ? [
              {
                weight: 4,
                arbitrary: fc
                  .constantFrom(...op.body.examples)
                  .chain(mutated)
                  .map((b) => ({ body: b })),
              },
            ]
          : []),
        { weight: 2, arbitrary: fc.jsonValue().map((b) => ({ body: b })) },
        {
          weight: 1,
          arbitrary: fc.constantFrom('{', '{"a":1}x', '\u0000', '[]', 'null').map((raw) => ({ raw })),
        },
      )
    : fc.constant({});
  return fc.record({ path, query, headers, body }).map((r) => ({
    op,
    path: r.path,
    query: r.query,
    headers: Object.fromEntries(Object.entries(r.headers).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >,
    ...r.body,
  }));
}

// ---- the property -------------------------------------------------------------------------------

interface FuzzEnv {
  run: string;
  namespace: string;
  existing: string;
  token?: string;
}

async function fuzz(api: TestApi, env: FuzzEnv): Promise<void> {
  const doc = (await api.request<Json>('GET', '/docs-json')).body;
  const ops = operationsOf(doc);
  expect(ops.length).toBeGreaterThan(5);
  const db = new Client({ connectionString: api.db.url });
  await db.connect();
  const rows = async (): Promise<number> =>
    Number((await db.query('SELECT count(*) AS n FROM "Capp"')).rows[0].n);
  try {
    const request = fc.constantFrom(...ops).chain((op) => requestFor(op, env, doc));
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers = { ...r.headers };
        if (env.token && !headers['authorization']) headers['authorization'] = `Bearer ${env.token}`;
        if (!headers['authorization']) delete headers['authorization'];
        const before = await rows();
        if (r.raw !== undefined) headers['content-type'] = 'application/json';
        const res = await api.request<Json>(r.op.method, `${r.path}${r.query}`, {
          headers,
          body: r.body,
          raw: r.raw,
        });
        const what = `${r.op.method} ${r.op.path} answered ${res.status}: ${JSON.stringify(res.body)?.slice(0, 500)}`;
        // A HealthScope's /health answers 503 for "not healthy": a documented verdict, not a server error.
        const verdict = res.status === 503 && r.op.path.endsWith('/health');
        expect({ what, serverError: res.status >= 500 && !verdict }).toEqual({ what, serverError: false });
        expect({ what, documented: r.op.statuses.has(res.status) }).toEqual({ what, documented: true });
        if (res.status >= 400) {
          const after = await rows();
          expect({ what, stored: after > before }).toEqual({ what, stored: false });
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true, interruptAfterTimeLimit: 60_000 },
    );
  } finally {
    await db.end();
  }
}

describe('the API under generated hostile requests (fast-check, from its OpenAPI document)', () => {
  const run = suffix();

  it('with AUTH_MODE=none: no 5xx, only documented statuses, nothing stored on a 4xx', async () => {
    const api = await startTestApi({ SYNC_WAIT_MS: '200' });
    try {
      const namespace = `fuzz-none-${run}`;
      await createNamespace(namespace);
      const existing = 'web';
      expect(
        (await api.request('POST', `/api/v1/namespaces/${namespace}/capps`, { body: cappBody(existing) }))
          .status,
      ).toBeLessThan(300);
      await fuzz(api, { run, namespace, existing });
    } finally {
      await api.close();
    }
  }, 180_000);

  it('with AUTH_MODE=kubernetes and a ServiceAccount token allowed to manage Capps: the same', async () => {
    const api = await startTestApi({ AUTH_MODE: 'kubernetes', SYNC_WAIT_MS: '200' });
    try {
      const namespace = `fuzz-kube-${run}`;
      await createNamespace(namespace);
      await clusterClient().rest.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, {
        body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'fuzzer' } },
      });
      await grant(namespace, { kind: 'ServiceAccount', name: 'fuzzer', namespace }, [
        'get',
        'list',
        'watch',
        'create',
        'update',
        'patch',
        'delete',
      ]);
      const token = await cluster().mintServiceAccountToken(namespace, 'fuzzer');
      const existing = 'web';
      const created = await api.request('POST', `/api/v1/namespaces/${namespace}/capps`, {
        token,
        body: cappBody(existing),
      });
      expect(created.status).toBeLessThan(300);
      await fuzz(api, { run, namespace, existing, token });
    } finally {
      await api.close();
    }
  }, 180_000);
});
