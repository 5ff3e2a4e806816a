import type { KubeObject } from '@capp/capp-model';
import type { ResourceType } from '@capp/kube';

/** Open Cluster Management's kinds the hub mode reads and writes (open-cluster-management.io/api v1.2). */
export const MANIFEST_WORK_TYPE: ResourceType = {
  apiVersion: 'work.open-cluster-management.io/v1',
  kind: 'ManifestWork',
  plural: 'manifestworks',
  namespaced: true,
};
export const MANAGED_CLUSTER_TYPE: ResourceType = {
  apiVersion: 'cluster.open-cluster-management.io/v1',
  kind: 'ManagedCluster',
  plural: 'managedclusters',
  namespaced: false,
};
export const PLACEMENT_TYPE: ResourceType = {
  apiVersion: 'cluster.open-cluster-management.io/v1beta1',
  kind: 'Placement',
  plural: 'placements',
  namespaced: true,
};
export const PLACEMENT_DECISION_TYPE: ResourceType = {
  apiVersion: 'cluster.open-cluster-management.io/v1beta1',
  kind: 'PlacementDecision',
  plural: 'placementdecisions',
  namespaced: true,
};
export const OCM_TYPES: readonly ResourceType[] = [
  MANIFEST_WORK_TYPE,
  MANAGED_CLUSTER_TYPE,
  PLACEMENT_TYPE,
  PLACEMENT_DECISION_TYPE,
];

/** Label of a PlacementDecision: the name of its Placement (OCM's `clusterv1beta1.PlacementLabel`). */
export const LABEL_PLACEMENT = 'cluster.open-cluster-management.io/placement';

export { ANNOTATION_HAS_PLACEMENT, ANNOTATION_PLACED_FOR_SITE } from '@capp/capp-model';
/** rcs-ocm-deployer's finalizer on a hub Capp; released by the hub mode once its ManifestWork is gone. */
export const RCS_OCM_DEPLOYER_FINALIZER = 'dana.io/capp-cleanup';
/** rcs-ocm-deployer's annotations on a ManifestWork: the hub Capp it carries. */
export const ANNOTATION_WORK_CAPP_NAME = 'rcs.dana.io/capp-name';
export const ANNOTATION_WORK_CAPP_NAMESPACE = 'rcs.dana.io/capp-namespace';
/** Ours, on a ManifestWork: the hub Capp's generation it carries. */
export const ANNOTATION_WORK_HUB_GENERATION = 'rcs.dana.io/hub-generation';
/** Ours, on a ManifestWork: the hub Capp (`<namespace>.<name>`), what the hub's informer indexes by. */
export const LABEL_WORK_CAPP = 'rcs.dana.io/hub-capp';
/** Ours, on a ManifestWork: what it is (`capp` or `heartbeat`). */
export const LABEL_WORK_ROLE = 'rcs.dana.io/work-role';

/** The per-cluster ManifestWork that reads the managed operator's leader Lease back (liveness). */
export const HEARTBEAT_WORK_NAME = 'capp-heartbeat';

/** rcs-ocm-deployer's ManifestWork name of a Capp: `mw-create-<namespace>-<name>`. */
export function workName(namespace: string, name: string): string {
  return `mw-create-${namespace}-${name}`;
}

/** One status feedback value as the work agent reports it. */
export interface FeedbackValue {
  name: string;
  fieldValue: {
    type: 'Integer' | 'String' | 'Boolean' | 'JsonRaw';
    integer?: number;
    string?: string;
    boolean?: boolean;
    jsonRaw?: string;
  };
}

export interface ManifestCondition {
  resourceMeta: { group?: string; resource?: string; kind?: string; namespace?: string; name?: string };
  statusFeedback?: { values?: FeedbackValue[] };
  conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
}

export type WorkStatus = {
  conditions?: Array<{
    type: string;
    status: string;
    reason?: string;
    message?: string;
    observedGeneration?: number;
  }>;
  resourceStatus?: { manifests?: ManifestCondition[] };
};

export type ManifestWork = KubeObject<Record<string, unknown>, WorkStatus>;

/** The decisions of a PlacementDecision (`status.decisions[].clusterName`). */
export function decisionsOf(pd: KubeObject): string[] {
  const decisions = (pd.status as { decisions?: Array<{ clusterName?: string }> } | undefined)?.decisions;
  return (decisions ?? []).map((d) => d.clusterName ?? '').filter((c) => c !== '');
}

/** A work condition (`Applied`, `Available`, …) that holds for the work's current generation. */
export function workConditionTrue(work: ManifestWork, type: string): boolean {
  const c = work.status?.conditions?.find((x) => x.type === type);
  return (
    c?.status === 'True' &&
    (c.observedGeneration === undefined || c.observedGeneration === work.metadata.generation)
  );
}

/** The feedback values of one manifest of the work, by name. */
export function feedbackOf(
  work: ManifestWork,
  match: { resource: string; namespace?: string; name: string },
): Map<string, FeedbackValue['fieldValue']> {
  const manifest = work.status?.resourceStatus?.manifests?.find(
    (m) =>
      m.resourceMeta.resource === match.resource &&
      m.resourceMeta.name === match.name &&
      (m.resourceMeta.namespace ?? '') === (match.namespace ?? ''),
  );
  return new Map((manifest?.statusFeedback?.values ?? []).map((v) => [v.name, v.fieldValue]));
}
