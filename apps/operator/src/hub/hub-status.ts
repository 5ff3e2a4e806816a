import { type Capp, type CappStatus, type Condition, CONDITION_READY } from '@capp/capp-model';

import { ANNOTATION_WORK_HUB_GENERATION, feedbackOf, type ManifestWork, workConditionTrue } from './ocm';
import type { Placement } from './placement';

export const CONDITION_PLACED = 'Placed';
export const CONDITION_SYNCED = 'Synced';

/** Whether the hub hears from a managed cluster (its heartbeat moves); `undefined`: not known yet. */
export interface ClusterReach {
  reachable: boolean;
  message: string;
}

export interface HubStatusInput {
  capp: Capp;
  placement: Placement;
  /** The Capp's ManifestWork on the placed cluster, as last seen. */
  work?: ManifestWork;
  reach?: ClusterReach;
  now: string;
}

type Own = Omit<Condition, 'lastTransitionTime'>;

/** The managed Capp as fed back: its conditions, URL, generation and observed generation. */
export interface Feedback {
  /** Every condition; absent when together they exceed the agent's `--max-json-raw-length`. */
  conditions?: Condition[];
  /** The Ready condition alone (within any limit). */
  ready?: Condition;
  url?: string;
  generation?: number;
  observedGeneration?: number;
}

export function feedbackOfCapp(work: ManifestWork, namespace: string, name: string): Feedback {
  const values = feedbackOf(work, { resource: 'capps', namespace, name });
  const out: Feedback = {};
  const parsed = (name: string): unknown => {
    const raw = values.get(name)?.jsonRaw;
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return undefined;
    }
  };
  const conditions = parsed('conditions');
  if (Array.isArray(conditions)) out.conditions = conditions as Condition[];
  const ready = parsed('ready');
  if (ready && typeof ready === 'object' && !Array.isArray(ready)) out.ready = ready as Condition;
  const url = values.get('url')?.string;
  if (url) out.url = url;
  const generation = values.get('generation')?.integer;
  if (generation !== undefined) out.generation = generation;
  const observed = values.get('observedGeneration')?.integer;
  if (observed !== undefined) out.observedGeneration = observed;
  return out;
}

/**
 * A hub Capp's status: the managed Capp's conditions and URL as fed back (the last ones seen while the
 * cluster is out of reach), `applicationLinks.site`, and two of the hub's own conditions: `Placed`
 * (where it goes, or why nowhere) and `Synced` (whether what the cluster runs is this generation, as
 * its operator observed it). `Ready` is the managed Capp's, or False with `Placed`'s reason when the
 * Capp has no cluster. `observedGeneration` moves to the Capp's generation once Synced.
 */
