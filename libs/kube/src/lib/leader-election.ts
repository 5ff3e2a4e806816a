/**
 * Leader election on a `coordination.k8s.io/v1` Lease, after client-go's leaderelection package:
 * candidates poll the Lease every retry period and take it when it is free (empty holder) or expired;
 * the leader renews it every retry period with a
 * PUT carrying the resourceVersion, so of two writers racing for the same version only one wins (409
 * for the other). A leader that has not renewed for `renewDeadlineSeconds` (< lease duration) gives
 * up before anyone else may take over. `stop()` releases the Lease so a standby takes over at once.
 *
 * Expiry is judged as client-go does, on this process's own monotonic clock: a Lease is expired when
 * its record has not changed for `leaseDurationSeconds` since this process first saw it so. The
 * `renewTime` written by the holder is never compared with the local clock, so clock skew between
 * nodes can neither make a standby steal a live Lease nor keep a dead holder's Lease valid.
 */
import type { Logger } from 'pino';

import { isConflict, isNotFound } from './errors';
import { LEASE_TYPE, resourcePath } from './resources';
import type { KubeRest } from './rest';

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
  [field: string]: unknown;
}

export interface Lease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [field: string]: unknown };
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  /** Unique per process, e.g. `<pod name>_<random>`. */
  identity: string;
  /** How long a Lease stays valid after its last renewal; whole seconds (default 15). */
  leaseDurationSeconds?: number;
  /** How long the leader keeps trying to renew before it gives up (default 10; < lease duration). */
  renewDeadlineSeconds?: number;
  /** Pause between attempts to acquire or renew (default 2). */
  retryPeriodSeconds?: number;
  /** Where acquisitions, renewals that failed, losses and releases are logged (the caller's logger). */
  logger: Logger;
  /** Monotonic milliseconds (default `performance.now()`); for tests. */
  now?: () => number;
}

export interface LeaderCallbacks {
  /** Called once this instance holds the Lease. */
  onStartedLeading(): void;
  /**
   * Called when leadership is lost without being given up: renewal failed for longer than the renew
   * deadline, or another identity holds the Lease. Not called by {@link LeaderElector.stop}.
   */
  onStoppedLeading(): void;
}

/** The Lease's namespace is missing: the elector keeps retrying until someone creates it. */
export class LeaseNamespaceMissingError extends Error {
  constructor(readonly namespace: string) {
    super(`namespace ${namespace} does not exist`);
    this.name = 'LeaseNamespaceMissingError';
  }
}

/** Kubernetes `MicroTime` (RFC 3339 with microseconds, UTC): `2006-01-02T15:04:05.000000Z`. */
export function formatMicroTime(date: Date): string {
  return date.toISOString().replace(/Z$/, '000Z');
}

type Outcome = { held: true } | { held: false; holder?: string };
type Rest = Pick<KubeRest, 'request'>;

