import { CappSpec, ScaleMetric } from '@capp/capp-model';

import { AUTOSCALE, makeCapp, UID } from '../test-fixtures';
import {
  activationScale,
  autoscaleAnnotations,
  KnativeServiceSpec,
  makeKnativeService,
} from './knative-service';

const ksvcOf = (spec: Partial<CappSpec> = {}, metadata = {}): ReturnType<typeof makeKnativeService> =>
  makeKnativeService(makeCapp(spec, metadata), AUTOSCALE);
const templateOf = (spec: Partial<CappSpec> = {}): KnativeServiceSpec['template'] =>
  (ksvcOf(spec).spec as KnativeServiceSpec).template;

describe('autoscaleAnnotations', () => {
  it.each<[ScaleMetric, string, string]>([
    ['concurrency', 'kpa.autoscaling.knative.dev', '10'],
    ['rps', 'kpa.autoscaling.knative.dev', '200'],
    ['cpu', 'hpa.autoscaling.knative.dev', '80'],
    ['memory', 'hpa.autoscaling.knative.dev', '70'],
  ])('scales on %s with the %s class and the default target %s', (metric, klass, target) => {
    expect(autoscaleAnnotations({ ...makeCapp().spec, scaleMetric: metric }, AUTOSCALE)).toEqual({
      'autoscaling.knative.dev/class': klass,
      'autoscaling.knative.dev/metric': metric,
      'autoscaling.knative.dev/target': target,
    });
  });

  it('defaults the metric to concurrency', () => {
    expect(autoscaleAnnotations(makeCapp().spec, AUTOSCALE)['autoscaling.knative.dev/metric']).toBe(
      'concurrency',
    );
  });

  it.each<[ScaleMetric, string]>([
    ['concurrency', '25'],
    ['rps', '500'],
    ['cpu', '60'],
    ['memory', '90'],
  ])('takes the %s target from the autoscale-defaults ConfigMap', (metric, target) => {
    const defaults = { rps: 500, cpu: 60, memory: 90, concurrency: 25, activationScale: 5 };
    const annotations = autoscaleAnnotations({ ...makeCapp().spec, scaleMetric: metric }, defaults);
    expect(annotations['autoscaling.knative.dev/target']).toBe(target);
  });

  it.each<[Partial<CappSpec>, Record<string, string>]>([
    [
      { minReplicas: 2, maxReplicas: 8 },
      { 'autoscaling.knative.dev/min-scale': '2', 'autoscaling.knative.dev/max-scale': '8' },
    ],
    [{ minReplicas: 0 }, { 'autoscaling.knative.dev/min-scale': '0' }],
    [{ maxReplicas: 3 }, { 'autoscaling.knative.dev/max-scale': '3' }],
    [{}, {}],
  ])('bounds the replicas with min-scale/max-scale when %j', (replicas, expected) => {
    const annotations = autoscaleAnnotations({ ...makeCapp().spec, ...replicas }, AUTOSCALE);
    const bounds = Object.fromEntries(
      Object.entries(annotations).filter(([key]) => /\/(min|max)-scale$/.test(key)),
    );
    expect(bounds).toEqual(expected);
  });
});

describe('activationScale (what Knative admits next to min-scale and max-scale)', () => {
  const MIN = 'autoscaling.knative.dev/min-scale';
  const MAX = 'autoscaling.knative.dev/max-scale';
  it.each<[string, Record<string, string>, number, string | undefined]>([
    ['the configured scale, unbounded', {}, 3, '3'],
    ['none for 1 (Knative wants more than 1)', {}, 1, undefined],
    ['clamped to max-scale', { [MAX]: '2' }, 3, '2'],
    ['none when max-scale is 1', { [MAX]: '1' }, 3, undefined],
    ['none when min-scale is above it', { [MIN]: '5' }, 3, undefined],
    ['kept when min-scale equals it', { [MIN]: '3' }, 3, '3'],
    ['read from the legacy spellings', { 'autoscaling.knative.dev/maxScale': '2' }, 3, '2'],
  ])('%s', (_, annotations, configured, expected) => {
    expect(activationScale(annotations, configured)).toBe(expected);
  });

  it("keeps the user's own activation-scale and otherwise adds the platform's", () => {
    const own = templateOf({
      configurationSpec: {
        template: {
          metadata: { annotations: { 'autoscaling.knative.dev/activation-scale': '4' } },
          spec: { containers: [{ image: 'web:1' }] },
        },
      },
    });
    expect(own.metadata.annotations['autoscaling.knative.dev/activation-scale']).toBe('4');
    expect(templateOf({ minReplicas: 5 }).metadata.annotations).not.toHaveProperty(
      'autoscaling.knative.dev/activation-scale',
    );
    expect(templateOf({}).metadata.annotations['autoscaling.knative.dev/activation-scale']).toBe('3');
  });
});

