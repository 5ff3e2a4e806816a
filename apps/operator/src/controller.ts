import { type CappTrait, matchesLabelSelector } from '@capp/capp-model';
import { usesTrait } from '@capp/knative-adapter';
import type { Logger } from 'pino';

import type { CacheListener, ClusterCache } from './cache/cluster-cache';
import { type ControllerMetrics, type ControllerOptions, QueueController } from './queue/queue-controller';
import type { CappReconciler } from './reconcile/capp-reconciler';

/**
 * The event router: what the cache reports becomes Capp keys on the work queue (a child's event queues
 * its parent, a platform ConfigMap's queues every Capp); workers run the reconciler per key; a periodic
 * resync queues every Capp. It holds no state of the cluster itself (that is the {@link ClusterCache}).
 */
export class CappController extends QueueController<ClusterCache> implements CacheListener {
  constructor(
    cache: ClusterCache,
    private readonly reconciler: CappReconciler,
    options: ControllerOptions,
    logger: Logger,
    metrics?: ControllerMetrics,
  ) {
    super(cache, options, logger, metrics);
  }

  override resync(): void {
    this.logger.debug({ event: 'resync' }, 'periodic resync');
    super.resync();
  }

  // --- CacheListener

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

  protected override async startCache(): Promise<void> {
    await this.cache.start(this);
    this.logger.info(
      { event: 'caches-synced', capps: this.cache.cappKeys().length },
      'caches synced; reconciling',
    );
  }

  protected override async reconcile(_key: string, namespace: string, name: string): Promise<void> {
    await this.reconciler.reconcile(namespace, name);
  }
}
