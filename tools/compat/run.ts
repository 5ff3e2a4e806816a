/**
 * `npm run test:compat [-- --procs N --focus REGEX --skip REGEX --operator-flag=--name=value ...]`:
 * the end-to-end suite of dana-team's container-app-operator (tools/compat/version.txt), unmodified,
 * against our operator.
 *
 *  1. builds (cached) the suite binary and the Ginkgo CLI from the Go module proxy
 *     (tools/compat/build.sh), and the operator;
 *  2. starts a private control plane with our Capp CRD, the child CRDs, and the v0.3.5 kinds the suite
 *     reads (CappRevision, SyslogNGFlow, SyslogNGOutput) from ../shared/crds/reference/;
 *  3. runs the operator as its own process, and the player (player.ts) for the external controllers;
 *  4. runs the suite with Ginkgo in `--procs` parallel processes (default 4: its specs mostly wait,
 *     and are independent, as upstream's `ginkgo -p` assumes) with KUBECONFIG pointing at the control
 *     plane, then prints one line per spec and a total line. Exits 1 when a spec failed.
 *
 * Logs and Ginkgo's JSON report go to `.cache/compat/` (suite.log, operator.log, player.log,
 * report.json, summary.txt).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { KubeRest, NAMESPACE_TYPE, resourcePath } from '@capp/kube';
import {
  ControlPlane,
  freePort,
  ProcessGroup,
  readCrdDir,
  REPO_ROOT,
  SHARED_CRDS_DIR,
  startControlPlane,
  testCrds,
  waitFor,
} from '@capp/testing';

import { build } from '../build';
import { Player } from './player';
import { formatSummary, parseGinkgoReport, totals } from './report';

/** The namespace the v0.3.5 suite creates its ConfigMaps in (its `mocks.ControllerNS`). */
const OPERATOR_NAMESPACE = 'capp-operator-system';
/** The one image the suite uses as "does not exist" (the player has no registry to ask). */
const MISSING_IMAGES = ['example-python-app:v1'];
/** Reference CRDs of v0.3.5 the suite reads; the Capp CRD stays ours. */
const REFERENCE_CRDS = [
  'capprevisions.rcs.dana.io',
  'syslogngflows.logging.banzaicloud.io',
  'syslogngoutputs.logging.banzaicloud.io',
];
const OUT_DIR = join(REPO_ROOT, '.cache', 'compat');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    procs: { type: 'string', default: '4' },
    focus: { type: 'string' },
    skip: { type: 'string' },
    /** Extra operator flags, e.g. a backend choice (`--operator-flag=--name=value`, repeatable). */
    'operator-flag': { type: 'string', multiple: true, default: [] },
  },
});

const log = (line: string): void => void process.stderr.write(`[compat] ${line}\n`);
const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(0)} s`;

/** The directory holding `e2e.test` and `ginkgo`. */
function buildSuite(): string {
  const t0 = Date.now();
  const res = spawnSync('bash', [join(REPO_ROOT, 'tools', 'compat', 'build.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`tools/compat/build.sh failed (exit ${res.status})`);
  const dir = res.stdout.trim().split('\n').pop() ?? '';
  log(`suite and ginkgo in ${dir} (${seconds(t0)})`);
  return dir;
}

function compatCrds(): Record<string, unknown>[] {
  const reference = readCrdDir(join(SHARED_CRDS_DIR, 'reference')).filter((crd) =>
    REFERENCE_CRDS.includes(String((crd['metadata'] as { name?: string }).name)),
  );
  if (reference.length !== REFERENCE_CRDS.length) {
    throw new Error(`expected ${REFERENCE_CRDS.join(', ')} under ${join(SHARED_CRDS_DIR, 'reference')}`);
  }
  return [...testCrds().crds, ...reference];
}

async function startOperator(cp: ControlPlane, group: ProcessGroup): Promise<void> {
  const probePort = await freePort();
  const operator = group.spawn(
    'operator',
    process.execPath,
    [
      join(REPO_ROOT, 'dist', 'apps', 'operator', 'src', 'main.js'),
      '--kubeconfig',
      cp.kubeconfigPath,
      '--leader-elect=false',
      '--operator-namespace',
      OPERATOR_NAMESPACE,
      '--metrics-port',
      String(await freePort()),
      '--probe-port',
      String(probePort),
      ...(values['operator-flag'] ?? []),
    ],
    { cwd: REPO_ROOT },
  );
  await group.waitFor(
    'the operator /readyz',
    async () => (await fetch(`http://127.0.0.1:${probePort}/readyz`).catch(() => undefined))?.ok,
    { timeoutMs: 60_000, watch: [operator] },
  );
}

