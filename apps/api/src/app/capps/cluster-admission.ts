import type { ValidationIssue } from '@capp/capp-model';

import type { CappContent } from './capps.repository';

/**
 * Would the cluster accept this Capp? (port) Asked before a write is stored, so that what only the
 * cluster can judge — admission webhooks (the log Secret exists, the hostname is free), policies —
 * is refused up front instead of being stored and failing later. An empty list means "yes", and
 * also "the cluster did not answer in time": the write is then stored and delivered when it can be.
 */
export abstract class ClusterAdmission {
  abstract check(
    namespace: string,
    name: string,
    content: CappContent,
    by: string,
  ): Promise<ValidationIssue[]>;
}
