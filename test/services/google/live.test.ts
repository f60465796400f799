// GeminiLiveService against the fake Gemini Live server (real sockets, real time), through a VoiceAgent on a
// MemoryTransport: the setup it sends, the greeting, a caller turn with a tool call, barge-in (`interrupted`), local
// turn detection with activityStart / activityEnd, session resumption after a drop, and the refusals it reports.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FunctionSchema } from '../../../src/llm/index.js';
import { silentLogger } from '../../../src/logging/index.js';
import type { MetricsData } from '../../../src/frames/index.js';
import { GeminiLiveService } from '../../../src/services/google/index.js';
import { geminiLiveCloseError } from '../../../src/services/google/live-session.js';
import { EnergyVAD, speechTone } from '../../../src/testing/energy-vad.js';
import { startFakeGeminiLive, type FakeGeminiLive } from '../../../src/testing/fakes/gemini-live.js';
import { MemoryTransport } from '../../../src/transports/index.js';
import { VoiceAgent } from '../../../src/voice-agent/index.js';

const GREETING = 'Hello, how can I help?';
const LONG = 'Our opening hours are nine to five on weekdays and ten to two on saturdays, closed on sundays and holidays.';
const KEY = 'AIza-test-live';

let fake: FakeGeminiLive;
const running: { voice: VoiceAgent; done: Promise<void> }[] = [];

beforeAll(async () => {
  fake = await startFakeGeminiLive({
    rejectKey: 'AIza-bad',
    transcripts: ({ turn }) => ['what is my balance', 'tell me your hours', 'thanks'][turn] ?? '',
    rules: [
      { match: 'balance', reply: 'Let me check.', toolCall: { name: 'get_balance', args: { account: 'A1' } }, afterTool: (r) => `Your balance is ${String(r.amount)} rupees.` },
      { match: 'hours', reply: LONG },
      { match: 'thanks', reply: 'You are welcome.' },
    ],
    msPerCharacter: 30,
    chunkDelayMs: 5,
  });
});

afterAll(async () => {
  await fake.close();
});

afterEach(async () => {
  for (const call of running.splice(0)) {
    call.voice.cancel('test over');
    await call.done;
  }
});

async function until(condition: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function startCall(options: { local?: boolean; url?: string; service?: Partial<ConstructorParameters<typeof GeminiLiveService>[0]> } = {}) {
  const transport = new MemoryTransport({ callerSampleRate: 8000, agentSampleRate: 8000 });
  const voice = new VoiceAgent({ instructions: 'You are a bank assistant.', greeting: GREETING, logger: silentLogger, idleTimeoutSecs: 0 });
  const tools: unknown[] = [];
  voice.addTool(
    new FunctionSchema({ name: 'get_balance', description: 'The balance of an account', properties: { account: { type: 'string' } }, required: ['account'] }),
    (args) => {
      tools.push(args);
      return { amount: 1200 };
    },
  );
  const users: string[] = [];
  const assistants: { text: string; interrupted: boolean }[] = [];
  const metrics: MetricsData[] = [];
  const errors: { message: string; fatal: boolean; code?: string }[] = [];
  voice.events.on('user-turn', (text) => users.push(text));
  voice.events.on('assistant-turn', (text, interrupted) => assistants.push({ text, interrupted }));
  voice.events.on('metrics', (data) => metrics.push(data));
  voice.events.on('error', (frame) => errors.push({ message: frame.error.message, fatal: frame.fatal, code: (frame.error as { code?: string }).code }));
  const realtime = new GeminiLiveService({ apiKey: KEY, url: options.url ?? fake.url, ...options.service });
  const local = options.local === true ? ({ turnDetection: 'local', vad: new EnergyVAD() } as const) : {};
  const done = voice.action({ realtime, transport, ...local }).then(() => voice.start());
  transport.caller.connect();
  transport.callerJoined();
  running.push({ voice, done });
  return { transport, voice, done, tools, users, assistants, metrics, errors, connection: () => fake.connections.at(-1)! };
}

type Setup = {
  model: string;
  generationConfig: { responseModalities: string[]; speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: string } } } };
  systemInstruction: { parts: { text: string }[] };
  tools: { functionDeclarations: { name: string }[] }[];
  realtimeInputConfig: { automaticActivityDetection: { disabled: boolean } };
};

