/**
 * `npm run bench:healthscope [-- --capps 1000 --period 5 --idle 3]`: one HealthScope over N Capps
 * with an HTTP probe, on a private control plane (docs/benchmarks.md):
 *
 *  1. N Capps are created and made Ready as Knative would (their ksvc status URL points at a loopback
 *     HTTP server running in a child process, so its CPU is not counted as the operator's);
 *  2. a scope selecting them all, with a probe every `--period` seconds, is created: time until its
 *     status says N healthy (the first full evaluation, with N probes);
 *  3. idle for `--idle` probe periods: mean duration of one periodic full evaluation (probes
 *     included), the operator's CPU per evaluation (process.cpuUsage of this process, in which the
 *     operator runs through `createOperator`, the one wiring), probes made, and the requests the
 *     operator sent to the API server meanwhile (target 0).
 *
 * Prints numbers; asserts nothing.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';

import type { HealthScopeStatus } from '@capp/capp-model';
import { KNATIVE_SERVICE } from '@capp/knative-adapter';
import { CAPP_TYPE, HEALTHSCOPE_TYPE, KubeRest } from '@capp/kube';
import { startControlPlane, waitFor } from '@capp/testing';
import pino from 'pino';

import { OperatorMetrics } from '../../apps/operator/src/observability/metrics';
import { createOperator, operatorClient } from '../../apps/operator/src/wiring';

const { values } = parseArgs({
  options: {
    capps: { type: 'string', default: '1000' },
    period: { type: 'string', default: '5' },
    idle: { type: 'string', default: '3' },
    'probe-concurrency': { type: 'string', default: '16' },
  },
});
const N = Number(values.capps);
const PERIOD = Number(values.period);
const IDLE_PERIODS = Number(values.idle);
const NS = 'bench';

async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/** The probed app, in a child process: 200 to everything. Resolves with its URL. */
function startProbedApp(): Promise<{ url: string; stop: () => void }> {
  const script =
    "require('node:http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', function () { process.send(this.address().port); });";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve) =>
    child.once('message', (port) =>
      resolve({ url: `http://127.0.0.1:${String(port)}`, stop: () => child.kill() }),
    ),
  );
}

function histogram(text: string, name: string): { sum: number; count: number } {
  const read = (suffix: string): number =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${name}_${suffix}`))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  return { sum: read('sum'), count: read('count') };
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const cp = await startControlPlane({ log: () => undefined });
  const app = await startProbedApp();
  const admin = KubeRest.fromKubeconfig(cp.kubeconfigPath);
  const client = operatorClient(admin, 'bench');
  const rest = KubeRest.fromKubeconfig(cp.kubeconfigPath);
  const metrics = new OperatorMetrics({ processMetrics: false, kubeRequests: () => rest.counts });
  const operator = createOperator(
    rest,
    {
      namespaces: [NS],
      operatorNamespace: 'capp-operator-system',
      concurrency: 8,
      resyncSeconds: 0,
      cappRevisions: false,
      probeConcurrency: Number(values['probe-concurrency']),
    },
    pino({ level: 'warn' }),
    metrics,
  );
  try {
    for (const name of [NS, 'capp-operator-system'])
      await admin.request('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
      });
    await operator.start();
    console.log(`control plane and operator up in ${Date.now() - t0} ms; ${N} Capps, probe every ${PERIOD}s`);

    const names = Array.from({ length: N }, (_, i) => `app-${i}`);
    let t = Date.now();
    await pool(names, 16, (name) =>
      client.apply({
        apiVersion: 'rcs.dana.io/v1alpha1',
        kind: 'Capp',
        metadata: { name, namespace: NS, labels: { shop: 'bench' } },
        spec: { configurationSpec: { template: { spec: { containers: [{ name: 'app', image: 'x:1' }] } } } },
      }),
    );
    // Knative's part: each Service Ready at the probed app's URL.
    await pool(names, 16, async (name) => {
      await waitFor(`ksvc ${name}`, () => client.get(KNATIVE_SERVICE, NS, name), 300_000);
      await client.apply(
        {
          apiVersion: KNATIVE_SERVICE.apiVersion,
          kind: KNATIVE_SERVICE.kind,
          metadata: { name, namespace: NS },
          status: {
            observedGeneration: 1,
            url: app.url,
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                lastTransitionTime: new Date().toISOString().replace(/\.\d+Z/, 'Z'),
              },
            ],
          },
        },
        { subresource: 'status' },
      );
    });
    await waitFor(
      'every Capp Ready',
      async () => {
        const list = await client.list(CAPP_TYPE, { namespace: NS });
        return list.items.filter((c) => (c.status?.['url'] as string | undefined) === app.url).length === N;
      },
      600_000,
    );
    console.log(`${N} Capps Ready in ${Date.now() - t} ms (setup, not the scope)`);

    t = Date.now();
    await client.apply({
      apiVersion: 'rcs.dana.io/v1alpha1',
      kind: 'HealthScope',
      metadata: { name: 'shop', namespace: NS },
      spec: {
        selector: { matchLabels: { shop: 'bench' } },
        probe: { path: '/healthz', periodSeconds: PERIOD, timeoutSeconds: 1, failureThreshold: 1 },
      },
    });
    await waitFor(
      'the scope Healthy over every Capp',
      async () => {
        const s = (await client.get(HEALTHSCOPE_TYPE, NS, 'shop'))?.status as HealthScopeStatus | undefined;
        return s?.health === 'Healthy' && s.healthy === N;
      },
      600_000,
    );
    console.log(
      `first evaluation (scope created → status Healthy, ${N} members, ${N} probes): ${Date.now() - t} ms`,
    );

    await operator.healthScopes?.queue.whenIdle();
    await new Promise((r) => setTimeout(r, 2000)); // echoes in
    const before = { text: await metrics.metricsText(), cpu: process.cpuUsage(), counts: { ...rest.counts } };
    const idleMs = IDLE_PERIODS * PERIOD * 1000 + 500;
    await new Promise((r) => setTimeout(r, idleMs));
    const after = { text: await metrics.metricsText(), cpu: process.cpuUsage(), counts: { ...rest.counts } };
    const ev0 = histogram(before.text, 'capp_healthscope_evaluation_duration_seconds');
    const ev1 = histogram(after.text, 'capp_healthscope_evaluation_duration_seconds');
    const pr0 = histogram(before.text, 'capp_probe_duration_seconds');
    const pr1 = histogram(after.text, 'capp_probe_duration_seconds');
    const evaluations = ev1.count - ev0.count;
    const cpuSeconds = (after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system) / 1e6;
    console.log(
      [
        `idle ${(idleMs / 1000).toFixed(1)} s (${IDLE_PERIODS} probe periods):`,
        `  periodic full evaluations: ${evaluations}, mean ${(((ev1.sum - ev0.sum) / Math.max(1, evaluations)) * 1000).toFixed(0)} ms each (probes included)`,
        `  probes: ${pr1.count - pr0.count}, mean ${(((pr1.sum - pr0.sum) / Math.max(1, pr1.count - pr0.count)) * 1000).toFixed(1)} ms`,
        `  operator CPU: ${cpuSeconds.toFixed(2)} s in all, ${(cpuSeconds / Math.max(1, evaluations)).toFixed(3)} s per evaluation`,
        `  requests to the API server: ${after.counts.reads - before.counts.reads} reads, ${after.counts.writes - before.counts.writes} writes (target 0)`,
      ].join('\n'),
    );
  } finally {
    await operator.stop();
    app.stop();
    admin.close();
    rest.close();
    await cp.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
