import { CAPP_SYNC_QUEUE } from '@capp/capp-model';
import { Job, Queue, QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

import { CappsRepository } from '../../app/capps/capps.repository';
import { withTimeout } from '../../common/async';
import type { ApiConfig } from '../../config/api-config';
import { cappObject, ClusterError, KubeGateway } from '../kube/kube.gateway';
import type { ApiMetrics } from '../metrics/metrics';

/** The name of the queue's jobs (the queue is `CAPP_SYNC_QUEUE`). */
const SYNC_JOB = 'sync';

export interface SyncJobData {
  id: string;
  namespace: string;
  name: string;
  version: number;
  deleting: boolean;
}

/** Retry delay: 0.5 s doubling to at most 30 s, forever — a write waits for the cluster to return. */
export function retryDelayMs(attemptsMade: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, attemptsMade - 1));
}

const ENQUEUE_TIMEOUT_MS = 2000;
/**
 * A worker holds a job's lock for this long and renews it every half of it; a process that died
 * mid-apply loses the lock when it runs out, and any worker's stall check (every STALLED_CHECK_MS)
 * puts the job back. BullMQ's defaults (30 s each) left a write undelivered for up to a minute.
 */
const LOCK_MS = 10_000;
const STALLED_CHECK_MS = 5_000;
/** ioredis states after a lost connection (not the first connect: that one is waited for). */
const REDIS_DOWN = new Set(['reconnecting', 'close', 'end']);

function jobId(data: Pick<SyncJobData, 'id' | 'version' | 'deleting'>): string {
  return data.deleting ? `${data.id}.delete` : `${data.id}.v${data.version}`;
}

/**
 * Delivers committed rows to the cluster. Every write commits first, then enqueues a job keyed by
 * (Capp, version); the worker applies the row's *latest* content (server-side apply, field manager
 * `capp-api`) and records the result. Jobs retry with capped backoff until the cluster answers; the
 * apiserver's 400/403/422 and a missing namespace are permanent (`sync: Failed`). A sweep re-enqueues rows still Pending, so a
 * crash between commit and enqueue, or a lost Redis, loses nothing.
 */
export class CappSync {
  private readonly producerConnection: Redis;
  private readonly queue: Queue<SyncJobData>;
  private worker?: Worker<SyncJobData>;
  private events?: QueueEvents;
  private sweepTimer?: NodeJS.Timeout;
  private readonly connections: Redis[] = [];

  constructor(
    private readonly config: ApiConfig,
    private readonly repository: CappsRepository,
    private readonly kube: KubeGateway,
    private readonly logger: Logger,
    private readonly metrics?: ApiMetrics,
  ) {
    // Producer: fail fast while Redis is down (the row is committed; the sweep enqueues it later).
    this.producerConnection = new Redis(config.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
    this.producerConnection.on('error', (err: Error) =>
      this.logger.debug({ err }, 'redis producer connection error'),
    );
    this.queue = new Queue<SyncJobData>(CAPP_SYNC_QUEUE, {
      connection: this.producerConnection,
      prefix: config.queuePrefix,
    });
    // Every request waiting for its job (waitUntilFinished) listens on the queue: as many as requests in flight.
    this.queue.setMaxListeners(0);
    this.queue.on('error', (err: Error) => this.logger.debug({ err }, 'sync queue error'));
  }

  /** Starts the worker, the completion listener and the sweep (which runs once right away). */
  start(): void {
    // Worker and events block on Redis: their own connections, retried forever while Redis is down.
    const workerConnection = this.connection();
    const eventsConnection = this.connection();
    this.worker = new Worker<SyncJobData>(CAPP_SYNC_QUEUE, (job) => this.process(job), {
      connection: workerConnection,
      prefix: this.config.queuePrefix,
      concurrency: this.config.syncConcurrency,
      lockDuration: LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
      settings: { backoffStrategy: (attemptsMade: number) => retryDelayMs(attemptsMade) },
    });
    this.worker.on('error', (err: Error) => this.logger.warn({ err }, 'sync worker error'));
    this.events = new QueueEvents(CAPP_SYNC_QUEUE, {
      connection: eventsConnection,
      prefix: this.config.queuePrefix,
    });
    this.events.on('error', (err: Error) => this.logger.debug({ err }, 'sync events error'));
    const sweep = (): void => {
      this.sweep().catch((err: unknown) => this.logger.warn({ err }, 'sync sweep failed'));
    };
    sweep();
    this.sweepTimer = setInterval(sweep, this.config.sweepSeconds * 1000);
    this.sweepTimer.unref();
  }

  private connection(): Redis {
    const redis = new Redis(this.config.redisUrl, { maxRetriesPerRequest: null });
    redis.on('error', (err: Error) => this.logger.debug({ err }, 'redis connection error'));
    this.connections.push(redis);
    return redis;
  }

  /** Enqueues delivery of a committed row; false when Redis is unreachable (the sweep retries). */
  async enqueue(data: SyncJobData): Promise<Job<SyncJobData> | undefined> {
    if (REDIS_DOWN.has(this.producerConnection.status)) {
      // Redis is down: answer now (the row is committed); the sweep enqueues it once Redis is back.
      this.logger.warn(
        {
          namespace: data.namespace,
          name: data.name,
          version: data.version,
          redis: this.producerConnection.status,
        },
        'could not enqueue the cluster sync; the sweep will retry',
      );
      return undefined;
    }
    try {
      return await withTimeout(
        this.queue.add(SYNC_JOB, data, {
          jobId: jobId(data),
          attempts: Number.MAX_SAFE_INTEGER,
          backoff: { type: 'custom' },
          removeOnComplete: true,
          removeOnFail: true,
        }),
        ENQUEUE_TIMEOUT_MS,
        'enqueue',
      );
    } catch (err) {
      this.logger.warn(
        { err, namespace: data.namespace, name: data.name, version: data.version },
        'could not enqueue the cluster sync; the sweep will retry',
      );
      return undefined;
    }
  }

  /** Waits up to `ms` for the job to finish (applied, or failed for good). */
  async waitFor(job: Job<SyncJobData> | undefined, ms: number): Promise<void> {
    const events = this.events;
    const id = job?.id;
    if (!events || id === undefined || ms <= 0) return;
    // Not BullMQ's job.waitUntilFinished: its check for a job already finished runs in an async
    // Promise executor, so a Redis error there (the producer fails fast while Redis restarts) is an
    // unhandled rejection that kills the process. Still retrying (the cluster is slow or down), or
    // failed: either way the row says which.
    // Per-job events (`completed:<id>`) are emitted by QueueEvents but not in its typed listener map.
    const emitter = events as unknown as NodeJS.EventEmitter;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        emitter.off(`completed:${id}`, done);
        emitter.off(`failed:${id}`, done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      emitter.on(`completed:${id}`, done);
      emitter.on(`failed:${id}`, done);
      // The job may have finished before the listeners were there (a finished job is removed).
      events
        .waitUntilReady()
        .then(() => this.queue.getJobState(id))
        .then((state) => {
          if (state === 'completed' || state === 'failed' || state === 'unknown') done();
        })
        .catch(() => undefined);
    });
  }

