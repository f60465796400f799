// GradiumTTSService against the fake Gradium WebSocket over real sockets, in a pipeline task: the key header, one
// request (setup, text, end_of_stream) per sentence multiplexed by `client_req_id` on one socket kept open, word
// timings, an interrupted request's late audio dropped by its id, in-band errors, and what the fake refuses. The
// behaviour every vendor shares is in test/services/conformance.
import { describe, expect, it } from 'vitest';
import { concatInt16 } from '../../../src/audio/index.js';
import { makeFrame } from '../../../src/frames/index.js';
import { ServiceError } from '../../../src/services/base/index.js';
import { GRADIUM_DEFAULT_VOICE, GradiumTTSService, type GradiumTTSServiceOptions } from '../../../src/services/gradium/index.js';
import { fakeGradiumSpeech, startFakeGradium } from '../../../src/testing/fakes/gradium.js';
import { audioOf, runPipeline } from '../../support/pipeline.js';
import { firstAnswer, handshakeStatus, records, sayResponse, useFake } from '../../support/vendor-tts.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'gradium-key-SECRET-0123456789';
const BAD_KEY = 'gradium-bad-key-9876543210';

const fakeGradium = useFake(() => startFakeGradium({ rejectKey: BAD_KEY }));
const service = (options: Partial<GradiumTTSServiceOptions> = {}): GradiumTTSService =>
  new GradiumTTSService({ apiKey: KEY, voice: 'voice-1', baseUrl: fakeGradium().baseUrl, ...options });

