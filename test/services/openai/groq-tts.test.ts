// GroqTTSService (OpenAITTSService with Groq's provider) against the fake Groq speech API: Groq's quirks — WAV at the
// `sample_rate` asked instead of raw `pcm`, the header checked and cut off however the bytes split, inputs of at most
// 200 characters split at sentence boundaries, no `instructions` — and its errors. The behaviour every vendor shares
// is in test/services/conformance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatInt16 } from '../../../src/audio/index.js';
import { GroqTTSService } from '../../../src/services/openai/index.js';
import { fakeGroqSpeech, startFakeGroqTTS, type FakeGroqTTS } from '../../../src/testing/fakes/groq-tts.js';
import { synthesizeAudio, failureOf } from '../../support/service-calls.js';

const KEY = 'gsk_fake_groq_key_SECRET_0123456789';
const BAD_KEY = 'gsk_fake_refused_SECRET_9876543210';
let fake: FakeGroqTTS;
beforeAll(async () => {
  fake = await startFakeGroqTTS({ rejectKey: BAD_KEY, chunkDelayMs: 0, chunkMs: 100, msPerCharacter: 20 });
});
afterAll(() => fake.close());

describe('GroqTTSService', () => {
  it('asks Orpheus for WAV at the rate wanted, cuts the header off, and gets the PCM back whole', async () => {
    const tts = new GroqTTSService({ apiKey: KEY, baseURL: fake.baseURL, voice: 'troy', sampleRate: 16000 });
    expect(tts.sampleRate).toBe(16000);
    const audio = await synthesizeAudio(tts, 'Your order is on its way.');
    expect(audio).toEqual(fakeGroqSpeech('Your order is on its way.', { sampleRate: 16000, voice: 'troy', msPerCharacter: 20 }));
    const request = fake.requests.at(-1)!;
    expect(request.chunksSent).toBeGreaterThan(1);
    expect(request.body).toEqual({ model: 'canopylabs/orpheus-v1-english', input: 'Your order is on its way.', voice: 'troy', response_format: 'wav', sample_rate: 16000 });
  });

  it('text over 200 characters goes in several requests split at sentence ends; their audio follows in order', async () => {
    const sentence = 'This sentence is one of several that together are longer than Orpheus takes at once.';
    const text = `${sentence} ${sentence} ${sentence}`;
    const before = fake.requests.length;
    const audio = await synthesizeAudio(new GroqTTSService({ apiKey: KEY, baseURL: fake.baseURL, sampleRate: 8000 }), text);
    const inputs = fake.requests.slice(before).map((r) => (r.body as { input: string }).input);
    expect(inputs.length).toBeGreaterThan(1);
    expect(inputs.every((input) => input.length <= 200)).toBe(true);
    expect(inputs.join(' ')).toBe(text);
    expect(audio).toEqual(concatInt16(inputs.map((input) => fakeGroqSpeech(input, { sampleRate: 8000, voice: 'autumn', msPerCharacter: 20 }))));
  });

  it('a refused key is `auth` naming Groq, without the key; a 429 keeps retry-after; an unknown voice is `bad-request`', async () => {
    const refused = await failureOf(() => synthesizeAudio(new GroqTTSService({ apiKey: BAD_KEY, baseURL: fake.baseURL }), 'Hello.'));
    expect([refused.code, refused.status, refused.service]).toEqual(['auth', 401, 'Groq']);
    expect(refused.message).not.toContain(BAD_KEY);
    fake.failSpeech({ error: 429, retryAfter: 3 });
    const limited = await failureOf(() => synthesizeAudio(new GroqTTSService({ apiKey: KEY, baseURL: fake.baseURL }), 'Hello.'));
    expect([limited.code, limited.retryAfterSecs, limited.retryable]).toEqual(['rate-limited', 3, true]);
    const voice = await failureOf(() => synthesizeAudio(new GroqTTSService({ apiKey: KEY, baseURL: fake.baseURL, voice: 'alloy' }), 'Hello.'));
    expect([voice.code, voice.status]).toEqual(['bad-request', 400]);
  });

  it('the fake refuses `pcm` as Groq does; the client refuses options Groq has no use for', async () => {
    const pcm = await fetch(`${fake.baseURL}/audio/speech`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'canopylabs/orpheus-v1-english', input: 'a', voice: 'autumn', response_format: 'pcm' }),
    });
    expect([pcm.status, await pcm.text()]).toEqual([400, expect.stringContaining('response_format must be one of flac, mp3, mulaw, ogg, wav')]);
    expect(() => new GroqTTSService({ apiKey: KEY, sampleRate: 11025 as 8000 })).toThrow(/8000, 16000/);
    expect(() => new GroqTTSService({ apiKey: '' })).toThrow(/GROQ_API_KEY/);
  });
});
