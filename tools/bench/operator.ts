/**
 * `npm run bench:operator [-- --capps 1000 --concurrency 8 --traits 3 --policy --peer false --profile DIR]`: the operator against a
 * baseline and two floors, each phase on a fresh private control plane (docs/benchmarks.md):
 *
 *  1. baseline: the rendered children applied directly (server-side apply, same client code and
 *     concurrency as the operator);
 *  2. floors: the requests the issue prescribes per Capp (and the irreducible subset), sent directly
 *     with no operator — what no implementation can undercut;
 *  3. operator: the built operator as its own process; N Capps created at once; time until every Capp
 *     has observedGeneration == generation and all its children (seen through a watch); requests per
 *     Capp and during one resync from its own /metrics; its peak RSS (VmHWM);
 *  4. the baseline again, last: the two baselines show the machine's noise.
 *
 * With `--traits N` (1–3), the operator runs twice, without and with N catalogue traits (env,
 * virtual-group, kautoscale) on every Capp, and both are printed side by side; with 3, a third run
 * writes the same content in the Capps themselves (the control for the size of the objects).
 *
 * Every phase prints the CPU seconds of each process and of the rest of the machine (`others`: a busy
 * machine makes the run meaningless). `--profile DIR`: kube-apiserver pprof CPU profiles of each
 * phase and the operator's `--cpu-prof` profile. Prints numbers; asserts nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { Capp, CAPP_FINALIZER } from '@capp/capp-model';
import {
  applyTraits,
  AUTOSCALE_FALLBACKS,
  childKey,
  computeStatus,
  ObservedChild,
  parseDnsConfig,
  renderChildren,
} from '@capp/knative-adapter';
import { CAPP_TYPE, EventRecorder, KubeClient, KubeRest, resourcePath } from '@capp/kube';
import { ControlPlane, freePort, referenceCrds, startControlPlane, testCrds } from '@capp/testing';

import { OPERATOR_NODE_FLAGS } from '../../apps/operator/src/node-flags';
import { FIELD_MANAGER, operatorClient } from '../../apps/operator/src/wiring';
import { build } from '../build';
import { benchTraits } from './traits';

const { values } = parseArgs({
  options: {
    capps: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '8' },
    /** Put this many catalogue traits on every Capp (0–3) and compare with a run without. */
    traits: { type: 'string', default: '0' },
    /** Write CPU profiles here: kube-apiserver (pprof) during each phase, the operator (--cpu-prof). */
    profile: { type: 'string' },
    /** A resource policy on every Capp (GC, apply-once, take-over rules): its cost next to none. */
    policy: { type: 'boolean', default: false },
    /**
     * With `--traits 3`: only the trait comparison, this many rounds, each on fresh control planes and
     * interleaved (prescribed floor without and with the traits' content, operator without traits,
     * with traits, content inline), without the idle and restart windows; per-round ratios.
     */
    rounds: { type: 'string' },
    /** Run dana-team's container-app-operator v0.3.5 on the same Capps (default on). */
    peer: { type: 'string', default: 'true' },
  },
});
const N = Number(values.capps);
const C = Number(values.concurrency);
const T = Number(values.traits);
const TRAITS = benchTraits(T);
const zone = 'bench.example.com';
const dns = { zone: `${zone}.`, cname: `ingress.${zone}.` };
const CAPP_TYPE_META = { apiVersion: 'rcs.dana.io/v1alpha1', kind: 'Capp' };

/** `--policy`: a rule of every kind on every Capp. */
const POLICY: NonNullable<Capp['spec']['resourcePolicy']> = {
  garbageCollect: {
    rules: [
      { selector: { kinds: ['Certificate'] }, strategy: 'onCappDelete' },
      { selector: { kinds: ['NfsPvc'] }, strategy: 'never' },
    ],
  },
  applyOnce: {
    enabled: true,
    rules: [{ selector: { kinds: ['Service'] }, paths: ['spec.template.spec.containers[*].resources'] }],
  },
  stateKeep: true,
  takeOver: 'refuse',
};

/**
 * How a Capp is written: `plain`; `traits`, using the benchmark's traits; `inline`, the same content
 * as the three traits add written in the Capp itself (env, a template label, two template
 * annotations) — the control that tells the cost of the trait engine from that of bigger objects.
 */
type Mode = 'plain' | 'traits' | 'inline';

