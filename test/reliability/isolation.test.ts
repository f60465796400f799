// One call failing never touches another: twenty calls run at once on the local Piopiy simulator through a real
// Agent and VoiceAgent (fast fake services and a loudness VAD, so the test is about isolation, not CPU), and one
// of them is broken in a different way in each run. The process must survive (no uncaught exception or
// unhandled rejection), the broken call must degrade or end with log lines naming it, and the nineteen others
// must hold exactly the conversation of a run where nothing breaks: the same turns, transcripts, tool calls and
// REST requests, and no warning of their own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/index.js';
import { FunctionSchema } from '../../src/llm/index.js';
import { RestClient } from '../../src/piopiy/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import type { SynthesizeOptions, TTSChunk } from '../../src/services/base/tts-service.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { startPiopiySimulator, type SimulatedCall } from '../../src/testing/simulator/index.js';
import type { CallSession } from '../../src/transports/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';
import { recordingLogger, type LogRecord } from '../pipeline/helpers.js';
import { EnergyVAD, speechTone } from '../../src/testing/energy-vad.js';
import { destroyMediaSocket, sendRawMedia } from '../support/media-faults.js';
import { sideBySide } from '../support/side-by-side.js';
import { sleep } from '../support/wait.js';

const CALLS = 20;
const BROKEN_INDEX = 7;
const AGENT_ID = 'agent-isolation';
const AGENT_TOKEN = 'agent-isolation-token';
const TOOL_ERROR_REPLY = 'Sorry, I could not check that.';
const TRANSCRIPTS = ['check my order', 'transfer me to a human'];
const TONE = speechTone(400);

const FAULTS = [
  'tool-throws',
  'tool-rejects',
  'tts-throws',
  'stt-throws',
  'event-handler-throws',
  'media-socket-destroyed',
  'garbage-media',
] as const;
type Fault = (typeof FAULTS)[number];

interface CallRecord {
  userTurns: string[];
  assistantTurns: string[];
  tools: string[];
}

/** What one call looked like from the outside, comparable across runs. */
interface CallSummary {
  userTurns: string[];
  assistantTurns: string[];
  tools: string[];
  rest: { method: string; path: string; body: string }[];
  end: string | undefined;
}

interface RunResult {
  summaries: CallSummary[];
  callIds: string[];
  logs: LogRecord[];
}

/** A TTS that fails on the reply about the order, like an engine crashing on one sentence. */
class ThrowingTTS extends FakeTTSService {
  override async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    if (text.includes('order')) throw new Error('TTS engine exploded');
    yield* super.synthesize(text, options);
  }
}

/** An STT that crashes on every frame of the first turn, and once more when that turn ends. */
class ThrowingSTT extends ScriptedSTTService {
  protected override processAudio(audio: Int16Array): void {
    if (this.turns === 1) throw new Error('STT decoder crashed');
    super.processAudio(audio);
  }

  protected override onUserStoppedSpeaking(): Promise<void> {
    if (this.turns === 1) return Promise.reject(new Error('STT finaliser crashed'));
    return super.onUserStoppedSpeaking();
  }
}

/** Frames no well-behaved platform sends: odd lengths, non-JSON, JSON of the wrong shape, wrong field types. */
const GARBAGE_MEDIA: readonly (string | Buffer)[] = [
  Buffer.from([1, 2, 3]),
  Buffer.alloc(0),
  Buffer.alloc(10_001, 0x7f),
  Buffer.alloc(64 * 1024), // 2 s of silence in one frame
  'not json',
  'null',
  '42',
  '"caller-left"',
  '[]',
  '{}',
  '{"type":17}',
  '{"type":"caller-joined","sampleRate":"fast"}',
  '{"type":"caller-joined","sampleRate":-8000}',
  '{"type":"dtmf","digit":{"x":1}}',
  '{"type":"message"}',
  '{"type":"no-such-message"}',
  `{"type":"dtmf","digit":"${'9'.repeat(100_000)}"}`,
];

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

