/**
 * `npm run dev`: the whole platform on this machine.
 *
 * - Kubernetes: `KUBECONFIG` when set, else the local control plane of `npm run cluster:up`
 *   (kube-apiserver + etcd + kube-controller-manager with the child CRDs), started or reused.
 * - PostgreSQL / Redis: `DATABASE_URL` / `REDIS_URL` when set, else private servers.
 * - Then: migrations, the Capp, CappRevision and CappTrait CRDs and the platform ConfigMaps, a `capp-dev` ServiceAccount allowed
 *   to manage Capps, and the operator and the API in the foreground. Prints the Swagger URL and a
 *   token. Ctrl-C stops the operator and the API; `npm run cluster:down` stops the rest.
 *
 * `npm run dev -- --clusters N` (docs/multicluster.md): a hub and N managed control planes joined by
 * Open Cluster Management (placement controller, a work agent per cluster; libs/testing's
 * startMultiCluster), private PostgreSQL and Redis; the operator in hub mode and the API against the
 * hub, an operator per managed cluster. All of it belongs to this session: Ctrl-C stops everything.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { type KubeObject, platformCrds } from '@capp/capp-model';
import { KubeClient, KubeRest, type ResourceType } from '@capp/kube';
import {
  CLUSTER_STATE_DIR,
  ENV_INFO_FILE,
  type EnvironmentInfo,
  type Postgres,
  prismaCli,
  type Redis,
  REPO_ROOT,
  startMultiCluster,
  startPostgres,
  startRedis,
} from '@capp/testing';
import { parse } from 'yaml';

import { OPERATOR_NODE_FLAGS } from '../apps/operator/src/node-flags';
import { build } from './build';

const OPERATOR_NAMESPACE = 'capp-operator-system';
const DEV_NAMESPACE = 'default';
const DEV_ACCOUNT = 'capp-dev';

const rbac = (kind: string, plural: string): ResourceType => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  plural,
  namespaced: false,
});

/** Server-side apply of what dev sets up (field manager `capp-dev`). */
function devClient(rest: KubeRest): KubeClient {
  return new KubeClient(rest, {
    fieldManager: 'capp-dev',
    types: [rbac('ClusterRole', 'clusterroles'), rbac('ClusterRoleBinding', 'clusterrolebindings')],
  });
}

/** The cluster: KUBECONFIG's, or the local control plane (started once, reused afterwards). */
function kubernetes(
  wantPostgres: boolean,
  wantRedis: boolean,
): { kubeconfig: string; info?: EnvironmentInfo } {
  const external = process.env['KUBECONFIG'];
  if (external) return { kubeconfig: external };
  const args = ['tools/run-ts.cjs', 'tools/cluster.ts', 'up'];
  if (wantPostgres) args.push('--postgres');
  if (wantRedis) args.push('--redis');
  execFileSync(process.execPath, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  const info = JSON.parse(readFileSync(join(CLUSTER_STATE_DIR, ENV_INFO_FILE), 'utf8')) as EnvironmentInfo;
  if (!info.kubeconfigPath) throw new Error('cluster:up did not report a kubeconfig');
  return { kubeconfig: info.kubeconfigPath, info };
}

/** The operator's namespace and the platform ConfigMaps of `../shared/examples/`. */
async function prepareOperatorNamespace(client: KubeClient): Promise<void> {
  const apply = (obj: Record<string, unknown>): Promise<unknown> => client.apply(obj as KubeObject);
  await apply({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: OPERATOR_NAMESPACE },
  });
  const examples = join(REPO_ROOT, '..', 'shared', 'examples');
  for (const file of ['autoscale-defaults.yaml', 'dns-config.yaml']) {
    const path = join(examples, file);
    if (!existsSync(path)) continue;
    const cm = parse(readFileSync(path, 'utf8')) as { metadata: { name: string } };
    await apply({
      ...cm,
      metadata: { ...cm.metadata, namespace: OPERATOR_NAMESPACE },
    });
  }
}

