/**
 * `npm run bench:multicluster [-- --capps 1000 --concurrency 16]`: Capps spread over two managed
 * clusters through Open Cluster Management, against the same Capps on one cluster, in one run on one
 * machine (docs/benchmarks.md, "Multi-cluster"):
 *
 *  1. single cluster: N Capps created on cluster-1 directly; its operator renders them;
 *  2. multi-cluster: N Capps without site created on the hub; the hub operator (`--hub true`) places
 *     them by the default Placement (over both clusters) and carries each in a ManifestWork; the work
 *     agents apply them; the managed operators render them; the status comes back.
 *
 * Every operator is the built process (dist/). Knative is played on each managed cluster: every
 * Knative Service generation is marked Ready as soon as it is seen. Measured: time from create to Ready
 * (on the hub, as fed back, with Synced=True) — all done, and per-Capp p50/p95/max; Kubernetes API
 * requests per Capp of each operator (its `capp_kube_requests_total`). The work agents sync status
 * every second (the harness's `--status-sync-interval=1s`; OCM's default is 10 s). Prints; asserts nothing.
 */
import { parseArgs } from 'node:util';

import type { KubeObject } from '@capp/capp-model';
import { KNATIVE_SERVICE } from '@capp/knative-adapter';
import { CAPP_TYPE, Informer, KubeClient, KubeRest } from '@capp/kube';
import {
  markKnativeServiceReady,
  type MultiCluster,
  MultiClusterOperators,
  type OperatorProcess,
  startMultiCluster,
} from '@capp/testing';

const { values } = parseArgs({
  options: {
    capps: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '16' },
  },
});
const N = Number(values.capps);
const C = Number(values.concurrency);
const HEARTBEAT_TIMEOUT_S = 30;

type Condition = { type: string; status: string };
const conditionOf = (o: KubeObject, type: string): string | undefined =>
  ((o.status?.['conditions'] ?? []) as Condition[]).find((c) => c.type === type)?.status;

function capp(ns: string, name: string): KubeObject {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name, namespace: ns },
    spec: {
      configurationSpec: {
        template: { spec: { containers: [{ name: 'app', image: 'ghcr.io/dana-team/capp-gin-app:v0.2.0' }] } },
      },
    },
  };
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/** Plays Knative on a cluster: each Knative Service generation is marked Ready once seen. */
function knativePlayer(rest: KubeRest, cluster: string): Informer {
  const client = new KubeClient(rest, { fieldManager: 'bench-knative', types: [KNATIVE_SERVICE] });
  const marked = new Map<string, number>();
  const mark = (k: KubeObject): void => {
    const key = `${k.metadata.namespace}/${k.metadata.name}`;
    const generation = k.metadata.generation ?? 0;
    if (
      (k.status?.['observedGeneration'] as number | undefined) === generation ||
      marked.get(key) === generation
    )
      return;
    marked.set(key, generation);
    void markKnativeServiceReady(client, k, cluster).catch(() => marked.delete(key));
  };
  const informer = new Informer(rest, KNATIVE_SERVICE, { onAdd: mark, onUpdate: mark });
  informer.start();
  return informer;
}

