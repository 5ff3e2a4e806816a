import type { Logger } from 'pino';

import { errorMessage, isRetryable, reasonOf, type ReconcileReason } from '../reconcile/errors';
import { WorkQueue } from './work-queue';

export interface ControllerOptions {
  concurrency: number;
  /** Every Capp is queued again this often (0 = never). */
  resyncSeconds: number;
}

export interface ControllerMetrics {
  observeReconcile(result: 'success' | 'error', seconds: number): void;
  reconcileError(reason: ReconcileReason): void;
  setQueue(depth: number, inFlight: number): void;
}

/** What a {@link QueueController} needs of its cache. */
export interface CappKeyCache {
  readonly synced: boolean;
  stop(): Promise<void>;
  /** Every Capp the cache holds, as `namespace/name`. */
  cappKeys(): string[];
}

/**
 * The plumbing a controller of Capp keys shares: the work queue (failures logged, reconciles timed
 * into the metrics), the first queueing of every Capp once the caches are synced, the periodic resync
 * and the stop. A subclass starts its cache, reconciles one key, and routes its cache's events.
 */
export abstract class QueueController<C extends CappKeyCache> {
  readonly queue: WorkQueue;
  /** Failures of these reasons are the normal course of things: logged at debug, not as errors. */
  protected readonly waitingReasons: ReadonlySet<ReconcileReason> = new Set();
  private resyncTimer?: NodeJS.Timeout;

  protected constructor(
    protected readonly cache: C,
    private readonly options: ControllerOptions,
    protected readonly logger: Logger,
    private readonly metrics?: ControllerMetrics,
  ) {
    this.queue = new WorkQueue(
      (key) => this.handle(key),
      { concurrency: options.concurrency, retryable: isRetryable },
      (key, err, attempt, retrying) => {
        const [namespace, name] = key.split('/');
        const reason = reasonOf(err);
        const line = { event: 'reconcile-failed', namespace, name, attempt, reason, err: errorMessage(err) };
        if (this.waitingReasons.has(reason)) logger.debug(line, 'waiting; will look again');
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

  /** Starts the caches, waits for their first list, then queues every Capp and starts resync. */
  async start(): Promise<void> {
    await this.startCache();
    this.enqueueAll();
    if (this.options.resyncSeconds > 0) {
      this.resyncTimer = setInterval(() => this.resync(), this.options.resyncSeconds * 1000);
      this.resyncTimer.unref();
    }
  }

  /** Re-queues every Capp (the periodic resync; also SIGUSR1, tests and benchmarks). */
  resync(): void {
    this.enqueueAll();
  }

  /** Stops taking events, drains in-flight reconciles, stops the watches. */
  async stop(): Promise<void> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.queue.shutDown();
    await this.cache.stop();
  }

  cappChanged(key: string): void {
    this.queue.add(key);
  }

  cappDeleted(key: string): void {
    this.queue.forget(key);
  }

  /** Starts the cache with this controller as its listener and waits for its first list. */
  protected abstract startCache(): Promise<void>;

  /** Reconciles the Capp `namespace/name` (its `key`); a throw is retried by the queue. */
  protected abstract reconcile(key: string, namespace: string, name: string): Promise<void>;

  protected enqueueAll(): void {
    for (const key of this.cache.cappKeys()) this.queue.add(key);
  }

  private async handle(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const started = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    this.metrics?.setQueue(this.queue.depth, this.queue.inFlight);
    try {
      await this.reconcile(key, namespace, name);
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