function cappFor(namespace: string, i: number, mode: Mode = 'plain'): Capp {
  const inline = mode === 'inline';
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name: `app-${i}`, namespace, labels: { bench: 'true' } },
    spec: {
      configurationSpec: {
        template: {
          ...(inline
            ? {
                metadata: {
                  labels: { 'rcs.dana.io/virtual-group': 'bench' },
                  annotations: {
                    'autoscaling.knative.dev/window': '60s',
                    'autoscaling.knative.dev/scale-down-delay': '30s',
                  },
                },
              }
            : {}),
          spec: {
            containers: [
              {
                name: 'app',
                image: `ghcr.io/acme/app:${i}`,
                volumeMounts: [{ name: `data-${i}`, mountPath: '/data' }],
                ...(inline
                  ? {
                      env: [
                        { name: 'LOG_LEVEL', value: 'info' },
                        { name: 'REGION', value: 'eu-west' },
                      ],
                    }
                  : {}),
              },
            ],
          },
        },
      },
      routeSpec: { hostname: `app-${i}-${namespace}`, tlsEnabled: true },
      volumesSpec: {
        nfsVolumes: [
          { name: `data-${i}`, server: 'nfs', path: `/exports/${i}`, capacity: { storage: '1Gi' } },
        ],
      },
      logSpec: { type: 'elastic', host: 'es', index: 'apps', user: 'elastic', passwordSecret: 'es-pass' },
      ...(values.policy ? { resourcePolicy: POLICY } : {}),
      ...(mode === 'traits' ? { traits: TRAITS.uses } : {}),
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

/** CPU seconds per process between two samples, and what other processes used meanwhile (`others`). */
function cpuSpent(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta = (k: string): number => after[k] - (before[k] ?? 0);
  const names = Object.keys(after)
    .filter((k) => k !== MACHINE && delta(k) >= 0.05)
    .sort();
  const others = delta(MACHINE) - names.reduce((sum, k) => sum + delta(k), 0);
  return { ...Object.fromEntries(names.map((k) => [k, delta(k)])), others };
}

/** {@link cpuSpent} as text. */
function cpuDelta(before: Record<string, number>, after: Record<string, number>): string {
  return Object.entries(cpuSpent(before, after))
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');
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

interface Cluster {
  cp: ControlPlane;
  rest: KubeRest;
  /** Server-side applies as the user who writes the Capps (`bench`). */
  client: KubeClient;
  /** Samples kube-apiserver's CPU for `seconds` into `<profile>/<name>.pprof` (in the background). */
  profile(name: string, seconds: number): Promise<unknown>;
}

interface Measured {
  ms: number;
  cpu: string;
  /** CPU seconds by process during the measured part (`others`: the rest of the machine). */
  cpuByName: Record<string, number>;
}

const dnsConfig = parseDnsConfig({ data: dns });
const renderFor = (capp: Capp): ReturnType<typeof renderChildren> =>
  renderChildren(capp, { autoscale: { ...AUTOSCALE_FALLBACKS }, dns: dnsConfig });
const PER_CAPP = renderFor(cappFor('bench', 0)).length;
const NAMESPACE = 'bench';

/**
 * Runs one phase on a control plane of its own, set up the same way every time: each phase starts
 * from an empty etcd and API server heap (objects left by an earlier phase slow the next one down,
 * ~40 % after 21,000 objects).
 */
async function onFreshCluster<T>(
  work: (cluster: Cluster) => Promise<T>,
  crds?: Record<string, unknown>[],
): Promise<T> {
  const cp = await startControlPlane({
    log: () => undefined,
    apiserverFlags: values.profile ? ['--profiling=true'] : [],
    ...(crds ? { crds } : {}),
  });
  const rest = KubeRest.fromKubeconfig(cp.kubeconfigPath);
  const client = operatorClient(rest, 'bench');
  const profile = (name: string, seconds: number): Promise<unknown> => {
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
  try {
    for (const ns of [NAMESPACE, 'capp-operator-system']) await createNamespace(rest, ns);
    await client.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'dns-config', namespace: 'capp-operator-system' },
      data: { zone: dns.zone, cname: dns.cname },
    } as never);
    return await work({ cp, rest, client, profile });
  } finally {
    rest.close();
    await cp.stop();
  }
}

