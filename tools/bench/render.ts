/**
 * `npm run bench:render [-- --capps 2000 --traits 3]`: the pure render of a Capp into its children
 * (libs/knative-adapter), without and with traits applied (JSONata templates, Ajv parameters,
 * strategic merge with conflict detection), in µs per Capp. One process, no cluster; warm-up first.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import type { Capp } from '@capp/capp-model';
import {
  applyTraits,
  AUTOSCALE_FALLBACKS,
  parseDnsConfig,
  prepareTrait,
  renderChildren,
} from '@capp/knative-adapter';

import { benchTraits } from './traits';

const { values } = parseArgs({
  options: {
    capps: { type: 'string', default: '2000' },
    traits: { type: 'string', default: '3' },
    /**
     * Cold, as an operator that just started: each case in a process of its own, no warm-up, the
     * CappTraits as a cache would hand them out (the same objects every time), CPU time per case.
     */
    cold: { type: 'boolean', default: false },
    /** Internal (`--cold`): the case this process measures. */
    case: { type: 'string' },
  },
});
const N = Number(values.capps);
const { traits, uses } = benchTraits(Number(values.traits));
const byName = new Map(traits.map((t) => [t.metadata.name, t]));
const dns = parseDnsConfig({ data: { zone: 'bench.example.com.', cname: 'ingress.bench.example.com.' } });

function cappFor(i: number, withTraits: boolean): Capp {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name: `app-${i}`, namespace: 'bench', uid: `uid-${i}`, generation: 1 },
    spec: {
      configurationSpec: {
        template: { spec: { containers: [{ name: 'app', image: `ghcr.io/acme/app:${i}` }] } },
      },
      routeSpec: { hostname: `app-${i}`, tlsEnabled: true },
      volumesSpec: {
        nfsVolumes: [{ name: `d-${i}`, server: 'nfs', path: `/e/${i}`, capacity: { storage: '1Gi' } }],
      },
      logSpec: { type: 'elastic', host: 'es', index: 'apps', user: 'elastic', passwordSecret: 'es-pass' },
      ...(withTraits ? { traits: uses } : {}),
    },
  };
}

async function run(withTraits: boolean): Promise<number> {
  const capps = Array.from({ length: N }, (_, i) => cappFor(i, withTraits));
  const t = performance.now();
  for (const capp of capps) {
    const children = renderChildren(capp, { autoscale: { ...AUTOSCALE_FALLBACKS }, dns });
    if (withTraits) await applyTraits({ capp, children, lookup: (n) => byName.get(n) });
  }
  return ((performance.now() - t) * 1000) / N;
}

/** One cold case in this process: `plain`, `traits` (compiled on first use) or `prepared` (prepareTrait first). */
async function coldCase(kind: string): Promise<void> {
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let prepareMs = 0;
  if (kind === 'prepared') {
    const t = cpu();
    for (const trait of traits) prepareTrait(trait);
    prepareMs = cpu() - t;
  }
  const t = cpu();
  const first = performance.now();
  let firstMs = 0;
  for (let i = 0; i < N; i++) {
    const capp = cappFor(i, kind !== 'plain');
    const children = renderChildren(capp, { autoscale: { ...AUTOSCALE_FALLBACKS }, dns });
    if (kind !== 'plain') await applyTraits({ capp, children, lookup: (n) => byName.get(n) });
    if (i === 0) firstMs = performance.now() - first;
  }
  process.stdout.write(JSON.stringify({ kind, cpuMs: cpu() - t, prepareMs, firstMs }));
}

/** `--cold`: each case in a fresh process. */
function cold(): void {
  const run1 = (kind: string): { cpuMs: number; prepareMs: number; firstMs: number } => {
    const out = spawnSync(
      process.execPath,
      [
        join(__dirname, '..', 'run-ts.cjs'),
        __filename,
        '--capps',
        String(N),
        '--traits',
        String(uses.length),
        '--case',
        kind,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    return JSON.parse(out.stdout) as { cpuMs: number; prepareMs: number; firstMs: number };
  };
  const plain = run1('plain');
  const traited = run1('traits');
  const prepared = run1('prepared');
  const per = (ms: number): string => ((ms * 1000) / N).toFixed(0);
  const rows: Array<[string, string]> = [
    ['Capps (cold process each)', String(N)],
    ['traits per Capp', String(uses.length)],
    ['render, no traits: CPU ms (µs per Capp)', `${plain.cpuMs.toFixed(0)} (${per(plain.cpuMs)})`],
    [
      'render + traits, compiled on first use: CPU ms (µs per Capp)',
      `${traited.cpuMs.toFixed(0)} (${per(traited.cpuMs)}); first Capp ${traited.firstMs.toFixed(0)} ms`,
    ],
    [
      'render + traits, prepared: CPU ms (µs per Capp)',
      `${prepared.cpuMs.toFixed(0)} (${per(prepared.cpuMs)}); first Capp ${prepared.firstMs.toFixed(0)} ms`,
    ],
    ['prepareTrait of the traits: CPU ms', prepared.prepareMs.toFixed(0)],
  ];
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(64)} ${v}\n`);
}

async function main(): Promise<void> {
  if (values.case) return coldCase(values.case);
  if (values.cold) return cold();
  await run(false);
  await run(true); // warm-up: JIT, compiled templates and schemas
  const plain = await run(false);
  const traited = await run(true);
  const rows: Array<[string, string]> = [
    ['Capps', String(N)],
    ['traits per Capp', String(uses.length)],
    ['render, no traits (µs per Capp)', plain.toFixed(1)],
    [`render + ${uses.length} traits (µs per Capp)`, traited.toFixed(1)],
    ['traits cost (µs per Capp)', (traited - plain).toFixed(1)],
  ];
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(40)} ${v}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
