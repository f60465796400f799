// GroqSTTService: the OpenAI transcription client pointed at Groq, checked for what differs from OpenAI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroqSTTService } from '../../../src/services/openai/index.js';
import { startFakeGroqSTT, type FakeGroqSTT } from '../../../src/testing/fakes/groq.js';
import { synthesizeSpeech } from '../../../src/testing/speech.js';
import { failureOf } from '../../support/service-calls.js';

const KEY = 'gsk_test_SECRET_0123456789';
const BAD_KEY = 'gsk_refused_SECRET_9876543210';

let fake: FakeGroqSTT;
let speech: Int16Array;
beforeAll(async () => {
  fake = await startFakeGroqSTT({ rejectKey: BAD_KEY });
  speech = await synthesizeSpeech('Where is my order?', { sampleRate: 16000 });
});
afterAll(() => fake.close());

type Answer = string | { text: string; language?: string };
const transcribe = (stt: GroqSTTService, audio = speech): Promise<Answer> =>
  (stt as unknown as { transcribe(a: Int16Array, r: number): Promise<Answer> }).transcribe(audio, 16000);

describe('GroqSTTService', () => {
  it("posts to Groq's path with Whisper turbo by default; the answer's x_groq is ignored", async () => {
    fake.enqueueTranscriptions('  where is my order  ');
    const stt = new GroqSTTService({ apiKey: KEY, baseURL: fake.baseURL, language: 'en' });
    expect(await transcribe(stt)).toEqual({ text: 'where is my order', language: 'en' });
    const request = fake.requests.at(-1)!;
    expect(request.path).toBe('/openai/v1/audio/transcriptions');
    expect(request.headers.authorization).toBe('[redacted]');
    expect(request.options).toEqual({ model: 'whisper-large-v3-turbo', response_format: 'json', language: 'en' });
    expect(request.audio?.sampleRate).toBe(16000);
  });

  it('defaults to the real Groq URL and names GROQ_API_KEY when the key is missing', () => {
    expect(() => new GroqSTTService({ apiKey: '' })).toThrow(/GroqSTTService: apiKey is required.*GROQ_API_KEY/);
    expect(new GroqSTTService({ apiKey: KEY }).model).toBe('whisper-large-v3-turbo');
  });

  it("an OpenAI model name is Groq's 404 model_not_found, not retried, naming Groq", async () => {
    const error = await failureOf(() => transcribe(new GroqSTTService({ apiKey: KEY, baseURL: fake.baseURL, model: 'gpt-4o-mini-transcribe' })));
    expect(error.service).toBe('Groq');
    expect(error.status).toBe(404);
    expect(error.vendorCode).toBe('model_not_found');
    expect(error.retryable).toBe(false);
  });

  it('a refused key is `auth` naming Groq without the key; a 429 carries its Retry-After', async () => {
    const refused = await failureOf(() => transcribe(new GroqSTTService({ apiKey: BAD_KEY, baseURL: fake.baseURL })));
    expect(refused.code).toBe('auth');
    expect(refused.message).toContain('Groq');
    expect(`${refused.message}${String(refused.stack)}`).not.toContain(BAD_KEY);
    fake.enqueueTranscriptions({ error: 429, retryAfter: 7 });
    const limited = await failureOf(() => transcribe(new GroqSTTService({ apiKey: KEY, baseURL: fake.baseURL })));
    expect(limited.code).toBe('rate-limited');
    expect(limited.retryAfterSecs).toBe(7);
  });
});
