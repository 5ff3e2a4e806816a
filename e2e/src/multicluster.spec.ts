import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import type { KubeObject } from '@capp/capp-model';
import { KNATIVE_SERVICE as KSVC } from '@capp/knative-adapter';
import { CAPP_TYPE, KubeClient, KubeRest, type ResourceType, SECRET_TYPE } from '@capp/kube';
import {
  createMigratedDatabase,
  embeddedKubeconfig,
  markKnativeServiceReady,
  type MigratedDatabase,
  type MultiCluster,
  MultiClusterOperators,
  REPO_ROOT,
  startMultiCluster,
  testEnvironment,
  waitFor,
} from '@capp/testing';
import { parseAllDocuments } from 'yaml';

import { ApiProcess } from './api-process';

/** rcs-ocm-deployer's names, kept: the annotation of the decision and the ManifestWork's name. */
const ANNOTATION_HAS_PLACEMENT = 'rcs.dana.io/has-placement';
const workName = (ns: string, name: string): string => `mw-create-${ns}-${name}`;
const MANIFEST_WORK_TYPE: ResourceType = {
  apiVersion: 'work.open-cluster-management.io/v1',
  kind: 'ManifestWork',
  plural: 'manifestworks',
  namespaced: true,
};
const PLACEMENT_TYPE: ResourceType = {
  apiVersion: 'cluster.open-cluster-management.io/v1beta1',
  kind: 'Placement',
  plural: 'placements',
  namespaced: true,
};

/**
 * Multi-cluster through Open Cluster Management, on real processes: a hub and two managed control
 * planes, OCM's placement controller and work agents (built from the Go module proxy), a Capp operator
 * process per managed cluster (with leader election: its Lease is the cluster's heartbeat), the hub's
 * operator process in hub mode (`--hub true`) and the API against the hub. One environment for the
 * whole file; every test works in its own namespace.
 */
jest.setTimeout(120_000);

const HEARTBEAT_TIMEOUT_S = 4;
const RELEASE_NS = 'capp-operator-system';
let env: MultiCluster;
let operators: MultiClusterOperators;
let api: ApiProcess;
let db: MigratedDatabase;
let hubClient: KubeClient;
const managed = new Map<string, KubeClient>();
let seq = 0;

const client = (rest: KubeRest): KubeClient =>
  new KubeClient(rest, { fieldManager: 'capp-e2e', types: [MANIFEST_WORK_TYPE, PLACEMENT_TYPE, KSVC] });

type Condition = { type: string; status: string; reason: string; message: string };
const condition = (obj: KubeObject | undefined, type: string): Condition | undefined =>
  ((obj?.status?.['conditions'] ?? []) as Condition[]).find((c) => c.type === type);

function capp(namespace: string, name: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name, namespace },
    spec: {
      configurationSpec: {
        template: { spec: { containers: [{ name: 'app', image: 'ghcr.io/dana-team/capp-gin-app:v0.2.0' }] } },
      },
      ...spec,
    },
  };
}

async function namespace(): Promise<string> {
  const ns = `mc-${++seq}-${Math.random().toString(16).slice(2, 6)}`;
  await hubClient.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  return ns;
}

const on = (cluster: string): KubeClient => {
  const m = managed.get(cluster);
  if (!m) throw new Error(`no managed cluster ${cluster}`);
  return m;
};

const get = (
  c: KubeClient,
  type: ResourceType,
  ns: string | undefined,
  name: string,
): Promise<KubeObject | undefined> => c.get(type, ns, name);

/** Plays Knative on a managed cluster: the Knative Service reports Ready with a URL. */
async function knativeReady(cluster: string, ns: string, name: string): Promise<void> {
  const ksvc = await waitFor(`ksvc ${ns}/${name} on ${cluster}`, () => get(on(cluster), KSVC, ns, name));
  await markKnativeServiceReady(on(cluster), ksvc, cluster);
}

/** The hub Capp once `probe` holds for it. */
function hubCappWhen(
  ns: string,
  name: string,
  what: string,
  probe: (c: KubeObject) => boolean,
): Promise<KubeObject> {
  return waitFor(
    `hub Capp ${ns}/${name}: ${what}`,
    async () => {
      const c = await get(hubClient, CAPP_TYPE, ns, name);
      return c && probe(c) ? c : undefined;
    },
    30_000,
  );
}

/**
 * The hub operator runs as the chart's ServiceAccount with the chart's hub-mode RBAC (rendered by
 * helm, applied to the hub): the least privilege it declares is proven enough.
 */
