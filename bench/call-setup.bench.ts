// Call setup: from the agent receiving `join_room` to the first frame of the greeting reaching the caller. A real
// Agent (socket.io signaling, the simulator's WebSocket media) on the local Piopiy simulator, a VoiceAgent with
// Silero VAD, scripted STT/LLM and Flite TTS (voice slt, as in the demo), calls placed one after another.
//
// Start: the Agent's `join-room` diagnostic (AGENT_CHANNEL), stamped when the socket.io handler runs. End: the first
// agent audio frame the simulated caller receives (its WebSocket message handler, same process, same clock); the
// agent sends no audio before its greeting, so that frame is the greeting's first. Also reported: the first frame
// leaving the agent's output transport (its `bot-started-speaking`, pushed just before the chunk is written).
//
// Figures: `call_setup_first_ms` is the process's first call after a prewarmed `connect()` (Silero and Flite loaded
// by the Agent's warm-up); `call_setup_ms` the calls after it (p50/p99); `call_setup_first_cold_ms` the first call
// of a fresh process whose Agent warms nothing (run as a child process: a process is cold only once). Each carries
// the split of where the time goes (p50 for distributions):
//   session_ms   join_room → createSession entered
//   action_ms    createSession → voice.start() (VoiceAgent, services, action)
//   connect_ms   voice.start() → the caller's media joined (WebSocket to the simulator, caller-joined)
//   tts_ms       caller joined → the greeting's first audio out of the TTS
//   playout_ms   first TTS audio → first frame at the caller (output transport, socket)
// Usage: tsx bench/call-setup.bench.ts [--calls N]   (internal: --cold)
import { spawn } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { AGENT_CHANNEL, Agent, type AgentDiagnostic } from '../src/agent/index.js';
import { silentLogger } from '../src/logging/index.js';
import { FliteTTSService } from '../src/services/local/index.js';
import { ScriptedLLMService } from '../src/services/scripted/index.js';
import { ScriptedSTTService } from '../src/testing/fake-services.js';
import { startPiopiySimulator } from '../src/testing/simulator/index.js';
import { VoiceAgent } from '../src/voice-agent/index.js';
import { emit, hasFlag, percentile, round } from './lib.js';

const callsArg = process.argv.indexOf('--calls');
const CALLS = callsArg >= 0 ? Number(process.argv[callsArg + 1]) : 20;
const COLD = hasFlag('--cold');
const GREETING = 'Hello! How can I help you today?';
const VOICE = 'slt';

interface CallTimes {
  joinRoom?: number;
  session?: number;
  started?: number;
  callerJoined?: number;
  firstTtsAudio?: number;
  firstOutput?: number;
  firstHeard?: number;
}

type Split = Record<'call_setup_ms' | 'output_ms' | 'session_ms' | 'action_ms' | 'connect_ms' | 'tts_ms' | 'playout_ms', number>;

function split(t: CallTimes): Split {
  const need = (value: number | undefined, what: string): number => {
    if (value === undefined) throw new Error(`call-setup bench: no ${what} timestamp`);
    return value;
  };
  const joinRoom = need(t.joinRoom, 'join_room');
  const heard = need(t.firstHeard, 'first heard');
  return {
    call_setup_ms: heard - joinRoom,
    output_ms: need(t.firstOutput, 'first output') - joinRoom,
    session_ms: need(t.session, 'session') - joinRoom,
    action_ms: need(t.started, 'start') - need(t.session, 'session'),
    connect_ms: need(t.callerJoined, 'caller joined') - need(t.started, 'start'),
    tts_ms: need(t.firstTtsAudio, 'first TTS audio') - need(t.callerJoined, 'caller joined'),
    playout_ms: heard - need(t.firstTtsAudio, 'first TTS audio'),
  };
}

function rounded(s: Split): Record<string, number> {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v)]));
}

