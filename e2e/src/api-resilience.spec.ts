import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { CAPP_SYNC_QUEUE } from '@capp/capp-model';
import { KubeRest, type KubeTarget } from '@capp/kube';
import {
  type ControlPlane,
  createMigratedDatabase,
  freePort,
  type MigratedDatabase,
  type Postgres,
  readCrdDir,
  REPO_ROOT,
  startControlPlane,
  startPostgres,
  testEnvironment,
  waitFor,
} from '@capp/testing';
import { Redis } from 'ioredis';

import { ApiProcess } from './api-process';
import { apiserverProcess, stopApiserver } from './kube-apiserver';

/**
 * The API as a real process when its dependencies fail: the kube-apiserver, its own crash between
 * commit and delivery, PostgreSQL. Writes are committed first and delivered by the sync queue.
 */
const env = testEnvironment();
const id = randomBytes(3).toString('hex');
const ns = `e2e-api-${id}`;
const REDIS_URL = process.env['REDIS_URL'] ?? env.redisUrl ?? '';
const cleanups: Array<() => Promise<unknown>> = [];
const prefixes: string[] = [];

interface CappView {
  metadata: { name: string; namespace: string };
  spec: { configurationSpec: { template: { spec: { containers: Array<{ image: string }> } } } };
  sync: { state: 'Pending' | 'Synced' | 'Failed'; error?: string; attempts: number; appliedVersion?: number };
}

interface ErrorEnvelope {
  statusCode: number;
  error: string;
  message: string;
  details: unknown[];
}

interface Readiness {
  status: string;
  details: Record<string, { status: string; message?: string }>;
}

function cappBody(name: string, image = 'ghcr.io/acme/app:1'): Record<string, unknown> {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name },
    spec: { configurationSpec: { template: { spec: { containers: [{ name: 'app', image }] } } } },
  };
}

const cappsUrl = (namespace: string, name = ''): string =>
  `/api/v1/namespaces/${namespace}/capps${name ? `/${name}` : ''}`;

