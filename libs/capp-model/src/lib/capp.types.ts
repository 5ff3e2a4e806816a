/** TypeScript shape of the Capp resource (`rcs.dana.io/v1alpha1`); the schema in `capp.schema.ts` validates it. */
import type { ResourcePolicy } from './resource-policy';

export type ScaleMetric = 'concurrency' | 'rps' | 'cpu' | 'memory';
export type CappState = 'enabled' | 'disabled';
export type LogType = 'elastic' | 'splunk';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface Container {
  name?: string;
  image?: string;
  [key: string]: unknown;
}

/** A Kubernetes PodSpec plus Knative's revision fields; fields we do not interpret are passed through. */
export interface RevisionSpec {
  containers: Container[];
  containerConcurrency?: number;
  timeoutSeconds?: number;
  volumes?: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export interface ConfigurationSpec {
  template: {
    metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: RevisionSpec;
  };
}

export interface TrafficTarget {
  tag?: string;
  revisionName?: string;
  configurationName?: string;
  latestRevision?: boolean;
  percent?: number;
  url?: string;
}

export interface RouteSpec {
  hostname?: string;
  tlsEnabled?: boolean;
  routeTimeoutSeconds?: number;
  trafficTarget?: TrafficTarget;
}

export interface LogSpec {
  type?: LogType;
  host?: string;
  index?: string;
  user?: string;
  passwordSecret?: string;
  hecTokenSecret?: string;
}

export interface NfsVolume {
  name: string;
  server: string;
  path: string;
  capacity: { storage: string | number };
}

export interface CappSpec {
  configurationSpec: ConfigurationSpec;
  scaleMetric?: ScaleMetric;
  minReplicas?: number;
  maxReplicas?: number;
  state?: CappState;
  routeSpec?: RouteSpec;
  logSpec?: LogSpec;
  site?: string;
  volumesSpec?: { nfsVolumes?: NfsVolume[] };
  resourcePolicy?: ResourcePolicy;
  /** Patch traits (CappTraits by name), applied in list order to the rendered children (DESIGN §8). */
  traits?: CappTraitRef[];
}

/** One trait a Capp uses: the CappTrait's name and its properties (checked against its `parameters`). */
export interface CappTraitRef {
  type: string;
  properties?: Record<string, unknown>;
}

/** A trait in effect on a Capp, as its status reports it. */
export interface AppliedTrait {
  type: string;
  /** The CappTrait's generation that was applied. */
  generation?: number;
  /** A change of this trait restarts pods. */
  podDisruptive?: boolean;
  /** Reached the Capp through `autoApply.namespaceSelector`, not `spec.traits`. */
  autoApplied?: boolean;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** One child the operator applied: the inventory used for pruning and deletion. */
export interface ManagedResource {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** Hash of the render last applied (`rcs.dana.io/applied-hash`). */
  hash?: string;
  /** The Capp generation it was last applied at. */
  generation?: number;
  /** Its garbage-collection strategy, when not the default `onUpdate`. */
  strategy?: string;
}

/** The Knative Service's whole `status`, as container-app-operator v0.3.5 embeds it. */
export interface KnativeObjectStatus {
  url?: string;
  latestReadyRevisionName?: string;
  latestCreatedRevisionName?: string;
  conditions?: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

/** A child's `status` as its own controller wrote it (embedded whole, as v0.3.5 does). */
export type ForeignStatus = Record<string, unknown>;

export interface ChildStatus {
  /** `apiVersion/kind/name` of the child this part reports on, when it exists. */
  resources?: Array<{ kind: string; name: string; ready: ConditionStatus; message?: string }>;
  [key: string]: unknown;
}

/** Ours (`hostname`, `domainMappingUrl`, `tlsSecretName`, `resources`) and v0.3.5's (`…ObjectStatus`). */
export interface RouteStatus extends ChildStatus {
  hostname?: string;
  domainMappingUrl?: string;
  tlsSecretName?: string;
  /** The DomainMapping's status (its `url` is the custom domain's). */
  domainMappingObjectStatus?: ForeignStatus;
  dnsRecordObjectStatus?: { cnameRecordObjectStatus?: ForeignStatus };
  certificateObjectStatus?: ForeignStatus;
}

/**
 * Ours (`type`, `resources`) and v0.3.5's: each logging child's status under its kind in lower case
 * (`flow`, `output`; v0.3.5's `syslogngflow`, `syslogngoutput`), and its `LoggingIsReady` condition.
 */
export interface LoggingStatus extends ChildStatus {
  type?: LogType;
  conditions?: Condition[];
}

/** Ours (`resources`) and v0.3.5's `nfsVolumesStatus`: per volume, its NfsPvc's status. */
export interface VolumesStatus extends ChildStatus {
  nfsVolumesStatus?: Array<{ volumeName: string; nfsPvcStatus?: ForeignStatus }>;
}

export interface CappStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  url?: string;
  knativeObjectStatus?: KnativeObjectStatus;
  routeStatus?: RouteStatus;
  loggingStatus?: LoggingStatus;
  volumesStatus?: VolumesStatus;
  stateStatus?: { state: CappState; lastChange?: string };
  managedResources?: ManagedResource[];
  /** The HealthScopes this Capp is in (the HealthScope controller's field, never the reconciler's). */
  scopes?: Array<{ name: string }>;
  /** The traits in effect (the Capp's own, then those auto-applied), when there are any. */
  traits?: AppliedTrait[];
  /** Where a hub Capp runs (rcs-ocm-deployer's field; the hub mode writes `site`, the ManagedCluster). */
  applicationLinks?: { site?: string; [key: string]: unknown };
}

/**
 * Any Kubernetes object — rendered, applied, cached, read or written — under the one name this
 * repository gives it. Kind-specific fields beyond `spec`/`status` (a ConfigMap's `data`, an Event's
 * `reason`) are reached through the index signature.
 */
export type KubeObject<Spec = Record<string, unknown>, Status = Record<string, unknown>> = {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { name: string };
  spec?: Spec;
  status?: Status;
  [key: string]: unknown;
};

/** Any object whatever its spec and status types (a generic constraint: a Capp is one). */
export type AnyKubeObject = KubeObject<unknown, unknown>;

/**
 * Where a kind lives in the REST API (`/apis/<group>/<version>[/namespaces/<ns>]/<plural>`). Static:
 * the repository touches a fixed set of kinds, no discovery. libs/kube's client and informers take it;
 * the child kinds of knative-adapter are ones.
 */
export interface ResourceType {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

/** A Capp as stored in the cluster (a type, not an interface, so it is a {@link KubeObject}). */
export type Capp = {
  apiVersion: 'rcs.dana.io/v1alpha1';
  kind: 'Capp';
  metadata: ObjectMeta & { name: string };
  spec: CappSpec;
  status?: CappStatus;
};

/** What a CappRevision keeps of its Capp (v0.3.5's `CappTemplate`; note the key `cappSpec`). */
export interface CappTemplate {
  cappSpec: CappSpec;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** One revision of a Capp (`rcs.dana.io/v1alpha1` CappRevision, in the Capp's namespace). */
export type CappRevision = {
  apiVersion: 'rcs.dana.io/v1alpha1';
  kind: 'CappRevision';
  metadata: ObjectMeta & { name: string };
  spec: { revisionNumber: number; cappTemplate: CappTemplate };
  status?: Record<string, unknown>;
};

/** What a client sends to the REST API (see `cappWriteSchema`). */
export interface CappWrite {
  apiVersion?: 'rcs.dana.io/v1alpha1';
  kind?: 'Capp';
  metadata: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: CappSpec;
}
