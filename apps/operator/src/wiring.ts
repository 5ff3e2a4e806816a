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
import { CappController } from './controller';
import { type HealthMetrics, HealthScopeController } from './health/healthscope-controller';
import { HubCache } from './hub/hub-cache';
import { HubController } from './hub/hub-controller';
import { HubReconciler } from './hub/hub-reconciler';
import type { HeartbeatLease } from './hub/manifest-work';
import { OCM_TYPES } from './hub/ocm';
import type { HealthSources } from './observability/metrics';
import type { ControllerMetrics } from './queue/queue-controller';
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
  /** Evaluate HealthScopes (default true). */
  healthScopes?: boolean;
  /** HealthScope probes in flight at once (default 16). */
  probeConcurrency?: number;
  /** Hosts traits' `processing.http` may GET from (default none). */
  traitHttpAllowedHosts?: string[];
}

/** What the operator's metrics take (OperatorMetrics is one). */
export type OperatorMetricsPort = ControllerMetrics &
  ReconcileMetrics &
  HealthMetrics & { watchHealth(sources: HealthSources): void };

export interface Operator {
  cache: ClusterCache;
  controller: CappController;
  reconciler: CappReconciler;
  client: KubeClient;
  /** Undefined when turned off (`healthScopes: false`). */
  healthScopes?: HealthScopeController;
  /** Starts the Capp controller, then the HealthScope controller (they share the caches). */
  start(): Promise<void>;
  stop(): Promise<void>;
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
  metrics?: OperatorMetricsPort,
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
    fieldManager: FIELD_MANAGER,
    read: cache,
    client: writeThrough(client, cache),
    events: eventsPort(recorder, logger),
    metrics,
    logger,
    traitHttp: new TraitHttpClient({ allowedHosts: options.traitHttpAllowedHosts ?? [], logger }),
  });
  const controller = new CappController(cache, reconciler, options, logger, metrics);
  const healthScopes =
    options.healthScopes === false
      ? undefined
      : new HealthScopeController(
          rest,
          cache,
          recorder,
          { namespaces: options.namespaces, probeConcurrency: options.probeConcurrency },
          logger.child({ part: 'healthscope' }),
          metrics,
        );
  metrics?.watchHealth({
    scopes: () => healthScopes?.snapshots() ?? [],
    capps: () => cache.allCapps(),
  });
  return {
    cache,
    controller,
    reconciler,
    client,
    healthScopes,
    start: async () => {
      await controller.start();
      await healthScopes?.start();
    },
    stop: async () => {
      await healthScopes?.stop();
      await controller.stop();
    },
  };
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
    get: (ref) => client.get(client.types.of(ref), ref.namespace, ref.name),
    patch: async (ref, patch, type) => {
      const written = await client.patch(client.types.of(ref), ref.namespace, ref.name, patch, { type });
      cache.wrote(written);
      return written;
    },
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

export interface HubOperatorOptions {
  /** Watched namespaces of Capps; empty = all. */
  namespaces: string[];
  concurrency: number;
  resyncSeconds: number;
  placementsNamespace: string;
  defaultPlacement: string;
  clusterHeartbeatLease: HeartbeatLease;
  clusterHeartbeatTimeoutSeconds: number;
  /** How long an unplaceable Capp waits before it is tried again (default 30 s). */
  retryUnplacedMs?: number;
  identity?: string;
}

export interface HubOperator {
  cache: HubCache;
  controller: HubController;
  reconciler: HubReconciler;
  client: KubeClient;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The hub mode's parts (docs/adr/0011): hub cache → router → work queue → hub reconciler, which places
 * each Capp on a managed cluster and carries it there in an Open Cluster Management ManifestWork.
 */
export function createHubOperator(
  rest: KubeRest,
  options: HubOperatorOptions,
  logger: Logger,
  metrics?: ControllerMetrics,
): HubOperator {
  const client = new KubeClient(rest, { fieldManager: FIELD_MANAGER, types: OCM_TYPES });
  const cache = new HubCache(
    rest,
    {
      namespaces: options.namespaces,
      placementsNamespace: options.placementsNamespace,
      heartbeatTimeoutMs: options.clusterHeartbeatTimeoutSeconds * 1000,
    },
    logger,
  );
  const recorder = new EventRecorder(rest, { component: FIELD_MANAGER, host: options.identity });
  const reconciler = new HubReconciler({
    cache,
    client: directClient(client),
    events: eventsPort(recorder, logger),
    logger,
    defaultPlacement: options.defaultPlacement,
    heartbeatLease: options.clusterHeartbeatLease,
    retryUnplacedMs: options.retryUnplacedMs ?? 30_000,
  });
  const controller = new HubController(cache, reconciler, options, logger, metrics);
  return {
    cache,
    controller,
    reconciler,
    client,
    start: () => controller.start(),
    stop: () => controller.stop(),
  };
}

/** The client port straight onto the API server (the hub cache needs no word of our writes). */
function directClient(client: KubeClient): ClientPort {
  return writeThrough(client, { wrote: () => undefined });
}
