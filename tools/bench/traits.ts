/**
 * The traits the benchmarks put on every Capp: the first `n` of the chart's catalogue that patch the
 * Knative Service without conflicting (env, virtual-group, kautoscale), with their properties.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { CappTrait, CappTraitRef } from '@capp/capp-model';
import { parse } from 'yaml';

const CATALOGUE = join(__dirname, '..', '..', 'charts', 'capp-platform', 'traits');

const USES: CappTraitRef[] = [
  { type: 'env', properties: { env: { LOG_LEVEL: 'info', REGION: 'eu-west' } } },
  { type: 'virtual-group', properties: { group: 'bench' } },
  { type: 'kautoscale', properties: { window: '60s', scaleDownDelay: '30s' } },
];

export function benchTraits(n: number): { traits: CappTrait[]; uses: CappTraitRef[] } {
  if (n > USES.length) throw new Error(`--traits at most ${USES.length}`);
  const uses = USES.slice(0, n);
  const traits = uses.map((u) => parse(readFileSync(join(CATALOGUE, `${u.type}.yaml`), 'utf8')) as CappTrait);
  return { traits, uses };
}
