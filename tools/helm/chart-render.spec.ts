/**
 * charts/capp-platform as helm renders it, no cluster: strict lint, values.schema.json, every object
 * with default and non-default values, the shipped CRD, NOTES (helm's client-side dry run asks the
 * cluster for its version; nothing else here touches it).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';

import { platformCrds } from '@capp/capp-model';
import { validateCappTrait } from '@capp/knative-adapter';

import { parsePlatformPolicy } from '../../apps/operator/src/reconcile/policy';
import {
  adminKubeconfig,
  CHART,
  ChartFixture,
  envOf,
  find,
  kinds,
  type Loose,
  NON_DEFAULT,
  type Obj,
} from './chart-fixture';

const HARDENED = {
  runAsNonRoot: true,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

const fx = new ChartFixture();
const { release, releaseNs, fullname } = fx;
let defaults: Obj[] = [];
let nonDefault: Obj[] = [];
let installed: Obj[] = [];

beforeAll(async () => {
  await fx.setUp();
  ({ defaults, nonDefault, installed } = await fx.render());
}, 900_000);

afterAll(() => fx.tearDown());

/** The seed catalogue of traits (charts/capp-platform/traits/). */
const CATALOGUE = [
  'env',
  'expose',
  'init-container',
  'kautoscale',
  'node-affinity',
  'recreate',
  'service-account',
  'sidecar',
  'virtual-group',
];

describe('helm lint and template', () => {
  it('lints cleanly (strict) with default and non-default values', async () => {
    const file = fx.valuesFile('lint-non-default', NON_DEFAULT);
    const [a, b] = await Promise.all([
      fx.helmRun(['lint', '--strict', CHART]),
      fx.helmRun(['lint', '--strict', CHART, '-f', file]),
    ]);
    for (const out of [a, b]) expect(out).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('rejects values outside values.schema.json and inconsistent DNS settings, naming the key', async () => {
    const base = ['template', release, CHART];
    expect(await fx.helmError([...base, '--set', 'api.authMode=oops'])).toMatch(/\/api\/authMode/);
    expect(await fx.helmError([...base, '--set', 'operator.replica=3'])).toMatch(
      /additional properties 'replica'/,
    );
    expect(await fx.helmError([...base, '--set', 'config.autoscaleDefaults.cpu=101'])).toMatch(
      /autoscaleDefaults\/cpu/,
    );
    expect(await fx.helmError([...base, '--set', 'config.dns.zone=apps.example.com'])).toMatch(
      /config\/dns\/zone/,
    );
    expect(await fx.helmError([...base, '--set', 'config.dns.zone=apps.example.com.'])).toMatch(
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
        `Role/${fullname}-operator-knative-config`,
        `RoleBinding/${fullname}-operator`,
        `RoleBinding/${fullname}-operator-knative-config`,
        `Secret/${fullname}-webhook-cert`,
        `Service/${fullname}-api`,
        `Service/${fullname}-operator-metrics`,
        `Service/${fullname}-webhook`,
        `ServiceAccount/${fullname}-api`,
        `ServiceAccount/${fullname}-operator`,
        `ValidatingWebhookConfiguration/${fullname}-validating`,
        ...CATALOGUE.map((name) => `CappTrait/${name}`),
      ].sort(),
    );
    for (const o of defaults) {
      expect(o.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'capp-platform',
        'app.kubernetes.io/instance': release,
        'app.kubernetes.io/managed-by': 'Helm',
        'helm.sh/chart': 'capp-platform-0.1.0',
      });
      const clusterScoped = /^(ClusterRole|ClusterRoleBinding|\w+WebhookConfiguration|CappTrait)$/.test(
        o.kind,
      );
      // The one exception: read access to Knative Serving's ConfigMaps, in Serving's namespace.
      const inKnative = o.metadata.name.endsWith('-operator-knative-config');
      expect(o.metadata.namespace).toBe(
        clusterScoped ? undefined : inKnative ? 'knative-serving' : releaseNs,
      );
    }
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
      CAPP_REVISIONS: 'true',
      LOGGING_BACKEND: 'fluentd',
      TRAIT_HTTP_ALLOWED_HOSTS: '',
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
      expect(config.webhooks).toHaveLength(kind.startsWith('V') ? 2 : 1);
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

  it('registers the CappTrait webhook for creates, updates and deletes (deleting a trait in use is refused)', () => {
    const config = find(defaults, 'ValidatingWebhookConfiguration', `${fullname}-validating`);
    expect(config.webhooks[1]).toMatchObject({
      name: 'vcapptrait.rcs.dana.io',
      failurePolicy: 'Fail',
      clientConfig: { service: { name: `${fullname}-webhook`, path: '/validate-capptrait', port: 443 } },
      rules: [
        {
          apiGroups: ['rcs.dana.io'],
          apiVersions: ['v1alpha1'],
          operations: ['CREATE', 'UPDATE', 'DELETE'],
          resources: ['capptraits'],
          scope: 'Cluster',
        },
      ],
    });
  });

  it('ships the seed catalogue of CappTraits, each valid, unless turned off', async () => {
    const traits = defaults.filter((o) => o.kind === 'CappTrait');
    expect(traits.map((t) => t.metadata.name).sort()).toEqual([...CATALOGUE].sort());
    for (const t of traits) expect([t.metadata.name, validateCappTrait(t)]).toEqual([t.metadata.name, []]);
    const off = await fx.template(['--set', 'traits.catalogue.enabled=false']);
    expect(off.filter((o) => o.kind === 'CappTrait')).toEqual([]);
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
    // The platform's resource policy, only when set, read by the operator as Capps' rules are.
    expect(defaults.some((o) => o.metadata.name === 'capp-resource-policy')).toBe(false);
    const policy = find(nonDefault, 'ConfigMap', 'capp-resource-policy').data as { policy: string };
    expect(parsePlatformPolicy({ data: policy })).toEqual({
      takeOver: 'adopt',
      garbageCollect: { rules: [{ selector: { kinds: ['NfsPvc'] }, strategy: 'never' }] },
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

  it('ships the generated Capp, CappRevision, HealthScope and CappTrait CRDs unchanged', () => {
    const crds = installed.filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds.map((c) => c.metadata.name).sort()).toEqual([
      'capprevisions.rcs.dana.io',
      'capps.rcs.dana.io',
      'capptraits.rcs.dana.io',
      'healthscopes.rcs.dana.io',
    ]);
    for (const { crd } of platformCrds())
      expect(crds.find((c) => c.metadata.name === (crd['metadata'] as { name: string }).name)).toEqual(crd);
  });

  it('prints NOTES that tell the next step (reaching the API, getting a token)', async () => {
    // A client-side dry run still asks the cluster for its version (the only call to it in this file).
    const out = await fx.helmRun(['install', release, CHART, '--namespace', releaseNs, '--dry-run=client'], {
      KUBECONFIG: adminKubeconfig(),
    });
    const notes = out.slice(out.indexOf('NOTES:'));
    expect(notes).toContain(`kubectl -n ${releaseNs} port-forward service/${fullname}-api`);
    expect(notes).toContain('create token capp-user');
    expect(notes).toContain('api.database.url');
  });
});