function sessionFor(restBaseUrl: string, restToken: string, records: Map<string, CallRecord>) {
  return async (call: CallSession): Promise<void> => {
    const fault = (call.metadata as { fault?: Fault } | null)?.fault;
    const record: CallRecord = { userTurns: [], assistantTurns: [], tools: [] };
    records.set(call.callId, record);
    const piopiy = new RestClient({ token: restToken, baseUrl: restBaseUrl });
    const voice = new VoiceAgent({ instructions: 'Help with orders.', greeting: 'Hello.', idleTimeoutSecs: 0 });
    voice.events.on('user-turn', (text) => record.userTurns.push(text));
    voice.events.on('assistant-turn', (text) => record.assistantTurns.push(text));
    voice.events.on('tool-call', (outcome) => record.tools.push(`${outcome.name}:${outcome.error === undefined ? 'ok' : 'error'}`));
    if (fault === 'event-handler-throws') {
      // The user's own listeners are broken; the recording ones above were attached first, so they still run.
      for (const event of ['user-turn', 'assistant-turn', 'tool-call', 'metrics', 'error'] as const) {
        voice.events.on(event, () => {
          throw new Error(`listener for ${event} is broken`);
        });
      }
    }
    const lookup = new FunctionSchema({ name: 'lookup_order', description: 'Look up the order.', properties: {}, required: [] });
    voice.addTool(lookup, () => {
      if (fault === 'tool-throws') throw new Error('CRM client blew up');
      if (fault === 'tool-rejects') return Promise.reject(new Error('CRM is down'));
      return Promise.resolve({ status: 'has shipped' });
    });
    const transfer = new FunctionSchema({ name: 'transfer_to_human', description: 'Transfer.', properties: {}, required: [] });
    voice.addTool(transfer, async () => {
      await piopiy.voice.transfer(
        call.callId,
        piopiy.voice.pipeline().connect({ callerId: '918000000001' }, [{ type: 'pstn', number: '918000000002' }]),
      );
      return 'Connecting you now.';
    });
    await voice.action({
      stt: fault === 'stt-throws' ? new ThrowingSTT({ transcripts: TRANSCRIPTS }) : new ScriptedSTTService({ transcripts: TRANSCRIPTS }),
      llm: new ScriptedLLMService({
        toolErrorReply: TOOL_ERROR_REPLY,
        rules: [
          { match: /order/i, toolCall: { name: 'lookup_order' }, afterTool: 'Your order {result.status}.' },
          { match: /human/i, toolCall: { name: 'transfer_to_human' }, afterTool: '{result}' },
        ],
      }),
      tts: fault === 'tts-throws' ? new ThrowingTTS({ msPerCharacter: 5 }) : new FakeTTSService({ msPerCharacter: 5 }),
      vad: new EnergyVAD(),
    });
    await voice.start();
  };
}

/** The caller's side: waits for the greeting, says two sentences, each after the agent answered the last one. */
async function converse(call: SimulatedCall, record: () => CallRecord | undefined, fault: Fault | undefined): Promise<void> {
  // A healthy call always answers: its caller waits as long as a busy machine needs. Only the broken call gets a
  // short bound, since it may never answer.
  const answerWithinMs = fault === undefined ? 15_000 : 2500;
  await call.answered;
  await waitFor(() => (record()?.assistantTurns.length ?? 0) >= 1, Math.max(answerWithinMs, 5000));
  if (fault === 'media-socket-destroyed') destroyMediaSocket(call);
  if (fault === 'garbage-media') sendRawMedia(call, GARBAGE_MEDIA);
  for (let turn = 0; turn < TRANSCRIPTS.length && !call.isEnded; turn++) {
    const before = record()?.assistantTurns.length ?? 0;
    await call.say(TONE).catch(() => undefined); // the call may have ended meanwhile
    await waitFor(() => (record()?.assistantTurns.length ?? 0) > before || call.isEnded, answerWithinMs);
    await sleep(50);
  }
  // Every call ends by itself (transfer or lost media); one that does not fails the test instead of hanging it.
  const ended = await Promise.race([call.ended.then(() => true), sleep(15_000).then(() => false)]);
  if (!ended) call.hangUp();
  expect(ended, `call ${call.callId} (${fault ?? 'healthy'}) did not end`).toBe(true);
}

