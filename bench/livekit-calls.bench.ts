// Calls per process over real WebRTC (issue 15): how many echo calls one agent process keeps in real time on the
// production media path (Agent → LiveKitTransport → @livekit/rtc-node → the LiveKit test server on werift), and
// where that process's CPU goes. The agent is alone in its process (bench/livekit/agent-worker.ts); the simulator,
// the test server and the N rtc-node callers are in another (bench/livekit/caller-host.ts), so the callers' Opus
// work is not counted against the agent. The agent is an echo (bench/livekit/echo-agent.ts: no VAD, STT, LLM or
// TTS): what is measured is the media path alone. Each caller says 400 ms tone bursts every second, cycling through six pitches so each
// echo names its burst.
//
//   livekit_calls_trial      N calls for --duration s after --warmup s, N = 1, 2, 4, 8 ... until one fails. Pass
//                            (bench/livekit/calls-verdict.ts): all N up; the agent's audio ticks (its output pacing)
//                            late by < 20 ms at p99; the round trip (burst sent → its echo's first sample heard) p99
//                            < 800 ms; < 1% of the echoed audio lost and < 1% of bursts unanswered. p50/p99 are the
//                            round trip; CPU is the agent process's user+sys per wall second (its native threads too).
//   livekit_calls_realtime   the largest N that passed (the shape of the peer's lk_concurrent_sessions_realtime; not
//                            beside it: the peer's sessions have no WebRTC and run a VAD)
//   livekit_calls_cpu        at --profile-n calls: the agent's CPU by thread group (rtc-node's native threads vs the
//                            JS main thread, from /proc) and the JS thread's V8 profile over the window (top self time)
// Each figure carries the load average (1 min) before and after: the machine may be shared.
//
// Flags (`--x=y`): --lk-ns=1,2,4,8,16,32,64 (not --ns: bench/run.ts passes that one to every bench)
//   --duration=20 (s per N)  --warmup=5 (s)  --profile-n=8 (0: no profile)  --media=livekit|stream (stream: the same
//   trial on the simulator's stream path)  --rt-p99-limit=800  --tick-p99-limit=20 (ms; the transport writes 200 ms
//   ahead, so ticks up to ~180 ms late are not heard: a looser limit shows how far a loaded machine goes before the
//   caller would hear it)  --trace-hops (each trial line also gives `inbound_hops_ms`: the inbound half split by hop,
//   bench/livekit/hop-trace.ts)
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, slope, stats } from './calls/stats.js';
import { emit, round } from './lib.js';
import type { ProfileSummary } from './livekit/cpu-profile.js';
import { DEFAULT_CRITERIA, verdict, type CallsCriteria } from './livekit/calls-verdict.js';
import { inboundDelays, type TaggedOnset } from './livekit/echo-timing.js';
import { hopDelays, type HopTrace } from './livekit/hop-trace.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const args = parseArgs(process.argv.slice(2));
const ladder = (args.get('lk-ns') ?? '1,2,4,8,16,32,64').split(',').map(Number).filter((n) => n > 0);
const durationMs = Number(args.get('duration') ?? 20) * 1000;
const warmupMs = Number(args.get('warmup') ?? 5) * 1000;
const profileN = Number(args.get('profile-n') ?? 8);
const media = args.get('media') === 'stream' ? 'stream' : 'livekit';
const traceHops = args.has('trace-hops') && media === 'livekit';
const criteria: CallsCriteria = {
  ...DEFAULT_CRITERIA,
  roundTripP99LtMs: Number(args.get('rt-p99-limit') ?? DEFAULT_CRITERIA.roundTripP99LtMs),
  tickLatenessP99LtMs: Number(args.get('tick-p99-limit') ?? DEFAULT_CRITERIA.tickLatenessP99LtMs),
};

const load = (): number => round(loadavg()[0]!);

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

