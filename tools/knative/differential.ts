/**
 * The differential check of our Knative rules against Knative Serving's own code: render each Capp
 * (libs/knative-adapter), run its Knative children through `knative-admission check` (Serving's
 * SetDefaults + Validate, batch mode), and compare with what `validateCapp` said.
 *
 * - unsafe: we accept a Capp whose children Serving refuses (the user would learn late, from a False
 *   condition);
 * - over-strict: we refuse (by a Knative rule) a Capp whose children Serving admits.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Capp, type KnativeConfigData, knativeSettings, validateCapp } from '@capp/capp-model';
import { parseAutoscaleDefaults, parseDnsConfig, renderChildren } from '@capp/knative-adapter';

export interface Verdict {
  allowed: boolean;
  message?: string;
}

export interface Case {
  id: string;
  capp: Record<string, unknown>;
}

export interface Disagreement {
  id: string;
  kind: 'unsafe' | 'over-strict';
  ours: string[];
  knative: string;
  capp: Record<string, unknown>;
}

export interface Report {
  total: number;
  /** Refused by the structural schema: Knative's rules are not asked. */
  structural: number;
  acceptedByBoth: number;
  refusedByBoth: number;
  disagreements: Disagreement[];
}

const KNATIVE_KINDS = new Set([
  'serving.knative.dev/v1/Service',
  'serving.knative.dev/v1beta1/DomainMapping',
]);

const AUTOSCALE = parseAutoscaleDefaults({ data: {} });
const DNS = parseDnsConfig({
  data: {
    zone: 'apps.example.com.',
    cname: 'ingress.apps.example.com.',
    provider: 'dns-default',
    issuer: 'cert-issuer',
  },
});

/** Serving's verdicts on many objects: one `knative-admission check` process, JSON lines in and out. */
export function knativeCheck(
  binary: string,
  config: KnativeConfigData,
  objects: { id: string; object: unknown }[],
): Promise<Map<string, Verdict>> {
  const dir = mkdtempSync(join(tmpdir(), 'knative-check-'));
  const configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      'config-features': config.features ?? {},
      'config-defaults': config.defaults ?? {},
      'config-autoscaler': config.autoscaler ?? {},
    }),
  );
  return new Promise<Map<string, Verdict>>((resolve, reject) => {
    const child = spawn(binary, ['check', `--config=${configFile}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`knative-admission check exited ${code}: ${err}`));
      const verdicts = new Map<string, Verdict>();
      for (const line of out.split('\n')) {
        if (line.trim() === '') continue;
        const r = JSON.parse(line) as { id: string; allowed: boolean; message?: string };
        verdicts.set(r.id, { allowed: r.allowed, ...(r.message ? { message: r.message } : {}) });
      }
      resolve(verdicts);
    });
    child.stdin.end(objects.map((o) => JSON.stringify(o)).join('\n') + '\n');
  });
}

/** Every case through our validation and Serving's; the disagreements, with both sides' words. */
export async function differential(
  binary: string,
  config: KnativeConfigData,
  cases: readonly Case[],
): Promise<Report> {
  const settings = knativeSettings(config);
  const report: Report = {
    total: cases.length,
    structural: 0,
    acceptedByBoth: 0,
    refusedByBoth: 0,
    disagreements: [],
  };
  const judged: { c: Case; ours: string[]; children: string[] }[] = [];
  const objects: { id: string; object: unknown }[] = [];
  for (const c of cases) {
    const structural = validateCapp(c.capp, { knative: false });
    if (structural.length > 0) {
      report.structural++;
      continue;
    }
    const ours = validateCapp(c.capp, { knative: settings }).map(
      (i) => `${i.path}: ${i.message} (${i.rule})`,
    );
    const capp = {
      ...c.capp,
      metadata: { ...(c.capp['metadata'] as object), uid: '00000000-0000-4000-8000-000000000001' },
    };
    const children = renderChildren(
      capp as unknown as Capp,
      { autoscale: AUTOSCALE, dns: DNS },
      { tlsSecretReady: true },
    )
      .map((child) => child as unknown as { apiVersion: string; kind: string })
      .filter((child) => KNATIVE_KINDS.has(`${child.apiVersion}/${child.kind}`));
    const ids = children.map((_, i) => `${c.id}#${i}`);
    children.forEach((child, i) => objects.push({ id: ids[i] as string, object: child }));
    judged.push({ c, ours, children: ids });
  }
  const verdicts = await knativeCheck(binary, config, objects);
  for (const { c, ours, children } of judged) {
    const refusals = children
      .map((id) => verdicts.get(id))
      .filter((v): v is Verdict => v !== undefined && !v.allowed);
    const knativeAccepts = refusals.length === 0;
    if (ours.length === 0 && knativeAccepts) report.acceptedByBoth++;
    else if (ours.length > 0 && !knativeAccepts) report.refusedByBoth++;
    else
      report.disagreements.push({
        id: c.id,
        kind: ours.length === 0 ? 'unsafe' : 'over-strict',
        ours,
        knative: refusals.map((r) => r.message ?? '').join('; ') || 'admitted',
        capp: c.capp,
      });
  }
  return report;
}
