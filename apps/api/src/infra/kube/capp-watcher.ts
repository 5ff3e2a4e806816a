import { Capp, CappStatus, MANAGED_BY_OPERATOR } from '@capp/capp-model';
import { CAPP_TYPE, Informer } from '@capp/kube';
import type { Logger } from 'pino';

import { contentOf, sameContent } from '../../app/capps/capp-content';
import { CappRecord, CappsRepository, ClusterStamp } from '../../app/capps/capps.repository';
import { AlreadyExistsError, ConcurrentUpdateError } from '../../common/errors';
import { sameJson } from '../../common/json';
import type { ApiMetrics } from '../metrics/metrics';
import type { CappSync } from '../queues/capp-sync';
import { API_FIELD_MANAGER, KubeGateway } from './kube.gateway';

/**
 * Whether resourceVersion `a` is newer than `b`. Resource versions of one resource type are
 * comparable integers (etcd revisions; made official by KEP-5504); anything else counts as newer
 * when different.
 */
export function newerResourceVersion(a: string | undefined, b: string | null): boolean {
  if (!a) return false;
  if (!b) return true;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) > BigInt(b);
  return a !== b;
}

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  time?: string;
}

/** Who last changed the object's content in the cluster, from managedFields (`cluster:kubectl-edit`). */
export function clusterActor(capp: Capp): string {
  const entries = ((capp.metadata.managedFields ?? []) as ManagedFieldsEntry[])
    .filter(
      (e) =>
        !e.subresource && e.manager && e.manager !== API_FIELD_MANAGER && e.manager !== MANAGED_BY_OPERATOR,
    )
    .sort((x, y) => (x.time ?? '').localeCompare(y.time ?? ''));
  const manager = entries.at(-1)?.manager;
  return `cluster:${manager ?? 'unknown'}`;
}

const RETRY_MS = 2000;

/**
 * Follows every Capp in the cluster (list + watch; relists on 410) so that the API's rows tell the
 * truth whichever way a change came in:
 * - status changes refresh the cached `status`;
 * - a content change made outside the API (kubectl) becomes a revision with source `cluster`;
 * - a Capp created with kubectl is imported (revision 1, source `cluster`);
 * - a Capp deleted with kubectl is removed, also when that happened while no API was watching (the
 *   row's recorded cluster identity is this cluster's); a rebuilt cluster gets its Capps applied again.
 * A row with an API write still Pending is left alone: the queue is about to apply it.
 */
export class CappWatcher {
  private informer?: Informer<Capp>;
  private stopped = false;
  private readonly chains = new Map<string, Promise<void>>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** The check for rows the cluster lacks, run after each fresh list (one at a time). */
  private missingCheck: Promise<void> = Promise.resolve();

  constructor(
    private readonly kube: KubeGateway,
    private readonly repository: CappsRepository,
    private readonly sync: CappSync,
    private readonly revisionLimit: number,
    private readonly logger: Logger,
    private readonly metrics?: ApiMetrics,
  ) {}

  start(): void {
    if (this.informer) return;
    this.informer = new Informer<Capp>(
      this.kube.rest,
      CAPP_TYPE,
      {
        onAdd: (obj) => this.enqueue(obj, false),
        onUpdate: (obj) => this.enqueue(obj, false),
        onDelete: (obj) => this.enqueue(obj, true),
        // Only a fresh list tells which Capps are missing from the cluster.
        onRelist: () => this.checkMissing(),
      },
      {
        // managedFields tell who made a change in the cluster (clusterActor).
        keepManagedFields: true,
        onError: (err: unknown) => {
          if (this.stopped) return;
          this.logger.warn({ err: (err as Error)?.message ?? String(err) }, 'capp watch failed; retrying');
        },
      },
    );
    this.informer.start();
  }

  /** After the changes a list revealed are recorded, rows the cluster lacks are applied again. */
  private checkMissing(): void {
    if (this.stopped) return;
    this.missingCheck = this.missingCheck
      .then(async () => {
        await Promise.allSettled([...this.chains.values()]);
        await this.findMissing();
      })
      .catch((err: unknown) => {
        this.logger.warn({ err: (err as Error)?.message ?? String(err) }, 'capp list check failed; retrying');
        this.later(() => this.checkMissing());
      });
  }