export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly path: string;
  private readonly log: Logger;
  private leading = false;
  /** The Lease as we last wrote it (its resourceVersion lets the leader renew with a single PUT). */
  private lease?: Lease;
  /** Monotonic ms of our last successful acquire or renewal. */
  private renewedAt = 0;
  /** The Lease record as last seen changed, and when (monotonic ms): what expiry is judged by. */
  private observed?: { record: string; at: number };
  private readonly now: () => number;
  private stopped = false;
  private loop?: Promise<void>;
  private halting?: Promise<void>;
  private wake?: () => void;
  private lastError?: string;

  constructor(
    private readonly rest: Rest,
    private readonly options: LeaderElectionOptions,
  ) {
    const lease = options.leaseDurationSeconds ?? 15;
    const deadline = options.renewDeadlineSeconds ?? 10;
    const retry = options.retryPeriodSeconds ?? 2;
    if (!(retry > 0)) throw new Error('leader election: retryPeriodSeconds must be > 0');
    if (!(deadline > retry * 1.2))
      throw new Error('leader election: renewDeadlineSeconds must be > 1.2 × retryPeriodSeconds');
    if (!(lease > deadline))
      throw new Error('leader election: leaseDurationSeconds must be > renewDeadlineSeconds');
    // The Lease stores it as an int32.
    if (!Number.isInteger(lease))
      throw new Error('leader election: leaseDurationSeconds must be a whole number');
    if (!options.identity) throw new Error('leader election: identity must not be empty');
    this.leaseDurationMs = lease * 1000;
    this.renewDeadlineMs = deadline * 1000;
    this.retryPeriodMs = retry * 1000;
    this.now = options.now ?? ((): number => performance.now());
    this.path = resourcePath(LEASE_TYPE, options.namespace, options.name);
    this.log = options.logger.child({
      lease: `${options.namespace}/${options.name}`,
      identity: options.identity,
    });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns, leads, and campaigns again after a loss, until {@link stop}. Resolves once stopped. */
  run(callbacks: LeaderCallbacks): Promise<void> {
    if (this.loop) return Promise.reject(new Error('leader election: run() was already called'));
    this.loop = this.campaign(callbacks);
    return this.loop;
  }

  /** Stops campaigning/renewing and, when leading, releases the Lease (empty holder) for a standby. */
  stop(): Promise<void> {
    this.halting ??= this.halt(true);
    return this.halting;
  }

  /**
   * Test-only: stops renewing without releasing, as if the process had died; a standby takes over
   * once the Lease expires.
   * @internal
   */
  abandon(): Promise<void> {
    this.halting ??= this.halt(false);
    return this.halting;
  }

  private async halt(release: boolean): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop?.catch(() => undefined);
    if (!this.leading) return;
    this.leading = false;
    if (!release) return;
    try {
      await this.release();
      this.log.info('released the lease');
    } catch (err) {
      this.log.warn({ err }, 'could not release the lease; a standby takes over when it expires');
    }
  }

  private async campaign(callbacks: LeaderCallbacks): Promise<void> {
    while (!this.stopped) {
      if (await this.attempt()) {
        // Also when stop() came meanwhile: we hold the Lease now, and stop() must release it.
        this.leading = true;
        if (this.stopped) break;
        this.log.info('became leader');
        this.callback(callbacks, 'onStartedLeading');
        if (await this.renewWhileLeading()) break;
        this.leading = false;
        this.log.warn('lost leadership');
        this.callback(callbacks, 'onStoppedLeading');
      }
      // Jitter keeps candidates that started together from polling in lockstep.
      await this.sleep(this.retryPeriodMs * (1 + Math.random() * 0.2));
    }
  }

  /** Renews every retry period; true when stopped while leading, false when leadership was lost. */
  private async renewWhileLeading(): Promise<boolean> {
    for (;;) {
      await this.sleep(this.retryPeriodMs);
      if (this.stopped) return true;
      const left = this.renewedAt + this.renewDeadlineMs - this.now();
      if (left <= 0) {
        this.log.warn(`could not renew the lease for ${this.renewDeadlineMs / 1000}s`);
        return false;
      }
      const outcome = await this.tryAcquireOrRenew(left).catch((err: unknown) => this.failed(err));
      if (outcome && !outcome.held && outcome.holder) {
        this.log.warn({ holder: outcome.holder }, 'another identity holds the lease');
        return false;
      }
    }
  }

  /** One acquire attempt: true when we hold the Lease afterwards. */
  private async attempt(): Promise<boolean> {
    const outcome = await this.tryAcquireOrRenew(this.renewDeadlineMs).catch((err: unknown) =>
      this.failed(err),
    );
    return outcome?.held ?? false;
  }

  private failed(err: unknown): undefined {
    const message = err instanceof Error ? err.message : String(err);
    // Same failure every retry period (e.g. a missing namespace): say it once at warn level.
    if (message !== this.lastError) this.log.warn({ err }, `leader election: ${message}`);
    else this.log.debug({ err }, `leader election: ${message}`);
    this.lastError = message;
    return undefined;
  }

  private tryAcquireOrRenew(timeoutMs: number): Promise<Outcome> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`lease request timed out after ${Math.round(timeoutMs)} ms`)),
        timeoutMs,
      );
    });
    return Promise.race([this.acquireOrRenew(), timeout]).finally(() => clearTimeout(timer));
  }

  private async acquireOrRenew(): Promise<Outcome> {
    // The leader knows the current version (it wrote it): one PUT; a 409 means it changed, so look.
    if (this.leading && this.lease) {
      const renewed = await this.update(this.lease, true);
      if (renewed) return renewed;
    }
    let current: Lease | undefined;
    try {
      current = await this.rest.request<Lease>('GET', this.path);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!current) return this.create();

    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    if (holder !== '' && holder !== this.options.identity && !this.expired(spec))
      return { held: false, holder };
    return (await this.update(current, holder === this.options.identity)) ?? { held: false };
  }

  /** Whether the holder let the Lease lapse: its record unchanged for a lease duration on our clock. */
  private expired(spec: LeaseSpec): boolean {
    this.observe(spec);
    const durationMs = (spec.leaseDurationSeconds ?? this.leaseDurationMs / 1000) * 1000;
    return (this.observed?.at ?? 0) + durationMs < this.now();
  }

  /** Notes the record and, when it differs from the last one seen, the local time it changed. */
  private observe(spec: LeaseSpec): void {
    const record = JSON.stringify([
      spec.holderIdentity ?? '',
      spec.leaseDurationSeconds ?? null,
      spec.acquireTime ?? null,
      spec.renewTime ?? null,
      spec.leaseTransitions ?? null,
    ]);
    if (this.observed?.record !== record) this.observed = { record, at: this.now() };
  }

  private async create(): Promise<Outcome> {
    const now = new Date();
    const startedAt = this.now();
    const lease: Lease = {
      apiVersion: LEASE_TYPE.apiVersion,
      kind: LEASE_TYPE.kind,
      metadata: { name: this.options.name, namespace: this.options.namespace },
      spec: {
        holderIdentity: this.options.identity,
        leaseDurationSeconds: this.leaseDurationMs / 1000,
        acquireTime: formatMicroTime(now),
        renewTime: formatMicroTime(now),
        leaseTransitions: 0,
      },
    };
    try {
      this.lease = await this.rest.request<Lease>('POST', resourcePath(LEASE_TYPE, this.options.namespace), {
        body: lease,
      });
    } catch (err) {
      if (isConflict(err)) return { held: false }; // another candidate created it first
      if (isNotFound(err)) throw new LeaseNamespaceMissingError(this.options.namespace);
      throw err;
    }
    this.acquired(lease.spec ?? {}, startedAt);
    return { held: true };
  }

  /** Writes the Lease as ours; undefined when its version is stale (409) or it is gone (404). */
  private async update(current: Lease, ours: boolean): Promise<Outcome | undefined> {
    const now = new Date();
    const startedAt = this.now();
    const spec = current.spec ?? {};
    const next: Lease = {
      ...current,
      spec: {
        ...spec,
        holderIdentity: this.options.identity,
        leaseDurationSeconds: this.leaseDurationMs / 1000,
        acquireTime: ours && spec.acquireTime ? spec.acquireTime : formatMicroTime(now),
        renewTime: formatMicroTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
      },
    };
    try {
      this.lease = await this.rest.request<Lease>('PUT', this.path, { body: next });
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) {
        this.lease = undefined;
        return undefined;
      }
      throw err;
    }
    this.acquired(next.spec ?? {}, startedAt);
    return { held: true };
  }

  /** `startedAt`: when the write was sent — the holder's validity is counted from before it landed. */
  private acquired(spec: LeaseSpec, startedAt: number): void {
    this.renewedAt = startedAt;
    this.observe(spec);
    this.lastError = undefined;
  }

  private async release(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const lease = this.lease ?? (await this.rest.request<Lease>('GET', this.path).catch(() => undefined));
      if (lease?.spec?.holderIdentity !== this.options.identity) return;
      try {
        this.lease = await this.rest.request<Lease>('PUT', this.path, {
          // Keep leaseDurationSeconds: an empty holder alone makes the Lease free to take.
          body: {
            ...lease,
            spec: { ...lease.spec, holderIdentity: '', renewTime: formatMicroTime(new Date()) },
          },
        });
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err)) throw err;
        this.lease = undefined; // changed meanwhile: look again
      }
    }
  }

  private callback(callbacks: LeaderCallbacks, name: keyof LeaderCallbacks): void {
    try {
      callbacks[name]();
    } catch (err) {
      this.log.error({ err }, `leader election: ${name} threw`);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
