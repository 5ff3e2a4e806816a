import type { Logger } from 'pino';

import { EventRecorder } from './kube/events';
import { ReconcileEvents } from './reconcile/capp-reconciler';

/** Events are best effort: a failure to record one is logged, never fails a reconcile. */
export function eventsPort(recorder: EventRecorder, logger: Logger): ReconcileEvents {
  return {
    record: (capp, type, reason, message) => {
      recorder
        .record(
          {
            apiVersion: capp.apiVersion,
            kind: capp.kind,
            metadata: {
              name: capp.metadata.name ?? '',
              namespace: capp.metadata.namespace ?? '',
              uid: capp.metadata.uid,
            },
          },
          type,
          reason,
          message,
        )
        .catch((err: unknown) =>
          logger.warn(
            { event: 'event-record-failed', reason, err: err instanceof Error ? err.message : String(err) },
            'could not record event',
          ),
        );
    },
  };
}
