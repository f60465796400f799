// Calls through the fake Exotel Voicebot applet (src/testing/carriers/exotel.ts) to an ExotelServer: Basic
// credentials on the stream, the seed call (the agent leaves the stream and the flow's Connect applet transfers the
// caller), keys, and an interruption trimmed to what Exotel acknowledged as played. Real sockets and real time.
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logging/index.js';
import { ScriptedLLMService } from '../../../src/services/scripted/index.js';
import { startFakeExotel, type FakeExotel, type FakeExotelNextApplet } from '../../../src/testing/carriers/exotel.js';
import { EnergyVAD, speechTone } from '../../../src/testing/energy-vad.js';
import { FakeTTSService, ScriptedSTTService } from '../../../src/testing/fake-services.js';
import { ExotelServer, type ExotelCallSession } from '../../../src/transports/exotel/exotel-server.js';
import { ExotelSerializer } from '../../../src/transports/exotel/serializer.js';
import { FunctionSchema } from '../../../src/llm/function-schema.js';
import { VoiceAgent } from '../../../src/voice-agent/index.js';
import { expectKeptOnlyAcknowledged, LONG_GREETING, until } from '../carrier-kit.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const AUTH = { username: 'bot', password: 's3cret' };

interface Agent {
  exotel: FakeExotel;
  server: ExotelServer;
  origin: string;
  sessions: ExotelCallSession[];
  turns: { text: string; interrupted: boolean }[];
  userTurns: string[];
}

async function startAgent(setup: (call: ExotelCallSession) => Promise<VoiceAgent>, networkDelayMs?: number, chunkMs?: number): Promise<Agent> {
  const exotel = await startFakeExotel({ networkDelayMs });
  closers.push(() => exotel.close());
  const sessions: ExotelCallSession[] = [];
  const turns: Agent['turns'] = [];
  const userTurns: string[] = [];
  const server = new ExotelServer({
    streamAuth: AUTH,
    chunkMs,
    logger: silentLogger,
    onCall: async (call) => {
      sessions.push(call);
      const voice = await setup(call);
      voice.events.on('assistant-turn', (text, interrupted) => turns.push({ text, interrupted }));
      voice.events.on('user-turn', (text) => userTurns.push(text));
      await voice.start();
    },
  });
  closers.push(() => server.close());
  const origin = await server.listen();
  return { exotel, server, origin, sessions, turns, userTurns };
}

const GREETING = 'Hello! How can I help you today?';

function newVoice(): VoiceAgent {
  return new VoiceAgent({ instructions: 'Be brief.', greeting: GREETING, logger: silentLogger, idleTimeoutSecs: 0 });
}

describe('the Exotel stream', () => {
  it('the applet URL carries the credentials; a stream without them, or with others, is refused (403)', async () => {
    const agent = await startAgent(async () => newVoice());
    const url = agent.server.streamUrl(agent.origin);
    expect(url).toBe(`${agent.origin.replace('http', 'ws')}/exotel/stream`.replace('//', '//bot:s3cret@'));
    expect(agent.server.streamUrl('https://a.example', 16000)).toBe('wss://bot:s3cret@a.example/exotel/stream?sample-rate=16000');
    await expect(agent.exotel.placeCall({ streamUrl: url.replace('bot:s3cret@', '') })).rejects.toThrow(/HTTP 403/);
    await expect(agent.exotel.placeCall({ streamUrl: url.replace('s3cret', 'guess') })).rejects.toThrow(/HTTP 403/);
    expect(agent.sessions).toHaveLength(0);
    expect(() => new ExotelServer({ onCall: () => undefined })).toThrow(/streamAuth/);
  });

  it('reads Exotel’s messages and writes its own (snake_case, 16-bit PCM)', () => {
    const serializer = new ExotelSerializer(8000);
    const start = serializer.decode(Buffer.from(JSON.stringify({
      event: 'start',
      sequence_number: '1',
      stream_sid: 'S1',
      start: { stream_sid: 'S1', call_sid: 'C1', account_sid: 'A', from: '+91980', to: '+91800', custom_parameters: { lang: 'hi' }, media_format: { encoding: 'audio/x-raw', sample_rate: '8000', bit_rate: '16' } },
    })), false);
    expect(start).toEqual([{ type: 'start', start: { callId: 'C1', streamId: 'S1', fromNumber: '+91980', toNumber: '+91800', customParameters: { lang: 'hi' } } }]);
    const pcm = Buffer.alloc(4);
    pcm.writeInt16LE(-2, 0);
    pcm.writeInt16LE(300, 2);
    const media = serializer.decode(Buffer.from(JSON.stringify({ event: 'media', stream_sid: 'S1', media: { chunk: '2', timestamp: '200', payload: pcm.toString('base64') } })), false);
    expect(media).toEqual([{ type: 'audio', samples: new Int16Array([-2, 300]), position: 1600 }]);
    expect(JSON.parse(serializer.encodeAudio(new Int16Array([-2, 300])))).toEqual({ event: 'media', stream_sid: 'S1', media: { payload: pcm.toString('base64') } });
    expect(JSON.parse(serializer.encodeClear())).toEqual({ event: 'clear', stream_sid: 'S1' });
    expect(() => serializer.decode(Buffer.from('{"event":"media","media":{"payload":"AAAA"}}'), false)).toThrow(/odd number/);
    expect(() => new ExotelSerializer(8000).decode(Buffer.from(JSON.stringify({ event: 'start', start: { stream_sid: 'S', call_sid: 'C', media_format: { sample_rate: '16000' } } })), false)).toThrow(/16000/);
  });
});

