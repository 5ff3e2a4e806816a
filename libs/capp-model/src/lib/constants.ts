export const CAPP_GROUP = 'rcs.dana.io';
export const CAPP_VERSION = 'v1alpha1';
export const CAPP_API_VERSION = `${CAPP_GROUP}/${CAPP_VERSION}` as const;
export const CAPP_KIND = 'Capp' as const;
export const CAPP_PLURAL = 'capps';
export const CAPP_SINGULAR = 'capp';
export const CAPP_SHORT_NAMES = ['capp'] as const;
export const CAPP_CRD_NAME = `${CAPP_PLURAL}.${CAPP_GROUP}`;

/** A Capp's history for kubectl users, as container-app-operator v0.3.5 keeps it (at most 10 per Capp). */
export const CAPP_REVISION_KIND = 'CappRevision' as const;
export const CAPP_REVISION_PLURAL = 'capprevisions';
export const CAPP_REVISION_SINGULAR = 'capprevision';
export const CAPP_REVISION_CRD_NAME = `${CAPP_REVISION_PLURAL}.${CAPP_GROUP}`;
/** Label of a CappRevision: the name of its Capp (v0.3.5's key, which kubectl users select on). */
export const LABEL_CAPP_NAME = 'rcs.dana.io/cappName';

/** Finalizer that guarantees cleanup of children that cannot carry an ownerReference. */
export const CAPP_FINALIZER = 'rcs.dana.io/capp-cleanup';

export const LABEL_PARENT_CAPP = 'rcs.dana.io/parent-capp';
/** Ours: the operator's informers select children by it. */
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_OPERATOR = 'capp-operator';
/**
 * container-app-operator v0.3.5's managed-by label (value `capp`). Every child carries it beside ours,
 * so selectors, dashboards and scripts written for the Go operator keep finding them.
 */
export const LABEL_RCS_MANAGED_BY = 'rcs.dana.io/managed-by';
export const RCS_MANAGED_BY = 'capp';
export const ANNOTATION_LAST_UPDATED_BY = 'rcs.dana.io/last-updated-by';
/** The hub mode's record on a hub Capp of the ManagedCluster it was placed on (rcs-ocm-deployer's key). */
export const ANNOTATION_HAS_PLACEMENT = 'rcs.dana.io/has-placement';
/** The hub mode's record on a hub Capp of the `spec.site` that placement was decided for. */
export const ANNOTATION_PLACED_FOR_SITE = 'rcs.dana.io/placed-for-site';

/**
 * The prefix of the platform's annotations on a Capp. container-app-operator v0.3.5 copies exactly
 * these onto the Knative Service and its revision template (its e2e suite checks that
 * `rcs.dana.io/app-name` reaches the template); so do we, but for {@link PLATFORM_CAPP_ANNOTATIONS}.
 */
export const CAPP_ANNOTATION_PREFIX = 'rcs.dana.io/';
/**
 * Annotations the platform writes on a Capp for its own bookkeeping, never copied onto a child:
 * `last-updated-by` names whoever edited last, so on the template it would roll a new revision when
 * someone else edits anything (v0.3.5 had no such annotation; later Go versions copy no
 * `rcs.dana.io/` annotation at all).
 */
export const PLATFORM_CAPP_ANNOTATIONS: readonly string[] = [ANNOTATION_LAST_UPDATED_BY];
/** Annotation prefixes of kubectl's bookkeeping (the last applied configuration): never copied onto children. */
export const NON_PROPAGATED_ANNOTATION_PREFIXES = ['kubectl.kubernetes.io/'] as const;

export const CONDITION_READY = 'Ready';
export const CONDITION_KNATIVE_SERVICE_READY = 'KnativeServiceReady';
export const CONDITION_ROUTE_READY = 'RouteReady';
export const CONDITION_LOGGING_READY = 'LoggingReady';
export const CONDITION_VOLUMES_READY = 'VolumesReady';

export const DEFAULT_SCALE_METRIC = 'concurrency';
export const DEFAULT_STATE = 'enabled';

/** The API's BullMQ queue that applies stored Capps to the cluster (Redis keys `<prefix>:capp-sync:…`). */
export const CAPP_SYNC_QUEUE = 'capp-sync';

/** HealthScope: the aggregated health of a group of Capps (DESIGN §10). */
export const HEALTHSCOPE_KIND = 'HealthScope' as const;
export const HEALTHSCOPE_PLURAL = 'healthscopes';
export const HEALTHSCOPE_SINGULAR = 'healthscope';
export const HEALTHSCOPE_SHORT_NAMES = ['hs'] as const;
export const HEALTHSCOPE_CRD_NAME = `${HEALTHSCOPE_PLURAL}.${CAPP_GROUP}`;
