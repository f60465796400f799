// `piopiy-ai demo`: one simulated inbound call, end to end, on this machine with no keys and no network.
// It starts the local Piopiy simulator, points an agent file (default: examples/transfer-agent.ts) at it through
// the environment — the agent file itself is unchanged user code, using the real Agent, VoiceAgent and
// RestClient — places a call, and plays the caller: wait for the greeting, say each line (Flite speech), wait
// for the answer. With `demoScenario.outbound`, the agent file places the call itself (`ai.call`) and the demo
// plays the callee who answers it. A line may also start over the agent's speech (a barge-in, see DemoLine). It
// prints a live transcript with per-turn latency and, with --json, one JSON summary as the last line; the
// recording of both sides is written as a stereo WAV (caller left, agent right). The summary says what happened,
// not what was scripted: what the agent heard of each line, what the caller heard of each answer, and whether the
// expected outcome (a transfer, an interruption) happened; when it did not, `ok` is false with the reason.
import { quietRtcNodeDebugLogs } from './quiet-rtc-node.js';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeWavFile } from '../audio/index.js';
import { startPiopiySimulator, type SimulatedCall } from '../testing/simulator/index.js';
import { VOICE_AGENT_CHANNEL, type VoiceAgentDiagnostic } from '../voice-agent/index.js';
import { importAgentFile } from './agent-file.js';
import { buildTurns, heardAsSaid, outcomeFailure, type DemoResult, type SaidLine } from './demo-report.js';
import { AgentVoice, isSpeech, planDemo, type DemoPlan, type DemoScenario } from './demo-script.js';
import { startDemoRealtime, type DemoRealtime, type DemoRealtimeModel } from './demo-realtime.js';

export type { DemoAssistantTurn, DemoResult, DemoTurn, DemoUserTurn } from './demo-report.js';
export { DEFAULT_LINES, type DemoLine, type DemoScenario } from './demo-script.js';

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
  /**
   * Whether the call must end in a transfer. Default: for the default line, yes; for `say` lines, when one of them
   * asks for a person (`asksForHuman`); for the scenario's lines, as it says.
   */
  expectTransfer?: boolean;
  /** A speech-to-speech model as the agent's brain, its fake started offline (the agent file must use it). */
  realtime?: DemoRealtimeModel;
  /** The call's media (see SimulatorOptions.media). Default 'stream' here; the CLI's `demo` defaults to 'livekit'. */
  media?: 'stream' | 'livekit';
  /** Where progress and the transcript go (stderr when --json, so stdout carries only the JSON). */
  out: (line: string) => void;
  progress: (line: string) => void;
}

/** Silence after the agent's speech before a plain line starts (the greeting's, then an answer's). */
const GREETING_SILENCE_MS = 700;
const ANSWER_SILENCE_MS = 800;
/** Agent silence before audio counts as the start of a reply (and not as speech the caller talked over). */
const REPLY_GAP_MS = 100;
/** How long the agent may take to take a caller turn, and then to answer it. */
const TURN_TIMEOUT_MS = 15_000;
/** How long a transfer may take after the caller's last line. */
const TRANSFER_WAIT_SECS = 10;

