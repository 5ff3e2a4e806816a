/** Events against the real apiserver started by the libs/testing globalSetup. */
import { randomBytes } from 'node:crypto';

import { EventRecorder } from './events';
import { CONFIGMAP_TYPE, EVENT_TYPE, resourcePath } from './resources';
import { KubeRest } from './rest';

interface ConfigMap {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid: string };
}

interface CoreEvent {
  metadata: { name: string; namespace: string };
  involvedObject: { apiVersion: string; kind: string; name: string; namespace: string; uid: string };
  reason: string;
  message: string;
  type: string;
  count: number;
  source: { component: string; host?: string };
  firstTimestamp: string;
  lastTimestamp: string;
  reportingComponent: string;
  reportingInstance: string;
}

const NS = `ev-${randomBytes(4).toString('hex')}`;
let rest: KubeRest;
let configMap: ConfigMap;

beforeAll(async () => {
  rest = KubeRest.fromKubeconfig(process.env['KUBECONFIG']);
  await rest.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
  });
  configMap = await rest.request<ConfigMap>('POST', resourcePath(CONFIGMAP_TYPE, NS), {
    body: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'dns-config' },
      data: { zone: 'example.com.' },
    },
  });
  // The apiserver omits apiVersion/kind in some answers: the subject carries them explicitly.
  configMap = { ...configMap, apiVersion: 'v1', kind: 'ConfigMap' };
});

afterAll(async () => {
  await rest.request('DELETE', `/api/v1/namespaces/${NS}`).catch(() => undefined);
  rest.close();
});

async function eventsAbout(uid: string): Promise<CoreEvent[]> {
  const list = await rest.request<{ items: CoreEvent[] }>('GET', resourcePath(EVENT_TYPE, NS), {
    query: { fieldSelector: `involvedObject.uid=${uid}` },
  });
  return list.items;
}

describe('EventRecorder on a real API server', () => {
  it('creates an Event that lists back under the object with its reason, type and source', async () => {
    const recorder = new EventRecorder(rest, { component: 'capp-operator', host: 'operator-0' });
    await recorder.record(configMap, 'Warning', 'InvalidConfig', 'dns-config: zone must end with "."');

    const events = await eventsAbout(configMap.metadata.uid);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event.metadata.name.startsWith('dns-config.')).toBe(true);
    expect(event).toMatchObject({
      involvedObject: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        name: 'dns-config',
        namespace: NS,
        uid: configMap.metadata.uid,
      },
      reason: 'InvalidConfig',
      message: 'dns-config: zone must end with "."',
      type: 'Warning',
      count: 1,
      source: { component: 'capp-operator', host: 'operator-0' },
      reportingComponent: 'capp-operator',
      reportingInstance: 'operator-0',
    });
    expect(event.firstTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(event.lastTimestamp).toBe(event.firstTimestamp);
  });

  it('drops identical events within the window but records a different message', async () => {
    const other = await rest.request<ConfigMap>('POST', resourcePath(CONFIGMAP_TYPE, NS), {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'autoscale-defaults' } },
    });
    const subject = { ...other, apiVersion: 'v1', kind: 'ConfigMap' };
    const recorder = new EventRecorder(rest, { component: 'capp-operator' });
    await Promise.all([
      recorder.record(subject, 'Normal', 'Reloaded', 'autoscale defaults changed'),
      recorder.record(subject, 'Normal', 'Reloaded', 'autoscale defaults changed'),
    ]);
    await recorder.record(subject, 'Normal', 'Reloaded', 'autoscale defaults changed');
    await recorder.record(subject, 'Normal', 'Reloaded', 'rps default is now 100');

    const events = await eventsAbout(other.metadata.uid);
    expect(events.map((e) => e.message).sort()).toEqual([
      'autoscale defaults changed',
      'rps default is now 100',
    ]);
  });

  it('rejects with the API error when the namespace does not exist', async () => {
    const recorder = new EventRecorder(rest, { component: 'capp-operator' });
    const ghost = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x', namespace: `${NS}-missing`, uid: 'u' },
    };
    await expect(recorder.record(ghost, 'Normal', 'Test', 'nobody home')).rejects.toMatchObject({
      statusCode: 404,
    });
  });
});
