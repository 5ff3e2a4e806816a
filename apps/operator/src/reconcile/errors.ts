import { ConflictError, isPermanent, KubeApiError, KubeUnreachableError } from '@capp/kube';

/**
 * Why a reconcile failed, as the `reason` label of `capp_reconcile_errors_total`:
 * - `ChildRejected`: the API server (or an admission webhook) refused a child; reported in status,
 *   not retried — the Capp must change first;
 * - `Rejected`: a write of the Capp itself (finalizer, status) was refused; not retried;
 * - `Conflict`: someone else changed an object meanwhile; retried;
 * - `Forbidden`: the operator lacks RBAC for something; retried (RBAC may be fixed);
 * - `Unreachable`: the API server could not be reached; retried;
 * - `Transient`: a server-side failure (5xx, 429, a missing namespace or CRD); retried;
 * - `ChildrenTerminating`: a deleted Capp's children are still going away; retried;
 * - `TraitFailed`: the Capp's traits could not be applied (a conflict, a missing trait, bad
 *   properties: reported in status, not retried; a failed `processing.http`: retried);
 * - `Internal`: anything else (a bug); retried.
 */
export type ReconcileReason =
  | 'ChildRejected'
  | 'Rejected'
  | 'Conflict'
  | 'Forbidden'
  | 'Unreachable'
  | 'Transient'
  | 'ChildrenTerminating'
  | 'TraitFailed'
  | 'Internal';

export const RECONCILE_REASONS: readonly ReconcileReason[] = [
  'ChildRejected',
  'Rejected',
  'Conflict',
  'Forbidden',
  'Unreachable',
  'Transient',
  'ChildrenTerminating',
  'TraitFailed',
  'Internal',
];

/** A failed reconcile with its reason; `retryable: false` is controller-runtime's terminal error. */
export class ReconcileError extends Error {
  override readonly name = 'ReconcileError';
  constructor(
    readonly reason: ReconcileReason,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** The reason of any error a reconcile may throw. */
export function reasonOf(err: unknown): ReconcileReason {
  if (err instanceof ReconcileError) return err.reason;
  if (err instanceof ConflictError) return 'Conflict';
  if (err instanceof KubeUnreachableError) return 'Unreachable';
  if (err instanceof KubeApiError) {
    if (err.statusCode === 403) return 'Forbidden';
    if (isPermanent(err)) return 'Rejected';
    return 'Transient';
  }
  return 'Internal';
}

/** Whether the work queue should try again with backoff (permanent refusals wait for a change). */
export function isRetryable(err: unknown): boolean {
  if (err instanceof ReconcileError) return err.retryable;
  const reason = reasonOf(err);
  return reason !== 'Rejected';
}

/** `<status> <reason>: <message>` for API answers, else the message. */
export function errorMessage(err: unknown): string {
  if (err instanceof KubeApiError) return `${err.statusCode} ${err.reason}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
