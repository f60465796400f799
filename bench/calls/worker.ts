// A measurement of the calls benchmark, run by bench/calls.bench.ts in a fresh process of its own:
//   worker.ts --kind=latency|concurrency|memory --cfg=<JSON>
// It sends one result object to the parent over IPC (or prints it when run by hand) and exits.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createSeededRandom } from '../../src/testing/random.js';
import { round } from '../lib.js';
import { loadBenchAudio, type BenchAudio } from './audio.js';
import { CALL_CONFIG, SimulatedCall, type TurnTiming } from './call.js';
import { parseArgs, stats } from './stats.js';
import { ELD_P99_LIMIT_MS, ELD_RESOLUTION_MS, GAP_LIMIT_MS, type ConcurrencyConfig, type LatencyConfig, type MemoryConfig } from './protocol.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const random = createSeededRandom(12345);

async function startCalls(audio: BenchAudio, n: number, measureFrom: number, spreadMs: number): Promise<SimulatedCall[]> {
  const calls: SimulatedCall[] = [];
  for (let i = 0; i < n; i++) {
    const call = new SimulatedCall({ audio, measureFrom, firstLine: i });
    await call.start(random() * spreadMs);
    calls.push(call);
  }
  return calls;
}

async function stopAll(calls: readonly SimulatedCall[]): Promise<void> {
  await Promise.race([Promise.allSettled(calls.map((c) => c.stop())), sleep(15000)]);
}

function timings(turns: readonly TurnTiming[]): {
  voiceToVoice: number[];
  vadEndOfSpeech: number[];
  runtime: number[];
} {
  return {
    voiceToVoice: turns.map((t) => t.voiceToVoice),
    vadEndOfSpeech: turns.flatMap((t) => (t.vadEndOfSpeech === undefined ? [] : [t.vadEndOfSpeech])),
    runtime: turns.flatMap((t) => (t.runtime === undefined ? [] : [t.runtime])),
  };
}

const silence = CALL_CONFIG.configuredSilenceMs;
const minus = (values: number[], ms: number): number[] => values.map((v) => v - ms);

async function latency(audio: BenchAudio, cfg: LatencyConfig): Promise<Record<string, unknown>> {
  const call = new SimulatedCall({ audio, measureFrom: 0, maxTurns: cfg.turns + cfg.warmTurns });
  await call.start(1000);
  const deadline = performance.now() + cfg.timeoutMs;
  while (!call.finished && performance.now() < deadline) await sleep(200);
  await call.stop();
  const measured = call.stats.turns.slice(cfg.warmTurns);
  const t = timings(measured);
  return {
    kind: 'latency',
    overhead: stats(minus(t.voiceToVoice, silence)),
    voiceToVoice: stats(t.voiceToVoice),
    vadEndOfSpeechLag: stats(minus(t.vadEndOfSpeech, silence)),
    lastFrameToVadEos: stats(t.vadEndOfSpeech),
    runtime: stats(t.runtime),
    turns: measured.length,
    warmTurns: cfg.warmTurns,
    missed: call.stats.missed,
    unexpected: call.stats.unexpected,
    maxGapMs: round(Math.max(0, ...call.stats.gaps)),
  };
}

