import type { Capp, MemberHealth } from '@capp/capp-model';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { ScopeSnapshot } from '../health/healthscope-controller';
import { RECONCILE_REASONS, type ReconcileReason } from '../reconcile/errors';

export type ReconcileResult = 'success' | 'error';

const RESULTS: readonly ReconcileResult[] = ['success', 'error'];

/** Seconds; from 1 ms (an unchanged Capp served from the cache) to 30 s (a slow apiserver). */
export const RECONCILE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Seconds; a loopback answer takes ~1 ms, a probe times out after at most 60 s. */
export const PROBE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const MEMBER_HEALTHS: readonly MemberHealth[] = ['Healthy', 'Unhealthy', 'Unknown', 'Disabled'];

/** What the health gauges are read from at scrape time (the HealthScope controller and the Capp cache). */
export interface HealthSources {
  scopes(): ScopeSnapshot[];
  capps(): Capp[];
}

/** Cumulative request counts, e.g. `() => rest.counts` of a KubeRest. */
export type KubeRequestCounts = () => { reads: number; writes: number };

export interface OperatorMetricsOptions {
  /** Read on every scrape to fill `capp_kube_requests_total`. */
  kubeRequests?: KubeRequestCounts;
  /** Node process metrics (`process_*`, `nodejs_*`); default true. */
  processMetrics?: boolean;
}

/**
 * The operator's Prometheus metrics, in a registry of their own (not prom-client's global one), so
 * several instances (tests) never collide and nothing else leaks into `/metrics`.
 */
export class OperatorMetrics {
  readonly registry = new Registry();
  private readonly reconciles: Counter<'result'>;
  private readonly reconcileDuration: Histogram;
  private readonly reconcileErrors: Counter<'reason'>;
  private readonly queueDepth: Gauge;
  private readonly queueInFlight: Gauge;
  private readonly childApplies: Counter<'kind'>;
  private readonly childDeletes: Counter<'kind'>;
  private readonly leader: Gauge;
  private readonly probeDuration: Histogram<'namespace' | 'result'>;
  private readonly evaluationDuration: Histogram;
  private health?: HealthSources;

