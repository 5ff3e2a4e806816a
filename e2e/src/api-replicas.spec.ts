import { randomBytes } from 'node:crypto';

import { KubeRest } from '@capp/kube';
import { createMigratedDatabase, type MigratedDatabase, testEnvironment, waitFor } from '@capp/testing';
import { Redis } from 'ioredis';

import { ApiProcess } from './api-process';

/**
 * Two API replicas on one database and one Redis, as the chart's `replicas: 2` deploys them: both
 * watch the cluster, both run the sync worker and the sweep. Each change must be written once.
 */
const env = testEnvironment();
const id = randomBytes(3).toString('hex');
const ns = `e2e-replicas-${id}`;
const REDIS_URL = process.env['REDIS_URL'] ?? env.redisUrl ?? '';
const PREFIX = `e2e-${id}-replicas`;
const rest = KubeRest.fromTarget(env.target);

interface CappView {
  sync: { state: string; appliedVersion?: number };
}

interface Revision {
  number: number;
  source: string;
  createdBy: string;
}

function cappBody(name: string): Record<string, unknown> {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name },
    spec: {
      configurationSpec: {
        template: { spec: { containers: [{ name: 'app', image: 'ghcr.io/acme/app:1' }] } },
      },
    },
  };
}

const cappsUrl = (name = ''): string => `/api/v1/namespaces/${ns}/capps${name ? `/${name}` : ''}`;

let db: MigratedDatabase;
let replicas: ApiProcess[] = [];

/** Log lines of both replicas with this message about this Capp. */
const logged = (msg: string, name: string): number =>
  replicas.flatMap((r) => r.events()).filter((e) => e['msg'] === msg && e['name'] === name).length;

const revisions = async (name: string): Promise<Revision[]> =>
  (await replicas[0].request<{ items: Revision[] }>('GET', `${cappsUrl(name)}/revisions`)).body.items;

/** Long enough for both replicas' watchers and a few sweeps (`SWEEP_SECONDS=1`) to have run. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 4000));

beforeAll(async () => {
  db = await createMigratedDatabase();
  await rest.request('POST', '/api/v1/namespaces', { body: { metadata: { name: ns } } });
  const vars = {
    DATABASE_URL: db.url,
    REDIS_URL,
    KUBECONFIG: env.kubeconfigPath ?? '',
    WATCH_CLUSTER: 'true',
    // One installation: the same queue for both.
    QUEUE_PREFIX: PREFIX,
    SYNC_WAIT_MS: '5000',
    ADMISSION_TIMEOUT_MS: '20000',
    SWEEP_SECONDS: '1',
  };
  replicas = [new ApiProcess('replica-a', vars), new ApiProcess('replica-b', vars)];
  await Promise.all(replicas.map((r) => r.start()));
});

afterAll(async () => {
  for (const r of replicas) await r.kill('SIGKILL').catch(() => undefined);
  await db?.drop().catch(() => undefined);
  await rest.raw('DELETE', `/api/v1/namespaces/${ns}`);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    const keys = await redis.keys(`${PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
});

describe('two API replicas on one database and Redis', () => {
  it('apply a create through either replica once: one api revision, one sync', async () => {
    for (const [i, r] of replicas.entries()) {
      const created = await r.request<CappView>('POST', cappsUrl(), cappBody(`via-${i}`));
      expect(created.status).toBe(201);
      expect(created.body.sync).toMatchObject({ state: 'Synced', appliedVersion: 1 });
    }
    await settle();
    for (const name of ['via-0', 'via-1']) {
      expect(await revisions(name)).toEqual([expect.objectContaining({ number: 1, source: 'api' })]);
      expect(logged('capp applied to the cluster', name)).toBe(1);
    }
  });

  it('record a kubectl edit as exactly one cluster revision, though both watchers see it', async () => {
    await replicas[0].request('POST', cappsUrl(), cappBody('edited'));
    await rest.request('PATCH', `/apis/rcs.dana.io/v1alpha1/namespaces/${ns}/capps/edited`, {
      query: { fieldManager: 'kubectl-edit' },
      body: { spec: { scaleMetric: 'rps' } },
      contentType: 'application/merge-patch+json',
    });
    await waitFor('a cluster revision', async () => (await revisions('edited')).length >= 2, 30_000);
    await settle();
    expect(await revisions('edited')).toEqual([
      expect.objectContaining({ number: 1, source: 'api' }),
      expect.objectContaining({ number: 2, source: 'cluster', createdBy: 'cluster:kubectl-edit' }),
    ]);
    expect(logged('capp changed in the cluster; revision recorded', 'edited')).toBe(1);
    // The edit was the cluster's: nothing applied it back.
    expect(logged('capp applied to the cluster', 'edited')).toBe(1);
    for (const r of replicas) {
      const row = await r.request<CappView>('GET', cappsUrl('edited'));
      expect(row.body.sync).toMatchObject({ state: 'Synced', appliedVersion: 2 });
    }
  });

  it('write each of many concurrent creates once while both sweeps and both watchers run', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
    const answers = await Promise.all(
      names.map((name, i) => replicas[i % 2].request<CappView>('POST', cappsUrl(), cappBody(name))),
    );
    expect(answers.map((a) => a.status).filter((s) => s !== 201 && s !== 202)).toEqual([]);
    await waitFor(
      'every burst Capp Synced',
      async () => {
        const rows = await Promise.all(names.map((n) => replicas[1].request<CappView>('GET', cappsUrl(n))));
        return rows.every((r) => r.body.sync.state === 'Synced');
      },
      60_000,
    );
    await settle();
    for (const name of names) {
      expect(await revisions(name)).toEqual([expect.objectContaining({ number: 1, source: 'api' })]);
      expect(logged('capp applied to the cluster', name)).toBe(1);
      expect(logged('capp changed in the cluster; revision recorded', name)).toBe(0);
    }
  });
});
