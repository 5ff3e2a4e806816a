/** The whole test environment — control plane, PostgreSQL, Redis — started in parallel. */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { KubeTarget } from '@capp/kube';

import { type ClientCertificate, mintClientCertificate } from './client-certs';
import { type ControlPlane, mintServiceAccountToken, startControlPlane } from './control-plane';
import { ensureDir, keepFromEnv } from './paths';
import { type Postgres, startPostgres } from './postgres';
import { ProcessGroup, processStartTime } from './process';
import { type Redis, startRedis } from './redis';

export interface EnvironmentOptions {
  controlPlane?: boolean;
  postgres?: boolean;
  redis?: boolean;
  /** Parent of each part's state (`control-plane/`, `postgres/`, `redis/`) and of `env.json`. */
  stateDir?: string;
  keep?: boolean;
  log?: (line: string) => void;
}

/** Serializable description of a running environment (`env.json`, path in `CAPP_TEST_ENV`). */
export interface EnvironmentInfo {
  kubeconfigPath?: string;
  server?: string;
  caFile?: string;
  clientCaFile?: string;
  clientCaKeyFile?: string;
  adminToken?: string;
  /** Static non-admin users (name → bearer token). */
  users: Record<string, string>;
  databaseUrl?: string;
  redisUrl?: string;
  stateDir: string;
  ownerPid: number;
  /** Start time of the owner (see processStartTime), so a recycled pid is never mistaken for it. */
  ownerStartTime?: string;
  /** Pid files of the started parts (so another process can kill them). */
  pidFiles: string[];
  startupMs: number;
}

export interface Environment extends EnvironmentInfo {
  controlPlane?: ControlPlane;
  postgres?: Postgres;
  redis?: Redis;
  /** Path of the env.json written for other processes. */
  infoFile: string;
  stop(): Promise<void>;
}

export const ENV_INFO_FILE = 'env.json';

export async function startEnvironment(options: EnvironmentOptions = {}): Promise<Environment> {
  const t0 = Date.now();
  const keep = options.keep ?? keepFromEnv();
  const ownDir = options.stateDir === undefined;
  const stateDir = ensureDir(options.stateDir, 'capp-env-');
  // An empty group whose watchdog removes the whole directory should this process die abruptly.
  const dirGuard = ownDir && !keep ? new ProcessGroup('environment', stateDir, [stateDir]) : undefined;
  dirGuard?.arm();
  const common = { keep, ...(options.log ? { log: options.log } : {}) };
  const [cp, pg, rd] = await Promise.allSettled([
    options.controlPlane === false
      ? undefined
      : startControlPlane({ ...common, stateDir: join(stateDir, 'control-plane') }),
    options.postgres === false
      ? undefined
      : startPostgres({ ...common, stateDir: join(stateDir, 'postgres') }),
    options.redis === false ? undefined : startRedis({ ...common, stateDir: join(stateDir, 'redis') }),
  ]);
  const started = [cp, pg, rd].flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));
  const failures = [cp, pg, rd].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    await Promise.allSettled(started.map((s) => s.stop()));
    const message = failures.map((f) => (f instanceof Error ? f.message : String(f))).join('\n\n');
    // Keep the directory only when a failed part left its logs there (its message names them).
    await dirGuard?.stop(0, !message.includes(stateDir));
    throw new Error(message);
  }
  const controlPlane = cp.status === 'fulfilled' ? cp.value : undefined;
  const postgres = pg.status === 'fulfilled' ? pg.value : undefined;
  const redis = rd.status === 'fulfilled' ? rd.value : undefined;

  const info: EnvironmentInfo = {
    kubeconfigPath: controlPlane?.kubeconfigPath,
    server: controlPlane?.server,
    caFile: controlPlane?.caFile,
    clientCaFile: controlPlane?.clientCaFile,
    clientCaKeyFile: controlPlane?.clientCaKeyFile,
    adminToken: controlPlane?.adminToken,
    users: controlPlane?.users ?? {},
    databaseUrl: postgres?.databaseUrl,
    redisUrl: redis?.redisUrl,
    stateDir,
    ownerPid: process.pid,
    ownerStartTime: processStartTime(process.pid),
    pidFiles: [
      ...(controlPlane ? [controlPlane.pidFile] : []),
      ...(postgres && !postgres.external ? [join(stateDir, 'postgres', 'postgres.pids')] : []),
      ...(redis && !redis.external ? [join(stateDir, 'redis', 'redis.pids')] : []),
    ],
    startupMs: Date.now() - t0,
  };
  const infoFile = join(stateDir, ENV_INFO_FILE);
  writeFileSync(infoFile, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });

  let stopping: Promise<void> | undefined;
  return {
    ...info,
    controlPlane,
    postgres,
    redis,
    infoFile,
    stop(): Promise<void> {
      stopping ??= (async () => {
        await Promise.allSettled(started.map((s) => s.stop()));
        await dirGuard?.stop();
        if (!keep) {
          if (ownDir) rmSync(stateDir, { recursive: true, force: true });
          else rmSync(infoFile, { force: true });
        }
      })();
      return stopping;
    },
  };
}

/** Reads an env.json (default: the file named by `CAPP_TEST_ENV`). */
export function readEnvironmentInfo(file = process.env['CAPP_TEST_ENV']): EnvironmentInfo {
  if (!file || !existsSync(file)) {
    throw new Error(
      'no test environment: CAPP_TEST_ENV is not set or missing. Run tests through a jest config whose ' +
        'globalSetup is libs/testing/src/jest-global-setup.ts, or call startEnvironment().',
    );
  }
  return JSON.parse(readFileSync(file, 'utf8')) as EnvironmentInfo;
}

/**
 * Access to the environment from a test worker (or any process started under it): admin target,
 * static user tokens and ServiceAccount tokens, all from `CAPP_TEST_ENV`.
 */
export function testEnvironment(file?: string): EnvironmentInfo & {
  target: KubeTarget;
  userToken(name: string): string;
  mintServiceAccountToken(
    namespace: string,
    name: string,
    opts?: { expirationSeconds?: number; audiences?: string[] },
  ): Promise<string>;
  /** A client certificate for `user` in `groups`, signed by the CA kube-apiserver trusts. */
  mintClientCertificate(user: string, groups?: string[]): Promise<ClientCertificate>;
} {
  const info = readEnvironmentInfo(file);
  if (!info.server || !info.adminToken) throw new Error('the test environment has no control plane');
  const target: KubeTarget = {
    server: info.server,
    token: info.adminToken,
    ...(info.caFile && existsSync(info.caFile) ? { ca: readFileSync(info.caFile) } : {}),
  };
  return {
    ...info,
    target,
    userToken(name: string): string {
      const tok = info.users[name];
      if (tok === undefined)
        throw new Error(`no static user ${name}; known: ${Object.keys(info.users).join(', ')}`);
      return tok;
    },
    mintServiceAccountToken: (namespace, name, opts) =>
      mintServiceAccountToken(target, namespace, name, opts),
    mintClientCertificate: (user, groups) => {
      if (!info.clientCaFile || !info.clientCaKeyFile) throw new Error('the control plane has no client CA');
      return mintClientCertificate(
        { certFile: info.clientCaFile, keyFile: info.clientCaKeyFile },
        user,
        groups,
      );
    },
  };
}
