/**
 * charts/capp-platform, with helm built from the Go module proxy (tools/helm/build.sh, cached):
 * lint, render with default and non-default values, apply the rendered manifests to the real control
 * plane (RBAC, ConfigMaps, Secrets for real; workloads and webhook configurations dry-run only), and
 * prove the operator's RBAC is enough and no more: the real reconcile loop, leader election and the
 * webhook's lookups run impersonating the chart's ServiceAccount, and SubjectAccessReviews pin down
 * what it may and may not do.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { buildCappCrd, CAPP_FINALIZER } from '@capp/capp-model';
import { CAPP_TYPE, KubeApiError, KubeRest, LeaderElector, resourcePath, ResourceType } from '@capp/kube';
import { freePort, kubeJson, kubeRequest, type KubeTarget, REPO_ROOT, testEnvironment } from '@capp/testing';
import pino from 'pino';
import { parseAllDocuments, stringify } from 'yaml';

import { CHILD_TYPES } from '../../apps/operator/src/cache/cluster-cache';
import type { CappController } from '../../apps/operator/src/controller';
import { type Obj } from '../../apps/operator/src/testing/cluster-fixture';
import {
  Identity,
  restAs as restAsIdentity,
  serviceAccountIdentity,
} from '../../apps/operator/src/testing/impersonation';
import { CappWebhooks, MUTATE_PATH, VALIDATE_PATH } from '../../apps/operator/src/webhook/webhooks';
import { createOperator } from '../../apps/operator/src/wiring';

const run = promisify(execFile);
const CHART = join(REPO_ROOT, 'charts', 'capp-platform');
const FIELD_MANAGER = 'capp-helm-test';

/** Loosely typed access into rendered objects (the assertions check the shapes). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const sfx = randomBytes(3).toString('hex');
const releaseNs = `capp-helm-${sfx}`;
const appNs = `capp-helm-app-${sfx}`;
/** Cluster-scoped names (ClusterRoles, webhook configurations) carry the release name: unique per run. */
const release = `capp-${sfx}`;
const fullname = `${release}-capp-platform`;
const zone = `h${sfx}.example.com`;

let helm = '';
let helmHome = '';

/** Builds helm once per machine (2-4 min on 2 cores; later runs find it cached). */
async function buildHelm(): Promise<string> {
  const { stdout } = await run('bash', [join(REPO_ROOT, 'tools', 'helm', 'build.sh')], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
    timeout: 890_000,
  });
  const path = stdout.trim().split('\n').pop() ?? '';
  if (!path.endsWith('/helm')) throw new Error(`tools/helm/build.sh printed no helm path: ${stdout}`);
  return path;
}

async function helmRun(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(helm, args, {
    cwd: REPO_ROOT,
    maxBuffer: 32 * 1024 * 1024,
    env: {
      ...process.env,
      // Nothing of helm's own state in the user's home.
      HELM_CACHE_HOME: helmHome,
      HELM_CONFIG_HOME: helmHome,
      HELM_DATA_HOME: helmHome,
      // Discovery cache of `helm install --dry-run` (else ~/.kube/cache).
      KUBECACHEDIR: join(helmHome, 'kube-cache'),
      ...env,
    },
  });
  return stdout;
}

function valuesFile(name: string, values: unknown): string {
  const file = join(helmHome, `${name}.yaml`);
  writeFileSync(file, stringify(values));
  return file;
}

