/**
 * `npm run bench:operator [-- --capps 1000 --concurrency 8]`: the operator against a baseline, on the
 * local control plane (or KUBECONFIG with --use-existing).
 *
 *  1. baseline: the same rendered children applied directly (server-side apply, same client code and
 *     concurrency) — the least work any operator must do;
 *  2. operator: a separate `npm run operator` process; N Capps created at once; time until every Capp
 *     has observedGeneration == generation and all its children exist;
 *  3. requests per Capp (reads, writes) and during one resync of the converged set, from the operator's
 *     own /metrics; peak RSS of the operator process (VmHWM).
 *
 * Prints numbers; asserts nothing.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { Capp } from '@capp/capp-model';
import { AUTOSCALE_FALLBACKS, parseDnsConfig, renderChildren } from '@capp/knative-adapter';
import { freePort, startControlPlane } from '@capp/testing';

import { RestKubeClient } from '../../apps/operator/src/kube/client';
import { CAPP_TYPE, resourcePath } from '../../apps/operator/src/kube/resources';
import { KubeRest } from '../../apps/operator/src/kube/rest';
import { build } from '../build';

const { values } = parseArgs({
  options: {
    capps: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '8' },
  },
});
const N = Number(values.capps);
const C = Number(values.concurrency);
const zone = 'bench.example.com';
const dns = { zone: `${zone}.`, cname: `ingress.${zone}.` };

function cappFor(namespace: string, i: number): Capp {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name: `app-${i}`, namespace, labels: { bench: 'true' } },
    spec: {
      configurationSpec: {
        template: { spec: { containers: [{ name: 'app', image: `ghcr.io/acme/app:${i}` }] } },
      },
      routeSpec: { hostname: `app-${i}-${namespace}`, tlsEnabled: true },
      volumesSpec: {
        nfsVolumes: [
          { name: `data-${i}`, server: 'nfs', path: `/exports/${i}`, capacity: { storage: '1Gi' } },
        ],
      },
      logSpec: { type: 'elastic', host: 'es', index: 'apps', user: 'elastic', passwordSecret: 'es-pass' },
    },
  };
}

async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

async function namespace(rest: KubeRest, name: string): Promise<void> {
  await rest.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
  });
}

function metric(text: string, name: string, label?: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name) && (!label || l.includes(label)));
  return line ? Number(line.split(' ').pop()) : NaN;
}

/** API requests the operator made between two scrapes of its /metrics. */
function requests(before: string, after: string, kind: 'read' | 'write'): number {
  const label = `kind="${kind}"`;
  return metric(after, 'capp_kube_requests_total', label) - metric(before, 'capp_kube_requests_total', label);
}

async function main(): Promise<void> {
  const cp = await startControlPlane({ log: () => undefined });
  const rest = KubeRest.fromKubeconfig(cp.kubeconfigPath);
  const client = new RestKubeClient(rest, 'bench');
  try {
    process.stdout.write(`control plane up in ${cp.startupMs} ms; N=${N} Capps, concurrency ${C}\n`);
    for (const ns of ['bench-baseline', 'bench-operator', 'capp-operator-system']) await namespace(rest, ns);
    await client.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'dns-config', namespace: 'capp-operator-system' },
      data: { zone: dns.zone, cname: dns.cname },
    } as never);

    // 1. Baseline: apply the rendered children directly.
    const dnsConfig = parseDnsConfig({ data: dns });
    const children = Array.from({ length: N }, (_, i) =>
      renderChildren(cappFor('bench-baseline', i), { autoscale: { ...AUTOSCALE_FALLBACKS }, dns: dnsConfig }),
    );
    const perCapp = children[0].length;
    const t0 = performance.now();
    await pool(children, C, async (set) => {
      for (const child of set) await client.apply(child as never);
    });
    const baselineMs = performance.now() - t0;

    // 2. The operator as its own process, compiled as it is deployed.
    build('operator');
    const metricsPort = await freePort();
    const probePort = await freePort();
    const operator = spawn(
      process.execPath,
      [
        'dist/apps/operator/src/main.js',
        '--namespaces',
        'bench-operator',
        '--leader-elect',
        'false',
        '--concurrency',
        String(C),
        '--resync-seconds',
        '0',
        '--metrics-port',
        String(metricsPort),
        '--probe-port',
        String(probePort),
        '--log-level',
        'warn',
      ],
      { env: { ...process.env, KUBECONFIG: cp.kubeconfigPath }, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const scrape = async (): Promise<string> =>
      (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${probePort}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const before = await scrape();
    const t1 = performance.now();
    await pool(
      Array.from({ length: N }, (_, i) => i),
      C,
      (i) => client.apply(cappFor('bench-operator', i) as never),
    );
    const converged = async (): Promise<boolean> => {
      const list = await rest.request<{ items: Capp[] }>('GET', resourcePath(CAPP_TYPE, 'bench-operator'));
      return (
        list.items.length === N &&
        list.items.every(
          (c) =>
            c.status?.observedGeneration === c.metadata.generation &&
            (c.status?.managedResources?.length ?? 0) === perCapp,
        )
      );
    };
    // Poll gently: a full list of N Capps costs the API server as much as the work being measured.
    while (!(await converged())) await new Promise((r) => setTimeout(r, 1000));
    const operatorMs = performance.now() - t1;
    await new Promise((r) => setTimeout(r, 1000));
    const after = await scrape();
    const reads = requests(before, after, 'read');
    const writes = requests(before, after, 'write');

    const eventList = await rest.request<{ items: unknown[] }>(
      'GET',
      '/api/v1/namespaces/bench-operator/events',
    );
    const eventWrites = eventList.items.length;

    // 3. One resync of the converged set (SIGUSR1 asks the operator for one).
    const beforeResync = after;
    operator.kill('SIGUSR1');
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      const text = await scrape();
      const total = metric(text, 'capp_reconcile_total', 'result="success"');
      if (
        total >= metric(beforeResync, 'capp_reconcile_total', 'result="success"') + N &&
        metric(text, 'capp_workqueue_depth') === 0
      ) {
        const resyncWrites = requests(beforeResync, text, 'write');
        const resyncReads = requests(beforeResync, text, 'read');
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${operator.pid}/status`, 'utf8'))?.[1];
        const rows: Array<[string, string]> = [
          ['Capps', String(N)],
          ['children per Capp', String(perCapp)],
          ['baseline: apply rendered children (s)', (baselineMs / 1000).toFixed(2)],
          ['operator: create → all converged (s)', (operatorMs / 1000).toFixed(2)],
          ['ratio operator / baseline', (operatorMs / baselineMs).toFixed(2)],
          ['operator reads per Capp', (reads / N).toFixed(2)],
          ['operator writes per Capp, all', (writes / N).toFixed(2)],
          [
            '  of which to Capps and children',
            `${((writes - eventWrites) / N).toFixed(2)} (target ≤ ${perCapp + 2})`,
          ],
          ['  of which Events', (eventWrites / N).toFixed(2)],
          ['resync of converged set: writes', String(resyncWrites)],
          ['resync of converged set: reads', String(resyncReads)],
          ['operator peak RSS (MB)', hwm ? (Number(hwm) / 1024).toFixed(0) : 'n/a'],
        ];
        for (const [k, v] of rows) process.stdout.write(`${k.padEnd(42)} ${v}\n`);
        break;
      }
    }
    operator.kill('SIGTERM');
    await new Promise((r) => operator.once('exit', r));
  } finally {
    rest.close();
    await cp.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
