// The production-shaped capacity benchmark (`--only=capacity` of bench/calls.bench.ts): `piopiy-ai start
// bench/capacity/agent.ts --workers W` serves calls over real sockets from bench/capacity/environment.ts (another
// process: simulator, vendor fakes, callers). For W = 1 and 2 it ramps the concurrent calls until a step fails:
// voice-to-voice p99 more than VOICE_TO_VOICE_MARGIN_MS over the one-call median, agent audio arrival gaps p99 more
// than GAP_MARGIN_MS over one call's, or a turn unanswered. Every step prints a JSON line with the load average beside it: on a
// shared machine the figures are indicative only.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emit, percentile, round } from '../lib.js';
import { readProfile, summariseProfile } from '../livekit/cpu-profile.js';
import { processTreeUsage, watchPeakRss } from './process-usage.js';
import { AGENT_ID, AGENT_TOKEN, type EnvironmentReply, type EnvironmentRequest } from './protocol.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
// The bounds are relative to one call on the same agent in the same run, so the machine's background load (it is
// shared) is in the baseline rather than failing every step.
/** A step passes while its tail answer (p99) is at most this much slower than one call's typical answer (p50), */
export const VOICE_TO_VOICE_MARGIN_MS = 500;
/** its agent audio's arrival gaps (p99) at most this much over one call's, */
export const GAP_MARGIN_MS = 40;
/** and no turn goes unanswered. */

export interface CapacityOptions {
  readonly workers: readonly number[];
  readonly ladder: readonly number[];
  readonly turns: number;
  /** Profile the agent's processes (`node --cpu-prof`) through the ramp and print where their time went. */
  readonly cpuProfile?: boolean;
}

interface Step {
  readonly calls: number;
  readonly v2vP50: number;
  readonly v2vP99: number;
  readonly gapP99: number;
  readonly unanswered: number;
  /** CPU of the agent's processes during the step, in % of one core, per call */
  readonly cpuPercentPerCall: number;
  /** the agent processes' peak resident memory during the step, in MB */
  readonly peakRssMb: number;
}

class Environment {
  private readonly child: ChildProcess;
  private waiting: ((reply: EnvironmentReply) => void) | undefined;
  readonly ready: Promise<Extract<EnvironmentReply, { type: 'ready' }>>;

  constructor() {
    this.child = fork(join(here, 'environment.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve) => {
      this.child.once('message', (message: EnvironmentReply) => {
        if (message.type === 'ready') resolve(message);
        this.child.on('message', (next: EnvironmentReply) => this.waiting?.(next));
      });
    });
  }

  ask(request: EnvironmentRequest): Promise<EnvironmentReply> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.child.send(request);
    });
  }

  close(): void {
    this.child.kill('SIGKILL');
  }
}

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/**
 * Until every worker is ready (the supervisor's /metrics says so): signaling connects with the first, and a worker
 * still compiling the agent file would take CPU from the measured calls.
 */
