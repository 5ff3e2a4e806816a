import {
  type AnyKubeObject,
  type Capp,
  type KubeObject,
  LABEL_MANAGED_BY,
  MANAGED_BY_OPERATOR,
} from '@capp/capp-model';
import { CAPP_TYPE, CONFIGMAP_TYPE, Informer, type KubeRest, objectKey, SECRET_TYPE } from '@capp/kube';
import type { Logger } from 'pino';

import { meaningful } from '../cache/cluster-cache';
import type { ClusterReach } from './hub-status';
import { referencesOf } from './manifest-work';
import {
  ANNOTATION_HAS_PLACEMENT,
  ANNOTATION_WORK_CAPP_NAME,
  ANNOTATION_WORK_CAPP_NAMESPACE,
  decisionsOf,
  HEARTBEAT_WORK_NAME,
  LABEL_PLACEMENT,
  LABEL_WORK_ROLE,
  MANAGED_CLUSTER_TYPE,
  MANIFEST_WORK_TYPE,
  type ManifestWork,
  PLACEMENT_DECISION_TYPE,
  PLACEMENT_TYPE,
} from './ocm';
import type { PlacementView } from './placement';

/** What the hub cache tells the hub controller. */
export interface HubCacheListener {
  /** A Capp was added or changed in metadata or spec. */
  cappChanged(key: string): void;
  cappDeleted(key: string): void;
  /** Capps to look at again: their work, a Secret they carry, or where they may go changed. */
  requeue(keys: Iterable<string>): void;
}

export interface HubCacheOptions {
  /** Watched namespaces of Capps (and of the Secrets and ConfigMaps they carry); empty = all. */
  namespaces: string[];
  /** Where Placements and PlacementDecisions are read. */
  placementsNamespace: string;
  /** How long a cluster's heartbeat may stand still before it counts as out of reach. */
  heartbeatTimeoutMs: number;
  /** Default `Date.now`. */
  clock?: () => number;
}

interface Beat {
  value: string;
  changedAt: number;
  stale: boolean;
}

/**
 * The hub mode's view of the hub: informers on Capps, our ManifestWorks (by the managed-by label) in
 * every cluster namespace, ManagedClusters, the Placements and PlacementDecisions of the placements
 * namespace, and the Secrets and ConfigMaps Capps carry along; and each cluster's heartbeat — when its
 * fed-back Lease `renewTime` last moved, by this process's clock (so no clock skew between clusters).
 */
export class HubCache implements PlacementView {
  private readonly capps: Informer<Capp>[];
  private readonly works: Informer<ManifestWork>;
  private readonly clusters: Informer;
  private readonly placements: Informer;
  private readonly decisionInformer: Informer;
  private readonly secrets: Informer[];
  private readonly configMaps: Informer[];
  private readonly beats = new Map<string, Beat>();
  private listener?: HubCacheListener;
  private timer?: NodeJS.Timeout;
  private readonly clock: () => number;

