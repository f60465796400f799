// The agent's process of the LiveKit calls benchmark: the echo agent (./echo-agent.ts), nothing else, so its event
// loop delay and CPU are the agent's cost per call over real WebRTC (rtc-node's Opus, resampling and FFI included:
// process.cpuUsage counts its native threads too). Driven over IPC by ../livekit-calls.bench.ts:
//   ← { kind: 'ready', rssMb }        (connected, no calls yet)
//   → { kind: 'measure', ms, profile }  ← { kind: 'measured', sessions, eventLoopDelayMs, tickLatenessMs, heardOnsets,
//                                 cpuPercentOfOneCore, rssMb, cpuPercentByThread, cpuPercentByGroup, profile? }
// With `profile`, the JavaScript thread is profiled over the window only (node:inspector; the file goes to
// .bench/prof/), and summarised by ./cpu-profile.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { summariseProfile, type CpuProfile, type ProfileSummary } from './cpu-profile.js';
import { startEchoAgent } from './echo-agent.js';
import { machineMs, OnsetDetector, type TaggedOnset } from './echo-timing.js';
import { LatenessClock } from './lateness-clock.js';
import { cpuByGroup, threadCpuPercent, threadCpuSecs } from './thread-cpu.js';

const RESOLUTION_MS = 10;
const creds = JSON.parse(process.argv[2]!) as { agentId: string; agentToken: string; signalingUrl: string };
const clock = new LatenessClock();
/** A burst's onset: loud input after this much quiet (the callers pause 600 ms between bursts). */
const ONSET_QUIET_MS = 200;
const LOUD = 500;
const detectors = new Map<string, OnsetDetector>();
let heardOnsets: Record<string, TaggedOnset[]> | undefined;
const onEcho = (at: number, from: string | undefined, audio: Int16Array, rate: number): void => {
  const key = from ?? '?';
  let detector = detectors.get(key);
  if (detector === undefined) detectors.set(key, (detector = new OnsetDetector(LOUD, ONSET_QUIET_MS)));
  // The Echo passes on frames above its silence level; this finds where each burst starts and its pitch.
  const onset = detector.push(audio, at, rate);
  if (onset !== undefined && heardOnsets !== undefined) (heardOnsets[key] ??= []).push({ at: machineMs(onset.at), tag: onset.tag });
};
// 100 ms of each burst is held first: the output's gaps are then the agent's own, not the input's jitter.
const { agent, sessions } = await startEchoAgent({ ...creds, prebufferMs: 100, clock, onEcho });
const send = (message: object): void => void process.send?.(message);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function profiled(ms: number): Promise<ProfileSummary & { file: string }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  await sleep(ms);
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
  session.disconnect();
  const dir = join(process.cwd(), '.bench', 'prof');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `livekit-agent-${sessions()}-calls.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  return { ...summariseProfile(profile, 12), file };
}

async function measure(ms: number, profile: boolean): Promise<void> {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  clock.take();
  heardOnsets = {};
  const cpu = process.cpuUsage();
  const threads = threadCpuSecs();
  const started = performance.now();
  const summary = profile ? await profiled(ms) : await sleep(ms);
  histogram.disable();
  const used = process.cpuUsage(cpu);
  const elapsedMs = performance.now() - started;
  const lateMs = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  const byThread = threadCpuPercent(threads, threadCpuSecs(), elapsedMs, 0);
  send({
    kind: 'measured',
    sessions: sessions(),
    // The histogram counts the sampling timer's own period: subtracted, as the calls bench does.
    eventLoopDelayMs: { p50: lateMs(histogram.percentile(50)), p99: lateMs(histogram.percentile(99)), max: lateMs(histogram.max) },
    tickLatenessMs: clock.take(),
    heardOnsets,
    cpuPercentOfOneCore: ((used.user + used.system) / 1000 / elapsedMs) * 100,
    rssMb: process.memoryUsage().rss / 2 ** 20,
    cpuPercentByThread: Object.fromEntries(Object.entries(byThread).filter(([, pct]) => pct >= 0.5)),
    cpuPercentByGroup: cpuByGroup(byThread),
    ...(summary !== undefined ? { profile: summary } : {}),
  });
}

process.on('message', (raw) => {
  const message = raw as { kind: 'measure'; ms: number; profile?: boolean } | { kind: 'stop' };
  if (message.kind === 'stop') {
    void agent.shutdown({ drainMs: 0 }).finally(() => process.exit(0));
    return;
  }
  void measure(message.ms, message.profile === true);
});
send({ kind: 'ready', rssMb: process.memoryUsage().rss / 2 ** 20 });
