import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { HealthScopeStatus } from '@capp/capp-model';
import { KNATIVE_SERVICE as KSVC } from '@capp/knative-adapter';
import { CAPP_TYPE, HEALTHSCOPE_TYPE } from '@capp/kube';

import { HEALTHSCOPE_FIELD_MANAGER } from './health/healthscope-controller';
import { OperatorMetrics } from './observability/metrics';
import { ClusterFixture, type Obj, waitFor } from './testing/cluster-fixture';

/**
 * HealthScopes on a real API server (DESIGN §10). The test plays Knative (it writes the Knative
 * Services' status, pointing their URL at loopback HTTP servers it controls) and watches the scope's
 * status, Events, the Capps' status.scopes and the metrics.
 */
const fx = new ClusterFixture();
const metrics = new OperatorMetrics({
  processMetrics: false,
  kubeRequests: () => fx.controllerRest?.counts ?? { reads: 0, writes: 0 },
});

/** The probed app: answers 200, 500, or never. */
type Mode = 200 | 500 | 'hang';
class App {
  mode: Mode = 200;
  hits = 0;
  private readonly server: Server = createServer((_req, res) => {
    this.hits++;
    if (this.mode === 'hang') return; // the probe times out
    res.writeHead(this.mode).end(this.mode === 200 ? 'ok' : 'boom');
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
const apps: App[] = [];

beforeAll(async () => {
  await fx.setUp();
  await fx.startController({ metrics });
});

afterAll(async () => {
  await fx.tearDown();
  await Promise.all(apps.map((a) => a.close()));
});

const now = (): string => new Date().toISOString().replace(/\.\d+Z/, 'Z');

/** A Capp whose Knative Service the test marks Ready at `url` (as Knative would). */
async function readyCapp(
  name: string,
  labels: Record<string, string> = {},
  url?: string,
): Promise<App | undefined> {
  let app: App | undefined;
  if (!url) {
    app = new App();
    apps.push(app);
    url = await app.listen();
  }
  await fx.apply({
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name, namespace: fx.ns, labels },
    spec: {
      configurationSpec: {
        template: { spec: { containers: [{ name: 'app', image: 'ghcr.io/acme/app:1' }] } },
      },
    },
  });
  await knative(name, 'True', url);
  return app;
}

/** Writes the Knative Service's status: Ready True/False at `url`. */
async function knative(name: string, ready: 'True' | 'False', url?: string): Promise<void> {
  const live = await waitFor(`ksvc ${name}`, () => fx.get(KSVC, fx.ns, name));
  const previousUrl = (live.status?.['url'] as string | undefined) ?? url;
  await fx.apply(
    {
      apiVersion: KSVC.apiVersion,
      kind: KSVC.kind,
      metadata: { name, namespace: fx.ns },
      status: {
        observedGeneration: (live.metadata as { generation?: number }).generation,
        url: url ?? previousUrl,
        conditions: [
          {
            type: 'Ready',
            status: ready,
            reason: ready === 'True' ? 'Ready' : 'RevisionMissing',
            message: ready === 'True' ? '' : 'Configuration "x" does not have any ready Revision.',
            lastTransitionTime: now(),
          },
        ],
      },
    },
    'status',
    'test-knative',
  );
}

function scope(name: string, spec: Record<string, unknown>): Obj {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'HealthScope',
    metadata: { name, namespace: fx.ns },
    spec,
  };
}

const statusOf = async (name: string): Promise<HealthScopeStatus | undefined> =>
  (await fx.get(HEALTHSCOPE_TYPE, fx.ns, name))?.status as HealthScopeStatus | undefined;

async function health(
  name: string,
  wanted: string,
  also: (s: HealthScopeStatus) => boolean = () => true,
): Promise<HealthScopeStatus> {
  return waitFor(
    `scope ${name} to be ${wanted}`,
    async () => {
      const s = await statusOf(name);
      return s?.health === wanted && also(s) ? s : undefined;
    },
    30_000,
  );
}

const member = (
  s: HealthScopeStatus,
  name: string,
): NonNullable<HealthScopeStatus['capps']>[number] | undefined => s.capps?.find((m) => m.name === name);

const fastProbe = { path: '/healthz', periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1 };

describe('HealthScope on a real API server', () => {
  it('is Healthy when every member is Ready and answers its probe, and each Capp lists the scope', async () => {
    await readyCapp('shop-web');
    await readyCapp('shop-api');
    await fx.apply(scope('shop', { cappRefs: ['shop-web', 'shop-api'], probe: fastProbe }));
    const s = await health('shop', 'Healthy', (x) => x.healthy === 2);
    expect(s).toMatchObject({
      total: 2,
      healthy: 2,
      unhealthy: 0,
      unknown: 0,
      disabled: 0,
      observedGeneration: 1,
    });
    expect(member(s, 'shop-web')).toMatchObject({
      health: 'Healthy',
      reason: 'ProbeSucceeded',
      probe: { status: '200' },
    });
    expect(s.conditions?.[0]).toMatchObject({ type: 'Healthy', status: 'True' });
    await waitFor('Capp lists its scope', async () => {
      const c = await fx.get(CAPP_TYPE, fx.ns, 'shop-web');
      return JSON.stringify(c?.status?.['scopes']) === JSON.stringify([{ name: 'shop' }]);
    });
  });

  it("shows HEALTH, HEALTHY, TOTAL and AGE in kubectl get hs (the API server's Table)", async () => {
    const table = await fx.rest.request<{
      columnDefinitions: Array<{ name: string }>;
      rows: Array<{ cells: unknown[] }>;
    }>('GET', `/apis/rcs.dana.io/v1alpha1/namespaces/${fx.ns}/healthscopes/shop`, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Health', 'Healthy', 'Total', 'Age']);
    expect(table.rows[0].cells.slice(0, 4)).toEqual(['shop', 'Healthy', 2, 2]);
  });

  it('puts its status back when someone else overwrites it', async () => {
    await fx.apply(
      { ...scope('shop', {}), spec: undefined, status: { health: 'Unhealthy', total: 0 } },
      'status',
      'someone-else',
    );
    await health('shop', 'Healthy', (s) => s.total === 2 && s.healthy === 2);
  });

  it('is Unhealthy naming the member that is not Ready, with a BecameUnhealthy Event, then Recovered', async () => {
    await knative('shop-api', 'False');
    const s = await health('shop', 'Unhealthy', (x) => member(x, 'shop-api')?.health === 'Unhealthy');
    expect(member(s, 'shop-api')).toMatchObject({ health: 'Unhealthy', reason: 'RevisionMissing' });
    expect(member(s, 'shop-web')).toMatchObject({ health: 'Healthy' });
    await waitFor('BecameUnhealthy event', async () =>
      (await fx.events('shop')).find((e) => e.reason === 'BecameUnhealthy' && e.message.includes('shop-api')),
    );
    await knative('shop-api', 'True');
    await health('shop', 'Healthy');
    await waitFor('Recovered event', async () =>
      (await fx.events('shop')).find((e) => e.reason === 'Recovered'),
    );
  });

  it.each<[string, (app: App) => Promise<void> | void, string, string]>([
    ['an HTTP 500', (app) => void (app.mode = 500), 'ProbeFailed', '500'],
    ['a timeout', (app) => void (app.mode = 'hang'), 'ProbeTimeout', 'Timeout'],
  ])('is Unhealthy on %s from the probe, with the reason', async (_what, breakIt, reason, probeStatus) => {
    const app = (await readyCapp(`p-${reason.toLowerCase()}`)) as App;
    const name = `probe-${reason.toLowerCase()}`;
    await fx.apply(scope(name, { cappRefs: [`p-${reason.toLowerCase()}`], probe: fastProbe }));
    await health(name, 'Healthy');
    await breakIt(app);
    const s = await health(name, 'Unhealthy');
    expect(s.capps?.[0]).toMatchObject({ health: 'Unhealthy', reason, probe: { status: probeStatus } });
    app.mode = 200;
    await health(name, 'Healthy');
  });

  it('is Unhealthy when the connection is refused', async () => {
    const closed = new App();
    const url = await closed.listen();
    await closed.close();
    await readyCapp('p-refused', {}, url);
    await fx.apply(scope('probe-refused', { cappRefs: ['p-refused'], probe: fastProbe }));
    // Until the Capp is Ready it is Unknown (counted as unhealthy); then the probe decides.
    const s = await health('probe-refused', 'Unhealthy', (x) => x.capps?.[0]?.reason !== 'Pending');
    expect(s.capps?.[0]).toMatchObject({
      reason: 'ProbeConnectionRefused',
      probe: { status: 'ConnectionRefused' },
    });
  });

  it('counts a disabled member as Disabled, not unhealthy, and a missing one as NotFound', async () => {
    await readyCapp('d-on');
    await readyCapp('d-off');
    await fx.apply(scope('dis', { cappRefs: ['d-on', 'd-off'] }));
    await health('dis', 'Healthy');
    const off = await fx.get(CAPP_TYPE, fx.ns, 'd-off');
    await fx.apply({
      ...(off as Obj),
      metadata: { name: 'd-off', namespace: fx.ns },
      spec: { ...(off?.spec ?? {}), state: 'disabled' },
      status: undefined,
    });
    const s = await health('dis', 'Healthy', (x) => x.disabled === 1);
    expect(member(s, 'd-off')).toMatchObject({ health: 'Disabled', reason: 'Disabled' });
    await fx.apply(scope('dis', { cappRefs: ['d-on', 'd-off', 'd-missing'] }));
    const missing = await health('dis', 'Unhealthy', (x) => x.total === 3);
    expect(member(missing, 'd-missing')).toMatchObject({ health: 'Unhealthy', reason: 'NotFound' });
  });

  it('follows its selector: a new matching Capp joins, a deleted one leaves; two scopes may share a Capp', async () => {
    await readyCapp('sel-a', { team: 'blue' });
    await fx.apply(scope('blue', { selector: { matchLabels: { team: 'blue' } } }));
    await fx.apply(
      scope('blue-too', {
        selector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['blue'] }] },
      }),
    );
    await health('blue', 'Healthy', (s) => s.total === 1);
    await readyCapp('sel-b', { team: 'blue' });
    await health('blue', 'Healthy', (s) => s.total === 2 && s.healthy === 2);
    await waitFor('a Capp lists both scopes', async () => {
      const c = await fx.get(CAPP_TYPE, fx.ns, 'sel-b');
      return (
        JSON.stringify(c?.status?.['scopes']) === JSON.stringify([{ name: 'blue' }, { name: 'blue-too' }])
      );
    });
    await fx.remove(CAPP_TYPE, fx.ns, 'sel-a');
    await health('blue', 'Healthy', (s) => s.total === 1 && s.capps?.[0]?.name === 'sel-b');
    await fx.remove(HEALTHSCOPE_TYPE, fx.ns, 'blue-too');
    await waitFor('the deleted scope leaves the Capp', async () => {
      const c = await fx.get(CAPP_TYPE, fx.ns, 'sel-b');
      return JSON.stringify(c?.status?.['scopes']) === JSON.stringify([{ name: 'blue' }]);
    });
  });