async function runCalls(fault: Fault | undefined): Promise<RunResult> {
  // The platform ends a transferred call after this delay: long enough that the caller always hears "Connecting you
  // now." first (95 ms of speech), however busy the machine; at 300 ms a loaded machine sometimes cut it off, and
  // the calls' transcripts differed by that last line.
  const sim = await startPiopiySimulator({ transferDelayMs: 1500 });
  sim.addAgent({ agentId: AGENT_ID, token: AGENT_TOKEN });
  const logs: LogRecord[] = [];
  const records = new Map<string, CallRecord>();
  const agent = new Agent({
    agentId: AGENT_ID,
    agentToken: AGENT_TOKEN,
    signalingUrl: sim.signalingUrl,
    createSession: sessionFor(sim.restBaseUrl, sim.restToken, records),
    logger: recordingLogger(logs),
    handleSignals: false,
  });
  try {
    await agent.connect();
    const calls = Array.from({ length: CALLS }, (_, i) =>
      sim.placeCall({ agentId: AGENT_ID, metadata: i === BROKEN_INDEX && fault !== undefined ? { fault } : { fault: null } }),
    );
    await Promise.all(
      calls.map((call, i) => converse(call, () => records.get(call.callId), i === BROKEN_INDEX ? fault : undefined)),
    );
    expect(await waitFor(() => agent.activeSessions === 0, 5000)).toBe(true);
    const summaries = calls.map((call): CallSummary => {
      const record = records.get(call.callId) ?? { userTurns: [], assistantTurns: [], tools: [] };
      return {
        ...record,
        rest: sim.restRequests
          .filter((r) => (r.body as { call_id?: unknown } | null)?.call_id === call.callId)
          .map((r) => ({ method: r.method, path: r.path, body: JSON.stringify(r.body).replaceAll(call.callId, '<call>') })),
        end: call.endReason,
      };
    });
    return { summaries, callIds: calls.map((c) => c.callId), logs };
  } finally {
    await agent.shutdown({ drainMs: 0 });
    await sim.close();
  }
}

// Each run has its own simulator, agent, logs and records, so runs go four at a time (a run is mostly real-time
// waiting: the caller's tones, the transfer delay); an uncaught problem in either still fails both, through `problems`.
const fourAtATime = sideBySide(4);
const problems: unknown[] = [];
const onProblem = (error: unknown): void => void problems.push(error);
let baseline: Promise<RunResult> | undefined;
/** One run where nothing breaks: what every healthy call must look like. */
const baselineRun = (): Promise<RunResult> => (baseline ??= fourAtATime(() => runCalls(undefined)));

const brokenLogs = (run: RunResult): LogRecord[] =>
  run.logs.filter((l) => l.fields.callId === run.callIds[BROKEN_INDEX] && (l.level === 'warn' || l.level === 'error'));
const logText = (records: readonly LogRecord[]): string =>
  records.map((l) => `${l.message} ${l.fields.err instanceof Error ? l.fields.err.message : ''}`).join('\n');

beforeAll(() => {
  process.on('uncaughtException', onProblem);
  process.on('unhandledRejection', onProblem);
});

afterAll(() => {
  process.off('uncaughtException', onProblem);
  process.off('unhandledRejection', onProblem);
});

