import { type Capp, CAPP_FINALIZER, type KubeObject } from '@capp/capp-model';
import pino from 'pino';

import { ReconcileError } from '../reconcile/errors';
import type { ClientPort, EventsPort, ObjectRef } from '../reconcile/ports';
import { ANNOTATION_WORK_HASH, type HubReadPort, HubReconciler } from './hub-reconciler';
import {
  ANNOTATION_HAS_PLACEMENT,
  ANNOTATION_PLACED_FOR_SITE,
  type ManifestWork,
  RCS_OCM_DEPLOYER_FINALIZER,
} from './ocm';

type Call = [string, ...unknown[]];

/** A recording client: every write is a call; applies answer with what was sent. */
function recorder(): { client: ClientPort; calls: Call[] } {
  const calls: Call[] = [];
  const client: ClientPort = {
    apply: async (obj, options) => {
      calls.push(['apply', obj.kind, obj.metadata.namespace, obj.metadata.name, options?.subresource]);
      return obj as never;
    },
    create: async (obj) => {
      calls.push(['create', obj.kind, obj.metadata.name]);
      return obj as never;
    },
    delete: async (ref: ObjectRef) => {
      calls.push(['delete', ref.kind, ref.namespace, ref.name]);
      return true;
    },
    get: async () => undefined,
    patch: async (ref, patch, type) => {
      calls.push(['patch', ref.kind, ref.name, type, patch]);
      return {} as KubeObject;
    },
  };
  return { client, calls };
}

function world(capp: Capp, works: ManifestWork[] = []): HubReadPort {
  return {
    capp: () => capp,
    worksOf: () => works,
    work: (cluster, name) => works.find((w) => w.metadata.namespace === cluster && w.metadata.name === name),
    secret: () => undefined,
    configMap: () => undefined,
    reach: () => ({ reachable: true, message: '' }),
    placementExists: (name) => name === 'capp-default',
    decisions: () => ['c1'],
    clusterExists: (name) => name === 'c1' || name === 'c2',
  };
}

const capp = (extra: Partial<Capp['metadata']> = {}, site?: string): Capp => ({
  apiVersion: 'rcs.dana.io/v1alpha1',
  kind: 'Capp',
  metadata: { name: 'app', namespace: 'team', generation: 1, ...extra },
  spec: {
    configurationSpec: { template: { spec: { containers: [{ name: 'a', image: 'x' }] } } },
    ...(site ? { site } : {}),
  },
});

function reconciler(
  cache: HubReadPort,
  client: ClientPort,
  events: Array<[string, string]> = [],
): HubReconciler {
  const eventsPort: EventsPort = { record: (_c, type, reason) => void events.push([type, reason]) };
  return new HubReconciler({
    cache,
    client,
    events: eventsPort,
    logger: pino({ level: 'silent' }),
    defaultPlacement: 'capp-default',
    heartbeatLease: { namespace: 'capp-operator-system', name: 'capp-operator-leader' },
    retryUnplacedMs: 30_000,
    clock: () => new Date('2026-01-01T00:00:00Z'),
  });
}

describe('HubReconciler', () => {
  it('places a new Capp: finalizer, recorded decision, heartbeat and Capp works, status', async () => {
    const { client, calls } = recorder();
    const events: Array<[string, string]> = [];
    await reconciler(world(capp({}, 'c2')), client, events).reconcile('team', 'app');
    expect(calls.map((c) => c.slice(0, 4))).toEqual([
      ['apply', 'Capp', 'team', 'app'],
      ['patch', 'Capp', 'app', 'merge'],
      ['apply', 'ManifestWork', 'c2', 'capp-heartbeat'],
      ['apply', 'ManifestWork', 'c2', 'mw-create-team-app'],
      ['apply', 'Capp', 'team', 'app'],
    ]);
    expect(calls[1][4]).toEqual({
      metadata: { annotations: { [ANNOTATION_HAS_PLACEMENT]: 'c2', [ANNOTATION_PLACED_FOR_SITE]: 'c2' } },
    });
    expect(events).toEqual([
      ['Normal', 'CappScheduled'],
      ['Normal', 'ManifestWorkCreated'],
    ]);
  });

  it('writes nothing for a converged Capp', async () => {
    // The world as the first reconcile left it: the works as applied (with their hash), the Capp recorded.
    const applied: ManifestWork[] = [];
    const capture = recorder();
    const keep: ClientPort = {
      ...capture.client,
      apply: async (obj, options) => {
        if (obj.kind === 'ManifestWork') applied.push(obj as ManifestWork);
        return capture.client.apply(obj, options);
      },
    };
    let status: Capp['status'];
    const statusKeep: ClientPort = {
      ...keep,
      apply: async (obj, options) => {
        if (options?.subresource === 'status') status = obj.status as Capp['status'];
        return keep.apply(obj, options);
      },
    };
    await reconciler(world(capp({}, 'c2')), statusKeep).reconcile('team', 'app');
    expect(applied.every((w) => w.metadata.annotations?.[ANNOTATION_WORK_HASH])).toBe(true);
    const converged = capp(
      {
        finalizers: [CAPP_FINALIZER],
        annotations: { [ANNOTATION_HAS_PLACEMENT]: 'c2', [ANNOTATION_PLACED_FOR_SITE]: 'c2' },
      },
      'c2',
    );
    converged.status = status;
    const again = recorder();
    await reconciler(world(converged, applied), again.client).reconcile('team', 'app');
    expect(again.calls).toEqual([]);
  });

  it('says why a site names nothing, with a Warning Event, and asks to look again later', async () => {
    const { client, calls } = recorder();
    const events: Array<[string, string]> = [];
    const result = await reconciler(
      world(capp({ finalizers: [CAPP_FINALIZER] }, 'atlantis')),
      client,
      events,
    ).reconcile('team', 'app');
    expect(result).toEqual({ requeueAfterMs: 30_000 });
    expect(events).toEqual([['Warning', 'SiteNotFound']]);
    expect(calls.map((c) => c.slice(0, 5))).toEqual([['apply', 'Capp', 'team', 'app', 'status']]);
  });

  it('deletes the works of a deleted Capp and keeps its finalizers until they are gone', async () => {
    const deleting = capp({
      deletionTimestamp: '2026-01-01T00:00:00Z',
      finalizers: [CAPP_FINALIZER, RCS_OCM_DEPLOYER_FINALIZER],
      annotations: { [ANNOTATION_HAS_PLACEMENT]: 'c1' },
    });
    const work = {
      apiVersion: 'work.open-cluster-management.io/v1',
      kind: 'ManifestWork',
      metadata: { name: 'mw-create-team-app', namespace: 'c1' },
    };
    const pending = recorder();
    await expect(
      reconciler(world(deleting, [work]), pending.client).reconcile('team', 'app'),
    ).rejects.toBeInstanceOf(ReconcileError);
    expect(pending.calls).toEqual([['delete', 'ManifestWork', 'c1', 'mw-create-team-app']]);

    const done = recorder();
    const r = reconciler(world(deleting, []), { ...done.client, delete: async () => false });
    await r.reconcile('team', 'app');
    expect(done.calls.map((c) => c.slice(0, 4))).toEqual([
      ['apply', 'Capp', 'team', 'app'],
      ['patch', 'Capp', 'app', 'json'],
    ]);
    expect(done.calls[1][4]).toEqual([
      { op: 'test', path: '/metadata/finalizers/1', value: RCS_OCM_DEPLOYER_FINALIZER },
      { op: 'remove', path: '/metadata/finalizers/1' },
    ]);
  });
});
