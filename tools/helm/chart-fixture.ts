/**
 * What the chart specs share: helm built from the Go module proxy (tools/helm/build.sh, cached), the
 * chart rendered with default and non-default values, the rendering applied to the real control plane
 * (RBAC, ConfigMaps, Secrets for real; workloads and webhook configurations dry-run only), and the
 * chart's ServiceAccounts as identities (a real token, or a SubjectAccessReview's user and groups).
 *
 * Each spec file makes its own {@link ChartFixture}: release, namespaces and cluster-scoped names carry
 * a random suffix, so spec files run side by side on one control plane.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { type KubeObject, platformCrds } from '@capp/capp-model';
import { CHILD_KINDS } from '@capp/knative-adapter';
import {
  type Impersonation,
  KubeClient,
  KubeRest,
  NAMESPACE_TYPE,
  resourcePath,
  type ResourceType,
} from '@capp/kube';
import { REPO_ROOT, serviceAccountIdentity, testEnvironment } from '@capp/testing';
import { parseAllDocuments, stringify } from 'yaml';

export const run = promisify(execFile);
export const CHART = join(REPO_ROOT, 'charts', 'capp-platform');
export const FIELD_MANAGER = 'capp-helm-test';

/** Objects as rendered and as read back. */
export type Obj = KubeObject;