describe('GradiumTTSService', () => {
  it('key in the handshake; each sentence is one request (setup, text, end_of_stream) on one socket left open', async () => {
    const fake = fakeGradium();
    const before = fake.connections.length;
    const { collector, errors } = await sayResponse(service({ model: 'm-2', sampleRate: 8000 }), ['Hello there. How can', ' I help you?']);
    expect(errors).toEqual([]);
    const sentences = ['Hello there.', 'How can I help you?'];
    expect(audioOf(collector.downstream)).toEqual(concatInt16(sentences.map((s) => fakeGradiumSpeech(s, { sampleRate: 8000, voice: 'voice-1' }))));

    const used = fake.connections.slice(before).filter((c) => c.received.length > 0);
    expect(used).toHaveLength(1);
    expect(used[0]!.path).toBe('/api/speech/tts');
    expect(used[0]!.headers).toMatchObject({ 'x-api-key': '[redacted]' });
    const sent = records(used[0]!.received.map((m) => m.json));
    const ids = [...new Set(sent.map((m) => m.client_req_id))];
    expect(ids).toHaveLength(2);
    expect(sent).toEqual(
      sentences.flatMap((text, i) => [
        { type: 'setup', model_name: 'm-2', voice_id: 'voice-1', output_format: 'pcm_8000', close_ws_on_eos: false, client_req_id: ids[i] },
        { type: 'text', text, client_req_id: ids[i] },
        { type: 'end_of_stream', client_req_id: ids[i] },
      ]),
    );
    // Both requests were answered on the same socket, which only the pipeline's end closed.
    expect(fake.syntheses.slice(-2).map((s) => s.outcome)).toEqual(['completed', 'completed']);
    await waitUntil(() => used[0]!.close !== undefined, 5000);
    expect(used[0]!.close?.by).toBe('client');
  });

  it('word timings count on from the audio of earlier sentences; 48 kHz is plain `pcm`; default voice and model', async () => {
    const fake = fakeGradium();
    const { collector } = await sayResponse(service({ voice: undefined, sampleRate: 48000 }), ['One two. Three.']);
    const words = collector.ofType('tts-text').map((f) => [f.text, f.offsetMs]);
    // "Three." starts after the first sentence's audio (8 characters at 60 ms).
    expect(words).toEqual([['One', 0], ['two.', 240], ['Three.', 480]]);
    const setup = records(fake.messages()).filter((m) => m.type === 'setup').at(-1);
    expect(setup).toMatchObject({ voice_id: GRADIUM_DEFAULT_VOICE, model_name: 'default', output_format: 'pcm' });
  });

  it('an interruption sends nothing; the late audio of the interrupted request is dropped by its id', async () => {
    const fake = fakeGradium();
    const { collector, errors, send, task, stop } = runPipeline(service());
    send(makeFrame('speak', { text: 'This sentence goes on long enough to be cut off by the caller speaking over it.' }));
    const first = await collector.waitFor((f) => f.type === 'tts-audio');
    const firstContext = first.type === 'tts-audio' ? first.contextId : undefined;
    const sentBefore = fake.messages().length;
    task.interrupt();
    await collector.waitFor((f) => f.type === 'interruption');
    send(makeFrame('speak', { text: 'Sure.' }));
    await waitUntil(() => collector.downstream.at(-1)?.type === 'tts-stopped' && collector.ofType('tts-audio').some((f) => f.contextId !== firstContext), 5000);
    await stop();
    // The fake says requests in turn: "Sure." came only after the interrupted one was said in full, unheard.
    expect(fake.syntheses.find((s) => s.text.startsWith('This sentence'))?.outcome).toBe('completed');
    expect(records(fake.messages().slice(sentBefore)).map((m) => m.type)).toEqual(['setup', 'text', 'end_of_stream']);
    const second = collector.ofType('tts-audio').filter((f) => f.contextId !== firstContext);
    expect(concatInt16(second.map((f) => f.audio))).toEqual(fakeGradiumSpeech('Sure.', { sampleRate: 16000, voice: 'voice-1' }));
    expect(errors).toEqual([]);
  });

  it('an in-band error fails the sentence with its code; the next sentence is said on a new socket', async () => {
    const fake = fakeGradium();
    const { collector, errors, send, stop } = runPipeline(service());
    fake.failSynthesis({ error: `Internal error for ${KEY}`, code: 1011 });
    send(makeFrame('speak', { text: 'First.' }));
    await waitUntil(() => errors.length === 1, 5000);
    send(makeFrame('speak', { text: 'Second.' }));
    await waitUntil(() => collector.ofType('tts-audio').length > 0 && collector.downstream.at(-1)?.type === 'tts-stopped', 5000);
    await stop();
    const error = errors[0]!.error as ServiceError;
    expect(error).toBeInstanceOf(ServiceError);
    expect([error.code, error.vendorCode]).toEqual(['server', '1011']);
    expect(error.message).not.toContain(KEY);
  });

  it('refuses bad options before any socket: a rate Gradium does not make, an unknown region, no key', () => {
    expect(() => service({ sampleRate: 22050 as 8000 })).toThrow(/8000, 16000, 24000, 48000/);
    expect(() => service({ region: 'ap' as 'eu' })).toThrow(/region/);
    expect(() => service({ apiKey: '' })).toThrow(/GRADIUM_API_KEY/);
    expect(new GradiumTTSService({ apiKey: KEY, region: 'eu' }).url).toBe('wss://eu.api.gradium.ai/api/speech/tts');
    expect(new GradiumTTSService({ apiKey: KEY }).url).toBe('wss://api.gradium.ai/api/speech/tts');
  });

  it('the fake refuses what Gradium refuses: a bad key (401), text before setup, a setup without a voice', async () => {
    const url = `${fakeGradium().baseUrl}/api/speech/tts`;
    expect(await handshakeStatus(url, { 'x-api-key': BAD_KEY })).toBe(401);
    expect(await handshakeStatus(url, {})).toBe(401);
    expect(await handshakeStatus(url, { 'x-api-key': KEY })).toBe(101);
    const answer = async (first: object): Promise<unknown> => (await firstAnswer(url, JSON.stringify(first), { 'x-api-key': KEY })).json;
    expect(await answer({ type: 'text', text: 'hi' })).toEqual({ type: 'error', message: 'The setup message must come first', code: 1008 });
    expect(await answer({ type: 'setup', output_format: 'pcm' })).toMatchObject({ type: 'error', code: 1008 });
    expect(await answer({ type: 'setup', voice_id: 'v', output_format: 'pcm_16000', client_req_id: 'r1' })).toMatchObject({ type: 'ready', client_req_id: 'r1' });
  });
});