  private later(fn: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      fn();
    }, RETRY_MS);
    this.retryTimers.add(timer);
  }

  /** One change at a time per Capp, in watch order. */
  private enqueue(obj: Capp, deleted: boolean): void {
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.handle(obj, deleted))
      .catch((err: unknown) => {
        this.logger.warn(
          { err, namespace: obj.metadata.namespace, name: obj.metadata.name },
          'could not record a cluster change; retrying',
        );
        // Retry with the latest object the cache has (or the delete).
        this.later(() => {
          const latest = this.informer?.get(obj.metadata.namespace, obj.metadata.name);
          this.enqueue(latest ?? obj, deleted || !latest);
        });
      })
      .finally(() => {
        if (this.chains.get(key) === next) this.chains.delete(key);
      });
    this.chains.set(key, next);
  }

  private async handle(obj: Capp, deleted: boolean): Promise<void> {
    const namespace = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    const resourceVersion = obj.metadata.resourceVersion;
    const log = this.logger.child({ namespace, name, generation: obj.metadata.generation, resourceVersion });
    const row = await this.repository.findByName(namespace, name);
    const stamp = async (): Promise<ClusterStamp> => ({
      resourceVersion: resourceVersion ?? '',
      uid: obj.metadata.uid ?? null,
      clusterUid: await this.kube.clusterIdentity(),
    });

    if (deleted) {
      if (!row || row.deletedAt) return;
      const deletedAt = obj.metadata.deletionTimestamp ? new Date(obj.metadata.deletionTimestamp) : undefined;
      // The very Capp the row was applied or imported as (same uid) is gone: a delete, whenever this
      // replica got round to the events. Only a pending write, or a row made after the delete for a
      // new Capp of the same name, is applied again.
      const sameCapp = row.cappUid != null && row.cappUid === obj.metadata.uid;
      if (row.syncState === 'Pending' || (!sameCapp && deletedAt && row.createdAt > deletedAt)) {
        // A newer write (or a new Capp of the same name) is waiting to be applied: apply it again.
        await this.repository.markPending(row.id, 'the capp was deleted in the cluster; applying it again');
        await this.sync.enqueue({ id: row.id, namespace, name, version: row.version, deleting: false });
        return;
      }
      if (!(await this.removeDeleted(row))) return this.handle(obj, deleted); // an API write won
      log.info('capp deleted in the cluster; removed from the API');
      return;
    }

    const content = contentOf(obj);
    const status = (obj.status ?? null) as CappStatus | null;
    if (!row) {
      if (obj.metadata.deletionTimestamp) return;
      try {
        await this.repository.create({
          namespace,
          name,
          content,
          source: 'cluster',
          by: clusterActor(obj),
          synced: { ...(await stamp()), status },
        });
      } catch (err) {
        if (err instanceof AlreadyExistsError) return this.handle(obj, deleted); // created meanwhile
        throw err;
      }
      this.metrics?.clusterChange('import');
      log.info('capp created in the cluster; imported with revision 1');
      return;
    }
    if (row.deletedAt || !newerResourceVersion(resourceVersion, row.clusterResourceVersion)) return;

    if (row.syncState !== 'Pending' && !sameContent(content, row)) {
      try {
        const updated = await this.repository.changeContent(
          {
            id: row.id,
            expectedVersion: row.version,
            content,
            source: 'cluster',
            by: clusterActor(obj),
            synced: await stamp(),
          },
          this.revisionLimit,
        );
        if (!sameJson(status, row.status))
          await this.repository.updateStatus(row.id, status, resourceVersion ?? '');
        this.metrics?.clusterChange('revision');
        log.info(
          { version: updated.version, by: updated.updatedBy },
          'capp changed in the cluster; revision recorded',
        );
      } catch (err) {
        if (err instanceof ConcurrentUpdateError) return this.handle(obj, deleted); // an API write won
        throw err;
      }
      return;
    }
    await this.repository.updateStatus(row.id, status, resourceVersion ?? '');
  }

  /** A CR deleted in the cluster: the row goes (false when an API write moved the row on meanwhile). */
  private async removeDeleted(row: CappRecord): Promise<boolean> {
    if (!(await this.repository.purge(row.id, row.version))) return false;
    this.metrics?.clusterChange('delete');
    return true;
  }

  /**
   * After a (re)list: rows the API believes applied but the cluster lacks. A row applied in this very
   * cluster (its recorded identity is the current one) was deleted while no API was watching: the row
   * is removed, as a watched delete would. A row of another cluster (rebuilt) or with no recorded
   * identity (applied before identities were recorded) is applied again.
   */
  private async findMissing(): Promise<void> {
    if (!this.informer) return;
    // Read again at every list: a cluster rebuilt under a running API has a new identity.
    const cluster = await this.kube.clusterIdentity({ fresh: true });
    let after: { namespace: string; name: string } | undefined;
    for (;;) {
      const rows = await this.repository.list({ labelSelector: [], limit: 500, after });
      for (const row of rows) {
        if (row.deletedAt || row.syncState !== 'Synced') continue;
        if (this.informer.get(row.namespace, row.name)) continue;
        const log = this.logger.child({ namespace: row.namespace, name: row.name });
        if (cluster && row.clusterUid === cluster) {
          // The informer may not have the watch event of an apply that just happened: ask the cluster.
          if (await this.kube.client.get(CAPP_TYPE, row.namespace, row.name)) continue;
          if (await this.removeDeleted(row))
            log.info(
              { uid: row.cappUid },
              'capp deleted in the cluster while the API was not watching; removed from the API',
            );
          continue;
        }
        await this.repository.markPending(row.id, 'the capp is missing from the cluster; applying it again');
        await this.sync.enqueue({
          id: row.id,
          namespace: row.namespace,
          name: row.name,
          version: row.version,
          deleting: false,
        });
        log.info(
          { recordedCluster: row.clusterUid, cluster },
          'capp missing from the cluster, which is not the one it was applied to (or is unknown); re-applying',
        );
      }
      if (rows.length < 500) return;
      const last = rows[rows.length - 1];
      after = { namespace: last.namespace, name: last.name };
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.retryTimers) clearTimeout(t);
    await this.informer?.stop();
    await this.missingCheck;
    await Promise.allSettled([...this.chains.values()]);
  }
}