/** Loosely typed access into rendered objects (the assertions check the shapes). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;

export const find = (objs: Obj[], kind: string, name: string): Loose => {
  const hit = objs.find((o) => o.kind === kind && o.metadata.name === name);
  if (!hit)
    throw new Error(`no ${kind} ${name} in ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return hit;
};
export const kinds = (objs: Obj[]): string[] => objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
export const envOf = (container: Loose): Record<string, Loose> =>
  Object.fromEntries((container.env as Loose[]).map((e) => [e.name, e.value ?? e.valueFrom]));

/** Values that switch on everything optional (cert-manager, existing Secrets, Ingress, monitors). */
export const NON_DEFAULT = {
  commonLabels: { team: 'platform' },
  config: {
    autoscaleDefaults: { rps: 150, cpu: 75 },
    dns: { zone: 'apps.example.com.', cname: 'ingress.apps.example.com.', providerConfigName: 'dns-prod' },
    resourcePolicy: {
      takeOver: 'adopt',
      garbageCollect: { rules: [{ selector: { kinds: ['NfsPvc'] }, strategy: 'never' }] },
    },
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

const api = (apiVersion: string, kind: string, plural: string, namespaced = true): ResourceType => ({
  apiVersion,
  kind,
  plural,
  namespaced,
});
/** Every kind the chart renders, beyond the ones {@link KubeClient} knows. */
export const CHART_TYPES: readonly ResourceType[] = [
  api('v1', 'Service', 'services'),
  api('apps/v1', 'Deployment', 'deployments'),
  api('policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets'),
  api('networking.k8s.io/v1', 'Ingress', 'ingresses'),
  api('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false),
  api('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  api('rbac.authorization.k8s.io/v1', 'Role', 'roles'),
  api('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings'),
  api(
    'admissionregistration.k8s.io/v1',
    'ValidatingWebhookConfiguration',
    'validatingwebhookconfigurations',
    false,
  ),
  api(
    'admissionregistration.k8s.io/v1',
    'MutatingWebhookConfiguration',
    'mutatingwebhookconfigurations',
    false,
  ),
  api('cert-manager.io/v1', 'Issuer', 'issuers'),
  api('cert-manager.io/v1', 'Certificate', 'certificates'),
  api('monitoring.coreos.com/v1', 'ServiceMonitor', 'servicemonitors'),
];

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
export const isReal = (o: Obj): boolean =>
  REAL.has(o.kind) && !(o.kind === 'ClusterRole' && /-(edit|view)$/.test(o.metadata.name));
/** ServiceAccounts before the bindings that name them, bindings after their roles. */
const REAL_ORDER = [
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'ClusterRole',
  'Role',
  'ClusterRoleBinding',
  'RoleBinding',
];

/** The test harness's admin kubeconfig (set by the jest globalSetup of libs/testing). */
export function adminKubeconfig(): string {
  const path = process.env['KUBECONFIG'] ?? testEnvironment().kubeconfigPath;
  if (!path) throw new Error('KUBECONFIG is not set: run through the jest globalSetup of libs/testing');
  return path;
}

export interface Renderings {
  /** Default values. */
  defaults: Obj[];
  /** {@link NON_DEFAULT} values. */
  nonDefault: Obj[];
  /** What is installed: defaults plus a DNS zone (so Capps may have hostnames) and the CRDs. */
  installed: Obj[];
}

/** One release of the chart: helm, its renderings, and (after {@link install}) its objects in the cluster. */
export class ChartFixture {
  readonly sfx = randomBytes(3).toString('hex');
  readonly releaseNs = `capp-helm-${this.sfx}`;
  readonly appNs = `capp-helm-app-${this.sfx}`;
  /** Cluster-scoped names (ClusterRoles, webhook configurations) carry the release name: unique per run. */
  readonly release = `capp-${this.sfx}`;
  readonly fullname = `${this.release}-capp-platform`;
  readonly zone = `h${this.sfx}.example.com`;
  /** helm's own state, values files, kubeconfigs and certificates of this fixture. */
  home = '';
  private helm = '';
  private adminRest?: KubeRest;
  private adminClient?: KubeClient;
  private readonly rests: KubeRest[] = [];
  private readonly clusterObjects: Obj[] = [];
  private namespacesCreated = false;

  /** Builds helm once per machine (2-4 min on 2 cores; later runs find it cached). */
  async setUp(): Promise<void> {
    const { stdout } = await run('bash', [join(REPO_ROOT, 'tools', 'helm', 'build.sh')], {
      cwd: REPO_ROOT,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 890_000,
    });
    const path = stdout.trim().split('\n').pop() ?? '';
    if (!path.endsWith('/helm')) throw new Error(`tools/helm/build.sh printed no helm path: ${stdout}`);
    this.helm = path;
    this.home = mkdtempSync(join(tmpdir(), 'capp-helm-'));
  }

  /** Removes what {@link install} created (namespaces, cluster-scoped objects) and the temp files. */
  async tearDown(): Promise<void> {
    if (this.adminClient) {
      const client = this.adminClient;
      for (const o of this.clusterObjects)
        await client.delete(client.types.of(o), undefined, o.metadata.name).catch(() => false);
      if (this.namespacesCreated)
        for (const name of [this.appNs, this.releaseNs])
          await client.delete(NAMESPACE_TYPE, undefined, name).catch(() => false);
    }
    for (const rest of this.rests) rest.close();
    if (this.home) rmSync(this.home, { recursive: true, force: true });
  }

  /** The admin (system:masters), lazily: render-only specs never touch the cluster. */
  get admin(): KubeClient {
    if (!this.adminClient) {
      this.adminRest = KubeRest.fromKubeconfig(adminKubeconfig());
      this.rests.push(this.adminRest);
      this.adminClient = new KubeClient(this.adminRest, {
        fieldManager: FIELD_MANAGER,
        types: [...CHART_TYPES, ...CHILD_KINDS],
      });
    }
    return this.adminClient;
  }

  async helmRun(args: string[], env: Record<string, string> = {}): Promise<string> {
    const { stdout } = await run(this.helm, args, {
      cwd: REPO_ROOT,
      maxBuffer: 32 * 1024 * 1024,
      env: {
        ...process.env,
        // Nothing of helm's own state in the user's home.
        HELM_CACHE_HOME: this.home,
        HELM_CONFIG_HOME: this.home,
        HELM_DATA_HOME: this.home,
        // Discovery cache of `helm install --dry-run` (else ~/.kube/cache).
        KUBECACHEDIR: join(this.home, 'kube-cache'),
        ...env,
      },
    });
    return stdout;
  }

  /** Runs helm expecting it to fail; returns what it printed. */
  async helmError(args: string[]): Promise<string> {
    try {
      await this.helmRun(args);
    } catch (err) {
      return String((err as { stderr?: string }).stderr ?? err);
    }
    throw new Error(`helm ${args.join(' ')} succeeded`);
  }

  valuesFile(name: string, values: unknown): string {
    const file = join(this.home, `${name}.yaml`);
    writeFileSync(file, stringify(values));
    return file;
  }

  /** `helm template` of this release into its namespace. */
  async template(args: string[] = []): Promise<Obj[]> {
    const out = await this.helmRun(['template', this.release, CHART, '--namespace', this.releaseNs, ...args]);
    return parseYamlStream(out);
  }

  /** Defaults, non-default values, and what {@link install} installs, rendered in parallel. */
  async render(): Promise<Renderings> {
    const nonDefaultFile = this.valuesFile('non-default', NON_DEFAULT);
    const [defaults, nonDefault, installed] = await Promise.all([
      this.template(),
      this.template(['-f', nonDefaultFile]),
      this.template([
        '--include-crds',
        '--set',
        `config.dns.zone=${this.zone}.`,
        '--set',
        `config.dns.cname=ingress.${this.zone}.`,
      ]),
    ]);
    return { defaults, nonDefault, installed };
  }

  /**
   * Creates the release and app namespaces and applies `installed`: the CRDs (only when they are the
   * ones the harness installed), ServiceAccounts, RBAC, ConfigMaps and Secrets for real, the rest
   * server-side dry-run. Failures (strict field validation, admission) throw.
   */
  async install(installed: Obj[]): Promise<void> {
    const admin = this.admin;
    for (const name of [this.releaseNs, this.appNs])
      await admin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    this.namespacesCreated = true;

    // The very CRDs the harness installed (same field manager): a no-op unless the chart's copy is
    // stale, which chart-render.spec.ts reports; a stale one is only dry-run, never served to other tests.
    const harness = new KubeClient(admin.rest, { fieldManager: 'capp-testing' });
    const current = new Set(platformCrds().map((c) => JSON.stringify(c.crd)));
    for (const crd of installed.filter((o) => o.kind === 'CustomResourceDefinition'))
      await harness.apply(crd, { dryRun: !current.has(JSON.stringify(crd)) });

    const rest = installed.filter((o) => o.kind !== 'CustomResourceDefinition');
    const real = rest.filter(isReal);
    for (const kind of REAL_ORDER)
      await Promise.all(real.filter((o) => o.kind === kind).map((o) => admin.apply(o)));
    this.clusterObjects.push(...real.filter((o) => !admin.types.of(o).namespaced));
    await Promise.all(rest.filter((o) => !isReal(o)).map((o) => admin.apply(o, { dryRun: true })));
  }

  /** The admin's view of one rendered object in the cluster (undefined when absent). */
  live(o: Obj): Promise<Obj | undefined> {
    return this.admin.get(this.admin.types.of(o), o.metadata.namespace, o.metadata.name);
  }

  /** REST path of one rendered object. */
  pathOf(o: Obj): string {
    return resourcePath(this.admin.types.of(o), o.metadata.namespace, o.metadata.name);
  }

  /**
   * A kubeconfig that authenticates as one of the release's ServiceAccounts with a real bound token
   * (TokenRequest API), as a pod running under it would; no impersonation involved.
   */
  async serviceAccountKubeconfig(name: string): Promise<string> {
    const env = testEnvironment();
    if (!env.server) throw new Error('the test environment has no control plane');
    const token = await env.mintServiceAccountToken(this.releaseNs, name, { expirationSeconds: 7200 });
    const cluster = env.caFile
      ? { server: env.server, 'certificate-authority': env.caFile }
      : { server: env.server, 'insecure-skip-tls-verify': true };
    const file = join(this.home, `kubeconfig-${name}`);
    writeFileSync(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'capp-test', cluster }],
        users: [{ name, user: { token } }],
        contexts: [{ name, context: { cluster: 'capp-test', user: name, namespace: this.releaseNs } }],
        'current-context': name,
      }),
      { mode: 0o600 },
    );
    return file;
  }

  /** A client acting with a ServiceAccount's own token (closed by {@link tearDown}). */
  async serviceAccountRest(name: string): Promise<KubeRest> {
    const rest = KubeRest.fromKubeconfig(await this.serviceAccountKubeconfig(name));
    this.rests.push(rest);
    return rest;
  }

  /** The user and groups a ServiceAccount of this release authenticates as. */
  serviceAccount(name: string): Impersonation {
    return serviceAccountIdentity(this.releaseNs, name);
  }
}

/** helm's output as Kubernetes' own readers (sigs.k8s.io/yaml, YAML 1.1) interpret it. */
export function parseYamlStream(out: string): Obj[] {
  return parseAllDocuments(out, { version: '1.1' })
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}
