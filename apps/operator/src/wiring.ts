import type { KubeObject } from '@capp/capp-model';
import {
  childKindsFor,
  CORE_SERVICE,
  DEFAULT_LOGGING_BACKEND,
  type LoggingBackend,
  TRAIT_OUTPUT_KINDS,
} from '@capp/knative-adapter';
import { EventRecorder, KubeClient, type KubeRest } from '@capp/kube';
import type { Logger } from 'pino';

import { ClusterCache } from './cache/cluster-cache';
import { CappController, type ControllerMetrics } from './controller';
import { CappReconciler } from './reconcile/capp-reconciler';
import type { ClientPort, EventsPort, ReconcileMetrics } from './reconcile/ports';
import { TraitHttpClient } from './reconcile/trait-http';

/** The operator's field manager: what it applies is owned by this name in managedFields. */
export const FIELD_MANAGER = 'capp-operator';

export interface OperatorOptions {
  /** Watched namespaces; empty = all. */
  namespaces: string[];
  operatorNamespace: string;
  concurrency: number;
  resyncSeconds: number;
  /** Keep up to 10 CappRevisions per Capp for kubectl users, as v0.3.5 does (default true). */
  cappRevisions?: boolean;
  /** What a Capp's logSpec becomes (default fluentd: Flow and Output); only its kinds are watched. */
  loggingBackend?: LoggingBackend;
  /** `reportingInstance` of the Events (the pod name); default the host name. */
  identity?: string;
  /** Hosts traits' `processing.http` may GET from (default none). */
  traitHttpAllowedHosts?: string[];
}

export interface Operator {
  cache: ClusterCache;
  controller: CappController;
  reconciler: CappReconciler;
  client: KubeClient;
}

/**
 * A client for the operator's kinds (Capps, CappRevisions, every child kind: those of the other
 * logging backend too, which it prunes after a switch, and what traits may output) under its field manager.
 */
export function operatorClient(rest: KubeRest, fieldManager = FIELD_MANAGER): KubeClient {
  return new KubeClient(rest, { fieldManager, types: TRAIT_OUTPUT_KINDS });
}

/**
 * The operator's parts, wired once for `main.ts`, the integration tests and the benchmark:
 * caches → router → work queue → reconciler → write-through client → caches.
 */
export function createOperator(
  rest: KubeRest,
  options: OperatorOptions,
  logger: Logger,
  metrics?: ControllerMetrics & ReconcileMetrics,
): Operator {
  const client = operatorClient(rest);
  const loggingBackend = options.loggingBackend ?? DEFAULT_LOGGING_BACKEND;
  const cache = new ClusterCache(
    rest,
    {
      ...options,
      childKinds: [...childKindsFor(loggingBackend), CORE_SERVICE],
      cappRevisions: options.cappRevisions ?? true,
    },
    logger,
  );
  const recorder = new EventRecorder(rest, { component: FIELD_MANAGER, host: options.identity });
  const reconciler = new CappReconciler({
    loggingBackend,
    read: cache,
    client: writeThrough(client, cache),
    events: eventsPort(recorder, logger),
    metrics,
    logger,
    traitHttp: new TraitHttpClient({ allowedHosts: options.traitHttpAllowedHosts ?? [], logger }),
  });
  const controller = new CappController(cache, reconciler, options, logger, metrics);
  return { cache, controller, reconciler, client };
}

/** The reconciler's writes, each one told to the cache (its echo then needs no reconcile). */
export function writeThrough(client: KubeClient, cache: Pick<ClusterCache, 'wrote'>): ClientPort {
  return {
    apply: async (obj, options) => {
      const written = await client.apply(obj, { subresource: options?.subresource });
      cache.wrote(written);
      return written as never;
    },
    create: async (obj) => {
      const created = await client.create(obj as KubeObject);
      cache.wrote(created);
      return created as never;
    },
    delete: (ref) => client.delete(client.types.of(ref), ref.namespace, ref.name),
  };
}

/** Events are best effort: a failure to record one is logged, never fails a reconcile. */
export function eventsPort(recorder: EventRecorder, logger: Logger): EventsPort {
  return {
    record: (capp, type, reason, message) => {
      recorder
        .record(capp, type, reason, message)
        .catch((err: unknown) =>
          logger.warn(
            { event: 'event-record-failed', reason, err: err instanceof Error ? err.message : String(err) },
            'could not record event',
          ),
        );
    },
  };
}
