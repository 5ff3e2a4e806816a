import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { KubeRest } from '@capp/kube';
import { parse } from 'yaml';

import { CONTROL_PLANE_INFO_FILE, type ControlPlaneInfo } from './control-plane';
import { installCrds, testCrds } from './crds';
import { type Environment, type EnvironmentInfo, startEnvironment } from './environment';
import { keepFromEnv } from './paths';
import { killPidFile, sameProcessAlive } from './process';

const HANDLE = Symbol.for('capp.testing.environment');
type GlobalWithEnv = typeof globalThis & { [HANDLE]?: Environment };

function log(line: string): void {
  process.stderr.write(`[capp-testing] ${line}\n`);
}

type ExistingCluster = Pick<
  EnvironmentInfo,
  'kubeconfigPath' | 'server' | 'caFile' | 'clientCaFile' | 'clientCaKeyFile' | 'adminToken' | 'users'
> & {
  /** Work to finish before the cluster is used (runs while the other parts start). */
  refresh?: Promise<void>;
};

/** The cluster `KUBECONFIG` points at, when tests may use it (see jest-global-setup.ts). */
async function existingCluster(): Promise<ExistingCluster | undefined> {
  const kubeconfig = process.env['KUBECONFIG'];
  if (!kubeconfig) return undefined;
  const infoFile = join(dirname(resolve(kubeconfig)), CONTROL_PLANE_INFO_FILE);
  if (existsSync(infoFile)) {
    const info = JSON.parse(readFileSync(infoFile, 'utf8')) as ControlPlaneInfo;
    const ca = existsSync(info.caFile) ? readFileSync(info.caFile) : undefined;
    const target = { server: info.server, token: info.adminToken, ...(ca ? { ca } : {}) };
    const alive =
      sameProcessAlive(info.ownerPid, info.ownerStartTime) &&
      (await KubeRest.fromTarget(target)
        .raw('GET', '/readyz', { timeoutMs: 5000 })
        .then(
          (r) => r.status === 200,
          () => false,
        ));
    if (alive) {
      log(`using the running harness cluster ${info.server} (KUBECONFIG=${kubeconfig})`);
      // Re-apply the CRDs so a long-running cluster never serves a stale Capp schema.
      return { ...info, refresh: installCrds(target, testCrds().crds) };
    }
    log(`KUBECONFIG=${kubeconfig} belongs to a harness cluster that is not running; starting a private one`);
    return undefined;
  }
  if (process.env['CAPP_TEST_USE_EXISTING_CLUSTER'] === 'true') {
    const config = parse(readFileSync(kubeconfig, 'utf8')) as {
      'current-context'?: string;
      contexts?: { name: string; context: { cluster: string; user: string } }[];
      clusters?: { name: string; cluster: { server: string } }[];
      users?: { name: string; user: { token?: string } }[];
    };
    const ctx = config.contexts?.find((c) => c.name === config['current-context'])?.context;
    const server = config.clusters?.find((c) => c.name === ctx?.cluster)?.cluster.server;
    const token =
      process.env['CAPP_TEST_ADMIN_TOKEN'] ?? config.users?.find((u) => u.name === ctx?.user)?.user.token;
    log(`CAPP_TEST_USE_EXISTING_CLUSTER=true: using ${server ?? kubeconfig} as is`);
    return { kubeconfigPath: resolve(kubeconfig), server, adminToken: token, users: {} };
  }
  log(
    `KUBECONFIG=${kubeconfig} is not a harness cluster: starting a private control plane instead ` +
      '(set CAPP_TEST_USE_EXISTING_CLUSTER=true to run the tests against it)',
  );
  return undefined;
}

/** Starts (or reuses) the environment and exports it through process.env. */
export async function globalSetup(): Promise<void> {
  const current = process.env['CAPP_TEST_ENV'];
  if (current && existsSync(current)) {
    log(`reusing the test environment of ${current}`);
    return;
  }
  const t0 = Date.now();
  const cluster = await existingCluster();
  const [env] = await Promise.all([
    startEnvironment({ controlPlane: cluster === undefined }),
    cluster?.refresh,
  ]);
  (globalThis as GlobalWithEnv)[HANDLE] = env;

  const info: EnvironmentInfo = {
    kubeconfigPath: cluster ? cluster.kubeconfigPath : env.kubeconfigPath,
    server: cluster ? cluster.server : env.server,
    caFile: cluster ? cluster.caFile : env.caFile,
    clientCaFile: cluster ? cluster.clientCaFile : env.clientCaFile,
    clientCaKeyFile: cluster ? cluster.clientCaKeyFile : env.clientCaKeyFile,
    adminToken: cluster ? cluster.adminToken : env.adminToken,
    users: cluster ? cluster.users : env.users,
    databaseUrl: env.databaseUrl,
    redisUrl: env.redisUrl,
    stateDir: env.stateDir,
    ownerPid: env.ownerPid,
    ownerStartTime: env.ownerStartTime,
    pidFiles: env.pidFiles,
    startupMs: Date.now() - t0,
  };
  const infoFile = env.infoFile;
  writeFileSync(infoFile, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });

  process.env['CAPP_TEST_ENV'] = infoFile;
  if (info.kubeconfigPath) process.env['KUBECONFIG'] = info.kubeconfigPath;
  if (info.adminToken) process.env['CAPP_TEST_ADMIN_TOKEN'] = info.adminToken;
  if (info.databaseUrl) process.env['DATABASE_URL'] = info.databaseUrl;
  if (info.redisUrl) process.env['REDIS_URL'] = info.redisUrl;
  log(`test environment ready in ${Date.now() - t0} ms (CAPP_TEST_ENV=${infoFile})`);
}

/** Stops what {@link globalSetup} started in this process; leaves reused parts alone. */
export async function globalTeardown(): Promise<void> {
  const g = globalThis as GlobalWithEnv;
  const env = g[HANDLE];
  if (!env) return;
  delete g[HANDLE];
  const t0 = Date.now();
  await env.stop();
  // Belt and braces: anything still listed in a pid file (e.g. a part that failed half-way).
  if (!keepFromEnv()) await Promise.all(env.pidFiles.map((f) => killPidFile(f)));
  delete process.env['CAPP_TEST_ENV'];
  log(`test environment stopped in ${Date.now() - t0} ms`);
}
