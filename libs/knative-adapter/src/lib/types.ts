import { OwnerReference } from '@capp/capp-model';

/** Metadata of a child object as the adapter renders it (and as the API server returns it). */
export type ChildMeta = {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  generation?: number;
  [key: string]: unknown;
};

/** Any Kubernetes object: what the adapter renders and what the operator observes. */
export type K8sObject<Spec = Record<string, unknown>> = {
  apiVersion: string;
  kind: string;
  metadata: ChildMeta;
  spec?: Spec;
  status?: Record<string, unknown>;
  [key: string]: unknown;
};

/**
 * One child a Capp turns into: a complete Kubernetes object, ready for server-side apply as is
 * (no extra fields, so the CLI can print it for `kubectl apply -f -`). Use `isClusterScoped(child)`
 * to tell the cluster-scoped ones (the CNAMERecord) apart.
 */
export type DesiredChild = K8sObject;

/** What the operator saw of one desired child: the live object, or the API server's rejection. */
export interface ObservedChild {
  object?: K8sObject;
  /** The API server's message when it rejected the apply (validation, admission, conflict…). */
  error?: string;
}
