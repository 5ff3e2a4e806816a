/** Leader election against the real apiserver started by the libs/testing globalSetup. */
import { randomBytes } from 'node:crypto';

import { isNotFound } from './errors';
import { type LeaderElectionOptions, LeaderElector, type Lease } from './leader-election';
import { LEASE_TYPE, resourcePath } from './resources';
import { KubeRest } from './rest';
import { testLogger } from './testing';

const NS = `le-${randomBytes(4).toString('hex')}`;
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

let rest: KubeRest;
const electors: LeaderElector[] = [];
let leaseCounter = 0;

beforeAll(async () => {
  rest = KubeRest.fromKubeconfig(process.env['KUBECONFIG']);
  await rest.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
  });
});

afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.abandon()));
});

afterAll(async () => {
  await rest.request('DELETE', `/api/v1/namespaces/${NS}`).catch(() => undefined);
  rest.close();
});

interface Candidate {
  elector: LeaderElector;
  events: string[];
  running: Promise<void>;
}

function candidate(identity: string, options: Partial<LeaderElectionOptions> & { name: string }): Candidate {
  const elector = new LeaderElector(rest, { namespace: NS, identity, logger: testLogger(), ...options });
  electors.push(elector);
  const events: string[] = [];
  const running = elector.run({
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
  });
  return { elector, events, running };
}

function leaseName(): string {
  return `capp-operator-${++leaseCounter}`;
}

function getLease(name: string, namespace = NS): Promise<Lease> {
  return rest.request<Lease>('GET', resourcePath(LEASE_TYPE, namespace, name));
}

async function until(check: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('LeaderElector on a real Lease', () => {
  it('lets exactly one of two candidates lead, and writes a valid Lease', async () => {
    const name = leaseName();
    const timings = { leaseDurationSeconds: 2, renewDeadlineSeconds: 1, retryPeriodSeconds: 0.2 };
    const a = candidate('a', { name, ...timings });
    const b = candidate('b', { name, ...timings });
    await until(() => a.elector.isLeader || b.elector.isLeader, 10_000);
    await sleep(1500); // several renewals and several attempts of the standby

    const leaders = [a, b].filter((c) => c.elector.isLeader);
    expect(leaders).toHaveLength(1);
    const [leader] = leaders;
    expect(leader.events).toEqual(['started']);
    expect([a, b].find((c) => c !== leader)?.events).toEqual([]);

    const lease = await getLease(name);
    expect(lease.spec).toMatchObject({
      holderIdentity: leader === a ? 'a' : 'b',
      leaseDurationSeconds: 2,
      leaseTransitions: 0,
    });
    expect(lease.spec?.acquireTime).toMatch(MICRO_TIME);
    expect(lease.spec?.renewTime).toMatch(MICRO_TIME);
    expect(Date.parse(lease.spec?.renewTime ?? '')).toBeGreaterThan(
      Date.parse(lease.spec?.acquireTime ?? ''),
    );
  });

  it('hands over within a couple of seconds when the leader stops and releases the Lease', async () => {
    const name = leaseName();
    // A 15 s Lease: a quick takeover can only come from the release.
    const timings = { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 0.2 };
    const a = candidate('a', { name, ...timings });
    await until(() => a.elector.isLeader, 10_000);
    const b = candidate('b', { name, ...timings });
    await sleep(500);
    expect(b.elector.isLeader).toBe(false);

    await a.elector.stop();
    await a.running;
    expect(a.elector.isLeader).toBe(false);
    const tookMs = await until(() => b.elector.isLeader, 5000);

    expect(tookMs).toBeLessThan(2000);
    expect(b.events).toEqual(['started']);
    expect((await getLease(name)).spec).toMatchObject({
      holderIdentity: 'b',
      leaseTransitions: 1,
      leaseDurationSeconds: 15,
    });
  });

  it('takes over after the lease duration when the leader disappears without releasing', async () => {
    const name = leaseName();
    const timings = { leaseDurationSeconds: 2, renewDeadlineSeconds: 1, retryPeriodSeconds: 0.2 };
    const a = candidate('a', { name, ...timings });
    await until(() => a.elector.isLeader, 10_000);
    const b = candidate('b', { name, ...timings });
    await sleep(400);

    await a.elector.abandon();
    const renewedAt = Date.parse((await getLease(name)).spec?.renewTime ?? '');
    await until(() => b.elector.isLeader, 6000);
    const takenAt = Date.now();

    // Not before the abandoned Lease expired, and soon after it did.
    expect(takenAt - renewedAt).toBeGreaterThanOrEqual(2000);
    expect(takenAt - renewedAt).toBeLessThan(3500);
    expect((await getLease(name)).spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('steps down when renewing fails for longer than the renew deadline', async () => {
    const name = leaseName();
    let broken = false;
    const flaky = {
      request: <T>(method: string, path: string, opts?: { body?: unknown }): Promise<T> =>
        broken ? Promise.reject(new Error('connection refused')) : rest.request<T>(method, path, opts),
    };
    const events: string[] = [];
    const elector = new LeaderElector(flaky, {
      namespace: NS,
      name,
      identity: 'a',
      leaseDurationSeconds: 2,
      renewDeadlineSeconds: 1,
      retryPeriodSeconds: 0.2,
      logger: testLogger(),
    });
    electors.push(elector);
    void elector.run({
      onStartedLeading: () => events.push('started'),
      onStoppedLeading: () => events.push('stopped'),
    });
    await until(() => elector.isLeader, 10_000);

    broken = true;
    const tookMs = await until(() => !elector.isLeader, 3000);

    expect(events).toEqual(['started', 'stopped']);
    expect(tookMs).toBeLessThan(1500); // well before the 2 s Lease expires for the others
  });

  it('reports a missing namespace and leads once the namespace exists', async () => {
    const ns = `${NS}-late`;
    const lines: Record<string, unknown>[] = [];
    const logger = testLogger('info', {
      write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>),
    });
    const elector = new LeaderElector(rest, {
      namespace: ns,
      name: 'capp-operator',
      identity: 'a',
      leaseDurationSeconds: 2,
      renewDeadlineSeconds: 1,
      retryPeriodSeconds: 0.2,
      logger,
    });
    electors.push(elector);
    void elector.run({ onStartedLeading: () => undefined, onStoppedLeading: () => undefined });
    try {
      await until(
        () => lines.some((l) => l['msg'] === `leader election: namespace ${ns} does not exist`),
        5000,
      );
      expect(elector.isLeader).toBe(false);

      await rest.request('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      });
      await until(() => elector.isLeader, 5000);
      expect((await getLease('capp-operator', ns)).spec?.holderIdentity).toBe('a');
    } finally {
      await elector.abandon();
      await rest.request('DELETE', `/api/v1/namespaces/${ns}`).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
  });
});
