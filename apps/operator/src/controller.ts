import { Capp, LABEL_MANAGED_BY, LABEL_PARENT_CAPP, MANAGED_BY_OPERATOR } from '@capp/capp-model';
import {
  AUTOSCALE_DEFAULTS_CONFIGMAP,
  CERTIFICATE,
  DNS_CONFIGMAP,
  K8sObject,
  LABEL_PARENT_CAPP_NAMESPACE,
} from '@capp/knative-adapter';
import type { Logger } from 'pino';

import { KubeClient } from './kube/client';
import { Informer, KubeObjectLike, objectKey } from './kube/informer';
import { OwnWrites } from './kube/own-writes';
import { CAPP_TYPE, CHILD_TYPES, CONFIGMAP_TYPE, SECRET_TYPE } from './kube/resources';
import { KubeRest } from './kube/rest';
import { WorkQueue } from './queue/work-queue';
import {
  CappReconciler,
  ObservedState,
  ReconcileEvents,
  ReconcileMetrics,
} from './reconcile/capp-reconciler';

export interface ControllerOptions {
  namespaces: string[];
  operatorNamespace: string;
  concurrency: number;
  resyncSeconds: number;
}

export interface ControllerMetrics extends ReconcileMetrics {
  observeReconcile(result: 'success' | 'error' | 'requeue', seconds: number): void;
  reconcileError(reason: string): void;
  setQueue(depth: number, inFlight: number): void;
}

type CappObject = Capp & KubeObjectLike;

/** Everything but status and bookkeeping: a Capp update that changes none of it needs no reconcile. */
function meaningful(o: KubeObjectLike): string {
  const metadata: Record<string, unknown> = { ...o.metadata };
  delete metadata['resourceVersion'];
  delete metadata['managedFields'];
  return JSON.stringify({ metadata, spec: (o as { spec?: unknown }).spec });
}

/**
 * Wires informers to the work queue and the reconciler: Capp, child, ConfigMap and TLS Secret events
 * become Capp keys; a periodic resync re-queues every Capp.
 */
export class CappController {
  private readonly capps: Informer<CappObject>[];
  private readonly children = new Map<string, Informer<K8sObject & KubeObjectLike>[]>();
  private readonly configMaps: Informer<KubeObjectLike>;
  private readonly secrets: Informer<KubeObjectLike>[];
  readonly queue: WorkQueue;
  private readonly reconciler: CappReconciler;
  private resyncTimer?: NodeJS.Timeout;
  /** What our own writes returned, until their watch events come back (see OwnWrites). */
  private readonly own = new OwnWrites();
  /** Children by the `namespace/name` of their Capp (from labels), maintained by the child informers. */
  private readonly byParent = new Map<string, Map<string, K8sObject & KubeObjectLike>>();
  private started = false;

