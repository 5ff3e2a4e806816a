/**
 * A running operator picks up a rotated client certificate: its kubeconfig names certificate files,
 * the files are replaced by a certificate of another user while it runs, and the old user loses its
 * rights — so only requests made with the new certificate can succeed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CAPP_FINALIZER } from '@capp/capp-model';
import { CAPP_TYPE, KubeApiError, KubeRest, resourcePath } from '@capp/kube';
import { testEnvironment, waitFor } from '@capp/testing';
import pino from 'pino';
import { stringify } from 'yaml';

import { ClusterFixture, suffix } from './testing/cluster-fixture';
import { createOperator, type Operator } from './wiring';

const env = testEnvironment();
const fx = new ClusterFixture();
const dir = mkdtempSync(join(tmpdir(), 'capp-rotation-'));
const certFile = join(dir, 'client.crt');
const keyFile = join(dir, 'client.key');
const kubeconfigPath = join(dir, 'kubeconfig');
const RBAC = '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings';
const userA = `operator-a-${suffix()}`;
const userB = `operator-b-${suffix()}`;
let operator: Operator | undefined;

/** Gives `user` cluster-admin (the operator's real rights are the chart's, tested elsewhere). */
async function bind(user: string): Promise<void> {
  await fx.rest.request('POST', RBAC, {
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: user },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    },
  });
}

async function useCertificateOf(user: string): Promise<{ cert: string; key: string }> {
  const minted = await env.mintClientCertificate(user);
  writeFileSync(keyFile, minted.key, { mode: 0o600 });
  writeFileSync(certFile, minted.cert);
  return minted;
}
let certificateA: { cert: string; key: string };

function capp(name: string): Record<string, unknown> {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name, namespace: fx.ns },
    spec: { configurationSpec: { template: { spec: { containers: [{ name, image: 'ghcr.io/x/y:1' }] } } } },
  };
}

async function reconciled(name: string): Promise<void> {
  await waitFor(`Capp ${name} reconciled`, async () => {
    const got = await fx.get(CAPP_TYPE, fx.ns, name);
    const children = (got?.status as { managedResources?: unknown[] } | undefined)?.managedResources;
    return got?.metadata.finalizers?.includes(CAPP_FINALIZER) === true && (children?.length ?? 0) > 0;
  });
}

beforeAll(async () => {
  await fx.setUp();
  await bind(userA);
  certificateA = await useCertificateOf(userA);
  writeFileSync(
    kubeconfigPath,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: env.server, 'certificate-authority': env.caFile } }],
      users: [{ name: 'u', user: { 'client-certificate': certFile, 'client-key': keyFile } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    }),
  );
});

afterAll(async () => {
  // The operator still runs while the fixture deletes the Capps: it releases their finalizers.
  await fx.tearDown();
  await operator?.controller.stop();
  const admin = KubeRest.fromKubeconfig(process.env['KUBECONFIG']);
  for (const user of [userA, userB]) await admin.raw('DELETE', `${RBAC}/${user}`);
  admin.close();
  rmSync(dir, { recursive: true, force: true });
});

it('keeps reconciling with a rotated client certificate after the old one lost its rights', async () => {
  const rest = KubeRest.fromKubeconfig(kubeconfigPath);
  operator = createOperator(
    rest,
    { namespaces: [fx.ns], operatorNamespace: fx.operatorNs, concurrency: 2, resyncSeconds: 0 },
    pino({ level: process.env['CAPP_TEST_LOG'] ?? 'silent' }),
  );
  await operator.controller.start();
  await fx.apply(capp('before') as never);
  await reconciled('before');

  // Rotate: the files now hold B's certificate; A loses every right.
  const oldCertificate = KubeRest.fromTarget({
    server: env.server ?? '',
    ca: env.target.ca,
    ...certificateA,
  });
  await oldCertificate.request('GET', resourcePath(CAPP_TYPE, fx.ns)); // A can still list…
  await useCertificateOf(userB);
  await bind(userB);
  await fx.rest.request('DELETE', `${RBAC}/${userA}`);
  // …and A's connection, still open, is refused from now on.
  await waitFor('the old certificate refused', () =>
    oldCertificate.request('GET', resourcePath(CAPP_TYPE, fx.ns)).then(
      () => false,
      (err: unknown) => err instanceof KubeApiError && err.statusCode === 403,
    ),
  );
  oldCertificate.close();

  await fx.apply(capp('after') as never);
  await reconciled('after');
});
