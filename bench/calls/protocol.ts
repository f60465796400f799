// What the calls benchmark's orchestrator asks its workers to measure, and the pass criteria they apply.

export interface LatencyConfig {
  turns: number;
  warmTurns: number;
  timeoutMs: number;
}
export interface ConcurrencyConfig {
  n: number;
  durationMs: number;
  warmupMs: number;
}
export interface MemoryConfig {
  n: number;
  /** Seconds after the calls started at which memory is sampled (after forced GCs). */
  sampleAtS: number[];
}

export const ELD_RESOLUTION_MS = 10;
export const ELD_P99_LIMIT_MS = 20;
export const GAP_LIMIT_MS = 40;

