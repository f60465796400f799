// GoogleTTSService against the fake Cloud Text-to-Speech REST method: the body it posts (as Google documents it),
// the WAV header of LINEAR16 and MULAW answers checked and cut off, API key and bearer-token auth, Google's error
// bodies, and what the fake refuses. The behaviour every vendor shares is in test/services/conformance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatInt16, mulawToPcm, pcmToMulaw } from '../../../src/audio/index.js';
import { GoogleTTSService } from '../../../src/services/google/index.js';
import { fakeGoogleSpeech, startFakeGoogleTTS, type FakeGoogleTTS } from '../../../src/testing/fakes/google-tts.js';
import { failureOf } from '../../support/service-calls.js';

const KEY = 'AIzaSyFAKE-google-key-SECRET-0123';
const BAD_KEY = 'AIzaSyFAKE-refused-SECRET-98765';
let fake: FakeGoogleTTS;
beforeAll(async () => {
  fake = await startFakeGoogleTTS({ rejectKey: BAD_KEY, chunkDelayMs: 0 });
});
afterAll(() => fake.close());

async function synthesize(tts: GoogleTTSService, text: string): Promise<{ audio: Int16Array; pieces: number }> {
  const chunks: Int16Array[] = [];
  for await (const chunk of tts.synthesize(text, { contextId: 'c1', signal: new AbortController().signal })) if (chunk.type === 'audio') chunks.push(chunk.audio);
  return { audio: concatInt16(chunks), pieces: chunks.length };
}

describe('GoogleTTSService', () => {
  it('posts the documented body with the key in X-Goog-Api-Key; the WAV header is cut off, the audio handed on in 40 ms pieces', async () => {
    const tts = new GoogleTTSService({ apiKey: KEY, baseUrl: fake.baseUrl, voice: 'hi-IN-Wavenet-A', speakingRate: 1.25, sampleRate: 16000 });
    const { audio, pieces } = await synthesize(tts, 'Namaste, your order is on its way.');
    const expected = fakeGoogleSpeech('Namaste, your order is on its way.', { sampleRate: 16000, voice: 'hi-IN-Wavenet-A' });
    expect(audio).toEqual(expected);
    expect(pieces).toBe(Math.ceil(expected.length / 640));
    const request = fake.requests.at(-1)!;
    expect(request.auth).toEqual({ present: true, valid: true, via: 'header' });
    expect(request.headers['x-goog-api-key']).toBe('[redacted]');
    expect(request.body).toEqual({
      input: { text: 'Namaste, your order is on its way.' },
      voice: { languageCode: 'hi-IN', name: 'hi-IN-Wavenet-A' },
      audioConfig: { audioEncoding: 'LINEAR16', sampleRateHertz: 16000, speakingRate: 1.25 },
    });
  });

  it('MULAW: 8 kHz μ-law decoded; a bearer-token supplier is asked per request and the quota project sent', async () => {
    let calls = 0;
    const tts = new GoogleTTSService({ accessToken: () => `token-${++calls}`, quotaProject: 'my-project', baseUrl: fake.baseUrl, voice: 'en-IN-Chirp3-HD-Aoede', encoding: 'MULAW' });
    const { audio } = await synthesize(tts, 'Hello.');
    await synthesize(tts, 'Again.');
    expect(audio).toEqual(mulawToPcm(pcmToMulaw(fakeGoogleSpeech('Hello.', { sampleRate: 8000, voice: 'en-IN-Chirp3-HD-Aoede' }))));
    expect(calls).toBe(2);
    const request = fake.requests.at(-1)!;
    expect(request.auth.via).toBe('bearer');
    expect(request.headers['x-goog-user-project']).toBe('my-project');
    expect(request.body).toMatchObject({ audioConfig: { audioEncoding: 'MULAW', sampleRateHertz: 8000 } });
  });

  it('a refused key (400 API_KEY_INVALID) is `auth` without the key; a refused token is `auth` too; a 429 keeps its RetryInfo', async () => {
    const refused = await failureOf(() => synthesize(new GoogleTTSService({ apiKey: BAD_KEY, baseUrl: fake.baseUrl }), 'Hello.'));
    expect([refused.code, refused.status, refused.vendorCode]).toEqual(['auth', 400, 'API_KEY_INVALID']);
    expect(refused.message).toContain('GOOGLE_TTS_API_KEY');
    expect(refused.message).not.toContain(BAD_KEY);
    const token = await failureOf(() => synthesize(new GoogleTTSService({ accessToken: () => BAD_KEY, baseUrl: fake.baseUrl }), 'Hello.'));
    expect([token.code, token.status]).toEqual(['auth', 401]);
    fake.failSpeech({ error: 429, retryDelaySecs: 7 });
    const limited = await failureOf(() => synthesize(new GoogleTTSService({ apiKey: KEY, baseUrl: fake.baseUrl }), 'Hello.'));
    expect([limited.code, limited.retryAfterSecs, limited.retryable]).toEqual(['rate-limited', 7, true]);
  });

  it('text over 5000 bytes is a `bad-request` before any request; the fake refuses what Google refuses', async () => {
    const before = fake.requests.length;
    const long = await failureOf(() => synthesize(new GoogleTTSService({ apiKey: KEY, baseUrl: fake.baseUrl }), 'अ'.repeat(1700)));
    expect(long.code).toBe('bad-request');
    expect(fake.requests.length).toBe(before);
    const post = (body: unknown) => fetch(`${fake.baseUrl}/v1/text:synthesize?key=${KEY}`, { method: 'POST', body: JSON.stringify(body) });
    const both = await post({ input: { text: 'a', ssml: '<speak>a</speak>' }, voice: { languageCode: 'en-US' }, audioConfig: { audioEncoding: 'LINEAR16' } });
    expect(both.status).toBe(400);
    const noLanguage = await post({ input: { text: 'a' }, voice: {}, audioConfig: { audioEncoding: 'LINEAR16' } });
    expect(await noLanguage.text()).toContain('language code');
    const mp3 = await post({ input: { text: 'a' }, voice: { languageCode: 'en-US' }, audioConfig: { audioEncoding: 'MP3' } });
    expect(await mp3.text()).toContain('not emulated');
  });

  it('refuses bad options before any request: no credential or two, a speaking rate out of range, MULAW at 16 kHz', () => {
    expect(() => new GoogleTTSService({})).toThrow(/apiKey .* or accessToken/);
    expect(() => new GoogleTTSService({ apiKey: KEY, accessToken: () => 't' })).toThrow(/not both/);
    expect(() => new GoogleTTSService({ apiKey: KEY, speakingRate: 3 })).toThrow(/speakingRate/);
    expect(() => new GoogleTTSService({ apiKey: KEY, encoding: 'MULAW', sampleRate: 16000 })).toThrow(/8 kHz only/);
  });
});
