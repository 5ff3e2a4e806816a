import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The API's Prometheus metrics, on their own registry (served at /metrics). */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'capp_api_http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'capp_api_http_request_duration_seconds',
    help: 'HTTP request duration by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly syncs = new Counter({
    name: 'capp_api_sync_total',
    help: 'Cluster syncs by operation (apply, delete) and result (ok, retry, failed)',
    labelNames: ['operation', 'result'] as const,
    registers: [this.registry],
  });
  private readonly clusterRevisions = new Counter({
    name: 'capp_api_cluster_changes_total',
    help: 'Changes made in the cluster (kubectl) recorded as revisions or imports',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'capp_api_' });
  }

  /** Reports the sync queue's depth at each scrape (-1 while Redis does not answer). */
  observeQueueDepth(queueDepth: () => Promise<number>): void {
    new Gauge({
      name: 'capp_api_sync_queue_depth',
      help: 'Sync jobs waiting, delayed or running',
      registers: [this.registry],
      async collect() {
        this.set(await queueDepth().catch(() => -1));
      },
    });
  }

  request(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.duration.observe({ method, route }, seconds);
  }

  syncDone(operation: 'apply' | 'delete', result: 'ok' | 'retry' | 'failed'): void {
    this.syncs.inc({ operation, result });
  }

  clusterChange(kind: 'import' | 'revision' | 'delete'): void {
    this.clusterRevisions.inc({ kind });
  }
}
