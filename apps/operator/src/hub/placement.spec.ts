import type { Capp } from '@capp/capp-model';

import { ANNOTATION_HAS_PLACEMENT, ANNOTATION_PLACED_FOR_SITE } from './ocm';
import { decidePlacement, type PlacementView } from './placement';

const view = (placements: Record<string, string[]>, clusters: string[]): PlacementView => ({
  placementExists: (name) => name in placements,
  decisions: (name) => placements[name] ?? [],
  clusterExists: (name) => clusters.includes(name),
});

const capp = (site?: string, annotations?: Record<string, string>, name = 'app'): Capp => ({
  apiVersion: 'rcs.dana.io/v1alpha1',
  kind: 'Capp',
  metadata: { name, namespace: 'team', ...(annotations ? { annotations } : {}) },
  spec: { configurationSpec: { template: { spec: { containers: [] } } }, ...(site ? { site } : {}) },
});

describe('decidePlacement', () => {
  const world = view({ 'capp-default': ['c1', 'c2'], west: ['c1'], empty: [] }, ['c1', 'c2', 'west']);

  it.each([
    ['a site naming a ManagedCluster', capp('c2'), { placed: true, cluster: 'c2', via: 'cluster' }],
    [
      'a site naming a Placement (which wins over a cluster of the same name)',
      capp('west'),
      { placed: true, cluster: 'c1', via: 'placement', placement: 'west' },
    ],
    ['a site naming nothing', capp('atlantis'), { placed: false, reason: 'SiteNotFound' }],
    ['a Placement with no decision', capp('empty'), { placed: false, reason: 'NoPlacementDecision' }],
    [
      'a decision recorded for the same site',
      capp('c2', { [ANNOTATION_HAS_PLACEMENT]: 'c1', [ANNOTATION_PLACED_FOR_SITE]: 'c2' }),
      { placed: true, cluster: 'c1', via: 'recorded' },
    ],
    [
      "rcs-ocm-deployer's decision (no site recorded)",
      capp('c2', { [ANNOTATION_HAS_PLACEMENT]: 'c1' }),
      { placed: true, cluster: 'c1', via: 'recorded' },
    ],
    [
      'a decision recorded for another site',
      capp('c2', { [ANNOTATION_HAS_PLACEMENT]: 'c1', [ANNOTATION_PLACED_FOR_SITE]: 'c1' }),
      { placed: true, cluster: 'c2', via: 'cluster' },
    ],
  ])('places %s', (_, c, want) => {
    expect(decidePlacement(c, 'capp-default', world)).toMatchObject(want);
  });

  it('takes the default Placement for an empty site, and spreads Capps over its clusters stably', () => {
    const picks = Array.from({ length: 200 }, (_, i) =>
      decidePlacement(capp(undefined, undefined, `a${i}`), 'capp-default', world),
    );
    const counts = new Map<string, number>();
    for (const p of picks) {
      expect(p).toMatchObject({ placed: true, via: 'placement', placement: 'capp-default' });
      if (p.placed) counts.set(p.cluster, (counts.get(p.cluster) ?? 0) + 1);
    }
    expect(counts.get('c1')).toBeGreaterThan(60);
    expect(counts.get('c2')).toBeGreaterThan(60);
    expect(decidePlacement(capp(undefined, undefined, 'a7'), 'capp-default', world)).toEqual(picks[7]);
  });

  it('says so when the default Placement does not exist', () => {
    expect(decidePlacement(capp(), 'missing', world)).toMatchObject({
      placed: false,
      reason: 'SiteNotFound',
      message: expect.stringContaining('"missing"'),
    });
  });
});