interface Latency { p50: number; p99: number; max: number }
interface AgentMeasure {
  sessions: number;
  eventLoopDelayMs: Latency;
  tickLatenessMs: Latency & { ticks: number };
  heardOnsets: Record<string, TaggedOnset[]>;
  cpuPercentOfOneCore: number;
  rssMb: number;
  cpuPercentByThread: Record<string, number>;
  cpuPercentByGroup: Record<string, number>;
  profile?: ProfileSummary & { file: string };
}
interface CallerMeasure {
  loudFrames: number;
  dropoutFrames: number;
  roundTripMs: number[];
  unanswered: number;
  sentOnsets: Record<string, TaggedOnset[]>;
  cpuPercentOfOneCore: number;
  eventLoopDelayMs: Latency;
  hops?: HopTrace;
}
interface Tried {
  n: number;
  pass: boolean;
  failed?: string;
  rt_p99_ms?: number | null;
  tick_p99_ms?: number;
  eld_p99_ms?: number;
  cpu_percent?: number;
  rss_mb?: number;
  error?: string;
}

const exited = (child: ChildProcess): Promise<void> =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => (clearTimeout(kill), resolve()));
  });

async function trial(n: number): Promise<Tried> {
  const execArgv = ['--import', 'tsx'];
  const callers = fork(join(benchDir, 'livekit', 'caller-host.ts'), traceHops ? [media, 'trace-hops'] : [media], { execArgv, stdio: ['ignore', 2, 2, 'ipc'], cwd: root });
  let agent: ChildProcess | undefined;
  const loadAtStart = load();
  try {
    const creds = await next<{ agentId: string; agentToken: string; signalingUrl: string }>(callers, 'ready', 30_000);
    agent = fork(join(benchDir, 'livekit', 'agent-worker.ts'), [JSON.stringify(creds)], { execArgv, stdio: ['ignore', 2, 2, 'ipc'], cwd: root });
    const idle = await next<{ rssMb: number }>(agent, 'ready', 30_000);
    callers.send({ kind: 'place', n });
    const placed = await next<{ answered: boolean; setupMs: number }>(callers, 'placed', 150_000);
    await new Promise((resolve) => setTimeout(resolve, warmupMs));
    const loadBefore = load();
    const profile = n === profileN;
    agent.send({ kind: 'measure', ms: durationMs, profile });
    callers.send({ kind: 'measure', ms: durationMs });
    const [a, c] = await Promise.all([
      next<AgentMeasure>(agent, 'measured', durationMs + 30_000),
      next<CallerMeasure>(callers, 'measured', durationMs + 30_000),
    ]);
    const rt = stats(c.roundTripMs);
    const inbound = stats(inboundDelays(c.sentOnsets, a.heardOnsets));
    const tick = a.tickLatenessMs;
    const result = verdict({
      n,
      answered: placed.answered,
      sessions: a.sessions,
      tickLatenessP99Ms: tick.p99,
      roundTripP99Ms: rt.p99,
      bursts: rt.n,
      unanswered: c.unanswered,
      loudFrames: c.loudFrames,
      dropoutFrames: c.dropoutFrames,
    }, criteria);
    const loads = [loadAtStart, loadBefore, load()];
    const r1 = (x: number): number => round(x, 1);
    emit({
      name: 'livekit_calls_trial',
      value: n,
      unit: 'calls',
      p50: rt.p50 ?? Number.NaN,
      p99: rt.p99 ?? Number.NaN,
      p_unit: 'ms round trip (burst sent → echo heard)',
      pass: result.pass,
      ...(result.failed !== undefined ? { failed: result.failed } : {}),
      media,
      round_trip_ms: rt,
      // The first half: the caller's burst → the agent's pipeline hearing it (the rest is the way back).
      inbound_ms: inbound,
      outbound_ms_p50: rt.p50 === null || inbound.p50 === null ? null : round(rt.p50 - inbound.p50),
      unanswered_bursts: c.unanswered,
      tick_lateness_ms: { p50: round(tick.p50), p99: round(tick.p99), max: round(tick.max), ticks: tick.ticks },
      event_loop_delay_ms: { p50: round(a.eventLoopDelayMs.p50), p99: round(a.eventLoopDelayMs.p99), max: round(a.eventLoopDelayMs.max) },
      dropout_percent: round((c.loudFrames === 0 ? 1 : c.dropoutFrames / (c.loudFrames + c.dropoutFrames)) * 100, 3),
      cpu_percent_of_one_core: r1(a.cpuPercentOfOneCore),
      cpu_percent_per_call: round(a.cpuPercentOfOneCore / n),
      cpu_percent_by_group: a.cpuPercentByGroup,
      rss_mb: round(a.rssMb),
      rss_mb_per_call: round((a.rssMb - idle.rssMb) / n),
      rss_mb_idle: round(idle.rssMb),
      callers_cpu_percent_of_one_core: r1(c.cpuPercentOfOneCore),
      callers_event_loop_delay_ms: { p50: round(c.eventLoopDelayMs.p50), p99: round(c.eventLoopDelayMs.p99), max: round(c.eventLoopDelayMs.max) },
      ...(c.hops !== undefined
        ? {
            inbound_hops_ms: Object.fromEntries(
              Object.entries(hopDelays(c.hops, c.sentOnsets, a.heardOnsets)).map(([hop, ms]) => [hop, stats(ms)]),
            ),
            capture_wait_ms: stats(c.hops.captureWaitMs),
          }
        : {}),
      sessions: a.sessions,
      startup_ms: Math.round(placed.setupMs),
      measured_s: durationMs / 1000,
      load_1m: loads,
    });
    if (profile) {
      emit({
        name: 'livekit_calls_cpu',
        value: r1(a.cpuPercentOfOneCore),
        unit: '% of one core',
        calls: n,
        media,
        by_group: a.cpuPercentByGroup,
        by_thread: a.cpuPercentByThread,
        js_profile: a.profile === undefined ? null : { window_ms: a.profile.wallMs, by_origin_ms: a.profile.byOrigin, top_self_ms: a.profile.top, file: a.profile.file },
        note: 'the JS profile runs during this window and costs the main thread some CPU itself',
        load_1m: loads,
      });
    }
    return { n, pass: result.pass, ...(result.failed !== undefined ? { failed: result.failed } : {}), rt_p99_ms: rt.p99, tick_p99_ms: round(tick.p99), eld_p99_ms: round(a.eventLoopDelayMs.p99), cpu_percent: r1(a.cpuPercentOfOneCore), rss_mb: round(a.rssMb) };
  } catch (error) {
    const message = (error as Error).message;
    emit({ name: 'livekit_calls_trial', value: n, unit: 'calls', pass: false, media, error: message, load_1m: [loadAtStart, load()] });
    return { n, pass: false, error: message };
  } finally {
    agent?.send({ kind: 'stop' });
    callers.send({ kind: 'stop' });
    await Promise.all([agent, callers].flatMap((child) => (child === undefined ? [] : [exited(child)])));
  }
}

