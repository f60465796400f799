// FishAudioTTSService against the fake Fish Audio live WebSocket over real sockets, in a pipeline task: MessagePack
// both ways, the key and model in the handshake, the `start` event, one session (socket) per sentence ended by
// `stop` / `finish`, a socket destroyed on an interruption, and what the fake refuses. The behaviour every vendor
// shares is in test/services/conformance.
import { describe, expect, it } from 'vitest';
import { concatInt16 } from '../../../src/audio/index.js';
import { makeFrame } from '../../../src/frames/index.js';
import { ServiceError } from '../../../src/services/base/index.js';
import { FishAudioTTSService, type FishAudioTTSServiceOptions } from '../../../src/services/fish/index.js';
import { packMessage, unpackMessage } from '../../../src/services/fish/msgpack.js';
import { fakeFishSpeech, startFakeFish } from '../../../src/testing/fakes/fish.js';
import { audioOf, runPipeline } from '../../support/pipeline.js';
import { firstAnswer, handshakeStatus, records, sayResponse, useFake } from '../../support/vendor-tts.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'fish-key-SECRET-0123456789';
const BAD_KEY = 'fish-bad-key-9876543210';

const fakeFish = useFake(() => startFakeFish({ rejectKey: BAD_KEY }));
const service = (options: Partial<FishAudioTTSServiceOptions> = {}): FishAudioTTSService =>
  new FishAudioTTSService({ apiKey: KEY, voice: 'voice-1', baseUrl: fakeFish().baseUrl, ...options });

describe('msgpack (the subset Fish uses)', () => {
  it('round-trips maps, strings of every length class, binary, integers, floats, booleans, nil and arrays', () => {
    const value = {
      event: 'audio',
      short: 'é',
      long: 'x'.repeat(40),
      longer: 'y'.repeat(300),
      longest: 'z'.repeat(70_000),
      audio: new Uint8Array([0, 1, 255]),
      ints: [0, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32, -1, -32, -33, -(2 ** 40)],
      floats: [0.5, -1.25, 44_100.5],
      flags: [true, false, null],
      nested: { a: [{ b: 1 }] },
    };
    expect(unpackMessage(packMessage(value))).toEqual(value);
    // The spec's own bytes: fixmap 1, fixstr "event", fixstr "stop".
    expect([...packMessage({ event: 'stop' })]).toEqual([0x81, 0xa5, ...Buffer.from('event'), 0xa4, ...Buffer.from('stop')]);
  });

  it('refuses truncated data, trailing bytes and extension types', () => {
    expect(() => unpackMessage(packMessage({ event: 'text' }).subarray(0, 4))).toThrow(/truncated/);
    expect(() => unpackMessage(Buffer.from([0xc0, 0xc0]))).toThrow(/trailing/);
    expect(() => unpackMessage(Buffer.from([0xd4, 0x01, 0x00]))).toThrow(/not supported/);
  });
});

