import type { ValidationIssue } from '@capp/capp-model';
import type { Logger } from 'pino';

import type { CappContent } from '../../app/capps/capps.repository';
import { ClusterAdmission } from '../../app/capps/cluster-admission';
import { withTimeout } from '../../common/async';
import { cappObject, ClusterError, KubeGateway } from './kube.gateway';

/** ClusterAdmission by server-side apply with `dryRun=All`: validation, webhooks and policies run, nothing is stored. */
export class KubeClusterAdmission extends ClusterAdmission {
  constructor(
    private readonly kube: KubeGateway,
    /** How long a write waits for the dry run before it is accepted anyway (ADMISSION_TIMEOUT_MS). */
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {
    super();
  }

  async check(namespace: string, name: string, content: CappContent, by: string): Promise<ValidationIssue[]> {
    try {
      await withTimeout(
        this.kube.applyCapp(cappObject(namespace, name, content, by), { dryRun: true }),
        this.timeoutMs,
        'dry run',
      );
      return [];
    } catch (err) {
      if (err instanceof ClusterError && err.permanent) {
        const causes = err.causes.filter((c) => c.message);
        return causes.length
          ? causes.map((c) => ({
              path: c.field ?? '',
              rule: c.reason ?? 'cluster',
              message: c.message ?? '',
            }))
          : [{ path: '', rule: 'cluster', message: err.message }];
      }
      this.logger.debug(
        { namespace, name, err: (err as Error).message },
        'dry run not answered; accepting the write',
      );
      return [];
    }
  }
}