/** Runs the suite with Ginkgo; its output goes to the console and to suite.log. */
function runSuite(dir: string, kubeconfig: string, reportFile: string): Promise<number> {
  const procs = Number(values.procs);
  if (!Number.isInteger(procs) || procs < 1) throw new Error(`--procs must be a positive integer`);
  const args = [
    `--procs=${procs}`,
    `--json-report=${reportFile}`,
    '--no-color',
    // Failing specs wait out their 300 s Eventually: far more than Ginkgo's default 1 h in all.
    '--timeout=4h',
    ...(values.focus ? [`--focus=${values.focus}`] : []),
    ...(values.skip ? [`--skip=${values.skip}`] : []),
    ...positionals,
    join(dir, 'e2e.test'),
  ];
  const binary = join(dir, 'ginkgo');
  log(`running ${binary} ${args.join(' ')}`);
  const out = createWriteStream(join(OUT_DIR, 'suite.log'));
  const child = spawn(binary, args, {
    cwd: OUT_DIR,
    env: { ...process.env, KUBECONFIG: kubeconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = (): void => void child.kill('SIGTERM');
  process.once('exit', kill);
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      out.write(chunk);
      process.stdout.write(chunk);
    });
  }
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      process.off('exit', kill);
      out.end();
      resolve(code ?? 1);
    });
  });
}

async function main(): Promise<number> {
  const t0 = Date.now();
  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(OUT_DIR, { recursive: true });
  const suiteDir = buildSuite();
  const t1 = Date.now();
  build('operator');
  log(`operator built (${seconds(t1)})`);

  const cp = await startControlPlane({ crds: compatCrds(), log });
  const group = new ProcessGroup('compat', OUT_DIR);
  const rest = KubeRest.fromTarget(cp.target);
  const playerLog = createWriteStream(join(OUT_DIR, 'player.log'));
  const player = new Player(rest, {
    missingImages: MISSING_IMAGES,
    configNamespace: OPERATOR_NAMESPACE,
    log: (line) => void playerLog.write(`${new Date().toISOString()} ${line}\n`),
  });
  try {
    await rest.request('POST', resourcePath(NAMESPACE_TYPE), {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NAMESPACE } },
    });
    await waitFor(
      'the operator namespace',
      async () =>
        (await rest.raw('GET', resourcePath(NAMESPACE_TYPE, undefined, OPERATOR_NAMESPACE))).status === 200,
    );
    await startOperator(cp, group);
    await player.start();
    log(`operator and player running (${seconds(t0)} since start)`);

    const t2 = Date.now();
    const reportFile = join(OUT_DIR, 'report.json');
    const code = await runSuite(suiteDir, cp.kubeconfigPath, reportFile);
    log(`suite exited ${code} after ${seconds(t2)}`);
    let summary: string;
    let failed: boolean;
    try {
      const result = parseGinkgoReport(readFileSync(reportFile, 'utf8'));
      summary = formatSummary(result);
      failed = totals(result.specs).failed > 0 || result.suiteFailures.length > 0 || code !== 0;
    } catch (err) {
      summary = `no report from the suite (${err instanceof Error ? err.message : String(err)}); see ${join(OUT_DIR, 'suite.log')}`;
      failed = true;
    }
    const played = [...player.counts].map(([what, n]) => `${what} ${n}`).join(', ');
    const observed = [...player.observed].map(([what, v]) => `  ${what}: ${[...v].join(' | ')}`);
    writeFileSync(join(OUT_DIR, 'summary.txt'), `${summary}\n`);
    process.stdout.write(
      `\nplayer: ${played || 'nothing played'}\n` +
        `observed (not asserted by the suite):\n${observed.join('\n') || '  nothing'}\n` +
        `logs: ${OUT_DIR}\n\n${summary}\ntotal time ${seconds(t0)}\n`,
    );
    return failed ? 1 : 0;
  } finally {
    await player.stop();
    playerLog.end();
    rest.close();
    await group.stop();
    await cp.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(2);
  },
);
