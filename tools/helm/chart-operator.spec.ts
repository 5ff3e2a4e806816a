/**
 * The operator as the chart runs it, with only the chart's RBAC: the compiled process
 * (`dist/apps/operator/src/main.js`) configured from the rendered Deployment (args and env), its
 * ServiceAccount's own token in a kubeconfig, the chart-generated webhook certificate as its cert dir.
 * It elects a leader with the chart's Lease, reconciles a Capp with every child kind, serves both
 * webhooks, and releases the Lease on SIGTERM. Then the operator's integration suite runs again with
 * its controller acting as the chart's ServiceAccount.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';

import { CAPP_FINALIZER } from '@capp/capp-model';
import {
  CERTIFICATE,
  CNAME_RECORD,
  DOMAIN_MAPPING,
  KNATIVE_SERVICE,
  LOGGING_FLOW,
  LOGGING_OUTPUT,
  NFS_PVC,
} from '@capp/knative-adapter';
import { CAPP_TYPE, EVENT_TYPE, KubeClient, type Lease, LEASE_TYPE, type ResourceType } from '@capp/kube';
import { freePort, type OperatorLogLine, OperatorProcess, REPO_ROOT, waitFor } from '@capp/testing';

import { ChartFixture, envOf, find, type Loose, type Obj, run } from './chart-fixture';

/** The pod name the downward API would give the process (POD_NAME): its identity in the Lease. */
const IDENTITY = 'helm-test';

/** Lines that report a refusal (forbidden) or a failed watch or Event: with the chart's RBAC, none. */
const refusals = (operator: OperatorProcess): OperatorLogLine[] =>
  operator.lines.filter(
    (l) =>
      /forbidden|\b403\b/i.test(`${JSON.stringify(l.err ?? '')} ${l.msg ?? ''}`) ||
      l.event === 'watch-error' ||
      l.event === 'event-record-failed' ||
      l.event === 'webhook-informer-error',
  );

const fx = new ChartFixture();
const { releaseNs, appNs, fullname, zone } = fx;
const operator = new OperatorProcess();
const fqdn = `web.${zone}`;
let installed: Obj[] = [];
let webhookPort = 0;
let kubectl: KubeClient;

/** The operator's container as the chart renders it. */
const container = (): Loose =>
  find(installed, 'Deployment', `${fullname}-operator`).spec.template.spec.containers[0];
const leaseName = (): string => envOf(container()).LEASE_NAME as string;

