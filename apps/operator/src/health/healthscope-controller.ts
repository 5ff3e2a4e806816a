import {
  type Capp,
  type HealthScope,
  type HealthScopeStatus,
  matchesLabelSelector,
  sameJson,
} from '@capp/capp-model';
import {
  type EventRecorder,
  HEALTHSCOPE_TYPE,
  Informer,
  isNotFound,
  KubeClient,
  type KubeRest,
  objectKey,
} from '@capp/kube';
import type { Logger } from 'pino';

import { WorkQueue } from '../queue/work-queue';
import { errorMessage } from '../reconcile/errors';
import {
  type EffectiveProbe,
  effectiveProbe,
  healthEvent,
  judgeMember,
  type Member,
  membersOf,
  needsProbe,
  type ProbeRecord,
  probeUrl,
  scopeStatus,
  scopeStatusEqual,
} from './evaluate';
import { HttpProber } from './prober';

/**
 * The field manager of the HealthScope controller: it owns the scopes' status and the Capps'
 * `status.scopes`, nothing the Capp reconciler (`capp-operator`) applies.
 */
export const HEALTHSCOPE_FIELD_MANAGER = 'capp-healthscope';

/** The ClusterCache's part the controller reads (its Capp informer: shared, not a second watch). */
export interface CappSource {
  observeCapps(observer: (capp: Capp | undefined, old: Capp | undefined) => void): void;
  cappsIn(namespace: string): Capp[];
  capp(namespace: string, name: string): Capp | undefined;
  allCapps(): Capp[];
}

export interface HealthScopeControllerOptions {
  /** Watched namespaces; empty = all. */
  namespaces: string[];
  /** Probes in flight at once across every scope (default 16). */
  probeConcurrency?: number;
  /** Scopes evaluated at once (default 2). */
  concurrency?: number;
}

export interface HealthMetrics {
  observeProbe(namespace: string, result: 'success' | 'failure', seconds: number): void;
  observeEvaluation(seconds: number): void;
}

/** One scope's health as last evaluated (for the metrics). */
export interface ScopeSnapshot {
  namespace: string;
  name: string;
  status: HealthScopeStatus;
}

