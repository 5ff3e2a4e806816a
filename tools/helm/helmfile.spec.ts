/**
 * helmfile/: the platform's prerequisites, pinned and ordered, its local charts linted, and the
 * ClusterIssuer it renders accepted by the real cert.dana.io CRD (server-side dry run).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { KubeClient } from '@capp/kube';
import { REPO_ROOT } from '@capp/testing';
import { parseAllDocuments } from 'yaml';

import { ChartFixture, FIELD_MANAGER, type Loose, parseYamlStream } from './chart-fixture';

const HELMFILE = join(REPO_ROOT, 'helmfile');
const CLUSTER_ISSUER = {
  apiVersion: 'cert.dana.io/v1alpha1',
  kind: 'ClusterIssuer',
  plural: 'clusterissuers',
  namespaced: false,
};

interface Release {
  name: string;
  namespace: string;
  chart: string;
  version?: string;
  needs?: string[];
}
const releases = (): Release[] => {
  const docs = parseAllDocuments(readFileSync(join(HELMFILE, 'helmfile.yaml'), 'utf8')).map(
    (d) => d.toJS() as { releases?: Release[] },
  );
  return docs.flatMap((d) => d?.releases ?? []);
};

const fx = new ChartFixture();

beforeAll(() => fx.setUp(), 900_000);
afterAll(() => fx.tearDown());

describe('helmfile/ (prerequisites)', () => {
  it('pins every chart, orders the releases, and installs capp-platform last', () => {
    const all = releases();
    expect(all.map((r) => r.name)).toEqual([
      'cert-manager',
      'cert-external-issuer',
      'knative-operator',
      'knative-serving',
      'crossplane',
      'provider-dns',
      'nfspvc-operator',
      'logging-operator',
      'platform-extras',
      'cluster-manager',
      'klusterlet',
      'capp-platform',
    ]);
    for (const r of all) {
      expect(r.version).toMatch(/^v?\d+\.\d+\.\d+$/);
      if (r.chart.startsWith('.')) expect(existsSync(join(HELMFILE, r.chart, 'Chart.yaml'))).toBe(true);
      for (const need of r.needs ?? []) {
        const [ns, name] = need.split('/');
        expect(all.some((x) => x.name === name && x.namespace === ns)).toBe(true);
      }
    }
    expect(all.at(-1)?.needs).toHaveLength(6);
  });

  it('lints its local charts; Knative gets the PVC and emptyDir features', async () => {
    const charts = ['knative-serving', 'platform-extras'].map((c) => join(HELMFILE, 'charts', c));
    expect(await fx.helmRun(['lint', '--strict', ...charts])).toContain(
      '2 chart(s) linted, 0 chart(s) failed',
    );
    const out = await fx.helmRun([
      'template',
      'knative-serving',
      charts[0],
      '--namespace',
      'knative-serving',
    ]);
    const serving = parseAllDocuments(out, { version: '1.1' })[0].toJS() as Loose;
    expect(serving.spec.config.features).toMatchObject({
      'kubernetes.podspec-persistent-volume-claim': 'enabled',
      'kubernetes.podspec-persistent-volume-write': 'enabled',
      'kubernetes.podspec-volumes-emptydir': 'enabled',
    });
  });

  it('renders a ClusterIssuer the real cert.dana.io CRD accepts (server-side dry-run)', async () => {
    const out = await fx.helmRun([
      'template',
      'platform-extras',
      join(HELMFILE, 'charts', 'platform-extras'),
      '--set',
      'certIssuer.apiEndpoint=https://cert-api.example.com',
      '--set',
      'certIssuer.downloadEndpoint=https://cert-api.example.com',
      '--set',
      'certIssuer.allowedDomains[0]=apps.example.com',
    ]);
    const issuer = parseYamlStream(out).find((o) => o.kind === 'ClusterIssuer');
    if (!issuer) throw new Error(`no ClusterIssuer in:\n${out}`);
    // Strict field validation: a field the CRD does not know is an error, not silently dropped.
    const client = new KubeClient(fx.admin.rest, { fieldManager: FIELD_MANAGER, types: [CLUSTER_ISSUER] });
    const accepted = await client.apply(issuer, { dryRun: true });
    expect(accepted.metadata.name).toBe(issuer.metadata.name);
  });
});