  /** Re-enqueues rows still Pending; the job id dedupes what is already queued. */
  async sweep(): Promise<number> {
    const pending = await this.repository.pendingSyncs(1000);
    let enqueued = 0;
    for (const p of pending) {
      const row = await this.repository.findById(p.id);
      if (!row) continue;
      if (
        await this.enqueue({
          id: p.id,
          namespace: row.namespace,
          name: row.name,
          version: p.version,
          deleting: p.deleting,
        })
      )
        enqueued++;
    }
    if (pending.length) this.logger.info({ pending: pending.length, enqueued }, 'sync sweep');
    return enqueued;
  }

  private async process(job: Job<SyncJobData>): Promise<void> {
    const { id, namespace, name } = job.data;
    const row = await this.repository.findById(id);
    if (!row) return;
    const log = this.logger.child({ namespace, name, version: row.version, attempt: job.attemptsMade + 1 });
    try {
      if (row.deletedAt) {
        await this.kube.deleteCapp(row.namespace, row.name);
        await this.repository.purge(id);
        log.info('capp deleted from the cluster');
        this.metrics?.syncDone('delete', 'ok');
        return;
      }
      if (job.data.deleting) return;
      if (row.syncState === 'Synced' && row.syncedVersion === row.version) return;
      if (row.syncState === 'Failed') return;
      const capp = cappObject(row.namespace, row.name, row, row.updatedBy ?? 'capp-api');
      const { resourceVersion, uid } = await this.kube.applyCapp(capp);
      const clusterUid = await this.kube.clusterIdentity();
      const current = await this.repository.markSynced(id, row.version, {
        resourceVersion: resourceVersion ?? null,
        uid: uid ?? null,
        clusterUid,
      });
      log.info({ resourceVersion, current }, 'capp applied to the cluster');
      this.metrics?.syncDone('apply', 'ok');
    } catch (err) {
      const permanent = err instanceof ClusterError && err.permanent;
      const message = err instanceof Error ? err.message : String(err);
      this.metrics?.syncDone(row.deletedAt ? 'delete' : 'apply', permanent ? 'failed' : 'retry');
      await this.repository
        .markSyncFailure(id, row.version, message, permanent)
        .catch((e: unknown) => log.warn({ err: e }, 'could not record the sync failure'));
      if (permanent) {
        log.warn({ err: message }, 'the cluster refused the capp; not retrying');
        throw new UnrecoverableError(message);
      }
      log.warn(
        { err: message, retryInMs: retryDelayMs(job.attemptsMade + 1) },
        'capp sync failed; will retry',
      );
      throw err;
    }
  }

  async queueDepth(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  async ping(): Promise<void> {
    await withTimeout(this.producerConnection.ping(), 1000, 'redis ping');
  }

  /** Stops taking jobs, lets running ones finish, closes connections. */
  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.worker?.close();
    await this.events?.close();
    await this.queue.close();
    this.producerConnection.disconnect();
    for (const c of this.connections) c.disconnect();
  }
}
