// `piopiy-ai demo`: one simulated inbound call, end to end, on this machine with no keys and no network.
// It starts the local Piopiy simulator, points an agent file (default: examples/transfer-agent.ts) at it through
// the environment — the agent file itself is unchanged user code, using the real Agent, VoiceAgent and
// RestClient — places a call, and plays the caller: wait for the greeting, say each line (Flite speech), wait
// for the answer. With `demoScenario.outbound`, the agent file places the call itself (`ai.call`) and the demo
// plays the callee who answers it. It prints a live transcript with per-turn latency and, with --json, one JSON
// summary as the last line; the recording of both sides is written as a stereo WAV (caller left, agent right).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeWavFile } from '../audio/index.js';
import { startPiopiySimulator, type SimulatedCall, type TimedAudio } from '../testing/simulator/index.js';
import { VOICE_AGENT_CHANNEL, type VoiceAgentDiagnostic } from '../voice-agent/index.js';

export interface DemoOptions {
  agentFile: string;
  /**
   * The caller's lines. Default: the agent file's `demoScenario.say` when it exports one, else one request for a
   * human (and then the call must end in a transfer).
   */
  say?: string[];
  json: boolean;
  /** Where the WAV goes. Default: the system temp folder. */
  recordingDir?: string;
  /** Longest the whole call may take. Default 60 s. */
  timeoutSecs?: number;
  /** Whether the call must end in a transfer. Default: as the scenario says (true for the default lines). */
  expectTransfer?: boolean;
  /** Where progress and the transcript go (stderr when --json, so stdout carries only the JSON). */
  out: (line: string) => void;
  progress: (line: string) => void;
}

export interface DemoTurn {
  role: 'assistant' | 'user';
  text: string;
  startMs: number;
  endMs: number;
}

export interface DemoResult {
  ok: boolean;
  reason?: string;
  callId: string;
  turns: DemoTurn[];
  toolCalls: { name: string; arguments: unknown; result: unknown; error?: string }[];
  restRequests: { method: string; path: string; body: unknown }[];
  transferredTo: string | null;
  latency: { voiceToVoiceMs: number[] };
  recording: string;
}

export const DEFAULT_LINES = ['I want to talk to a human please'];

/** What an agent file may export to script its own demo call. */
export interface DemoScenario {
  say: string[];
  /** Whether the call must end in a transfer. Default false. */
  expectTransfer?: boolean;
  /**
   * The agent places the call (`piopiy.ai.call` to any number, with `agentId: process.env.AGENT_ID`) instead of
   * receiving one: the demo waits for that call and says the lines as the callee. Default false.
   */
  outbound?: boolean;
}

const SPEECH_THRESHOLD = 500;

function isSpeech(frame: TimedAudio): boolean {
  for (let i = 0; i < frame.audio.length; i++) if (Math.abs(frame.audio[i]!) > SPEECH_THRESHOLD) return true;
  return false;
}

