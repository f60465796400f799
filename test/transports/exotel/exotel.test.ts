// Calls through the fake Exotel Voicebot applet (src/testing/carriers/exotel.ts) to an ExotelServer: Basic
// credentials on the stream, the seed call (the agent leaves the stream and the flow's Connect applet transfers the
// caller), keys, and an interruption trimmed to what Exotel acknowledged as played. Real sockets and real time.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logging/index.js';
import { startFakeExotel, type FakeExotel, type FakeExotelNextApplet } from '../../../src/testing/carriers/exotel.js';
import { speechTone } from '../../../src/testing/energy-vad.js';
import { ExotelServer, type ExotelCallSession } from '../../../src/transports/exotel/exotel-server.js';
import { ExotelSerializer } from '../../../src/transports/exotel/serializer.js';
import type { VoiceAgent } from '../../../src/voice-agent/index.js';
import {
  GREETING,
  HUMAN_LINE,
  expectAllMarksAcknowledged,
  expectKeptOnlyAcknowledged,
  interruptibleAgent,
  keysAgent,
  newCallLog,
  newVoice,
  runAgent,
  seedAgent,
  until,
  useClosers,
  within,
  type CallLog,
} from '../carrier-kit.js';

const closeAfter = useClosers();

const AUTH = { username: 'bot', password: 's3cret' };

interface Agent extends CallLog<ExotelCallSession> {
  exotel: FakeExotel;
  server: ExotelServer;
  origin: string;
}

async function startAgent(setup: (call: ExotelCallSession) => Promise<VoiceAgent>, networkDelayMs?: number): Promise<Agent> {
  const exotel = await startFakeExotel({ networkDelayMs });
  closeAfter(() => exotel.close());
  const log = newCallLog<ExotelCallSession>();
  const server = new ExotelServer({ streamAuth: AUTH, logger: silentLogger, onCall: runAgent(log, setup) });
  closeAfter(() => server.close());
  const origin = await server.listen();
  return { ...log, exotel, server, origin };
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
    expect(JSON.parse(serializer.encodeClear()!)).toEqual({ event: 'clear', stream_sid: 'S1' });
    expect(() => serializer.decode(Buffer.from('{"event":"media","media":{"payload":"AAAA"}}'), false)).toThrow(/odd number/);
    expect(() => new ExotelSerializer(8000).decode(Buffer.from(JSON.stringify({ event: 'start', start: { stream_sid: 'S', call_sid: 'C', media_format: { sample_rate: '16000' } } })), false)).toThrow(/16000/);
  });
});

describe('a call through the fake Exotel', () => {
  const next: FakeExotelNextApplet = { connect: '+919999900000' };

  it('the seed call: greeting, the caller asks for a human, the agent says so and leaves the stream to the Connect applet', async () => {
    const agent = await startAgent((call) => seedAgent(() => call.leaveStream()));
    const call = await agent.exotel.placeCall({ streamUrl: `${agent.server.streamUrl(agent.origin)}?lang=en`, from: '+919800000001', to: '+918000000002', next });
    await until(() => agent.turns.length === 1, 10_000, 'the greeting');
    expect(agent.turns[0]).toEqual({ text: GREETING, interrupted: false });
    await until(() => call.agentSpeechMs() > 500, 5000, 'the greeting at the caller');
    await call.say(speechTone(1200, 8000));
    expect(await within(call.ended, 15_000)).toBe('transferred');
    expect(call.transferredTo).toBe('+919999900000');
    expect(agent.userTurns).toEqual([HUMAN_LINE]);
    expect(agent.sessions[0]).toMatchObject({ callId: call.callSid, fromNumber: '+919800000001', toNumber: '+918000000002', metadata: { lang: 'en' } });
    // The goodbye was heard to its end before the stream closed: every mark sent was acknowledged.
    expectAllMarksAcknowledged(call, 'mark', 5);
    expect(call.chunkWarnings).toEqual([]);
    const stats = agent.sessions[0]!.transport.jitterStats!;
    expect(stats.receivedPackets).toBeGreaterThan(10);
    expect(stats.latePackets).toBeLessThan(stats.receivedPackets * 0.05);
  }, 30_000);

  it('keys the caller presses reach the model as an entry', async () => {
    const agent = await startAgent(() => keysAgent());
    const call = await agent.exotel.placeCall({ streamUrl: agent.server.streamUrl(agent.origin) });
    await until(() => agent.turns.length === 1, 10_000, 'the greeting');
    for (const key of ['4', '2', '#']) call.pressKey(key);
    await until(() => agent.turns.length === 2, 10_000, 'the answer');
    expect(agent.turns[1]!.text).toBe('Order forty-two is on its way.');
    call.hangUp();
  }, 30_000);

  it('an interruption clears Exotel’s buffer and keeps only the words Exotel acknowledged as played', async () => {
    const delayMs = 200;
    // Exotel's default 200 ms chunks, longer than the fake TTS's pieces.
    const agent = await startAgent(() => interruptibleAgent(), delayMs);
    const call = await agent.exotel.placeCall({ streamUrl: agent.server.streamUrl(agent.origin) });
    await until(() => call.agentSpeechMs() >= 1500, 10_000, 'the greeting to be under way');
    await call.say(speechTone(800, 8000));
    await until(() => agent.turns.length >= 1, 10_000, 'the interrupted greeting');
    expect(call.clearedAtMs.length).toBeGreaterThanOrEqual(1);
    expectKeptOnlyAcknowledged(agent.turns[0]!, call.agentSpeechMs(0, call.clearedAtMs[0]));
    call.hangUp();
  }, 30_000);
});
