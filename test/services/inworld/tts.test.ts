// InworldTTSService against the fake Inworld HTTP stream: what it posts (as Inworld documents it), the WAV header of
// every LINEAR16 piece cut off, Inworld's error bodies, and what the fake refuses. The behaviour every vendor shares
// is in test/services/conformance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InworldTTSService } from '../../../src/services/inworld/index.js';
import { fakeInworldSpeech, startFakeInworld, type FakeInworld } from '../../../src/testing/fakes/inworld.js';
import { synthesizeAudio, failureOf } from '../../support/service-calls.js';

const KEY = 'aW53b3JsZC1rZXktU0VDUkVULTAxMjM0NTY3ODk=';
const BAD_KEY = 'cmVmdXNlZC1rZXktOTg3NjU0MzIxMA==';
let fake: FakeInworld;
beforeAll(async () => {
  fake = await startFakeInworld({ rejectKey: BAD_KEY });
});
afterAll(() => fake.close());

describe('InworldTTSService', () => {
  it('posts the documented body with Basic auth, and streams the PCM back whole, every piece’s WAV header cut off', async () => {
    const tts = new InworldTTSService({ apiKey: KEY, baseUrl: fake.baseUrl, voice: 'Dennis', language: 'hi-IN', speakingRate: 1.2, sampleRate: 8000 });
    const audio = await synthesizeAudio(tts, 'Namaste, your order is on its way.');
    expect(audio).toEqual(fakeInworldSpeech('Namaste, your order is on its way.', { sampleRate: 8000, voice: 'Dennis' }));
    const request = fake.requests.at(-1)!;
    expect(request.chunksSent).toBeGreaterThan(1);
    expect(request.headers.authorization).toBe('[redacted]');
    expect(request.auth).toEqual({ present: true, valid: true });
    expect(request.body).toEqual({
      text: 'Namaste, your order is on its way.',
      voiceId: 'Dennis',
      modelId: 'inworld-tts-1.5-max',
      audioConfig: { audioEncoding: 'LINEAR16', sampleRateHertz: 8000, speakingRate: 1.2 },
      language: 'hi-IN',
    });
  });

  it('a refused key is `auth` naming INWORLD_API_KEY, without the key; a 429 keeps Retry-After; a bad model is `bad-request`', async () => {
    const refused = await failureOf(() => synthesizeAudio(new InworldTTSService({ apiKey: BAD_KEY, baseUrl: fake.baseUrl }), 'Hello.'));
    expect([refused.code, refused.status, refused.vendorCode]).toEqual(['auth', 401, '16']);
    expect(refused.message).toContain('INWORLD_API_KEY');
    expect(refused.message).not.toContain(BAD_KEY);
    fake.failSpeech({ error: 429, retryAfter: 3 });
    const limited = await failureOf(() => synthesizeAudio(new InworldTTSService({ apiKey: KEY, baseUrl: fake.baseUrl }), 'Hello.'));
    expect([limited.code, limited.retryAfterSecs, limited.retryable]).toEqual(['rate-limited', 3, true]);
    const bad = await failureOf(() => synthesizeAudio(new InworldTTSService({ apiKey: KEY, baseUrl: fake.baseUrl, model: 'tts-9' }), 'Hello.'));
    expect(bad.code).toBe('bad-request');
    expect(bad.message).toContain('Unknown modelId');
  });

  it('refuses bad options before any request: a rate it does not ask for, a speaking rate out of range, no key', () => {
    expect(() => new InworldTTSService({ apiKey: KEY, sampleRate: 11025 as 8000 })).toThrow(/8000, 16000/);
    expect(() => new InworldTTSService({ apiKey: KEY, speakingRate: 2 })).toThrow(/speakingRate/);
    expect(() => new InworldTTSService({ apiKey: '' })).toThrow(/INWORLD_API_KEY/);
  });

  it('text over the 2000 characters a request takes is a `bad-request` before any request', async () => {
    const before = fake.requests.length;
    const error = await failureOf(() => synthesizeAudio(new InworldTTSService({ apiKey: KEY, baseUrl: fake.baseUrl }), 'a'.repeat(2001)));
    expect(error.code).toBe('bad-request');
    expect(fake.requests.length).toBe(before);
  });
});
