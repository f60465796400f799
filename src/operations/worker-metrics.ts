// One /metrics for a supervisor and its worker processes. Each worker sends its registry as prom-client JSON
// (`getMetricsAsJSON`) over IPC; the supervisor merges it with its own registry through prom-client's
// `AggregatorRegistry.aggregate`. Counters and histograms are summed (calls, latencies and stalls of the whole
// machine); gauges and summaries keep one series per process under a `worker` label, because a sum of event-loop
// lags, heap sizes or quantiles means nothing. The supervisor's own series carry no `worker` label.
import { AggregatorRegistry, type Registry } from 'prom-client';

/** One registry as `Registry.getMetricsAsJSON()` returns it (and as it crosses IPC). */
export type MetricsSnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;
type MetricJson = MetricsSnapshot[number];

/** A worker's registry, named by its slot (the `worker` label). */
export interface WorkerMetricsSnapshot {
  readonly worker: string;
  readonly metrics: MetricsSnapshot;
}

/**
 * Gauges the supervisor already reports for the whole machine from its own bookkeeping: a worker's copy, labelled,
 * would make `sum(piopiy_active_calls)` count every call twice. Per-worker calls are `piopiy_worker_active_calls`.
 */
const SUPERVISOR_OWNED = new Set(['piopiy_active_calls', 'piopiy_ready']);

/** The supervisor's registry and its workers' as one registry to serve on /metrics. */
export async function mergeWorkerMetrics(own: Registry, workers: readonly WorkerMetricsSnapshot[]): Promise<Registry> {
  const snapshots: MetricsSnapshot[] = [(await own.getMetricsAsJSON()).map(withProcessAggregator)];
  for (const { worker, metrics } of workers) {
    snapshots.push(metrics.filter((metric) => !SUPERVISOR_OWNED.has(metric.name)).map((metric) => perWorker(metric, worker)));
  }
  return AggregatorRegistry.aggregate(snapshots);
}

// prom-client types `type` as a numeric enum, but its metrics carry the exposition's words ('counter', ...).
function summed(type: unknown): boolean {
  return type === 'counter' || type === 'histogram';
}

/**
 * prom-client's default metrics come with their own aggregators (`omit` for the start time, `average` for the
 * event-loop lag) meant for identical cluster workers; here each process keeps its own gauge series, so gauges
 * take `first` (each label set is one process's) and counters and histograms `sum`.
 */
function withProcessAggregator(metric: MetricJson): MetricJson {
  return { ...metric, aggregator: summed(metric.type) ? 'sum' : 'first' };
}

function perWorker(metric: MetricJson, worker: string): MetricJson {
  if (summed(metric.type)) return { ...metric, aggregator: 'sum' };
  return {
    ...metric,
    aggregator: 'first',
    values: metric.values.map((value) => ({ ...value, labels: { ...value.labels, worker } })),
  };
}
