// LmntTTSService against the fake LMNT speech-session WebSocket over real sockets, in a pipeline task: the `init`
// message (key and settings), a flush nonce per sentence, `reset` on an interruption with the id-less binary audio
// in between dropped, per-sentence word offsets, and what the fake refuses. The behaviour every vendor shares is in
// test/services/conformance.
import { describe, expect, it } from 'vitest';
import { concatInt16 } from '../../../src/audio/index.js';
import { makeFrame } from '../../../src/frames/index.js';
import { ServiceError } from '../../../src/services/base/index.js';
import { LmntTTSService, type LmntTTSServiceOptions } from '../../../src/services/lmnt/index.js';
import { fakeLmntSpeech, startFakeLmnt } from '../../../src/testing/fakes/lmnt.js';
import { audioOf, runPipeline } from '../../support/pipeline.js';
import { firstAnswer, records, sayResponse, useFake } from '../../support/vendor-tts.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'lmnt-key-SECRET-0123456789';
const BAD_KEY = 'lmnt-bad-key-9876543210';

const fakeLmnt = useFake(() => startFakeLmnt({ rejectKey: BAD_KEY }));

const service = (options: Partial<LmntTTSServiceOptions> = {}): LmntTTSService =>
  new LmntTTSService({ apiKey: KEY, voice: 'leah', baseUrl: fakeLmnt().baseUrl, ...options });

describe('LmntTTSService', () => {
  it('sends the key and settings in init, a text and a flush with its own nonce per sentence; words are offset per sentence', async () => {
    const fake = fakeLmnt();
    const before = fake.messages().length;
    const connectionsBefore = fake.connections.length;
    const { collector, errors } = await sayResponse(service({ language: 'hi', sampleRate: 8000 }), ['Hello there. How can', ' I help you?']);
    expect(errors).toEqual([]);

    const sentences = ['Hello there.', 'How can I help you?'];
    expect(audioOf(collector.downstream)).toEqual(concatInt16(sentences.map((s) => fakeLmntSpeech(s, { sampleRate: 8000, voice: 'leah' }))));
    const words = collector.ofType('tts-text').map((f) => [f.text, f.offsetMs]);
    expect(words).toEqual([['Hello', 0], ['there.', 360], ['How', 720], ['can', 960], ['I', 1200], ['help', 1320], ['you?', 1620]]);

    const connection = fake.connections[connectionsBefore]!;
    expect(connection.init).toEqual({
      type: 'init', 'X-API-Key': '[redacted]', voice: 'leah', format: 'pcm_s16le', sample_rate: 8000, return_timestamps: true, language: 'hi',
    });
    expect(connection.auth).toEqual({ present: true, valid: true });
    const sent = records(fakeLmnt().messages().slice(before + 1));
    expect(sent.slice(0, 4)).toEqual([
      { type: 'text', text: 'Hello there. ' },
      { type: 'flush', nonce: 1 },
      { type: 'text', text: 'How can I help you? ' },
      { type: 'flush', nonce: 2 },
    ]);
    await waitUntil(() => connection.close !== undefined, 5000);
    expect(connection.received.at(-1)?.json).toEqual({ type: 'finish' });
  });

  it('an interruption sends `reset`; audio until `reset_complete` is dropped and the next utterance is said', async () => {
    const tts = service();
    const { collector, errors, send, task, stop } = runPipeline(tts);
    send(makeFrame('speak', { text: 'This sentence goes on long enough to be cut off by the caller speaking over it.' }));
    const first = await collector.waitFor((f) => f.type === 'tts-audio');
    const firstContext = first.type === 'tts-audio' ? first.contextId : undefined;
    const before = fakeLmnt().messages().length;
    task.interrupt();
    await collector.waitFor((f) => f.type === 'interruption');
    send(makeFrame('speak', { text: 'Sure.' }));
    await waitUntil(() => collector.ofType('tts-audio').some((f) => f.contextId !== firstContext), 5000);
    await waitUntil(() => collector.downstream.at(-1)?.type === 'tts-stopped', 5000);
    await stop();
    expect(records(fakeLmnt().messages().slice(before)).some((m) => m.type === 'reset')).toBe(true);
    expect(fakeLmnt().syntheses.find((s) => s.text.startsWith('This sentence'))?.outcome).toBe('reset');
    const cut = collector.downstream.findIndex((f) => f.type === 'interruption');
    expect(collector.downstream.slice(cut).filter((f) => f.type === 'tts-audio' && f.contextId === firstContext)).toEqual([]);
    // The second utterance's audio is exactly its own: nothing of the first leaked into it.
    const second = collector.ofType('tts-audio').filter((f) => f.contextId !== firstContext);
    expect(concatInt16(second.map((f) => f.audio))).toEqual(fakeLmntSpeech('Sure.', { sampleRate: 16000, voice: 'leah' }));
    expect(errors).toEqual([]);
  });

  it('in-band errors keep their kind: spent credits are `quota` (not retried), a refused key `auth` naming LMNT_API_KEY', async () => {
    const quota = service();
    const first = runPipeline(quota);
    fakeLmnt().failSynthesis({ error: 'payment_required_error', message: 'Out of characters' });
    first.send(makeFrame('speak', { text: 'Hello.' }));
    await waitUntil(() => first.errors.length === 1, 5000);
    await first.stop();
    const quotaError = first.errors[0]!.error as ServiceError;
    expect(quotaError).toBeInstanceOf(ServiceError);
    expect([quotaError.code, quotaError.vendorCode, quotaError.retryable]).toEqual(['quota', 'payment_required_error', false]);

    const refused = runPipeline(service({ apiKey: BAD_KEY }));
    refused.send(makeFrame('speak', { text: 'Hello.' }));
    await waitUntil(() => refused.errors.length === 1, 5000);
    await refused.stop();
    const authError = refused.errors[0]!.error as ServiceError;
    expect(authError.code).toBe('auth');
    expect(authError.message).toContain('LMNT_API_KEY');
    expect(authError.message).not.toContain(BAD_KEY);
  });

  it('refuses bad options before any socket: no voice, a rate LMNT does not make, no key', () => {
    expect(() => service({ voice: '' })).toThrow(/voice is required/);
    expect(() => service({ sampleRate: 22050 as 8000 })).toThrow(/8000, 16000, 24000/);
    expect(() => service({ apiKey: '' })).toThrow(/LMNT_API_KEY/);
  });

  it('the fake refuses what LMNT refuses: no init first, a bad key, an unknown language or rate', async () => {
    const answer = async (init: Record<string, unknown>): Promise<Record<string, unknown> | undefined> =>
      (await firstAnswer(`${fakeLmnt().baseUrl}/v1/ai/speech/stream`, JSON.stringify(init))).json;
    const good = { type: 'init', 'X-API-Key': KEY, voice: 'leah', format: 'pcm_s16le' };
    expect((await answer(good))?.type).toBe('ready');
    expect(await answer({ ...good, 'X-API-Key': BAD_KEY })).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(await answer({ type: 'text', text: 'hi' })).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(await answer({ ...good, language: 'xx' })).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect(await answer({ ...good, sample_rate: 44100 })).toMatchObject({ error: { type: 'invalid_request_error' } });
  });
});
