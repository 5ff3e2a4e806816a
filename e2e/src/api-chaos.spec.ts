import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { KubeRest } from '@capp/kube';
import {
  type ControlPlane,
  createMigratedDatabase,
  type MigratedDatabase,
  type Postgres,
  readCrdDir,
  type Redis,
  REPO_ROOT,
  startControlPlane,
  startPostgres,
  startRedis,
  waitFor,
} from '@capp/testing';

import { type ApiAnswer, ApiProcess } from './api-process';
import { stopApiserver } from './kube-apiserver';

/**
 * Chaos: 200 Capps written through the API by a few concurrent clients while, one after another,
 * the API process is killed -9 (and a new one started), PostgreSQL restarts, Redis restarts (empty:
 * it persists nothing, the queue is lost) and the kube-apiserver restarts. Everything is private to
 * this file. Clients retry on connection errors and 503 as a real client would; a write whose answer
 * was lost is not acknowledged. Afterwards every acknowledged write must be in the database and in
 * the cluster, once, and nothing may stay Pending.
 */
const id = randomBytes(3).toString('hex');
const ns = `e2e-chaos-${id}`;
const CAPPS = 200;
const CLIENTS = 4;
/** Every UPDATE_EVERY-th Capp is replaced once after its create. */
const UPDATE_EVERY = 4;
const WRITES = CAPPS + Math.ceil(CAPPS / UPDATE_EVERY);
const cleanups: Array<() => Promise<unknown>> = [];

interface Spec {
  configurationSpec: { template: { spec: { containers: Array<{ name: string; image: string }> } } };
}

interface CappView {
  metadata: { name: string; resourceVersion: string };
  spec: Spec;
  sync: { state: 'Pending' | 'Synced' | 'Failed'; error?: string; appliedVersion?: number };
}

interface Revision {
  number: number;
  source: string;
  spec: Spec;
}

const spec = (image: string): Spec => ({
  configurationSpec: { template: { spec: { containers: [{ name: 'app', image }] } } },
});
const cappsUrl = (name = ''): string => `/api/v1/namespaces/${ns}/capps${name ? `/${name}` : ''}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let cp: ControlPlane;
let pg: Postgres;
let redis: Redis;
let db: MigratedDatabase;
/** The API process clients talk to: replaced when it is killed. */
let api: ApiProcess;
let generation = 0;

function newApi(): ApiProcess {
  const p = new ApiProcess(`chaos-${id}-${generation++}`, {
    DATABASE_URL: db.url,
    REDIS_URL: redis.redisUrl,
    KUBECONFIG: cp.kubeconfigPath,
    WATCH_CLUSTER: 'true',
    QUEUE_PREFIX: `chaos-${id}`,
    SYNC_WAIT_MS: '1000',
    // The sweep re-enqueues what the lost queue (Redis restarted empty) held.
    SWEEP_SECONDS: '2',
  });
  cleanups.push(() => p.kill('SIGKILL'));
  return p;
}

beforeAll(async () => {
  const [plane, postgres, red] = await Promise.all([
    startControlPlane({
      crds: readCrdDir(join(REPO_ROOT, 'charts', 'capp-platform', 'crds')),
      controllers: ['serviceaccount-controller'],
    }),
    startPostgres({ url: null }),
    startRedis({ url: null }),
  ]);
  [cp, pg, redis] = [plane, postgres, red];
  cleanups.push(
    () => cp.stop(),
    () => pg.stop(),
    () => redis.stop(),
  );
  db = await createMigratedDatabase(pg.databaseUrl);
  await KubeRest.fromTarget(cp.target).request('POST', '/api/v1/namespaces', {
    body: { metadata: { name: ns } },
  });
  api = newApi();
  await api.start();
}, 120_000);

afterAll(async () => {
  // Newest first: API processes, the restarted apiserver, then Redis, PostgreSQL, the control plane.
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

/** What the clients were told. */
interface Outcome {
  /** Acknowledged writes (200/201/202), in order, with the answer's content. */
  acked: Array<{ status: number; spec: Spec; version: number }>;
  /** Writes sent (each possibly several times): an upper bound for its api revisions. */
  sent: number;
}

const outcomes = new Map<string, Outcome>();
let ackedWrites = 0;
const unexpected: string[] = [];

/**
 * One write as a real client makes it: retried on connection errors, timeouts and 503 until it
 * gets an answer. A retried create may find its first attempt committed (409): not acknowledged.
 */
async function write(method: string, path: string, body: unknown): Promise<ApiAnswer<CappView>> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    // Killed by the test is a signal; an exit code means it died by itself.
    if (api.exitCode !== null) throw new Error(`${api.name} exited by itself (code ${api.exitCode})`);
    try {
      const res = await api.request<CappView>(method, path, body);
      if (res.status !== 503) return res;
    } catch {
      // connection refused or reset, or no answer in time: the answer is lost
    }
    if (Date.now() > deadline) throw new Error(`${method} ${path}: no answer in 90 s`);
    await sleep(200);
  }
}

async function client(next: () => number | undefined): Promise<void> {
  for (let i = next(); i !== undefined; i = next()) {
    const name = `chaos-${i}`;
    const outcome: Outcome = { acked: [], sent: 0 };
    outcomes.set(name, outcome);
    const writes: Array<[string, string, string]> = [['POST', cappsUrl(), `ghcr.io/acme/app:create-${i}`]];
    if (i % UPDATE_EVERY === 0) writes.push(['PUT', cappsUrl(name), `ghcr.io/acme/app:update-${i}`]);
    for (const [method, path, image] of writes) {
      outcome.sent++;
      const res = await write(method, path, {
        apiVersion: 'rcs.dana.io/v1alpha1',
        kind: 'Capp',
        metadata: { name },
        spec: spec(image),
      });
      if ([200, 201, 202].includes(res.status)) {
        outcome.acked.push({
          status: res.status,
          spec: res.body.spec,
          version: Number(res.body.metadata.resourceVersion),
        });
        ackedWrites++;
      } else if (!(method === 'POST' && res.status === 409)) {
        unexpected.push(`${method} ${name}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
  }
}