async function clusterCapp(
  target: KubeTarget,
  namespace: string,
  name: string,
): Promise<CappView | undefined> {
  const res = await KubeRest.fromTarget(target).raw<CappView>(
    'GET',
    `/apis/rcs.dana.io/v1alpha1/namespaces/${namespace}/capps/${name}`,
  );
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET capp ${namespace}/${name}: HTTP ${res.status}`);
  return res.body;
}

/** Polls until the probe holds; these waits include restarts, hence the longer default. */
const eventually = <T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> => waitFor(what, probe, timeoutMs);

/** The Redis key prefix (`QUEUE_PREFIX`) of the API installation called `name`. */
const queuePrefix = (name: string): string => `e2e-${id}-${name}`;

/** An API process; the same `name` again is the same installation restarted (same queue). */
function api(name: string, vars: Record<string, string>): ApiProcess {
  const prefix = queuePrefix(name);
  if (!prefixes.includes(prefix)) prefixes.push(prefix);
  const p = new ApiProcess(name, {
    REDIS_URL,
    KUBECONFIG: env.kubeconfigPath ?? '',
    WATCH_CLUSTER: 'false',
    QUEUE_PREFIX: prefix,
    SYNC_WAIT_MS: '2000',
    // An hour: only the sweep at start-up runs during a test.
    SWEEP_SECONDS: '3600',
    ...vars,
  });
  cleanups.push(() => p.kill('SIGKILL'));
  return p;
}

async function migratedDatabase(serverUrl?: string): Promise<MigratedDatabase> {
  const db = await createMigratedDatabase(serverUrl);
  cleanups.push(() => db.drop());
  return db;
}

/** A private control plane with the Capp CRD and the test's namespace (for tests that stop it). */
async function privateControlPlane(): Promise<ControlPlane> {
  const cp = await startControlPlane({
    crds: readCrdDir(join(REPO_ROOT, 'charts', 'capp-platform', 'crds')),
    controllers: ['serviceaccount-controller'],
  });
  cleanups.push(() => cp.stop());
  await KubeRest.fromTarget(cp.target).request('POST', '/api/v1/namespaces', {
    body: { metadata: { name: ns } },
  });
  return cp;
}

function expectUnavailableEnvelope(res: { status: number; body: unknown }): void {
  expect(res.status).toBe(503);
  expect(res.body).toEqual({
    statusCode: 503,
    error: 'Service Unavailable',
    message: expect.stringMatching(/database is unavailable/) as unknown,
    details: [],
  });
}

/** The private PostgreSQL of the outage test, started (and migrated) while the first tests run. */
let privatePostgres: Promise<{ pg: Postgres; db: MigratedDatabase }>;

beforeAll(async () => {
  privatePostgres = startPostgres({ url: null }).then(async (pg) => {
    cleanups.push(() => pg.stop());
    return { pg, db: await migratedDatabase(pg.databaseUrl) };
  });
  privatePostgres.catch(() => undefined); // awaited (and reported) by its test
  await KubeRest.fromTarget(env.target).request('POST', '/api/v1/namespaces', {
    body: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
    },
  });
});

afterAll(async () => {
  await privatePostgres.catch(() => undefined);
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await KubeRest.fromTarget(env.target).raw('DELETE', `/api/v1/namespaces/${ns}`);
  // The queues' keys in the shared Redis.
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
});

describe('the API process when its dependencies fail', () => {
  it('accepts a write while the kube-apiserver is down and applies it once the apiserver is back', async () => {
    const [cp, db] = await Promise.all([privateControlPlane(), migratedDatabase()]);
    const vars = {
      DATABASE_URL: db.url,
      KUBECONFIG: cp.kubeconfigPath,
      WATCH_CLUSTER: 'true',
      SYNC_WAIT_MS: '1000',
    };
    const first = api('apiserver', vars);
    await first.start();

    // With the cluster there, a write is applied before the answer.
    const before = await first.request<CappView>('POST', cappsUrl(ns), cappBody('before'));
    expect(before.status).toBe(201);
    expect(before.body.sync.state).toBe('Synced');

    const apiserver = await stopApiserver(cp, (stop) => cleanups.push(stop));
    // The API (re)starts without the cluster, and its watcher's failed list is no evidence that the
    // Capps it applied are gone: they stay Synced.
    await first.kill('SIGTERM');
    const p = api('apiserver', vars);
    await p.start();
    await p.until(
      'the watcher to fail twice',
      async () => p.events().filter((e) => e['msg'] === 'capp watch failed; retrying').length >= 2,
    );
    const kept = await p.request<CappView>('GET', cappsUrl(ns, 'before'));
    expect(kept.body.sync).toEqual({ state: 'Synced', attempts: 0, appliedVersion: 1 });

    const accepted = await p.request<CappView>(
      'POST',
      cappsUrl(ns),
      cappBody('during', 'ghcr.io/acme/app:2'),
    );
    expect(accepted.status).toBe(202);
    expect(accepted.body.sync.state).toBe('Pending');
    const stored = await p.request<CappView>('GET', cappsUrl(ns, 'during'));
    expect(stored.status).toBe(200);
    expect(stored.body.sync.state).toBe('Pending');
    expect(stored.body.spec.configurationSpec.template.spec.containers[0]?.image).toBe('ghcr.io/acme/app:2');
    const ready = await p.request<Readiness>('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.details['cluster']?.status).toBe('down');
    expect(ready.body.details['database']?.status).toBe('up');

    await apiserver.start();
    const applied = await eventually('the Capp in the cluster', () => clusterCapp(cp.target, ns, 'during'));
    expect(applied.spec.configurationSpec.template.spec.containers[0]?.image).toBe('ghcr.io/acme/app:2');
    const synced = await eventually('sync Synced', async () => {
      const res = await p.request<CappView>('GET', cappsUrl(ns, 'during'));
      return res.body.sync.state === 'Synced' && res.body;
    });
    expect(synced.sync.appliedVersion).toBe(1);
    expect((await p.request<CappView>('GET', cappsUrl(ns, 'before'))).body.sync.state).toBe('Synced');
    expect(p.running()).toBe(true);
    expect((await p.request('GET', '/readyz')).status).toBe(200);
  });

  it('redelivers within seconds an apply whose process died waiting for the kube-apiserver', async () => {
    const [cp, db] = await Promise.all([privateControlPlane(), migratedDatabase()]);
    const vars = {
      DATABASE_URL: db.url,
      KUBECONFIG: cp.kubeconfigPath,
      SYNC_WAIT_MS: '500',
      ADMISSION_TIMEOUT_MS: '500',
    };
    const first = api('mid-apply', vars);
    await first.start();
    const apiserver = apiserverProcess(cp);
    // BullMQ's list of the jobs a worker has taken, in the API's `capp-sync` queue.
    const active = `${queuePrefix('mid-apply')}:${CAPP_SYNC_QUEUE}:active`;
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    cleanups.push(async () => {
      redis.disconnect();
      process.kill(apiserver.pid, 'SIGCONT'); // before the control plane's stop, if the test failed frozen
    });

    // A frozen kube-apiserver accepts connections and never answers: the apply hangs in flight.
    process.kill(apiserver.pid, 'SIGSTOP');
    const accepted = await first.request<CappView>('POST', cappsUrl(ns), cappBody('frozen'));
    expect(accepted.status).toBe(202);
    await eventually('the apply job taken by the worker', async () => (await redis.llen(active)) === 1);
    await first.kill('SIGKILL');
    const killedAt = Date.now();
    process.kill(apiserver.pid, 'SIGCONT');

    // The dead worker's lock runs out; the new process's stall check puts the job back.
    const second = api('mid-apply', vars);
    await second.start();
    await eventually(
      'sync Synced',
      async () =>
        (await second.request<CappView>('GET', cappsUrl(ns, 'frozen'))).body.sync.state === 'Synced',
    );
    const deliveredMs = Date.now() - killedAt;
    expect(await clusterCapp(cp.target, ns, 'frozen')).toBeDefined();
    // Lock (10 s) + stall check (5 s) + start and apply; BullMQ's defaults took 30–60 s.
    expect(deliveredMs).toBeLessThan(25_000);
  });

  it('delivers a write committed by a process killed before it could enqueue it, after a restart', async () => {
    const db = await migratedDatabase();
    // Redis unreachable: the row commits, the enqueue fails, the answer is 202 Pending.
    const first = api('crash-a', {
      DATABASE_URL: db.url,
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    });
    await first.start();
    const accepted = await first.request<CappView>('POST', cappsUrl(ns), cappBody('orphan'));
    expect(accepted.status).toBe(202);
    expect(accepted.body.sync.state).toBe('Pending');
    // Its log line may reach the pipe a moment after the answer.
    await first.until('the failed enqueue logged', async () =>
      first.events().some((e) => e['msg'] === 'could not enqueue the cluster sync; the sweep will retry'),
    );
    await first.kill('SIGKILL');
    expect(first.signal).toBe('SIGKILL');
    expect(await clusterCapp(env.target, ns, 'orphan')).toBeUndefined();

    // The periodic sweep is an hour away: only the sweep at start-up can deliver it.
    const second = api('crash-b', { DATABASE_URL: db.url });
    await second.start();
    await eventually('the Capp in the cluster', () => clusterCapp(env.target, ns, 'orphan'));
    const synced = await eventually('sync Synced', async () => {
      const res = await second.request<CappView>('GET', cappsUrl(ns, 'orphan'));
      return res.body.sync.state === 'Synced' && res.body;
    });
    expect(synced.sync.appliedVersion).toBe(1);
    expect(second.events().some((e) => e['msg'] === 'sync sweep' && e['pending'] === 1)).toBe(true);
  });

  it('answers 503 while PostgreSQL is down and recovers without a restart once it is back', async () => {
    const { pg, db } = await privatePostgres;
    const p = api('postgres', { DATABASE_URL: db.url });
    await p.start();
    expect((await p.request('POST', cappsUrl(ns), cappBody('pg-before'))).status).toBe(201);

    await pg.restart(async () => {
      expectUnavailableEnvelope(await p.request<ErrorEnvelope>('GET', cappsUrl(ns, 'pg-before')));
      expectUnavailableEnvelope(await p.request<ErrorEnvelope>('POST', cappsUrl(ns), cappBody('pg-during')));
      expectUnavailableEnvelope(await p.request<ErrorEnvelope>('GET', cappsUrl(ns)));
      const ready = await p.request<Readiness>('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.details['database']?.status).toBe('down');
      expect(ready.body.details['redis']?.status).toBe('up');
      expect(p.running()).toBe(true);
    });

    // The same process: its connection pool reconnects on its own.
    await eventually(
      'reads again',
      async () => (await p.request('GET', cappsUrl(ns, 'pg-before'))).status === 200,
    );
    const after = await p.request<CappView>('POST', cappsUrl(ns), cappBody('pg-after'));
    expect(after.status).toBe(201);
    expect(after.body.sync.state).toBe('Synced');
    const list = await p.request<{ items: CappView[] }>('GET', cappsUrl(ns));
    expect(list.status).toBe(200);
    expect(list.body.items.map((c) => c.metadata.name).sort()).toEqual(['pg-after', 'pg-before']);
    expect((await p.request('GET', '/readyz')).status).toBe(200);
    expect(p.running()).toBe(true);
  });
});
