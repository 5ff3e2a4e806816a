import {
  AnyKubeObject,
  Capp,
  CappRevision,
  CappTrait,
  KubeObject,
  LABEL_CAPP_NAME,
  LABEL_MANAGED_BY,
  MANAGED_BY_OPERATOR,
  RESOURCE_POLICY_CONFIGMAP,
} from '@capp/capp-model';
import {
  AUTOSCALE_DEFAULTS_CONFIGMAP,
  CERTIFICATE,
  CHILD_KINDS,
  ConfigMapLike,
  DNS_CONFIGMAP,
  domainOfTlsSecret,
  parentOf,
  prepareTrait,
} from '@capp/knative-adapter';
import {
  CAPP_REVISION_TYPE,
  CAPP_TRAIT_TYPE,
  CAPP_TYPE,
  CONFIGMAP_TYPE,
  Informer,
  type InformerOptions,
  kindKey,
  type KubeRest,
  NAMESPACE_TYPE,
  objectId,
  objectKey,
  type ResourceType,
  SECRET_TYPE,
} from '@capp/kube';
import type { Logger } from 'pino';

import type { ReadPort } from '../reconcile/ports';
import { OwnWrites } from './own-writes';

/** What the cache tells its listener (the controller's event router); echoes of own writes are not told. */
export interface CacheListener {
  /** A Capp was added or changed in metadata or spec (status-only updates are not told). */
  cappChanged(key: string): void;
  cappDeleted(key: string): void;
  /** A child of this Capp (`namespace/name`) was added, changed or deleted by someone else. */
  childChanged(parentKey: string): void;
  /** One of the platform ConfigMaps changed: every Capp renders differently. */
  configChanged(name: string): void;
  /** A CappTrait was added, changed (spec) or deleted: its users render differently. */
  traitChanged(trait: CappTrait, old?: CappTrait): void;
  /** A Namespace's labels changed: traits auto-applied there may come or go. */
  namespaceChanged(name: string): void;
}

/**
 * Told of every Capp add, change (status too, and our own writes' echoes) and delete: the HealthScope
 * controller follows its members' status through it. `capp` is undefined on delete.
 */
export type CappObserver = (capp: Capp | undefined, old: Capp | undefined) => void;

export interface ClusterCacheOptions {
  /** Watched namespaces; empty = all. */
  namespaces: string[];
  /** Where the platform ConfigMaps live. */
  operatorNamespace: string;
  /** The child kinds to watch (default: every one). */
  childKinds?: readonly ResourceType[];
  /** Watch CappRevisions (the reconciler keeps them); off: `revisionsOf` answers undefined. */
  cappRevisions?: boolean;
}

/** Everything but status and bookkeeping: a Capp update that changes none of it needs no reconcile. */
export function meaningful(o: AnyKubeObject): string {
  const metadata: Record<string, unknown> = { ...o.metadata };
  delete metadata['resourceVersion'];
  delete metadata['managedFields'];
  return JSON.stringify({ metadata, spec: o.spec });
}

/** What the Namespace cache keeps: name and labels (what `autoApply.namespaceSelector` selects on). */
function nameAndLabels(ns: AnyKubeObject): AnyKubeObject {
  const { name, uid, resourceVersion, labels } = ns.metadata;
  return { apiVersion: ns.apiVersion, kind: ns.kind, metadata: { name, uid, resourceVersion, labels } };
}

/** What the Secret cache keeps of a Secret: its identity, nothing else. */
function nameOnly(secret: AnyKubeObject): AnyKubeObject {
  const { name, namespace, uid, resourceVersion } = secret.metadata;
  return {
    apiVersion: secret.apiVersion,
    kind: secret.kind,
    metadata: { name, namespace, uid, resourceVersion },
  };
}

/** `namespace/name` of the Capp a child belongs to, from its labels (either namespace key: see `parentOf`). */
export function parentKey(o: KubeObject): string | undefined {
  const parent = parentOf(o);
  return parent && `${parent.namespace}/${parent.name}`;
}

/**
 * The operator's view of the cluster: informers on Capps, every child kind (by the managed-by label),
 * the platform ConfigMaps and Secrets (name only); the parent → children index, so a reconcile
 * never scans a whole cache; and the operator's own writes until their watch events come back
 * ({@link OwnWrites}). It implements the reconciler's {@link ReadPort}; the write-through client tells
 * it what was written ({@link ClusterCache.wrote}).
 */
