/**
 * `npm run bench:operator [-- --capps 1000 --concurrency 8]`: the operator against a baseline, on the
 * local control plane (or KUBECONFIG with --use-existing).
 *
 *  1. baseline: the same rendered children applied directly (server-side apply, same client code and
 *     concurrency) — the least work any operator must do;
 *  2. operator: a separate `npm run operator` process; N Capps created at once; time until every Capp
 *     has observedGeneration == generation and all its children exist;
 *     (seen through a watch: polling lists of N Capps would cost the API server more than it measures);
 *  3. requests per Capp (reads, writes) and during one resync of the converged set, from the operator's
 *     own /metrics; peak RSS of the operator process (VmHWM); CPU seconds of every process during each
 *     phase, and of the rest of the machine (`others`: a busy machine makes the run meaningless);
 *  4. with `--profile DIR`: kube-apiserver pprof CPU profiles of both phases and the operator's
 *     `--cpu-prof` profile (read them with `go tool pprof -top` and Chrome DevTools).
 *
 * Prints numbers; asserts nothing.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
    /** Write CPU profiles here: kube-apiserver (pprof) during each phase, the operator (--cpu-prof). */
    profile: { type: 'string' },
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

async function createNamespace(rest: KubeRest, name: string): Promise<void> {
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

/** CPU seconds (user + system) used so far by each process whose command line mentions `marker`. */
function cpuByProcess(marker: string, extra: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  const tick = 100; // USER_HZ on Linux
  const read = (pid: number): number => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / tick;
  };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!cmd.some((a) => a.includes(marker))) continue;
      const name = cmd[0].split('/').pop() ?? entry;
      out[name] = (out[name] ?? 0) + read(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  for (const [name, pid] of Object.entries(extra)) if (pid) out[name] = read(pid);
  // The whole machine (user, nice, system, irq, softirq, steal): what is left is other people's work.
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  out[MACHINE] = (user + nice + system + irq + softirq + steal) / tick;
  return out;
}

const MACHINE = '(machine)';

/** CPU seconds per process between two samples, and what other processes used meanwhile. */
function cpuDelta(before: Record<string, number>, after: Record<string, number>): string {
  const delta = (k: string): number => after[k] - (before[k] ?? 0);
  const names = Object.keys(after)
    .filter((k) => k !== MACHINE && delta(k) >= 0.05)
    .sort();
  const others = delta(MACHINE) - names.reduce((sum, k) => sum + delta(k), 0);
  return [...names.map((k) => `${k} ${delta(k).toFixed(1)}`), `others ${others.toFixed(1)}`].join(', ');
}

/**
 * Resolves once `n` Capps in `namespace` have observedGeneration == generation and `perCapp` children
 * in their inventory, as seen by a watch opened before they are created.
 */
async function convergence(rest: KubeRest, namespace: string, n: number, perCapp: number): Promise<void> {
  const path = resourcePath(CAPP_TYPE, namespace);
  let resourceVersion = (await rest.request<{ metadata: { resourceVersion: string } }>('GET', path)).metadata
    .resourceVersion;
  const done = new Set<string>();
  const abort = new AbortController();
  while (done.size < n) {
    await rest.watch<Capp>(
      path,
      { resourceVersion, timeoutSeconds: 600 },
      ({ type, object: c }) => {
        resourceVersion = c.metadata.resourceVersion ?? resourceVersion;
        if (type !== 'ADDED' && type !== 'MODIFIED') return;
        const name = c.metadata.name ?? '';
        if (
          c.status?.observedGeneration === c.metadata.generation &&
          (c.status?.managedResources?.length ?? 0) === perCapp
        )
          done.add(name);
        else done.delete(name);
        if (done.size === n) abort.abort();
      },
      abort.signal,
    );
  }
}

async function main(): Promise<void> {
  const cp = await startControlPlane({
    log: () => undefined,
    apiserverFlags: values.profile ? ['--profiling=true'] : [],
  });
  /** Samples kube-apiserver's CPU for `seconds` into `<profile>/<name>.pprof` (in the background). */
  const profileApiserver = (name: string, seconds: number): Promise<unknown> => {
    if (!values.profile) return Promise.resolve();
    mkdirSync(values.profile, { recursive: true });
    const curl = spawn('curl', [
      '-sk',
      '-H',
      `Authorization: Bearer ${cp.adminToken}`,
      '-o',
      join(values.profile, `${name}.pprof`),
      `${cp.server}/debug/pprof/profile?seconds=${seconds}`,
    ]);
    return new Promise((r) => curl.once('exit', r));
  };
  const rest = KubeRest.fromKubeconfig(cp.kubeconfigPath);
  const client = new RestKubeClient(rest, 'bench');
  try {
    process.stdout.write(`control plane up in ${cp.startupMs} ms; N=${N} Capps, concurrency ${C}\n`);
    for (const ns of ['bench-operator', 'capp-operator-system']) await createNamespace(rest, ns);
    await client.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'dns-config', namespace: 'capp-operator-system' },
      data: { zone: dns.zone, cname: dns.cname },
    } as never);

    // 1. Baseline: apply the rendered children directly, one Capp's children after another.
    await createNamespace(rest, 'bench-baseline');
    const dnsConfig = parseDnsConfig({ data: dns });
    const children = Array.from({ length: N }, (_, i) =>
      renderChildren(cappFor('bench-baseline', i), { autoscale: { ...AUTOSCALE_FALLBACKS }, dns: dnsConfig }),
    );
    const perCapp = children[0].length;
    const baselineProfile = profileApiserver('apiserver-baseline', Math.round(N / 100));
    const cpu0 = cpuByProcess(cp.stateDir, { bench: process.pid });
    const t0 = performance.now();
    await pool(children, C, async (set) => {
      for (const child of set) await client.apply(child as never);
    });
    const baselineMs = performance.now() - t0;
    const baselineCpu = cpuDelta(cpu0, cpuByProcess(cp.stateDir, { bench: process.pid }));
    await baselineProfile;

    // 2. The operator as its own process, compiled as it is deployed.
    build('operator');
    const metricsPort = await freePort();
    const probePort = await freePort();
    const operator = spawn(
      process.execPath,
      [
        ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : []),
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
    const operatorProfile = profileApiserver('apiserver-operator', Math.round(N / 50));
    const cpu1 = cpuByProcess(cp.stateDir, { bench: process.pid, operator: operator.pid });
    // Convergence is observed through a watch, not by polling: a list of 1000 Capps costs the API
    // server ~0.35 CPU-s, which the operator would be charged for.
    const watching = convergence(rest, 'bench-operator', N, perCapp);
    const t1 = performance.now();
    await pool(
      Array.from({ length: N }, (_, i) => i),
      C,
      (i) => client.apply(cappFor('bench-operator', i) as never),
    );
    await watching;
    const operatorMs = performance.now() - t1;
    const operatorCpu = cpuDelta(
      cpu1,
      cpuByProcess(cp.stateDir, { bench: process.pid, operator: operator.pid }),
    );
    await operatorProfile;
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
          [
            'reconciles per Capp',
            (
              (metric(after, 'capp_reconcile_total', 'result="success"') -
                (metric(before, 'capp_reconcile_total', 'result="success"') || 0)) /
              N
            ).toFixed(2),
          ],
          ['resync of converged set: writes', String(resyncWrites)],
          ['resync of converged set: reads', String(resyncReads)],
          ['operator peak RSS (MB)', hwm ? (Number(hwm) / 1024).toFixed(0) : 'n/a'],
          ['CPU s during baseline', baselineCpu],
          ['CPU s during operator run', operatorCpu],
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