  it("keeps status.scopes apart from the Capp reconciler's status (its own field manager, never erased)", async () => {
    const c = await fx.client.rest.request<Obj>(
      'GET',
      `/apis/rcs.dana.io/v1alpha1/namespaces/${fx.ns}/capps/sel-b`,
    );
    const managers = (
      c.metadata['managedFields'] as Array<{ manager: string; fieldsV1?: Record<string, unknown> }>
    ).filter((m) => JSON.stringify(m.fieldsV1 ?? {}).includes('"f:scopes"'));
    expect(managers.map((m) => m.manager)).toEqual([HEALTHSCOPE_FIELD_MANAGER]);
    // A change the reconciler writes status for keeps the scopes.
    await knative('sel-b', 'False');
    await health('blue', 'Unhealthy');
    const after = await waitFor('the reconciler to write the Capp status', async () => {
      const c = await fx.get(CAPP_TYPE, fx.ns, 'sel-b');
      const ready = (c?.status?.['conditions'] as Array<{ type: string; status: string }>).find(
        (x) => x.type === 'Ready',
      );
      return ready?.status === 'False' ? c : undefined;
    });
    expect(after.status?.['scopes']).toEqual([{ name: 'blue' }]);
    await knative('sel-b', 'True');
    await health('blue', 'Healthy');
  });

