import { ConflictError, KubeApiError, NotFoundError } from './errors';
import { formatMicroTime, type LeaderElectionOptions, LeaderElector, type Lease } from './leader-election';
import { testLogger } from './testing';

const NS = 'capp-system';
const NAME = 'capp-operator';
const PATH = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${NAME}`;
const COLLECTION = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`;

/** An in-memory apiserver for one Lease: resourceVersion checks, 404/409 like the real one. */
class FakeLeaseApi {
  lease?: Lease;
  namespaceExists = true;
  /** When set, every request fails with this status. */
  failWith?: number;
  readonly calls: string[] = [];
  private version = 0;

  async request<T>(method: string, path: string, opts: { body?: unknown } = {}): Promise<T> {
    this.calls.push(`${method} ${path}`);
    await Promise.resolve();
    if (this.failWith) throw new KubeApiError(this.failWith, 'InternalError', 'boom', method, path);
    const body = structuredClone(opts.body) as Lease | undefined;
    if (method === 'GET' && path === PATH) {
      if (!this.lease) throw new NotFoundError(404, 'NotFound', 'lease not found', method, path);
      return structuredClone(this.lease) as T;
    }
    if (method === 'POST' && path === COLLECTION && body) {
      if (!this.namespaceExists)
        throw new NotFoundError(404, 'NotFound', `namespaces "${NS}" not found`, method, path);
      if (this.lease) throw new ConflictError(409, 'AlreadyExists', 'exists', method, path);
      return this.store(body) as T;
    }
    if (method === 'PUT' && path === PATH && body) {
      if (!this.lease) throw new NotFoundError(404, 'NotFound', 'lease not found', method, path);
      if (body.metadata.resourceVersion !== this.lease.metadata.resourceVersion) {
        throw new ConflictError(409, 'Conflict', 'the object has been modified', method, path);
      }
      return this.store(body) as T;
    }
    throw new Error(`unexpected ${method} ${path}`);
  }

  /** Someone else writes the Lease (bumps the version). */
  put(spec: Lease['spec']): void {
    this.store({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: NAME, namespace: NS },
      spec,
    });
  }

  private store(lease: Lease): Lease {
    this.lease = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(++this.version) } };
    return structuredClone(this.lease);
  }
}

const FAST = { leaseDurationSeconds: 1, renewDeadlineSeconds: 0.3, retryPeriodSeconds: 0.05 };

function elector(
  api: FakeLeaseApi,
  identity: string,
  extra: Partial<LeaderElectionOptions> = {},
): LeaderElector {
  return new LeaderElector(api, {
    namespace: NS,
    name: NAME,
    identity,
    logger: testLogger(),
    ...FAST,
    ...extra,
  });
}

function recorder(): { events: string[]; onStartedLeading(): void; onStoppedLeading(): void } {
  const events: string[] = [];
  return {
    events,
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
  };
}

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('formatMicroTime', () => {
  it('writes RFC 3339 with six fractional digits in UTC', () => {
    expect(formatMicroTime(new Date(Date.UTC(2006, 0, 2, 15, 4, 5, 120)))).toBe(
      '2006-01-02T15:04:05.120000Z',
    );
  });
});

