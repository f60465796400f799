// NeuphonicTTSService against the fake Neuphonic SSE endpoint: what it posts (as Neuphonic's SDK sends it), the
// base64 PCM decoded whole, HTTP refusals and in-band `error` events, and what is refused before any request. The
// behaviour every vendor shares is in test/services/conformance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NeuphonicTTSService } from '../../../src/services/neuphonic/index.js';
import { fakeNeuphonicSpeech, startFakeNeuphonic, type FakeNeuphonic } from '../../../src/testing/fakes/neuphonic.js';
import { synthesizeAudio, failureOf } from '../../support/service-calls.js';

const KEY = 'np-key-SECRET-0123456789';
const BAD_KEY = 'np-refused-9876543210';
let fake: FakeNeuphonic;
beforeAll(async () => {
  fake = await startFakeNeuphonic({ rejectKey: BAD_KEY, chunkMs: 200 });
});
afterAll(() => fake.close());

describe('NeuphonicTTSService', () => {
  it('posts to /sse/speak/{lang_code} with X-API-KEY and the documented body, and streams the PCM back whole', async () => {
    const voice = 'e564ba7e-aa8d-46a2-96a8-8dffedade48f';
    const tts = new NeuphonicTTSService({ apiKey: KEY, baseUrl: `${fake.baseUrl}/`, voice, language: 'hi', speed: 1.2, sampleRate: 8000 });
    const audio = await synthesizeAudio(tts, 'Namaste, your order is on its way.');
    expect(audio).toEqual(fakeNeuphonicSpeech('Namaste, your order is on its way.', { sampleRate: 8000, voice }));
    const request = fake.requests.at(-1)!;
    expect([request.path, request.language, request.chunksSent > 1, request.outcome]).toEqual(['/sse/speak/hi', 'hi', true, 'completed']);
    expect(request.headers['x-api-key']).toBe('[redacted]');
    expect(request.auth).toEqual({ present: true, valid: true });
    expect(request.body).toEqual({ text: 'Namaste, your order is on its way.', lang_code: 'hi', encoding: 'pcm_linear', sampling_rate: 8000, voice_id: voice, speed: 1.2 });
  });

  it('by default speaks English at 22050 Hz without voice_id or speed (Neuphonic picks them)', async () => {
    const tts = new NeuphonicTTSService({ apiKey: KEY, baseUrl: fake.baseUrl });
    expect(tts.sampleRate).toBe(22050);
    const audio = await synthesizeAudio(tts, 'Hello there.');
    expect(audio).toEqual(fakeNeuphonicSpeech('Hello there.', { sampleRate: 22050 }));
    expect(fake.requests.at(-1)!.body).toEqual({ text: 'Hello there.', lang_code: 'en', encoding: 'pcm_linear', sampling_rate: 22050 });
  });

  it('a refused key (401) is `auth` naming NEUPHONIC_API_KEY and Neuphonic’s reason, without the key', async () => {
    const refused = await failureOf(() => synthesizeAudio(new NeuphonicTTSService({ apiKey: BAD_KEY, baseUrl: fake.baseUrl }), 'Hello.'));
    expect([refused.code, refused.status, refused.retryable]).toEqual(['auth', 401, false]);
    expect(refused.message).toContain('NEUPHONIC_API_KEY');
    expect(refused.message).toContain('Invalid API key.');
    expect(refused.message).not.toContain(BAD_KEY);
  });

  it('a 429 keeps Retry-After; a 422 (a body Neuphonic refuses) is `bad-request`', async () => {
    const tts = new NeuphonicTTSService({ apiKey: KEY, baseUrl: fake.baseUrl });
    fake.failSpeech({ error: 429, retryAfter: 3 });
    const limited = await failureOf(() => synthesizeAudio(tts, 'Hello.'));
    expect([limited.code, limited.status, limited.retryAfterSecs, limited.retryable]).toEqual(['rate-limited', 429, 3, true]);
    // An empty sentence is what the fake refuses with 422 (the service sends what the base gives it).
    const bad = await failureOf(() => synthesizeAudio(tts, '   '));
    expect([bad.code, bad.status]).toEqual(['bad-request', 422]);
    expect(bad.message).toContain('text is required');
  });

  it('an in-band `error` event after some audio fails the sentence with its status_code', async () => {
    const tts = new NeuphonicTTSService({ apiKey: KEY, baseUrl: fake.baseUrl });
    fake.failSpeech({ inBandError: 500, afterChunks: 1 });
    const chunks: Int16Array[] = [];
    const failure = await failureOf(async () => {
      for await (const chunk of tts.synthesize('Hello there, how are you?', { contextId: 'c', signal: new AbortController().signal })) {
        if (chunk.type === 'audio') chunks.push(chunk.audio);
      }
    });
    expect(chunks.length).toBe(1);
    expect([failure.code, failure.status, failure.retryable]).toEqual(['server', 500, true]);
    expect(failure.message).toContain('speech stream failed with 500');
    expect(fake.requests.at(-1)!.outcome).toBe('failed-in-band');
  });

  it('refuses bad options before any request', () => {
    expect(() => new NeuphonicTTSService({ apiKey: KEY, sampleRate: 24000 as 8000 })).toThrow(/8000, 16000, 22050/);
    expect(() => new NeuphonicTTSService({ apiKey: KEY, speed: 3 })).toThrow(/speed/);
    expect(() => new NeuphonicTTSService({ apiKey: KEY, language: 'en/../x' })).toThrow(/language/);
    expect(() => new NeuphonicTTSService({ apiKey: '' })).toThrow(/NEUPHONIC_API_KEY/);
  });
});