  it('writes nothing while nothing changes, though it keeps probing', async () => {
    await readyCapp('idle-a');
    await readyCapp('idle-b');
    await fx.apply(scope('idle', { cappRefs: ['idle-a', 'idle-b'], probe: fastProbe }));
    await health('idle', 'Healthy', (s) => s.healthy === 2);
    await new Promise((r) => setTimeout(r, 1500)); // every echo in
    const rest = fx.controllerRest;
    if (!rest) throw new Error('no controller');
    const before = { ...rest.counts };
    const probesBefore = apps.reduce((n, a) => n + a.hits, 0);
    await new Promise((r) => setTimeout(r, 4000)); // four probe periods
    expect(rest.counts.writes - before.writes).toBe(0);
    expect(rest.counts.reads - before.reads).toBe(0);
    expect(apps.reduce((n, a) => n + a.hits, 0) - probesBefore).toBeGreaterThanOrEqual(4);
  });

  it('exposes the scope health, its members by health, Capp readiness and probe durations in /metrics', async () => {
    await health('shop', 'Healthy');
    await health('dis', 'Unhealthy');
    const text = await metrics.metricsText();
    expect(text).toContain(`capp_healthscope_health{namespace="${fx.ns}",scope="shop"} 1`);
    expect(text).toContain(`capp_healthscope_health{namespace="${fx.ns}",scope="dis"} 0`);
    expect(text).toContain(`capp_healthscope_members{namespace="${fx.ns}",scope="shop",health="Healthy"} 2`);
    expect(text).toContain(`capp_healthscope_members{namespace="${fx.ns}",scope="dis",health="Disabled"} 1`);
    expect(text).toContain(`capp_healthscope_members{namespace="${fx.ns}",scope="dis",health="Unhealthy"} 1`);
    expect(text).toContain(`capp_ready{namespace="${fx.ns}",capp="shop-web"} 1`);
    expect(text).toMatch(
      new RegExp(`capp_probe_duration_seconds_count\\{namespace="${fx.ns}",result="success"\\} [1-9]`),
    );
    expect(text).toMatch(
      new RegExp(`capp_probe_duration_seconds_count\\{namespace="${fx.ns}",result="failure"\\} [1-9]`),
    );
  });
});