  constructor(
    rest: KubeRest,
    private readonly options: HubCacheOptions,
    logger: Logger,
  ) {
    this.clock = options.clock ?? Date.now;
    const scopes: Array<string | undefined> = options.namespaces.length ? options.namespaces : [undefined];
    const onError = (resource: string) => (err: unknown) =>
      logger.warn(
        { event: 'watch-error', resource, err: err instanceof Error ? err.message : String(err) },
        'watch failed; re-listing',
      );
    this.capps = scopes.map(
      (namespace) =>
        new Informer<Capp>(
          rest,
          CAPP_TYPE,
          {
            onAdd: (c) => this.listener?.cappChanged(objectKey(c)),
            onUpdate: (c, old) => {
              if (meaningful(c) !== meaningful(old)) this.listener?.cappChanged(objectKey(c));
            },
            onDelete: (c) => this.listener?.cappDeleted(objectKey(c)),
          },
          { namespace, onError: onError('capps') },
        ),
    );
    this.works = new Informer<ManifestWork>(
      rest,
      MANIFEST_WORK_TYPE,
      {
        onAdd: (w) => this.workEvent(w),
        onUpdate: (w) => this.workEvent(w),
        onDelete: (w) => this.workEvent(w, true),
      },
      { labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY_OPERATOR}`, onError: onError('manifestworks') },
    );
    const placementsChanged = (): void => this.listener?.requeue(this.unplacedKeys());
    this.clusters = new Informer(
      rest,
      MANAGED_CLUSTER_TYPE,
      {
        onAdd: placementsChanged,
        onUpdate: (c, old) => {
          placementsChanged();
          if (JSON.stringify(c.status?.['conditions']) !== JSON.stringify(old.status?.['conditions']))
            this.listener?.requeue(this.keysOnCluster(c.metadata.name));
        },
        onDelete: placementsChanged,
      },
      { onError: onError('managedclusters') },
    );
    const inPlacements = { namespace: options.placementsNamespace };
    this.placements = new Informer(
      rest,
      PLACEMENT_TYPE,
      { onAdd: placementsChanged, onUpdate: placementsChanged, onDelete: placementsChanged },
      { ...inPlacements, onError: onError('placements') },
    );
    this.decisionInformer = new Informer(
      rest,
      PLACEMENT_DECISION_TYPE,
      { onAdd: placementsChanged, onUpdate: placementsChanged, onDelete: placementsChanged },
      { ...inPlacements, onError: onError('placementdecisions') },
    );
    const carried = (kind: 'secrets' | 'configMaps') => (o: KubeObject) =>
      this.listener?.requeue(this.keysReferencing(kind, o.metadata.namespace ?? '', o.metadata.name));
    const handlers = (kind: 'secrets' | 'configMaps'): Parameters<typeof this.informer>[1] => ({
      onAdd: carried(kind),
      onUpdate: carried(kind),
      onDelete: carried(kind),
    });
    this.secrets = scopes.map((namespace) =>
      this.informer(rest, handlers('secrets'), SECRET_TYPE, namespace, onError('secrets')),
    );
    this.configMaps = scopes.map((namespace) =>
      this.informer(rest, handlers('configMaps'), CONFIGMAP_TYPE, namespace, onError('configmaps')),
    );
  }

  private informer(
    rest: KubeRest,
    handlers: { onAdd(o: KubeObject): void; onUpdate(o: KubeObject): void; onDelete(o: KubeObject): void },
    type: typeof SECRET_TYPE,
    namespace: string | undefined,
    onError: (err: unknown) => void,
  ): Informer {
    return new Informer(rest, type, handlers, { namespace, onError });
  }

  private get all(): Informer<AnyKubeObject>[] {
    return [
      ...this.capps,
      this.works,
      this.clusters,
      this.placements,
      this.decisionInformer,
      ...this.secrets,
      ...this.configMaps,
    ] as Informer<AnyKubeObject>[];
  }

  get synced(): boolean {
    return this.all.every((i) => i.hasSynced);
  }

  async start(listener: HubCacheListener): Promise<void> {
    this.listener = listener;
    for (const i of this.all) i.start();
    await Promise.all(this.all.map((i) => i.waitForSync()));
    const every = Math.max(200, Math.min(5000, this.options.heartbeatTimeoutMs / 4));
    this.timer = setInterval(() => this.checkBeats(), every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.all.map((i) => i.stop()));
  }

  // --- reads

  capp(namespace: string, name: string): Capp | undefined {
    for (const i of this.capps) {
      const c = i.get(namespace, name);
      if (c) return c;
    }
    return undefined;
  }

  cappKeys(): string[] {
    return this.capps.flatMap((i) => i.list().map((c) => objectKey(c)));
  }

  /** Every ManifestWork of this hub Capp, on whichever cluster. */
  worksOf(namespace: string, name: string): ManifestWork[] {
    return this.works
      .list()
      .filter(
        (w) =>
          w.metadata.annotations?.[ANNOTATION_WORK_CAPP_NAMESPACE] === namespace &&
          w.metadata.annotations?.[ANNOTATION_WORK_CAPP_NAME] === name,
      );
  }

  work(cluster: string, name: string): ManifestWork | undefined {
    return this.works.get(cluster, name);
  }

  clusterNames(): string[] {
    return this.clusters.list().map((c) => c.metadata.name);
  }

  secret(namespace: string, name: string): KubeObject | undefined {
    return this.find(this.secrets, namespace, name);
  }

  configMap(namespace: string, name: string): KubeObject | undefined {
    return this.find(this.configMaps, namespace, name);
  }

  placementExists(name: string): boolean {
    return this.placements.get(this.options.placementsNamespace, name) !== undefined;
  }

  decisions(placement: string): string[] {
    return this.decisionInformer
      .list()
      .filter((d) => d.metadata.labels?.[LABEL_PLACEMENT] === placement)
      .flatMap(decisionsOf);
  }

  clusterExists(name: string): boolean {
    return this.clusters.get(undefined, name) !== undefined;
  }

  /**
   * Whether the hub hears from the cluster: its ManagedCluster's `ManagedClusterConditionAvailable`
   * (when OCM's registration sets it) is not False or Unknown, and its heartbeat moved within the
   * timeout. Undefined while neither is known (no heartbeat work yet).
   */
  reach(cluster: string): ClusterReach | undefined {
    const mc = this.clusters.get(undefined, cluster);
    const available = (mc?.status?.['conditions'] as Array<Record<string, string>> | undefined)?.find(
      (c) => c['type'] === 'ManagedClusterConditionAvailable',
    );
    if (available && available['status'] !== 'True') {
      return {
        reachable: false,
        message: `ManagedCluster "${cluster}" is not available (${available['reason'] ?? available['status']}): the conditions shown are the last ones fed back`,
      };
    }
    const beat = this.beats.get(cluster);
    if (!beat) return undefined;
    if (beat.stale) {
      const seconds = Math.round(this.options.heartbeatTimeoutMs / 1000);
      return {
        reachable: false,
        message:
          beat.value === ''
            ? `no heartbeat from cluster "${cluster}" yet: its work agent or Capp operator (leader Lease) is not running; the conditions shown are the last ones fed back`
            : `cluster "${cluster}" has not reported for more than ${seconds}s (its work agent or Capp operator is down, or the hub is out of its reach); the conditions shown are the last ones fed back`,
      };
    }
    return { reachable: true, message: '' };
  }

  // --- internals

  private find(informers: Informer[], namespace: string, name: string): KubeObject | undefined {
    for (const i of informers) {
      const o = i.get(namespace, name);
      if (o) return o;
    }
    return undefined;
  }

  private workEvent(work: ManifestWork, deleted = false): void {
    if (
      work.metadata.labels?.[LABEL_WORK_ROLE] === 'heartbeat' &&
      work.metadata.name === HEARTBEAT_WORK_NAME
    ) {
      this.heartbeat(work.metadata.namespace ?? '', deleted ? undefined : work);
      return;
    }
    const namespace = work.metadata.annotations?.[ANNOTATION_WORK_CAPP_NAMESPACE];
    const name = work.metadata.annotations?.[ANNOTATION_WORK_CAPP_NAME];
    if (namespace && name) this.listener?.requeue([`${namespace}/${name}`]);
  }

  private heartbeat(cluster: string, work: ManifestWork | undefined): void {
    if (!work) {
      this.beats.delete(cluster);
      return;
    }
    const values = [...(work.status?.resourceStatus?.manifests ?? [])].flatMap(
      (m) => m.statusFeedback?.values ?? [],
    );
    const value = values.find((v) => v.name === 'renewTime')?.fieldValue.string ?? '';
    const beat = this.beats.get(cluster);
    if (!beat) {
      // First sight (a new work, or this process just started): give it the whole timeout.
      this.beats.set(cluster, { value, changedAt: this.clock(), stale: false });
      return;
    }
    if (beat.value === value) return;
    beat.value = value;
    beat.changedAt = this.clock();
    if (beat.stale) {
      beat.stale = false;
      this.listener?.requeue(this.keysOnCluster(cluster));
    }
  }

  private checkBeats(): void {
    const now = this.clock();
    for (const [cluster, beat] of this.beats) {
      if (!beat.stale && now - beat.changedAt > this.options.heartbeatTimeoutMs) {
        beat.stale = true;
        this.listener?.requeue(this.keysOnCluster(cluster));
      }
    }
  }

  private keysOnCluster(cluster: string): string[] {
    return this.capps.flatMap((i) =>
      i
        .list()
        .filter((c) => c.metadata.annotations?.[ANNOTATION_HAS_PLACEMENT] === cluster)
        .map((c) => objectKey(c)),
    );
  }

  /** Capps not placed for their current site (so a new Placement, decision or cluster may place them). */
  private unplacedKeys(): string[] {
    return this.capps.flatMap((i) =>
      i
        .list()
        .filter(
          (c) =>
            !c.metadata.annotations?.[ANNOTATION_HAS_PLACEMENT] ||
            !c.status?.conditions?.some((x) => x.type === 'Placed' && x.status === 'True'),
        )
        .map((c) => objectKey(c)),
    );
  }

  private keysReferencing(kind: 'secrets' | 'configMaps', namespace: string, name: string): string[] {
    return this.capps.flatMap((i) =>
      i
        .list()
        .filter((c) => c.metadata.namespace === namespace && referencesOf(c)[kind].includes(name))
        .map((c) => objectKey(c)),
    );
  }
}