async function requests(p: OperatorProcess): Promise<number> {
  const { body } = await p.get('/metrics');
  return body
    .split('\n')
    .filter((l) => l.startsWith('capp_kube_requests_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

interface Result {
  seconds: number;
  p50: number;
  p95: number;
  max: number;
}

/** Creates N Capps through `rest` in `ns` and waits until every one satisfies `ready` (seen through a watch). */
async function run(rest: KubeRest, ns: string, ready: (c: KubeObject) => boolean): Promise<Result> {
  const client = new KubeClient(rest, { fieldManager: 'bench' });
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const created = new Map<string, number>();
  const done = new Map<string, number>();
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((r) => (resolveAll = r));
  const seen = (c: KubeObject): void => {
    if (done.has(c.metadata.name) || !created.has(c.metadata.name) || !ready(c)) return;
    done.set(c.metadata.name, Date.now());
    if (done.size === N) resolveAll();
  };
  const informer = new Informer(rest, CAPP_TYPE, { onAdd: seen, onUpdate: seen }, { namespace: ns });
  informer.start();
  await informer.waitForSync();
  const t0 = Date.now();
  const names = Array.from({ length: N }, (_, i) => `b${i}`);
  await pool(names, C, async (name) => {
    created.set(name, Date.now());
    await client.create(capp(ns, name));
  });
  for (const c of informer.list()) seen(c);
  const timeout = setTimeout(() => resolveAll(), 20 * 60_000);
  await all;
  clearTimeout(timeout);
  const seconds = (Date.now() - t0) / 1000;
  await informer.stop();
  if (done.size < N) throw new Error(`only ${done.size} of ${N} Capps ready after 20 min`);
  const latencies = names
    .map((n) => ((done.get(n) ?? 0) - (created.get(n) ?? 0)) / 1000)
    .sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { seconds, p50: at(0.5), p95: at(0.95), max: latencies[latencies.length - 1] };
}

async function main(): Promise<void> {
  let env: MultiCluster | undefined;
  const processes: OperatorProcess[] = [];
  const players: Informer[] = [];
  // Ctrl-C: the operators are plain children (the control planes have their own watchdogs).
  process.once('SIGINT', () => {
    for (const p of processes) p.kill('SIGTERM');
    process.exit(130);
  });
  try {
    env = await startMultiCluster({ clusters: 2, log: (l) => process.stderr.write(`${l}\n`) });
    const operators = new MultiClusterOperators(env);
    processes.push(...operators.managed, operators.hub);
    await operators.start({
      managedArgs: ['--health-scopes', 'false', '--capp-revisions', 'false', '--concurrency', '8'],
      heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT_S,
      hubArgs: ['--concurrency', '8'],
    });
    const { hub, managed } = operators;
    for (const c of env.clusters) players.push(knativePlayer(KubeRest.fromKubeconfig(c.kubeconfig), c.name));

    // 1. single cluster: cluster-1's operator alone.
    const one = KubeRest.fromKubeconfig(env.clusters[0].kubeconfig);
    const before1 = await requests(managed[0]);
    const single = await run(
      one,
      'bench-single',
      (c) => conditionOf(c, 'Ready') === 'True' && c.status?.['observedGeneration'] === c.metadata.generation,
    );
    const singleRequests = ((await requests(managed[0])) - before1) / N;

    // 2. multi-cluster: through the hub.
    const hubRest = KubeRest.fromKubeconfig(env.hubKubeconfig);
    const beforeHub = await requests(hub);
    const beforeManaged = await Promise.all(managed.map(requests));
    const multi = await run(
      hubRest,
      'bench-multi',
      (c) =>
        conditionOf(c, 'Ready') === 'True' &&
        conditionOf(c, 'Synced') === 'True' &&
        c.status?.['observedGeneration'] === c.metadata.generation,
    );
    const hubRequests = ((await requests(hub)) - beforeHub) / N;
    const managedRequests = (await Promise.all(managed.map(requests))).map((r, i) => r - beforeManaged[i]);
    const spread = await Promise.all(
      env.clusters.map(async (c) => {
        const list = await KubeRest.fromKubeconfig(c.kubeconfig).request<{ items: unknown[] }>(
          'GET',
          '/apis/rcs.dana.io/v1alpha1/namespaces/bench-multi/capps',
        );
        return `${c.name} ${list.items.length}`;
      }),
    );

    const row = (name: string, r: Result, req: string): string =>
      `| ${name} | ${r.seconds.toFixed(1)} s | ${r.p50.toFixed(1)} s | ${r.p95.toFixed(1)} s | ${r.max.toFixed(1)} s | ${req} |`;
    console.log(`\n${N} Capps, concurrency ${C} (create), spread: ${spread.join(', ')}\n`);
    console.log('| run | all Ready | p50 | p95 | max | API requests per Capp |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    console.log(row('one cluster (operator)', single, `${singleRequests.toFixed(2)} (operator)`));
    console.log(
      row(
        'hub + 2 managed (OCM)',
        multi,
        `${hubRequests.toFixed(2)} on the hub (hub operator); ${(managedRequests.reduce((a, b) => a + b, 0) / N).toFixed(2)} on the managed clusters (their operators)`,
      ),
    );
  } finally {
    for (const p of players) await p.stop();
    for (const p of processes.reverse()) await p.stop().catch(() => undefined);
    await env?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `bench:multicluster: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