describe('makeKnativeService', () => {
  it('is a serving.knative.dev/v1 Service with the Capp name and namespace, owned by the Capp', () => {
    const ksvc = ksvcOf();
    expect(ksvc).toMatchObject({
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Service',
      metadata: {
        name: 'web',
        namespace: 'team-a',
        ownerReferences: [
          {
            apiVersion: 'rcs.dana.io/v1alpha1',
            kind: 'Capp',
            name: 'web',
            uid: UID,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
    });
  });

  it('copies the Capp labels under the platform labels', () => {
    const ksvc = ksvcOf({}, { labels: { team: 'payments', 'rcs.dana.io/parent-capp': 'spoof' } });
    expect(ksvc.metadata.labels).toEqual({
      team: 'payments',
      'rcs.dana.io/parent-capp': 'web',
      'app.kubernetes.io/managed-by': 'capp-operator',
      'rcs.dana.io/managed-by': 'capp',
    });
  });

  it('copies the Capp annotations except kubectl.kubernetes.io/* and rcs.dana.io/last-updated-by', () => {
    const ksvc = ksvcOf(
      {},
      {
        annotations: {
          'rcs.dana.io/last-updated-by': 'alice',
          'rcs.dana.io/app-name': 'shop',
          'kubectl.kubernetes.io/last-applied-configuration': '{}',
          'example.com/owner': 'payments',
        },
      },
    );
    expect(ksvc.metadata.annotations).toEqual({
      'rcs.dana.io/app-name': 'shop',
      'example.com/owner': 'payments',
    });
  });

  it('carries no annotations when none is propagated', () => {
    const annotations = {
      'rcs.dana.io/last-updated-by': 'alice',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
    };
    expect(ksvcOf({}, { annotations }).metadata).not.toHaveProperty('annotations');
  });

  it("puts the Capp's labels on the revision template beneath the template's own, parent-capp always the Capp's name", () => {
    const ksvc = makeKnativeService(
      makeCapp(
        {
          configurationSpec: {
            template: {
              metadata: { labels: { tier: 'front', team: 'template-wins' } },
              spec: { containers: [{ image: 'web:1' }] },
            },
          },
        },
        { labels: { 'e2e-test': 'test', team: 'payments', 'rcs.dana.io/parent-capp': 'test' } },
      ),
      AUTOSCALE,
    );
    expect((ksvc.spec as KnativeServiceSpec).template.metadata.labels).toEqual({
      'e2e-test': 'test',
      team: 'template-wins',
      tier: 'front',
      'rcs.dana.io/parent-capp': 'web',
    });
  });

  it("puts the Capp's rcs.dana.io/ annotations but last-updated-by on the revision template, as v0.3.5 does", () => {
    const capp = makeCapp(
      {
        configurationSpec: {
          template: {
            metadata: { annotations: { 'rcs.dana.io/tier': 'template-wins' } },
            spec: { containers: [{ image: 'web:1' }] },
          },
        },
      },
      {
        annotations: {
          'rcs.dana.io/app-name': 'new-app-name',
          'rcs.dana.io/tier': 'gold',
          'rcs.dana.io/last-updated-by': 'alice',
          'example.com/owner': 'payments',
        },
      },
    );
    const annotations = (makeKnativeService(capp, AUTOSCALE).spec as KnativeServiceSpec).template.metadata
      .annotations;
    expect(annotations).toMatchObject({
      'rcs.dana.io/app-name': 'new-app-name',
      'rcs.dana.io/tier': 'template-wins',
      'autoscaling.knative.dev/metric': 'concurrency',
    });
    expect(annotations).not.toHaveProperty(['rcs.dana.io/last-updated-by']);
    expect(annotations).not.toHaveProperty(['example.com/owner']);
  });

  it('uses configurationSpec.template with enableServiceLinks false and the autoscale annotations', () => {
    const template = templateOf({ scaleMetric: 'rps' });
    expect(template.spec).toEqual({
      containers: [{ name: 'web', image: 'ghcr.io/acme/web:1' }],
      enableServiceLinks: false,
    });
    expect(template.metadata.annotations).toMatchObject({
      'autoscaling.knative.dev/class': 'kpa.autoscaling.knative.dev',
      'autoscaling.knative.dev/metric': 'rps',
      'autoscaling.knative.dev/target': '200',
    });
  });

  it('lets an autoscaling annotation the user wrote in the template win over the default', () => {
    const template = templateOf({
      scaleMetric: 'concurrency',
      minReplicas: 1,
      configurationSpec: {
        template: {
          metadata: {
            labels: { tier: 'front' },
            annotations: { 'autoscaling.knative.dev/target': '42', 'example.com/x': 'y' },
          },
          spec: { containers: [{ image: 'web:1' }] },
        },
      },
    });
    expect(template.metadata).toEqual({
      labels: { tier: 'front', 'rcs.dana.io/parent-capp': 'web' },
      annotations: {
        'autoscaling.knative.dev/class': 'kpa.autoscaling.knative.dev',
        'autoscaling.knative.dev/metric': 'concurrency',
        'autoscaling.knative.dev/target': '42',
        'autoscaling.knative.dev/activation-scale': '3',
        'autoscaling.knative.dev/min-scale': '1',
        'example.com/x': 'y',
      },
    });
  });

  it("does not add min-scale next to the user's legacy minScale spelling (Knative refuses both)", () => {
    const template = templateOf({
      minReplicas: 1,
      configurationSpec: {
        template: {
          metadata: { annotations: { 'autoscaling.knative.dev/minScale': '4' } },
          spec: { containers: [{ image: 'web:1' }] },
        },
      },
    });
    expect(template.metadata.annotations['autoscaling.knative.dev/minScale']).toBe('4');
    expect(template.metadata.annotations).not.toHaveProperty(['autoscaling.knative.dev/min-scale']);
  });

  it('mounts one PVC volume per NFS volume after the user volumes', () => {
    const template = templateOf({
      configurationSpec: {
        template: {
          spec: {
            containers: [{ image: 'web:1' }],
            volumes: [{ name: 'config', configMap: { name: 'web-config' } }],
          },
        },
      },
      volumesSpec: {
        nfsVolumes: [
          { name: 'data', server: 'nfs1', path: '/a', capacity: { storage: '1Gi' } },
          { name: 'logs', server: 'nfs2', path: '/b', capacity: { storage: '2Gi' } },
        ],
      },
    });
    expect(template.spec.volumes).toEqual([
      { name: 'config', configMap: { name: 'web-config' } },
      { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
      { name: 'logs', persistentVolumeClaim: { claimName: 'logs' } },
    ]);
  });

  it('replaces a user volume named like an NFS volume with the NFS one', () => {
    const template = templateOf({
      configurationSpec: {
        template: { spec: { containers: [{ image: 'web:1' }], volumes: [{ name: 'data', emptyDir: {} }] } },
      },
      volumesSpec: {
        nfsVolumes: [{ name: 'data', server: 'nfs1', path: '/a', capacity: { storage: '1Gi' } }],
      },
    });
    expect(template.spec.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }]);
  });

  it('sets the revision timeout from routeSpec.routeTimeoutSeconds', () => {
    expect(templateOf({ routeSpec: { routeTimeoutSeconds: 120 } }).spec.timeoutSeconds).toBe(120);
    expect(templateOf().spec).not.toHaveProperty('timeoutSeconds');
  });

  it('routes traffic to the trafficTarget, all of it when no percent is given', () => {
    expect(
      (
        ksvcOf({ routeSpec: { trafficTarget: { latestRevision: true, tag: 'live' } } })
          .spec as KnativeServiceSpec
      ).traffic,
    ).toEqual([{ latestRevision: true, tag: 'live', percent: 100 }]);
    expect(ksvcOf().spec).not.toHaveProperty('traffic');
  });

  it('reads an empty trafficTarget, which every v0.3.5 Go client sends, as none', () => {
    expect(ksvcOf({ routeSpec: { trafficTarget: {} } }).spec).not.toHaveProperty('traffic');
  });

  it('has no ownerReference when the Capp has no uid (a file rendered by the CLI)', () => {
    expect(ksvcOf({}, { uid: undefined }).metadata).not.toHaveProperty('ownerReferences');
  });
});