export function hubStatus({ capp, placement, work, reach, now }: HubStatusInput): CappStatus {
  const previous = capp.status ?? {};
  const generation = capp.metadata.generation;
  const own: Own[] = [];
  let managed: Condition[] = (previous.conditions ?? []).filter(
    (c) => c.type !== CONDITION_PLACED && c.type !== CONDITION_SYNCED && c.type !== CONDITION_READY,
  );
  let managedReady = previous.conditions?.find((c) => c.type === CONDITION_READY);
  let url = previous.url;
  let observedGeneration = previous.observedGeneration;

  if (!placement.placed) {
    own.push({
      type: CONDITION_PLACED,
      status: 'False',
      reason: placement.reason,
      message: placement.message,
    });
    own.push({
      type: CONDITION_SYNCED,
      status: 'Unknown',
      reason: 'NotPlaced',
      message: 'the Capp is on no managed cluster',
    });
    own.push({
      type: CONDITION_READY,
      status: 'False',
      reason: placement.reason,
      message: placement.message,
    });
    return withOwn({ ...previous }, own, managed, now);
  }

  const cluster = placement.cluster;
  const placedMessage =
    placement.placement !== undefined
      ? `on ManagedCluster "${cluster}", decided by Placement "${placement.placement}"`
      : `on ManagedCluster "${cluster}"`;
  own.push({ type: CONDITION_PLACED, status: 'True', reason: 'Placed', message: placedMessage });

  const feedback = work ? feedbackOfCapp(work, capp.metadata.namespace ?? '', capp.metadata.name) : {};
  const fresh = reach?.reachable !== false;
  if (fresh && feedback.conditions) {
    managed = feedback.conditions.filter((c) => c.type !== CONDITION_READY);
    managedReady = feedback.conditions.find((c) => c.type === CONDITION_READY);
  } else if (fresh && feedback.ready) {
    managedReady = feedback.ready;
  }
  if (fresh && feedback.url) url = feedback.url;

  let synced: Own;
  const workGeneration = Number(work?.metadata.annotations?.[ANNOTATION_WORK_HUB_GENERATION]);
  const applied = work?.status?.conditions?.find((c) => c.type === 'Applied');
  if (reach && !reach.reachable) {
    synced = {
      type: CONDITION_SYNCED,
      status: 'Unknown',
      reason: 'ClusterUnreachable',
      message: reach.message,
    };
  } else if (!work || workGeneration !== generation) {
    synced = {
      type: CONDITION_SYNCED,
      status: 'Unknown',
      reason: 'Applying',
      message: `writing the ManifestWork for generation ${generation} to cluster "${cluster}"`,
    };
  } else if (applied?.status === 'False') {
    synced = {
      type: CONDITION_SYNCED,
      status: 'False',
      reason: applied.reason || 'ApplyFailed',
      message: applied.message || `the work agent of "${cluster}" could not apply the Capp`,
    };
  } else if (!workConditionTrue(work, 'Applied')) {
    synced = {
      type: CONDITION_SYNCED,
      status: 'Unknown',
      reason: 'Applying',
      message: `waiting for the work agent of "${cluster}" to apply the ManifestWork`,
    };
  } else if (
    feedback.generation === undefined ||
    feedback.observedGeneration === undefined ||
    feedback.observedGeneration < feedback.generation
  ) {
    synced = {
      type: CONDITION_SYNCED,
      status: 'Unknown',
      reason: 'Reconciling',
      message: `waiting for the operator on "${cluster}" to reconcile the Capp`,
    };
  } else {
    synced = { type: CONDITION_SYNCED, status: 'True', reason: 'Synced', message: '' };
    observedGeneration = generation;
  }
  own.push(synced);
  own.push(
    managedReady
      ? {
          type: CONDITION_READY,
          status: managedReady.status,
          reason: managedReady.reason,
          message: managedReady.message,
        }
      : {
          type: CONDITION_READY,
          status: 'Unknown',
          reason: synced.reason,
          message: synced.message || `waiting for the status of the Capp on "${cluster}"`,
        },
  );
  const status: CappStatus = {
    ...previous,
    applicationLinks: { ...(previous.applicationLinks ?? {}), site: cluster },
  };
  if (url !== undefined) status.url = url;
  if (observedGeneration !== undefined) status.observedGeneration = observedGeneration;
  return withOwn(status, own, managed, now, managedReady);
}

/** Ready first, then the managed Capp's conditions, then Placed and Synced; unchanged ones keep their time. */
function withOwn(
  status: CappStatus,
  own: Own[],
  managed: Condition[],
  now: string,
  managedReady?: Condition,
): CappStatus {
  const previous = status.conditions ?? [];
  const timed = (c: Own): Condition => {
    const before = previous.find((p) => p.type === c.type);
    const unchanged =
      before !== undefined &&
      before.status === c.status &&
      before.reason === c.reason &&
      before.message === c.message;
    const time =
      unchanged && before.lastTransitionTime
        ? before.lastTransitionTime
        : c.type === CONDITION_READY && managedReady?.status === c.status
          ? managedReady.lastTransitionTime
          : now;
    return { ...c, lastTransitionTime: time };
  };
  const ready = own.find((c) => c.type === CONDITION_READY);
  const rest = own.filter((c) => c.type !== CONDITION_READY);
  return {
    ...status,
    conditions: [...(ready ? [timed(ready)] : []), ...managed, ...rest.map(timed)],
  };
}
