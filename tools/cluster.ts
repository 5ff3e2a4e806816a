/**
 * A long-running local control plane (etcd + kube-apiserver + kube-controller-manager, CRDs
 * installed) for development, under `.cache/cluster/`.
 *
 *   npm run cluster:up     [-- --postgres --redis]   start in the background, print KUBECONFIG
 *   npm run cluster:down                             stop it (idempotent)
 *   node tools/run-ts.cjs tools/cluster.ts status
 *
 * `up` starts `tools/env/serve.ts` as a detached process that owns the servers; `down` sends it
 * SIGTERM (then kills whatever its pid files still list). If that process dies, its watchdogs stop
 * the servers. Logs: `.cache/cluster/daemon.log` and `.cache/cluster/<part>/*.log`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import {
  CLUSTER_STATE_DIR,
  ENV_INFO_FILE,
  type EnvironmentInfo,
  killPidFile,
  pidAlive,
  REPO_ROOT,
  sameProcessAlive,
} from '@capp/testing';

const STATE_DIR = CLUSTER_STATE_DIR;
const INFO_FILE = join(STATE_DIR, ENV_INFO_FILE);
const DAEMON_LOG = join(STATE_DIR, 'daemon.log');
const UP_TIMEOUT_MS = 30 * 60_000; // the first run may build Kubernetes from source

function readInfo(): EnvironmentInfo | undefined {
  try {
    return JSON.parse(readFileSync(INFO_FILE, 'utf8')) as EnvironmentInfo;
  } catch {
    return undefined;
  }
}

function running(): EnvironmentInfo | undefined {
  const info = readInfo();
  return info && sameProcessAlive(info.ownerPid, info.ownerStartTime) ? info : undefined;
}

function printExports(info: EnvironmentInfo): void {
  if (info.kubeconfigPath) {
    console.log(`kubeconfig: ${info.kubeconfigPath} (server ${info.server})`);
    console.log(`export KUBECONFIG=${info.kubeconfigPath}`);
  }
  if (info.databaseUrl) console.log(`export DATABASE_URL=${info.databaseUrl}`);
  if (info.redisUrl) console.log(`export REDIS_URL=${info.redisUrl}`);
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Every pid file under the state dir (left by a daemon that died). */
function pidFiles(dir = STATE_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? pidFiles(join(dir, e.name)) : e.name.endsWith('.pids') ? [join(dir, e.name)] : [],
  );
}

async function up(extraArgs: string[]): Promise<void> {
  const current = running();
  if (current) {
    console.error(`cluster already running (pid ${current.ownerPid})`);
    printExports(current);
    return;
  }
  await down(true);
  mkdirSync(STATE_DIR, { recursive: true });
  rmSync(INFO_FILE, { force: true });
  const started = Date.now();
  const log = openSync(DAEMON_LOG, 'w');
  const daemon = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'tools', 'run-ts.cjs'),
      join(REPO_ROOT, 'tools', 'env', 'serve.ts'),
      '--state-dir',
      STATE_DIR,
      ...extraArgs,
    ],
    { cwd: REPO_ROOT, detached: true, stdio: ['ignore', log, log] },
  );
  daemon.unref();
  const pid = daemon.pid;
  if (pid === undefined) throw new Error('could not start tools/env/serve.ts');
  console.error(`starting the cluster (pid ${pid}, log ${DAEMON_LOG})...`);
  for (;;) {
    const info = readInfo();
    if (info && info.ownerPid === pid) {
      console.error(`cluster ready in ${Date.now() - started} ms`);
      printExports(info);
      return;
    }
    if (!pidAlive(pid)) {
      throw new Error(`the cluster failed to start; last lines of ${DAEMON_LOG}:\n${tail(DAEMON_LOG)}`);
    }
    if (Date.now() - started > UP_TIMEOUT_MS) {
      process.kill(pid, 'SIGTERM');
      throw new Error(`the cluster was not ready after ${UP_TIMEOUT_MS} ms; see ${DAEMON_LOG}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function down(quiet = false): Promise<void> {
  const info = running();
  let stopped = false;
  if (info) {
    process.kill(info.ownerPid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (pidAlive(info.ownerPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (pidAlive(info.ownerPid)) process.kill(info.ownerPid, 'SIGKILL');
    stopped = true;
  }
  // Whatever a dead or killed daemon left behind.
  let leftovers = 0;
  for (const file of pidFiles()) leftovers += await killPidFile(file);
  rmSync(INFO_FILE, { force: true });
  if (!quiet) {
    console.error(
      stopped
        ? 'cluster stopped'
        : leftovers > 0
          ? `killed ${leftovers} leftover process(es)`
          : 'no cluster running',
    );
  }
}

function status(): void {
  const info = running();
  if (!info) {
    console.error('no cluster running');
    process.exitCode = 1;
    return;
  }
  console.error(`cluster running (pid ${info.ownerPid})`);
  printExports(info);
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'up') {
    const extra = rest.filter((a) => a === '--postgres' || a === '--redis');
    await up(extra);
  } else if (command === 'down') {
    await down();
  } else if (command === 'status') {
    status();
  } else {
    console.error('usage: cluster.ts up [--postgres] [--redis] | down | status');
    process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