/** Runs `work` once per Capp index, C at a time: wall time, CPU per process, optional profile. */
async function perCapp(
  { cp, profile }: Cluster,
  name: string,
  work: (i: number) => Promise<unknown>,
): Promise<Measured> {
  const profiling = profile(`apiserver-${name}`, Math.round(N / 100));
  const cpuBefore = cpuByProcess(cp.stateDir, { bench: process.pid });
  const t = performance.now();
  await pool(
    Array.from({ length: N }, (_, i) => i),
    C,
    work,
  );
  const ms = performance.now() - t;
  const cpuAfter = cpuByProcess(cp.stateDir, { bench: process.pid });
  await profiling;
  return { ms, cpu: cpuDelta(cpuBefore, cpuAfter), cpuByName: cpuSpent(cpuBefore, cpuAfter) };
}

/** The baseline: the rendered children applied directly, one Capp's children after another. */
function baseline(name: string): Promise<Measured> {
  return onFreshCluster(async (cluster) => {
    const children = Array.from({ length: N }, (_, i) => renderFor(cappFor(NAMESPACE, i)));
    return perCapp(cluster, name, async (i) => {
      for (const child of children[i]) await cluster.client.apply(child as never);
    });
  });
}

/**
 * A floor: the requests the issue prescribes per Capp, sent directly, without an operator (no
 * watches, no caches, no decisions) — what no implementation of the issue can undercut.
 * `prescribed`: Capp create, finalizer, the children, status, one Event; `irreducible`: Capp create,
 * the children, status (no finalizer write, no Event).
 */
function floor(kind: 'prescribed' | 'irreducible', mode: Mode = 'plain'): Promise<Measured> {
  return onFreshCluster(async (cluster) => {
    const client = operatorClient(cluster.rest, FIELD_MANAGER);
    const recorder = new EventRecorder(cluster.rest, { component: FIELD_MANAGER });
    if (mode === 'traits') for (const trait of TRAITS.traits) await cluster.client.apply(trait as never);
    const byName = new Map(TRAITS.traits.map((t) => [t.metadata.name, t]));
    return perCapp(cluster, `floor-${kind}${mode === 'plain' ? '' : `-${mode}`}`, async (i) => {
      const capp = await cluster.client.apply(cappFor(NAMESPACE, i, mode) as never);
      const metadata = { name: capp.metadata.name, namespace: NAMESPACE };
      if (kind === 'prescribed')
        await client.apply({
          ...CAPP_TYPE_META,
          metadata: { ...metadata, finalizers: [CAPP_FINALIZER] },
        });
      // With traits: the children and the status the operator writes (the engine runs here, as there).
      const traited =
        mode === 'traits'
          ? await applyTraits({
              capp: capp as unknown as Capp,
              children: renderFor(capp as unknown as Capp),
              lookup: (name) => byName.get(name),
            })
          : undefined;
      const desired = traited?.children ?? renderFor(capp as unknown as Capp);
      const observed = new Map<string, ObservedChild>();
      for (const child of desired) {
        const applied = await client.apply(child);
        observed.set(childKey(child), { object: applied as never });
      }
      const status = computeStatus({
        capp: capp as unknown as Capp,
        desired,
        observed,
        now: new Date().toISOString(),
      });
      if (traited?.applied.length) status.traits = traited.applied;
      await client.apply({ ...CAPP_TYPE_META, metadata, status }, { subresource: 'status' });
      if (kind === 'prescribed')
        await recorder.record(capp as never, 'Normal', 'Created', `created ${desired.length} children`);
    });
  });
}

/** What the operator run measured besides time. */
interface OperatorRun extends Measured {
  rows: Array<[string, string]>;
  reconcilesPerCapp: number;
  /** Requests during one resync of the converged set: `writes / reads`. */
  resync: string;
}

/**
 * The operator as its own process, compiled as it is deployed, and N Capps created at once (with
 * `traits`, each using the benchmark's traits, which exist before the operator starts).
 */