describe.concurrent('twenty concurrent calls, one broken', () => {
  it('baseline: twenty healthy calls have the same conversation, with no warning', async () => {
    const run = await baselineRun();
    const [first] = run.summaries;
    expect(first!.userTurns).toEqual(TRANSCRIPTS);
    expect(first!.tools).toEqual(['lookup_order:ok', 'transfer_to_human:ok']);
    expect(first!.assistantTurns).toEqual(['Hello.', 'Your order has shipped.', 'Connecting you now.']);
    expect(first!.rest.map((r) => r.path)).toEqual(['/v3/voice/pcmo/transfer']);
    expect(first!.end).toBe('transferred');
    for (const summary of run.summaries) expect(summary).toEqual(first);
    expect(run.logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    expect(problems).toEqual([]);
  }, 60_000);

  it.each(FAULTS)('%s: the broken call degrades with log lines naming it; the other nineteen are untouched', async (fault) => {
    const expected = (await baselineRun()).summaries[0]!;
    const run = await fourAtATime(() => runCalls(fault));
    expect(problems).toEqual([]);
    const healthy = run.summaries.filter((_, i) => i !== BROKEN_INDEX);
    for (const summary of healthy) expect(summary).toEqual(expected);
    const healthyIds = new Set(run.callIds.filter((_, i) => i !== BROKEN_INDEX));
    const strayWarnings = run.logs.filter(
      (l) => (l.level === 'warn' || l.level === 'error') && l.fields.callId !== run.callIds[BROKEN_INDEX],
    );
    expect(strayWarnings.filter((l) => healthyIds.has(l.fields.callId as string) || l.fields.callId === undefined)).toEqual([]);

    const broken = run.summaries[BROKEN_INDEX]!;
    const warnings = brokenLogs(run);
    switch (fault) {
      case 'tool-throws':
      case 'tool-rejects':
        // The model hears an error result and says so; the rest of the call is as usual.
        expect(broken.userTurns).toEqual(TRANSCRIPTS);
        expect(broken.tools).toEqual(['lookup_order:error', 'transfer_to_human:ok']);
        expect(broken.assistantTurns.join(' ')).toContain(TOOL_ERROR_REPLY);
        expect(broken.rest).toEqual(expected.rest);
        expect(broken.end).toBe('transferred');
        expect(logText(warnings)).toMatch(fault === 'tool-throws' ? /tool call failed: .*CRM client blew up/ : /tool call failed: .*CRM is down/);
        break;
      case 'tts-throws':
        // The sentence that failed is not heard; the caller goes on and is transferred.
        expect(broken.userTurns).toEqual(TRANSCRIPTS);
        expect(broken.tools).toEqual(expected.tools);
        expect(broken.assistantTurns.join(' ')).not.toContain('Your order has shipped.');
        expect(broken.rest).toEqual(expected.rest);
        expect(broken.end).toBe('transferred');
        expect(logText(warnings)).toMatch(/TTS engine exploded/);
        break;
      case 'stt-throws':
        // The first sentence is lost; the second is understood.
        expect(broken.userTurns).toEqual([TRANSCRIPTS[1]]);
        expect(broken.tools).toEqual(['transfer_to_human:ok']);
        expect(broken.rest).toEqual(expected.rest);
        expect(broken.end).toBe('transferred');
        expect(logText(warnings)).toMatch(/STT decoder crashed/);
        expect(logText(warnings)).toMatch(/STT finaliser crashed/);
        break;
      case 'event-handler-throws':
        // The user's broken listeners are reported and skipped: the conversation is the baseline's.
        expect(broken).toEqual(expected);
        expect(logText(warnings)).toMatch(/listener for user-turn is broken/);
        expect(logText(warnings)).toMatch(/listener for assistant-turn is broken/);
        break;
      case 'media-socket-destroyed':
        // The call ends at once and cleanly: no turn, no REST request, the session gone.
        expect(broken.userTurns).toEqual([]);
        expect(broken.rest).toEqual([]);
        expect(broken.end).toBe('agent-left');
        expect(run.logs.some((l) => l.fields.callId === run.callIds[BROKEN_INDEX] && l.message === 'call ended')).toBe(true);
        break;
      case 'garbage-media':
        // Each bad frame is dropped with a log line; the conversation is the baseline's.
        expect(broken).toEqual(expected);
        expect(logText(warnings)).toMatch(/odd-length audio frame/);
        expect(logText(warnings)).toMatch(/malformed/);
        break;
    }
  }, 60_000);
});
