import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { PLATFORM_KNATIVE_FEATURES } from '@capp/capp-model';
import { KNATIVE_CORPUS } from '@capp/capp-model/corpus';
import { knativeAdmissionBinary, SHARED_CRDS_DIR } from '@capp/testing';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';

import { cappArbitrary } from './capp-generator';
import { type Case, differential, type Report } from './differential';

/**
 * Our Knative rules (libs/capp-model/src/lib/knative) against Knative Serving's own validation code
 * (tools/knative/admission, batch mode): every Capp we accept renders children Serving admits, and
 * every Capp we refuse by a Knative rule renders children Serving refuses. Zero disagreements.
 * KNATIVE_DIFF_SEED and KNATIVE_DIFF_RUNS pick another sample of generated Capps.
 */
const SEED = Number(process.env['KNATIVE_DIFF_SEED'] ?? 20261130);
const RUNS = Number(process.env['KNATIVE_DIFF_RUNS'] ?? 3000);

const explain = (report: Report): string =>
  report.disagreements
    .slice(0, 5)
    .map(
      (d) =>
        `${d.kind} ${d.id}\n  ours: ${d.ours.join(' | ') || 'accepted'}\n  knative: ${d.knative}\n  capp: ${JSON.stringify(d.capp)}`,
    )
    .join('\n');

const summary = (name: string, r: Report): string =>
  `${name}: ${r.total} Capps, ${r.structural} refused by the schema, ${r.acceptedByBoth} accepted by both, ${r.refusedByBoth} refused by both, ${r.disagreements.length} disagreements`;

function examples(): Case[] {
  const dir = join(SHARED_CRDS_DIR, '..', 'examples');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(dir, f), 'utf8'))
        .map((d) => d.toJS() as Record<string, unknown>)
        .filter((o) => o?.['kind'] === 'Capp')
        .map((capp, i) => ({ id: `example ${f}#${i}`, capp })),
    );
}

describe("our Knative rules agree with Knative Serving's own validation", () => {
  let binary: string;
  beforeAll(async () => {
    binary = await knativeAdmissionBinary();
  }, 600_000);

  it('on the corpus of valid Capps and ordinary mistakes, with the platform features and with none', async () => {
    const cases = [...KNATIVE_CORPUS.map((c) => ({ id: c.title, capp: c.capp })), ...examples()];
    for (const [name, config] of [
      ['platform features', { features: PLATFORM_KNATIVE_FEATURES }],
      ["Serving's defaults", {}],
    ] as const) {
      const report = await differential(binary, config, cases);
      console.log(summary(`corpus, ${name}`, report));
      expect(explain(report)).toBe('');
      expect(report.refusedByBoth + report.acceptedByBoth).toBe(cases.length - report.structural);
    }
  });

  it(`on ${RUNS} generated Capps (seed ${SEED})`, async () => {
    const cases = fc
      .sample(cappArbitrary, { numRuns: RUNS, seed: SEED })
      .map((capp, i) => ({ id: `generated #${i}`, capp }));
    const report = await differential(binary, { features: PLATFORM_KNATIVE_FEATURES }, cases);
    console.log(summary('generated', report));
    expect(explain(report)).toBe('');
    // The sample exercises both sides of the rules, not only one.
    expect(report.acceptedByBoth).toBeGreaterThan(RUNS / 20);
    expect(report.refusedByBoth).toBeGreaterThan(RUNS / 4);
  });
});
