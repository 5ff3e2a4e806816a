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
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_OPERATOR = 'capp-operator';
export const ANNOTATION_LAST_UPDATED_BY = 'rcs.dana.io/last-updated-by';

/** Annotation prefixes that belong to the platform or to kubectl and are never copied onto children. */
export const NON_PROPAGATED_ANNOTATION_PREFIXES = ['rcs.dana.io/', 'kubectl.kubernetes.io/'] as const;

export const CONDITION_READY = 'Ready';
export const CONDITION_KNATIVE_SERVICE_READY = 'KnativeServiceReady';
export const CONDITION_ROUTE_READY = 'RouteReady';
export const CONDITION_LOGGING_READY = 'LoggingReady';
export const CONDITION_VOLUMES_READY = 'VolumesReady';

export const DEFAULT_SCALE_METRIC = 'concurrency';
export const DEFAULT_STATE = 'enabled';

/** The API's BullMQ queue that applies stored Capps to the cluster (Redis keys `<prefix>:capp-sync:…`). */
export const CAPP_SYNC_QUEUE = 'capp-sync';
