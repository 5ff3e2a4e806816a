import { randomBytes } from 'node:crypto';

import { KubeRest } from '@capp/kube';
import { OperatorProcess, testEnvironment, waitFor } from '@capp/testing';

/**
 * The operator as real processes: killed mid-reconcile and restarted, two replicas behind a Lease,
 * SIGTERM, probes and metrics.
 */
const env = testEnvironment();
const id = randomBytes(3).toString('hex');
const ns = `e2e-op-${id}`;
const operatorNs = `e2e-opsys-${id}`;
const running: OperatorProcess[] = [];

async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
  contentType?: string,
): Promise<T> {
  const res = await KubeRest.fromTarget(env.target).raw<T>(method, path, { body, contentType });
  if (res.status >= 300 && !(method === 'DELETE' && res.status === 404)) {
    throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  }
  return res.body;
}

const cappsPath = `/apis/rcs.dana.io/v1alpha1/namespaces/${ns}/capps`;

async function createCapp(name: string): Promise<void> {
  await api('POST', cappsPath, {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name, namespace: ns },
    spec: {
      configurationSpec: {
        template: {
          spec: {
            containers: [
              { image: 'ghcr.io/acme/app:1', volumeMounts: [{ name: `${name}-data`, mountPath: '/data' }] },
            ],
          },
        },
      },
      routeSpec: { hostname: `${name}-${id}` },
      volumesSpec: {
        nfsVolumes: [{ name: `${name}-data`, server: 'nfs', path: '/d', capacity: { storage: '1Gi' } }],
      },
    },
  });
}

interface CappList {
  items: Array<{
    metadata: { name: string; generation: number };
    status?: { observedGeneration?: number; managedResources?: unknown[] };
  }>;
}

async function convergedCount(): Promise<number> {
  const list = await api<CappList>('GET', cappsPath);
  return list.items.filter(
    (c) => c.status?.observedGeneration === c.metadata.generation && c.status.managedResources?.length === 4,
  ).length;
}

/** A started operator process named `identity` (its identity in the Lease) watching the test's namespace. */
async function operator(identity: string, extra: string[] = []): Promise<OperatorProcess> {
  const p = new OperatorProcess(identity);
  running.push(p);
  await p.start({
    args: [
      '--identity',
      identity,
      '--log-level',
      'info',
      '--kubeconfig',
      process.env['KUBECONFIG'] ?? '',
      '--namespaces',
      ns,
      '--operator-namespace',
      operatorNs,
      '--resync-seconds',
      '0',
      ...extra,
    ],
    ports: true,
  });
  return p;
}

beforeAll(async () => {
  for (const name of [ns, operatorNs])
    await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  await api('POST', `/api/v1/namespaces/${operatorNs}/configmaps`, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'dns-config' },
    data: { zone: 'e2e.example.com.', cname: 'ingress.e2e.example.com.' },
  });
});

afterAll(async () => {
  const cleaner = await operator('cleaner', ['--leader-elect', 'false']);
  await api('DELETE', cappsPath);
  await cleaner
    .until('Capps finalized', async () => (await api<CappList>('GET', cappsPath)).items.length === 0, 60_000)
    .catch(() => undefined);
  for (const p of running) p.kill('SIGKILL');
  for (const name of [ns, operatorNs]) await api('DELETE', `/api/v1/namespaces/${name}`);
});

describe('the operator process', () => {
  it('converges after being killed in the middle of reconciling', async () => {
    for (let i = 0; i < 30; i++) await createCapp(`crash-${i}`);
    const first = await operator('first', ['--leader-elect', 'false', '--concurrency', '2']);
    await first.until(
      'some reconcile work done',
      async () => (await first.metric('capp_child_applies_total')) > 0 || (await convergedCount()) > 0,
      30_000,
    );
    first.kill('SIGKILL');
    await first.exited();
    const partial = await convergedCount();
    expect(partial).toBeLessThan(30);

    const second = await operator('second', ['--leader-elect', 'false']);
    await second.until('all 30 converged', async () => (await convergedCount()) === 30, 60_000);
    second.kill('SIGTERM');
    expect(await second.exited()).toBe(0);
    expect(second.lines.some((l) => l.event === 'stopped')).toBe(true);
  });

  it('serves /healthz, /readyz and Prometheus /metrics', async () => {
    const p = await operator('probes', ['--leader-elect', 'false']);
    await p.until('ready', async () => (await p.get('/readyz', p.probePort)).status === 200);
    const metrics = await p.get('/metrics');
    expect(metrics.body).toMatch(/^capp_reconcile_total\{result="success"\} \d+/m);
    expect(metrics.body).toMatch(/^capp_workqueue_depth \d+/m);
    expect(metrics.body).toMatch(/^capp_reconcile_duration_seconds_bucket/m);
    p.kill('SIGTERM');
    expect(await p.exited()).toBe(0);
  });

  it('runs as two replicas where only the Lease holder reconciles, and the other takes over when it dies', async () => {
    const lease = ['--leader-elect', 'true', '--lease-duration-seconds', '3'];
    const a = await operator('replica-a', lease);
    const b = await operator('replica-b', lease);
    await waitFor(
      'one leader',
      async () => (await a.metric('capp_leader')) + (await b.metric('capp_leader')) === 1,
      30_000,
    );
    const [leader, standby] = (await a.metric('capp_leader')) === 1 ? [a, b] : [b, a];

    await createCapp('ha-1');
    await leader.until('ha-1 converged', async () => (await convergedCount()) === 31, 60_000);
    expect(await standby.metric('capp_reconcile_total{result="success"}')).toBe(0);

    const killedAt = Date.now();
    leader.kill('SIGKILL');
    await standby.until('standby leads', async () => (await standby.metric('capp_leader')) === 1, 20_000);
    expect(Date.now() - killedAt).toBeLessThan(3000 + 6000);
    await createCapp('ha-2');
    await standby.until('ha-2 converged', async () => (await convergedCount()) === 32, 60_000);
  });
});
