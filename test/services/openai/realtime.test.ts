// OpenAIRealtimeService against the fake OpenAI Realtime server (real sockets, real time), through a VoiceAgent on a
// MemoryTransport: the session it configures, the greeting, a caller turn with a tool call, barge-in with the
// played audio truncated, a dropped socket, and the settings it refuses.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FunctionSchema } from '../../../src/llm/index.js';
import { silentLogger } from '../../../src/logging/index.js';
import { ConfigurationError } from '../../../src/runtime/configuration-error.js';
import { OpenAIRealtimeService } from '../../../src/services/openai/index.js';
import { ScriptedLLMService } from '../../../src/services/scripted/index.js';
import { EnergyVAD, speechTone } from '../../../src/testing/energy-vad.js';
import { FakeTTSService, ScriptedSTTService } from '../../../src/testing/fake-services.js';
import { startFakeOpenAIRealtime, type FakeOpenAIRealtime } from '../../../src/testing/fakes/openai-realtime.js';
import type { MetricsData } from '../../../src/frames/index.js';
import { MemoryTransport } from '../../../src/transports/index.js';
import { VoiceAgent } from '../../../src/voice-agent/index.js';

const GREETING = 'Hello, how can I help?';
const LONG = 'Our opening hours are nine to five on weekdays and ten to two on saturdays, closed on sundays and holidays.';
const KEY = 'sk-test-realtime';

let fake: FakeOpenAIRealtime;
const running: { voice: VoiceAgent; done: Promise<void>; transport: MemoryTransport }[] = [];