/** Resolves once the agent has spoken and then been silent for `silenceMs` (or the call ended). */
async function agentFinishedSpeaking(call: SimulatedCall, since: number, silenceMs: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!call.isEnded && performance.now() < deadline) {
    const lastSpeech = [...call.received].reverse().find((f) => f.at > since && isSpeech(f));
    if (lastSpeech !== undefined && performance.now() - lastSpeech.at >= silenceMs) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return call.isEnded;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const { out, progress } = options;
  // The transcript is the demo's output; library logs only when something goes wrong (unless asked for).
  process.env.PIOPIY_LOG_LEVEL ??= 'warn';
  progress('starting the local Piopiy simulator ...');
  const sim = await startPiopiySimulator();
  // The agent file reads its configuration from the environment, as it would on a server.
  const agentEnvironment = sim.agentEnvironment();
  const agentId = agentEnvironment.AGENT_ID;
  Object.assign(process.env, agentEnvironment, { DOTENV_CONFIG_QUIET: 'true' });


  const events: VoiceAgentDiagnostic[] = [];
  const onEvent = (message: unknown): void => {
    const event = message as VoiceAgentDiagnostic;
    events.push(event);
    const at = ((event.at - (call?.answeredAt ?? started)) / 1000).toFixed(1);
    if (event.event === 'assistant-turn') out(`[${at}s] agent:  ${event.text}${event.interrupted ? ' (interrupted)' : ''}`);
    else if (event.event === 'user-turn') out(`[${at}s] heard:  ${event.text}`);
    else if (event.event === 'tool-call') {
      out(`[${at}s] tool:   ${event.name}(${JSON.stringify(event.arguments)}) -> ${JSON.stringify(event.error ?? event.result)}`);
    }
  };
  subscribe(VOICE_AGENT_CHANNEL, onEvent);
  let call: SimulatedCall | undefined;
  let agentModule: { agent?: { shutdown(options?: { drainMs?: number }): Promise<void> }; demoScenario?: DemoScenario } = {};
  let lines = options.say ?? DEFAULT_LINES;
  let expectTransfer = options.expectTransfer ?? options.say === undefined;
  const voiceToVoiceMs: number[] = [];
  const userTurns: DemoTurn[] = [];
  let reason: string | undefined;
  try {
    progress(`loading ${options.agentFile} and its models ...`);
    agentModule = (await import(pathToFileURL(resolve(options.agentFile)).href)) as typeof agentModule;
    if (options.say === undefined && agentModule.demoScenario !== undefined) {
      lines = agentModule.demoScenario.say;
      expectTransfer = options.expectTransfer ?? agentModule.demoScenario.expectTransfer ?? false;
    }
    await sim.waitForAgent(agentId, 15_000);
    if (agentModule.demoScenario?.outbound === true) {
      progress('waiting for the agent to place its call ...');
      call = await sim.waitForCall({ agentId, direction: 'outbound', timeoutMs: 15_000 });
      progress(`the agent called ${call.to} from ${call.from}; answering ...`);
    } else {
      progress('placing a call ...');
      call = sim.placeCall({ agentId, from: '919876543210', to: '918012345678', metadata: { demo: true } });
    }
    await Promise.race([call.answered, new Promise((_, reject) => setTimeout(() => reject(new Error('the agent did not answer')), 15_000))]);
    const timeoutMs = (options.timeoutSecs ?? 60) * 1000;
    if (!(await agentFinishedSpeaking(call, 0, 700, 15_000))) throw new Error('no greeting within 15 s');
    for (const line of lines) {
      if (call.isEnded) break;
      const t0 = performance.now();
      out(`[${((t0 - call.answeredAt!) / 1000).toFixed(1)}s] caller: ${line}`);
      await call.say(line);
      const lastSpeech = [...call.sent].reverse().find(isSpeech)?.at ?? performance.now();
      userTurns.push({ role: 'user', text: line, startMs: t0 - call.answeredAt!, endMs: lastSpeech - call.answeredAt! });
      const reply = await Promise.race([
        call.nextAgentSpeech(SPEECH_THRESHOLD),
        call.ended.then(() => undefined),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000)),
      ]);
      if (reply !== undefined) {
        const latency = Math.round(reply.at - lastSpeech);
        voiceToVoiceMs.push(latency);
        out(`         (voice-to-voice ${latency} ms)`);
        await agentFinishedSpeaking(call, lastSpeech, 800, timeoutMs);
      }
    }
    if (expectTransfer) {
      await Promise.race([call.ended, new Promise((r) => setTimeout(r, 10_000))]);
    }
  } catch (error) {
    reason = (error as Error).message;
  } finally {
    unsubscribe(VOICE_AGENT_CHANNEL, onEvent);
  }
  if (call !== undefined && !call.isEnded) call.hangUp();
  await agentModule.agent?.shutdown({ drainMs: 2000 }).catch(() => undefined);

  const dir = options.recordingDir ?? join(tmpdir(), 'piopiy-ai-demo');
  mkdirSync(dir, { recursive: true });
  const recording = join(dir, `${call?.callId ?? 'no-call'}.wav`);
  if (call !== undefined) await writeWavFile(recording, call.recording());
  const origin = call?.answeredAt ?? started;
  const assistantTurns: DemoTurn[] = events
    .filter((e): e is Extract<VoiceAgentDiagnostic, { event: 'assistant-turn' }> => e.event === 'assistant-turn')
    .map((e) => {
      // The turn started with the first agent speech after the previous assistant turn ended.
      const end = e.at;
      const previousEnd = events.filter((p) => p.event === 'assistant-turn' && p.at < end).at(-1)?.at ?? 0;
      const first = call?.received.find((f) => f.at > previousEnd && f.at <= end && isSpeech(f))?.at ?? end;
      return { role: 'assistant', text: e.text, startMs: Math.round(first - origin), endMs: Math.round(end - origin) };
    });
  const turns = [...assistantTurns, ...userTurns.map((t) => ({ ...t, startMs: Math.round(t.startMs), endMs: Math.round(t.endMs) }))].sort(
    (a, b) => a.startMs - b.startMs,
  );
  const toolCalls = events
    .filter((e): e is Extract<VoiceAgentDiagnostic, { event: 'tool-call' }> => e.event === 'tool-call')
    .map((e) => ({ name: e.name, arguments: e.arguments, result: e.result, ...(e.error === undefined ? {} : { error: e.error }) }));
  const transferredTo = call?.transferredTo ?? null;
  if (reason === undefined && call === undefined) reason = 'no call was placed';
  if (reason === undefined && expectTransfer && transferredTo === null) reason = 'the call was not transferred';
  if (reason === undefined && voiceToVoiceMs.length === 0) reason = 'the agent never answered the caller';
  await sim.close();
  return {
    ok: reason === undefined,
    ...(reason === undefined ? {} : { reason }),
    callId: call?.callId ?? '',
    turns,
    toolCalls,
    restRequests: sim.restRequests.map((r) => ({ method: r.method, path: r.path, body: r.body })),
    transferredTo,
    latency: { voiceToVoiceMs },
    recording,
  };
}
