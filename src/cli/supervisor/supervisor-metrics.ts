// The supervisor's own metrics about its workers (their calls, memory, readiness and replacements), read from its
// bookkeeping when scraped. The workers' metrics themselves are merged in by AgentOperations (worker-metrics.ts).
import { Gauge, type Registry } from 'prom-client';
import type { WorkerProcess } from './worker-process.js';

/** Workers replaced, by why. */
export interface RestartCounts {
  crashed: number;
  memory: number;
  unresponsive: number;
}

export function addWorkerMetrics(registry: Registry, workers: ReadonlyMap<number, WorkerProcess>, counts: () => Readonly<RestartCounts>): void {
  const registers = [registry];
  new Gauge({
    name: 'piopiy_worker_active_calls',
    help: 'Calls each worker process is serving now.',
    labelNames: ['worker'],
    registers,
    collect() {
      this.reset();
      for (const [slot, worker] of workers) this.set({ worker: String(slot) }, worker.rooms.size);
    },
  });
  new Gauge({
    name: 'piopiy_worker_memory_bytes',
    help: 'Resident memory of each worker process, as it last reported.',
    labelNames: ['worker'],
    registers,
    collect() {
      this.reset();
      for (const [slot, worker] of workers) this.set({ worker: String(slot) }, worker.rssBytes);
    },
  });
  new Gauge({
    name: 'piopiy_workers_ready',
    help: 'Worker processes taking calls.',
    registers,
    collect() {
      this.set([...workers.values()].filter((w) => w.available).length);
    },
  });
  // A gauge read from the supervisor's own count: it only grows, like a counter, and cannot drift from it.
  new Gauge({
    name: 'piopiy_worker_restarts_total',
    help: 'Worker processes replaced, by why: crashed (exited unasked), memory (over --worker-memory-mb) or unresponsive (answered no ping within --worker-timeout-ms, or was not serving within --worker-start-timeout-ms).',
    labelNames: ['reason'],
    registers,
    collect() {
      const { crashed, memory, unresponsive } = counts();
      this.set({ reason: 'crashed' }, crashed);
      this.set({ reason: 'memory' }, memory);
      this.set({ reason: 'unresponsive' }, unresponsive);
    },
  });
}
