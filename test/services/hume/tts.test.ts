// HumeTTSService against the fake Hume streamed-JSON endpoint over real sockets, in a pipeline task: the request
// Hume documents (key header, one utterance with its voice, PCM, instant mode), the JSON-lines answer, a cut answer
// without its last chunk, and what the fake refuses. The behaviour every vendor shares is in test/services/conformance.
import { describe, expect, it } from 'vitest';
import { concatInt16 } from '../../../src/audio/index.js';
import { makeFrame } from '../../../src/frames/index.js';
import { ServiceError } from '../../../src/services/base/index.js';
import { HumeTTSService, type HumeTTSServiceOptions } from '../../../src/services/hume/index.js';
import { fakeHumeSpeech, startFakeHume } from '../../../src/testing/fakes/hume.js';
import { audioOf, runPipeline } from '../../support/pipeline.js';
import { sayResponse, useFake } from '../../support/vendor-tts.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'hume-key-SECRET-0123456789';
const BAD_KEY = 'hume-bad-key-9876543210';

const fakeHume = useFake(() => startFakeHume({ rejectKey: BAD_KEY }));
const service = (options: Partial<HumeTTSServiceOptions> = {}): HumeTTSService =>
  new HumeTTSService({ apiKey: KEY, voice: 'Ava Song', baseUrl: fakeHume().baseUrl, ...options });

describe('HumeTTSService', () => {
  it('one request per sentence: the key header, one utterance with voice and acting instructions, PCM in instant mode', async () => {
    const fake = fakeHume();
    const before = fake.requests.length;
    const tts = service({ description: 'calm and warm', speed: 1.1, version: '2', voiceProvider: 'CUSTOM_VOICE' });
    const { collector, errors } = await sayResponse(tts, ['Hello there. How can', ' I help you?']);
    expect(errors).toEqual([]);
    const sentences = ['Hello there.', 'How can I help you?'];
    expect(audioOf(collector.downstream)).toEqual(concatInt16(sentences.map((s) => fakeHumeSpeech(s, { voice: 'Ava Song' }))));
    const requests = fake.requests.slice(before);
    expect(requests.map((r) => r.headers['x-hume-api-key'])).toEqual(['[redacted]', '[redacted]']);
    expect(requests[0]!.body).toEqual({
      utterances: [{ text: 'Hello there.', voice: { name: 'Ava Song', provider: 'CUSTOM_VOICE' }, description: 'calm and warm', speed: 1.1 }],
      format: { type: 'pcm' },
      instant_mode: true,
      strip_headers: true,
      version: '2',
    });
    expect(requests.map((r) => r.outcome)).toEqual(['completed', 'completed']);
  });

  it('a refused key is `auth` naming HUME_API_KEY, without the key; a 422 is `bad-request` with Hume\'s message', async () => {
    const fake = fakeHume();
    const refused = runPipeline(service({ apiKey: BAD_KEY }));
    refused.send(makeFrame('speak', { text: 'Hello.' }));
    await waitUntil(() => refused.errors.length === 1, 5000);
    await refused.stop();
    const auth = refused.errors[0]!.error as ServiceError;
    expect([auth.code, auth.status]).toEqual(['auth', 401]);
    expect(auth.message).toContain('Invalid ApiKey (check HUME_API_KEY)');
    expect(auth.message).not.toContain(BAD_KEY);

    fake.failSpeech({ error: 422, message: 'utterances[0].text: too long' });
    const invalid = runPipeline(service());
    invalid.send(makeFrame('speak', { text: 'Hello.' }));
    await waitUntil(() => invalid.errors.length === 1, 5000);
    await invalid.stop();
    const error = invalid.errors[0]!.error as ServiceError;
    expect(error).toBeInstanceOf(ServiceError);
    expect([error.code, error.message]).toEqual(['bad-request', 'Hume: speech request refused with 422: utterances[0].text: too long']);
  });

  it('an answer that ends before its last chunk is a `connection-lost` error after the audio it had; the next is said', async () => {
    fakeHume().failSpeech({ truncate: true, afterChunks: 2 });
    const { collector, errors, send, stop } = runPipeline(service());
    send(makeFrame('speak', { text: 'First sentence.' }));
    await waitUntil(() => errors.length === 1, 5000);
    send(makeFrame('speak', { text: 'Second.' }));
    await waitUntil(() => collector.downstream.at(-1)?.type === 'tts-stopped' && collector.ofType('tts-stopped').length === 2, 5000);
    await stop();
    expect((errors[0]!.error as ServiceError).code).toBe('connection-lost');
    expect(collector.ofType('tts-audio').length).toBeGreaterThan(2);
  });

  it('refuses bad options before any request: no voice, a speed out of range, no key', () => {
    expect(() => service({ voice: ' ' })).toThrow(/voice is required/);
    expect(() => service({ speed: 3 })).toThrow(/speed/);
    expect(() => service({ apiKey: '' })).toThrow(/HUME_API_KEY/);
  });

  it('the fake refuses what Hume refuses: instant mode without a voice, no utterances, a format it does not emulate', async () => {
    const post = async (body: unknown): Promise<number> =>
      (await fetch(`${fakeHume().baseUrl}/v0/tts/stream/json`, { method: 'POST', headers: { 'X-Hume-Api-Key': KEY, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).status;
    expect(await post({ utterances: [{ text: 'Hi.' }], format: { type: 'pcm' }, instant_mode: true })).toBe(422);
    expect(await post({ utterances: [], format: { type: 'pcm' } })).toBe(422);
    expect(await post({ utterances: [{ text: 'Hi.', voice: { name: 'Ava Song' } }], format: { type: 'mp3' } })).toBe(422);
    expect(await post({ utterances: [{ text: 'Hi.', voice: { name: 'Ava Song' } }], format: { type: 'pcm' }, instant_mode: true })).toBe(200);
  });
});