async function template(name: string, args: string[] = []): Promise<Obj[]> {
  const out = await helmRun(['template', name, CHART, '--namespace', releaseNs, ...args]);
  // YAML 1.1, as Kubernetes' own readers (sigs.k8s.io/yaml) interpret helm's output.
  return parseAllDocuments(out, { version: '1.1' })
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

/** Runs helm expecting it to fail; returns what it printed. */
async function helmError(args: string[]): Promise<string> {
  try {
    await helmRun(args);
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error(`helm ${args.join(' ')} succeeded`);
}

const find = (objs: Obj[], kind: string, name: string): Loose => {
  const hit = objs.find((o) => o.kind === kind && o.metadata.name === name);
  if (!hit)
    throw new Error(`no ${kind} ${name} in ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return hit;
};
const kinds = (objs: Obj[]): string[] => objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
const envOf = (container: Loose): Record<string, Loose> =>
  Object.fromEntries((container.env as Loose[]).map((e) => [e.name, e.value ?? e.valueFrom]));

// ---------------------------------------------------------------------------------------------
// What the operator's code uses (apps/operator/src/kube, reconcile, controller.ts, webhook/), as
// rendered RBAC rules. The test compares the chart against these exactly.
const OPERATOR_CLUSTER_RULES = [
  { apiGroups: ['rcs.dana.io'], resources: ['capps'], verbs: ['list', 'watch', 'patch'] },
  { apiGroups: ['rcs.dana.io'], resources: ['capps/status'], verbs: ['patch'] },
  { apiGroups: ['rcs.dana.io'], resources: ['capps/finalizers'], verbs: ['update'] },
  {
    apiGroups: ['serving.knative.dev'],
    resources: ['services', 'domainmappings'],
    verbs: ['list', 'watch', 'create', 'patch', 'delete'],
  },
  {
    apiGroups: ['cert-manager.io'],
    resources: ['certificates'],
    verbs: ['list', 'watch', 'create', 'patch', 'delete'],
  },
  {
    apiGroups: ['nfspvc.dana.io'],
    resources: ['nfspvcs'],
    verbs: ['list', 'watch', 'create', 'patch', 'delete'],
  },
  {
    apiGroups: ['logging.banzaicloud.io'],
    resources: ['flows', 'outputs'],
    verbs: ['list', 'watch', 'create', 'patch', 'delete'],
  },
  {
    apiGroups: ['record.dns.crossplane.io'],
    resources: ['cnamerecords'],
    verbs: ['list', 'watch', 'create', 'patch', 'delete'],
  },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create'] },
];
const operatorRoleRules = (leaseName: string): unknown[] => [
  { apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    resourceNames: [leaseName],
    verbs: ['get', 'update'],
  },
];
const API_RULES = [
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
  {
    apiGroups: ['rcs.dana.io'],
    resources: ['capps'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  },
];

const HARDENED = {
  runAsNonRoot: true,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

const NON_DEFAULT = {
  commonLabels: { team: 'platform' },
  config: {
    autoscaleDefaults: { rps: 150, cpu: 75 },
    dns: { zone: 'apps.example.com.', cname: 'ingress.apps.example.com.', providerConfigName: 'dns-prod' },
  },
  operator: {
    replicas: 3,
    watchNamespaces: ['team-a', 'team-b'],
    leaderElection: { leaseName: 'capp-leader' },
    image: { digest: `sha256:${'ab'.repeat(32)}` },
  },
  webhook: { certManager: { enabled: true }, excludeNamespaces: ['kube-system'] },
  api: {
    replicas: 3,
    corsOrigins: ['https://console.example.com'],
    rateLimitPerMinute: 1200,
    revisionLimit: 20,
    database: { existingSecret: 'pg-conn', existingSecretKey: 'uri' },
    redis: { existingSecret: 'redis-conn', existingSecretKey: 'url' },
    ingress: {
      enabled: true,
      className: 'nginx',
      hosts: [{ host: 'capp.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }],
      tls: [{ secretName: 'capp-api-tls', hosts: ['capp.example.com'] }],
    },
  },
  serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
};

let defaults: Obj[] = [];
let nonDefault: Obj[] = [];
/** What is installed: defaults plus a DNS zone (so Capps may have hostnames) and the CRD. */
let installed: Obj[] = [];

beforeAll(async () => {
  helm = await buildHelm();
  helmHome = mkdtempSync(join(tmpdir(), 'capp-helm-'));
}, 900_000);

afterAll(() => {
  if (helmHome) rmSync(helmHome, { recursive: true, force: true });
});

describe('helm lint and template', () => {
  beforeAll(async () => {
    const nonDefaultFile = valuesFile('non-default', NON_DEFAULT);
    [defaults, nonDefault, installed] = await Promise.all([
      template(release),
      template(release, ['-f', nonDefaultFile]),
      template(release, [
        '--include-crds',
        '--set',
        `config.dns.zone=${zone}.`,
        '--set',
        `config.dns.cname=ingress.${zone}.`,
      ]),
    ]);
  }, 60_000);

  it('lints cleanly (strict) with default and non-default values', async () => {
    const file = valuesFile('lint-non-default', NON_DEFAULT);
    const [a, b] = await Promise.all([
      helmRun(['lint', '--strict', CHART]),
      helmRun(['lint', '--strict', CHART, '-f', file]),
    ]);
    for (const out of [a, b]) expect(out).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('rejects values outside values.schema.json and inconsistent DNS settings, naming the key', async () => {
    const base = ['template', release, CHART];
    expect(await helmError([...base, '--set', 'api.authMode=oops'])).toMatch(/\/api\/authMode/);
    expect(await helmError([...base, '--set', 'operator.replica=3'])).toMatch(
      /additional properties 'replica'/,
    );
    expect(await helmError([...base, '--set', 'config.autoscaleDefaults.cpu=101'])).toMatch(
      /autoscaleDefaults\/cpu/,
    );
    expect(await helmError([...base, '--set', 'config.dns.zone=apps.example.com'])).toMatch(
      /config\/dns\/zone/,
    );
    expect(await helmError([...base, '--set', 'config.dns.zone=apps.example.com.'])).toMatch(
      /config.dns.cname is required/,
    );
  });

  it('renders every part of the platform with default values', () => {
    expect(kinds(defaults)).toEqual(
      [
        `ClusterRole/${fullname}-api`,
        `ClusterRole/${fullname}-edit`,
        `ClusterRole/${fullname}-operator`,
        `ClusterRole/${fullname}-view`,
        `ClusterRoleBinding/${fullname}-api`,
        `ClusterRoleBinding/${fullname}-operator`,
        'ConfigMap/autoscale-defaults',
        `Deployment/${fullname}-api`,
        `Deployment/${fullname}-operator`,
        `MutatingWebhookConfiguration/${fullname}-mutating`,
        `PodDisruptionBudget/${fullname}-api`,
        `PodDisruptionBudget/${fullname}-operator`,
        `Role/${fullname}-operator`,
        `RoleBinding/${fullname}-operator`,
        `Secret/${fullname}-webhook-cert`,
        `Service/${fullname}-api`,
        `Service/${fullname}-operator-metrics`,
        `Service/${fullname}-webhook`,
        `ServiceAccount/${fullname}-api`,
        `ServiceAccount/${fullname}-operator`,
        `ValidatingWebhookConfiguration/${fullname}-validating`,
      ].sort(),
    );
    for (const o of defaults) {
      expect(o.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'capp-platform',
        'app.kubernetes.io/instance': release,
        'app.kubernetes.io/managed-by': 'Helm',
        'helm.sh/chart': 'capp-platform-0.1.0',
      });
      const clusterScoped = /^(ClusterRole|ClusterRoleBinding|\w+WebhookConfiguration)$/.test(o.kind);
      expect(o.metadata.namespace).toBe(clusterScoped ? undefined : releaseNs);
    }
  });

  it('gives the operator exactly the RBAC its code uses: a ClusterRole, and a Role in its own namespace', async () => {
    expect(find(defaults, 'ClusterRole', `${fullname}-operator`).rules).toEqual(OPERATOR_CLUSTER_RULES);
    expect(find(defaults, 'Role', `${fullname}-operator`).rules).toEqual(
      operatorRoleRules('capp-operator-leader'),
    );
    const subjects = [{ kind: 'ServiceAccount', name: `${fullname}-operator`, namespace: releaseNs }];
    expect(find(defaults, 'ClusterRoleBinding', `${fullname}-operator`)).toMatchObject({
      roleRef: { kind: 'ClusterRole', name: `${fullname}-operator` },
      subjects,
    });
    expect(find(defaults, 'RoleBinding', `${fullname}-operator`)).toMatchObject({
      roleRef: { kind: 'Role', name: `${fullname}-operator` },
      subjects,
    });
    expect(find(defaults, 'ClusterRole', `${fullname}-api`).rules).toEqual(API_RULES);
    // Without authentication (development), no token or access reviews.
    const devApi = await template(release, ['--set', 'api.authMode=none']);
    expect(find(devApi, 'ClusterRole', `${fullname}-api`).rules).toEqual(API_RULES.slice(2));
    // Lease name follows the value; no Lease rights without leader election.
    expect(find(nonDefault, 'Role', `${fullname}-operator`).rules).toEqual(operatorRoleRules('capp-leader'));
    const single = await template(release, ['--set', 'operator.leaderElection.enabled=false']);
    expect(find(single, 'Role', `${fullname}-operator`).rules).toEqual(operatorRoleRules('').slice(0, 1));
    expect(find(single, 'Deployment', `${fullname}-operator`).spec.template.spec.containers[0].args).toEqual([
      '--leader-elect',
      'false',
    ]);
  });

  it('runs the operator: 2 replicas, leader election, probes, ports, env, hardened, webhook certificate mounted', () => {
    const deploy = find(defaults, 'Deployment', `${fullname}-operator`);
    const pod = deploy.spec.template.spec;
    const [c] = pod.containers;
    expect(deploy.spec.replicas).toBe(2);
    expect(pod.serviceAccountName).toBe(`${fullname}-operator`);
    expect(c.image).toBe('ghcr.io/dana-team/capp-operator:0.1.0');
    expect(c.args).toEqual(['--leader-elect', 'true']);
    const env = envOf(c);
    expect(env).toMatchObject({
      OPERATOR_NAMESPACE: releaseNs,
      POD_NAME: { fieldRef: { fieldPath: 'metadata.name' } },
      WEBHOOK_PORT: '9443',
      WEBHOOK_CERT_DIR: '/tmp/k8s-webhook-server/serving-certs',
      // The API sets last-updated-by for its callers: the webhook trusts its ServiceAccount.
      TRUSTED_UPDATERS: `system:serviceaccount:${releaseNs}:${fullname}-api`,
      LEASE_NAME: 'capp-operator-leader',
      METRICS_PORT: '8080',
      PROBE_PORT: '8081',
    });
    expect(c.ports).toEqual([
      { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
      { name: 'probes', containerPort: 8081, protocol: 'TCP' },
      { name: 'webhook', containerPort: 9443, protocol: 'TCP' },
    ]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'probes' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'probes' });
    expect(c.resources.requests).toEqual({ cpu: '100m', memory: '128Mi' });
    expect(c.resources.limits.memory).toBe('512Mi');
    expect(c.securityContext).toEqual(HARDENED);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(c.volumeMounts).toContainEqual({
      name: 'webhook-cert',
      mountPath: '/tmp/k8s-webhook-server/serving-certs',
      readOnly: true,
    });
    expect(pod.volumes).toContainEqual({
      name: 'webhook-cert',
      secret: { secretName: `${fullname}-webhook-cert`, defaultMode: 0o440 }, // readable by fsGroup
    });
    // Every replica serves the webhooks: the Service selects all operator pods (no leader label).
    const svc = find(defaults, 'Service', `${fullname}-webhook`);
    expect(svc.spec.selector).toEqual(deploy.spec.selector.matchLabels);
    expect(svc.spec.ports).toEqual([{ name: 'webhook', port: 443, targetPort: 'webhook', protocol: 'TCP' }]);
  });

  it('runs the API: 2 replicas, migrations first, probes, env from values, connection URLs from a Secret, hardened', () => {
    const deploy = find(defaults, 'Deployment', `${fullname}-api`);
    const pod = deploy.spec.template.spec;
    const [c] = pod.containers;
    const [migrate] = pod.initContainers;
    expect(deploy.spec.replicas).toBe(2);
    expect(pod.serviceAccountName).toBe(`${fullname}-api`);
    expect(migrate.image).toBe(c.image);
    expect(migrate.command).toEqual(['npx', '--no-install', 'prisma', 'migrate', 'deploy']);
    const fromChartSecret = (key: string): unknown => ({
      secretKeyRef: { name: `${fullname}-api-connection`, key },
    });
    expect(envOf(migrate).DATABASE_URL).toEqual(fromChartSecret('DATABASE_URL'));
    expect(envOf(c)).toMatchObject({
      DATABASE_URL: fromChartSecret('DATABASE_URL'),
      REDIS_URL: fromChartSecret('REDIS_URL'),
      PORT: '3000',
      AUTH_MODE: 'kubernetes',
      REVISION_LIMIT: '10',
      RATE_LIMIT_PER_MINUTE: '600',
      ADMISSION_TIMEOUT_MS: '5000',
      CORS_ORIGINS: '',
      WATCH_CLUSTER: 'true',
    });
    expect(c.ports).toEqual([{ name: 'http', containerPort: 3000, protocol: 'TCP' }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    for (const container of [c, migrate]) expect(container.securityContext).toEqual(HARDENED);
    expect(find(defaults, 'Service', `${fullname}-api`).spec.ports).toEqual([
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
    ]);
  });

  it('registers both webhooks for Capp creates and updates only, with a generated CA as caBundle', () => {
    const secret = find(defaults, 'Secret', `${fullname}-webhook-cert`);
    const pem = (key: string): string => Buffer.from(secret.data[key], 'base64').toString();
    const ca = new X509Certificate(pem('ca.crt'));
    const cert = new X509Certificate(pem('tls.crt'));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(pem('tls.key')))).toBe(true);
    expect(cert.subjectAltName).toContain(`DNS:${fullname}-webhook.${releaseNs}.svc`);
    for (const [kind, path, name] of [
      ['ValidatingWebhookConfiguration', '/validate-capp', 'vcapp.rcs.dana.io'],
      ['MutatingWebhookConfiguration', '/mutate-capp', 'mcapp.rcs.dana.io'],
    ]) {
      const config = find(defaults, kind, `${fullname}-${kind.startsWith('V') ? 'validating' : 'mutating'}`);
      expect(config.webhooks).toHaveLength(1);
      const [hook] = config.webhooks;
      expect(hook).toMatchObject({
        name,
        failurePolicy: 'Fail',
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        clientConfig: {
          service: { name: `${fullname}-webhook`, namespace: releaseNs, path, port: 443 },
          caBundle: secret.data['ca.crt'],
        },
        namespaceSelector: {
          matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [releaseNs] }],
        },
      });
      // Not capps/status, not DELETE.
      expect(hook.rules).toEqual([
        {
          apiGroups: ['rcs.dana.io'],
          apiVersions: ['v1alpha1'],
          operations: ['CREATE', 'UPDATE'],
          resources: ['capps'],
          scope: 'Namespaced',
        },
      ]);
    }
  });

  it('renders the ConfigMaps from values; dns-config only with a zone', () => {
    expect(find(defaults, 'ConfigMap', 'autoscale-defaults').data).toEqual({
      rps: '200',
      cpu: '80',
      memory: '70',
      concurrency: '10',
      activationScale: '3',
    });
    expect(defaults.some((o) => o.metadata.name === 'dns-config')).toBe(false);
    expect(find(nonDefault, 'ConfigMap', 'autoscale-defaults').data).toMatchObject({ rps: '150', cpu: '75' });
    expect(find(nonDefault, 'ConfigMap', 'dns-config').data).toEqual({
      zone: 'apps.example.com.',
      cname: 'ingress.apps.example.com.',
      providerConfigName: 'dns-prod',
    });
  });

  it('with non-default values: cert-manager certificates, existing Secrets, Ingress, ServiceMonitors, scaling', () => {
    const issuer = find(nonDefault, 'Issuer', `${fullname}-selfsigned`);
    expect(issuer.spec).toEqual({ selfSigned: {} });
    const cert = find(nonDefault, 'Certificate', `${fullname}-webhook`);
    expect(cert.spec).toMatchObject({
      secretName: `${fullname}-webhook-cert`,
      issuerRef: { kind: 'Issuer', name: `${fullname}-selfsigned` },
    });
    expect(cert.spec.dnsNames).toContain(`${fullname}-webhook.${releaseNs}.svc`);
    expect(nonDefault.some((o) => o.kind === 'Secret')).toBe(false); // neither generated cert nor URLs
    for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
      const config = nonDefault.find((o) => o.kind === kind) as Loose;
      expect(config.metadata.annotations).toEqual({
        'cert-manager.io/inject-ca-from': `${releaseNs}/${fullname}-webhook`,
      });
      expect(config.webhooks[0].clientConfig.caBundle).toBeUndefined();
      expect(config.webhooks[0].namespaceSelector.matchExpressions[0].values).toEqual([
        releaseNs,
        'kube-system',
      ]);
    }

    const api = find(nonDefault, 'Deployment', `${fullname}-api`);
    expect(api.spec.replicas).toBe(3);
    const apiEnv = envOf(api.spec.template.spec.containers[0]);
    expect(apiEnv).toMatchObject({
      DATABASE_URL: { secretKeyRef: { name: 'pg-conn', key: 'uri' } },
      REDIS_URL: { secretKeyRef: { name: 'redis-conn', key: 'url' } },
      CORS_ORIGINS: 'https://console.example.com',
      RATE_LIMIT_PER_MINUTE: '1200',
      REVISION_LIMIT: '20',
    });
    expect(envOf(api.spec.template.spec.initContainers[0]).DATABASE_URL).toEqual({
      secretKeyRef: { name: 'pg-conn', key: 'uri' },
    });

    const ingress = find(nonDefault, 'Ingress', `${fullname}-api`);
    expect(ingress.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ secretName: 'capp-api-tls', hosts: ['capp.example.com'] }],
      rules: [
        {
          host: 'capp.example.com',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: `${fullname}-api`, port: { name: 'http' } } },
              },
            ],
          },
        },
      ],
    });

    const monitors = nonDefault.filter((o) => o.kind === 'ServiceMonitor') as Loose[];
    expect(monitors.map((m) => m.spec.endpoints[0])).toEqual([
      expect.objectContaining({ port: 'metrics', path: '/metrics' }),
      expect.objectContaining({ port: 'http', path: '/metrics' }),
    ]);
    for (const m of monitors) expect(m.metadata.labels).toMatchObject({ release: 'prometheus' });

    const operator = find(nonDefault, 'Deployment', `${fullname}-operator`);
    expect(operator.spec.replicas).toBe(3);
    const c = operator.spec.template.spec.containers[0];
    expect(c.image).toBe(`ghcr.io/dana-team/capp-operator@sha256:${'ab'.repeat(32)}`);
    expect(envOf(c)).toMatchObject({ WATCH_NAMESPACES: 'team-a,team-b', LEASE_NAME: 'capp-leader' });
    for (const o of nonDefault) expect(o.metadata.labels).toMatchObject({ team: 'platform' });
  });

  it('ships the generated Capp CRD unchanged', () => {
    const crd = installed.find((o) => o.kind === 'CustomResourceDefinition');
    expect(crd).toEqual(buildCappCrd());
  });

  it('prints NOTES that tell the next step (reaching the API, getting a token)', async () => {
    const env = testEnvironment();
    const out = await helmRun(['install', release, CHART, '--namespace', releaseNs, '--dry-run=client'], {
      KUBECONFIG: env.kubeconfigPath ?? '',
    });
    const notes = out.slice(out.indexOf('NOTES:'));
    expect(notes).toContain(`kubectl -n ${releaseNs} port-forward service/${fullname}-api`);
    expect(notes).toContain('create token capp-user');
    expect(notes).toContain('api.database.url');
  });
});

describe('helmfile/ (prerequisites)', () => {
  const HELMFILE = join(REPO_ROOT, 'helmfile');
  interface Release {
    name: string;
    namespace: string;
    chart: string;
    version?: string;
    needs?: string[];
  }
  const releases = (): Release[] => {
    const docs = parseAllDocuments(readFileSync(join(HELMFILE, 'helmfile.yaml'), 'utf8')).map(
      (d) => d.toJS() as { releases?: Release[] },
    );
    return docs.flatMap((d) => d?.releases ?? []);
  };

  it('pins every chart, orders the releases, and installs capp-platform last', () => {
    const all = releases();
    expect(all.map((r) => r.name)).toEqual([
      'cert-manager',
      'cert-external-issuer',
      'knative-operator',
      'knative-serving',
      'crossplane',
      'provider-dns',
      'nfspvc-operator',
      'logging-operator',
      'platform-extras',
      'capp-platform',
    ]);
    for (const r of all) {
      expect(r.version).toMatch(/^v?\d+\.\d+\.\d+$/);
      if (r.chart.startsWith('.')) expect(existsSync(join(HELMFILE, r.chart, 'Chart.yaml'))).toBe(true);
      for (const need of r.needs ?? []) {
        const [ns, name] = need.split('/');
        expect(all.some((x) => x.name === name && x.namespace === ns)).toBe(true);
      }
    }
    expect(all.at(-1)?.needs).toHaveLength(6);
  });

  it('lints its local charts; Knative gets the PVC and emptyDir features', async () => {
    const charts = ['knative-serving', 'platform-extras'].map((c) => join(HELMFILE, 'charts', c));
    expect(await helmRun(['lint', '--strict', ...charts])).toContain('2 chart(s) linted, 0 chart(s) failed');
    const out = await helmRun(['template', 'knative-serving', charts[0], '--namespace', 'knative-serving']);
    const serving = parseAllDocuments(out, { version: '1.1' })[0].toJS() as Loose;
    expect(serving.spec.config.features).toMatchObject({
      'kubernetes.podspec-persistent-volume-claim': 'enabled',
      'kubernetes.podspec-persistent-volume-write': 'enabled',
      'kubernetes.podspec-volumes-emptydir': 'enabled',
    });
  });

  it('renders a ClusterIssuer the real cert.dana.io CRD accepts (server-side dry-run)', async () => {
    const out = await helmRun([
      'template',
      'platform-extras',
      join(HELMFILE, 'charts', 'platform-extras'),
      '--set',
      'certIssuer.apiEndpoint=https://cert-api.example.com',
      '--set',
      'certIssuer.downloadEndpoint=https://cert-api.example.com',
      '--set',
      'certIssuer.allowedDomains[0]=apps.example.com',
    ]);
    const issuer = parseAllDocuments(out, { version: '1.1' })
      .map((d) => d.toJS() as Obj)
      .find((o) => o.kind === 'ClusterIssuer') as Obj;
    const { target } = testEnvironment();
    const path = `/apis/cert.dana.io/v1alpha1/clusterissuers/${issuer.metadata.name}`;
    await kubeJson(
      target,
      'PATCH',
      `${path}?fieldManager=${FIELD_MANAGER}&fieldValidation=Strict&dryRun=All`,
      issuer,
      {
        contentType: 'application/apply-patch+yaml',
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// On the real control plane.

interface Kind {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}
const KINDS: Record<string, Kind> = {
  Namespace: { group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  ServiceAccount: { group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true },
  Secret: { group: '', version: 'v1', plural: 'secrets', namespaced: true },
  ConfigMap: { group: '', version: 'v1', plural: 'configmaps', namespaced: true },
  Service: { group: '', version: 'v1', plural: 'services', namespaced: true },
  Deployment: { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true },
  PodDisruptionBudget: { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', namespaced: true },
  Ingress: { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespaced: true },
  ClusterRole: {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'clusterroles',
    namespaced: false,
  },
  ClusterRoleBinding: {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'clusterrolebindings',
    namespaced: false,
  },
  Role: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', namespaced: true },
  RoleBinding: {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'rolebindings',
    namespaced: true,
  },
  ValidatingWebhookConfiguration: {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    plural: 'validatingwebhookconfigurations',
    namespaced: false,
  },
  MutatingWebhookConfiguration: {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    plural: 'mutatingwebhookconfigurations',
    namespaced: false,
  },
  CustomResourceDefinition: {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    plural: 'customresourcedefinitions',
    namespaced: false,
  },
  Issuer: { group: 'cert-manager.io', version: 'v1', plural: 'issuers', namespaced: true },
  Certificate: { group: 'cert-manager.io', version: 'v1', plural: 'certificates', namespaced: true },
  ServiceMonitor: {
    group: 'monitoring.coreos.com',
    version: 'v1',
    plural: 'servicemonitors',
    namespaced: true,
  },
};

function pathOf(o: Obj): string {
  const k = KINDS[o.kind];
  if (!k) throw new Error(`no REST mapping for ${o.kind}`);
  const gv = k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`;
  const ns = k.namespaced ? `/namespaces/${o.metadata.namespace}` : '';
  return `${gv}${ns}/${k.plural}/${o.metadata.name}`;
}

async function apply(
  target: KubeTarget,
  o: Obj,
  dryRun: boolean,
  fieldManager = FIELD_MANAGER,
): Promise<void> {
  const query = `fieldManager=${fieldManager}&force=true&fieldValidation=Strict${dryRun ? '&dryRun=All' : ''}`;
  await kubeJson(target, 'PATCH', `${pathOf(o)}?${query}`, o, {
    contentType: 'application/apply-patch+yaml',
  });
}

/** What is applied for real; everything else (workloads, webhook configurations) dry-run only. */
const REAL = new Set([
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'ConfigMap',
  'Secret',
]);
/**
 * A webhook configuration for real would send every Capp write of other tests to a Service that
 * does not exist; the aggregated user roles would change the built-in admin/edit/view roles other
 * tests may rely on.
 */
const isReal = (o: Obj): boolean =>
  REAL.has(o.kind) && !(o.kind === 'ClusterRole' && /-(edit|view)$/.test(o.metadata.name));

const serviceAccount = (name: string): Identity => serviceAccountIdentity(releaseNs, name);

function restAs(who: Identity): KubeRest {
  return restAsIdentity(testEnvironment().kubeconfigPath ?? '', who);
}

interface Access {
  verb: string;
  group?: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}
const describeAccess = (a: Access): string =>
  `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.group ? `.${a.group}` : ''}` +
  `${a.namespace ? ` in ${a.namespace}` : ' cluster-wide'}${a.name ? ` (${a.name})` : ''}`;

async function allowed(
  target: KubeTarget,
  who: { user: string; groups: string[] },
  a: Access,
): Promise<boolean> {
  const review = await kubeJson<{ status: { allowed?: boolean } }>(
    target,
    'POST',
    '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user: who.user, groups: who.groups, resourceAttributes: { ...a, group: a.group ?? '' } },
    },
  );
  return review.status.allowed === true;
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe('the rendered chart on the real control plane', () => {
  const env = testEnvironment();
  const target = env.target;
  const admin = (
    method: string,
    path: string,
    body?: unknown,
    opts?: { contentType?: string },
  ): Promise<Loose> => kubeJson(target, method, path, body, opts);
  const get = async (path: string): Promise<Loose | undefined> => {
    const res = await kubeRequest<Loose>(target, 'GET', path);
    return res.status === 200 ? res.body : undefined;
  };
  const operatorSa = serviceAccount(`${fullname}-operator`);
  const apiSa = serviceAccount(`${fullname}-api`);
  const createdClusterObjects: string[] = [];

  beforeAll(async () => {
    for (const name of [releaseNs, appNs]) {
      await admin('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
  }, 30_000);

  afterAll(async () => {
    for (const path of createdClusterObjects) await kubeRequest(target, 'DELETE', path);
    for (const name of [appNs, releaseNs]) await kubeRequest(target, 'DELETE', `/api/v1/namespaces/${name}`);
  }, 30_000);

  it('applies the CRD, ServiceAccounts, RBAC, ConfigMaps and Secrets for real, the rest server-side dry-run', async () => {
    const crd = installed.find((o) => o.kind === 'CustomResourceDefinition') as Obj;
    // The very CRD the harness installed (same field manager): a no-op unless the chart's copy is
    // stale, which the test above reports; a stale one is only dry-run, never served to other tests.
    const crdIsCurrent = JSON.stringify(crd) === JSON.stringify(buildCappCrd());
    await apply(target, crd, !crdIsCurrent, 'capp-testing');

    const rest = installed.filter((o) => o.kind !== 'CustomResourceDefinition');
    const real = rest.filter(isReal);
    const dry = rest.filter((o) => !isReal(o));
    // ServiceAccounts before the bindings that name them, bindings after their roles.
    const order = [
      'ServiceAccount',
      'Secret',
      'ConfigMap',
      'ClusterRole',
      'Role',
      'ClusterRoleBinding',
      'RoleBinding',
    ];
    for (const kind of order)
      await Promise.all(real.filter((o) => o.kind === kind).map((o) => apply(target, o, false)));
    for (const o of real.filter((x) => !KINDS[x.kind].namespaced)) createdClusterObjects.push(pathOf(o));
    await Promise.all(dry.map((o) => apply(target, o, true)));

    // The non-default rendering, all dry-run (into the same namespace, other release name); the
    // Prometheus Operator's ServiceMonitor only where its CRD is served.
    const monitoring = (await kubeRequest(target, 'GET', '/apis/monitoring.coreos.com/v1')).status === 200;
    const others = nonDefault
      .filter((o) => o.kind !== 'ServiceMonitor' || monitoring)
      .map((o) => JSON.parse(JSON.stringify(o).replaceAll(fullname, `${fullname}-nd`)) as Obj);
    await Promise.all(others.map((o) => apply(target, o, true)));

    // What was applied for real is there; what was dry-run is not.
    expect(await get(pathOf(find(installed, 'ClusterRole', `${fullname}-operator`)))).toBeDefined();
    expect((await get(`/api/v1/namespaces/${releaseNs}/configmaps/dns-config`))?.data).toEqual({
      zone: `${zone}.`,
      cname: `ingress.${zone}.`,
    });
    expect(await get(`/api/v1/namespaces/${releaseNs}/secrets/${fullname}-webhook-cert`)).toBeDefined();
    expect(await get(pathOf(find(installed, 'Deployment', `${fullname}-operator`)))).toBeUndefined();
    expect(
      await get(pathOf(find(installed, 'ValidatingWebhookConfiguration', `${fullname}-validating`))),
    ).toBeUndefined();
  }, 60_000);

  describe('the operator impersonating its ServiceAccount, with only the chart RBAC', () => {
    const logs: Array<{ event?: string; msg?: string; err?: string }> = [];
    const logger = pino(
      { level: 'debug' },
      { write: (line: string) => void logs.push(JSON.parse(line) as (typeof logs)[number]) },
    );
    let controller: CappController | undefined;
    let rest: KubeRest;
    const [KSVC, NFSPVC, OUTPUT, FLOW, CERTIFICATE, DOMAIN_MAPPING, CNAME_RECORD] = CHILD_TYPES;
    const fqdn = `web.${zone}`;
    const childPath = (t: ResourceType, name: string): string =>
      resourcePath(t, t.namespaced ? appNs : undefined, name);

    beforeAll(() => {
      rest = restAs(operatorSa);
    });

    afterAll(async () => {
      // After a failure midway: nothing left behind that a finalizer would keep alive.
      const cappPath = resourcePath(CAPP_TYPE, appNs, 'web');
      if (await get(cappPath)) {
        await kubeRequest(target, 'DELETE', cappPath);
        await waitFor('Capp finalized', async () => (await get(cappPath)) === undefined, 5_000).catch(() =>
          kubeRequest(
            target,
            'PATCH',
            cappPath,
            { metadata: { finalizers: null } },
            {
              contentType: 'application/merge-patch+json',
            },
          ),
        );
      }
      await kubeRequest(target, 'DELETE', childPath(CNAME_RECORD, fqdn));
      await controller?.stop();
      rest.close();
    }, 30_000);

    it('is the ServiceAccount (impersonation in effect): pods and ConfigMaps elsewhere are forbidden', async () => {
      const denied = async (method: string, path: string, body?: unknown): Promise<number> =>
        rest.request(method, path, { body }).then(
          () => 200,
          (err: unknown) => (err instanceof KubeApiError ? err.statusCode : 0),
        );
      expect(await denied('GET', `/api/v1/namespaces/${appNs}/pods`)).toBe(403);
      expect(await denied('GET', `/api/v1/namespaces/${appNs}/configmaps`)).toBe(403);
      expect(
        await denied('POST', `/api/v1/namespaces/${appNs}/configmaps`, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'nope' },
        }),
      ).toBe(403);
    });

    /** On failure, the operator's last log lines are part of the message (e.g. what was forbidden). */
    const withLogs = async (fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        const tail = logs.slice(-15).map((l) => JSON.stringify(l).slice(0, 400));
        throw new Error(
          `${err instanceof Error ? err.message : String(err)}\noperator log:\n${tail.join('\n')}`,
        );
      }
    };

    it(
      'reconciles a Capp with every child kind, prunes and finalizes it, recording Events',
      () =>
        withLogs(async () => {
          controller = createOperator(
            rest,
            {
              namespaces: [appNs],
              operatorNamespace: releaseNs,
              concurrency: 4,
              resyncSeconds: 0,
              identity: 'helm-test',
            },
            logger,
          ).controller;
          // Missing list/watch rights would leave the informers retrying forever: fail with the log.
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            controller.start(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error('informers did not sync')), 20_000);
            }),
          ]).finally(() => clearTimeout(timer));

          const cappPath = resourcePath(CAPP_TYPE, appNs, 'web');
          await admin(
            'PATCH',
            `${cappPath}?fieldManager=kubectl&force=true`,
            {
              apiVersion: 'rcs.dana.io/v1alpha1',
              kind: 'Capp',
              metadata: { name: 'web', namespace: appNs },
              spec: {
                configurationSpec: {
                  template: {
                    spec: { containers: [{ name: 'web', image: 'ghcr.io/dana-team/capp-gin-app:v0.2.0' }] },
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
            },
            { contentType: 'application/apply-patch+yaml' },
          );

          // Every child kind created by server-side apply (patch), status and finalizer written.
          const children: Array<[ResourceType, string]> = [
            [KSVC, 'web'],
            [NFSPVC, 'data'],
            [OUTPUT, 'web-elastic'],
            [FLOW, 'web'],
            [CERTIFICATE, fqdn],
            [DOMAIN_MAPPING, fqdn],
            [CNAME_RECORD, fqdn],
          ];
          for (const [type, name] of children)
            await waitFor(`${type.kind} ${name}`, () => get(childPath(type, name)));
          const converged = await waitFor('Capp status', async () => {
            const c = await get(cappPath);
            return c?.status?.observedGeneration === c?.metadata.generation &&
              c.status.managedResources?.length === 7
              ? c
              : undefined;
          });
          expect(converged.metadata.finalizers).toContain(CAPP_FINALIZER);

          // TLS Secrets are watched (metadata only): the issued certificate reaches the DomainMapping.
          await admin('POST', `/api/v1/namespaces/${appNs}/secrets`, {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: `${fqdn}-tls` },
            type: 'kubernetes.io/tls',
            data: { 'tls.crt': '', 'tls.key': '' },
          });
          await waitFor('DomainMapping with the TLS Secret', async () => {
            const dm = await get(childPath(DOMAIN_MAPPING, fqdn));
            return dm?.spec?.tls?.secretName === `${fqdn}-tls`;
          });

          // A removed hostname prunes the DomainMapping, the Certificate and the cluster-scoped CNAMERecord.
          await admin('PATCH', cappPath, [{ op: 'remove', path: '/spec/routeSpec' }], {
            contentType: 'application/json-patch+json',
          });
          for (const [type, name] of children.slice(4)) {
            await waitFor(
              `${type.kind} ${name} pruned`,
              async () => (await get(childPath(type, name))) === undefined,
            );
          }

          // Deleting the Capp: the finalizer is released by the operator.
          await admin('DELETE', cappPath);
          await waitFor('Capp finalized', async () => (await get(cappPath)) === undefined);

          const events = (await admin('GET', `/api/v1/namespaces/${appNs}/events`)) as { items: Loose[] };
          const reasons = events.items
            .filter((e) => e.involvedObject.name === 'web' && e.source?.component === 'capp-operator')
            .map((e) => e.reason as string);
          expect(reasons).toEqual(expect.arrayContaining(['Created', 'Deleted']));

          // Nothing was refused along the way (watches, applies, deletes, status, Events).
          expect(logs.filter((l) => /forbidden|\b403\b/i.test(`${l.err ?? ''} ${l.msg ?? ''}`))).toEqual([]);
          expect(logs.filter((l) => l.event === 'watch-error' || l.event === 'event-record-failed')).toEqual(
            [],
          );
        }),
      60_000,
    );

    it('serves the webhooks with the chart-generated certificate, looking the cluster up as the ServiceAccount', async () => {
      // The Secret the chart generated, mounted as the operator's cert dir.
      const secret = find(installed, 'Secret', `${fullname}-webhook-cert`);
      const certDir = join(helmHome, 'serving-certs');
      mkdirSync(certDir, { recursive: true });
      for (const key of ['tls.crt', 'tls.key']) {
        writeFileSync(join(certDir, key), Buffer.from(secret.data[key], 'base64'));
      }
      const webhookConfig = find(installed, 'ValidatingWebhookConfiguration', `${fullname}-validating`);
      const { caBundle, service } = webhookConfig.webhooks[0].clientConfig;
      const port = await freePort();
      const webhooks = new CappWebhooks(
        rest,
        { port, certDir, trustedUpdaters: [] },
        logger.child({ part: 'webhook' }),
      );
      await webhooks.start();
      try {
        // What the apiserver does: TLS to the Service's DNS name, verified against caBundle.
        const review = (path: string, object: unknown): Promise<Loose> =>
          new Promise((resolve, reject) => {
            const body = JSON.stringify({
              apiVersion: 'admission.k8s.io/v1',
              kind: 'AdmissionReview',
              request: {
                uid: randomBytes(8).toString('hex'),
                operation: 'CREATE',
                namespace: appNs,
                name: (object as Obj).metadata.name,
                userInfo: { username: 'alice' },
                object,
              },
            });
            const req = httpsRequest(
              {
                host: '127.0.0.1',
                port,
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
        const capp = (name: string, spec: Record<string, unknown>): Obj => ({
          apiVersion: 'rcs.dana.io/v1alpha1',
          kind: 'Capp',
          metadata: { name, namespace: appNs },
          spec: {
            configurationSpec: { template: { spec: { containers: [{ image: 'nginx' }] } } },
            ...spec,
          },
        });
        const logSpec = (passwordSecret: string): Record<string, unknown> => ({
          logSpec: { type: 'elastic', host: 'es.example.com', index: 'i', user: 'u', passwordSecret },
        });

        // The log Secret is looked up (get, metadata only) in the Capp's namespace.
        const missing = await review(service.path, capp('logs', logSpec('no-such-secret')));
        expect(missing.allowed).toBe(false);
        expect(missing.status.message).toContain('spec.logSpec.passwordSecret');
        await admin('POST', `/api/v1/namespaces/${appNs}/secrets`, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'es-pw' },
          stringData: { password: 'secret' },
        });
        expect((await review(VALIDATE_PATH, capp('logs', logSpec('es-pw')))).allowed).toBe(true);

        // Hostname uniqueness across namespaces: the webhook's Capp informer lists them all.
        const taken = `taken.${zone}`;
        await admin(
          'PATCH',
          `${resourcePath(CAPP_TYPE, releaseNs, 'holder')}?fieldManager=kubectl&force=true`,
          {
            ...capp('holder', { routeSpec: { hostname: taken } }),
            metadata: { name: 'holder', namespace: releaseNs },
          },
          { contentType: 'application/apply-patch+yaml' },
        );
        const duplicate = await waitFor('the duplicate hostname refused', async () => {
          const answer = await review(VALIDATE_PATH, capp('copy', { routeSpec: { hostname: taken } }));
          return answer.allowed === false ? answer : undefined;
        });
        expect(duplicate.status.message).toContain('spec.routeSpec.hostname');

        // Defaulting, on the other path.
        const mutated = await review(MUTATE_PATH, capp('plain', {}));
        expect(mutated.allowed).toBe(true);
        expect(Buffer.from(mutated.patch, 'base64').toString()).toContain('/spec/scaleMetric');
      } finally {
        await webhooks.stop();
      }
    });

    it('lists cluster-wide what the production operator and its webhook watch, and reads Secrets metadata-only', async () => {
      // The test controller watches one namespace; production watches them all (and the webhook
      // lists every Capp for hostname uniqueness). Read-only, so safe next to other tests.
      for (const type of [CAPP_TYPE, ...CHILD_TYPES]) {
        await expect(rest.request('GET', resourcePath(type), { query: { limit: 1 } })).resolves.toBeDefined();
      }
      const meta = await rest.request<Loose>('GET', `/api/v1/namespaces/${appNs}/secrets/es-pw`, {
        accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
      });
      expect(meta.kind).toBe('PartialObjectMetadata');
      expect(meta.data).toBeUndefined();
      await expect(
        rest.request('GET', '/api/v1/secrets', {
          query: { limit: 1, fieldSelector: 'type=kubernetes.io/tls' },
          accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
        }),
      ).resolves.toBeDefined();
    });

    it('passes the operator integration suite (controller.spec.ts) running as the ServiceAccount', async () => {
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

    it('elects a leader with its Lease in the release namespace, and releases it', async () => {
      const leaseName = envOf(
        find(installed, 'Deployment', `${fullname}-operator`).spec.template.spec.containers[0],
      ).LEASE_NAME as string;
      const elector = new LeaderElector(rest, {
        namespace: releaseNs,
        name: leaseName,
        identity: 'helm-test',
        leaseDurationSeconds: 4,
        renewDeadlineSeconds: 3,
        retryPeriodSeconds: 0.5,
        logger: pino({ level: 'silent' }),
      });
      let leading = false;
      void elector.run({
        onStartedLeading: () => (leading = true),
        onStoppedLeading: () => (leading = false),
      });
      await waitFor('leadership', async () => leading, 10_000);
      await waitFor('a renewal', async () => {
        const lease = await get(`/apis/coordination.k8s.io/v1/namespaces/${releaseNs}/leases/${leaseName}`);
        return lease && lease.spec.renewTime !== lease.spec.acquireTime ? lease : undefined;
      });
      await elector.stop();
      const lease = await get(`/apis/coordination.k8s.io/v1/namespaces/${releaseNs}/leases/${leaseName}`);
      expect(lease.spec.holderIdentity).toBe('');
    }, 30_000);
  });

  describe('least privilege, by SubjectAccessReview', () => {
    const capps = { group: 'rcs.dana.io', resource: 'capps' };
    const lease = { group: 'coordination.k8s.io', resource: 'leases', namespace: releaseNs };
    const childResources: Array<{ group: string; resource: string; clusterScoped?: boolean }> = [
      { group: 'serving.knative.dev', resource: 'services' },
      { group: 'serving.knative.dev', resource: 'domainmappings' },
      { group: 'cert-manager.io', resource: 'certificates' },
      { group: 'nfspvc.dana.io', resource: 'nfspvcs' },
      { group: 'logging.banzaicloud.io', resource: 'flows' },
      { group: 'logging.banzaicloud.io', resource: 'outputs' },
      { group: 'record.dns.crossplane.io', resource: 'cnamerecords', clusterScoped: true },
    ];

    const operatorMay: Access[] = [
      { verb: 'list', ...capps },
      { verb: 'watch', ...capps },
      { verb: 'patch', ...capps, namespace: appNs, name: 'web' },
      { verb: 'patch', ...capps, subresource: 'status', namespace: appNs, name: 'web' },
      { verb: 'update', ...capps, subresource: 'finalizers', namespace: appNs, name: 'web' },
      ...childResources.flatMap((c) => [
        { verb: 'list', ...c },
        { verb: 'watch', ...c },
        // Server-side apply of a child that does not exist yet is authorized as create too.
        { verb: 'create', ...c, namespace: c.clusterScoped ? undefined : appNs },
        { verb: 'patch', ...c, namespace: c.clusterScoped ? undefined : appNs, name: 'x' },
        { verb: 'delete', ...c, namespace: c.clusterScoped ? undefined : appNs, name: 'x' },
      ]),
      { verb: 'list', resource: 'secrets' },
      { verb: 'watch', resource: 'secrets' },
      { verb: 'get', resource: 'secrets', namespace: appNs, name: 'es-pw' },
      { verb: 'create', resource: 'events', namespace: appNs },
      { verb: 'list', resource: 'configmaps', namespace: releaseNs },
      { verb: 'watch', resource: 'configmaps', namespace: releaseNs },
      { verb: 'create', ...lease },
      { verb: 'get', ...lease, name: 'capp-operator-leader' },
      { verb: 'update', ...lease, name: 'capp-operator-leader' },
    ];
    const operatorMayNot: Access[] = [
      { verb: 'delete', resource: 'namespaces', name: appNs },
      { verb: 'create', resource: 'pods', namespace: appNs },
      { verb: 'create', group: 'apps', resource: 'deployments', namespace: appNs },
      // Capps belong to their users: no create, no PUT of the spec, no delete, no direct reads.
      { verb: 'create', ...capps, namespace: appNs },
      { verb: 'update', ...capps, namespace: appNs, name: 'web' },
      { verb: 'delete', ...capps, namespace: appNs, name: 'web' },
      { verb: 'deletecollection', ...capps, namespace: appNs },
      { verb: 'update', ...capps, subresource: 'status', namespace: appNs, name: 'web' },
      // Children only through server-side apply: never PUT, never read one by one, never in bulk.
      ...childResources.flatMap((c) => [
        { verb: 'get', ...c, namespace: c.clusterScoped ? undefined : appNs, name: 'x' },
        { verb: 'update', ...c, namespace: c.clusterScoped ? undefined : appNs, name: 'x' },
        { verb: 'deletecollection', ...c, namespace: c.clusterScoped ? undefined : appNs },
      ]),
      { verb: 'create', resource: 'secrets', namespace: appNs },
      { verb: 'update', resource: 'secrets', namespace: appNs, name: 'es-pw' },
      { verb: 'patch', resource: 'secrets', namespace: appNs, name: 'es-pw' },
      { verb: 'delete', resource: 'secrets', namespace: appNs, name: 'es-pw' },
      { verb: 'patch', resource: 'events', namespace: appNs, name: 'x' },
      { verb: 'delete', resource: 'events', namespace: appNs, name: 'x' },
      // Its ConfigMaps: read through the watch, never written; no other namespace's.
      { verb: 'list', resource: 'configmaps', namespace: appNs },
      { verb: 'list', resource: 'configmaps' },
      { verb: 'get', resource: 'configmaps', namespace: appNs, name: 'x' },
      { verb: 'update', resource: 'configmaps', namespace: releaseNs, name: 'dns-config' },
      { verb: 'patch', resource: 'configmaps', namespace: releaseNs, name: 'autoscale-defaults' },
      { verb: 'create', resource: 'configmaps', namespace: releaseNs },
      // Only its own Lease, only in its namespace.
      { verb: 'update', ...lease, name: 'someone-elses-lease' },
      { verb: 'get', ...lease, name: 'someone-elses-lease' },
      { verb: 'delete', ...lease, name: 'capp-operator-leader' },
      { verb: 'list', ...lease },
      { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: appNs },
      // No escalation paths.
      { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
      { verb: 'escalate', group: 'rbac.authorization.k8s.io', resource: 'clusterroles', name: 'x' },
      { verb: 'bind', group: 'rbac.authorization.k8s.io', resource: 'clusterroles', name: 'cluster-admin' },
      { verb: 'impersonate', resource: 'users', name: 'admin' },
      { verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: releaseNs, name: 'x' },
      { verb: 'create', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
      {
        verb: 'update',
        group: 'admissionregistration.k8s.io',
        resource: 'validatingwebhookconfigurations',
        name: 'x',
      },
      { verb: 'create', group: 'authentication.k8s.io', resource: 'tokenreviews' },
      { verb: 'list', resource: 'nodes' },
    ];
    const apiMay: Access[] = [
      { verb: 'create', group: 'authentication.k8s.io', resource: 'tokenreviews' },
      { verb: 'create', group: 'authorization.k8s.io', resource: 'subjectaccessreviews' },
      ...['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'].map((verb) => ({
        verb,
        ...capps,
        namespace: appNs,
        ...(['get', 'update', 'patch', 'delete'].includes(verb) ? { name: 'web' } : {}),
      })),
      { verb: 'list', ...capps },
      { verb: 'watch', ...capps },
    ];
    const apiMayNot: Access[] = [
      { verb: 'patch', ...capps, subresource: 'status', namespace: appNs, name: 'web' },
      { verb: 'deletecollection', ...capps, namespace: appNs },
      { verb: 'get', resource: 'secrets', namespace: appNs, name: 'es-pw' },
      { verb: 'list', resource: 'configmaps', namespace: releaseNs },
      { verb: 'create', resource: 'events', namespace: appNs },
      { verb: 'patch', group: 'serving.knative.dev', resource: 'services', namespace: appNs, name: 'web' },
      { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: releaseNs },
      { verb: 'impersonate', resource: 'users', name: 'admin' },
    ];

    async function check(who: { user: string; groups: string[] }, list: Access[]): Promise<string[]> {
      const answers = await Promise.all(list.map((a) => allowed(target, who, a)));
      return list.map((a, i) => `${answers[i] ? 'allowed' : 'denied'}: ${describeAccess(a)}`);
    }

    it('allows the operator every (verb, resource) its code uses', async () => {
      const got = await check(operatorSa, operatorMay);
      expect(got).toEqual(operatorMay.map((a) => `allowed: ${describeAccess(a)}`));
    });

    it('denies the operator what it never does', async () => {
      const got = await check(operatorSa, operatorMayNot);
      expect(got).toEqual(operatorMayNot.map((a) => `denied: ${describeAccess(a)}`));
    });

    it('allows the API TokenReviews, SubjectAccessReviews and Capps, and nothing else', async () => {
      expect(await check(apiSa, apiMay)).toEqual(apiMay.map((a) => `allowed: ${describeAccess(a)}`));
      expect(await check(apiSa, apiMayNot)).toEqual(apiMayNot.map((a) => `denied: ${describeAccess(a)}`));
    });
  });
});
