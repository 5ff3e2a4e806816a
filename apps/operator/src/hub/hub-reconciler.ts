import { createHash } from 'node:crypto';

import { canonicalJson, type Capp, CAPP_FINALIZER, type CappStatus, type KubeObject } from '@capp/capp-model';
import type { Logger } from 'pino';

import { ReconcileError } from '../reconcile/errors';
import { finalizerPatch } from '../reconcile/finalizer';
import type { ClientPort, EventsPort } from '../reconcile/ports';
import { applyCappStatus } from '../reconcile/status-write';
import type { HubCache } from './hub-cache';
import { CONDITION_PLACED, hubStatus } from './hub-status';
import { buildHeartbeatWork, buildManifestWork, type HeartbeatLease, referencesOf } from './manifest-work';
import {
  ANNOTATION_HAS_PLACEMENT,
  ANNOTATION_PLACED_FOR_SITE,
  HEARTBEAT_WORK_NAME,
  type ManifestWork,
  RCS_OCM_DEPLOYER_FINALIZER,
  workConditionTrue,
  workName,
} from './ocm';
import { decidePlacement, type Placement } from './placement';

/** Ours, on a ManifestWork: the hash of what we last applied (the server adds defaults to the spec). */
export const ANNOTATION_WORK_HASH = 'rcs.dana.io/work-hash';

/** What the hub reconciler reads: the hub cache (a fake in the table test). */
export type HubReadPort = Pick<
  HubCache,
  | 'capp'
  | 'worksOf'
  | 'work'
  | 'secret'
  | 'configMap'
  | 'reach'
  | 'placementExists'
  | 'decisions'
  | 'clusterExists'
>;

export interface HubReconcilerDeps {
  cache: HubReadPort;
  client: ClientPort;
  events: EventsPort;
  logger: Logger;
  /** The Placement an empty `spec.site` takes. */
  defaultPlacement: string;
  /** The managed operators' leader Lease, read back by each cluster's heartbeat work. */
  heartbeatLease: HeartbeatLease;
  /** How long an unplaceable Capp waits before it is tried again (besides any change that may place it). */
  retryUnplacedMs: number;
  clock?: () => Date;
}

/** What a reconcile asks of the queue: nothing, or another look after a delay. */
export type HubResult = { requeueAfterMs: number } | undefined;

/**
 * The hub mode's reconciler: a hub Capp is not rendered into children but placed on a managed cluster
 * and carried there by a ManifestWork; its status is what comes back. Decisions are taken from the hub
 * cache; writes happen only when something differs.
 */
export class HubReconciler {
  /** The hash of the work last applied, by `cluster/name` (until the cache shows it). */
  private readonly applied = new Map<string, string>();

  constructor(private readonly deps: HubReconcilerDeps) {}

