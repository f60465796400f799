// SpeechmaticsTTSService against the fake Speechmatics preview TTS: what it posts (voice in the path, pcm_16000,
// Bearer auth), the raw PCM reassembled across odd-sized writes, the gateway's HTML 401 and JSON refusals, and
// what is refused before any request. The behaviour every vendor shares is in test/services/conformance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpeechmaticsTTSService, speechmaticsReason } from '../../../src/services/speechmatics/index.js';
import { fakeSpeechmaticsSpeech, startFakeSpeechmaticsTTS, type FakeSpeechmaticsTTS } from '../../../src/testing/fakes/speechmatics-tts.js';
import { synthesizeAudio, failureOf } from '../../support/service-calls.js';

const KEY = 'sm-key-SECRET-0123456789';
const BAD_KEY = 'sm-refused-9876543210';
let fake: FakeSpeechmaticsTTS;
beforeAll(async () => {
  fake = await startFakeSpeechmaticsTTS({ rejectKey: BAD_KEY, chunkMs: 200 });
});
afterAll(() => fake.close());

describe('SpeechmaticsTTSService', () => {
  it('posts {text} to /generate/{voice}?output_format=pcm_16000 with Bearer auth and streams the PCM back whole', async () => {
    const tts = new SpeechmaticsTTSService({ apiKey: KEY, baseUrl: `${fake.baseUrl}/`, voice: 'megan' });
    expect(tts.sampleRate).toBe(16000);
    const audio = await synthesizeAudio(tts, 'Your table is booked for eight.');
    expect(audio).toEqual(fakeSpeechmaticsSpeech('Your table is booked for eight.', { voice: 'megan' }));
    const request = fake.requests.at(-1)!;
    expect([request.path, request.voice, request.query, request.outcome]).toEqual(['/generate/megan', 'megan', { output_format: 'pcm_16000' }, 'completed']);
    expect(request.chunksSent).toBeGreaterThan(1);
    expect(request.headers.authorization).toBe('[redacted]');
    expect(request.body).toEqual({ text: 'Your table is booked for eight.' });
  });

  it('speaks as sarah by default', async () => {
    await synthesizeAudio(new SpeechmaticsTTSService({ apiKey: KEY, baseUrl: fake.baseUrl }), 'Hello.');
    expect(fake.requests.at(-1)!.voice).toBe('sarah');
  });

  it('a refused key (the gateway’s HTML 401) is `auth` naming SPEECHMATICS_API_KEY and the page title, without the key', async () => {
    const refused = await failureOf(() => synthesizeAudio(new SpeechmaticsTTSService({ apiKey: BAD_KEY, baseUrl: fake.baseUrl }), 'Hello.'));
    expect([refused.code, refused.status, refused.retryable]).toEqual(['auth', 401, false]);
    expect(refused.message).toBe('Speechmatics TTS: speech request refused with 401: 401 Authorization Required (check SPEECHMATICS_API_KEY)');
  });

  it('a 503 keeps Retry-After and is retryable; an unknown voice is `bad-request`', async () => {
    const tts = new SpeechmaticsTTSService({ apiKey: KEY, baseUrl: fake.baseUrl });
    fake.failSpeech({ error: 503, retryAfter: 2 });
    const busy = await failureOf(() => synthesizeAudio(tts, 'Hello.'));
    expect([busy.code, busy.status, busy.retryAfterSecs, busy.retryable]).toEqual(['server', 503, 2, true]);
    const bad = await failureOf(() => synthesizeAudio(new SpeechmaticsTTSService({ apiKey: KEY, baseUrl: fake.baseUrl, voice: 'zoe' }), 'Hello.'));
    expect([bad.code, bad.status]).toEqual(['bad-request', 400]);
    expect(bad.message).toContain('unknown voice');
  });

  it('reads error bodies as JSON detail/error/message, an HTML title, or short text', () => {
    expect(speechmaticsReason('{"code":403,"detail":"Entitlement check failed","error":"Forbidden"}')).toBe('Entitlement check failed');
    expect(speechmaticsReason('{"error":"Too Many Requests"}')).toBe('Too Many Requests');
    expect(speechmaticsReason('<html><head><title>503 Service Temporarily Unavailable</title></head></html>')).toBe('503 Service Temporarily Unavailable');
    expect(speechmaticsReason('upstream connect error')).toBe('upstream connect error');
    expect(speechmaticsReason('<html><body>no title</body></html>')).toBe('');
  });

  it('refuses bad options before any request', () => {
    expect(() => new SpeechmaticsTTSService({ apiKey: '' })).toThrow(/SPEECHMATICS_API_KEY/);
    expect(() => new SpeechmaticsTTSService({ apiKey: KEY, voice: '../jobs' })).toThrow(/voice/);
  });
});