describe('LeaderElector (against an in-memory Lease API)', () => {
  it('creates the missing Lease with itself as holder and leads', async () => {
    const api = new FakeLeaseApi();
    const cb = recorder();
    const e = elector(api, 'a');
    const running = e.run(cb);
    await until(() => e.isLeader);
    await e.stop();
    await running;

    expect(cb.events).toEqual(['started']);
    expect(api.calls.slice(0, 2)).toEqual([`GET ${PATH}`, `POST ${COLLECTION}`]);
  });

  it('renews with a single PUT carrying the resourceVersion, keeping acquireTime and transitions', async () => {
    const api = new FakeLeaseApi();
    const e = elector(api, 'a');
    const running = e.run(recorder());
    await until(() => e.isLeader);
    const acquired = api.lease?.spec?.acquireTime;
    const writesAfterAcquire = api.calls.length;
    await until(() => api.calls.length >= writesAfterAcquire + 3);
    await e.abandon();
    await running;

    expect(api.calls.slice(writesAfterAcquire)).toEqual(
      api.calls.slice(writesAfterAcquire).map(() => `PUT ${PATH}`),
    );
    expect(api.lease?.spec).toMatchObject({
      holderIdentity: 'a',
      acquireTime: acquired,
      leaseTransitions: 0,
    });
    expect(Date.parse(api.lease?.spec?.renewTime ?? '')).toBeGreaterThan(Date.parse(acquired ?? ''));
  });

  it('does not take a Lease another identity renewed recently', async () => {
    const api = new FakeLeaseApi();
    api.put({ holderIdentity: 'other', leaseDurationSeconds: 60, renewTime: formatMicroTime(new Date()) });
    const cb = recorder();
    const e = elector(api, 'a');
    const running = e.run(cb);
    await new Promise((r) => setTimeout(r, 300));
    await e.stop();
    await running;

    expect(e.isLeader).toBe(false);
    expect(cb.events).toEqual([]);
    expect(api.lease?.spec?.holderIdentity).toBe('other');
  });

  it('takes over a Lease left unrenewed for its duration, and counts the transition', async () => {
    const api = new FakeLeaseApi();
    const old = formatMicroTime(new Date(Date.now() - 10_000));
    api.put({
      holderIdentity: 'other',
      leaseDurationSeconds: 1,
      renewTime: old,
      acquireTime: old,
      leaseTransitions: 4,
    });
    const e = elector(api, 'a');
    const started = Date.now();
    const running = e.run(recorder());
    await until(() => e.isLeader);
    const waitedMs = Date.now() - started;
    await e.abandon();
    await running;

    // An old renewTime proves nothing across machines: the Lease must stay unchanged for a whole
    // duration on this process's own clock first.
    expect(waitedMs).toBeGreaterThanOrEqual(1000);
    expect(api.lease?.spec).toMatchObject({
      holderIdentity: 'a',
      leaseTransitions: 5,
      leaseDurationSeconds: 1,
    });
    expect(api.lease?.spec?.acquireTime).not.toBe(old);
  });

  it('judges expiry on its own clock: a holder whose clock lags an hour keeps the Lease while it renews', async () => {
    const api = new FakeLeaseApi();
    const hourAgo = (): string => formatMicroTime(new Date(Date.now() - 3_600_000));
    api.put({ holderIdentity: 'skewed', leaseDurationSeconds: 1, renewTime: hourAgo() });
    const renewing = setInterval(() => {
      const spec = api.lease?.spec ?? {};
      if (spec.holderIdentity === 'skewed') api.put({ ...spec, renewTime: hourAgo() });
    }, 100);
    const cb = recorder();
    const e = elector(api, 'a');
    const running = e.run(cb);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      expect(e.isLeader).toBe(false);

      clearInterval(renewing); // the holder dies
      const diedAt = Date.now();
      await until(() => e.isLeader, 3000);
      expect(Date.now() - diedAt).toBeGreaterThanOrEqual(900);
    } finally {
      clearInterval(renewing);
      await e.stop();
      await running;
    }
    expect(cb.events).toEqual(['started']);
  });

  it('steps down at once when another identity overwrote the Lease', async () => {
    const api = new FakeLeaseApi();
    const cb = recorder();
    const e = elector(api, 'a', { leaseDurationSeconds: 60, renewDeadlineSeconds: 30 });
    const running = e.run(cb);
    await until(() => e.isLeader);
    api.put({ holderIdentity: 'intruder', leaseDurationSeconds: 60, renewTime: formatMicroTime(new Date()) });
    await until(() => !e.isLeader, 1000);
    await e.stop();
    await running;

    expect(cb.events).toEqual(['started', 'stopped']);
    expect(api.lease?.spec?.holderIdentity).toBe('intruder');
  });

  it('gives up leadership when renewal fails for longer than the renew deadline, then campaigns again', async () => {
    const api = new FakeLeaseApi();
    const cb = recorder();
    const e = elector(api, 'a');
    const running = e.run(cb);
    await until(() => e.isLeader);
    api.failWith = 500;
    const failedAt = Date.now();
    await until(() => !e.isLeader);
    const tookMs = Date.now() - failedAt;
    api.failWith = undefined;
    await until(() => e.isLeader);
    await e.stop();
    await running;

    expect(tookMs).toBeGreaterThanOrEqual(200);
    expect(tookMs).toBeLessThan(1000); // before the 1 s Lease could expire for the others
    expect(cb.events).toEqual(['started', 'stopped', 'started']);
  });

  it("logs through the caller's logger: acquired, failed renewals, lost, released — with lease and identity", async () => {
    const api = new FakeLeaseApi();
    const lines: Record<string, unknown>[] = [];
    const logger = testLogger('info', {
      write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>),
    });
    const e = elector(api, 'a', { logger });
    const running = e.run(recorder());
    await until(() => e.isLeader);
    api.failWith = 500;
    await until(() => !e.isLeader);
    api.failWith = undefined;
    await until(() => e.isLeader);
    await e.stop();
    await running;

    const said = lines.map((l) => `${String(l['level'])} ${String(l['msg'])}`);
    expect(said).toEqual(
      expect.arrayContaining([
        'info became leader',
        'warn leader election: boom',
        'warn could not renew the lease for 0.3s',
        'warn lost leadership',
        'info released the lease',
      ]),
    );
    for (const line of lines) expect(line).toMatchObject({ lease: `${NS}/${NAME}`, identity: 'a' });
  });

  it('reports a missing namespace clearly and keeps retrying until it exists', async () => {
    const api = new FakeLeaseApi();
    api.namespaceExists = false;
    const lines: Record<string, unknown>[] = [];
    const logger = testLogger('debug', {
      write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>),
    });
    const e = elector(api, 'a', { logger });
    const running = e.run(recorder());
    await until(() => api.calls.filter((c) => c.startsWith('POST')).length >= 3);
    expect(e.isLeader).toBe(false);
    api.namespaceExists = true;
    await until(() => e.isLeader);
    await e.stop();
    await running;

    const warnings = lines.filter((l) => l['level'] === 'warn').map((l) => l['msg']);
    expect(warnings).toEqual([`leader election: namespace ${NS} does not exist`]);
  });

  it('releases the Lease on stop: empty holder, lease duration kept', async () => {
    const api = new FakeLeaseApi();
    const cb = recorder();
    const e = elector(api, 'a');
    const running = e.run(cb);
    await until(() => e.isLeader);
    await e.stop();
    await running;

    expect(e.isLeader).toBe(false);
    expect(api.lease?.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(cb.events).toEqual(['started']);
  });

  it('leaves the Lease held when abandoned, as a crashed process would', async () => {
    const api = new FakeLeaseApi();
    const e = elector(api, 'a');
    const running = e.run(recorder());
    await until(() => e.isLeader);
    await e.abandon();
    await running;
    const calls = api.calls.length;
    await new Promise((r) => setTimeout(r, 150));

    expect(api.lease?.spec?.holderIdentity).toBe('a');
    expect(api.calls.length).toBe(calls);
  });

  it('refuses timings where the renew deadline does not fit in the lease duration', () => {
    const api = new FakeLeaseApi();
    expect(() => elector(api, 'a', { leaseDurationSeconds: 10, renewDeadlineSeconds: 10 })).toThrow(
      /leaseDurationSeconds must be > renewDeadlineSeconds/,
    );
    expect(() => elector(api, 'a', { renewDeadlineSeconds: 0.05, retryPeriodSeconds: 0.05 })).toThrow(
      /renewDeadlineSeconds must be/,
    );
    expect(() => elector(api, 'a', { leaseDurationSeconds: 2.5 })).toThrow(/whole number/);
    expect(() => elector(api, '')).toThrow(/identity/);
  });
});
