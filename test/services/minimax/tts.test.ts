// MiniMaxTTSService against the fake MiniMax T2A v2 stream: what it posts (as MiniMax documents it), the hex PCM
// decoded whole with the final aggregated event skipped, MiniMax's `base_resp` refusals (HTTP 200) and gateway
// errors, and what the fake refuses. The behaviour every vendor shares is in test/services/conformance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiniMaxTTSService, minimaxCodeOf } from '../../../src/services/minimax/index.js';
import { fakeMiniMaxSpeech, startFakeMiniMax, type FakeMiniMax } from '../../../src/testing/fakes/minimax.js';
import { synthesizeAudio, failureOf } from '../../support/service-calls.js';

const KEY = 'mm-key-SECRET-0123456789';
const BAD_KEY = 'mm-refused-9876543210';
let fake: FakeMiniMax;
beforeAll(async () => {
  fake = await startFakeMiniMax({ rejectKey: BAD_KEY, chunkMs: 200 });
});
afterAll(() => fake.close());

describe('MiniMaxTTSService', () => {
  it('posts the documented body with Bearer auth and GroupId, and streams the hex PCM back whole, once', async () => {
    const tts = new MiniMaxTTSService({
      apiKey: KEY, groupId: 'g-42', baseUrl: fake.baseUrl, voice: 'English_Graceful_Lady', language: 'Hindi',
      speed: 1.2, pitch: -2, emotion: 'happy', sampleRate: 8000,
    });
    const audio = await synthesizeAudio(tts, 'Namaste, your order is on its way.');
    expect(audio).toEqual(fakeMiniMaxSpeech('Namaste, your order is on its way.', { sampleRate: 8000, voice: 'English_Graceful_Lady' }));
    const request = fake.requests.at(-1)!;
    expect(request.chunksSent).toBeGreaterThan(1);
    expect(request.outcome).toBe('completed');
    expect(request.query).toEqual({ GroupId: 'g-42' });
    expect(request.headers.authorization).toBe('[redacted]');
    expect(request.auth).toEqual({ present: true, valid: true });
    expect(request.body).toEqual({
      model: 'speech-02-turbo',
      text: 'Namaste, your order is on its way.',
      stream: true,
      stream_options: { exclude_aggregated_audio: true },
      voice_setting: { voice_id: 'English_Graceful_Lady', speed: 1.2, pitch: -2, emotion: 'happy' },
      audio_setting: { sample_rate: 8000, format: 'pcm', channel: 1 },
      language_boost: 'Hindi',
    });
  });

  it('skips the final event’s aggregated audio even when MiniMax sends it', async () => {
    const repeating = await startFakeMiniMax({ ignoreExcludeAggregatedAudio: true, chunkMs: 200 });
    const tts = new MiniMaxTTSService({ apiKey: KEY, baseUrl: repeating.baseUrl, sampleRate: 16000 });
    const audio = await synthesizeAudio(tts, 'Hello there.');
    await repeating.close();
    expect(audio).toEqual(fakeMiniMaxSpeech('Hello there.', { sampleRate: 16000, voice: 'Wise_Woman' }));
    expect(repeating.requests[0]!.outcome).toBe('completed');
  });

  it('a refused key (HTTP 200, base_resp 1004) is `auth` naming MINIMAX_API_KEY, without the key', async () => {
    const refused = await failureOf(() => synthesizeAudio(new MiniMaxTTSService({ apiKey: BAD_KEY, baseUrl: fake.baseUrl }), 'Hello.'));
    expect([refused.code, refused.status, refused.vendorCode, refused.retryable]).toEqual(['auth', undefined, '1004', false]);
    expect(refused.message).toContain('MINIMAX_API_KEY');
    expect(refused.message).not.toContain(BAD_KEY);
    expect(fake.requests.at(-1)!.status).toBe(200);
  });

  it('maps base_resp codes: 1002 rate-limited, 1008 quota, 2013 bad-request (an unknown model), 1026 content-filtered', async () => {
    const tts = new MiniMaxTTSService({ apiKey: KEY, baseUrl: fake.baseUrl });
    fake.failSpeech({ baseResp: 1002, message: 'rate limit' });
    const limited = await failureOf(() => synthesizeAudio(tts, 'Hello.'));
    expect([limited.code, limited.retryable, limited.vendorCode]).toEqual(['rate-limited', true, '1002']);
    fake.failSpeech({ baseResp: 1008, message: 'insufficient balance' });
    expect((await failureOf(() => synthesizeAudio(tts, 'Hello.'))).code).toBe('quota');
    const bad = await failureOf(() => synthesizeAudio(new MiniMaxTTSService({ apiKey: KEY, baseUrl: fake.baseUrl, model: 'speech-9' }), 'Hello.'));
    expect([bad.code, bad.vendorCode]).toEqual(['bad-request', '2013']);
    expect(bad.message).toContain('unknown model');
    expect(minimaxCodeOf(1026)).toBe('content-filtered');
    expect(minimaxCodeOf(1024)).toBe('server');
    expect(minimaxCodeOf(2049)).toBe('auth');
  });

  it('a gateway 503 with Retry-After is a retryable `server` error keeping the status and the wait', async () => {
    fake.failSpeech({ error: 503, retryAfter: 4 });
    const error = await failureOf(() => synthesizeAudio(new MiniMaxTTSService({ apiKey: KEY, baseUrl: fake.baseUrl }), 'Hello.'));
    expect([error.code, error.status, error.retryAfterSecs, error.retryable]).toEqual(['server', 503, 4, true]);
  });

  it('refuses bad options before any request, and text over 10000 characters before sending it', async () => {
    expect(() => new MiniMaxTTSService({ apiKey: KEY, sampleRate: 11025 as 8000 })).toThrow(/8000, 16000/);
    expect(() => new MiniMaxTTSService({ apiKey: KEY, speed: 3 })).toThrow(/speed/);
    expect(() => new MiniMaxTTSService({ apiKey: KEY, pitch: 0.5 })).toThrow(/pitch/);
    expect(() => new MiniMaxTTSService({ apiKey: '' })).toThrow(/MINIMAX_API_KEY/);
    const before = fake.requests.length;
    const error = await failureOf(() => synthesizeAudio(new MiniMaxTTSService({ apiKey: KEY, baseUrl: fake.baseUrl }), 'a'.repeat(10_001)));
    expect(error.code).toBe('bad-request');
    expect(fake.requests.length).toBe(before);
  });
});