beforeAll(async () => {
  await fx.setUp();
  ({ installed } = await fx.render());
  await fx.install(installed);
  kubectl = new KubeClient(fx.admin.rest, { fieldManager: 'kubectl', types: [] });

  // What the pod would have: the chart's Secret mounted as the cert dir, a token of its ServiceAccount.
  const secret = find(installed, 'Secret', `${fullname}-webhook-cert`);
  const certDir = join(fx.home, 'serving-certs');
  mkdirSync(certDir, { recursive: true });
  for (const key of ['tls.crt', 'tls.key'])
    writeFileSync(join(certDir, key), Buffer.from(secret.data[key], 'base64'));
  const kubeconfig = await fx.serviceAccountKubeconfig(`${fullname}-operator`);

  const c = container();
  const chartEnv = Object.fromEntries(
    Object.entries(envOf(c)).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  webhookPort = await freePort();
  await operator.start({
    args: c.args as string[],
    env: {
      ...process.env,
      ...chartEnv,
      POD_NAME: IDENTITY,
      KUBECONFIG: kubeconfig,
      WEBHOOK_CERT_DIR: certDir,
      // Local ports instead of the pod's (metrics and probes: `ports`).
      WEBHOOK_PORT: String(webhookPort),
      // The chart watches every namespace; here only the test's, so other tests' Capps stay theirs.
      WATCH_NAMESPACES: appNs,
      RESYNC_SECONDS: '0',
      LOG_LEVEL: 'debug',
    },
    ports: true,
  });
}, 900_000);

afterAll(async () => {
  if (kubectl) {
    // After a failure midway: nothing left behind that a finalizer would keep alive.
    if (await kubectl.get(CAPP_TYPE, appNs, 'web')) {
      await kubectl.delete(CAPP_TYPE, appNs, 'web');
      await waitFor(
        'Capp finalized',
        async () => (await kubectl.get(CAPP_TYPE, appNs, 'web')) === undefined,
        5_000,
      ).catch(() => kubectl.patch(CAPP_TYPE, appNs, 'web', { metadata: { finalizers: null } }));
    }
    await kubectl.delete(CNAME_RECORD, undefined, fqdn).catch(() => false);
  }
  await operator.stop();
  await fx.tearDown();
}, 60_000);

const capp = (name: string, namespace: string, spec: Record<string, unknown>): Obj => ({
  apiVersion: 'rcs.dana.io/v1alpha1',
  kind: 'Capp',
  metadata: { name, namespace },
  spec: {
    configurationSpec: { template: { spec: { containers: [{ image: 'nginx' }] } } },
    ...spec,
  },
});

describe('the operator process with the chart configuration and its ServiceAccount token', () => {
  it(
    'reconciles a Capp with every child kind, prunes and finalizes it, recording Events',
    () =>
      operator.explain(
        (async () => {
          // Leadership first (the controller runs on the leader only); missing list/watch rights would
          // leave the informers retrying forever, so their sync is awaited with a deadline.
          await operator.logged('leading');
          await operator.logged('caches-synced');

          await kubectl.apply({
            apiVersion: 'rcs.dana.io/v1alpha1',
            kind: 'Capp',
            metadata: { name: 'web', namespace: appNs },
            spec: {
              configurationSpec: {
                template: {
                  spec: {
                    containers: [
                      {
                        name: 'web',
                        image: 'ghcr.io/dana-team/capp-gin-app:v0.2.0',
                        volumeMounts: [{ name: 'data', mountPath: '/data' }],
                      },
                    ],
                  },
                },
              },
              routeSpec: { hostname: fqdn, tlsEnabled: true },
              logSpec: {
                type: 'elastic',
                host: '10.1.2.3',
                index: 'main',
                user: 'elastic',
                passwordSecret: 'es-pw',
              },
              volumesSpec: {
                nfsVolumes: [
                  {
                    name: 'data',
                    server: 'nfs.example.com',
                    path: '/exports/web',
                    capacity: { storage: '1Gi' },
                  },
                ],
              },
            },
          });

          // Every child kind created by server-side apply (patch), status and finalizer written.
          const children: Array<[ResourceType, string]> = [
            [KNATIVE_SERVICE, 'web'],
            [NFS_PVC, 'data'],
            [LOGGING_OUTPUT, 'web-elastic'],
            [LOGGING_FLOW, 'web'],
            [CERTIFICATE, fqdn],
            [DOMAIN_MAPPING, fqdn],
            [CNAME_RECORD, fqdn],
          ];
          const child = (type: ResourceType, name: string): Promise<Loose> =>
            kubectl.get(type, type.namespaced ? appNs : undefined, name);
          for (const [type, name] of children) await waitFor(`${type.kind} ${name}`, () => child(type, name));
          const converged = await waitFor('Capp status', async () => {
            const c = (await kubectl.get(CAPP_TYPE, appNs, 'web')) as Loose;
            return c?.status?.observedGeneration === c?.metadata.generation &&
              c.status.managedResources?.length === 7
              ? c
              : undefined;
          });
          expect(converged.metadata.finalizers).toContain(CAPP_FINALIZER);

          // TLS Secrets are watched (metadata only): the issued certificate reaches the DomainMapping.
          await kubectl.create({
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: `${fqdn}-tls`, namespace: appNs },
            type: 'kubernetes.io/tls',
            data: { 'tls.crt': '', 'tls.key': '' },
          });
          await waitFor(
            'DomainMapping with the TLS Secret',
            async () => (await child(DOMAIN_MAPPING, fqdn))?.spec?.tls?.secretName === `${fqdn}-tls`,
          );

          // A removed hostname prunes the DomainMapping, the Certificate and the cluster-scoped CNAMERecord.
          await kubectl.patch(CAPP_TYPE, appNs, 'web', [{ op: 'remove', path: '/spec/routeSpec' }], {
            type: 'json',
          });
          for (const [type, name] of children.slice(4)) {
            await waitFor(`${type.kind} ${name} pruned`, async () => (await child(type, name)) === undefined);
          }

          // Deleting the Capp: the finalizer is released by the operator.
          await kubectl.delete(CAPP_TYPE, appNs, 'web');
          await waitFor(
            'Capp finalized',
            async () => (await kubectl.get(CAPP_TYPE, appNs, 'web')) === undefined,
          );

          const events = await kubectl.list<Loose>(EVENT_TYPE, { namespace: appNs });
          const reasons = events.items
            .filter((e) => e.involvedObject.name === 'web' && e.source?.component === 'capp-operator')
            .map((e) => e.reason as string);
          expect(reasons).toEqual(expect.arrayContaining(['Created', 'Deleted']));

          // Nothing was refused along the way (watches, applies, deletes, status, Events).
          expect(refusals(operator)).toEqual([]);
        })(),
      ),
    60_000,
  );

  it('serves the webhooks with the chart-generated certificate, looking the cluster up as the ServiceAccount', async () => {
    // The paths and CA the chart registers: the process must answer on exactly those.
    const hook = (kind: string, name: string): Loose => find(installed, kind, name).webhooks[0].clientConfig;
    const { caBundle, service } = hook('ValidatingWebhookConfiguration', `${fullname}-validating`);
    const mutating = hook('MutatingWebhookConfiguration', `${fullname}-mutating`);
    expect(mutating.caBundle).toBe(caBundle);
    const VALIDATE_PATH = service.path as string;
    const MUTATE_PATH = mutating.service.path as string;
    // What the apiserver does: TLS to the Service's DNS name, verified against caBundle.
    const review = (path: string, object: Obj): Promise<Loose> =>
      new Promise((resolve, reject) => {
        const body = JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          request: {
            uid: randomBytes(8).toString('hex'),
            operation: 'CREATE',
            namespace: appNs,
            name: object.metadata.name,
            userInfo: { username: 'alice' },
            object,
          },
        });
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: webhookPort,
            path,
            method: 'POST',
            servername: `${service.name}.${service.namespace}.svc`,
            ca: Buffer.from(caBundle, 'base64'),
            headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
          },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve((JSON.parse(text) as Loose).response));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const logSpec = (passwordSecret: string): Record<string, unknown> => ({
      logSpec: { type: 'elastic', host: 'es.example.com', index: 'i', user: 'u', passwordSecret },
    });

    // The log Secret is looked up (get, metadata only) in the Capp's namespace.
    const missing = await review(VALIDATE_PATH, capp('logs', appNs, logSpec('no-such-secret')));
    expect(missing.allowed).toBe(false);
    expect(missing.status.message).toContain('spec.logSpec.passwordSecret');
    await kubectl.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'es-pw', namespace: appNs },
      stringData: { password: 'secret' },
    });
    expect((await review(VALIDATE_PATH, capp('logs', appNs, logSpec('es-pw')))).allowed).toBe(true);

    // Hostname uniqueness across namespaces: the webhook's Capp informer lists them all.
    const taken = `taken.${zone}`;
    await kubectl.apply(capp('holder', releaseNs, { routeSpec: { hostname: taken } }));
    const duplicate = await waitFor('the duplicate hostname refused', async () => {
      const answer = await review(VALIDATE_PATH, capp('copy', appNs, { routeSpec: { hostname: taken } }));
      return answer.allowed === false ? answer : undefined;
    });
    expect(duplicate.status.message).toContain('spec.routeSpec.hostname');

    // Defaulting, on the other path.
    const mutated = await review(MUTATE_PATH, capp('plain', appNs, {}));
    expect(mutated.allowed).toBe(true);
    expect(Buffer.from(mutated.patch, 'base64').toString()).toContain('/spec/scaleMetric');
    expect(refusals(operator)).toEqual([]);
  });

  it('elects a leader with its Lease in the release namespace, and releases it on SIGTERM', async () => {
    const lease = async (): Promise<Lease | undefined> =>
      (await kubectl.get(LEASE_TYPE, releaseNs, leaseName())) as Lease | undefined;
    expect((await lease())?.spec?.holderIdentity).toBe(IDENTITY);
    await operator.explain(
      waitFor('a renewal', async () => {
        const l = await lease();
        return l?.spec?.holderIdentity === IDENTITY && l.spec.renewTime !== l.spec.acquireTime
          ? l
          : undefined;
      }),
    );
    expect(await operator.stop()).toBe(0);
    expect((await lease())?.spec?.holderIdentity).toBe('');
    expect(refusals(operator)).toEqual([]);
  }, 60_000);
});

