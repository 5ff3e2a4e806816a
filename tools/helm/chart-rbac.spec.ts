/**
 * The chart's RBAC: rendered rules equal to what the operator's and the API's code use, the chart
 * applied to the real control plane, requests made with the operator ServiceAccount's own token, and
 * SubjectAccessReviews that pin down what each ServiceAccount may and may not do.
 */
import { childKindsFor, SYSLOG_NG_FLOW, SYSLOG_NG_OUTPUT } from '@capp/knative-adapter';
import {
  CAPP_REVISION_TYPE,
  CAPP_TYPE,
  type KubeRest,
  resourcePath,
  SELF_SUBJECT_REVIEW_TYPE,
  SUBJECT_ACCESS_REVIEW_TYPE,
} from '@capp/kube';

import { ChartFixture, envOf, find, type Loose, type Obj } from './chart-fixture';

// What the operator's code uses (apps/operator/src/cache, reconcile, controller.ts, webhook/), as
// rendered RBAC rules. The test compares the chart against these exactly.
const OPERATOR_CLUSTER_RULES = [
  { apiGroups: ['rcs.dana.io'], resources: ['capps'], verbs: ['list', 'watch', 'patch'] },
  { apiGroups: ['rcs.dana.io'], resources: ['capps/status'], verbs: ['patch'] },
  { apiGroups: ['rcs.dana.io'], resources: ['capps/finalizers'], verbs: ['update'] },
  { apiGroups: ['rcs.dana.io'], resources: ['healthscopes'], verbs: ['list', 'watch'] },
  { apiGroups: ['rcs.dana.io'], resources: ['healthscopes/status'], verbs: ['patch'] },
  { apiGroups: ['rcs.dana.io'], resources: ['capprevisions'], verbs: ['list', 'watch', 'create', 'delete'] },
  { apiGroups: ['rcs.dana.io'], resources: ['capptraits'], verbs: ['list', 'watch'] },
  {
    apiGroups: ['serving.knative.dev'],
    resources: ['services', 'domainmappings'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  },
  {
    apiGroups: ['cert-manager.io'],
    resources: ['certificates'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  },
  {
    apiGroups: ['nfspvc.dana.io'],
    resources: ['nfspvcs'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  },
  {
    apiGroups: ['logging.banzaicloud.io'],
    resources: ['flows', 'outputs'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  },
  // The other logging backend's kinds: pruned after a switch, or replaced after a v0.3.5 migration.
  {
    apiGroups: ['logging.banzaicloud.io'],
    resources: ['syslogngflows', 'syslogngoutputs'],
    verbs: ['get', 'delete'],
  },
  {
    apiGroups: ['record.dns.crossplane.io'],
    resources: ['cnamerecords'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  },
  { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] },
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
  // HealthScopes, straight to the cluster (ADR 0007).
  {
    apiGroups: ['rcs.dana.io'],
    resources: ['healthscopes'],
    verbs: ['get', 'list', 'create', 'update', 'delete'],
  },
  { apiGroups: ['rcs.dana.io'], resources: ['capptraits'], verbs: ['get', 'list'] },
  // The cluster's identity, recorded with each applied row (ADR 0004 §4).
  { apiGroups: [''], resources: ['namespaces'], resourceNames: ['kube-system'], verbs: ['get'] },
];

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

const fx = new ChartFixture();
const { releaseNs, appNs, fullname, zone } = fx;
let defaults: Obj[] = [];
let nonDefault: Obj[] = [];
let installed: Obj[] = [];

beforeAll(async () => {
  await fx.setUp();
  ({ defaults, nonDefault, installed } = await fx.render());
}, 900_000);

afterAll(() => fx.tearDown(), 30_000);

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
  const devApi = await fx.template(['--set', 'api.authMode=none']);
  expect(find(devApi, 'ClusterRole', `${fullname}-api`).rules).toEqual(API_RULES.slice(2));
  // Lease name follows the value; no Lease rights without leader election.
  expect(find(nonDefault, 'Role', `${fullname}-operator`).rules).toEqual(operatorRoleRules('capp-leader'));
  // The syslog-ng logging backend: the two logging rules swap their kinds.
  const syslogNg = await fx.template(['--set', 'operator.loggingBackend=syslog-ng']);
  const swapped = (resources: string[]): string[] =>
    resources[0] === 'flows'
      ? ['syslogngflows', 'syslogngoutputs']
      : resources[0] === 'syslogngflows'
        ? ['flows', 'outputs']
        : resources;
  expect(find(syslogNg, 'ClusterRole', `${fullname}-operator`).rules).toEqual(
    OPERATOR_CLUSTER_RULES.map((r) => ({ ...r, resources: swapped(r.resources) })),
  );
  expect(
    envOf(find(syslogNg, 'Deployment', `${fullname}-operator`).spec.template.spec.containers[0]),
  ).toMatchObject({ LOGGING_BACKEND: 'syslog-ng' });
  // No CappRevisions kept: no rights on them.
  const noRevisions = await fx.template(['--set', 'operator.cappRevisions.enabled=false']);
  expect(find(noRevisions, 'ClusterRole', `${fullname}-operator`).rules).toEqual(
    OPERATOR_CLUSTER_RULES.filter((r) => !r.resources.includes('capprevisions')),
  );
  expect(
    envOf(find(noRevisions, 'Deployment', `${fullname}-operator`).spec.template.spec.containers[0]),
  ).toMatchObject({ CAPP_REVISIONS: 'false' });
  const single = await fx.template(['--set', 'operator.leaderElection.enabled=false']);
  expect(find(single, 'Role', `${fullname}-operator`).rules).toEqual(operatorRoleRules('').slice(0, 1));
  expect(find(single, 'Deployment', `${fullname}-operator`).spec.template.spec.containers[0].args).toEqual([
    '--leader-elect',
    'false',
  ]);
});

it('gives the hub-mode operator only what placing needs: Capps, ManifestWorks, ManagedClusters read, carried Secrets and ConfigMaps, Placements read in one namespace', async () => {
  const hub = await fx.template([
    '--set',
    'operator.hub.enabled=true',
    '--set',
    'operator.hub.placementsNamespace=placements',
  ]);
  const rules = find(hub, 'ClusterRole', `${fullname}-operator`).rules as Array<{
    apiGroups: string[];
    resources: string[];
    verbs: string[];
  }>;
  expect(rules).toEqual([
    { apiGroups: ['rcs.dana.io'], resources: ['capps'], verbs: ['list', 'watch', 'patch'] },
    { apiGroups: ['rcs.dana.io'], resources: ['capps/status'], verbs: ['patch'] },
    { apiGroups: ['rcs.dana.io'], resources: ['capptraits'], verbs: ['list', 'watch'] },
    {
      apiGroups: ['work.open-cluster-management.io'],
      resources: ['manifestworks'],
      verbs: ['list', 'watch', 'create', 'patch', 'delete'],
    },
    {
      apiGroups: ['cluster.open-cluster-management.io'],
      resources: ['managedclusters'],
      verbs: ['list', 'watch'],
    },
    { apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  ]);
  const placements = find(hub, 'Role', `${fullname}-operator-placements`);
  expect(placements.metadata.namespace).toBe('placements');
  expect(placements.rules).toEqual([
    {
      apiGroups: ['cluster.open-cluster-management.io'],
      resources: ['placements', 'placementdecisions'],
      verbs: ['list', 'watch'],
    },
  ]);
  expect(
    envOf(find(hub, 'Deployment', `${fullname}-operator`).spec.template.spec.containers[0]),
  ).toMatchObject({
    HUB_MODE: 'true',
    PLACEMENTS_NAMESPACE: 'placements',
    DEFAULT_PLACEMENT: 'capp-default',
    HEALTH_SCOPES: 'false',
  });
  // Not in hub mode: no OCM rights at all.
  expect(JSON.stringify(find(defaults, 'ClusterRole', `${fullname}-operator`).rules)).not.toContain(
    'open-cluster-management',
  );
});

describe('the chart on the real control plane', () => {
  beforeAll(async () => {
    await fx.install(installed);
    // A log Secret, as a Capp's logSpec names it.
    await fx.admin.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'es-pw', namespace: appNs },
      stringData: { password: 'secret' },
    });
  }, 60_000);

  it('applies the CRD, ServiceAccounts, RBAC, ConfigMaps and Secrets for real, the rest server-side dry-run', async () => {
    // The non-default rendering, all dry-run (into the same namespace, other release name); the
    // Prometheus Operator's ServiceMonitor only where its CRD is served.
    const monitoring = (await fx.admin.rest.raw('GET', '/apis/monitoring.coreos.com/v1')).status === 200;
    const others = nonDefault
      .filter((o) => o.kind !== 'ServiceMonitor' || monitoring)
      .map((o) => JSON.parse(JSON.stringify(o).replaceAll(fullname, `${fullname}-nd`)) as Obj);
    await Promise.all(others.map((o) => fx.admin.apply(o, { dryRun: true })));

    // What was applied for real is there; what was dry-run is not.
    expect(await fx.live(find(installed, 'ClusterRole', `${fullname}-operator`))).toBeDefined();
    expect((await fx.live(find(installed, 'ConfigMap', 'dns-config')))?.['data']).toEqual({
      zone: `${zone}.`,
      cname: `ingress.${zone}.`,
    });
    expect(await fx.live(find(installed, 'Secret', `${fullname}-webhook-cert`))).toBeDefined();
    expect(await fx.live(find(installed, 'Deployment', `${fullname}-operator`))).toBeUndefined();
    expect(
      await fx.live(find(installed, 'ValidatingWebhookConfiguration', `${fullname}-validating`)),
    ).toBeUndefined();
  }, 60_000);

  describe("with the operator ServiceAccount's own token", () => {
    let rest: KubeRest;

    beforeAll(async () => {
      rest = await fx.serviceAccountRest(`${fullname}-operator`);
    });

    it('is the ServiceAccount: pods and ConfigMaps elsewhere are forbidden', async () => {
      // The identity the SubjectAccessReviews below ask about is the one the token authenticates as.
      const self = await rest.request<{ status: { userInfo: { username: string; groups: string[] } } }>(
        'POST',
        resourcePath(SELF_SUBJECT_REVIEW_TYPE),
        { body: { apiVersion: SELF_SUBJECT_REVIEW_TYPE.apiVersion, kind: SELF_SUBJECT_REVIEW_TYPE.kind } },
      );
      const who = fx.serviceAccount(`${fullname}-operator`);
      expect(self.status.userInfo.username).toBe(who.user);
      expect(self.status.userInfo.groups).toEqual(expect.arrayContaining(who.groups));
      const status = async (method: string, path: string, body?: unknown): Promise<number> =>
        (await rest.raw(method, path, { body })).status;
      expect(await status('GET', `/api/v1/namespaces/${appNs}/pods`)).toBe(403);
      expect(await status('GET', `/api/v1/namespaces/${appNs}/configmaps`)).toBe(403);
      expect(
        await status('POST', `/api/v1/namespaces/${appNs}/configmaps`, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'nope' },
        }),
      ).toBe(403);
    });

    it('lists cluster-wide what the production operator and its webhook watch, and reads Secrets metadata-only', async () => {
      // Production watches every namespace (and the webhook lists every Capp for hostname
      // uniqueness). Read-only, so safe next to other tests.
      for (const type of [CAPP_TYPE, CAPP_REVISION_TYPE, ...childKindsFor('fluentd')]) {
        await expect(rest.request('GET', resourcePath(type), { query: { limit: 1 } })).resolves.toBeDefined();
      }
      const meta = await rest.request<Loose>('GET', `/api/v1/namespaces/${appNs}/secrets/es-pw`, {
        accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
      });
      expect(meta.kind).toBe('PartialObjectMetadata');
      expect(meta.data).toBeUndefined();
      await expect(
        rest.request('GET', '/api/v1/secrets', {
          query: { limit: 1 },
          accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
        }),
      ).resolves.toBeDefined();
    });
  });

  describe('least privilege, by SubjectAccessReview', () => {
    const operatorSa = fx.serviceAccount(`${fullname}-operator`);
    const apiSa = fx.serviceAccount(`${fullname}-api`);
    const capps = { group: 'rcs.dana.io', resource: 'capps' };
    const revisions = { group: 'rcs.dana.io', resource: 'capprevisions' };
    const scopes = { group: 'rcs.dana.io', resource: 'healthscopes' };
    const lease = { group: 'coordination.k8s.io', resource: 'leases', namespace: releaseNs };
    // Every child kind the operator applies (default logging backend); cluster-scoped ones (the
    // CNAMERecord) outside any namespace.
    const childResources = childKindsFor('fluentd').map((k) => ({
      group: k.apiVersion.split('/')[0],
      resource: k.plural,
      namespace: k.namespaced ? appNs : undefined,
    }));

    const syslogNgResources = [SYSLOG_NG_OUTPUT, SYSLOG_NG_FLOW].map((k) => ({
      group: 'logging.banzaicloud.io',
      resource: k.plural,
      namespace: appNs,
    }));

    const operatorMay: Access[] = [
      { verb: 'list', ...capps },
      { verb: 'watch', ...capps },
      { verb: 'patch', ...capps, namespace: appNs, name: 'web' },
      { verb: 'patch', ...capps, subresource: 'status', namespace: appNs, name: 'web' },
      { verb: 'update', ...capps, subresource: 'finalizers', namespace: appNs, name: 'web' },
      { verb: 'list', ...scopes },
      { verb: 'watch', ...scopes },
      { verb: 'patch', ...scopes, subresource: 'status', namespace: appNs, name: 'shop' },
      { verb: 'list', ...revisions },
      { verb: 'watch', ...revisions },
      { verb: 'create', ...revisions, namespace: appNs },
      { verb: 'delete', ...revisions, namespace: appNs, name: 'web-00001' },
      ...childResources.flatMap(({ group, resource, namespace }) => [
        { verb: 'list', group, resource },
        { verb: 'watch', group, resource },
        // Server-side apply of a child that does not exist yet is authorized as create too.
        { verb: 'create', group, resource, namespace },
        { verb: 'patch', group, resource, namespace, name: 'x' },
        { verb: 'delete', group, resource, namespace, name: 'x' },
        // A child the informers do not hold: does it exist, and whose is it (takeOver)?
        { verb: 'get', group, resource, namespace, name: 'x' },
      ]),
      // What a Capp had with the other logging backend is pruned; v0.3.5's is replaced.
      ...syslogNgResources.flatMap((r) => [
        { verb: 'delete', ...r, name: 'x' },
        { verb: 'get', ...r, name: 'x' },
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
      // HealthScopes belong to their users: only their status is the operator's.
      { verb: 'create', ...scopes, namespace: appNs },
      { verb: 'patch', ...scopes, namespace: appNs, name: 'shop' },
      { verb: 'delete', ...scopes, namespace: appNs, name: 'shop' },
      // A CappRevision is created once and never changed.
      { verb: 'update', ...revisions, namespace: appNs, name: 'web-00001' },
      { verb: 'patch', ...revisions, namespace: appNs, name: 'web-00001' },
      { verb: 'deletecollection', ...revisions, namespace: appNs },
      // Children through server-side apply and patches: never PUT, never deleted in bulk.
      ...childResources.flatMap((c) => [
        { verb: 'update', ...c, name: 'x' },
        { verb: 'deletecollection', ...c },
      ]),
      // The other logging backend's kinds: neither watched nor written.
      ...syslogNgResources.flatMap((r) => [
        { verb: 'list', ...r },
        { verb: 'create', ...r },
        { verb: 'patch', ...r, name: 'x' },
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
      { verb: 'get', resource: 'namespaces', name: 'kube-system' },
      ...['get', 'list', 'create', 'update', 'delete'].map((verb) => ({
        verb,
        ...scopes,
        namespace: appNs,
        ...(['get', 'update', 'delete'].includes(verb) ? { name: 'shop' } : {}),
      })),
    ];
    const apiMayNot: Access[] = [
      // Only the kube-system namespace, and only to read its uid.
      { verb: 'get', resource: 'namespaces', name: appNs },
      { verb: 'list', resource: 'namespaces' },
      { verb: 'patch', ...capps, subresource: 'status', namespace: appNs, name: 'web' },
      { verb: 'deletecollection', ...capps, namespace: appNs },
      // A scope's status is the operator's.
      { verb: 'patch', ...scopes, subresource: 'status', namespace: appNs, name: 'shop' },
      { verb: 'get', resource: 'secrets', namespace: appNs, name: 'es-pw' },
      { verb: 'list', resource: 'configmaps', namespace: releaseNs },
      { verb: 'create', resource: 'events', namespace: appNs },
      { verb: 'patch', group: 'serving.knative.dev', resource: 'services', namespace: appNs, name: 'web' },
      { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: releaseNs },
      { verb: 'impersonate', resource: 'users', name: 'admin' },
    ];

    async function allowed(who: { user: string; groups: string[] }, a: Access): Promise<boolean> {
      const review = await fx.admin.rest.request<{ status: { allowed?: boolean } }>(
        'POST',
        resourcePath(SUBJECT_ACCESS_REVIEW_TYPE),
        {
          body: {
            apiVersion: SUBJECT_ACCESS_REVIEW_TYPE.apiVersion,
            kind: SUBJECT_ACCESS_REVIEW_TYPE.kind,
            spec: { user: who.user, groups: who.groups, resourceAttributes: { ...a, group: a.group ?? '' } },
          },
        },
      );
      return review.status.allowed === true;
    }

    async function check(who: { user: string; groups: string[] }, list: Access[]): Promise<string[]> {
      const answers = await Promise.all(list.map((a) => allowed(who, a)));
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
