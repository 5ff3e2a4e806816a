// The API follows the cluster: kubectl edits become revisions, kubectl creates are imported,
// kubectl deletes remove the row, and status written by the operator is cached.
import { CAPP_TYPE } from '@capp/kube';

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

  it('applies again a Capp the API has but the cluster lost while the API was not watching', async () => {
    // A second API on the same database, not watching, so the delete goes unnoticed.
    await api.request('POST', `/api/v1/namespaces/${ns}/capps`, { body: cappBody('lost') });
    await api.stop();
    await kube.delete(CAPP_TYPE, ns, 'lost');
    const restarted = await startTestApi({ WATCH_CLUSTER: 'true', DATABASE_URL: api.config.databaseUrl });
    try {
      await eventually('the CR re-applied', async () => (await clusterCapp(ns, 'lost')) !== undefined);
      // The row says Synced once the apply's result is recorded (just after the CR appears).
      await eventually('the row Synced again', async () => {
        const row = await restarted.request<AnyJson>('GET', `/api/v1/namespaces/${ns}/capps/lost`);
        return row.body.sync.state === 'Synced';
      });
    } finally {
      await restarted.close();
    }
  });
});
