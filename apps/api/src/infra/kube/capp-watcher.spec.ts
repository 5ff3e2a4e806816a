// The API follows the cluster: kubectl edits become revisions, kubectl creates are imported,
// kubectl deletes remove the row, and status written by the operator is cached.
import { CAPP_TYPE, NAMESPACE_TYPE } from '@capp/kube';

import {
  AnyJson,
  cappBody,
  cappPath,
  clusterCapp,
  clusterClient,
  createNamespace,
  eventually,
  startTestApi,
  suffix,
  TestApi,
} from '../../testing/api-fixture';
import { PrismaService } from '../prisma/prisma.service';
import { clusterActor, newerResourceVersion } from './capp-watcher';

interface Revision {
  number: number;
  source: string;
  createdBy: string;
  spec: Record<string, AnyJson>;
}

describe('newerResourceVersion', () => {
  it('compares resource versions as integers, and treats anything else as newer when different', () => {
    expect(newerResourceVersion('10', '9')).toBe(true);
    expect(newerResourceVersion('9', '10')).toBe(false);
    expect(newerResourceVersion('10', '10')).toBe(false);
    expect(newerResourceVersion('5', null)).toBe(true);
    expect(newerResourceVersion(undefined, '5')).toBe(false);
    expect(newerResourceVersion('abc', 'abd')).toBe(true);
  });
});

describe('clusterActor', () => {
  it('names the last manager that changed the object, ignoring the API, the operator and status writers', () => {
    const capp = cappBody('x') as AnyJson;
    capp.metadata.managedFields = [
      { manager: 'capp-api', operation: 'Apply', time: '2026-01-01T00:00:03Z' },
      { manager: 'kubectl-edit', operation: 'Update', time: '2026-01-01T00:00:02Z' },
      { manager: 'kubectl-client-side-apply', operation: 'Update', time: '2026-01-01T00:00:01Z' },
      { manager: 'capp-operator', operation: 'Apply', subresource: 'status', time: '2026-01-01T00:00:04Z' },
    ];
    expect(clusterActor(capp)).toBe('cluster:kubectl-edit');
    capp.metadata.managedFields = [];
    expect(clusterActor(capp)).toBe('cluster:unknown');
  });
});

