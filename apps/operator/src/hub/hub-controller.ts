import type { Logger } from 'pino';

import type { ControllerMetrics } from '../controller';
import { WorkQueue } from '../queue/work-queue';
import { errorMessage, isRetryable, reasonOf } from '../reconcile/errors';
import type { HubCache, HubCacheListener } from './hub-cache';
import type { HubReconciler } from './hub-reconciler';

export interface HubControllerOptions {
  concurrency: number;
  /** Every Capp is queued again this often (0 = never). */
  resyncSeconds: number;
}

/**
 * The hub mode's event router: what the hub cache reports becomes Capp keys on the work queue; workers
 * run the hub reconciler per key (with its requested retry delays); a periodic resync queues every Capp.
 */
export class HubController implements HubCacheListener {
  readonly queue: WorkQueue;
  private resyncTimer?: NodeJS.Timeout;

  constructor(
    private readonly cache: HubCache,
    private readonly reconciler: HubReconciler,
    private readonly options: HubControllerOptions,
    private readonly logger: Logger,
    private readonly metrics?: ControllerMetrics,
  ) {
    this.queue = new WorkQueue(
      (key) => this.handle(key),
      { concurrency: options.concurrency, retryable: isRetryable },
      (key, err, attempt, retrying) => {
        const [namespace, name] = key.split('/');
        const reason = reasonOf(err);
        const line = { event: 'reconcile-failed', namespace, name, attempt, reason, err: errorMessage(err) };
        // Waiting for a ManifestWork to go is the normal course of a deletion, not a failure.
        if (reason === 'ChildrenTerminating') logger.debug(line, 'waiting; will look again');
        else
          logger.error(
            line,
            retrying ? 'reconcile failed; will retry' : 'reconcile failed; waiting for a change',
          );
      },
    );
  }

  get synced(): boolean {
    return this.cache.synced;
  }

  async start(): Promise<void> {
    await this.cache.start(this);
    this.logger.info(
      {
        event: 'caches-synced',
        capps: this.cache.cappKeys().length,
        clusters: this.cache.clusterNames().length,
      },
      'hub caches synced; placing',
    );
    this.resync();
    if (this.options.resyncSeconds > 0) {
      this.resyncTimer = setInterval(() => this.resync(), this.options.resyncSeconds * 1000);
      this.resyncTimer.unref();
    }
  }

  resync(): void {
    for (const key of this.cache.cappKeys()) this.queue.add(key);
  }

  async stop(): Promise<void> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.queue.shutDown();
    await this.cache.stop();
  }

  // --- HubCacheListener

  cappChanged(key: string): void {
    this.queue.add(key);
  }

  cappDeleted(key: string): void {
    this.queue.forget(key);
  }

  requeue(keys: Iterable<string>): void {
    for (const key of keys) this.queue.add(key);
  }

  private async handle(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const started = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    this.metrics?.setQueue(this.queue.depth, this.queue.inFlight);
    try {
      const result = await this.reconciler.reconcile(namespace, name);
      if (result) this.queue.addAfter(key, result.requeueAfterMs);
      this.metrics?.observeReconcile('success', seconds());
    } catch (err) {
      this.metrics?.observeReconcile('error', seconds());
      this.metrics?.reconcileError(reasonOf(err));
      throw err;
    } finally {
      this.metrics?.setQueue(this.queue.depth, this.queue.inFlight);
    }
  }
}