  /** `new OperatorMetrics(() => rest.counts)` is short for `new OperatorMetrics({ kubeRequests: … })`. */
  constructor(optionsOrKubeRequests: OperatorMetricsOptions | KubeRequestCounts = {}) {
    const options =
      typeof optionsOrKubeRequests === 'function'
        ? { kubeRequests: optionsOrKubeRequests }
        : optionsOrKubeRequests;
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    this.reconciles = new Counter({
      name: 'capp_reconcile_total',
      help: 'Reconciles of a Capp, by result (success, error).',
      labelNames: ['result'],
      registers,
    });
    // Every result shows up (as 0) from the first scrape, so rate() and alerts work from the start.
    for (const result of RESULTS) this.reconciles.inc({ result }, 0);
    this.reconcileDuration = new Histogram({
      name: 'capp_reconcile_duration_seconds',
      help: 'Duration of one reconcile of a Capp.',
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'capp_reconcile_errors_total',
      help: 'Failed reconciles, by reason (ChildRejected, Conflict, Unreachable, Transient, …).',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of RECONCILE_REASONS) this.reconcileErrors.inc({ reason }, 0);
    this.queueDepth = new Gauge({
      name: 'capp_workqueue_depth',
      help: 'Keys waiting in the work queue.',
      registers,
    });
    this.queueInFlight = new Gauge({
      name: 'capp_workqueue_in_flight',
      help: 'Keys being reconciled right now.',
      registers,
    });
    this.childApplies = new Counter({
      name: 'capp_child_applies_total',
      help: 'Server-side applies of child resources, by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.childDeletes = new Counter({
      name: 'capp_child_deletes_total',
      help: 'Deletions of child resources, by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.leader = new Gauge({
      name: 'capp_leader',
      help: '1 while this instance holds the leader Lease, else 0.',
      registers,
    });
    this.leader.set(0);

    this.probeDuration = new Histogram({
      name: 'capp_probe_duration_seconds',
      help: "HealthScope probes of Capps' URLs, by namespace and result (success, failure).",
      labelNames: ['namespace', 'result'],
      buckets: PROBE_BUCKETS,
      registers,
    });
    this.evaluationDuration = new Histogram({
      name: 'capp_healthscope_evaluation_duration_seconds',
      help: 'Duration of one evaluation of a HealthScope (its probes included).',
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    // The gauges below are read from the caches at scrape time: never stale, nothing to delete.
    const sources = (): HealthSources | undefined => this.health;
    new Gauge({
      name: 'capp_healthscope_health',
      help: 'Whether a HealthScope is Healthy (1) or not (0: Unhealthy, Unknown or Empty).',
      labelNames: ['namespace', 'scope'],
      registers,
      collect(this: Gauge<'namespace' | 'scope'>): void {
        this.reset();
        for (const s of sources()?.scopes() ?? [])
          this.set({ namespace: s.namespace, scope: s.name }, s.status.health === 'Healthy' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'capp_healthscope_members',
      help: 'Members of a HealthScope, by health (Healthy, Unhealthy, Unknown, Disabled).',
      labelNames: ['namespace', 'scope', 'health'],
      registers,
      collect(this: Gauge<'namespace' | 'scope' | 'health'>): void {
        this.reset();
        for (const s of sources()?.scopes() ?? []) {
          const counts = new Map(MEMBER_HEALTHS.map((h) => [h, 0]));
          for (const m of s.status.capps ?? []) counts.set(m.health, (counts.get(m.health) ?? 0) + 1);
          for (const [health, n] of counts) this.set({ namespace: s.namespace, scope: s.name, health }, n);
        }
      },
    });
    new Gauge({
      name: 'capp_ready',
      help: 'Whether a Capp is Ready (1) or not (0), from its Ready condition.',
      labelNames: ['namespace', 'capp'],
      registers,
      collect(this: Gauge<'namespace' | 'capp'>): void {
        this.reset();
        for (const c of sources()?.capps() ?? []) {
          const ready = c.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True';
          this.set({ namespace: c.metadata.namespace ?? '', capp: c.metadata.name }, ready ? 1 : 0);
        }
      },
    });

    const provider = options.kubeRequests;
    new Counter({
      name: 'capp_kube_requests_total',
      help: 'Requests to the Kubernetes API server, by kind (read, write).',
      labelNames: ['kind'],
      registers,
      collect(this: Counter<'kind'>): void {
        // The client keeps the cumulative counts: copy them at scrape time.
        const counts = provider?.() ?? { reads: 0, writes: 0 };
        this.reset();
        this.inc({ kind: 'read' }, counts.reads);
        this.inc({ kind: 'write' }, counts.writes);
      },
    });
  }

  /** Content type of {@link metricsText} (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  observeReconcile(result: ReconcileResult, seconds: number): void {
    this.reconciles.inc({ result });
    this.reconcileDuration.observe(seconds);
  }

  reconcileError(reason: ReconcileReason): void {
    this.reconcileErrors.inc({ reason });
  }

  setQueue(depth: number, inFlight: number): void {
    this.queueDepth.set(depth);
    this.queueInFlight.set(inFlight);
  }

  childApplied(kind: string): void {
    this.childApplies.inc({ kind });
  }

  childDeleted(kind: string): void {
    this.childDeletes.inc({ kind });
  }

  observeProbe(namespace: string, result: 'success' | 'failure', seconds: number): void {
    this.probeDuration.observe({ namespace, result }, seconds);
  }

  observeEvaluation(seconds: number): void {
    this.evaluationDuration.observe(seconds);
  }

  /** Where `capp_healthscope_*` and `capp_ready` are read from at scrape time. */
  watchHealth(sources: HealthSources): void {
    this.health = sources;
  }

  setLeader(leading: boolean): void {
    this.leader.set(leading ? 1 : 0);
  }

  metricsText(): Promise<string> {
    return this.registry.metrics();
  }
}
