import type { Capp, CappRevision, CappTrait, KubeObject } from '@capp/capp-model';
import type { ConfigMapLike } from '@capp/knative-adapter';
import type { EventType } from '@capp/kube';

/** What the reconciler reads: the operator's caches, never the API server (see ClusterCache). */
export interface ReadPort {
  capp(namespace: string, name: string): Capp | undefined;
  child(
    kind: { apiVersion: string; kind: string },
    namespace: string | undefined,
    name: string,
  ): KubeObject | undefined;
  /** Children labelled as belonging to this Capp, whatever the inventory says (crash-safe pruning). */
  childrenOf(namespace: string, name: string): KubeObject[];
  configMap(name: string): ConfigMapLike | undefined;
  /** Whether a Secret exists (from a metadata-only cache: the operator never holds Secret data). */
  secretExists(namespace: string, name: string): boolean;
  /**
   * The Capp's CappRevisions (label `rcs.dana.io/cappName`), in no order; undefined when the operator
   * keeps none (turned off, or their CRD is not installed).
   */
  revisionsOf(namespace: string, capp: string): CappRevision[] | undefined;
  /** A CappTrait by name (cluster-scoped). */
  trait(name: string): CappTrait | undefined;
  /** Every CappTrait (to find those auto-applied to a namespace). */
  traits(): CappTrait[];
  /** A Namespace's labels; undefined when it is not known (yet). */
  namespaceLabels(name: string): Record<string, string> | undefined;
}

/** One object the reconciler may delete. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** What the reconciler writes: server-side applies under the operator's field manager, and deletes. */
export interface ClientPort {
  /** Forced server-side apply; returns the live object. */
  apply<T extends KubeObject = KubeObject>(
    obj: KubeObject<unknown, unknown>,
    options?: { subresource?: 'status' },
  ): Promise<T>;
  /** Creates (POST): a ConflictError when the name is taken. */
  create<T extends KubeObject = KubeObject>(obj: KubeObject<unknown, unknown>): Promise<T>;
  /** Deletes in the background; false when it was already gone. */
  delete(ref: ObjectRef): Promise<boolean>;
  /** Reads one object from the API server (not the cache); undefined when it does not exist. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  /** A JSON merge patch (`merge`) or JSON patch (`json`, RFC 6902); returns the live object. */
  patch(ref: ObjectRef, patch: unknown, type: 'merge' | 'json'): Promise<KubeObject>;
}

/** Events on the Capp (best effort: recording one never fails a reconcile). */
export interface EventsPort {
  record(capp: Capp, type: EventType, reason: string, message: string): void;
}

export interface ReconcileMetrics {
  childApplied(kind: string): void;
  childDeleted(kind: string): void;
}