function operatorRun(mode: Mode = 'plain', quick = false): Promise<OperatorRun> {
  return onFreshCluster(async ({ cp, rest, client, profile }) => {
    if (mode === 'traits') for (const trait of TRAITS.traits) await client.apply(trait as never);
    const metricsPort = await freePort();
    const probePort = await freePort();
    let starts = 0;
    const startOperator = (): ReturnType<typeof spawn> =>
      spawn(
        process.execPath,
        [
          ...OPERATOR_NODE_FLAGS,
          ...(values.profile
            ? [
                '--cpu-prof',
                `--cpu-prof-dir=${values.profile}`,
                `--cpu-prof-name=operator-${mode}-${starts++}.cpuprofile`,
              ]
            : []),
          'dist/apps/operator/src/main.js',
          '--namespaces',
          NAMESPACE,
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
    let operator = startOperator();
    try {
      const scrape = (): Promise<string> => metricsText(metricsPort, operator);
      await untilReady(probePort);
      // Before the first Capp (its informers synced): the size-0 point of the memory curve.
      const idleRss = residentMb(operator.pid);
      const floorRss = quick ? 'n/a' : await nodeFloorRss(cp);
      const before = await scrape();
      const apiBefore = await apiserverMetrics(cp);
      const profiling = profile(`apiserver-operator-${mode}`, Math.round(N / 20));
      const cpuBefore = cpuByProcess(cp.stateDir, { bench: process.pid, operator: operator.pid });
      // Convergence is observed through a watch, not by polling: a list of 1000 Capps costs the API
      // server ~0.35 CPU-s, which the operator would be charged for.
      const watching = convergence(rest, NAMESPACE, N, PER_CAPP);
      const t = performance.now();
      await pool(
        Array.from({ length: N }, (_, i) => i),
        C,
        (i) => client.apply(cappFor(NAMESPACE, i, mode) as never),
      );
      await watching;
      const ms = performance.now() - t;
      const cpuAfter = cpuByProcess(cp.stateDir, { bench: process.pid, operator: operator.pid });
      const apiAfter = await apiserverMetrics(cp);
      if (values.profile) await dumpObjects(rest, mode);
      await profiling;
      await new Promise((r) => setTimeout(r, 1000));
      const after = await scrape();
      const reads = requests(before, after, 'read');
      const writes = requests(before, after, 'write');
      const events = (
        await rest.request<{ items: unknown[] }>('GET', `/api/v1/namespaces/${NAMESPACE}/events`)
      ).items.length;
      const reconciles = (text: string): number =>
        metric(text, 'capp_reconcile_total', 'result="success"') || 0;

      // One resync of the converged set (SIGUSR1 asks the operator for one).
      operator.kill('SIGUSR1');
      let resynced: string;
      do {
        await new Promise((r) => setTimeout(r, 500));
        resynced = await scrape();
      } while (
        reconciles(resynced) < reconciles(after) + N ||
        metric(resynced, 'capp_workqueue_depth') !== 0
      );
      const rss = peakRss(operator.pid);
      const measured = {
        ms,
        cpu: cpuDelta(cpuBefore, cpuAfter),
        cpuByName: cpuSpent(cpuBefore, cpuAfter),
        reconcilesPerCapp: (reconciles(after) - reconciles(before)) / N,
        resync: `${requests(after, resynced, 'write')} / ${requests(after, resynced, 'read')}`,
      };
      if (quick) return { ...measured, rows: [] };
      // 15 s of nothing happening, then a cold restart over the converged set (its first 15 s).
      await new Promise((r) => setTimeout(r, 15_000));
      const idle = await scrape();
      const operatorCpu = cpuSeconds(operator.pid);
      operator.kill('SIGTERM');
      await new Promise((r) => operator.once('exit', r));
      operator = startOperator();
      await untilReady(probePort);
      const restarted = await scrape();
      await new Promise((r) => setTimeout(r, 15_000));
      const afterRestart = await scrape();
      const all = (a: string, b: string): string => `${requests(a, b, 'write')} / ${requests(a, b, 'read')}`;
      const rows: Array<[string, string]> = [
        ['operator reads per Capp', (reads / N).toFixed(2)],
        ['operator writes per Capp, all', (writes / N).toFixed(2)],
        [
          '  of which to Capps and children',
          // Children, finalizer, status, and the first CappRevision (on by default).
          `${((writes - events) / N).toFixed(2)} (target ≤ ${PER_CAPP + 3})`,
        ],
        ['  of which Events', (events / N).toFixed(2)],
        ['reconciles per Capp', ((reconciles(after) - reconciles(before)) / N).toFixed(2)],
        ['resync of converged set: writes', String(requests(after, resynced, 'write'))],
        ['resync of converged set: reads', String(requests(after, resynced, 'read'))],
        ['operator RSS before the first Capp (MB)', idleRss],
        ['  floor: Node.js with a TLS client and an HTTP server (MB)', floorRss],
        ['operator peak RSS (MB)', rss],
        ['operator peak RSS above idle, per Capp (KB)', perCappKb(rss, idleRss)],
        ['requests in 15 s idle (writes/reads)', all(resynced, idle)],
        ['cold restart, 15 s (writes/reads)', all(restarted, afterRestart)],
        ['operator CPU s (start → idle end)', operatorCpu.toFixed(1)],
        ...apiserverRows(apiBefore, apiAfter),
      ];
      return { ...measured, rows };
    } finally {
      operator.kill('SIGTERM');
      await new Promise((r) => operator.once('exit', r));
    }
  });
}

/** `--profile`: the first Capp and what it became, as stored, for comparing the modes' objects. */
async function dumpObjects(rest: KubeRest, mode: Mode): Promise<void> {
  const dir = values.profile ?? '.';
  const get = (path: string): Promise<unknown> =>
    rest.request('GET', path).catch((err: unknown) => String(err));
  const objects = {
    capp: await get(`/apis/rcs.dana.io/v1alpha1/namespaces/${NAMESPACE}/capps/app-0`),
    ksvc: await get(`/apis/serving.knative.dev/v1/namespaces/${NAMESPACE}/services/app-0`),
    revisions: await get(`/apis/rcs.dana.io/v1alpha1/namespaces/${NAMESPACE}/capprevisions?limit=1`),
  };
  writeFileSync(join(dir, `objects-${mode}.json`), JSON.stringify(objects, null, 1));
}

/** kube-apiserver's own /metrics (as admin). */
async function apiserverMetrics(cp: ControlPlane): Promise<string> {
  const out = spawnSync(
    'curl',
    ['-sk', '-H', `Authorization: Bearer ${cp.adminToken}`, `${cp.server}/metrics`],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  return out.stdout ?? '';
}

/** Sums of a metric's samples grouped by some of its labels. */
function samplesBy(text: string, name: string, labels: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const body = line.slice(name.length + 1, close);
    const value = Number(line.slice(close + 1).trim());
    const get = (l: string): string => new RegExp(`(?:^|,)${l}="([^"]*)"`).exec(body)?.[1] ?? '';
    const key = labels.map(get).join(' ');
    out.set(key, (out.get(key) ?? 0) + value);
  }
  return out;
}

/**
 * What kube-apiserver served between two scrapes of its /metrics, per Capp: requests by verb,
 * resource and subresource (watches and the operator's and the benchmark's requests alike), and the
 * watch events it sent by kind, with their bytes.
 */
function apiserverRows(before: string, after: string): Array<[string, string]> {
  const diff = (name: string, labels: string[]): Array<[string, number]> => {
    const a = samplesBy(before, name, labels);
    return [...samplesBy(after, name, labels)]
      .map(([k, v]): [string, number] => [k, v - (a.get(k) ?? 0)])
      .filter(([, v]) => v > 0)
      .sort(([x], [y]) => (x < y ? -1 : 1));
  };
  const rows: Array<[string, string]> = [];
  for (const [k, v] of diff('apiserver_request_total', ['verb', 'resource', 'subresource', 'code']))
    if (!/WATCH/.test(k)) rows.push([`apiserver ${k}`, (v / N).toFixed(2)]);
  const sizes = new Map(diff('apiserver_watch_events_sizes_sum', ['group', 'resource', 'kind']));
  for (const [k, v] of diff('apiserver_watch_events_total', ['group', 'resource', 'kind']))
    rows.push([
      `apiserver watch events ${k}`,
      `${(v / N).toFixed(2)} (${((sizes.get(k) ?? 0) / v).toFixed(0)} B each)`,
    ]);
  return rows;
}

/** Until a process's /readyz on `port` answers 200 (a controller-runtime manager's, or ours). */
async function untilReady(port: number): Promise<void> {
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The built peer: dana-team's container-app-operator (tools/compat/build.sh also builds its cmd). */
function peerBinary(): string {
  const out = spawnSync('bash', ['tools/compat/build.sh'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const dir = out.stdout.trim().split('\n').pop() ?? '';
  if (out.status !== 0 || !dir.startsWith('/')) throw new Error('tools/compat/build.sh failed');
  return join(dir, 'manager');
}

/** controller-runtime's client metrics: requests by method since start. */
function restRequests(text: string): { reads: number; writes: number } {
  let reads = 0;
  let writes = 0;
  for (const line of text.split('\n')) {
    const m = /^rest_client_requests_total\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const method = /method="(\w+)"/.exec(m[1] ?? '')?.[1] ?? '';
    if (method === 'GET' || method === 'LIST' || method === 'WATCH') reads += Number(m[2]);
    else writes += Number(m[2]);
  }
  return { reads, writes };
}

const cpuSeconds = (pid: number | undefined): number => {
  if (pid === undefined) return NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
/**
 * A process's /metrics. A busy machine can make one scrape time out; three in a row, or the process
 * gone, end the run with the reason.
 */
async function metricsText(port: number, child: ReturnType<typeof spawn>): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    } catch (err) {
      const exited = child.exitCode ?? child.signalCode;
      if (exited !== null || attempt === 3) {
        const cause = (err as { cause?: unknown }).cause;
        throw new Error(
          `/metrics on :${port}: ${String(cause ?? err)}${exited !== null ? ` (the process exited: ${exited})` : ''}`,
        );
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/** Resident set size now (VmRSS), in MB. */
const residentMb = (pid: number | undefined): string => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return line ? (parseInt(line.split(':')[1].trim(), 10) / 1024).toFixed(0) : 'n/a';
};

/**
 * The floor of any Node.js operator's RSS: the same Node and flags, `https` and `http` loaded, one TLS
 * request to kube-apiserver done and an HTTP server listening (what metrics and probes need), and
 * nothing else. The operator's RSS at 0 Capps is this plus its own code and heap.
 */
async function nodeFloorRss(cp: ControlPlane): Promise<string> {
  const script = [
    `const server = require('node:http').createServer((q, r) => r.end()).listen(0);`,
    `require('node:https').get(${JSON.stringify(`${cp.server}/version`)}, { ca: require('node:fs').readFileSync(${JSON.stringify(cp.caFile)}) }, (r) => {`,
    `  r.resume().on('end', () => setTimeout(() => { process.stdout.write(require('node:fs').readFileSync('/proc/self/status', 'utf8')); server.close(); }, 2000));`,
    `});`,
  ].join('\n');
  const child = spawn(process.execPath, [...OPERATOR_NODE_FLAGS, '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let status = '';
  child.stdout?.on('data', (chunk: Buffer) => (status += chunk.toString()));
  await new Promise((r) => child.once('exit', r));
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? (Number(kb) / 1024).toFixed(0) : 'n/a';
}

/** The slope of the memory curve: (peak − idle) / N, in KB per Capp. */
const perCappKb = (peakMb: string, idleMb: string): string =>
  (((Number(peakMb) - Number(idleMb)) * 1024) / N).toFixed(0);

const peakRss = (pid: number | undefined): string => {
  const hwm = pid ? /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] : undefined;
  return hwm ? (Number(hwm) / 1024).toFixed(0) : 'n/a';
};

interface PeerRun {
  ms: number;
  rows: Array<[string, string]>;
}

/**
 * container-app-operator v0.3.5 on the same Capps, the same control plane flags and machine: its own
 * CRDs (../shared/crds/reference), dns-config with its four keys, no leader election. It writes no
 * Ready condition: a Capp counts as converged with its finalizer and `status.stateStatus.state`.
 */
function peerRun(binary: string): Promise<PeerRun> {
  return onFreshCluster(
    async ({ cp, rest, client }) => {
      await client.apply({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'dns-config', namespace: 'capp-operator-system' },
        data: { zone: dns.zone, cname: dns.cname, provider: 'dns-default', issuer: 'cert-external-issuer' },
      } as never);
      const metricsPort = await freePort();
      const probePort = await freePort();
      const start = (): ReturnType<typeof spawn> =>
        spawn(
          binary,
          [
            `--kubeconfig=${cp.kubeconfigPath}`,
            '--leader-elect=false',
            '--ecs-logging=false',
            `--metrics-bind-address=127.0.0.1:${metricsPort}`,
            `--health-probe-bind-address=127.0.0.1:${probePort}`,
          ],
          { stdio: ['ignore', 'ignore', 'ignore'] },
        );
      const scrape = async (): Promise<{ reads: number; writes: number }> =>
        restRequests(await metricsText(metricsPort, manager));
      const ready = (): Promise<void> => untilReady(probePort);
      let manager = start();
      try {
        await ready();
        const idleRss = residentMb(manager.pid);
        const before = await scrape();
        const cpu0 = cpuSeconds(manager.pid);
        const t = performance.now();
        await pool(
          Array.from({ length: N }, (_, i) => i),
          C,
          (i) => {
            const capp = cappFor(NAMESPACE, i);
            delete capp.spec.resourcePolicy;
            return client.apply(capp as never);
          },
        );
        for (;;) {
          const list = await rest.request<{ items: Capp[] }>('GET', resourcePath(CAPP_TYPE, NAMESPACE));
          const done = list.items.filter(
            (c) =>
              c.metadata.finalizers?.includes('dana.io/capp-cleanup') &&
              (c.status as { stateStatus?: { state?: string } } | undefined)?.stateStatus?.state,
          ).length;
          if (done === N) break;
          await new Promise((r) => setTimeout(r, 1000));
        }
        const ms = performance.now() - t;
        const converged = await scrape();
        const events = (
          await rest.request<{ items: unknown[] }>('GET', `/api/v1/namespaces/${NAMESPACE}/events`)
        ).items.length;
        await new Promise((r) => setTimeout(r, 15_000));
        const idle = await scrape();
        const cpu = cpuSeconds(manager.pid) - cpu0;
        const rss = peakRss(manager.pid);
        // A cold restart over the converged set: requests in its first 15 s.
        manager.kill('SIGTERM');
        await new Promise((r) => manager.once('exit', r));
        manager = start();
        await ready();
        const restarted = await scrape();
        await new Promise((r) => setTimeout(r, 15_000));
        const afterRestart = await scrape();
        return {
          ms,
          rows: [
            ['peer: create → all converged (s)', (ms / 1000).toFixed(2)],
            ['peer writes per Capp, all', ((converged.writes - before.writes) / N).toFixed(2)],
            ['peer reads per Capp (watches included)', ((converged.reads - before.reads) / N).toFixed(2)],
            ['peer Events per Capp', (events / N).toFixed(2)],
            [
              'peer requests in 15 s idle (writes/reads)',
              `${idle.writes - converged.writes} / ${idle.reads - converged.reads}`,
            ],
            [
              'peer cold restart, 15 s (writes/reads)',
              `${afterRestart.writes - restarted.writes} / ${afterRestart.reads - restarted.reads}`,
            ],
            ['peer RSS before the first Capp (MB)', idleRss],
            ['peer peak RSS (MB)', rss],
            ['peer peak RSS above idle, per Capp (KB)', perCappKb(rss, idleRss)],
            ['peer CPU s (create → idle end)', cpu.toFixed(1)],
          ],
        };
      } finally {
        manager.kill('SIGTERM');
        await new Promise((r) => manager.once('exit', r));
      }
    },
    [
      ...testCrds().crds.filter((c) => !JSON.stringify(c['spec'] ?? {}).includes('"group":"rcs.dana.io"')),
      ...referenceCrds(
        'capps.rcs.dana.io',
        'capprevisions.rcs.dana.io',
        'syslogngflows.logging.banzaicloud.io',
        'syslogngoutputs.logging.banzaicloud.io',
      ),
    ],
  );
}

/**
 * `--traits 3 --rounds K`: the trait comparison alone, K interleaved rounds, one line per round. The
 * prescribed floor with the traits' content (the benchmark applies the traited children and status
 * itself, no operator) tells what the bigger objects cost the API server whoever writes them.
 */
async function traitRounds(rounds: number): Promise<void> {
  const cpuOf = (m: Measured, name: string): string => (m.cpuByName[name] ?? 0).toFixed(1);
  const header = [
    'round',
    'floor none / traits (s)',
    'floor traits / none',
    'op none / traits / inline (s)',
    '**traits / none**',
    'traits / inline',
    'apiserver CPU s: floor none / traits; op none / traits / inline',
    'operator CPU s: none / traits / inline',
    'reconciles per Capp',
    'resync w/r',
    'others CPU s (max)',
  ];
  process.stdout.write(`| ${header.join(' | ')} |\n`);
  for (let r = 1; r <= rounds; r++) {
    const floorPlain = await floor('prescribed');
    const floorTraits = await floor('prescribed', 'traits');
    // The operator's three runs in a rotating order: no mode always runs first or after another.
    const runs = new Map<Mode, OperatorRun>();
    const order: Mode[] = ['plain', 'traits', 'inline'];
    for (let k = 0; k < order.length; k++) {
      const mode = order[(k + r - 1) % order.length];
      runs.set(mode, await operatorRun(mode, true));
    }
    const [none, traits, inline] = order.map((m) => runs.get(m) as OperatorRun);
    const all = [floorPlain, floorTraits, none, traits, inline];
    const s = (m: Measured): string => (m.ms / 1000).toFixed(2);
    const cells = [
      String(r),
      `${s(floorPlain)} / ${s(floorTraits)}`,
      (floorTraits.ms / floorPlain.ms).toFixed(2),
      `${s(none)} / ${s(traits)} / ${s(inline)}`,
      (traits.ms / none.ms).toFixed(2),
      (traits.ms / inline.ms).toFixed(2),
      `${cpuOf(floorPlain, 'kube-apiserver')} / ${cpuOf(floorTraits, 'kube-apiserver')}; ${[
        none,
        traits,
        inline,
      ]
        .map((m) => cpuOf(m, 'kube-apiserver'))
        .join(' / ')}`,
      [none, traits, inline].map((m) => cpuOf(m, 'operator')).join(' / '),
      [none, traits, inline].map((m) => m.reconcilesPerCapp.toFixed(2)).join(' / '),
      [none, traits, inline].map((m) => m.resync).join(', '),
      Math.max(...all.map((m) => m.cpuByName['others'] ?? 0)).toFixed(1),
    ];
    process.stdout.write(`| ${cells.join(' | ')} |\n`);
  }
}

async function main(): Promise<void> {
  build('operator');
  process.stdout.write(`N=${N} Capps, concurrency ${C}, a fresh control plane per phase\n`);
  if (values.rounds) {
    if (T !== 3) throw new Error('--rounds needs --traits 3');
    await traitRounds(Number(values.rounds));
    return;
  }
  // The baseline first and last: the spread between the two is the noise of this machine.
  const first = await baseline('baseline');
  const prescribed = await floor('prescribed');
  const irreducible = await floor('irreducible');
  const operator = await operatorRun();
  const peer = values.peer !== 'false' ? await peerRun(peerBinary()) : undefined;
  const traited = T > 0 ? await operatorRun('traits') : undefined;
  // The control: the same content without traits (only meaningful with all three).
  const inline = T === 3 ? await operatorRun('inline') : undefined;
  const last = await baseline('baseline-again');
  const baselineMs = (first.ms + last.ms) / 2;
  const seconds = (ms: number): string => (ms / 1000).toFixed(2);
  const ratio = (ms: number): string => (ms / baselineMs).toFixed(2);
  const rows: Array<[string, string]> = [
    ['Capps', String(N)],
    ['children per Capp', String(PER_CAPP)],
    ['baseline: apply rendered children (s)', `${seconds(first.ms)} first, ${seconds(last.ms)} last`],
    ['operator: create → all converged (s)', seconds(operator.ms)],
    ['ratio operator / baseline', ratio(operator.ms)],
    ['floor, prescribed requests only (s)', seconds(prescribed.ms)],
    ['  ratio floor / baseline', ratio(prescribed.ms)],
    ['  ratio operator / floor', (operator.ms / prescribed.ms).toFixed(2)],
    ['floor, irreducible requests only (s)', seconds(irreducible.ms)],
    ['  ratio floor / baseline', ratio(irreducible.ms)],
    ...operator.rows,
    ...(peer
      ? [
          ...peer.rows,
          ['peer / ours, time to converge', (peer.ms / operator.ms).toFixed(1)] as [string, string],
        ]
      : []),
    ...(traited
      ? ([
          [`operator, ${T} traits per Capp: create → all converged (s)`, seconds(traited.ms)],
          ['  ratio with traits / without', (traited.ms / operator.ms).toFixed(2)],
          ...traited.rows.map(([k, v]): [string, string] => [`  with traits: ${k.trim()}`, v]),
          ['CPU s during operator run with traits', traited.cpu],
        ] as Array<[string, string]>)
      : []),
    ...(inline && traited
      ? ([
          ['operator, same content inline (no traits) (s)', seconds(inline.ms)],
          ['  ratio with traits / same content inline', (traited.ms / inline.ms).toFixed(2)],
          ...inline.rows.map(([k, v]): [string, string] => [`  inline: ${k.trim()}`, v]),
          ['CPU s during operator run, content inline', inline.cpu],
        ] as Array<[string, string]>)
      : []),
    ['CPU s during baseline (first)', first.cpu],
    ['CPU s during prescribed floor', prescribed.cpu],
    ['CPU s during irreducible floor', irreducible.cpu],
    ['CPU s during operator run', operator.cpu],
    ['CPU s during baseline (last)', last.cpu],
  ];
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(40)} ${v}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
