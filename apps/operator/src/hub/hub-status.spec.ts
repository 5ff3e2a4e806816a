import type { Capp } from '@capp/capp-model';

import { hubStatus } from './hub-status';
import { ANNOTATION_WORK_HUB_GENERATION, type ManifestWork } from './ocm';

const NOW = '2026-01-01T00:00:00Z';
const capp = (status?: Capp['status']): Capp => ({
  apiVersion: 'rcs.dana.io/v1alpha1',
  kind: 'Capp',
  metadata: { name: 'app', namespace: 'team', generation: 3 },
  spec: { configurationSpec: { template: { spec: { containers: [] } } } },
  ...(status ? { status } : {}),
});
const managedConditions = [
  { type: 'Ready', status: 'True', reason: 'Ready', message: '', lastTransitionTime: '2025-12-31T00:00:00Z' },
  {
    type: 'KnativeServiceReady',
    status: 'True',
    reason: 'Ready',
    message: '',
    lastTransitionTime: '2025-12-31T00:00:00Z',
  },
];
const work = (
  opts: { applied?: string; hubGeneration?: number; generation?: number; observed?: number } = {},
): ManifestWork => ({
  apiVersion: 'work.open-cluster-management.io/v1',
  kind: 'ManifestWork',
  metadata: {
    name: 'mw-create-team-app',
    namespace: 'c1',
    generation: 1,
    annotations: { [ANNOTATION_WORK_HUB_GENERATION]: String(opts.hubGeneration ?? 3) },
  },
  status: {
    conditions: [
      {
        type: 'Applied',
        status: opts.applied ?? 'True',
        reason: 'AppliedManifestComplete',
        observedGeneration: 1,
      },
    ],
    resourceStatus: {
      manifests: [
        {
          resourceMeta: { group: 'rcs.dana.io', resource: 'capps', namespace: 'team', name: 'app' },
          statusFeedback: {
            values: [
              {
                name: 'conditions',
                fieldValue: { type: 'JsonRaw', jsonRaw: JSON.stringify(managedConditions) },
              },
              { name: 'url', fieldValue: { type: 'String', string: 'https://app.example.com' } },
              { name: 'generation', fieldValue: { type: 'Integer', integer: opts.generation ?? 2 } },
              { name: 'observedGeneration', fieldValue: { type: 'Integer', integer: opts.observed ?? 2 } },
            ],
          },
        },
      ],
    },
  },
});
const placed = { placed: true as const, cluster: 'c1', via: 'cluster' as const };
const types = (s: Capp['status']): string[] => (s?.conditions ?? []).map((c) => `${c.type}=${c.status}`);

describe('hubStatus', () => {
  it('shows the managed Capp as fed back, with Placed and Synced, once the cluster runs this generation', () => {
    const s = hubStatus({
      capp: capp(),
      placement: placed,
      work: work(),
      reach: { reachable: true, message: '' },
      now: NOW,
    });
    expect(types(s)).toEqual(['Ready=True', 'KnativeServiceReady=True', 'Placed=True', 'Synced=True']);
    expect(s.url).toBe('https://app.example.com');
    expect(s.observedGeneration).toBe(3);
    expect(s.applicationLinks).toEqual({ site: 'c1' });
    expect(s.conditions?.[0].lastTransitionTime).toBe('2025-12-31T00:00:00Z');
  });

  it.each([
    ['the work is for an older generation', work({ hubGeneration: 2 }), 'Unknown', 'Applying'],
    ['the agent could not apply it', work({ applied: 'False' }), 'False', 'AppliedManifestComplete'],
    [
      'the managed operator has not caught up',
      work({ generation: 3, observed: 2 }),
      'Unknown',
      'Reconciling',
    ],
  ])('is not Synced while %s', (_, w, status, reason) => {
    const s = hubStatus({
      capp: capp(),
      placement: placed,
      work: w,
      reach: { reachable: true, message: '' },
      now: NOW,
    });
    expect(s.conditions?.find((c) => c.type === 'Synced')).toMatchObject({ status, reason });
    expect(s.observedGeneration).toBeUndefined();
  });

  it('keeps the last status and says Synced=Unknown when the cluster is out of reach', () => {
    const before = hubStatus({
      capp: capp(),
      placement: placed,
      work: work(),
      reach: { reachable: true, message: '' },
      now: NOW,
    });
    const stale = work({ generation: 9, observed: 1 });
    const s = hubStatus({
      capp: capp(before),
      placement: placed,
      work: stale,
      reach: { reachable: false, message: 'gone quiet' },
      now: NOW,
    });
    expect(s.conditions?.find((c) => c.type === 'Synced')).toMatchObject({
      status: 'Unknown',
      reason: 'ClusterUnreachable',
      message: 'gone quiet',
    });
    expect(s.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(s.url).toBe('https://app.example.com');
  });

  it("takes the Ready condition alone when all of them exceed the agent's feedback limit", () => {
    const w = work();
    const values = w.status?.resourceStatus?.manifests?.[0].statusFeedback?.values ?? [];
    values.splice(0, 1, {
      name: 'ready',
      fieldValue: {
        type: 'JsonRaw',
        jsonRaw: JSON.stringify({ ...managedConditions[0], status: 'False', reason: 'Failing' }),
      },
    });
    const s = hubStatus({
      capp: capp(),
      placement: placed,
      work: w,
      reach: { reachable: true, message: '' },
      now: NOW,
    });
    expect(s.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Failing',
    });
  });

  it('is not Ready, with the reason, when the Capp cannot be placed', () => {
    const s = hubStatus({
      capp: capp(),
      placement: { placed: false, reason: 'SiteNotFound', message: 'site "x" names nothing' },
      now: NOW,
    });
    expect(s.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'SiteNotFound',
    });
    expect(s.conditions?.find((c) => c.type === 'Placed')).toMatchObject({
      status: 'False',
      message: 'site "x" names nothing',
    });
  });

  it('keeps the transition time of a condition that did not change', () => {
    const first = hubStatus({
      capp: capp(),
      placement: placed,
      work: work(),
      reach: { reachable: true, message: '' },
      now: NOW,
    });
    const again = hubStatus({
      capp: capp(first),
      placement: placed,
      work: work(),
      reach: { reachable: true, message: '' },
      now: '2026-02-02T00:00:00Z',
    });
    expect(again).toEqual(first);
  });
});