  private now(): string {
    return (this.deps.clock?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  async reconcile(namespace: string, name: string): Promise<HubResult> {
    const capp = this.deps.cache.capp(namespace, name);
    if (!capp) return undefined;
    const log = this.deps.logger.child({ namespace, name, generation: capp.metadata.generation });
    if (capp.metadata.deletionTimestamp) {
      await this.finalize(capp, log);
      return undefined;
    }
    if (!capp.metadata.finalizers?.includes(CAPP_FINALIZER)) {
      await this.deps.client.apply(finalizerPatch(capp, true));
      log.info({ event: 'finalizer-added' }, 'finalizer added');
    }

    const placement = decidePlacement(capp, this.deps.defaultPlacement, this.deps.cache);
    if (!placement.placed) {
      const before = capp.status?.conditions?.find((c) => c.type === CONDITION_PLACED);
      if (before?.reason !== placement.reason || before.message !== placement.message) {
        this.deps.events.record(capp, 'Warning', placement.reason, placement.message);
        log.warn({ event: 'not-placed', reason: placement.reason, err: placement.message }, 'cannot place');
      }
      await this.writeStatus(capp, hubStatus({ capp, placement, now: this.now() }), log);
      return { requeueAfterMs: this.deps.retryUnplacedMs };
    }

    const cluster = placement.cluster;
    await this.record(capp, placement, log);
    await this.ensureHeartbeat(cluster);
    const work = await this.applyWork(capp, cluster, log);
    await this.removeElsewhere(capp, cluster, work, log);
    const status = hubStatus({
      capp,
      placement,
      work,
      reach: this.deps.cache.reach(cluster),
      now: this.now(),
    });
    await this.writeStatus(capp, status, log);
    return undefined;
  }

  /** Records the decision on the Capp (rcs-ocm-deployer's annotation, and the site it was taken for). */
  private async record(capp: Capp, placement: Placement & { placed: true }, log: Logger): Promise<void> {
    const site = capp.spec.site ?? '';
    const annotations = capp.metadata.annotations ?? {};
    if (
      annotations[ANNOTATION_HAS_PLACEMENT] === placement.cluster &&
      annotations[ANNOTATION_PLACED_FOR_SITE] === site
    )
      return;
    await this.deps.client.patch(
      ref(capp),
      {
        metadata: {
          annotations: { [ANNOTATION_HAS_PLACEMENT]: placement.cluster, [ANNOTATION_PLACED_FOR_SITE]: site },
        },
      },
      'merge',
    );
    if (placement.via !== 'recorded') {
      const previous = annotations[ANNOTATION_HAS_PLACEMENT];
      const message =
        previous && previous !== placement.cluster
          ? `Moving Capp "${capp.metadata.name}" from managed cluster "${previous}" to "${placement.cluster}"`
          : `Scheduled Capp "${capp.metadata.name}" on managed cluster "${placement.cluster}"`;
      this.deps.events.record(capp, 'Normal', 'CappScheduled', message);
      log.info({ event: 'placed', cluster: placement.cluster, via: placement.via, from: previous }, message);
    }
  }

  /** The cluster's heartbeat work, applied when missing or different (a deleted one comes back). */
  private async ensureHeartbeat(cluster: string): Promise<void> {
    const desired = buildHeartbeatWork(cluster, this.deps.heartbeatLease);
    await this.applyIfChanged(desired, this.deps.cache.work(cluster, HEARTBEAT_WORK_NAME));
  }

  /** Server-side apply of a work whose content hash differs from the cached one's; undefined when equal. */
  private async applyIfChanged(
    desired: ManifestWork,
    current: ManifestWork | undefined,
  ): Promise<ManifestWork | undefined> {
    const hash = hashOf(desired);
    const key = `${desired.metadata.namespace}/${desired.metadata.name}`;
    if (current?.metadata.annotations?.[ANNOTATION_WORK_HASH] === hash) {
      this.applied.delete(key);
      return undefined;
    }
    if (this.applied.get(key) === hash) return undefined; // applied; the cache has not seen it yet
    const live = await this.deps.client.apply<ManifestWork>(withHash(desired, hash));
    this.applied.set(key, hash);
    return live;
  }

  /** Applies the Capp's work on its cluster when what it carries changed; returns the work as known. */
  private async applyWork(capp: Capp, cluster: string, log: Logger): Promise<ManifestWork | undefined> {
    const namespace = capp.metadata.namespace ?? '';
    const refs = referencesOf(capp);
    const referenced: KubeObject[] = [];
    const missing: string[] = [];
    for (const s of refs.secrets) {
      const o = this.deps.cache.secret(namespace, s);
      if (o) referenced.push({ ...o, apiVersion: 'v1', kind: 'Secret' });
      else missing.push(`Secret ${s}`);
    }
    for (const c of refs.configMaps) {
      const o = this.deps.cache.configMap(namespace, c);
      if (o) referenced.push({ ...o, apiVersion: 'v1', kind: 'ConfigMap' });
      else missing.push(`ConfigMap ${c}`);
    }
    if (missing.length > 0) {
      log.warn({ event: 'references-missing', missing }, 'referenced objects not on the hub; not carried');
    }
    const desired = buildManifestWork(capp, cluster, referenced);
    const current = this.deps.cache.work(cluster, desired.metadata.name);
    const live = await this.applyIfChanged(desired, current);
    if (!live) return current;
    if (!current)
      this.deps.events.record(
        capp,
        'Normal',
        'ManifestWorkCreated',
        `Created ManifestWork "${desired.metadata.name}" on "${cluster}"`,
      );
    log.info(
      { event: 'work-applied', cluster, work: desired.metadata.name, carried: referenced.length },
      'ManifestWork applied',
    );
    return live;
  }

  /** A moved Capp leaves its old cluster once the new one runs it (the work applied and available there). */
  private async removeElsewhere(
    capp: Capp,
    cluster: string,
    work: ManifestWork | undefined,
    log: Logger,
  ): Promise<void> {
    const elsewhere = this.deps.cache
      .worksOf(capp.metadata.namespace ?? '', capp.metadata.name)
      .filter((w) => w.metadata.namespace !== cluster && !w.metadata.deletionTimestamp);
    if (elsewhere.length === 0) return;
    if (!work || !workConditionTrue(work, 'Applied') || !workConditionTrue(work, 'Available')) {
      log.info({ event: 'move-waiting', cluster }, 'waiting for the new cluster before leaving the old one');
      return;
    }
    for (const w of elsewhere) {
      await this.deps.client.delete({
        apiVersion: w.apiVersion,
        kind: w.kind,
        namespace: w.metadata.namespace,
        name: w.metadata.name,
      });
      this.deps.events.record(
        capp,
        'Normal',
        'CappMoved',
        `Removed Capp "${capp.metadata.name}" from managed cluster "${w.metadata.namespace}" (now on "${cluster}")`,
      );
      log.info({ event: 'left-cluster', from: w.metadata.namespace, cluster }, 'old ManifestWork deleted');
    }
  }

  /**
   * Deletes the Capp's works; once they are gone (the work agent deletes the managed Capp, whose
   * operator deletes its children, before it lets a work go), releases the finalizers: ours, and
   * rcs-ocm-deployer's on a Capp it placed.
   */
  private async finalize(capp: Capp, log: Logger): Promise<void> {
    const namespace = capp.metadata.namespace ?? '';
    const works = this.deps.cache.worksOf(namespace, capp.metadata.name);
    const recorded = capp.metadata.annotations?.[ANNOTATION_HAS_PLACEMENT];
    // The cache may lag behind a work just applied: the recorded cluster's is deleted by name too.
    const names = new Map(works.map((w) => [`${w.metadata.namespace}/${w.metadata.name}`, w]));
    const targets = new Set(names.keys());
    if (recorded) targets.add(`${recorded}/${workName(namespace, capp.metadata.name)}`);
    let pending = 0;
    for (const target of targets) {
      const [cluster, name] = target.split('/');
      const w = names.get(target);
      if (w?.metadata.deletionTimestamp) {
        pending++;
        continue;
      }
      const existed = await this.deps.client.delete({
        apiVersion: 'work.open-cluster-management.io/v1',
        kind: 'ManifestWork',
        namespace: cluster,
        name,
      });
      if (existed) {
        pending++;
        log.info({ event: 'work-deleted', cluster, work: name }, 'ManifestWork deleted');
      }
    }
    if (pending > 0) {
      throw new ReconcileError(
        'ChildrenTerminating',
        `waiting for ${pending} ManifestWork(s) to go: the work agent first removes the Capp from its cluster`,
        true,
      );
    }
    if (capp.metadata.finalizers?.includes(CAPP_FINALIZER)) {
      await this.deps.client.apply(finalizerPatch(capp, false));
    }
    const index = capp.metadata.finalizers?.indexOf(RCS_OCM_DEPLOYER_FINALIZER) ?? -1;
    if (index >= 0) {
      await this.deps.client.patch(
        ref(capp),
        [
          { op: 'test', path: `/metadata/finalizers/${index}`, value: RCS_OCM_DEPLOYER_FINALIZER },
          { op: 'remove', path: `/metadata/finalizers/${index}` },
        ],
        'json',
      );
    }
    log.info({ event: 'finalized' }, 'gone from its managed cluster; finalizer removed');
  }

  private async writeStatus(capp: Capp, status: CappStatus, log: Logger): Promise<void> {
    if (!(await applyCappStatus(this.deps.client, capp, status))) return;
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    const synced = status.conditions?.find((c) => c.type === 'Synced');
    log.info(
      {
        event: 'status-written',
        site: status.applicationLinks?.site,
        ready: ready?.status,
        synced: synced?.status,
        reason: synced?.status === 'True' ? ready?.reason : synced?.reason,
      },
      'status updated',
    );
  }
}

function ref(capp: Capp): { apiVersion: string; kind: string; namespace?: string; name: string } {
  return {
    apiVersion: capp.apiVersion,
    kind: capp.kind,
    namespace: capp.metadata.namespace,
    name: capp.metadata.name,
  };
}

function hashOf(work: ManifestWork): string {
  return createHash('sha256').update(canonicalJson(work)).digest('hex').slice(0, 16);
}

function withHash(work: ManifestWork, hash: string): ManifestWork {
  return {
    ...work,
    metadata: {
      ...work.metadata,
      annotations: { ...(work.metadata.annotations ?? {}), [ANNOTATION_WORK_HASH]: hash },
    },
  };
}