beforeAll(async () => {
  fake = await startFakeOpenAIRealtime({
    transcripts: ({ turn }) => ['what is my balance', 'tell me your hours', 'thanks'][turn] ?? '',
    rules: [
      { match: 'balance', reply: 'Let me check.', toolCall: { name: 'get_balance', arguments: { account: 'A1' } }, afterTool: (output) => `Your balance is ${(JSON.parse(output) as { amount: number }).amount} rupees.` },
      { match: 'hours', reply: LONG },
      { match: 'thanks', reply: 'You are welcome.' },
    ],
    msPerCharacter: 30,
    chunkMs: 100,
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

function startCall(options: { local?: boolean; agentSampleRate?: number; callerSampleRate?: number; service?: Partial<ConstructorParameters<typeof OpenAIRealtimeService>[0]> } = {}) {
  const transport = new MemoryTransport({ callerSampleRate: options.callerSampleRate ?? 16000, agentSampleRate: options.agentSampleRate ?? 8000 });
  const voice = new VoiceAgent({ instructions: 'You are a bank assistant.', greeting: GREETING, logger: silentLogger, idleTimeoutSecs: 0 });
  const tools: { args: unknown }[] = [];
  voice.addTool(
    new FunctionSchema({ name: 'get_balance', description: 'The balance of an account', properties: { account: { type: 'string' } }, required: ['account'] }),
    (args) => {
      tools.push({ args });
      return { amount: 1200 };
    },
  );
  const users: string[] = [];
  const metrics: MetricsData[] = [];
  const errors: { message: string; fatal: boolean }[] = [];
  voice.events.on('metrics', (data) => metrics.push(data));
  voice.events.on('error', (frame) => errors.push({ message: frame.error.message, fatal: frame.fatal }));
  const assistants: { text: string; interrupted: boolean }[] = [];
  voice.events.on('user-turn', (text) => users.push(text));
  voice.events.on('assistant-turn', (text, interrupted) => assistants.push({ text, interrupted }));
  const realtime = new OpenAIRealtimeService({ apiKey: KEY, url: fake.url, ...options.service });
  const local = options.local === true ? ({ turnDetection: 'local', vad: new EnergyVAD() } as const) : {};
  const done = voice.action({ realtime, transport, ...local }).then(() => voice.start());
  transport.caller.connect();
  transport.callerJoined();
  running.push({ voice, done, transport });
  return { transport, voice, done, tools, users, assistants, metrics, errors, connection: () => fake.connections.at(-1)! };
}

describe('OpenAIRealtimeService', () => {
  it('configures the session from the call, greets, and answers a turn with a validated tool call', async () => {
    const call = startCall();
    await until(() => call.assistants.some((a) => a.text === GREETING));
    const config = call.connection().sessionConfigs[0]!;
    expect(call.connection().auth).toEqual({ present: true, valid: true });
    expect(call.connection().query.model).toBe('gpt-realtime');
    // 16 kHz from the caller: PCM at 24 kHz; 8 kHz to the caller: μ-law, no resampling.
    expect(config.inputFormat).toEqual({ type: 'audio/pcm', rate: 24000 });
    expect(config.outputFormat).toEqual({ type: 'audio/pcmu' });
    expect(config.instructions).toBe('You are a bank assistant.');
    expect(config.tools.map((t) => t.name)).toEqual(['get_balance']);
    expect(config.turnDetection?.type).toBe('server_vad');
    await call.transport.caller.say(speechTone(600));
    await until(() => call.assistants.some((a) => a.text.startsWith('Your balance')));
    expect(call.users).toEqual(['what is my balance']);
    expect(call.tools).toEqual([{ args: { account: 'A1' } }]);
    expect(call.assistants.map((a) => a.text)).toEqual([GREETING, 'Let me check.', 'Your balance is 1200 rupees.']);
    const outputs = fake.messages().filter((m) => (m as { item?: { type?: string } }).item?.type === 'function_call_output');
    expect(outputs).toMatchObject([{ item: { output: '{"amount":1200}' } }]);
    expect(call.voice.context.messages.map((m) => m.role)).toEqual(['system', 'assistant', 'user', 'assistant', 'tool', 'assistant']);
    // TTFB from the end of the caller's speech to the model's first audio, tokens and audio seconds per response.
    const ttfb = call.metrics.filter((m) => m.kind === 'ttfb' && m.processor === 'openai-realtime');
    expect(ttfb).toHaveLength(1);
    expect(ttfb[0]!.kind === 'ttfb' && ttfb[0]!.valueMs).toBeGreaterThanOrEqual(0);
    const usage = call.metrics.filter((m) => m.kind === 'llm-usage');
    expect(usage.length).toBe(3); // greeting, the reply with the tool call, the answer after it
    expect(usage.every((m) => m.kind === 'llm-usage' && m.model === 'gpt-realtime' && m.completionTokens > 0)).toBe(true);
    const audio = call.metrics.filter((m) => m.kind === 'realtime-audio');
    expect(audio.some((m) => m.kind === 'realtime-audio' && m.inputAudioSeconds > 0.5)).toBe(true);
    expect(audio.every((m) => m.kind === 'realtime-audio' && m.outputAudioSeconds > 0.3)).toBe(true);
  }, 15_000);

  it('barge-in: playback stops and the model is told how much of its answer the caller heard', async () => {
    const call = startCall();
    await until(() => call.assistants.some((a) => a.text === GREETING));
    await call.transport.caller.say(speechTone(600));
    await until(() => call.assistants.some((a) => a.text.startsWith('Your balance')));
    const mark = call.transport.caller.received.length;
    await call.transport.caller.say(speechTone(600));
    // Let the long answer play for a while, then talk over it.
    await until(() => call.connection().spoken.some((s) => s.text === LONG), 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    await call.transport.caller.say(speechTone(400));
    await until(() => call.connection().truncations.length > 0);
    const truncation = call.connection().truncations[0]!;
    expect(truncation.text).toBe(LONG);
    expect(truncation.itemAudioMs).toBeGreaterThan(truncation.audioEndMs + 1000);
    // What the caller really heard of the long answer: its audio from its first chunk to the first long silence.
    const after = call.transport.caller.received.slice(mark);
    const first = after.findIndex((c) => c.audio.some((s) => Math.abs(s) > 200));
    let last = first;
    for (let i = first; i < after.length && i - last < 10; i++) if (after[i]!.audio.some((s) => Math.abs(s) > 200)) last = i;
    const heardMs = (last - first + 1) * 20;
    expect(Math.abs(truncation.audioEndMs - heardMs)).toBeLessThanOrEqual(40);
    await until(() => call.assistants.some((a) => a.interrupted));
    const cut = call.assistants.find((a) => a.interrupted)!;
    expect(LONG.startsWith(cut.text)).toBe(true);
    expect(cut.text.length).toBeLessThan(LONG.length);
  }, 20_000);

  it("turnDetection 'local': our VAD takes the turns, commits them and asks for the response", async () => {
    const call = startCall({ local: true });
    await until(() => call.assistants.some((a) => a.text === GREETING));
    const config = call.connection().sessionConfigs[0]!;
    expect(config.turnDetection).toBeNull();
    await call.transport.caller.say(speechTone(600));
    await until(() => call.assistants.some((a) => a.text.startsWith('Your balance')));
    const types = call.connection().received.map((m) => (m.json as { type: string }).type);
    expect(types).toContain('input_audio_buffer.commit');
    expect(types.filter((t) => t === 'response.create').length).toBeGreaterThanOrEqual(3);
    expect(call.users).toEqual(['what is my balance']);
  }, 15_000);

  it('a μ-law phone line at 8 kHz both ways sends and receives audio/pcmu', async () => {
    const call = startCall({ callerSampleRate: 8000, agentSampleRate: 8000 });
    await until(() => call.assistants.some((a) => a.text === GREETING));
    const config = call.connection().sessionConfigs[0]!;
    expect(config.inputFormat).toEqual({ type: 'audio/pcmu' });
    expect(config.outputFormat).toEqual({ type: 'audio/pcmu' });
  }, 10_000);

  it('a dropped socket is reopened, the history replayed and an apology said', async () => {
    const call = startCall({ service: { reconnectApology: 'Sorry, I lost you.' } });
    await until(() => call.assistants.some((a) => a.text === GREETING));
    const before = fake.connections.length;
    fake.dropConnections();
    await until(() => call.assistants.some((a) => a.text === 'Sorry, I lost you.'));
    expect(fake.connections.length).toBe(before + 1);
    const replayed = fake.connections.at(-1)!.received.map((m) => m.json as { type: string; item?: { role?: string } });
    expect(replayed.some((m) => m.type === 'conversation.item.create' && m.item?.role === 'assistant')).toBe(true);
  }, 10_000);

  it('a socket that cannot be reopened ends the call with a fatal error', async () => {
    const call = startCall({ service: { maxReconnectAttempts: 2 } });
    await until(() => call.assistants.some((a) => a.text === GREETING));
    fake.failHandshake({ status: 503 }, { status: 503 }); // both attempts
    fake.dropConnections();
    await call.done;
    expect(call.errors.some((e) => e.fatal && /503/.test(e.message))).toBe(true);
  }, 15_000);

  it('refuses a cascade service given with realtime, and local turns without a VAD', async () => {
    const voice = new VoiceAgent({ instructions: 'x', logger: silentLogger });
    const realtime = new OpenAIRealtimeService({ apiKey: KEY, url: fake.url });
    const cascade = { stt: new ScriptedSTTService({ transcripts: [] }), llm: new ScriptedLLMService({ rules: [] }), tts: new FakeTTSService() };
    await expect(voice.action({ realtime, ...cascade } as never)).rejects.toThrow(ConfigurationError);
    await expect(voice.action({ realtime, ...cascade } as never)).rejects.toThrow(/give either realtime or stt \+ llm \+ tts/);
    await expect(voice.action({ realtime, turnDetection: 'local' })).rejects.toThrow(/vad/);
    expect(() => new OpenAIRealtimeService({ apiKey: KEY, voice: 'nobody' as never })).toThrow(/unknown voice/);
    expect(() => new OpenAIRealtimeService({ apiKey: ' ' })).toThrow(/apiKey is required/);
  });
});
