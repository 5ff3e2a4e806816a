import { OperatorMetrics } from './metrics';

/** The value of one sample line, e.g. `capp_reconcile_total{result="success"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('OperatorMetrics', () => {
  it('counts reconciles by result and records their duration in the histogram', async () => {
    const m = new OperatorMetrics({ processMetrics: false });
    m.observeReconcile('success', 0.004);
    m.observeReconcile('success', 0.2);
    m.observeReconcile('error', 12);
    const text = await m.metricsText();

    expect(sample(text, 'capp_reconcile_total{result="success"}')).toBe(2);
    expect(sample(text, 'capp_reconcile_total{result="error"}')).toBe(1);
    expect(sample(text, 'capp_reconcile_duration_seconds_count')).toBe(3);
    expect(sample(text, 'capp_reconcile_duration_seconds_sum')).toBeCloseTo(12.204);
    expect(sample(text, 'capp_reconcile_duration_seconds_bucket{le="0.001"}')).toBe(0);
    expect(sample(text, 'capp_reconcile_duration_seconds_bucket{le="0.005"}')).toBe(1);
    expect(sample(text, 'capp_reconcile_duration_seconds_bucket{le="10"}')).toBe(2);
    expect(sample(text, 'capp_reconcile_duration_seconds_bucket{le="30"}')).toBe(3);
  });

  it('exposes errors by reason, queue gauges, child applies and deletes by kind, and leadership', async () => {
    const m = new OperatorMetrics({ processMetrics: false });
    m.reconcileError('ChildRejected');
    m.reconcileError('ChildRejected');
    m.reconcileError('Conflict');
    m.setQueue(7, 2);
    m.setQueue(5, 3);
    m.childApplied('Service');
    m.childApplied('Service');
    m.childApplied('DomainMapping');
    m.childDeleted('CNAMERecord');
    const before = await m.metricsText();
    m.setLeader(true);
    const after = await m.metricsText();

    expect(sample(before, 'capp_reconcile_errors_total{reason="ChildRejected"}')).toBe(2);
    expect(sample(before, 'capp_reconcile_errors_total{reason="Conflict"}')).toBe(1);
    expect(sample(before, 'capp_workqueue_depth')).toBe(5);
    expect(sample(before, 'capp_workqueue_in_flight')).toBe(3);
    expect(sample(before, 'capp_child_applies_total{kind="Service"}')).toBe(2);
    expect(sample(before, 'capp_child_applies_total{kind="DomainMapping"}')).toBe(1);
    expect(sample(before, 'capp_child_deletes_total{kind="CNAMERecord"}')).toBe(1);
    expect(sample(before, 'capp_leader')).toBe(0);
    expect(sample(after, 'capp_leader')).toBe(1);
  });

  it('reads the Kubernetes request counts from the provider at every scrape', async () => {
    const counts = { reads: 3, writes: 1, watches: 4 };
    const m = new OperatorMetrics({ processMetrics: false, kubeRequests: () => counts });
    const first = await m.metricsText();
    counts.reads = 10;
    counts.writes = 2;
    const second = await m.metricsText();

    expect(sample(first, 'capp_kube_requests_total{kind="read"}')).toBe(3);
    expect(sample(first, 'capp_kube_requests_total{kind="write"}')).toBe(1);
    expect(sample(second, 'capp_kube_requests_total{kind="read"}')).toBe(10);
    expect(sample(second, 'capp_kube_requests_total{kind="write"}')).toBe(2);
  });

  it('takes the request counts provider as the only argument too', async () => {
    const m = new OperatorMetrics(() => ({ reads: 7, writes: 5 }));
    const text = await m.metricsText();
    expect(sample(text, 'capp_kube_requests_total{kind="read"}')).toBe(7);
    expect(sample(text, 'capp_kube_requests_total{kind="write"}')).toBe(5);
  });

  it('includes process metrics by default, in its own registry and not in the global one', async () => {
    const a = new OperatorMetrics();
    const b = new OperatorMetrics();
    a.observeReconcile('error', 1);
    const text = await a.metricsText();
    const { register } = await import('prom-client');

    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    expect(sample(text, 'capp_reconcile_total{result="error"}')).toBe(1);
    expect(sample(await b.metricsText(), 'capp_reconcile_total{result="error"}')).toBe(0);
    expect(register.getSingleMetric('capp_reconcile_total')).toBeUndefined();
  });

  it('declares the Prometheus text format content type', () => {
    expect(new OperatorMetrics({ processMetrics: false }).contentType).toMatch(
      /^text\/plain; version=0\.0\.4/,
    );
  });
});
