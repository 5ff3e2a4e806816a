import { type CappTrait, matchesLabelSelector } from '@capp/capp-model';
import { usesTrait } from '@capp/knative-adapter';
import type { Logger } from 'pino';

import type { CacheListener, ClusterCache } from './cache/cluster-cache';
import { WorkQueue } from './queue/work-queue';
import type { CappReconciler } from './reconcile/capp-reconciler';
import { errorMessage, isRetryable, reasonOf, type ReconcileReason } from './reconcile/errors';

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

/**
 * The event router: what the cache reports becomes Capp keys on the work queue (a child's event queues
 * its parent, a platform ConfigMap's queues every Capp); workers run the reconciler per key; a periodic
 * resync queues every Capp. It holds no state of the cluster itself (that is the {@link ClusterCache}).
 */
export class CappController implements CacheListener {
  readonly queue: WorkQueue;
  private resyncTimer?: NodeJS.Timeout;

  constructor(
    private readonly cache: ClusterCache,
    private readonly reconciler: CappReconciler,
    private readonly options: ControllerOptions,
    private readonly logger: Logger,
    private readonly metrics?: ControllerMetrics,
  ) {
    this.queue = new WorkQueue(
      (key) => this.handle(key),
      { concurrency: options.concurrency, retryable: isRetryable },
      (key, err, attempt, retrying) => {
        const [namespace, name] = key.split('/');
        logger.error(
          {
            event: 'reconcile-failed',
            namespace,
            name,
            attempt,
            reason: reasonOf(err),
            err: errorMessage(err),
          },
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
    await this.cache.start(this);
    this.logger.info(
      { event: 'caches-synced', capps: this.cache.cappKeys().length },
      'caches synced; reconciling',
    );
    this.enqueueAll();
    if (this.options.resyncSeconds > 0) {
      this.resyncTimer = setInterval(() => this.resync(), this.options.resyncSeconds * 1000);
      this.resyncTimer.unref();
    }
  }

  /** Re-queues every Capp (the periodic resync; also SIGUSR1, tests and benchmarks). */
  resync(): void {
    this.logger.debug({ event: 'resync' }, 'periodic resync');
    this.enqueueAll();
  }

  /** Stops taking events, drains in-flight reconciles, stops the watches. */
  async stop(): Promise<void> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.queue.shutDown();
    await this.cache.stop();
  }

  // --- CacheListener

  cappChanged(key: string): void {
    this.queue.add(key);
  }

  cappDeleted(key: string): void {
    this.queue.forget(key);
  }

  childChanged(parentKey: string): void {
    this.queue.add(parentKey);
  }

  configChanged(name: string): void {
    this.logger.info(
      { event: 'config-changed', configMap: name },
      'platform config changed; re-rendering every Capp',
    );
    this.enqueueAll();
  }

  traitChanged(trait: CappTrait, old?: CappTrait): void {
    const name = trait.metadata.name;
    const selectors = [trait, old].flatMap((t) =>
      t?.spec.autoApply ? [t.spec.autoApply.namespaceSelector] : [],
    );
    let queued = 0;
    for (const key of this.cache.cappKeys()) {
      const [namespace, capp] = key.split('/');
      const c = this.cache.capp(namespace, capp);
      const labels = this.cache.namespaceLabels(namespace);
      const reached =
        (c !== undefined && (usesTrait(c, name) || c.status?.traits?.some((t) => t.type === name))) ||
        (labels !== undefined && selectors.some((s) => matchesLabelSelector(s, labels)));
      if (reached) {
        this.queue.add(key);
        queued++;
      }
    }
    this.logger.info(
      { event: 'trait-changed', trait: name, capps: queued },
      'CappTrait changed; re-rendering its Capps',
    );
  }

  namespaceChanged(name: string): void {
    if (!this.cache.traits().some((t) => t.spec.autoApply)) return;
    for (const key of this.cache.cappKeys()) if (key.startsWith(`${name}/`)) this.queue.add(key);
  }

  // --- internals

  private enqueueAll(): void {
    for (const key of this.cache.cappKeys()) this.queue.add(key);
  }

  private async handle(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const started = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    this.metrics?.setQueue(this.queue.depth, this.queue.inFlight);
    try {
      await this.reconciler.reconcile(namespace, name);
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
