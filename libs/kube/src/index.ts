export type { ApplyOptions, KubeClientOptions, ListOptions, ObjectList, PatchType } from './lib/client';
export { KubeClient } from './lib/client';
export type { Connection, CredentialOptions, Impersonation, KubeTarget } from './lib/credentials';
export { KubeCredentials } from './lib/credentials';
export type { StatusCause, StatusDetails } from './lib/errors';
export {
  apiError,
  ConflictError,
  GoneError,
  InvalidError,
  isConflict,
  isNotFound,
  isPermanent,
  KubeApiError,
  KubeUnreachableError,
  NotFoundError,
} from './lib/errors';
export type { EventRecorderOptions, EventSubject, EventType } from './lib/events';
export { EventRecorder, MAX_MESSAGE_LENGTH } from './lib/events';
export type { InformerHandlers, InformerOptions } from './lib/informer';
export { Informer } from './lib/informer';
export type { LeaderCallbacks, LeaderElectionOptions, Lease, LeaseSpec } from './lib/leader-election';
export { formatMicroTime, LeaderElector, LeaseNamespaceMissingError } from './lib/leader-election';
// Defined in the domain model (knative-adapter's child kinds are ResourceTypes); re-exported for the client's users.
export type { ResourceType } from '@capp/capp-model';
export {
  BUILTIN_TYPES,
  CAPP_REVISION_TYPE,
  CAPP_TRAIT_TYPE,
  CAPP_TYPE,
  CONFIGMAP_TYPE,
  CRD_TYPE,
  EVENT_TYPE,
  HEALTHSCOPE_TYPE,
  kindKey,
  LEASE_TYPE,
  NAMESPACE_TYPE,
  objectId,
  objectKey,
  resourcePath,
  ResourceTypes,
  SECRET_TYPE,
  SELF_SUBJECT_REVIEW_TYPE,
  MUTATING_WEBHOOK_CONFIGURATION_TYPE,
  VALIDATING_WEBHOOK_CONFIGURATION_TYPE,
  SERVICE_ACCOUNT_TYPE,
  SUBJECT_ACCESS_REVIEW_TYPE,
  TOKEN_REVIEW_TYPE,
} from './lib/resources';
export type { Query, RawResponse, RequestCounts, RequestOptionsIn, WatchEvent } from './lib/rest';
export { KubeRest } from './lib/rest';
