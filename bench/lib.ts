// Shared helpers for the benchmarks: every figure is one JSON object on its own stdout line (see DESIGN.md,
// "Measured, not assumed"). Each *.bench.ts file is a standalone script; bench/run.ts runs them in turn, each in
// a fresh process so one benchmark's JIT state and garbage do not colour the next.

import { existsSync, readFileSync } from 'node:fs';
import { createSeededRandom } from '../src/testing/random.js';

export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  /** For distributions: value is p50. */
  p50?: number;
  p99?: number;
}

export interface BenchResult extends BenchFigure {
  /** Side-by-side figures: the package compared with, its value in the same run and unit, value / peerValue. */
  peer?: string;
  peerValue?: number;
  ratio?: number;
  [extra: string]: unknown;
}

export function emit(result: BenchResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Emits a figure measured beside a peer's, with `ratio` = value / peerValue. */
export function emitSideBySide(
  result: BenchFigure & { [extra: string]: unknown },
  peer: string,
  peerValue: number,
): void {
  emit({ ...result, peer, peerValue: round(peerValue), ratio: round(result.value / peerValue, 3) });
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Nearest-rank percentile of an ascending array; p in [0, 100]. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/**
 * Runs `fn` repeatedly for at least `minMs` after a warm-up and returns the best of `rounds` measurements of
 * the mean time per call in milliseconds (best-of filters out scheduler noise on a shared machine).
 */
export function measureMs(fn: () => void, { minMs = 300, rounds = 5, warmupMs = 200 } = {}): number {
  const until = performance.now() + warmupMs;
  while (performance.now() < until) fn();
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    let calls = 0;
    const start = performance.now();
    let now = start;
    while (now - start < minMs) {
      fn();
      calls++;
      now = performance.now();
    }
    best = Math.min(best, (now - start) / calls);
  }
  return best;
}

export function hasFlag(flag: string): boolean {
  return process.argv.includes(flag);
}

/** Voiced-speech stand-in: a gliding 90–220 Hz pitch with decaying harmonics, a syllable envelope and some noise. */
export function speechLike(sampleRate: number, seconds: number, seed: number): Int16Array {
  const random = createSeededRandom(seed);
  const samples = new Int16Array(Math.round(sampleRate * seconds));
  let phase = 0;
  for (let i = 0; i < samples.length; i++) {
    const t = i / sampleRate;
    const pitch = 155 + 65 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * pitch) / sampleRate;
    let voiced = 0;
    for (let harmonic = 1; harmonic <= 12 && harmonic * pitch < sampleRate / 2; harmonic++) {
      voiced += Math.sin(harmonic * phase) / harmonic;
    }
    const envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
    samples[i] = Math.round(6000 * envelope * voiced + 800 * (random() - 0.5));
  }
  return samples;
}

/** One JSON line the peer harness printed (`../shared/peers/livekit-agents`), e.g. `lk_voice_to_voice_overhead_ms`. */
export interface PeerResult {
  name: string;
  value: number | null;
  unit?: string;
  p50?: number | null;
  p99?: number | null;
  [extra: string]: unknown;
}

/**
 * The peer's figures from this same `npm run bench -- --peers` invocation: bench/run.ts runs the peer first and
 * passes the file of its JSON lines in PIOPIY_BENCH_PEER_RESULTS. Empty when the run has no `--peers`.
 */
export function peerResults(): Map<string, PeerResult> {
  const file = process.env.PIOPIY_BENCH_PEER_RESULTS;
  const results = new Map<string, PeerResult>();
  if (file === undefined || file === '' || !existsSync(file)) return results;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as PeerResult;
      if (typeof parsed.name === 'string') results.set(parsed.name, parsed);
    } catch {
      // not a figure (the peer's harness prints only JSON lines, but a stray line must not end the run)
    }
  }
  return results;
}

/** Emits `result` beside the peer's figure `peerName` when the peer ran and measured it, else on its own. */
export function emitBesidePeer(
  result: BenchFigure & { [extra: string]: unknown },
  peerName: string,
  peer: Map<string, PeerResult> = peerResults(),
): void {
  const theirs = peer.get(peerName);
  if (theirs === undefined || typeof theirs.value !== 'number' || theirs.value === 0) {
    emit(result);
    return;
  }
  emit({
    ...result,
    peer: 'livekit-agents',
    peerFigure: peerName,
    peerValue: round(theirs.value),
    ...(typeof theirs.p50 === 'number' ? { peerP50: round(theirs.p50) } : {}),
    ...(typeof theirs.p99 === 'number' ? { peerP99: round(theirs.p99) } : {}),
    ratio: round(result.value / theirs.value, 3),
  });
}