it('passes the operator integration suites (controller.spec.ts, healthscope.spec.ts, traits.spec.ts) running as the ServiceAccount', async () => {
  // The whole suite again, its controller impersonating the chart's ServiceAccount (the test's
  // own actions stay admin): every scenario must work with exactly the chart's RBAC.
  const jestBin = join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
  const args = [
    jestBin,
    '-c',
    'jest.config.js',
    '--selectProjects',
    'operator',
    '--json',
    'apps/operator/src/controller.spec.ts',
    'apps/operator/src/healthscope.spec.ts',
    'apps/operator/src/traits.spec.ts',
  ];
  const env = { ...process.env, CAPP_TEST_OPERATOR_SA: `${releaseNs}:${fullname}-operator` };
  const out = await run(process.execPath, args, {
    cwd: REPO_ROOT,
    env,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string }) => ({
    stdout: err.stdout ?? '',
    stderr: err.stderr ?? '',
  }));
  const result = JSON.parse(out.stdout || '{}') as {
    numPassedTests?: number;
    numFailedTests?: number;
    testResults?: Array<{
      assertionResults: Array<{ fullName: string; status: string; failureMessages: string[] }>;
    }>;
  };
  const failed = (result.testResults ?? [])
    .flatMap((r) => r.assertionResults)
    .filter((a) => a.status === 'failed')
    .map((a) => `${a.fullName}: ${a.failureMessages.join('\n').slice(0, 500)}`);
  expect(failed).toEqual([]);
  expect(result.numFailedTests).toBe(0);
  expect(result.numPassedTests).toBeGreaterThanOrEqual(12);
}, 900_000);
