// ElevenLabsSTTService (Scribe REST) against the fake: what reaches the wire, and ElevenLabs' error bodies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElevenLabsSTTService } from '../../../src/services/elevenlabs/index.js';
import { startFakeElevenLabsSTT, type FakeElevenLabsSTT } from '../../../src/testing/fakes/elevenlabs-stt.js';
import { synthesizeSpeech } from '../../../src/testing/speech.js';
import { failureOf } from '../../support/service-calls.js';

const KEY = 'el-test-SECRET-0123456789';
const BAD_KEY = 'el-refused-SECRET-9876543210';

let fake: FakeElevenLabsSTT;
let speech: Int16Array;
beforeAll(async () => {
  fake = await startFakeElevenLabsSTT({ rejectKey: BAD_KEY });
  speech = await synthesizeSpeech('Where is my order?', { sampleRate: 16000 });
});
afterAll(() => fake.close());

type Answer = { text: string; language?: string };
const transcribe = (stt: ElevenLabsSTTService, audio = speech): Promise<Answer> =>
  (stt as unknown as { transcribe(a: Int16Array, r: number): Promise<Answer> }).transcribe(audio, 16000);

describe('ElevenLabsSTTService', () => {
  it('uploads the turn as raw 16 kHz PCM with the key in xi-api-key, audio-event tags off, the language when set', async () => {
    fake.enqueueTranscriptions(' where is my order ');
    const stt = new ElevenLabsSTTService({ apiKey: KEY, baseUrl: fake.baseUrl, language: 'hi' });
    expect(await transcribe(stt)).toEqual({ text: 'where is my order', language: 'hi' });
    const request = fake.requests.at(-1)!;
    expect(request.headers['xi-api-key']).toBe('[redacted]');
    expect(request.options).toEqual({
      model_id: 'scribe_v2', file_format: 'pcm_s16le_16', tag_audio_events: 'false', timestamps_granularity: 'none', language_code: 'hi',
    });
    expect(request.audio?.samples).toEqual(speech);
  });

  it('without a language, the one Scribe detected goes on the transcript', async () => {
    fake.enqueueTranscriptions('hello');
    expect(await transcribe(new ElevenLabsSTTService({ apiKey: KEY, baseUrl: fake.baseUrl }))).toEqual({ text: 'hello', language: 'eng' });
    expect(fake.requests.at(-1)!.options.language_code).toBeUndefined();
  });

  it("a model Scribe lacks is a 422 whose message names the field; a refused key is `auth` without the key", async () => {
    const invalid = await failureOf(() => transcribe(new ElevenLabsSTTService({ apiKey: KEY, baseUrl: fake.baseUrl, model: 'scribe_v9' })));
    expect(invalid.code).toBe('bad-request');
    expect(invalid.message).toMatch(/ElevenLabs.*422.*Input should be .*\(body\.model_id\)/);
    const refused = await failureOf(() => transcribe(new ElevenLabsSTTService({ apiKey: BAD_KEY, baseUrl: fake.baseUrl })));
    expect(refused.code).toBe('auth');
    expect(refused.vendorCode).toBe('invalid_api_key');
    expect(refused.message).toContain('ELEVENLABS_API_KEY');
    expect(`${refused.message}${String(refused.stack)}`).not.toContain(BAD_KEY);
  });

  it('a turn too short to say anything is not sent', async () => {
    const before = fake.requests.length;
    expect(await transcribe(new ElevenLabsSTTService({ apiKey: KEY, baseUrl: fake.baseUrl }), new Int16Array(800))).toEqual({ text: '' });
    expect(fake.requests.length).toBe(before);
  });
});
