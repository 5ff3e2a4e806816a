import type { Capp } from '@capp/capp-model';

import { buildManifestWork, referencesOf } from './manifest-work';
import { ANNOTATION_HAS_PLACEMENT } from './ocm';

const capp: Capp = {
  apiVersion: 'rcs.dana.io/v1alpha1',
  kind: 'Capp',
  metadata: {
    name: 'app',
    namespace: 'team',
    generation: 4,
    labels: { tier: 'web' },
    annotations: {
      [ANNOTATION_HAS_PLACEMENT]: 'c1',
      'rcs.dana.io/app-name': 'app',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
    },
    finalizers: ['rcs.dana.io/capp-cleanup'],
    resourceVersion: '12',
    uid: 'u',
  },
  spec: {
    site: 'c1',
    logSpec: { type: 'splunk', host: 'h', index: 'i', hecTokenSecret: 'hec' },
    configurationSpec: {
      template: {
        spec: {
          containers: [
            {
              name: 'app',
              image: 'x',
              env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'db', key: 'k' } } }],
              envFrom: [{ configMapRef: { name: 'settings' } }],
            },
          ],
          volumes: [{ name: 'v', secret: { secretName: 'certs' } }],
        },
      },
    },
  },
  status: { conditions: [] },
};

describe('the ManifestWork of a hub Capp', () => {
  it('finds every Secret and ConfigMap the Capp references', () => {
    expect(referencesOf(capp)).toEqual({ secrets: ['certs', 'db', 'hec'], configMaps: ['settings'] });
  });

  it("carries the Namespace, the referenced objects and the Capp without the hub's bookkeeping, with feedback", () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'hec', namespace: 'team', uid: 'x', resourceVersion: '1' },
      type: 'Opaque',
      data: { token: 'dA==' },
    };
    const work = buildManifestWork(capp, 'c1', [secret]);
    expect(work.metadata).toMatchObject({ name: 'mw-create-team-app', namespace: 'c1' });
    const manifests = (work.spec?.['workload'] as { manifests: Array<Record<string, unknown>> }).manifests;
    expect(manifests.map((m) => m['kind'])).toEqual(['Namespace', 'Secret', 'Capp']);
    expect(manifests[1]).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'hec', namespace: 'team' },
      type: 'Opaque',
      data: { token: 'dA==' },
    });
    expect(manifests[2]).toEqual({
      apiVersion: 'rcs.dana.io/v1alpha1',
      kind: 'Capp',
      metadata: {
        name: 'app',
        namespace: 'team',
        labels: { tier: 'web' },
        annotations: { 'rcs.dana.io/app-name': 'app' },
      },
      spec: capp.spec,
    });
    expect(work.spec?.['deleteOption']).toMatchObject({ propagationPolicy: 'SelectivelyOrphan' });
    expect(JSON.stringify(work.spec?.['manifestConfigs'])).toContain('.status.conditions');
  });
});