async function chartOperatorKubeconfig(): Promise<string> {
  const helm = execFileSync('bash', ['tools/helm/build.sh'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .toString()
    .trim()
    .split('\n')
    .pop();
  if (!helm) throw new Error('tools/helm/build.sh printed no helm path');
  const rendered = execFileSync(
    helm,
    [
      'template',
      'capp',
      'charts/capp-platform',
      '--namespace',
      RELEASE_NS,
      '--show-only',
      'templates/operator-rbac.yaml',
      '--set',
      'operator.hub.enabled=true',
      '--set',
      `operator.hub.placementsNamespace=${env.placementsNamespace}`,
      '--set',
      'operator.leaderElection.enabled=false',
      '--set',
      'webhook.enabled=false',
    ],
    { cwd: REPO_ROOT },
  ).toString();
  const rest = KubeRest.fromKubeconfig(env.hubKubeconfig);
  await rest.request('PATCH', `/api/v1/namespaces/${RELEASE_NS}`, {
    query: { fieldManager: 'capp-e2e', force: true },
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: RELEASE_NS } },
    contentType: 'application/apply-patch+yaml',
  });
  let account = '';
  for (const doc of parseAllDocuments(rendered)) {
    const obj = doc.toJS() as KubeObject | null;
    if (!obj) continue;
    if (obj.kind === 'ServiceAccount') account = obj.metadata.name;
    const group = obj.apiVersion === 'v1' ? '/api/v1' : `/apis/${obj.apiVersion}`;
    const ns = obj.metadata.namespace ? `/namespaces/${obj.metadata.namespace}` : '';
    await rest.request('PATCH', `${group}${ns}/${obj.kind.toLowerCase()}s/${obj.metadata.name}`, {
      query: { fieldManager: 'capp-e2e', force: true },
      body: obj,
      contentType: 'application/apply-patch+yaml',
    });
  }
  rest.close();
  const token = await env.hub.mintServiceAccountToken(RELEASE_NS, account);
  return embeddedKubeconfig(env.hub, join(env.stateDir, 'hub-operator.kubeconfig'), token);
}

beforeAll(async () => {
  env = await startMultiCluster({ clusters: 2 });
  for (const c of env.clusters) managed.set(c.name, client(KubeRest.fromKubeconfig(c.kubeconfig)));
  hubClient = client(KubeRest.fromKubeconfig(env.hubKubeconfig));
  operators = new MultiClusterOperators(env);
  await operators.start({
    managedArgs: ['--lease-duration-seconds', '4', '--health-scopes', 'false'],
    hubKubeconfig: await chartOperatorKubeconfig(),
    heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT_S,
  });
  db = await createMigratedDatabase();
  api = new ApiProcess('api on the hub', {
    DATABASE_URL: db.url,
    REDIS_URL: process.env['REDIS_URL'] ?? testEnvironment().redisUrl ?? '',
    KUBECONFIG: env.hubKubeconfig,
    WATCH_CLUSTER: 'true',
    QUEUE_PREFIX: `e2e-multicluster-${Math.random().toString(16).slice(2, 8)}`,
    SYNC_WAIT_MS: '5000',
  });
  await api.start();
}, 600_000);

afterAll(async () => {
  await api?.kill('SIGKILL').catch(() => undefined);
  await db?.drop().catch(() => undefined);
  await operators?.stop();
  await env?.stop();
});