/** Waits until `count` writes are acknowledged: each fault strikes while writes are under way. */
const afterAcked = (count: number): Promise<unknown> =>
  waitFor(`${count} acknowledged writes`, async () => ackedWrites >= count, 120_000);

async function chaos(): Promise<string[]> {
  const done: string[] = [];
  await afterAcked(WRITES * 0.1);
  await api.kill('SIGKILL');
  api = newApi();
  await api.start();
  done.push('API killed -9 and restarted');

  await afterAcked(WRITES * 0.3);
  await pg.restart(() => sleep(1500));
  done.push('PostgreSQL restarted');

  await afterAcked(WRITES * 0.5);
  await redis.restart(() => sleep(1000));
  done.push('Redis restarted (empty)');

  await afterAcked(WRITES * 0.7);
  const apiserver = await stopApiserver(cp, (stop) => cleanups.push(stop));
  await sleep(2000);
  await apiserver.start();
  done.push('kube-apiserver restarted');
  return done;
}

async function inBatches<T, R>(items: T[], fn: (item: T) => Promise<R>, size = 20): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

const clusterCapps = async (): Promise<Array<{ metadata: { name: string }; spec: Spec }>> => {
  const res = await KubeRest.fromTarget(cp.target).raw<{
    items: Array<{ metadata: { name: string }; spec: Spec }>;
  }>('GET', `/apis/rcs.dana.io/v1alpha1/namespaces/${ns}/capps`);
  if (res.status !== 200) throw new Error(`list capps: HTTP ${res.status}`);
  return res.body.items;
};