async function prepareCluster(rest: KubeRest): Promise<string> {
  const client = devClient(rest);
  const apply = (obj: Record<string, unknown>): Promise<unknown> => client.apply(obj as KubeObject);
  // The Capp, CappRevision and CappTrait CRDs (the local control plane already has them; an external cluster may not).
  for (const { crd } of platformCrds()) await apply(crd);
  await prepareOperatorNamespace(client);
  // A ServiceAccount that may manage Capps everywhere: its token is what the Swagger UI needs.
  await apply({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: DEV_ACCOUNT, namespace: DEV_NAMESPACE },
  });
  await apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: DEV_ACCOUNT },
    rules: [
      {
        apiGroups: ['rcs.dana.io'],
        resources: ['capps', 'healthscopes'],
        verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
      },
    ],
  });
  await apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: DEV_ACCOUNT },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: DEV_ACCOUNT },
    subjects: [{ kind: 'ServiceAccount', name: DEV_ACCOUNT, namespace: DEV_NAMESPACE }],
  });
  const review = (await rest.request(
    'POST',
    `/api/v1/namespaces/${DEV_NAMESPACE}/serviceaccounts/${DEV_ACCOUNT}/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 86_400 },
      },
    },
  )) as { status: { token: string } };
  return review.status.token;
}

const { values: flags } = parseArgs({ options: { clusters: { type: 'string', default: '0' } } });

const operatorArgs = (kubeconfig: string, ...more: string[]): string[] => [
  ...OPERATOR_NODE_FLAGS,
  'dist/apps/operator/src/main.js',
  '--kubeconfig',
  kubeconfig,
  '--metrics-port',
  '0',
  '--probe-port',
  '0',
  ...more,
];

/** Runs the children in the foreground; Ctrl-C (or any child's exit) stops them, then `cleanup`. */
function foreground(children: ChildProcess[], cleanup: () => Promise<unknown>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    for (const child of children) child.kill(signal);
    // A child still draining after 10 s (say, the API retrying a cluster that is going away) is ended.
    setTimeout(() => {
      for (const child of children)
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, 10_000).unref();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop(signal));
  let exited = 0;
  for (const child of children) {
    child.on('exit', (code) => {
      stop('SIGTERM');
      if (++exited < children.length) return;
      void cleanup().finally(() => process.exit(code ?? 0));
    });
  }
}

/** `--clusters N`: a hub and N managed clusters through Open Cluster Management, all private to this session. */
async function multiCluster(count: number): Promise<void> {
  console.log(`dev: starting a hub and ${count} managed clusters (Open Cluster Management v1.2.1)`);
  const env = await startMultiCluster({
    clusters: count,
    stateDir: join(REPO_ROOT, '.cache', 'multicluster'),
    log: (line) => console.log(`dev: ${line}`),
  });
  const postgres = await startPostgres({ url: null });
  const redis = await startRedis({ url: null });
  const cleanup = (): Promise<unknown> => Promise.allSettled([env.stop(), postgres.stop(), redis.stop()]);
  try {
    await prismaCli(['migrate', 'deploy'], postgres.databaseUrl);
    const hubRest = KubeRest.fromKubeconfig(env.hubKubeconfig);
    const token = await prepareCluster(hubRest);
    hubRest.close();
    for (const c of env.clusters) {
      const rest = KubeRest.fromKubeconfig(c.kubeconfig);
      await prepareOperatorNamespace(devClient(rest));
      rest.close();
    }
    build('operator');
    build('api');
    const port = process.env['PORT'] ?? '3000';
    const base = { ...process.env, DATABASE_URL: postgres.databaseUrl, REDIS_URL: redis.redisUrl };
    const spawnNode = (args: string[], env: NodeJS.ProcessEnv): ChildProcess =>
      spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: 'inherit', env });
    const children = [
      spawnNode(
        operatorArgs(
          env.hubKubeconfig,
          '--hub',
          'true',
          '--leader-elect',
          'false',
          '--placements-namespace',
          env.placementsNamespace,
          '--default-placement',
          env.defaultPlacement,
          '--cluster-heartbeat-timeout-seconds',
          '15',
        ),
        base,
      ),
      // Managed operators keep leader election on: their Lease is the cluster's heartbeat.
      ...env.clusters.map((c) => spawnNode(operatorArgs(c.kubeconfig, '--identity', `dev-${c.name}`), base)),
      spawnNode(['dist/apps/api/src/main.js'], { ...base, KUBECONFIG: env.hubKubeconfig, PORT: port }),
    ];
    console.log(`
platform (multi-cluster): the hub operator places Capps, one operator per managed cluster renders them
  hub:         export KUBECONFIG=${env.hubKubeconfig}
${env.clusters.map((c) => `  ${c.name.padEnd(12)} export KUBECONFIG=${c.kubeconfig}`).join('\n')}
  Placements:  ${env.defaultPlacement} (every cluster) in namespace ${env.placementsNamespace}; spec.site names a cluster or a Placement
  Swagger UI:  http://127.0.0.1:${port}/docs   (Authorize → paste the token below)
  token (ServiceAccount ${DEV_NAMESPACE}/${DEV_ACCOUNT} on the hub, 24 h):
    ${token}
  try:  curl -s -H "Authorization: Bearer ${token}" -H 'content-type: application/json' \\
          -d '{"metadata":{"name":"hello"},"spec":{"site":"${env.clusters[0]?.name ?? ''}","configurationSpec":{"template":{"spec":{"containers":[{"image":"ghcr.io/dana-team/capp-gin-app:v0.2.0"}]}}}}}' \\
          http://127.0.0.1:${port}/api/v1/namespaces/default/capps
`);
    foreground(children, cleanup);
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function main(): Promise<void> {
  const clusters = Number(flags.clusters);
  if (!Number.isInteger(clusters) || clusters < 0 || clusters > 5)
    throw new Error(`--clusters must be an integer from 0 to 5, got "${flags.clusters}"`);
  if (clusters > 0) return multiCluster(clusters);
  const wantPostgres = !process.env['DATABASE_URL'];
  const wantRedis = !process.env['REDIS_URL'];
  const { kubeconfig, info } = kubernetes(wantPostgres, wantRedis);
  // With an external cluster, missing PostgreSQL/Redis are private servers for this session.
  let postgres: Postgres | undefined;
  let redis: Redis | undefined;
  if (!info && wantPostgres) postgres = await startPostgres({ url: null });
  if (!info && wantRedis) redis = await startRedis({ url: null });
  const databaseUrl = process.env['DATABASE_URL'] ?? info?.databaseUrl ?? postgres?.databaseUrl;
  const redisUrl = process.env['REDIS_URL'] ?? info?.redisUrl ?? redis?.redisUrl;
  if (!databaseUrl || !redisUrl)
    throw new Error('no PostgreSQL or Redis (set DATABASE_URL / REDIS_URL, or let dev start them)');

  console.log('dev: applying database migrations');
  await prismaCli(['migrate', 'deploy'], databaseUrl);
  const rest = KubeRest.fromKubeconfig(kubeconfig);
  const token = await prepareCluster(rest);
  rest.close();

  build('operator');
  build('api');
  const port = process.env['PORT'] ?? '3000';
  const env = { ...process.env, KUBECONFIG: kubeconfig, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl };
  const children = [
    spawn(
      process.execPath,
      [
        ...OPERATOR_NODE_FLAGS,
        'dist/apps/operator/src/main.js',
        '--leader-elect',
        'false',
        '--metrics-port',
        '0',
        '--probe-port',
        '0',
      ],
      {
        cwd: REPO_ROOT,
        stdio: 'inherit',
        env,
      },
    ),
    spawn(process.execPath, ['dist/apps/api/src/main.js'], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
      env: { ...env, PORT: port },
    }),
  ];
  console.log(`
platform: operator + API against ${kubeconfig}
  Swagger UI:  http://127.0.0.1:${port}/docs   (Authorize → paste the token below)
  API:         http://127.0.0.1:${port}/api/v1/namespaces/default/capps
  token (ServiceAccount ${DEV_NAMESPACE}/${DEV_ACCOUNT}, 24 h):
    ${token}
  try:  export TOKEN=${token}
        curl -s -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
          -d '{"metadata":{"name":"hello"},"spec":{"configurationSpec":{"template":{"spec":{"containers":[{"image":"ghcr.io/dana-team/capp-gin-app:v0.2.0"}]}}}}}' \\
          http://127.0.0.1:${port}/api/v1/namespaces/default/capps
        export KUBECONFIG=${kubeconfig}
`);
  foreground(children, () => Promise.all([postgres?.stop(), redis?.stop()]));
}

main().catch((err: unknown) => {
  console.error(`dev: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