describe('the cluster watcher', () => {
  let api: TestApi;
  let ns: string;
  const kube = clusterClient();
  const revisions = async (name: string): Promise<Revision[]> =>
    (await api.request<{ items: Revision[] }>('GET', `/api/v1/namespaces/${ns}/capps/${name}/revisions`)).body
      .items ?? [];

  beforeAll(async () => {
    api = await startTestApi({ WATCH_CLUSTER: 'true' });
    ns = `watch-${suffix()}`;
    await createNamespace(ns);
  });
  afterAll(() => api?.close());

  it('records a kubectl edit of the CR as a revision with source cluster', async () => {
    await api.request('POST', `/api/v1/namespaces/${ns}/capps`, { body: cappBody('edited') });
    await kube.rest.request('PATCH', cappPath(ns, 'edited'), {
      query: { fieldManager: 'kubectl-edit' },
      body: { spec: { scaleMetric: 'rps' } },
      contentType: 'application/merge-patch+json',
    });
    const history = await eventually('a cluster revision', async () => {
      const r = await revisions('edited');
      return r.length === 2 && r;
    });
    expect(history[1]).toMatchObject({ number: 2, source: 'cluster', createdBy: 'cluster:kubectl-edit' });
    expect(history[1].spec['scaleMetric']).toBe('rps');
    const now = await api.request<AnyJson>('GET', `/api/v1/namespaces/${ns}/capps/edited`);
    expect(now.body.spec.scaleMetric).toBe('rps');
    expect(now.body.sync.state).toBe('Synced');
    expect(now.headers.get('etag')).toBe('"2"');
  });

  it('caches status written in the cluster without recording a revision', async () => {
    await api.request('POST', `/api/v1/namespaces/${ns}/capps`, { body: cappBody('ready') });
    const status = {
      observedGeneration: 1,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Ready',
          message: '',
          lastTransitionTime: '2026-11-23T00:00:00Z',
        },
      ],
      knativeObjectStatus: { url: 'https://ready.example.com' },
    };
    const res = await kube.rest.raw('PATCH', `${cappPath(ns, 'ready')}/status`, {
      query: { fieldManager: 'capp-operator', force: true },
      body: {
        apiVersion: 'rcs.dana.io/v1alpha1',
        kind: 'Capp',
        metadata: { name: 'ready', namespace: ns },
        status,
      },
      contentType: 'application/apply-patch+yaml',
    });
    expect(res.status).toBe(200);
    const cached = await eventually('the cached status', async () => {
      const r = await api.request<AnyJson>('GET', `/api/v1/namespaces/${ns}/capps/ready`);
      return r.body.status?.conditions?.[0]?.status === 'True' && r.body;
    });
    expect(cached.status.observedGeneration).toBe(1);
    expect((await revisions('ready')).map((r) => r.number)).toEqual([1]);
  });

  it('imports a Capp created with kubectl, and removes one deleted with kubectl', async () => {
    await kube.apply({
      ...(cappBody('from-kubectl', { scaleMetric: 'cpu' }) as AnyJson),
      metadata: { name: 'from-kubectl', namespace: ns, labels: { via: 'kubectl' } },
    });
    const imported = await eventually('the imported capp', async () => {
      const r = await api.request<AnyJson>('GET', `/api/v1/namespaces/${ns}/capps/from-kubectl`);
      return r.status === 200 && r.body;
    });
    expect(imported.metadata.labels).toEqual({ via: 'kubectl' });
    expect(imported.spec.scaleMetric).toBe('cpu');
    expect(imported.sync.state).toBe('Synced');
    expect(await revisions('from-kubectl')).toEqual([
      expect.objectContaining({ number: 1, source: 'cluster', createdBy: 'cluster:capp-testing' }),
    ]);

    await kube.delete(CAPP_TYPE, ns, 'from-kubectl');
    await eventually(
      'the row removed',
      async () => (await api.request('GET', `/api/v1/namespaces/${ns}/capps/from-kubectl`)).status === 404,
    );
  });

  it('honours a kubectl delete of an imported Capp whose import a replica processed only after the delete', async () => {
    await kube.apply({
      ...(cappBody('late-import') as AnyJson),
      // A finalizer, as the operator's: the delete is first a deletionTimestamp, then the DELETED event.
      metadata: { name: 'late-import', namespace: ns, finalizers: ['capp.test/hold'] },
    });
    await eventually(
      'the imported capp',
      async () => (await api.request('GET', `/api/v1/namespaces/${ns}/capps/late-import`)).status === 200,
    );
    // As a replica busy elsewhere sees it: its row is younger than the delete about to come.
    const db = new PrismaService(api.config.databaseUrl);
    try {
      await db.capp.updateMany({
        where: { namespace: ns, name: 'late-import' },
        data: { createdAt: new Date(Date.now() + 60 * 60 * 1000) },
      });
    } finally {
      await db.close();
    }
    await kube.delete(CAPP_TYPE, ns, 'late-import');
    await kube.patch(CAPP_TYPE, ns, 'late-import', { metadata: { finalizers: null } });
    await eventually(
      'the row removed',
      async () => (await api.request('GET', `/api/v1/namespaces/${ns}/capps/late-import`)).status === 404,
    );
    // The same Capp (same uid) is gone: nothing applies it again.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await clusterCapp(ns, 'late-import')).toBeUndefined();
  });

  it('after a restart, removes a Capp deleted with kubectl meanwhile and applies again one of a rebuilt cluster', async () => {
    for (const name of ['deleted-offline', 'rebuilt']) {
      const created = await api.request<AnyJson>('POST', `/api/v1/namespaces/${ns}/capps`, {
        body: cappBody(name),
      });
      expect(created.body.sync.state).toBe('Synced');
    }
    // Each row records what the cluster answered: the CR's uid and the cluster (kube-system's uid).
    const db = new PrismaService(api.config.databaseUrl);
    try {
      const kubeSystem = await kube.get(NAMESPACE_TYPE, undefined, 'kube-system');
      const cr = await clusterCapp(ns, 'deleted-offline');
      expect(
        await db.capp.findUnique({
          where: { namespace_name: { namespace: ns, name: 'deleted-offline' } },
          select: { cappUid: true, clusterUid: true },
        }),
      ).toEqual({ cappUid: cr?.metadata.uid, clusterUid: kubeSystem?.metadata.uid });
      // A rebuilt cluster: the row was applied to a cluster that is not this one.
      await db.capp.updateMany({
        where: { namespace: ns, name: 'rebuilt' },
        data: { clusterUid: 'another' },
      });
    } finally {
      await db.close();
    }

    await api.stop();
    await kube.delete(CAPP_TYPE, ns, 'deleted-offline');
    await kube.delete(CAPP_TYPE, ns, 'rebuilt');
    await eventually('both CRs gone', async () => !(await clusterCapp(ns, 'rebuilt')));
    const restarted = await startTestApi({ WATCH_CLUSTER: 'true', DATABASE_URL: api.config.databaseUrl });
    try {
      await eventually("the rebuilt cluster's capp applied again and Synced", async () => {
        const row = await restarted.request<AnyJson>('GET', `/api/v1/namespaces/${ns}/capps/rebuilt`);
        return row.body.sync?.state === 'Synced' && (await clusterCapp(ns, 'rebuilt')) !== undefined;
      });
      await eventually(
        'the capp deleted offline removed',
        async () =>
          (await restarted.request('GET', `/api/v1/namespaces/${ns}/capps/deleted-offline`)).status === 404,
      );
      expect(restarted.logs.join('\n')).toContain(
        'capp deleted in the cluster while the API was not watching',
      );
      // Removed, not applied again: the CR stays gone.
      await new Promise((r) => setTimeout(r, 1000));
      expect(await clusterCapp(ns, 'deleted-offline')).toBeUndefined();
    } finally {
      await restarted.close();
    }
  });
});
