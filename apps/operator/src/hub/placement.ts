import { createHash } from 'node:crypto';

import type { Capp } from '@capp/capp-model';

import { ANNOTATION_HAS_PLACEMENT, ANNOTATION_PLACED_FOR_SITE } from './ocm';

/** What placing reads: Placements and their decisions in the placements namespace, ManagedClusters. */
export interface PlacementView {
  placementExists(name: string): boolean;
  /** The clusters the Placement's PlacementDecisions name (any order); empty when none yet. */
  decisions(placement: string): string[];
  clusterExists(name: string): boolean;
}

export type Placement =
  | { placed: true; cluster: string; via: 'recorded' | 'cluster' | 'placement'; placement?: string }
  | { placed: false; reason: 'SiteNotFound' | 'NoPlacementDecision'; message: string };

/**
 * Where a hub Capp goes. A decision recorded for the Capp's current `spec.site` (annotation
 * `rcs.dana.io/has-placement`, with ours `rcs.dana.io/placed-for-site`) is kept; a Capp placed by
 * rcs-ocm-deployer, which records no site, keeps its cluster too. Otherwise: an empty site takes the
 * default Placement's decision, a site naming a Placement takes that one's, else a site naming a
 * ManagedCluster is that cluster. Among several decided clusters the Capp takes one by a stable hash
 * of its namespace and name (so Capps spread over them, and a Capp does not move when placed again).
 */
export function decidePlacement(capp: Capp, defaultPlacement: string, view: PlacementView): Placement {
  const site = capp.spec.site ?? '';
  const annotations = capp.metadata.annotations ?? {};
  const recorded = annotations[ANNOTATION_HAS_PLACEMENT];
  const recordedFor = annotations[ANNOTATION_PLACED_FOR_SITE];
  if (recorded && (recordedFor === undefined || recordedFor === site)) {
    // Which Placement decided it, when one did (for the Placed condition's message).
    const by = site === '' ? defaultPlacement : view.placementExists(site) ? site : undefined;
    return { placed: true, cluster: recorded, via: 'recorded', ...(by ? { placement: by } : {}) };
  }
  const placement = site === '' ? defaultPlacement : view.placementExists(site) ? site : undefined;
  if (placement === undefined) {
    if (view.clusterExists(site)) return { placed: true, cluster: site, via: 'cluster' };
    return {
      placed: false,
      reason: 'SiteNotFound',
      message: `site "${site}" names no Placement and no ManagedCluster`,
    };
  }
  if (!view.placementExists(placement)) {
    return {
      placed: false,
      reason: 'SiteNotFound',
      message: `the default Placement "${placement}" does not exist`,
    };
  }
  const clusters = [...new Set(view.decisions(placement))].sort();
  if (clusters.length === 0) {
    return {
      placed: false,
      reason: 'NoPlacementDecision',
      message: `Placement "${placement}" has decided on no cluster yet`,
    };
  }
  const key = `${capp.metadata.namespace}/${capp.metadata.name}`;
  const index = createHash('sha256').update(key).digest().readUInt32BE(0) % clusters.length;
  return { placed: true, cluster: clusters[index], via: 'placement', placement };
}
