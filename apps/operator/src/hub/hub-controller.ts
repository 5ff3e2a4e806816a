import type { Logger } from 'pino';

import { type ControllerMetrics, type ControllerOptions, QueueController } from '../queue/queue-controller';
import type { ReconcileReason } from '../reconcile/errors';
import type { HubCache, HubCacheListener } from './hub-cache';
import type { HubReconciler } from './hub-reconciler';

/**
 * The hub mode's event router: what the hub cache reports becomes Capp keys on the work queue; workers
 * run the hub reconciler per key (with its requested retry delays); a periodic resync queues every Capp.
 */
export class HubController extends QueueController<HubCache> implements HubCacheListener {
  /** Waiting for a ManifestWork to go is the normal course of a deletion, not a failure. */
  protected override readonly waitingReasons = new Set<ReconcileReason>(['ChildrenTerminating']);

  constructor(
    cache: HubCache,
    private readonly reconciler: HubReconciler,
    options: ControllerOptions,
    logger: Logger,
    metrics?: ControllerMetrics,
  ) {
    super(cache, options, logger, metrics);
  }

  // --- HubCacheListener

  requeue(keys: Iterable<string>): void {
    for (const key of keys) this.queue.add(key);
  }

  // --- internals

  protected override async startCache(): Promise<void> {
    await this.cache.start(this);
    this.logger.info(
      {
        event: 'caches-synced',
        capps: this.cache.cappKeys().length,
        clusters: this.cache.clusterNames().length,
      },
      'hub caches synced; placing',
    );
  }

  protected override async reconcile(key: string, namespace: string, name: string): Promise<void> {
    const result = await this.reconciler.reconcile(namespace, name);
    if (result) this.queue.addAfter(key, result.requeueAfterMs);
  }
}
