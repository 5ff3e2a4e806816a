import { KubeApiError } from './errors';
import { EventRecorder, MAX_MESSAGE_LENGTH } from './events';

interface Posted {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

function fakeRest(): {
  posted: Posted[];
  fail: number;
  request<T>(m: string, p: string, o?: { body?: unknown }): Promise<T>;
} {
  const api = {
    posted: [] as Posted[],
    fail: 0,
    async request<T>(method: string, path: string, opts: { body?: unknown } = {}): Promise<T> {
      if (api.fail > 0) {
        api.fail--;
        throw new KubeApiError(403, 'Forbidden', 'events is forbidden', method, path);
      }
      api.posted.push({ method, path, body: opts.body as Record<string, unknown> });
      return {} as T;
    },
  };
  return api;
}

const CAPP = {
  apiVersion: 'rcs.dana.io/v1alpha1',
  kind: 'Capp',
  metadata: { name: 'web', namespace: 'team-a', uid: '0b7c-uid' },
};

describe('EventRecorder', () => {
  it('creates a core/v1 Event about the object in its namespace', async () => {
    const rest = fakeRest();
    const now = Date.UTC(2024, 4, 6, 7, 8, 9, 456);
    const recorder = new EventRecorder(rest, {
      component: 'capp-operator',
      host: 'operator-0',
      now: () => now,
    });
    await recorder.record(CAPP, 'Normal', 'Created', 'created Service team-a/web');

    expect(rest.posted).toEqual([
      {
        method: 'POST',
        path: '/api/v1/namespaces/team-a/events',
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { generateName: 'web.', namespace: 'team-a' },
          involvedObject: {
            apiVersion: 'rcs.dana.io/v1alpha1',
            kind: 'Capp',
            name: 'web',
            namespace: 'team-a',
            uid: '0b7c-uid',
          },
          reason: 'Created',
          message: 'created Service team-a/web',
          type: 'Normal',
          source: { component: 'capp-operator', host: 'operator-0' },
          firstTimestamp: '2024-05-06T07:08:09Z',
          lastTimestamp: '2024-05-06T07:08:09Z',
          count: 1,
          reportingComponent: 'capp-operator',
          reportingInstance: 'operator-0',
        },
      },
    ]);
  });

  it('cuts a long message to 1024 characters', async () => {
    const rest = fakeRest();
    await new EventRecorder(rest, { component: 'capp-operator' }).record(
      CAPP,
      'Warning',
      'ApplyFailed',
      'x'.repeat(5000),
    );
    const message = rest.posted[0].body['message'] as string;
    expect(message).toHaveLength(MAX_MESSAGE_LENGTH);
    expect(message.endsWith('...')).toBe(true);
  });

  it('drops an identical event within the window and sends it again after', async () => {
    const rest = fakeRest();
    let now = 1_000_000;
    const recorder = new EventRecorder(rest, { component: 'capp-operator', now: () => now });
    await recorder.record(CAPP, 'Warning', 'ApplyFailed', 'webhook denied');
    now += 30_000;
    await recorder.record(CAPP, 'Warning', 'ApplyFailed', 'webhook denied');
    await recorder.record(CAPP, 'Warning', 'ApplyFailed', 'timeout');
    await recorder.record(
      { ...CAPP, metadata: { ...CAPP.metadata, uid: 'other-uid' } },
      'Warning',
      'ApplyFailed',
      'webhook denied',
    );
    now += 30_001;
    await recorder.record(CAPP, 'Warning', 'ApplyFailed', 'webhook denied');

    expect(
      rest.posted.map((p) => [p.body['message'], (p.body['involvedObject'] as { uid: string }).uid]),
    ).toEqual([
      ['webhook denied', '0b7c-uid'],
      ['timeout', '0b7c-uid'],
      ['webhook denied', 'other-uid'],
      ['webhook denied', '0b7c-uid'],
    ]);
  });

  it('rejects when the API server refuses, and does not count the failed event as sent', async () => {
    const rest = fakeRest();
    rest.fail = 1;
    const recorder = new EventRecorder(rest, { component: 'capp-operator' });
    const first = recorder.record(CAPP, 'Normal', 'Created', 'created');
    await expect(first).rejects.toMatchObject({ statusCode: 403 });
    await recorder.record(CAPP, 'Normal', 'Created', 'created');
    expect(rest.posted).toHaveLength(1);
  });

  it('puts events about cluster-scoped objects in the default namespace', async () => {
    const rest = fakeRest();
    const record = {
      apiVersion: 'record.dns.crossplane.io/v1alpha1',
      kind: 'CNAMERecord',
      metadata: { name: 'web-zone' },
    };
    await new EventRecorder(rest, { component: 'capp-operator' }).record(
      record,
      'Normal',
      'Deleted',
      'deleted',
    );
    expect(rest.posted[0].path).toBe('/api/v1/namespaces/default/events');
    expect(rest.posted[0].body['involvedObject']).toMatchObject({ kind: 'CNAMERecord', name: 'web-zone' });
  });
});