export class ClusterCache implements ReadPort {
  private readonly capps: Informer<Capp>[];
  private readonly children = new Map<string, Informer[]>();
  private readonly configMaps: Informer;
  private readonly secrets: Informer[];
  private readonly revisions: Informer<CappRevision>[];
  private readonly traitInformer: Informer<CappTrait>;
  private readonly namespaceInformer: Informer;
  private readonly own = new OwnWrites();
  private readonly byParent = new Map<string, Map<string, KubeObject>>();
  /** `namespace/capp` → its CappRevisions by name (what the informers and our own creates know). */
  private readonly revisionsByCapp = new Map<string, Map<string, CappRevision>>();
  private listener?: CacheListener;
  private readonly cappObservers: CappObserver[] = [];

  constructor(
    rest: KubeRest,
    private readonly options: ClusterCacheOptions,
    logger: Logger,
  ) {
    const scopes: Array<string | undefined> = options.namespaces.length ? options.namespaces : [undefined];
    const onError = (resource: string) => (err: unknown) =>
      logger.warn(
        { event: 'watch-error', resource, err: err instanceof Error ? err.message : String(err) },
        'watch failed; re-listing',
      );
    // A child kind whose CRD is not installed (say, no nfspvc-operator) must neither block the start
    // nor log at every retry: its cache is empty until the kind is served, and a Capp that needs it
    // reports the failed apply in its status. One log line per kind and change, whatever the number
    // of watched namespaces.
    const availability = new Map<string, boolean>();
    const optional = (type: ResourceType): Pick<InformerOptions, 'optional' | 'onAvailability'> => ({
      optional: true,
      onAvailability: (served) => {
        if (availability.get(kindKey(type)) === served) return;
        availability.set(kindKey(type), served);
        if (served)
          logger.info({ event: 'kind-served', resource: type.plural }, 'kind now served; watching it');
        else
          logger.warn(
            { event: 'kind-not-served', resource: type.plural, apiVersion: type.apiVersion },
            'kind not served (CRD not installed?); watching again when it is',
          );
      },
    });

    this.capps = scopes.map(
      (namespace) =>
        new Informer<Capp>(
          rest,
          CAPP_TYPE,
          {
            onAdd: (c) => {
              if (!this.own.isEcho(objectId(c), c)) this.listener?.cappChanged(objectKey(c));
              for (const observe of this.cappObservers) observe(c, undefined);
            },
            onUpdate: (c, old) => {
              const echo = this.own.isEcho(objectId(c), c);
              if (!echo && meaningful(c) !== meaningful(old)) this.listener?.cappChanged(objectKey(c));
              for (const observe of this.cappObservers) observe(c, old);
            },
            onDelete: (c) => {
              this.own.forget(objectId(c));
              this.listener?.cappDeleted(objectKey(c));
              for (const observe of this.cappObservers) observe(undefined, c);
            },
          },
          { namespace, onError: onError('capps') },
        ),
    );

    const managed = `${LABEL_MANAGED_BY}=${MANAGED_BY_OPERATOR}`;
    for (const type of options.childKinds ?? CHILD_KINDS) {
      this.children.set(
        kindKey(type),
        (type.namespaced ? scopes : [undefined]).map(
          (namespace) =>
            new Informer(
              rest,
              type,
              {
                onAdd: (o) => this.childEvent(o, true),
                onUpdate: (o, old) => {
                  if (parentKey(old) !== parentKey(o)) this.childEvent(old, false);
                  this.childEvent(o, true);
                },
                onDelete: (o) => this.childEvent(o, false),
              },
              { namespace, labelSelector: managed, onError: onError(type.plural), ...optional(type) },
            ),
        ),
      );
    }

    const configEvent = (cm: KubeObject): void => {
      const name = cm.metadata.name;
      if (
        name === AUTOSCALE_DEFAULTS_CONFIGMAP ||
        name === DNS_CONFIGMAP ||
        name === RESOURCE_POLICY_CONFIGMAP
      )
        this.listener?.configChanged(name);
    };
    this.configMaps = new Informer(
      rest,
      CONFIGMAP_TYPE,
      { onAdd: configEvent, onUpdate: configEvent, onDelete: configEvent },
      { namespace: options.operatorNamespace, onError: onError('configmaps') },
    );

    // Certificates' Secrets, whatever their type: cert-manager writes kubernetes.io/tls, but a Secret
    // `<fqdn>-tls` of type Opaque (tls.crt, tls.key) serves as well, as container-app-operator v0.3.5
    // accepts. Metadata only, then only the name is kept: the operator never holds Secret data, not
    // even in annotations (kubectl's last-applied-configuration of a Secret holds its data).
    this.secrets = scopes.map(
      (namespace) =>
        new Informer(
          rest,
          SECRET_TYPE,
          { onAdd: (s) => this.secretEvent(s), onDelete: (s) => this.secretEvent(s) },
          { namespace, metadataOnly: true, transform: nameOnly, onError: onError('secrets') },
        ),
    );

    // CappTraits (cluster-scoped; optional: without their CRD a Capp using one reports it missing)
    // and Namespaces (metadata only: their labels select auto-applied traits). A CappTrait's schema
    // and templates are compiled as it arrives (before the caches report synced, for those that
    // exist at start), not by the first reconcile that uses it (see prepareTrait).
    const prepare = (tr: CappTrait): void => {
      const issues = prepareTrait(tr);
      if (issues.length)
        logger.warn(
          {
            event: 'trait-invalid',
            trait: tr.metadata.name,
            issues: issues.map((i) => `${i.path}: ${i.message}`),
          },
          'CappTrait is invalid; the Capps using it will say so',
        );
    };
    this.traitInformer = new Informer<CappTrait>(
      rest,
      CAPP_TRAIT_TYPE,
      {
        onAdd: (tr) => {
          prepare(tr);
          this.listener?.traitChanged(tr);
        },
        onUpdate: (tr, old) => {
          if (JSON.stringify(tr.spec) === JSON.stringify(old.spec)) return;
          prepare(tr);
          this.listener?.traitChanged(tr, old);
        },
        onDelete: (tr) => this.listener?.traitChanged(tr),
      },
      { onError: onError(CAPP_TRAIT_TYPE.plural), ...optional(CAPP_TRAIT_TYPE) },
    );
    this.namespaceInformer = new Informer(
      rest,
      NAMESPACE_TYPE,
      {
        onAdd: (ns) => this.listener?.namespaceChanged(ns.metadata.name),
        onUpdate: (ns, old) => {
          if (JSON.stringify(ns.metadata.labels ?? {}) !== JSON.stringify(old.metadata.labels ?? {}))
            this.listener?.namespaceChanged(ns.metadata.name);
        },
      },
      { metadataOnly: true, transform: nameAndLabels, onError: onError(NAMESPACE_TYPE.plural) },
    );

    // CappRevisions: only to know a Capp's revisions; their events need no reconcile.
    this.revisions = options.cappRevisions
      ? scopes.map(
          (namespace) =>
            new Informer<CappRevision>(
              rest,
              CAPP_REVISION_TYPE,
              {
                onAdd: (r) => this.revisionEvent(r, true),
                onUpdate: (r, old) => {
                  this.revisionEvent(old, false);
                  this.revisionEvent(r, true);
                },
                onDelete: (r) => this.revisionEvent(r, false),
              },
              {
                namespace,
                labelSelector: LABEL_CAPP_NAME,
                onError: onError(CAPP_REVISION_TYPE.plural),
                ...optional(CAPP_REVISION_TYPE),
              },
            ),
        )
      : [];
  }