async function concurrency(audio: BenchAudio, cfg: ConcurrencyConfig): Promise<Record<string, unknown>> {
  const started = performance.now();
  const measureFrom = started + cfg.warmupMs;
  const calls = await startCalls(audio, cfg.n, measureFrom, 3000);
  const startupMs = performance.now() - started;
  await sleep(measureFrom - performance.now());
  const histogram = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  histogram.enable();
  let rssMax = 0;
  while (performance.now() - t0 < cfg.durationMs) {
    await sleep(1000);
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
  }
  histogram.disable();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpuBefore);
  const gaps = calls.flatMap((c) => c.stats.gaps);
  const t = timings(calls.flatMap((c) => c.stats.turns));
  const missed = calls.reduce((a, c) => a + c.stats.missed, 0);
  // Node's histogram records the whole timer interval (resolution + lateness): the delay is the lateness.
  const net = (ns: number): number => round(Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS));
  const eld = {
    p50: net(histogram.percentile(50)),
    p99: net(histogram.percentile(99)),
    max: net(histogram.max),
    mean: net(histogram.mean),
    raw_p50: round(histogram.percentile(50) / 1e6),
    raw_p99: round(histogram.percentile(99) / 1e6),
    raw_max: round(histogram.max / 1e6),
    resolution: ELD_RESOLUTION_MS,
  };
  const maxGap = gaps.length === 0 ? 0 : Math.max(...gaps);
  const result = {
    kind: 'concurrency',
    n: cfg.n,
    pass: eld.p99 < ELD_P99_LIMIT_MS && maxGap <= GAP_LIMIT_MS,
    eventLoopDelayMs: eld,
    maxGapMs: round(maxGap),
    gapsOver40: gaps.filter((g) => g > GAP_LIMIT_MS).length,
    maxLateMs: round(Math.max(0, ...calls.map((c) => c.stats.maxLateMs))),
    underruns: gaps.length,
    voiceToVoiceMs: stats(t.voiceToVoice),
    overheadMs: stats(minus(t.voiceToVoice, silence)),
    vadEndOfSpeechLagMs: stats(minus(t.vadEndOfSpeech, silence)),
    lastFrameToVadEosMs: stats(t.vadEndOfSpeech),
    runtimeMs: stats(t.runtime),
    turns: t.voiceToVoice.length,
    missedReplies: missed,
    callsWithoutReply: calls.filter((c) => c.stats.replies === 0).length,
    cpuPercentOfOneCore: round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
    rssMb: round(rssMax / 2 ** 20),
    measuredSeconds: round(wallMs / 1000),
    startupMs: round(startupMs),
  };
  await stopAll(calls);
  return result;
}

interface MemorySample {
  atS: number;
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  replies: number;
}

async function sampleMemory(): Promise<Omit<MemorySample, 'atS' | 'replies'>> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the memory measurement needs node --expose-gc');
  gc();
  await sleep(300);
  gc();
  await sleep(300);
  const samples: NodeJS.MemoryUsage[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(process.memoryUsage());
    await sleep(100);
  }
  const median = (key: keyof NodeJS.MemoryUsage): number =>
    round(samples.map((m) => m[key]).sort((a, b) => a - b)[2]! / 2 ** 20);
  return { rssMb: median('rss'), heapUsedMb: median('heapUsed'), externalMb: median('external'), arrayBuffersMb: median('arrayBuffers') };
}

async function memory(audio: BenchAudio, cfg: MemoryConfig): Promise<Record<string, unknown>> {
  // Load the model (and everything a call needs) once before the baseline, so the slope is the calls' own cost.
  const warm = new SimulatedCall({ audio, measureFrom: Number.POSITIVE_INFINITY, maxTurns: 0 });
  await warm.start(0);
  await warm.stop();
  const before = await sampleMemory();
  const calls = await startCalls(audio, cfg.n, 0, 2000);
  const t0 = performance.now();
  const samples: MemorySample[] = [];
  for (const atS of cfg.sampleAtS) {
    await sleep(atS * 1000 - (performance.now() - t0));
    const at = round((performance.now() - t0) / 1000);
    const replies = calls.reduce((a, c) => a + c.stats.replies, 0);
    samples.push({ atS: at, replies, ...(await sampleMemory()) });
  }
  const missed = calls.reduce((a, c) => a + c.stats.missed, 0);
  await stopAll(calls);
  return { kind: 'memory', n: cfg.n, before, samples, missed };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const kind = args.get('kind');
  const cfg: unknown = JSON.parse(args.get('cfg') ?? '{}');
  const audio = loadBenchAudio(root);
  let result: Record<string, unknown>;
  if (kind === 'latency') result = await latency(audio, cfg as LatencyConfig);
  else if (kind === 'concurrency') result = await concurrency(audio, cfg as ConcurrencyConfig);
  else if (kind === 'memory') result = await memory(audio, cfg as MemoryConfig);
  else throw new Error(`unknown worker kind ${String(kind)}`);
  if (process.send !== undefined) await new Promise<void>((resolve) => process.send!(result, () => resolve()));
  else process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