describe('GeminiLiveService', () => {
  it('sends the setup from the call, greets, and answers a turn with a validated tool call', async () => {
    const call = startCall();
    await until(() => call.assistants.some((a) => a.text === GREETING));
    const connection = call.connection();
    expect(connection.auth).toEqual({ present: true, valid: true });
    expect(connection.query.key).toBe('[redacted]');
    expect(connection.received[0]!.json).toHaveProperty('setup');
    const setup = connection.setup as unknown as Setup;
    expect(setup.model).toBe('models/gemini-2.5-flash-native-audio-preview-12-2025');
    expect(setup.generationConfig.responseModalities).toEqual(['AUDIO']);
    expect(setup.generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName).toBe('Puck');
    expect(setup.systemInstruction.parts[0]!.text).toBe('You are a bank assistant.');
    expect(setup.tools[0]!.functionDeclarations.map((f) => f.name)).toEqual(['get_balance']);
    expect(setup.realtimeInputConfig.automaticActivityDetection.disabled).toBe(false);
    expect(connection.setup).toHaveProperty('inputAudioTranscription');
    expect(connection.setup).toHaveProperty('sessionResumption', {});
    await call.transport.caller.say(speechTone(600));
    await until(() => call.assistants.some((a) => a.text.startsWith('Your balance')));
    // The line runs at 8 kHz: the audio sent to Gemini is resampled to its 16 kHz.
    const audio = fake.messages().find((m) => (m as { realtimeInput?: { audio?: unknown } }).realtimeInput?.audio !== undefined);
    expect(audio).toMatchObject({ realtimeInput: { audio: { mimeType: 'audio/pcm;rate=16000' } } });
    expect(call.users).toEqual(['what is my balance']);
    expect(call.tools).toEqual([{ account: 'A1' }]);
    expect(connection.toolResponses).toMatchObject([{ name: 'get_balance', response: { amount: 1200 } }]);
    expect(call.assistants.map((a) => a.text)).toEqual([GREETING, 'Let me check.', 'Your balance is 1200 rupees.']);
    expect(call.voice.context.messages.map((m) => m.role)).toEqual(['system', 'assistant', 'user', 'assistant', 'tool', 'assistant']);
    const ttfb = call.metrics.filter((m) => m.kind === 'ttfb' && m.processor === 'gemini-live');
    expect(ttfb).toHaveLength(1);
    const usage = call.metrics.filter((m) => m.kind === 'llm-usage');
    expect(usage.length).toBeGreaterThanOrEqual(2);
    expect(usage.every((m) => m.kind === 'llm-usage' && m.promptTokens > 0)).toBe(true);
    expect(call.metrics.some((m) => m.kind === 'realtime-audio' && m.inputAudioSeconds > 0.5)).toBe(true);
  }, 15_000);

  it("barge-in after the turn was generated: the caller's first transcribed word stops playback; the history keeps only what was heard", async () => {
    const call = startCall();
    await until(() => call.assistants.some((a) => a.text === GREETING));
    await call.transport.caller.say(speechTone(600));
    await until(() => call.assistants.some((a) => a.text.startsWith('Your balance')));
    await call.transport.caller.say(speechTone(600));
    await until(() => call.assistants.some((a) => a.text.startsWith('Our opening')) || call.transport.caller.received.length > 0);
    await new Promise((r) => setTimeout(r, 1500));
    const receivedBefore = call.transport.caller.received.length;
    await call.transport.caller.say(speechTone(400));
    await until(() => call.assistants.some((a) => a.interrupted));
    const cut = call.assistants.find((a) => a.interrupted)!;
    expect(LONG.startsWith(cut.text)).toBe(true);
    expect(cut.text.length).toBeGreaterThan(0);
    expect(cut.text.length).toBeLessThan(LONG.length);
    const assistantInContext = call.voice.context.messages.filter((m) => m.role === 'assistant').at(-1)!;
    expect(assistantInContext.content).toBe(cut.text);
    // Playback stopped: far less than the rest of the long answer reached the caller after the barge-in.
    const afterMs = (call.transport.caller.received.length - receivedBefore) * 20;
    expect(afterMs).toBeLessThan(1500);
  }, 20_000);

  it('a caller speaking over a turn still being generated gets `interrupted` from the server, and the turn stops', async () => {
    // Real-time pacing: the fake is still sending the long answer when the caller speaks.
    const slow = await startFakeGeminiLive({ transcripts: ['tell me your hours'], rules: [{ match: 'hours', reply: LONG }], msPerCharacter: 30, chunkDelayMs: 100 });
    try {
      const call = startCall({ url: slow.url });
      await until(() => call.assistants.some((a) => a.text === GREETING));
      await call.transport.caller.say(speechTone(600));
      await until(() => (slow.connections[0]?.received.length ?? 0) > 0 && call.transport.caller.received.length > 0);
      await new Promise((r) => setTimeout(r, 1500));
      await call.transport.caller.say(speechTone(400));
      await until(() => call.assistants.some((a) => a.interrupted));
      const interruption = slow.connections[0]!.interruptions[0]!;
      expect(interruption.text).toBe(LONG);
      expect(interruption.audioMs).toBeLessThan(LONG.length * 30 - 500);
      expect(slow.connections[0]!.spoken.find((s) => s.text === LONG)?.completed).toBe(false);
      const cut = call.assistants.find((a) => a.interrupted)!;
      expect(LONG.startsWith(cut.text) && cut.text.length < LONG.length).toBe(true);
    } finally {
      for (const call of running.splice(0)) {
        call.voice.cancel('test over');
        await call.done;
      }
      await slow.close();
    }
  }, 20_000);

  it("turnDetection 'local': activityStart / activityEnd around the caller's speech, the server's VAD off", async () => {
    const call = startCall({ local: true });
    await until(() => call.assistants.some((a) => a.text === GREETING));
    expect((call.connection().setup as unknown as Setup).realtimeInputConfig.automaticActivityDetection).toEqual({ disabled: true });
    await call.transport.caller.say(speechTone(600));
    await until(() => call.assistants.some((a) => a.text.startsWith('Your balance')));
    const inputs = call.connection().received.map((m) => Object.keys((m.json as { realtimeInput?: object }).realtimeInput ?? {})[0]);
    expect(inputs.indexOf('activityStart')).toBeLessThan(inputs.indexOf('activityEnd'));
    expect(call.users).toEqual(['what is my balance']);
  }, 15_000);

  it('a dropped socket resumes the session with its handle and says the apology', async () => {
    const call = startCall({ service: { reconnectApology: 'Sorry, I lost you.' } });
    await until(() => call.assistants.some((a) => a.text === GREETING));
    await until(() => call.connection().received.length > 3);
    const before = fake.connections.length;
    fake.dropConnections();
    await until(() => call.assistants.some((a) => a.text === 'Sorry, I lost you.'));
    expect(fake.connections.length).toBe(before + 1);
    const resumed = fake.connections.at(-1)!;
    expect(resumed.resumedFrom).toMatch(/^handle-/);
    expect(resumed.setup).toHaveProperty('sessionResumption.handle', resumed.resumedFrom);
    // Resumed: the history is not replayed as text.
    expect(resumed.received.some((m) => (m.json as { clientContent?: { turnComplete?: boolean } }).clientContent?.turnComplete === false)).toBe(false);
  }, 10_000);

  it('goAway: the server closes the session and the call goes on in a resumed one', async () => {
    const call = startCall({ service: { reconnectApology: 'Sorry, I lost you.' } });
    await until(() => call.assistants.some((a) => a.text === GREETING));
    const before = fake.connections.length;
    fake.goAway(100);
    await until(() => fake.connections.length === before + 1 && fake.connections.at(-1)!.setup !== undefined);
    expect(fake.connections[before - 1]!.close).toMatchObject({ code: 1000, by: 'server' });
    expect(fake.connections.at(-1)!.resumedFrom).toMatch(/^handle-/);
    await until(() => call.assistants.some((a) => a.text === 'Sorry, I lost you.'));
    await call.transport.caller.say(speechTone(600));
    await until(() => call.assistants.some((a) => a.text.startsWith('Your balance')));
    expect(call.errors).toEqual([]);
  }, 15_000);

  it('a refused key ends the call at once with an auth error, the key never in the message', async () => {
    const call = startCall({ service: { apiKey: 'AIza-bad' } });
    await call.done;
    expect(call.errors).toHaveLength(1);
    expect(call.errors[0]).toMatchObject({ fatal: true, code: 'auth' });
    expect(call.errors[0]!.message).toMatch(/1007 API key not valid/);
    expect(call.errors[0]!.message).not.toContain('AIza-bad');
    expect(fake.connections.filter((c) => !c.auth.valid)).toHaveLength(1);
  }, 10_000);

  it('an unknown model is refused with 1008 as a bad request', async () => {
    const call = startCall({ service: { model: 'gemini-1.0-pro' } });
    await call.done;
    expect(call.errors.some((e) => e.fatal && e.code === 'bad-request' && /1008 models\/gemini-1.0-pro is not found/.test(e.message))).toBe(true);
  }, 10_000);

  it('reads close codes as Google means them, and checks its options', () => {
    expect(geminiLiveCloseError(1011, 'You exceeded your current quota', []).code).toBe('rate-limited');
    expect(geminiLiveCloseError(1011, 'Internal error occurred.', []).code).toBe('server');
    expect(geminiLiveCloseError(1006, '', []).code).toBe('connection-lost');
    expect(geminiLiveCloseError(1007, 'bad key k-123', ['k-123']).message).not.toContain('k-123');
    expect(() => new GeminiLiveService({ apiKey: ' ' })).toThrow(/apiKey is required/);
    expect(() => new GeminiLiveService({ apiKey: KEY, voice: 'not a voice!' })).toThrow(/prebuilt voice/);
  });
});
