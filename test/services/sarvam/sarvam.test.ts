// Sarvam's clients against the Sarvam fake: what they send (as Sarvam documents it), what they make of the answers,
// and the vendor's own error codes. The behaviour every vendor shares is in test/services/conformance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SarvamSTTService, SarvamTTSService } from '../../../src/services/sarvam/index.js';
import { fakeSarvamSpeech, startFakeSarvam, type FakeSarvam } from '../../../src/testing/fakes/sarvam.js';
import { synthesizeSpeech } from '../../../src/testing/speech.js';
import { synthesizeAudio, failureOf } from '../../support/service-calls.js';

const KEY = 'sarvam-key-SECRET-0123456789';
let fake: FakeSarvam;
let speech: Int16Array;
beforeAll(async () => {
  fake = await startFakeSarvam({ rejectKey: 'refused-key-0123456789' });
  speech = await synthesizeSpeech('Namaste, mera order kahan hai?', { sampleRate: 16000 });
});
afterAll(() => fake.close());

type Answer = { text: string; language?: string };
const answerOf = (stt: SarvamSTTService, audio: Int16Array): Promise<Answer> =>
  (stt as unknown as { transcribe(a: Int16Array, r: number): Promise<Answer> }).transcribe(audio, 16000);
const transcribe = async (stt: SarvamSTTService, audio: Int16Array): Promise<string> => (await answerOf(stt, audio)).text;

describe('SarvamTTSService', () => {
  it('posts the documented body with the key in api-subscription-key, and streams the PCM back whole', async () => {
    const tts = new SarvamTTSService({ apiKey: KEY, baseUrl: fake.baseUrl, language: 'hi-IN', speaker: 'kavya', pace: 1.2, sampleRate: 8000 });
    const audio = await synthesizeAudio(tts, 'नमस्ते, आपका ऑर्डर रास्ते में है।');
    expect(audio).toEqual(fakeSarvamSpeech('नमस्ते, आपका ऑर्डर रास्ते में है।', { sampleRate: 8000, speaker: 'kavya' }));
    const request = fake.requests.at(-1)!;
    expect(request.path).toBe('/text-to-speech/stream');
    expect(request.headers['api-subscription-key']).toBe('[redacted]');
    expect(request.body).toEqual({
      text: 'नमस्ते, आपका ऑर्डर रास्ते में है।',
      target_language_code: 'hi-IN',
      model: 'bulbul:v3',
      speaker: 'kavya',
      pace: 1.2,
      speech_sample_rate: 8000,
      output_audio_codec: 'linear16',
    });
  });

  it('starts at Bulbul’s native 24 kHz (a call switches it to its own rate), and refuses rates and paces Bulbul does not take', () => {
    expect(new SarvamTTSService({ apiKey: KEY }).sampleRate).toBe(24000);
    expect(() => new SarvamTTSService({ apiKey: KEY, sampleRate: 44100 as 24000 })).toThrow(/8000, 16000, 22050, 24000/);
    expect(() => new SarvamTTSService({ apiKey: KEY, pace: 3 })).toThrow(/pace/);
    expect(() => new SarvamTTSService({ apiKey: '' })).toThrow(/SARVAM_API_KEY/);
  });

  it('a refused key is 403 invalid_api_key_error: `auth`, naming SARVAM_API_KEY, without the key', async () => {
    const error = await failureOf(() => synthesizeAudio(new SarvamTTSService({ apiKey: 'refused-key-0123456789', baseUrl: fake.baseUrl }), 'Hi.'));
    expect(error).toMatchObject({ status: 403, code: 'auth', vendorCode: 'invalid_api_key_error', retryable: false });
    expect(error.message).toMatch(/SARVAM_API_KEY/);
    expect(error.message).not.toContain('refused-key-0123456789');
  });

  it('spent credits (429 insufficient_quota_error) are `quota`, not retried; a rate limit is `rate-limited`', async () => {
    fake.failSpeech({ error: 429, code: 'insufficient_quota_error' }, { error: 503 });
    const tts = new SarvamTTSService({ apiKey: KEY, baseUrl: fake.baseUrl });
    expect(await failureOf(() => synthesizeAudio(tts, 'Hi.'))).toMatchObject({ code: 'quota', retryable: false });
    expect(await failureOf(() => synthesizeAudio(tts, 'Hi.'))).toMatchObject({ code: 'rate-limited', retryable: true, vendorCode: 'rate_limit_exceeded_error' });
  });

  it('a voice Bulbul does not have is a bad request, with Sarvam’s message', async () => {
    const error = await failureOf(() => synthesizeAudio(new SarvamTTSService({ apiKey: KEY, baseUrl: fake.baseUrl, speaker: 'nobody' }), 'Hi.'));
    expect(error).toMatchObject({ status: 400, code: 'bad-request', vendorCode: 'invalid_request_error' });
    expect(error.message).toMatch(/Unknown speaker/);
  });
});

describe('SarvamSTTService', () => {
  it('uploads the turn as a WAV with model, language_code and mode, and returns the transcript', async () => {
    fake.enqueueTranscriptions('  मेरा ऑर्डर कहाँ है?  ');
    const stt = new SarvamSTTService({ apiKey: KEY, baseUrl: fake.baseUrl, language: 'hi-IN' });
    expect(await transcribe(stt, speech)).toBe('मेरा ऑर्डर कहाँ है?');
    const request = fake.requests.at(-1)!;
    expect(request.path).toBe('/speech-to-text');
    expect(request.fields).toEqual({ model: 'saaras:v3', language_code: 'hi-IN', mode: 'transcribe' });
    expect(request.audio?.sampleRate).toBe(16000);
    expect(request.audio?.samples).toEqual(speech);
  });

  it('sends no mode to Saarika (which refuses one); "unknown" language lets Sarvam detect it', async () => {
    fake.enqueueTranscriptions('hello');
    const stt = new SarvamSTTService({ apiKey: KEY, baseUrl: fake.baseUrl, model: 'saarika:v2.5' });
    // The fake detects Hindi: the detected language goes on the transcript.
    expect(await answerOf(stt, speech)).toEqual({ text: 'hello', language: 'hi-IN' });
    expect(fake.requests.at(-1)!.fields).toEqual({ model: 'saarika:v2.5', language_code: 'unknown' });
  });

  it('a turn too short to say anything is not sent', async () => {
    const before = fake.requests.length;
    expect(await transcribe(new SarvamSTTService({ apiKey: KEY, baseUrl: fake.baseUrl }), new Int16Array(800))).toBe('');
    expect(fake.requests.length).toBe(before);
  });

  it('a refused key is `auth`; a 500 is a retryable `server` error; neither carries the key', async () => {
    const refused = await failureOf(() => transcribe(new SarvamSTTService({ apiKey: 'refused-key-0123456789', baseUrl: fake.baseUrl }), speech));
    expect(refused).toMatchObject({ status: 403, code: 'auth' });
    fake.enqueueTranscriptions({ error: 500 });
    const server = await failureOf(() => transcribe(new SarvamSTTService({ apiKey: KEY, baseUrl: fake.baseUrl }), speech));
    expect(server).toMatchObject({ status: 500, code: 'server', retryable: true });
    expect(`${refused.message} ${server.message}`).not.toMatch(/SECRET|refused-key/);
  });
});
