// The production media path measured (issue 15): a LiveKit room over real WebRTC on loopback (the LiveKit test
// server on werift, @livekit/rtc-node on both sides) beside the simulator's stream path, with the same agent — an
// echo (bench/livekit/echo-agent.ts): no VAD, STT, LLM or TTS, so what is measured is the media path alone.
//
//   media_round_trip_ms      a 440 Hz burst's first sample at the caller → its echo's first sample heard back, per
//                            media; `inbound_ms` is the first half (caller → the agent's pipeline)
//   media_tone_snr_db        the echoed burst against the best-fitting sine (median of 100 ms blocks): on LiveKit
//                            after Opus and rtc-node's resampling both ways
//   livekit_calls_trial      N echo calls at once over real WebRTC: the agent alone in its process (the simulator,
//                            the test server and the N rtc-node callers in another); pass = the agent's event-loop
//                            delay p99 < 20 ms and under 1% of the echoed audio lost (silent 10 ms frames inside a
//                            burst, as the caller heard it)
//   livekit_calls_realtime   the largest N that passed
// Each figure carries the load average (1 min) when it was taken: the machine may be shared.
//
// Flags (`--x=y`): --only=round-trip,concurrency  --bursts=10  --ns=5,10,20,40,60  --duration=20 (s per N)
//   --warmup=5 (s)  --media=livekit|stream (the trials' media: stream gives the same trial on the simulator's stream
//   path, for comparison)  --cpu-prof (the agent's process writes a V8 CPU profile to .bench/prof/)
// The voice-to-voice time of the demo over LiveKit is `piopiy-ai demo --media livekit --json` (latency field).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './calls/stats.js';
import { emit, percentile, round } from './lib.js';
import { measureRoundTrip } from './livekit/round-trip.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const args = parseArgs(process.argv.slice(2));
const only = new Set((args.get('only') ?? 'round-trip,concurrency').split(','));
const bursts = Number(args.get('bursts') ?? 10);
const ladder = (args.get('ns') ?? '5,10,20,40,60').split(',').map(Number).filter((n) => n > 0);
const durationMs = Number(args.get('duration') ?? 20) * 1000;
const warmupMs = Number(args.get('warmup') ?? 5) * 1000;
const cpuProfile = args.has('cpu-prof');
const trialMedia = args.get('media') === 'stream' ? 'stream' : 'livekit';
const ELD_P99_LIMIT_MS = 20;
const DROPOUT_LIMIT = 0.01;

const load = (): number => round(loadavg()[0]!);
const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), min: round(sorted[0] ?? NaN), max: round(sorted.at(-1) ?? NaN), n: sorted.length };
};

async function roundTrips(): Promise<void> {
  for (const media of ['stream', 'livekit'] as const) {
    const loadBefore = load();
    const r = await measureRoundTrip(media, bursts);
    const rt = stats(r.roundTripMs);
    const snr = stats(r.snrDb);
    const common = { media, caller_rate: r.callerRate, agent_output_rate: r.agentOutputRate, load_1m: [loadBefore, load()] };
    emit({ name: 'media_round_trip_ms', value: rt.p50, unit: 'ms', ...rt, inbound_ms: stats(r.inboundMs), ...common });
    emit({ name: 'media_tone_snr_db', value: snr.p50, unit: 'dB', ...snr, ...common });
  }
}

/** The next IPC message of `kind` from `child`, or an error after `timeoutMs`. */
function next<T>(child: ChildProcess, kind: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no ${kind} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: unknown): void => {
      if ((message as { kind?: string }).kind !== kind) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message as T);
    };
    child.on('message', onMessage);
  });
}

interface AgentMeasure {
  sessions: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  cpuPercentOfOneCore: number;
  rssMb: number;
  cpuPercentByThread: Record<string, number>;
}
interface CallerMeasure { loudFrames: number; dropoutFrames: number; cpuPercentOfOneCore: number }

