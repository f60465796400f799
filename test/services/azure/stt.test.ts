// AzureSTTService (REST for short audio) against the fake: the request Azure documents, and its answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureSTTService } from '../../../src/services/azure/index.js';
import { startFakeAzureSpeech, type FakeAzureSpeech } from '../../../src/testing/fakes/azure-speech.js';
import { synthesizeSpeech } from '../../../src/testing/speech.js';
import { failureOf } from '../../support/service-calls.js';

const KEY = 'azure-test-SECRET-0123456789';
const BAD_KEY = 'azure-refused-SECRET-9876543210';

let fake: FakeAzureSpeech;
let speech: Int16Array;
beforeAll(async () => {
  fake = await startFakeAzureSpeech({ rejectKey: BAD_KEY });
  speech = await synthesizeSpeech('Where is my order?', { sampleRate: 16000 });
});
afterAll(() => fake.close());

type Answer = { text: string; language?: string };
const transcribe = (stt: AzureSTTService, audio = speech): Promise<Answer> =>
  (stt as unknown as { transcribe(a: Int16Array, r: number): Promise<Answer> }).transcribe(audio, 16000);
const service = (options: Partial<ConstructorParameters<typeof AzureSTTService>[0]> = {}): AzureSTTService =>
  new AzureSTTService({ apiKey: KEY, baseUrl: fake.baseUrl, ...options });

describe('AzureSTTService', () => {
  it('posts a 16 kHz WAV to the conversation endpoint with the key header and the locale in the query', async () => {
    fake.enqueueTranscriptions('Where is my order?');
    expect(await transcribe(service({ language: 'hi-IN', profanity: 'raw' }))).toEqual({ text: 'Where is my order?', language: 'hi-IN' });
    const request = fake.requests.at(-1)!;
    expect(request.path).toBe('/speech/recognition/conversation/cognitiveservices/v1');
    expect(request.query).toEqual({ language: 'hi-IN', format: 'simple', profanity: 'raw' });
    expect(request.headers['ocp-apim-subscription-key']).toBe('[redacted]');
    expect(request.headers['content-type']).toBe('audio/wav; codecs=audio/pcm; samplerate=16000');
    expect(request.audio?.samples).toEqual(speech);
  });

  it('NoMatch (no speech in the turn) is an empty turn, not an error', async () => {
    fake.enqueueTranscriptions('');
    expect(await transcribe(service())).toEqual({ text: '' });
  });

  it('needs a region (or a base URL), and builds the regional host from it', () => {
    expect(() => new AzureSTTService({ apiKey: KEY })).toThrow(/region is required/);
    expect(() => new AzureSTTService({ apiKey: KEY, region: 'east us/..' })).toThrow(/region is required/);
    const stt = new AzureSTTService({ apiKey: KEY, region: 'centralindia' });
    expect((stt as unknown as { endpoint: string }).endpoint).toBe(
      'https://centralindia.stt.speech.microsoft.com/speech/recognition/conversation/cognitiveservices/v1?language=en-US&format=simple',
    );
  });

  it('a refused key is `auth` naming the key and region variables, without the key', async () => {
    const refused = await failureOf(() => transcribe(service({ apiKey: BAD_KEY })));
    expect(refused.code).toBe('auth');
    expect(refused.message).toMatch(/^Azure Speech: .*AZURE_SPEECH_REGION/);
    expect(`${refused.message}${String(refused.stack)}`).not.toContain(BAD_KEY);
  });
});