const tried: Tried[] = [];
for (const n of ladder) {
  const t = await trial(n);
  tried.push(t);
  if (!t.pass) break;
}
const best = tried.filter((t) => t.pass).at(-1);
// Per call, as the slope over the trials measured (each a fresh process): the first call also pays for loading
// rtc-node's WebRTC stack, which a slope leaves out.
const measured = tried.filter((t) => t.rss_mb !== undefined && t.cpu_percent !== undefined);
const perCall = (key: 'rss_mb' | 'cpu_percent'): number | null =>
  measured.length < 2 ? null : round(slope(measured.map((t) => [t.n, t[key]!] as const)));
emit({
  name: 'livekit_calls_realtime',
  value: best?.n ?? 0,
  unit: 'calls',
  p99: best?.rt_p99_ms ?? Number.NaN,
  p_unit: 'ms round trip p99 at the largest passing N',
  media,
  first_failing_n: tried.find((t) => !t.pass)?.n ?? null,
  tried,
  criteria: {
    tick_lateness_p99_lt_ms: criteria.tickLatenessP99LtMs,
    round_trip_p99_lt_ms: criteria.roundTripP99LtMs,
    dropout_lt_percent: criteria.dropoutLt * 100,
    unanswered_lt_percent: criteria.unansweredLt * 100,
  },
  rss_mb_per_call_slope: perCall('rss_mb'),
  cpu_percent_per_call_slope: perCall('cpu_percent'),
  seconds_per_n: durationMs / 1000,
  load_1m: load(),
});
process.exit(0);