async function trial(n: number): Promise<boolean> {
  const execArgv = ['--import', 'tsx'];
  const callers = fork(join(benchDir, 'livekit', 'caller-host.ts'), [trialMedia], { execArgv, stdio: ['ignore', 2, 2, 'ipc'], cwd: root });
  let agent: ChildProcess | undefined;
  try {
    const creds = await next<{ agentId: string; agentToken: string; signalingUrl: string }>(callers, 'ready', 30_000);
    const agentArgv = [...execArgv];
    if (cpuProfile) {
      const dir = join(root, '.bench', 'prof');
      mkdirSync(dir, { recursive: true });
      agentArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=livekit-agent-${n}.cpuprofile`);
    }
    agent = fork(join(benchDir, 'livekit', 'agent-worker.ts'), [JSON.stringify(creds)], { execArgv: agentArgv, stdio: ['ignore', 2, 2, 'ipc'], cwd: root });
    await next(agent, 'ready', 30_000);
    callers.send({ kind: 'place', n });
    const placed = await next<{ answered: boolean; setupMs: number }>(callers, 'placed', 150_000);
    await new Promise((resolve) => setTimeout(resolve, warmupMs));
    const loadBefore = load();
    agent.send({ kind: 'measure', ms: durationMs });
    callers.send({ kind: 'measure', ms: durationMs });
    const [a, c] = await Promise.all([
      next<AgentMeasure>(agent, 'measured', durationMs + 30_000),
      next<CallerMeasure>(callers, 'measured', durationMs + 30_000),
    ]);
    const dropout = c.loudFrames === 0 ? 1 : c.dropoutFrames / (c.loudFrames + c.dropoutFrames);
    const pass = placed.answered && a.sessions === n && a.eventLoopDelayMs.p99 < ELD_P99_LIMIT_MS && dropout < DROPOUT_LIMIT;
    emit({
      name: 'livekit_calls_trial',
      value: n,
      unit: 'calls',
      pass,
      media: trialMedia,
      sessions: a.sessions,
      all_answered: placed.answered,
      setup_s: round(placed.setupMs / 1000),
      event_loop_delay_ms: { p50: round(a.eventLoopDelayMs.p50), p99: round(a.eventLoopDelayMs.p99), max: round(a.eventLoopDelayMs.max) },
      dropout_percent: round(dropout * 100, 3),
      agent_cpu_percent_of_one_core: round(a.cpuPercentOfOneCore, 1),
      agent_cpu_percent_per_call: round(a.cpuPercentOfOneCore / n, 2),
      agent_rss_mb: round(a.rssMb),
      agent_cpu_percent_by_thread: a.cpuPercentByThread,
      callers_cpu_percent_of_one_core: round(c.cpuPercentOfOneCore, 1),
      measured_s: durationMs / 1000,
      load_1m: [loadBefore, load()],
    });
    return pass;
  } catch (error) {
    emit({ name: 'livekit_calls_trial', value: n, unit: 'calls', pass: false, error: (error as Error).message, load_1m: load() });
    return false;
  } finally {
    agent?.send({ kind: 'stop' });
    callers.send({ kind: 'stop' });
    const exited = (child: ChildProcess): Promise<void> =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => (clearTimeout(kill), resolve()));
      });
    await Promise.all([agent, callers].flatMap((child) => (child === undefined ? [] : [exited(child)])));
  }
}

async function concurrency(): Promise<void> {
  let best = 0;
  for (const n of ladder) {
    if (!(await trial(n))) break;
    best = n;
  }
  emit({ name: 'livekit_calls_realtime', value: best, unit: 'calls', media: trialMedia, ladder, criteria: `agent event-loop delay p99 < ${ELD_P99_LIMIT_MS} ms, dropouts < ${DROPOUT_LIMIT * 100}%` });
}

if (only.has('round-trip')) await roundTrips();
if (only.has('concurrency')) await concurrency();
process.exit(0);