  private get informers(): Informer<AnyKubeObject>[] {
    return [
      this.traitInformer as unknown as Informer<AnyKubeObject>,
      this.namespaceInformer,
      ...this.capps,
      ...[...this.children.values()].flat(),
      this.configMaps,
      ...this.secrets,
      ...this.revisions,
    ];
  }

  get synced(): boolean {
    return this.informers.every((i) => i.hasSynced);
  }

  /** Starts every informer and resolves once each has listed; events then go to `listener`. */
  async start(listener: CacheListener): Promise<void> {
    for (const i of this.informers) i.start();
    await Promise.all(this.informers.map((i) => i.waitForSync()));
    this.listener = listener;
  }

  async stop(): Promise<void> {
    this.listener = undefined;
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  /** Adds an observer of every Capp event (see {@link CappObserver}). */
  observeCapps(observer: CappObserver): void {
    this.cappObservers.push(observer);
  }

  /** The Capps of one namespace, each the newest of the cache and our own last write. */
  cappsIn(namespace: string): Capp[] {
    return this.capps.flatMap((i) =>
      i
        .list()
        .filter((c) => c.metadata.namespace === namespace)
        .map((c) => this.capp(namespace, c.metadata.name) ?? c),
    );
  }

  /** Every cached Capp (for the `capp_ready` gauge). */
  allCapps(): Capp[] {
    return this.capps.flatMap((i) => i.list());
  }

  /** Every cached Capp's `namespace/name`. */
  cappKeys(): string[] {
    return this.capps.flatMap((i) => i.list().map(objectKey));
  }

  /** The API server's answer to one of our writes: newer than the cache until its echo arrives. */
  wrote(obj: KubeObject): void {
    delete obj.metadata['managedFields']; // as the informers do: nothing here reads it
    if (kindKey(obj) === kindKey(CAPP_REVISION_TYPE)) {
      // Known at once, so the next reconcile does not create it again; its echo changes nothing.
      this.revisionEvent(obj as unknown as CappRevision, true);
      return;
    }
    const id = objectId(obj);
    const cached = this.findIn(this.informersOf(obj), obj.metadata.namespace, obj.metadata.name);
    this.own.wrote(id, obj, cached?.metadata.resourceVersion);
  }

  // --- ReadPort

  capp(namespace: string, name: string): Capp | undefined {
    const id = objectId({ ...CAPP_TYPE, metadata: { namespace, name } });
    return this.own.latest(id, this.findIn(this.capps, namespace, name)) as Capp | undefined;
  }

  child(
    kind: { apiVersion: string; kind: string },
    namespace: string | undefined,
    name: string,
  ): KubeObject | undefined {
    const id = objectId({ ...kind, metadata: { namespace, name } });
    const cached = this.findIn(this.children.get(kindKey(kind)) ?? [], namespace, name);
    return this.own.latest(id, cached) as KubeObject | undefined;
  }

  childrenOf(namespace: string, name: string): KubeObject[] {
    return [...(this.byParent.get(`${namespace}/${name}`)?.values() ?? [])];
  }

  configMap(name: string): ConfigMapLike | undefined {
    return this.configMaps.get(this.options.operatorNamespace, name) as ConfigMapLike | undefined;
  }

  secretExists(namespace: string, name: string): boolean {
    return this.findIn(this.secrets, namespace, name) !== undefined;
  }

  trait(name: string): CappTrait | undefined {
    return this.traitInformer.get(undefined, name);
  }

  traits(): CappTrait[] {
    return this.traitInformer.list();
  }

  namespaceLabels(name: string): Record<string, string> | undefined {
    const ns = this.namespaceInformer.get(undefined, name);
    return ns ? (ns.metadata.labels ?? {}) : undefined;
  }

  revisionsOf(namespace: string, capp: string): CappRevision[] | undefined {
    if (this.revisions.length === 0 || !this.revisions.every((i) => i.isServed)) return undefined;
    return [...(this.revisionsByCapp.get(`${namespace}/${capp}`)?.values() ?? [])];
  }

  // --- internals

  private informersOf(o: { apiVersion: string; kind: string }): Informer<AnyKubeObject>[] {
    return kindKey(o) === kindKey(CAPP_TYPE) ? this.capps : (this.children.get(kindKey(o)) ?? []);
  }

  /** Keeps the parent → children index; tells the listener unless the event echoes our own write. */
  private childEvent(o: KubeObject, exists: boolean): void {
    const id = objectId(o);
    const echo = exists ? this.own.isEcho(id, o) : (this.own.forget(id), false);
    const parent = parentKey(o);
    if (!parent) return;
    let children = this.byParent.get(parent);
    if (exists) {
      if (!children) this.byParent.set(parent, (children = new Map()));
      children.set(id, o);
    } else if (children) {
      children.delete(id);
      if (children.size === 0) this.byParent.delete(parent);
    }
    if (!echo) this.listener?.childChanged(parent);
  }

  private revisionEvent(r: CappRevision, exists: boolean): void {
    const capp = r.metadata.labels?.[LABEL_CAPP_NAME];
    if (!capp) return;
    const key = `${r.metadata.namespace}/${capp}`;
    let revisions = this.revisionsByCapp.get(key);
    if (exists) {
      if (!revisions) this.revisionsByCapp.set(key, (revisions = new Map()));
      revisions.set(r.metadata.name, r);
    } else if (revisions) {
      revisions.delete(r.metadata.name);
      if (revisions.size === 0) this.revisionsByCapp.delete(key);
    }
  }

  /** A TLS Secret appeared or went: the Capp whose Certificate (named after its domain) names it renders differently. */
  private secretEvent(secret: KubeObject): void {
    const { namespace, name } = secret.metadata;
    const domain = domainOfTlsSecret(name);
    const cert = domain === undefined ? undefined : this.child(CERTIFICATE, namespace, domain);
    const parent = cert?.spec?.['secretName'] === name ? parentKey(cert) : undefined;
    if (parent) this.listener?.childChanged(parent);
  }

  private findIn<T extends AnyKubeObject>(
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
}