/** Resolves with the first event matching `predicate`, or undefined after `timeoutMs` or once `call` ended. */
async function waitForEvent(
  events: readonly VoiceAgentDiagnostic[],
  predicate: (event: VoiceAgentDiagnostic) => boolean,
  call: SimulatedCall,
  timeoutMs: number,
): Promise<VoiceAgentDiagnostic | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const found = events.find(predicate);
    if (found !== undefined || call.isEnded || performance.now() >= deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const { out, progress } = options;
  // The transcript is the demo's output; library logs only when something goes wrong (unless asked for).
  process.env.PIOPIY_LOG_LEVEL ??= 'warn';
  progress('starting the local Piopiy simulator ...');
  const media = options.media ?? 'stream';
  if (media === 'livekit') quietRtcNodeDebugLogs();
  const sim = await startPiopiySimulator({ media });
  const realtime: DemoRealtime | undefined = options.realtime === undefined ? undefined : await startDemoRealtime(options.realtime);
  // The agent file reads its configuration from the environment, as it would on a server.
  const agentEnvironment = sim.agentEnvironment();
  const agentId = agentEnvironment.AGENT_ID;
  Object.assign(process.env, agentEnvironment, { DOTENV_CONFIG_QUIET: 'true' });

  let call: SimulatedCall | undefined;
  const said: SaidLine[] = [];
  const events: VoiceAgentDiagnostic[] = [];
  const onEvent = (message: unknown): void => {
    const event = message as VoiceAgentDiagnostic;
    events.push(event);
    const at = ((event.at - (call?.answeredAt ?? started)) / 1000).toFixed(1);
    if (event.event === 'assistant-turn') out(`[${at}s] agent:  ${event.text}${event.interrupted ? ' (interrupted)' : ''}`);
    else if (event.event === 'user-turn') {
      const line = said.at(-1)?.text;
      const differs = line !== undefined && !heardAsSaid(line, event.text);
      out(`[${at}s] heard:  ${event.text}${differs ? `   (not what the caller said: "${line}")` : ''}`);
    } else if (event.event === 'tool-call') {
      out(`[${at}s] tool:   ${event.name}(${JSON.stringify(event.arguments)}) -> ${JSON.stringify(event.error ?? event.result)}`);
    }
  };
  subscribe(VOICE_AGENT_CHANNEL, onEvent);
  let agentModule: { agent?: { shutdown(options?: { drainMs?: number }): Promise<void> }; demoScenario?: DemoScenario } = {};
  // Until the agent file is loaded (it may export a scenario), the expectation of the lines given.
  let expected: DemoPlan['expected'] = planDemo(options.say, undefined, options.expectTransfer).expected;
  const voiceToVoiceMs: number[] = [];
  let voice: AgentVoice | undefined;
  let endReason: SimulatedCall['endReason'];
  let reason: string | undefined;
  try {
    progress(`loading ${options.agentFile} and its models ...`);
    agentModule = (await importAgentFile(resolve(options.agentFile), options.agentFile)) as typeof agentModule;
    const scenario = agentModule.demoScenario;
    const plan = planDemo(options.say, scenario, options.expectTransfer);
    expected = plan.expected;
    realtime?.setLines(plan.lines.map((line) => line.text));
    await sim.waitForAgent(agentId, 15_000);
    if (scenario?.outbound === true) {
      progress('waiting for the agent to place its call ...');
      call = await sim.waitForCall({ agentId, direction: 'outbound', timeoutMs: 15_000 });
      progress(`the agent called ${call.to} from ${call.from}; answering ...`);
    } else {
      progress('placing a call ...');
      call = sim.placeCall({ agentId, from: '919876543210', to: '918012345678', metadata: { demo: true } });
    }
    voice = new AgentVoice(call);
    await Promise.race([call.answered, new Promise((_, reject) => setTimeout(() => reject(new Error('the agent did not answer')), 15_000))]);
    const timeoutMs = (options.timeoutSecs ?? 60) * 1000;
    // The agent's speech the next line waits for: from `since` (the greeting, then each answer).
    let since = 0;
    for (const [index, line] of plan.lines.entries()) {
      if (call.isEnded) break;
      const wait = index === 0 ? TURN_TIMEOUT_MS : timeoutMs;
      const ready =
        line.afterAgentSpeechMs === undefined
          ? await voice.finished(since, index === 0 ? GREETING_SILENCE_MS : ANSWER_SILENCE_MS, wait)
          : await voice.spokeFor(since, line.afterAgentSpeechMs, wait);
      if (!ready && index === 0) throw new Error(`no greeting within ${TURN_TIMEOUT_MS / 1000} s`);
      const startedAt = performance.now();
      const over = line.afterAgentSpeechMs === undefined ? '' : ' (over the agent)';
      out(`[${((startedAt - call.answeredAt!) / 1000).toFixed(1)}s] caller: ${line.text}${over}`);
      const saying: SaidLine = { text: line.text, startedAt, speechStart: startedAt, speechEnd: startedAt };
      said.push(saying);
      await call.say(line.text);
      const speech = call.sent.filter((f) => f.at >= startedAt && isSpeech(f));
      saying.speechStart = speech[0]?.at ?? startedAt;
      saying.speechEnd = speech.at(-1)?.at ?? performance.now();
      // The answer follows the turn the agent took from this line (none: it did not take one, so no answer).
      const taken = await waitForEvent(events, (e) => e.event === 'user-turn' && e.at >= startedAt, call, TURN_TIMEOUT_MS);
      const reply = taken === undefined ? undefined : await voice.replyAfter(taken.at, REPLY_GAP_MS, TURN_TIMEOUT_MS);
      if (reply !== undefined) {
        const latency = Math.round(reply - saying.speechEnd);
        voiceToVoiceMs.push(latency);
        out(`         (voice-to-voice ${latency} ms)`);
        since = reply - 1;
      }
    }
    // The last answer plays out; a transfer may take a few seconds more.
    if (!call.isEnded) await voice.finished(since, ANSWER_SILENCE_MS, timeoutMs);
    if (expected.transfer) await Promise.race([call.ended, new Promise((r) => setTimeout(r, TRANSFER_WAIT_SECS * 1000))]);
  } catch (error) {
    reason = (error as Error).message;
  } finally {
    endReason = call?.endReason;
  }
  if (call !== undefined && !call.isEnded) call.hangUp();
  await agentModule.agent?.shutdown({ drainMs: 2000 }).catch(() => undefined);
  // Only now: the agent reports the turn that was playing when the call ended (cut at a transfer, say) as its session
  // ends, which can be after the call's end reached the caller's side.
  unsubscribe(VOICE_AGENT_CHANNEL, onEvent);
  voice?.close();

  let recording: string | null = null;
  if (call !== undefined) {
    const dir = options.recordingDir ?? join(tmpdir(), 'piopiy-ai-demo');
    mkdirSync(dir, { recursive: true });
    recording = join(dir, `${call.callId}.wav`);
    await writeWavFile(recording, call.recording());
  }
  const turns = buildTurns(events, said, call?.answeredAt ?? started, (at) => voice?.firstAfter(at));
  const toolCalls = events
    .filter((e): e is Extract<VoiceAgentDiagnostic, { event: 'tool-call' }> => e.event === 'tool-call')
    .map((e) => ({ name: e.name, arguments: e.arguments, result: e.result, ...(e.error === undefined ? {} : { error: e.error }) }));
  const transferredTo = call?.transferredTo ?? null;
  if (reason === undefined && call === undefined) reason = 'no call was placed';
  reason ??= outcomeFailure({
    expected,
    endReason,
    transferredTo,
    transferWaitSecs: TRANSFER_WAIT_SECS,
    turns,
    answered: voiceToVoiceMs.length > 0,
  });
  await sim.close();
  await realtime?.close();
  return {
    ok: reason === undefined,
    ...(reason === undefined ? {} : { reason }),
    callId: call?.callId ?? null,
    media,
    expected,
    turns,
    toolCalls,
    restRequests: sim.restRequests.map((r) => ({ method: r.method, path: r.path, body: r.body })),
    transferredTo,
    latency: { voiceToVoiceMs },
    recording,
  };
}