describe('a call through the fake Exotel', () => {
  const next: FakeExotelNextApplet = { connect: '+919999900000' };

  it('the seed call: greeting, the caller asks for a human, the agent says so and leaves the stream to the Connect applet', async () => {
    const transferSchema = new FunctionSchema({ name: 'transfer_to_human', description: 'Transfer the call to a human.', properties: {}, required: [] });
    const agent = await startAgent(async (call) => {
      const voice = newVoice();
      voice.addTool(transferSchema, async (_args, ctx) => {
        ctx.say('Of course. I am connecting you to a human representative now.');
        await voice.speechPlayed();
        await call.leaveStream();
        return 'transferred';
      });
      await voice.action({
        stt: new ScriptedSTTService({ transcripts: ['I want to talk to a human please'] }),
        llm: new ScriptedLLMService({ rules: [{ match: /human/, toolCall: { name: 'transfer_to_human', arguments: {} } }] }),
        tts: new FakeTTSService({ sampleRate: 8000, msPerCharacter: 20 }),
        vad: new EnergyVAD({ sampleRate: 8000 }),
      });
      return voice;
    });
    const call = await agent.exotel.placeCall({ streamUrl: `${agent.server.streamUrl(agent.origin)}?lang=en`, from: '+919800000001', to: '+918000000002', next });
    await until(() => agent.turns.length === 1, 10_000, 'the greeting');
    expect(agent.turns[0]).toEqual({ text: GREETING, interrupted: false });
    await until(() => call.agentSpeechMs() > 500, 5000, 'the greeting at the caller');
    await call.say(speechTone(1200, 8000));
    expect(await Promise.race([call.ended, new Promise((r) => setTimeout(() => r('timeout'), 15_000))])).toBe('transferred');
    expect(call.transferredTo).toBe('+919999900000');
    expect(agent.userTurns).toEqual(['I want to talk to a human please']);
    expect(agent.sessions[0]).toMatchObject({ callId: call.callSid, fromNumber: '+919800000001', toNumber: '+918000000002', metadata: { lang: 'en' } });
    // The goodbye was heard to its end before the stream closed: every mark sent was acknowledged.
    const marksSent = call.received.filter((m) => m.event === 'mark').length;
    expect(marksSent).toBeGreaterThan(5);
    expect(call.marksAcknowledged).toBe(marksSent);
    expect(call.protocolErrors).toEqual([]);
    expect(call.chunkWarnings).toEqual([]);
    const stats = agent.sessions[0]!.transport.jitterStats!;
    expect(stats.receivedPackets).toBeGreaterThan(10);
    expect(stats.latePackets).toBeLessThan(stats.receivedPackets * 0.05);
  }, 30_000);

  it('keys the caller presses reach the model as an entry', async () => {
    const agent = await startAgent(async () => {
      const voice = newVoice();
      await voice.action({
        stt: new ScriptedSTTService({ transcripts: [] }),
        llm: new ScriptedLLMService({ rules: [{ match: /pressed: 4 2/, reply: 'Order forty-two is on its way.' }] }),
        tts: new FakeTTSService({ sampleRate: 8000, msPerCharacter: 10 }),
        vad: new EnergyVAD({ sampleRate: 8000 }),
      });
      return voice;
    });
    const call = await agent.exotel.placeCall({ streamUrl: agent.server.streamUrl(agent.origin) });
    await until(() => agent.turns.length === 1, 10_000, 'the greeting');
    for (const key of ['4', '2', '#']) call.pressKey(key);
    await until(() => agent.turns.length === 2, 10_000, 'the answer');
    expect(agent.turns[1]!.text).toBe('Order forty-two is on its way.');
    call.hangUp();
  }, 30_000);

  it('an interruption clears Exotel’s buffer and keeps only the words Exotel acknowledged as played', async () => {
    const delayMs = 200;
    const agent = await startAgent(async () => {
      const voice = new VoiceAgent({ instructions: 'Be brief.', greeting: LONG_GREETING, logger: silentLogger, idleTimeoutSecs: 0 });
      await voice.action({
        stt: new ScriptedSTTService({ transcripts: ['wait', 'ok'] }),
        llm: new ScriptedLLMService({ rules: [{ match: /wait/, reply: 'Yes?' }] }),
        tts: new FakeTTSService({ sampleRate: 8000, msPerCharacter: 60 }), // ~5.5 s of greeting
        vad: new EnergyVAD({ sampleRate: 8000 }),
        interruptionStrategy: null,
      });
      return voice;
      // Exotel's default 200 ms chunks, longer than the fake TTS's pieces.
    }, delayMs);
    const call = await agent.exotel.placeCall({ streamUrl: agent.server.streamUrl(agent.origin) });
    await until(() => call.agentSpeechMs() >= 1500, 10_000, 'the greeting to be under way');
    await call.say(speechTone(800, 8000));
    await until(() => agent.turns.length >= 1, 10_000, 'the interrupted greeting');
    expect(call.clearedAtMs.length).toBeGreaterThanOrEqual(1);
    expectKeptOnlyAcknowledged(agent.turns[0]!, call.agentSpeechMs(0, call.clearedAtMs[0]));
    call.hangUp();
  }, 30_000);
});