describe('hub mode: Capps placed on managed clusters through Open Cluster Management', () => {
  it('carries a Capp whose site names a ManagedCluster there, where its children are made, and brings its status back', async () => {
    const ns = await namespace();
    await hubClient.apply(capp(ns, 'web', { site: 'cluster-2' }));

    const placed = await hubCappWhen(ns, 'web', 'placed', (c) => condition(c, 'Placed')?.status === 'True');
    expect(placed.metadata.annotations?.[ANNOTATION_HAS_PLACEMENT]).toBe('cluster-2');
    expect((placed.status?.['applicationLinks'] as { site?: string })?.site).toBe('cluster-2');
    const work = await waitFor('the ManifestWork', () =>
      get(hubClient, MANIFEST_WORK_TYPE, 'cluster-2', workName(ns, 'web')),
    );
    expect(work.metadata.annotations).toMatchObject({
      'rcs.dana.io/capp-name': 'web',
      'rcs.dana.io/capp-namespace': ns,
    });

    // On cluster-2 the Capp and its Knative Service exist; on cluster-1 nothing.
    const there = await waitFor('the Capp on cluster-2', () => get(on('cluster-2'), CAPP_TYPE, ns, 'web'));
    expect(there.metadata.annotations?.[ANNOTATION_HAS_PLACEMENT]).toBeUndefined();
    await knativeReady('cluster-2', ns, 'web');
    expect(await get(on('cluster-1'), CAPP_TYPE, ns, 'web')).toBeUndefined();

    const ready = await hubCappWhen(
      ns,
      'web',
      'Ready and Synced',
      (c) => condition(c, 'Ready')?.status === 'True' && condition(c, 'Synced')?.status === 'True',
    );
    expect(ready.status?.['url']).toBe(`http://web.${ns}.cluster-2.example.com`);
    expect(ready.status?.['observedGeneration']).toBe(ready.metadata.generation);
    expect(condition(ready, 'KnativeServiceReady')?.status).toBe('True');
    // The Ready condition also comes back alone (what stays within the agent's default 1 KiB limit).
    const fed = await get(hubClient, MANIFEST_WORK_TYPE, 'cluster-2', workName(ns, 'web'));
    expect(JSON.stringify(fed?.status)).toContain('"name":"ready"');
  });

  it("takes the default Placement for a Capp without site, and a named Placement's decision", async () => {
    const ns = await namespace();
    await hubClient.apply({
      apiVersion: 'cluster.open-cluster-management.io/v1beta1',
      kind: 'Placement',
      metadata: { name: 'only-cluster-1', namespace: env.placementsNamespace },
      spec: {
        clusterSets: ['default'],
        predicates: [{ requiredClusterSelector: { labelSelector: { matchLabels: { name: 'cluster-1' } } } }],
      },
    });
    await hubClient.apply(capp(ns, 'anywhere'));
    await hubClient.apply(capp(ns, 'west', { site: 'only-cluster-1' }));

    const anywhere = await hubCappWhen(
      ns,
      'anywhere',
      'placed',
      (c) => condition(c, 'Placed')?.status === 'True',
    );
    const site = anywhere.metadata.annotations?.[ANNOTATION_HAS_PLACEMENT] ?? '';
    expect(['cluster-1', 'cluster-2']).toContain(site);
    expect(condition(anywhere, 'Placed')?.message).toContain(`Placement "${env.defaultPlacement}"`);
    await waitFor(`the Capp on ${site}`, () => get(on(site), CAPP_TYPE, ns, 'anywhere'));

    const west = await hubCappWhen(ns, 'west', 'placed', (c) => condition(c, 'Placed')?.status === 'True');
    expect(west.metadata.annotations?.[ANNOTATION_HAS_PLACEMENT]).toBe('cluster-1');
    await waitFor('the Capp on cluster-1', () => get(on('cluster-1'), CAPP_TYPE, ns, 'west'));
  });

  it('carries the logSpec Secret along, and an update of the Capp or the Secret reaches the cluster', async () => {
    const ns = await namespace();
    await hubClient.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'es-password', namespace: ns },
      type: 'Opaque',
      stringData: { password: 'one' },
    });
    const logSpec = {
      type: 'elastic',
      host: 'es.example.com',
      index: 'apps',
      user: 'shipper',
      passwordSecret: 'es-password',
    };
    await hubClient.apply(capp(ns, 'logs', { site: 'cluster-1', logSpec }));

    const secret = await waitFor('the Secret on cluster-1', () =>
      get(on('cluster-1'), SECRET_TYPE, ns, 'es-password'),
    );
    expect(Buffer.from((secret['data'] as Record<string, string>)['password'], 'base64').toString()).toBe(
      'one',
    );

    await hubClient.apply(capp(ns, 'logs', { site: 'cluster-1', logSpec, minReplicas: 2 }));
    await hubClient.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'es-password', namespace: ns },
      type: 'Opaque',
      stringData: { password: 'two' },
    });
    await waitFor('minReplicas 2 on cluster-1', async () => {
      const c = await get(on('cluster-1'), CAPP_TYPE, ns, 'logs');
      return c?.spec?.['minReplicas'] === 2;
    });
    await waitFor('the new password on cluster-1', async () => {
      const s = await get(on('cluster-1'), SECRET_TYPE, ns, 'es-password');
      return (
        s && Buffer.from((s['data'] as Record<string, string>)['password'], 'base64').toString() === 'two'
      );
    });
  });

  it('moves a Capp whose site changes: on the new cluster first, then gone from the old one', async () => {
    const ns = await namespace();
    await hubClient.apply(capp(ns, 'mover', { site: 'cluster-1' }));
    await waitFor('the Capp on cluster-1', () => get(on('cluster-1'), CAPP_TYPE, ns, 'mover'));

    await hubClient.apply(capp(ns, 'mover', { site: 'cluster-2' }));
    await waitFor('the Capp on cluster-2', () => get(on('cluster-2'), CAPP_TYPE, ns, 'mover'));
    await waitFor(
      'the Capp gone from cluster-1',
      async () => (await get(on('cluster-1'), CAPP_TYPE, ns, 'mover')) === undefined,
    );
    const moved = await hubCappWhen(
      ns,
      'mover',
      'on cluster-2',
      (c) => (c.status?.['applicationLinks'] as { site?: string } | undefined)?.site === 'cluster-2',
    );
    expect(moved.metadata.annotations?.[ANNOTATION_HAS_PLACEMENT]).toBe('cluster-2');
    await waitFor(
      'the ManifestWork on cluster-1 gone',
      async () =>
        (await get(hubClient, MANIFEST_WORK_TYPE, 'cluster-1', workName(ns, 'mover'))) === undefined,
    );
  });

  it('says why a site names nothing (condition and Event), and places the Capp once the site is fixed', async () => {
    const ns = await namespace();
    await hubClient.apply(capp(ns, 'lost', { site: 'atlantis' }));
    const lost = await hubCappWhen(
      ns,
      'lost',
      'not placed',
      (c) => condition(c, 'Placed')?.status === 'False',
    );
    expect(condition(lost, 'Placed')).toMatchObject({ reason: 'SiteNotFound' });
    expect(condition(lost, 'Placed')?.message).toContain('atlantis');
    expect(condition(lost, 'Ready')).toMatchObject({ status: 'False', reason: 'SiteNotFound' });
    const events = await waitFor('the SiteNotFound Event', async () => {
      const list = await hubClient.rest.request<{
        items: Array<{ reason: string; involvedObject: { name: string } }>;
      }>('GET', `/api/v1/namespaces/${ns}/events`);
      return list.items.find((e) => e.reason === 'SiteNotFound' && e.involvedObject.name === 'lost');
    });
    expect(events).toBeDefined();

    await hubClient.apply(capp(ns, 'lost', { site: 'cluster-1' }));
    await waitFor('the Capp on cluster-1', () => get(on('cluster-1'), CAPP_TYPE, ns, 'lost'));

    // A Placement that selects no cluster: no decision, said so.
    await hubClient.apply({
      apiVersion: 'cluster.open-cluster-management.io/v1beta1',
      kind: 'Placement',
      metadata: { name: 'no-such-clusters', namespace: env.placementsNamespace },
      spec: {
        clusterSets: ['default'],
        predicates: [{ requiredClusterSelector: { labelSelector: { matchLabels: { name: 'cluster-9' } } } }],
      },
    });
    await hubClient.apply(capp(ns, 'undecided', { site: 'no-such-clusters' }));
    const undecided = await hubCappWhen(
      ns,
      'undecided',
      'not placed for want of a decision',
      (c) => condition(c, 'Placed')?.reason === 'NoPlacementDecision',
    );
    expect(condition(undecided, 'Placed')?.status).toBe('False');
    expect(condition(undecided, 'Placed')?.message).toContain('no-such-clusters');
  });

  it("reports Synced=Unknown while a cluster's work agent is down, keeps the last status, and converges when it is back", async () => {
    const ns = await namespace();
    await hubClient.apply(capp(ns, 'steady', { site: 'cluster-1' }));
    await knativeReady('cluster-1', ns, 'steady');
    await hubCappWhen(
      ns,
      'steady',
      'Ready',
      (c) => condition(c, 'Ready')?.status === 'True' && condition(c, 'Synced')?.status === 'True',
    );

    const agent = env.clusters.find((c) => c.name === 'cluster-1')?.agent;
    if (!agent) throw new Error('no agent');
    await agent.stop();
    try {
      const unknown = await hubCappWhen(
        ns,
        'steady',
        'Synced Unknown',
        (c) => condition(c, 'Synced')?.status === 'Unknown',
      );
      expect(condition(unknown, 'Synced')).toMatchObject({ reason: 'ClusterUnreachable' });
      expect(condition(unknown, 'Synced')?.message).toContain('cluster-1');
      // The last status fed back stays.
      expect(condition(unknown, 'Ready')?.status).toBe('True');
      // A change made meanwhile is not lost.
      await hubClient.apply(capp(ns, 'steady', { site: 'cluster-1', maxReplicas: 3 }));
    } finally {
      await agent.start();
    }
    await waitFor(
      'maxReplicas 3 on cluster-1',
      async () => {
        const c = await get(on('cluster-1'), CAPP_TYPE, ns, 'steady');
        return c?.spec?.['maxReplicas'] === 3;
      },
      30_000,
    );
    // Knative rolls the new generation out.
    await waitFor('the Knative Service of the new generation', async () => {
      const k = await get(on('cluster-1'), KSVC, ns, 'steady');
      return (k?.metadata.generation ?? 0) > 1;
    });
    await knativeReady('cluster-1', ns, 'steady');
    const back = await hubCappWhen(
      ns,
      'steady',
      'Synced and Ready again',
      (c) =>
        condition(c, 'Ready')?.status === 'True' &&
        condition(c, 'Synced')?.status === 'True' &&
        c.status?.['observedGeneration'] === c.metadata.generation,
    );
    expect(condition(back, 'Synced')?.reason).toBe('Synced');
  });

  it('takes a Capp created through the API to its site, and the API shows where it runs and its status from there', async () => {
    const ns = await namespace();
    const created = await api.request('POST', `/api/v1/namespaces/${ns}/capps`, {
      ...capp(ns, 'from-api', { site: 'cluster-2' }),
      metadata: { name: 'from-api' },
    });
    expect([201, 202]).toContain(created.status);
    await waitFor('the Knative Service on cluster-2', () => get(on('cluster-2'), KSVC, ns, 'from-api'));
    await knativeReady('cluster-2', ns, 'from-api');

    type View = { metadata: { name: string }; spec: { site?: string }; status?: KubeObject['status'] };
    const shown = await waitFor(
      'GET to show the status fed back',
      async () => {
        const res = await api.request<View>('GET', `/api/v1/namespaces/${ns}/capps/from-api`);
        const ready = ((res.body.status?.['conditions'] ?? []) as Condition[]).find(
          (c) => c.type === 'Ready',
        );
        return res.status === 200 && ready?.status === 'True' ? res.body : undefined;
      },
      30_000,
    );
    expect(shown.status?.['url']).toBe(`http://from-api.${ns}.cluster-2.example.com`);
    expect(shown.status?.['applicationLinks']).toEqual({ site: 'cluster-2' });
    const list = await api.request<{ items: View[] }>('GET', `/api/v1/namespaces/${ns}/capps`);
    expect(list.body.items.map((c) => [c.metadata.name, c.spec.site])).toEqual([['from-api', 'cluster-2']]);
    // The hub's placement annotations are no user edit: no revision beyond the API's own.
    const revisions = await api.request<{ items: unknown[] }>(
      'GET',
      `/api/v1/namespaces/${ns}/capps/from-api/revisions`,
    );
    expect(revisions.body.items).toHaveLength(1);
  });

  it('deletes a Capp from its cluster before letting the hub Capp go', async () => {
    const ns = await namespace();
    await hubClient.apply(capp(ns, 'doomed', { site: 'cluster-2' }));
    await waitFor('the Knative Service on cluster-2', () => get(on('cluster-2'), KSVC, ns, 'doomed'));

    await hubClient.delete(CAPP_TYPE, ns, 'doomed');
    await waitFor(
      'the hub Capp gone',
      async () => (await get(hubClient, CAPP_TYPE, ns, 'doomed')) === undefined,
      30_000,
    );
    // By the time the hub lets go, the managed Capp and its children are gone.
    expect(await get(on('cluster-2'), CAPP_TYPE, ns, 'doomed')).toBeUndefined();
    expect(await get(on('cluster-2'), KSVC, ns, 'doomed')).toBeUndefined();
    expect(await get(hubClient, MANIFEST_WORK_TYPE, 'cluster-2', workName(ns, 'doomed'))).toBeUndefined();
    // The namespace stays on the cluster (other Capps may live there).
    expect(
      await on('cluster-2').get(
        { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
        undefined,
        ns,
      ),
    ).toBeDefined();
  });

  it("did all of it as the chart's ServiceAccount, never refused by its RBAC", () => {
    const refused = operators.hub.lines.filter((l) => /\b403\b|forbidden/i.test(JSON.stringify(l)));
    expect(refused).toEqual([]);
    expect(operators.hub.lines.some((l) => l.event === 'status-written')).toBe(true);
  });
});
