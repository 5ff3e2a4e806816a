import { KubeObject } from '@capp/capp-model';

/**
 * One child a Capp turns into: a complete Kubernetes object, ready for server-side apply as is
 * (no extra fields, so the CLI can print it for `kubectl apply -f -`). Use `isClusterScoped(child)`
 * to tell the cluster-scoped ones (the CNAMERecord) apart.
 */
export type DesiredChild = KubeObject;

/** What the operator saw of one desired child: the live object, or the API server's rejection. */
export interface ObservedChild {
  object?: KubeObject;
  /** The API server's message when it rejected the apply (validation, admission, conflict…). */
  error?: string;
  /** The condition reason for `error` (default ApplyFailed, "rejected by the API server"). */
  reason?: string;
}
