/**
 * `npm run dev`: the platform on this machine. Starts (or reuses) the local control plane with
 * PostgreSQL and Redis (`npm run cluster:up`), installs the platform ConfigMaps from
 * ../shared/examples when present, then runs the operator in the foreground. Ctrl-C stops the
 * operator; `npm run cluster:down` stops the rest.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { CLUSTER_STATE_DIR, ENV_INFO_FILE, type EnvironmentInfo, REPO_ROOT } from '@capp/testing';
import { parse } from 'yaml';

import { KubeRest } from '../apps/operator/src/kube/rest';
import { build } from './build';

const OPERATOR_NAMESPACE = 'capp-operator-system';

async function main(): Promise<void> {
  execFileSync(process.execPath, ['tools/run-ts.cjs', 'tools/cluster.ts', 'up', '--postgres', '--redis'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
  const info = JSON.parse(readFileSync(join(CLUSTER_STATE_DIR, ENV_INFO_FILE), 'utf8')) as EnvironmentInfo;
  const rest = KubeRest.fromKubeconfig(info.kubeconfigPath);
  await rest
    .request('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NAMESPACE } },
    })
    .catch(() => undefined);
  const examples = join(REPO_ROOT, '..', 'shared', 'examples');
  for (const file of ['autoscale-defaults.yaml', 'dns-config.yaml']) {
    const path = join(examples, file);
    if (!existsSync(path)) continue;
    const cm = parse(readFileSync(path, 'utf8')) as { metadata: { name: string } };
    await rest.request('PATCH', `/api/v1/namespaces/${OPERATOR_NAMESPACE}/configmaps/${cm.metadata.name}`, {
      query: { fieldManager: 'capp-dev', force: true },
      body: { ...cm, metadata: { ...cm.metadata, namespace: OPERATOR_NAMESPACE } },
      contentType: 'application/apply-patch+yaml',
    });
    console.log(`applied ConfigMap ${cm.metadata.name} from ${path}`);
  }
  rest.close();
  console.log(`\nplatform: operator starting against ${info.server}`);
  console.log(`try:  export KUBECONFIG=${info.kubeconfigPath}`);
  console.log(
    '      npm run -s capp -- render -f ../shared/examples/capp-full.yaml --dns-config ../shared/examples/dns-config.yaml\n',
  );
  build('operator');
  const operator = spawn(
    process.execPath,
    ['dist/apps/operator/src/main.js', '--leader-elect', 'false', '--metrics-port', '0', '--probe-port', '0'],
    { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, KUBECONFIG: info.kubeconfigPath } },
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => operator.kill(signal));
  operator.on('exit', (code) => process.exit(code ?? 0));
}

main().catch((err: unknown) => {
  console.error(`dev: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