  constructor(
    private readonly rest: KubeRest,
    client: KubeClient,
    private readonly options: ControllerOptions,
    private readonly logger: Logger,
    events: ReconcileEvents,
    private readonly metrics?: ControllerMetrics,
  ) {
    const scopes: Array<string | undefined> = options.namespaces.length ? options.namespaces : [undefined];
    const onError = (what: string) => (err: unknown) =>
      logger.warn(
        { event: 'watch-error', resource: what, err: err instanceof Error ? err.message : String(err) },
        'watch failed; re-listing',
      );

    this.capps = scopes.map(
      (namespace) =>
        new Informer<CappObject>(
          rest,
          CAPP_TYPE,
          {
            onAdd: (c) => {
              if (!this.own.isEcho(this.idOf(c), c)) this.enqueue(objectKey(c));
            },
            onUpdate: (c, old) => {
              const echo = this.own.isEcho(this.idOf(c), c);
              if (!echo && meaningful(c) !== meaningful(old)) this.enqueue(objectKey(c));
            },
            onDelete: (c) => {
              this.own.forget(this.idOf(c));
              this.queue.forget(objectKey(c));
            },
          },
          { namespace, onError: onError('capps') },
        ),
    );

    const managed = `${LABEL_MANAGED_BY}=${MANAGED_BY_OPERATOR}`;
    for (const type of CHILD_TYPES) {
      const childScopes = type.namespaced ? scopes : [undefined];
      this.children.set(
        this.kindKey(type),
        childScopes.map(
          (namespace) =>
            new Informer<K8sObject & KubeObjectLike>(
              rest,
              type,
              {
                onAdd: (o) => this.childChanged(o, true),
                onUpdate: (o, old) => {
                  if (this.parentKey(old) !== this.parentKey(o)) this.childChanged(old, false);
                  this.childChanged(o, true);
                },
                onDelete: (o) => this.childChanged(o, false),
              },
              { namespace, labelSelector: managed, onError: onError(type.plural) },
            ),
        ),
      );
    }

    const enqueueAllOnConfig = (cm: KubeObjectLike): void => {
      if (cm.metadata.name === AUTOSCALE_DEFAULTS_CONFIGMAP || cm.metadata.name === DNS_CONFIGMAP) {
        if (this.started) {
          logger.info(
            { event: 'config-changed', configMap: cm.metadata.name },
            'platform config changed; re-rendering every Capp',
          );
          this.enqueueAll();
        }
      }
    };
    this.configMaps = new Informer(
      rest,
      CONFIGMAP_TYPE,
      { onAdd: enqueueAllOnConfig, onUpdate: enqueueAllOnConfig, onDelete: enqueueAllOnConfig },
      { namespace: options.operatorNamespace, onError: onError('configmaps') },
    );

    // Certificates' Secrets: metadata only, TLS type only.
    this.secrets = scopes.map(
      (namespace) =>
        new Informer<KubeObjectLike>(
          rest,
          SECRET_TYPE,
          {
            onAdd: (s) => this.enqueueForSecret(s),
            onDelete: (s) => this.enqueueForSecret(s),
          },
          {
            namespace,
            fieldSelector: 'type=kubernetes.io/tls',
            metadataOnly: true,
            onError: onError('secrets'),
          },
        ),
    );

    this.reconciler = new CappReconciler({
      client,
      state: this.state(),
      events,
      metrics,
      logger,
      writes: {
        wrote: (o) => {
          delete o.metadata.managedFields; // as the informers do: nothing here reads it
          this.own.wrote(this.idOf(o), o, this.cached(o)?.metadata.resourceVersion);
        },
      },
    });
    this.queue = new WorkQueue(
      (key) => this.handle(key),
      { concurrency: options.concurrency },
      (key, err, attempt) => {
        const [namespace, name] = key.split('/');
        logger.error(
          {
            event: 'reconcile-failed',
            namespace,
            name,
            attempt,
            err: err instanceof Error ? err.message : String(err),
          },
          'reconcile failed; will retry',
        );
      },
    );
  }

  private get informers(): Informer<KubeObjectLike>[] {
    return [
      ...this.capps,
      ...[...this.children.values()].flat(),
      this.configMaps,
      ...this.secrets,
    ] as Informer<KubeObjectLike>[];
  }

  get synced(): boolean {
    return this.informers.every((i) => i.hasSynced);
  }

  /** Starts the informers, waits for their first list, then queues every Capp and starts resync. */
  async start(): Promise<void> {
    for (const i of this.informers) i.start();
    await Promise.all(this.informers.map((i) => i.waitForSync()));
    this.started = true;
    this.logger.info({ event: 'caches-synced', capps: this.allCapps().length }, 'caches synced; reconciling');
    this.enqueueAll();
    if (this.options.resyncSeconds > 0) {
      this.resyncTimer = setInterval(() => this.resync(), this.options.resyncSeconds * 1000);
      this.resyncTimer.unref();
    }
  }

  /** Re-queues every Capp (the periodic resync; also callable from tests and benchmarks). */
  resync(): void {
    this.logger.debug({ event: 'resync' }, 'periodic resync');
    this.enqueueAll();
  }

