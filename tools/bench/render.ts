/**
 * `npm run bench:render [-- --capps 2000 --traits 3]`: the pure render of a Capp into its children
 * (libs/knative-adapter), without and with traits applied (JSONata templates, Ajv parameters,
 * strategic merge with conflict detection), in µs per Capp. One process, no cluster; warm-up first.
 */
import { parseArgs } from 'node:util';

import type { Capp } from '@capp/capp-model';
import { applyTraits, AUTOSCALE_FALLBACKS, parseDnsConfig, renderChildren } from '@capp/knative-adapter';

import { benchTraits } from './traits';

const { values } = parseArgs({
  options: { capps: { type: 'string', default: '2000' }, traits: { type: 'string', default: '3' } },
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

async function main(): Promise<void> {
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