async function runCalls(count: number): Promise<{ splits: Split[]; prewarmMs: number }> {
  const sim = await startPiopiySimulator();
  const agentId = 'bench-agent';
  sim.addAgent({ agentId, token: 'bench-token' });
  const times = new Map<string, CallTimes>();
  const timesOf = (callId: string): CallTimes => {
    let t = times.get(callId);
    if (t === undefined) times.set(callId, (t = {}));
    return t;
  };
  const ended = new Set<string>();
  subscribe(AGENT_CHANNEL, (message) => {
    const event = message as AgentDiagnostic;
    if (event.event === 'join-room') timesOf(event.callId).joinRoom = event.at;
    else ended.add(event.callId);
  });

  const agent = new Agent({
    agentId,
    agentToken: 'bench-token',
    signalingUrl: sim.signalingUrl,
    logger: silentLogger,
    handleSignals: false,
    prewarmVAD: !COLD,
    prewarm: COLD ? undefined : () => FliteTTSService.prewarm({ voice: VOICE }),
    async createSession(call) {
      const t = timesOf(call.callId);
      t.session = performance.now();
      call.transport.events.once('caller-joined', () => (t.callerJoined = performance.now()));
      const voice = new VoiceAgent({ instructions: 'bench', greeting: GREETING, idleTimeoutSecs: 0 });
      await voice.action({
        stt: new ScriptedSTTService({ transcripts: [] }),
        llm: new ScriptedLLMService({ rules: [], fallback: 'Sure.' }),
        tts: new FliteTTSService({ voice: VOICE }),
        vad: true,
        observers: [
          {
            onPushFrame: (e) => {
              if (e.frame.type === 'tts-audio' && t.firstTtsAudio === undefined) t.firstTtsAudio = e.timestamp;
              if (
                e.frame.type === 'bot-started-speaking' &&
                e.direction === 'downstream' &&
                t.firstOutput === undefined
              ) {
                t.firstOutput = e.timestamp;
              }
            },
          },
        ],
      });
      t.started = performance.now();
      await voice.start();
    },
  });
  const connectStarted = performance.now();
  await agent.connect();
  const prewarmMs = performance.now() - connectStarted;
  await sim.waitForAgent(agentId);

  const splits: Split[] = [];
  for (let i = 0; i < count; i++) {
    const call = sim.placeCall({ agentId });
    const heard = await Promise.race([
      new Promise<number>((resolve) => {
        const off = call.onAgentAudio((frame) => {
          off();
          resolve(frame.at);
        });
      }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no greeting within 10 s')), 10_000)),
    ]);
    timesOf(call.callId).firstHeard = heard;
    call.hangUp();
    const deadline = performance.now() + 5000;
    while (!ended.has(call.callId) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    splits.push(split(timesOf(call.callId)));
    // A pause between calls, as between real ones: the previous call's teardown is not timed with the next.
    await new Promise((r) => setTimeout(r, 50));
  }
  await agent.shutdown({ drainMs: 0 });
  await sim.close();
  return { splits, prewarmMs };
}

/** The first call of a fresh process with no warm-up (this file run again with --cold). */
function coldFirstCall(): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--cold', '--calls', '1'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) reject(new Error(`cold run exited with ${code}`));
      else resolve(JSON.parse(line) as Record<string, number>);
    });
  });
}

async function main(): Promise<void> {
  if (COLD) {
    const { splits } = await runCalls(1);
    process.stdout.write(`${JSON.stringify(rounded(splits[0]!))}\n`);
    process.exit(0);
  }
  const { splits, prewarmMs } = await runCalls(1 + CALLS);
  const [first, ...warm] = splits;
  const common = { voice: `flite-${VOICE}`, vad: 'silero', endpoint: 'first frame at the simulated caller' };
  emit({ name: 'call_setup_first_ms', value: round(first!.call_setup_ms), unit: 'ms', ...common, ...rounded(first!), prewarmMs: round(prewarmMs) });
  const p50 = (key: keyof Split): number => round(percentile(warm.map((s) => s[key]).sort((a, b) => a - b), 50));
  const setup = warm.map((s) => s.call_setup_ms).sort((a, b) => a - b);
  emit({
    name: 'call_setup_ms',
    value: round(percentile(setup, 50)),
    unit: 'ms',
    p50: round(percentile(setup, 50)),
    p99: round(percentile(setup, 99)),
    calls: warm.length,
    ...common,
    output_ms: p50('output_ms'),
    session_ms: p50('session_ms'),
    action_ms: p50('action_ms'),
    connect_ms: p50('connect_ms'),
    tts_ms: p50('tts_ms'),
    playout_ms: p50('playout_ms'),
  });
  const cold = await coldFirstCall();
  emit({ name: 'call_setup_first_cold_ms', value: cold.call_setup_ms ?? Number.NaN, unit: 'ms', ...common, prewarm: 'none', ...cold });
}

await main();