  /** Stops taking events, drains in-flight reconciles, stops the watches. */
  async stop(): Promise<void> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.queue.shutDown();
    await Promise.all(this.informers.map((i) => i.stop()));
    this.rest.close();
  }

  private async handle(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const started = process.hrtime.bigint();
    this.metrics?.setQueue(this.queue.depth, this.queue.inFlight);
    try {
      await this.reconciler.reconcile(namespace, name);
      this.metrics?.observeReconcile('success', Number(process.hrtime.bigint() - started) / 1e9);
    } catch (err) {
      this.metrics?.observeReconcile('error', Number(process.hrtime.bigint() - started) / 1e9);
      this.metrics?.reconcileError(err instanceof Error ? err.name : 'unknown');
      throw err;
    } finally {
      this.metrics?.setQueue(this.queue.depth, this.queue.inFlight);
    }
  }

  private enqueue(key: string): void {
    if (this.started) this.queue.add(key);
  }

  private enqueueAll(): void {
    for (const c of this.allCapps()) this.enqueue(objectKey(c));
  }

  /** `namespace/name` of the Capp a child belongs to, from its labels. */
  private parentKey(o: KubeObjectLike): string | undefined {
    const labels = (o.metadata.labels ?? {}) as Record<string, string>;
    const parent = labels[LABEL_PARENT_CAPP];
    const namespace = o.metadata.namespace ?? labels[LABEL_PARENT_CAPP_NAMESPACE];
    return parent && namespace ? `${namespace}/${parent}` : undefined;
  }

  private enqueueParent(o: KubeObjectLike): void {
    const key = this.parentKey(o);
    if (key) this.enqueue(key);
  }

  /** One object across kinds: `apiVersion/kind/[namespace/]name`. */
  private idOf(o: KubeObjectLike): string {
    return `${o.apiVersion}/${o.kind}/${objectKey(o)}`;
  }

  /** The informer cache's copy of an object the reconciler wrote. */
  private cached(o: KubeObjectLike): KubeObjectLike | undefined {
    const kind = { apiVersion: o.apiVersion ?? '', kind: o.kind ?? '' };
    const informers = (
      kind.apiVersion === CAPP_TYPE.apiVersion && kind.kind === CAPP_TYPE.kind
        ? this.capps
        : (this.children.get(this.kindKey(kind)) ?? [])
    ) as Informer<KubeObjectLike>[];
    return this.findIn(informers, o.metadata.namespace, o.metadata.name ?? '');
  }

  /**
   * Keeps the parent → children index (so a reconcile never scans every cache) and queues the parent,
   * unless the event is the echo of the parent's own reconcile.
   */
  private childChanged(o: K8sObject & KubeObjectLike, exists: boolean): void {
    const id = this.idOf(o);
    const echo = exists ? this.own.isEcho(id, o) : (this.own.forget(id), false);
    const parent = this.parentKey(o);
    if (!parent) return;
    let children = this.byParent.get(parent);
    if (exists) {
      if (!children) this.byParent.set(parent, (children = new Map()));
      children.set(id, o);
    } else if (children) {
      children.delete(id);
      if (children.size === 0) this.byParent.delete(parent);
    }
    if (!echo) this.enqueue(parent);
  }

  /** A TLS Secret appeared or went: re-reconcile the Capp whose Certificate names it. */
  private enqueueForSecret(secret: KubeObjectLike): void {
    const cert = this.childCache(CERTIFICATE).find(
      (c) =>
        c.metadata.namespace === secret.metadata.namespace && c.spec?.['secretName'] === secret.metadata.name,
    );
    if (cert) this.enqueueParent(cert);
  }

  private allCapps(): CappObject[] {
    return this.capps.flatMap((i) => i.list());
  }

  private kindKey(k: { apiVersion: string; kind: string }): string {
    return `${k.apiVersion}/${k.kind}`;
  }

  private childCache(kind: { apiVersion: string; kind: string }): Array<K8sObject & KubeObjectLike> {
    return (this.children.get(this.kindKey(kind)) ?? []).flatMap((i) => i.list());
  }

  private findIn<T extends KubeObjectLike>(
    informers: Informer<T>[],
    namespace: string | undefined,
    name: string,
  ): T | undefined {
    for (const i of informers) {
      const hit = i.get(namespace, name);
      if (hit) return hit;
    }
    return undefined;
  }

  private state(): ObservedState {
    return {
      capp: (namespace, name) =>
        this.own.latest(
          this.idOf({ ...CAPP_TYPE, metadata: { namespace, name } }),
          this.findIn(this.capps, namespace, name),
        ) as CappObject | undefined,
      child: (kind, namespace, name) =>
        this.own.latest(
          this.idOf({ ...kind, metadata: { namespace, name } }),
          this.findIn(this.children.get(this.kindKey(kind)) ?? [], namespace, name),
        ) as (K8sObject & KubeObjectLike) | undefined,
      childrenOf: (namespace, name) => [...(this.byParent.get(`${namespace}/${name}`)?.values() ?? [])],
      configMap: (name) =>
        this.configMaps.get(this.options.operatorNamespace, name) as
          { data?: Record<string, string> } | undefined,
      secretExists: (namespace, name) => this.findIn(this.secrets, namespace, name) !== undefined,
    };
  }
}