const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Evaluates HealthScopes (DESIGN §10): on every change of a scope or of a member (through the
 * operator's Capp informer) and, for scopes with a probe, every `periodSeconds`. The decisions are
 * the pure functions of `evaluate.ts`; this class does the I/O: probes, status writes (only when the
 * status changed), the Capps' `status.scopes`, Events.
 */
export class HealthScopeController {
  readonly queue: WorkQueue;
  readonly prober: HttpProber;
  private readonly client: KubeClient;
  private readonly informers: Informer<HealthScope>[];
  /** scope key → member name → its probe record. */
  private readonly probes = new Map<string, Map<string, ProbeRecord>>();
  /** scope key → member names at the last evaluation. */
  private readonly memberships = new Map<string, Set<string>>();
  /** scope key → the status we last wrote (the informer's copy may not have caught up). */
  private readonly written = new Map<string, HealthScopeStatus>();
  /** Capp uid → the `status.scopes` we last wrote. */
  private readonly cappScopesWritten = new Map<string, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private started = false;

  constructor(
    rest: KubeRest,
    private readonly capps: CappSource,
    private readonly recorder: Pick<EventRecorder, 'record'>,
    options: HealthScopeControllerOptions,
    private readonly logger: Logger,
    private readonly metrics?: HealthMetrics,
  ) {
    this.client = new KubeClient(rest, { fieldManager: HEALTHSCOPE_FIELD_MANAGER });
    this.prober = new HttpProber({
      concurrency: options.probeConcurrency ?? 16,
      observe: (ns, result, seconds) => metrics?.observeProbe(ns, result, seconds),
    });
    this.queue = new WorkQueue(
      (key) => this.evaluate(key),
      { concurrency: options.concurrency ?? 2 },
      (key, err, attempt) =>
        logger.error(
          { event: 'healthscope-failed', scope: key, attempt, err: errorMessage(err) },
          'health scope evaluation failed; will retry',
        ),
    );
    const scopes: Array<string | undefined> = options.namespaces.length ? options.namespaces : [undefined];
    this.informers = scopes.map(
      (namespace) =>
        new Informer<HealthScope>(
          rest,
          HEALTHSCOPE_TYPE,
          {
            onAdd: (s) => this.enqueue(objectKey(s)),
            onUpdate: (s, old) => this.scopeUpdated(s, old),
            onDelete: (s) => this.enqueue(objectKey(s)),
          },
          {
            namespace,
            optional: true,
            onError: (err) =>
              logger.warn(
                { event: 'watch-error', resource: 'healthscopes', err: errorMessage(err) },
                'watch failed; re-listing',
              ),
          },
        ),
    );
    capps.observeCapps((capp, old) => this.cappEvent(capp, old));
  }

  get synced(): boolean {
    return this.informers.every((i) => i.hasSynced);
  }

  /** Lists the scopes, brings every Capp's `status.scopes` in line, then evaluates every scope. */
  async start(): Promise<void> {
    for (const i of this.informers) i.start();
    await Promise.all(this.informers.map((i) => i.waitForSync()));
    const all = this.scopes();
    for (const scope of all) {
      const ns = scope.metadata.namespace ?? '';
      this.memberships.set(
        objectKey(scope),
        new Set(membersOf(scope, this.capps.cappsIn(ns)).map((m) => m.name)),
      );
    }
    // Scopes deleted while no operator ran are still listed on their Capps: every Capp is checked once.
    const namespaces = new Set([...all.map((s) => s.metadata.namespace ?? '')]);
    for (const ns of namespaces)
      await this.syncCappScopes(
        ns,
        this.capps.cappsIn(ns).map((c) => c.metadata.name),
      );
    await this.syncStaleCappScopes(namespaces);
    this.started = true;
    this.logger.info(
      { event: 'healthscopes-synced', scopes: all.length },
      'health scopes synced; evaluating',
    );
    for (const scope of all) this.queue.add(objectKey(scope));
  }

  async stop(): Promise<void> {
    this.started = false;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.queue.shutDown();
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  /** Every scope's last evaluated status (for the metrics). */
  snapshots(): ScopeSnapshot[] {
    return this.scopes().flatMap((s) => {
      const status = this.written.get(objectKey(s)) ?? s.status;
      return status?.health ? [{ namespace: s.metadata.namespace ?? '', name: s.metadata.name, status }] : [];
    });
  }

  /** Queues every scope (tests and benchmarks: one full evaluation). */
  evaluateAll(): void {
    for (const s of this.scopes()) this.queue.add(objectKey(s));
  }

  // --- events

  private enqueue(key: string): void {
    if (this.started) this.queue.add(key);
  }

  private scopeUpdated(scope: HealthScope, old: HealthScope): void {
    const key = objectKey(scope);
    const specChanged =
      !sameJson(scope.spec, old.spec) || !sameJson(scope.metadata.labels ?? {}, old.metadata.labels ?? {});
    const ours = this.written.get(key);
    let foreign = false;
    if (ours && scopeStatusEqual(scope.status, ours)) {
      this.written.delete(key); // the echo of our own write: the cache has caught up
    } else if (!sameJson(scope.status, old.status)) {
      // Someone else wrote the status (or an older write of ours came back): judge it again.
      this.written.delete(key);
      foreign = true;
    }
    if (specChanged || foreign || scope.metadata.deletionTimestamp) this.enqueue(key);
  }

  /** A Capp changed: the scopes it is (or was, or may now be) a member of are evaluated again. */
  private cappEvent(capp: Capp | undefined, old: Capp | undefined): void {
    if (!this.started) return;
    const some = capp ?? old;
    if (!some) return;
    const ns = some.metadata.namespace ?? '';
    const name = some.metadata.name;
    for (const scope of this.scopes(ns)) {
      const key = objectKey(scope);
      const selector = scope.spec.selector;
      if (
        this.memberships.get(key)?.has(name) ||
        scope.spec.cappRefs?.includes(name) ||
        (selector &&
          ((capp && matchesLabelSelector(selector, capp.metadata.labels)) ||
            (old && matchesLabelSelector(selector, old.metadata.labels))))
      )
        this.queue.add(key);
    }
  }

  // --- evaluation

  private scopes(namespace?: string): HealthScope[] {
    return this.informers.flatMap((i) =>
      i.list().filter((s) => namespace === undefined || s.metadata.namespace === namespace),
    );
  }

  private scope(key: string): HealthScope | undefined {
    const [namespace, name] = key.split('/');
    for (const i of this.informers) {
      const hit = i.get(namespace, name);
      if (hit) return hit;
    }
    return undefined;
  }

  private async evaluate(key: string): Promise<void> {
    const started = process.hrtime.bigint();
    const [namespace] = key.split('/');
    const scope = this.scope(key);
    const before = this.memberships.get(key) ?? new Set<string>();
    if (!scope || scope.metadata.deletionTimestamp) {
      this.forget(key);
      await this.syncCappScopes(namespace, [...before]);
      return;
    }
    const members = membersOf(scope, this.capps.cappsIn(namespace));
    this.memberships.set(key, new Set(members.map((m) => m.name)));
    const probe = effectiveProbe(scope.spec.probe);
    if (!probe) this.probes.delete(key); // the probe was removed: start afresh if it comes back
    const records = probe ? await this.probeMembers(key, namespace, members, probe) : undefined;
    const verdicts = members.map((m) => judgeMember(m, probe, records?.get(m.name)));
    const previous = this.written.get(key) ?? scope.status;
    const status = scopeStatus({ ...scope, status: previous }, members, verdicts, now());
    if (!scopeStatusEqual(status, previous)) await this.writeStatus(scope, status, previous);
    await this.syncCappScopes(namespace, [...new Set([...before, ...members.map((m) => m.name)])]);
    if (probe) this.schedule(key, probe);
    this.metrics?.observeEvaluation(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /**
   * Probes the members whose last probe is a period old (or that have none): a member's change between
   * periods is judged on its last probe, so events never cause extra probes. Members that cannot be
   * probed (not Ready, disabled, gone) lose their record: they start afresh when they come back.
   */
  private async probeMembers(
    key: string,
    namespace: string,
    members: readonly Member[],
    probe: EffectiveProbe,
  ): Promise<Map<string, ProbeRecord>> {
    let records = this.probes.get(key);
    if (!records) this.probes.set(key, (records = new Map()));
    const periodMs = probe.periodSeconds * 1000;
    const at = Date.now();
    const due: Array<{ name: string; url: string }> = [];
    const probeable = new Set<string>();
    for (const m of members) {
      const url = m.capp && needsProbe(m.capp) ? probeUrl(m.capp, probe) : undefined;
      if (!url) continue;
      probeable.add(m.name);
      const record = records.get(m.name);
      if (!record || record.url !== url || at - record.at >= periodMs) due.push({ name: m.name, url });
    }
    for (const name of records.keys()) if (!probeable.has(name)) records.delete(name);
    const map = records;
    await Promise.all(
      due.map(async ({ name, url }) => {
        const result = await this.prober.probe(namespace, url, probe);
        const old = map.get(name);
        const same = old?.url === url;
        map.set(name, {
          url,
          last: result,
          at,
          failures: result.ok ? 0 : (same ? old.failures : 0) + 1,
          lastSuccess: result.ok ? result : same ? old.lastSuccess : undefined,
        });
      }),
    );
    return map;
  }

  private schedule(key: string, probe: EffectiveProbe): void {
    if (this.timers.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.enqueue(key);
    }, probe.periodSeconds * 1000);
    timer.unref();
    this.timers.set(key, timer);
  }

  private forget(key: string): void {
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
    this.probes.delete(key);
    this.memberships.delete(key);
    this.written.delete(key);
  }

  private async writeStatus(
    scope: HealthScope,
    status: HealthScopeStatus,
    previous: HealthScopeStatus | undefined,
  ): Promise<void> {
    const key = objectKey(scope);
    try {
      await this.client.apply(
        {
          apiVersion: scope.apiVersion,
          kind: scope.kind,
          metadata: { name: scope.metadata.name, namespace: scope.metadata.namespace },
          status,
        },
        { subresource: 'status' },
      );
    } catch (err) {
      if (isNotFound(err)) return; // deleted meanwhile: its delete event follows
      throw err;
    }
    this.written.set(key, status);
    const log = this.logger.child({ namespace: scope.metadata.namespace, name: scope.metadata.name });
    if (status.health !== previous?.health)
      log.info(
        {
          event: 'health-changed',
          from: previous?.health,
          to: status.health,
          healthy: status.healthy,
          total: status.total,
        },
        'scope health changed',
      );
    const event = healthEvent(previous?.health, status);
    if (event)
      this.recorder
        .record(scope, event.type, event.reason, event.message)
        .catch((err: unknown) =>
          log.warn(
            { event: 'event-record-failed', reason: event.reason, err: errorMessage(err) },
            'could not record event',
          ),
        );
  }

  /** Brings `status.scopes` of these Capps in line with the scopes they are members of now. */
  private async syncCappScopes(namespace: string, names: readonly string[]): Promise<void> {
    const scopeKeys = [...this.memberships.keys()].filter((k) => k.startsWith(`${namespace}/`)).sort();
    for (const name of names) {
      const capp = this.capps.capp(namespace, name);
      if (!capp) continue;
      const wanted = scopeKeys
        .filter((k) => this.memberships.get(k)?.has(name))
        .map((k) => ({ name: k.slice(namespace.length + 1) }));
      const uid = capp.metadata.uid ?? `${namespace}/${name}`;
      const current = this.cappScopesWritten.get(uid) ?? JSON.stringify(capp.status?.scopes ?? []);
      if (JSON.stringify(wanted) === current) continue;
      try {
        await this.client.apply(
          {
            apiVersion: capp.apiVersion,
            kind: capp.kind,
            metadata: { name, namespace },
            status: { scopes: wanted },
          },
          { subresource: 'status' },
        );
        this.cappScopesWritten.set(uid, JSON.stringify(wanted));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /** At start: Capps that list a scope although no scope of their namespace is watched any more. */
  private async syncStaleCappScopes(namespacesWithScopes: Set<string>): Promise<void> {
    const stale = new Map<string, string[]>();
    for (const capp of this.capps.allCapps().filter((c) => (c.status?.scopes ?? []).length > 0)) {
      const ns = capp.metadata.namespace ?? '';
      if (namespacesWithScopes.has(ns)) continue;
      stale.set(ns, [...(stale.get(ns) ?? []), capp.metadata.name]);
    }
    for (const [ns, names] of stale) await this.syncCappScopes(ns, names);
  }
}
