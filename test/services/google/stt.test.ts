// GoogleSTTService (Cloud Speech-to-Text v1 recognize) against the fake: the JSON request, both kinds of
// credentials, and Google's ways of refusing them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleSTTService, type GoogleSTTServiceOptions } from '../../../src/services/google/index.js';
import { startFakeGoogleSpeech, type FakeGoogleSpeech } from '../../../src/testing/fakes/google-speech.js';
import { synthesizeSpeech } from '../../../src/testing/speech.js';
import { failureOf } from '../../support/service-calls.js';

const KEY = 'AIzaTestSECRET0123456789abc';
const BAD_KEY = 'AIzaRefusedSECRET9876543210';

let fake: FakeGoogleSpeech;
let speech: Int16Array;
beforeAll(async () => {
  fake = await startFakeGoogleSpeech({ rejectKey: BAD_KEY });
  speech = await synthesizeSpeech('Where is my order?', { sampleRate: 16000 });
});
afterAll(() => fake.close());

type Answer = { text: string; language?: string };
const transcribe = (options: GoogleSTTServiceOptions, audio = speech): Promise<Answer> =>
  (new GoogleSTTService(options) as unknown as { transcribe(a: Int16Array, r: number): Promise<Answer> }).transcribe(audio, 16000);

describe('GoogleSTTService', () => {
  it('sends LINEAR16 as base64 JSON with the key in x-goog-api-key (never the URL), model and locale in the config', async () => {
    fake.enqueueTranscriptions('where is my order');
    expect(await transcribe({ apiKey: KEY, baseUrl: fake.baseUrl, language: 'hi-IN', model: 'telephony' })).toEqual({ text: 'where is my order', language: 'hi-IN' });
    const request = fake.requests.at(-1)!;
    expect(request.query).toEqual({});
    expect(request.headers['x-goog-api-key']).toBe('[redacted]');
    expect(request.options).toEqual({ languageCode: 'hi-IN', sampleRateHertz: '16000', model: 'telephony', enableAutomaticPunctuation: 'true' });
    expect(request.audio?.samples).toEqual(speech);
  });

  it('asks the token supplier for every request and sends it as a bearer token; no results is an empty turn', async () => {
    let calls = 0;
    const getAccessToken = async () => `ya29.token-${++calls}`;
    fake.enqueueTranscriptions('', 'hello');
    expect(await transcribe({ getAccessToken, baseUrl: fake.baseUrl })).toEqual({ text: '', language: 'en-US' });
    expect(await transcribe({ getAccessToken, baseUrl: fake.baseUrl })).toEqual({ text: 'hello', language: 'en-US' });
    expect(calls).toBe(2);
    expect(fake.requests.at(-1)!.headers.authorization).toBe('[redacted]');
  });

  it("a bad API key is Google's 400 API_KEY_INVALID, read as `auth`; a bad token is 401; neither secret in the error", async () => {
    const badKey = await failureOf(() => transcribe({ apiKey: BAD_KEY, baseUrl: fake.baseUrl }));
    expect(badKey).toMatchObject({ status: 400, code: 'auth', vendorCode: 'API_KEY_INVALID', service: 'Google Speech' });
    expect(`${badKey.message}${String(badKey.stack)}`).not.toContain(BAD_KEY);
    const badToken = await failureOf(() => transcribe({ getAccessToken: () => BAD_KEY, baseUrl: fake.baseUrl }));
    expect(badToken).toMatchObject({ status: 401, code: 'auth' });
    expect(badToken.message).not.toContain(BAD_KEY);
  });

  it('a failing token supplier is an `auth` error before anything is sent; a missing credential is a TypeError', async () => {
    const before = fake.requests.length;
    const error = await failureOf(() => transcribe({ getAccessToken: () => Promise.reject(new Error('no ADC')), baseUrl: fake.baseUrl }));
    expect(error).toMatchObject({ code: 'auth', retryable: false });
    expect(fake.requests.length).toBe(before);
    expect(() => new GoogleSTTService({ apiKey: ' ' })).toThrow(/apiKey or getAccessToken is required/);
  });
});