async function allWorkersReady(port: number, workers: number, deadline: number): Promise<void> {
  while (performance.now() < deadline) {
    const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
    if (text.includes(`\npiopiy_workers_ready ${workers}\n`)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`capacity: ${workers} workers were not ready in time`);
}

function startAgent(workers: number, operationsPort: number, urls: Extract<EnvironmentReply, { type: 'ready' }>, profileDir: string | undefined): ChildProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AGENT_ID,
    AGENT_TOKEN,
    PIOPIY_SIGNALING_URL: urls.signalingUrl,
    BENCH_DEEPGRAM_URL: urls.deepgramUrl,
    BENCH_OPENAI_URL: urls.openaiUrl,
    BENCH_CARTESIA_URL: urls.cartesiaUrl,
    PIOPIY_LOG_LEVEL: 'warn',
  };
  // Worker processes inherit the supervisor's execArgv, so each writes its own profile when it exits.
  const profiling = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const args = [...profiling, '--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'start', join(here, 'agent.ts'), '--workers', String(workers), '--operations-port', String(operationsPort), '--operations-host', '127.0.0.1'];
  return spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function step(environment: Environment, agentPid: number, calls: number, turns: number): Promise<Step> {
  const before = processTreeUsage(agentPid);
  const started = performance.now();
  const peak = watchPeakRss(agentPid);
  const reply = await environment.ask({ type: 'run', calls, turns });
  const peakRssBytes = peak.stop();
  const cpuSecs = processTreeUsage(agentPid).cpuSecs - before.cpuSecs;
  const wallSecs = (performance.now() - started) / 1000;
  if (reply.type !== 'result') throw new Error(`capacity: unexpected reply ${reply.type}`);
  const v2v = [...reply.voiceToVoiceMs].sort((a, b) => a - b);
  const gaps = [...reply.gapsMs].sort((a, b) => a - b);
  return {
    calls,
    v2vP50: v2v.length === 0 ? NaN : percentile(v2v, 50),
    v2vP99: v2v.length === 0 ? NaN : percentile(v2v, 99),
    gapP99: gaps.length === 0 ? NaN : percentile(gaps, 99),
    unanswered: reply.unanswered,
    cpuPercentPerCall: (cpuSecs * 100) / wallSecs / calls,
    peakRssMb: peakRssBytes / 2 ** 20,
  };
}

const load = (): number => round(loadavg()[0] ?? 0, 1);

export async function measureCapacity(options: CapacityOptions): Promise<void> {
  const environment = new Environment();
  const urls = await environment.ready;
  try {
    for (const workers of options.workers) {
      const operationsPort = await freePort();
      const profileDir = options.cpuProfile === true ? mkdtempSync(join(tmpdir(), `capacity-prof-w${workers}-`)) : undefined;
      const agent = startAgent(workers, operationsPort, urls, profileDir);
      const agentPid = agent.pid ?? 0;
      try {
        const deadline = performance.now() + 120_000;
        while (!(await isConnected(environment))) {
          if (performance.now() > deadline || agent.exitCode !== null) throw new Error(`capacity: the agent (--workers ${workers}) did not connect`);
          await new Promise((r) => setTimeout(r, 500));
        }
        if (workers > 1) await allWorkersReady(operationsPort, workers, deadline);
        await new Promise((r) => setTimeout(r, 2000)); // the start-up's compilation and GC settle
        const idle = processTreeUsage(agentPid);
        emit({ name: 'capacity_idle_memory', value: round(idle.rssBytes / 2 ** 20, 1), unit: 'MB', workers, processes: idle.processes, loadAvg1m: load() });
        const idleRssMb = idle.rssBytes / 2 ** 20;
        const baseline = await step(environment, agentPid, 1, Math.max(options.turns, 5));
        emitStep(workers, baseline, true, idleRssMb);
        let best = 0;
        for (const calls of options.ladder) {
          const result = await step(environment, agentPid, calls, options.turns);
          const pass = passes(result, baseline);
          emitStep(workers, result, pass, idleRssMb);
          if (!pass) break;
          best = calls;
        }
        emit({ name: 'capacity_calls_per_process', value: best, unit: 'calls', workers, callsPerWorker: round(best / workers, 1), loadAvg1m: load(), indicative: true });
      } finally {
        await stopAgent(agent, profileDir !== undefined);
      }
      if (profileDir !== undefined) emitProfiles(workers, profileDir);
    }
  } finally {
    environment.close();
  }
}

async function isConnected(environment: Environment): Promise<boolean> {
  const reply = await environment.ask({ type: 'connected' });
  return reply.type === 'connected' && reply.connected;
}

function passes(result: Step, baseline: Step): boolean {
  return result.unanswered === 0 && result.v2vP99 <= baseline.v2vP50 + VOICE_TO_VOICE_MARGIN_MS && !(result.gapP99 > baseline.gapP99 + GAP_MARGIN_MS);
}

/** SIGKILL, or when profiling SIGTERM first: a profile is written only when the process exits on its own. */
async function stopAgent(agent: ChildProcess, graceful: boolean): Promise<void> {
  if (graceful && agent.exitCode === null) {
    const exited = new Promise<void>((resolve) => agent.once('exit', () => resolve()));
    agent.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
  }
  agent.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 1000));
}

/** One line per profiled process (the supervisor and each worker): its JavaScript thread's time by origin, and the top functions. */
function emitProfiles(workers: number, profileDir: string): void {
  for (const file of readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'))) {
    const summary = summariseProfile(readProfile(join(profileDir, file)), 12);
    emit({ name: 'capacity_cpu_profile', value: summary.wallMs, unit: 'ms', workers, file: join(profileDir, file), byOriginMs: summary.byOrigin, top: summary.top });
  }
}

function emitStep(workers: number, result: Step, pass: boolean, idleRssMb: number): void {
  emit({
    name: 'capacity_step',
    value: result.calls,
    unit: 'calls',
    workers,
    voiceToVoiceP50Ms: round(result.v2vP50, 0),
    voiceToVoiceP99Ms: round(result.v2vP99, 0),
    agentAudioGapP99Ms: round(result.gapP99, 0),
    unansweredTurns: result.unanswered,
    cpuPercentPerCall: round(result.cpuPercentPerCall, 2),
    peakRssMb: round(result.peakRssMb, 1),
    memoryPerCallMb: round((result.peakRssMb - idleRssMb) / result.calls, 2),
    pass,
    loadAvg1m: load(),
  });
}