describe('the API under chaos', () => {
  it('keeps every acknowledged write, once, through kill -9, PostgreSQL, Redis and kube-apiserver restarts', async () => {
    let index = 0;
    const next = (): number | undefined => (index < CAPPS ? index++ : undefined);
    const [faults] = await Promise.all([chaos(), ...Array.from({ length: CLIENTS }, () => client(next))]);
    expect(faults).toHaveLength(4);
    expect(api.running()).toBe(true);
    expect(unexpected).toEqual([]);
    const names = [...outcomes.keys()];
    expect(names).toHaveLength(CAPPS);

    // Converged: every row Synced, every Capp in the cluster with its last acknowledged spec.
    const calm = Date.now();
    const last = (name: string): Spec | undefined => outcomes.get(name)?.acked.at(-1)?.spec;
    await waitFor(
      'every Capp Synced and in the cluster',
      async () => {
        const rows = await inBatches(names, (n) => api.request<CappView>('GET', cappsUrl(n)));
        if (!rows.every((r) => r.status === 200 && r.body.sync.state === 'Synced')) return false;
        const cluster = new Map((await clusterCapps()).map((c) => [c.metadata.name, c.spec]));
        return names.every((n) => {
          const want = last(n);
          const have = cluster.get(n);
          return have !== undefined && (want === undefined || isSubset(want, have));
        });
      },
      90_000,
    );
    const convergedMs = Date.now() - calm;
    console.log(
      `api-chaos: ${CAPPS} Capps, ${ackedWrites} acknowledged writes of ${WRITES}; converged ${convergedMs} ms after the last fault (${faults.join(', ')})`,
    );

    // The database: each Capp's row has its last acknowledged spec, nothing Pending or Failed.
    const rows = await inBatches(names, (n) => api.request<CappView>('GET', cappsUrl(n)));
    for (const [i, row] of rows.entries()) {
      const name = names[i] as string;
      expect({ name, status: row.status, state: row.body.sync.state }).toEqual({
        name,
        status: 200,
        state: 'Synced',
      });
      const want = outcomes.get(name)?.acked.at(-1);
      if (want) {
        expect(row.body.spec).toEqual(want.spec);
        expect(Number(row.body.metadata.resourceVersion)).toBeGreaterThanOrEqual(want.version);
        // The cluster has the row's version, not an older one.
        expect(row.body.sync.appliedVersion).toBe(Number(row.body.metadata.resourceVersion));
      }
    }
    // The cluster: one CR per Capp, none extra, each with its last acknowledged spec.
    const cluster = await clusterCapps();
    expect(cluster.map((c) => c.metadata.name).sort()).toEqual([...names].sort());
    for (const c of cluster) {
      const want = last(c.metadata.name);
      if (want) expect(c.spec).toMatchObject(want);
    }
    // The history: an api revision per write at most, never two for one write, each acknowledged
    // write's content among them, and no cluster revision (the cluster only ever had our writes).
    const histories = await inBatches(names, (n) =>
      api.request<{ items: Revision[] }>('GET', `${cappsUrl(n)}/revisions`),
    );
    for (const [i, h] of histories.entries()) {
      const name = names[i] as string;
      const outcome = outcomes.get(name) as Outcome;
      const items = h.body.items;
      expect({ name, sources: items.map((r) => r.source) }).toEqual({
        name,
        sources: items.map(() => 'api'),
      });
      expect(items.length).toBeLessThanOrEqual(outcome.sent);
      expect(items.length).toBeGreaterThanOrEqual(outcome.acked.length);
      const specs = items.map((r) => JSON.stringify(r.spec));
      expect(new Set(specs).size).toBe(specs.length);
      for (const a of outcome.acked) expect(items.some((r) => isSubset(a.spec, r.spec))).toBe(true);
    }
  }, 170_000);
});

/** True when every field of `want` is in `have` with the same value (`have` may hold defaults). */
function isSubset(want: unknown, have: unknown): boolean {
  if (Array.isArray(want))
    return Array.isArray(have) && want.length === have.length && want.every((w, i) => isSubset(w, have[i]));
  if (typeof want === 'object' && want !== null)
    return (
      typeof have === 'object' &&
      have !== null &&
      Object.entries(want).every(([k, v]) => isSubset(v, (have as Record<string, unknown>)[k]))
    );
  return want === have;
}