describe('FishAudioTTSService', () => {
  it('key and model in the handshake, `start` first; each sentence is its own session: text, stop, audio, finish', async () => {
    const fake = fakeFish();
    const before = fake.connections.length;
    const tts = service({ model: 's2-pro', sampleRate: 8000, latency: 'normal', speed: 1.2 });
    const { collector, errors } = await sayResponse(tts, ['Hello there. How can', ' I help you?']);
    expect(errors).toEqual([]);
    const sentences = ['Hello there.', 'How can I help you?'];
    expect(audioOf(collector.downstream)).toEqual(concatInt16(sentences.map((s) => fakeFishSpeech(s, { sampleRate: 8000, voice: 'voice-1' }))));

    const used = fake.connections.slice(before).filter((c) => c.received.length > 1);
    expect(used).toHaveLength(2);
    for (const [i, connection] of used.entries()) {
      expect(connection.path).toBe('/v1/tts/live');
      expect(connection.headers).toMatchObject({ authorization: '[redacted]', model: 's2-pro' });
      expect(connection.start).toEqual({ text: '', format: 'pcm', sample_rate: 8000, latency: 'normal', reference_id: 'voice-1', prosody: { speed: 1.2 } });
      expect(records(connection.received.map((m) => m.json)).slice(1)).toEqual([{ event: 'text', text: `${sentences[i]} ` }, { event: 'stop' }]);
      expect(connection.close).toMatchObject({ code: 1000, by: 'server' });
    }
    // The spare socket opened for a next sentence is closed with the pipeline.
    await waitUntil(() => fake.connections.every((c) => c.status !== 101 || c.close !== undefined), 5000);
  });

  it('an interruption destroys the socket of the sentence in flight; the next utterance is said on a fresh one', async () => {
    const fake = fakeFish();
    const tts = service();
    const { collector, errors, send, task, stop } = runPipeline(tts);
    send(makeFrame('speak', { text: 'This sentence goes on long enough to be cut off by the caller speaking over it.' }));
    const first = await collector.waitFor((f) => f.type === 'tts-audio');
    const firstContext = first.type === 'tts-audio' ? first.contextId : undefined;
    task.interrupt();
    await collector.waitFor((f) => f.type === 'interruption');
    send(makeFrame('speak', { text: 'Sure.' }));
    await waitUntil(() => collector.downstream.at(-1)?.type === 'tts-stopped' && collector.ofType('tts-audio').some((f) => f.contextId !== firstContext), 5000);
    await stop();
    expect(fake.syntheses.find((s) => s.text.startsWith('This sentence'))?.outcome).toBe('cut');
    const second = collector.ofType('tts-audio').filter((f) => f.contextId !== firstContext);
    expect(concatInt16(second.map((f) => f.audio))).toEqual(fakeFishSpeech('Sure.', { sampleRate: 16000, voice: 'voice-1' }));
    expect(errors).toEqual([]);
  });

  it('an in-band error fails the sentence (the concurrency limit as `rate-limited`); the next sentence is said', async () => {
    const fake = fakeFish();
    const { collector, errors, send, stop } = runPipeline(service());
    fake.failSynthesis({ error: 'Concurrency limit exceeded', maxConcurrency: 8 });
    send(makeFrame('speak', { text: 'First.' }));
    await waitUntil(() => errors.length === 1, 5000);
    send(makeFrame('speak', { text: 'Second.' }));
    await waitUntil(() => collector.ofType('tts-audio').length > 0 && collector.downstream.at(-1)?.type === 'tts-stopped', 5000);
    await stop();
    const error = errors[0]!.error as ServiceError;
    expect(error).toBeInstanceOf(ServiceError);
    expect([error.code, error.message]).toEqual(['rate-limited', 'Fish Audio: Concurrency limit exceeded']);
  });

  it('refuses bad options before any socket: a rate Fish does not make, a speed out of range, no key', () => {
    expect(() => service({ sampleRate: 22050 as 8000 })).toThrow(/8000, 16000, 24000, 32000, 44100/);
    expect(() => service({ speed: 3 })).toThrow(/speed/);
    expect(() => service({ apiKey: '' })).toThrow(/FISH_API_KEY/);
  });

  it('the fake refuses what Fish refuses: a bad key (401), no model header, JSON text, a start without pcm', async () => {
    const url = `${fakeFish().baseUrl}/v1/tts/live`;
    const auth = { Authorization: `Bearer ${KEY}`, model: 's1' };
    expect(await handshakeStatus(url, { ...auth, Authorization: `Bearer ${BAD_KEY}` })).toBe(401);
    expect(await handshakeStatus(url, { Authorization: `Bearer ${KEY}` })).toBe(400);
    expect(await handshakeStatus(url, auth)).toBe(101);
    const answer = async (first: string | Buffer): Promise<unknown> => unpackMessage((await firstAnswer(url, first, auth)).bytes);
    expect(await answer(JSON.stringify({ event: 'start', request: { format: 'pcm' } }))).toMatchObject({ event: 'error' });
    expect(await answer(packMessage({ event: 'text', text: 'hi' }))).toMatchObject({ event: 'error', error: 'The first event must be start' });
    expect(await answer(packMessage({ event: 'start', request: { text: '', format: 'pcm', sample_rate: 22050 } }))).toMatchObject({ event: 'error' });
  });
});
