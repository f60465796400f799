// The supervisor's /metrics merges its workers' registries: counters and histograms summed, gauges one series per
// worker, the supervisor's own call gauges alone. (With real worker processes: test/slow/start-workers.test.ts.)
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { mergeWorkerMetrics } from '../../src/operations/index.js';

function processRegistry(calls: number, latenciesSecs: number[], heapBytes: number, activeCalls: number): Registry {
  const registry = new Registry();
  const registers = [registry];
  new Counter({ name: 'piopiy_calls_total', help: 'calls', labelNames: ['reason'], registers }).inc({ reason: 'completed' }, calls);
  const latency = new Histogram({ name: 'piopiy_stage_latency_seconds', help: 'latency', labelNames: ['stage'], buckets: [0.5, 1], registers });
  for (const secs of latenciesSecs) latency.observe({ stage: 'voice_to_voice' }, secs);
  new Gauge({ name: 'nodejs_heap_size_used_bytes', help: 'heap', registers }).set(heapBytes);
  new Gauge({ name: 'piopiy_active_calls', help: 'active', registers }).set(activeCalls);
  return registry;
}

describe('mergeWorkerMetrics', () => {
  it('sums counters and histograms, keeps gauges per worker, and leaves the call gauges to the supervisor', async () => {
    const supervisor = processRegistry(1, [], 50, 3); // it counts the calls its workers lost; it sees 3 active
    const first = await processRegistry(4, [0.4, 0.8], 100, 2).getMetricsAsJSON();
    const second = await processRegistry(6, [1.5], 200, 1).getMetricsAsJSON();
    const text = await (await mergeWorkerMetrics(supervisor, [{ worker: '0', metrics: first }, { worker: '1', metrics: second }])).metrics();

    expect(text).toContain('piopiy_calls_total{reason="completed"} 11\n');
    expect(text).toContain('piopiy_stage_latency_seconds_bucket{le="0.5",stage="voice_to_voice"} 1\n');
    expect(text).toContain('piopiy_stage_latency_seconds_bucket{le="1",stage="voice_to_voice"} 2\n');
    expect(text).toContain('piopiy_stage_latency_seconds_bucket{le="+Inf",stage="voice_to_voice"} 3\n');
    expect(text).toContain('piopiy_stage_latency_seconds_count{stage="voice_to_voice"} 3\n');
    expect(text).toMatch(/piopiy_stage_latency_seconds_sum\{stage="voice_to_voice"\} 2\.7\d*\n/);
    expect(text).toContain('nodejs_heap_size_used_bytes 50\n');
    expect(text).toContain('nodejs_heap_size_used_bytes{worker="0"} 100\n');
    expect(text).toContain('nodejs_heap_size_used_bytes{worker="1"} 200\n');
    expect(text).toContain('piopiy_active_calls 3\n');
    expect(text).not.toMatch(/piopiy_active_calls\{/);
  });

  it("keeps each process's default metrics, whatever prom-client's cluster aggregator says", async () => {
    const { collectDefaultMetrics } = await import('prom-client');
    const supervisor = new Registry();
    collectDefaultMetrics({ register: supervisor });
    const worker = new Registry();
    collectDefaultMetrics({ register: worker });
    const text = await (await mergeWorkerMetrics(supervisor, [{ worker: '0', metrics: await worker.getMetricsAsJSON() }])).metrics();
    // `omit` in a cluster; here both processes' start times stay, the worker's under its label.
    expect(text).toMatch(/\nprocess_start_time_seconds \d+\n/);
    expect(text).toMatch(/\nprocess_start_time_seconds\{worker="0"\} \d+\n/);
    expect(text).toMatch(/\nnodejs_eventloop_lag_seconds\{worker="0"\} /);
  });
});
