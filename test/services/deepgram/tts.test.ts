import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { concatInt16, mulawToPcm, pcmToMulaw } from '../../../src/audio/index.js';
import { makeFrame } from '../../../src/frames/index.js';
import { ServiceError } from '../../../src/services/base/index.js';
import {
  DeepgramTTSService,
  splitForDeepgramSpeak,
  type DeepgramTTSServiceOptions,
} from '../../../src/services/deepgram/index.js';
import { fakeDeepgramSpeechAudio, startFakeDeepgram, type FakeDeepgram, type FakeDeepgramOptions } from '../../../src/testing/fakes/deepgram.js';
import { audioOf, metricsOf, runPipeline } from '../../support/pipeline.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'dg-test-SECRET-0123456789';
const BAD_KEY = 'dg-bad-SECRET-9876543210';

let fake: FakeDeepgram;
beforeEach(async () => {
  fake = await startFakeDeepgram({ rejectKey: BAD_KEY });
});
afterEach(async () => {
  await fake.close();
});
async function restartFake(options: FakeDeepgramOptions): Promise<void> {
  await fake.close();
  fake = await startFakeDeepgram({ rejectKey: BAD_KEY, ...options });
}

function service(options: Partial<DeepgramTTSServiceOptions> = {}): DeepgramTTSService {
  return new DeepgramTTSService({ apiKey: KEY, baseUrl: fake.httpUrl, ...options });
}

const until = (predicate: () => boolean, timeoutMs = 3000): Promise<void> => waitUntil(predicate, timeoutMs, 2);

describe('DeepgramTTSService in a pipeline', () => {
  it('synthesises each sentence in one streamed request and pushes the audio at its rate, sample-exact', async () => {
    const tts = service();
    const { task, collector, errors, stop } = runPipeline(tts);
    void task.queueFrame(makeFrame('speak', { text: 'Hello there. How are you?' }));
    await collector.waitFor((f) => f.type === 'tts-stopped');
    await stop();

    expect(errors).toEqual([]);
    expect(fake.requests.map((r) => r.body)).toEqual([{ text: 'Hello there.' }, { text: 'How are you?' }]);
    for (const request of fake.requests) {
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/v1/speak');
      expect(request.query).toEqual({ model: 'aura-2-thalia-en', encoding: 'linear16', sample_rate: '24000', container: 'none' });
      expect(request.auth).toEqual({ present: true, valid: true, scheme: 'token', viaSubprotocol: false });
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.aborted).toBeUndefined();
    }
    const frames = collector.ofType('tts-audio');
    expect(frames.length).toBeGreaterThan(4);
    expect(frames.every((f) => f.sampleRate === 24000 && f.channels === 1)).toBe(true);
    // 12 characters x 60 ms each, at 24 kHz, reassembled across writes cut at odd byte offsets.
    expect(audioOf(collector.downstream)).toEqual(concatInt16([fakeDeepgramSpeechAudio('Hello there.', 24000), fakeDeepgramSpeechAudio('How are you?', 24000)]));
    expect(audioOf(collector.downstream).length).toBe(2 * 12 * 0.06 * 24000);
    const types = collector.types().filter((t) => t !== 'metrics' && t !== 'tts-audio');
    expect(types).toEqual(['start', 'tts-started', 'tts-text', 'tts-text', 'tts-stopped', 'end']);
    expect(collector.ofType('tts-text').map((f) => f.text)).toEqual(['Hello there.', 'How are you?']);

    const metrics = metricsOf(collector.downstream);
    expect(metrics.filter((m) => m.kind === 'tts-usage')).toEqual([
      { kind: 'tts-usage', processor: tts.name, model: 'aura-2-thalia-en', characters: 12 },
      { kind: 'tts-usage', processor: tts.name, model: 'aura-2-thalia-en', characters: 12 },
    ]);
    expect(metrics.filter((m) => m.kind === 'ttfb' && m.processor === tts.name)).toHaveLength(2);
  });

  it('asks for the voice, rate, encoding and speed given, and decodes mu-law', async () => {
    const tts = service({ voice: 'aura-2-andromeda-en', sampleRate: 8000, encoding: 'mulaw', speed: 1.2, mipOptOut: true });
    const { task, collector, errors, stop } = runPipeline(tts);
    void task.queueFrame(makeFrame('speak', { text: 'One moment, please.' }));
    await collector.waitFor((f) => f.type === 'tts-stopped');
    await stop();
    expect(errors).toEqual([]);
    expect(fake.requests[0]!.query).toEqual({
      model: 'aura-2-andromeda-en',
      encoding: 'mulaw',
      sample_rate: '8000',
      container: 'none',
      speed: '1.2',
      mip_opt_out: 'true',
    });
    expect(collector.ofType('tts-audio').every((f) => f.sampleRate === 8000)).toBe(true);
    const expected = fakeDeepgramSpeechAudio('One moment, please.', 8000, 60, 1.2);
    expect(audioOf(collector.downstream)).toEqual(mulawToPcm(pcmToMulaw(expected)));
  });

  it('stops within a chunk on interruption: the request is aborted and no later audio is pushed', async () => {
    await restartFake({ ttsFrameDelayMs: 15, ttsChunkMs: 40 });
    const { task, collector, errors, stop } = runPipeline(service());
    const text = 'This is a long answer that the caller is going to interrupt before it is over.';
    void task.queueFrame(makeFrame('speak', { text }));
    await collector.waitFor((f) => f.type === 'tts-audio');
    await until(() => collector.ofType('tts-audio').length >= 2);
    void task.queueFrame(makeFrame('interruption'));
    const at = collector.downstream.length;
    await until(() => fake.requests[0]!.aborted === true, 500);
    await new Promise((r) => setTimeout(r, 60));
    await stop();

    expect(errors).toEqual([]);
    const after = collector.downstream.slice(at);
    expect(after.filter((f) => f.type === 'tts-audio')).toEqual([]);
    expect(collector.ofType('tts-stopped')).toHaveLength(1);
    const full = Math.round((text.length * 60 * 24000) / 1000);
    expect(audioOf(collector.downstream).length).toBeLessThan(full / 2);
    expect(fake.requests[0]!.bytesSent).toBeLessThan(full);
    // Cut short: no usage reported for words never spoken.
    expect(metricsOf(collector.downstream).filter((m) => m.kind === 'tts-usage')).toEqual([]);
  });

  it('a refused key is an error naming Deepgram, not retryable, without the key', async () => {
    const { task, collector, errors, stop } = runPipeline(service({ apiKey: BAD_KEY }));
    void task.queueFrame(makeFrame('speak', { text: 'Hello.' }));
    await until(() => errors.length === 1);
    await stop();
    const error = errors[0]!.error as ServiceError;
    expect(error).toBeInstanceOf(ServiceError);
    expect(errors[0]!.fatal).toBe(false);
    expect(error).toMatchObject({ service: 'Deepgram', status: 401, code: 'auth', vendorCode: 'INVALID_AUTH', retryable: false });
    expect(error.message).toMatch(/^Deepgram: speak request refused with 401: Invalid credentials/);
    expect(JSON.stringify(errors)).not.toContain('SECRET');
    expect(error.message).not.toContain(BAD_KEY);
    expect(collector.ofType('tts-audio')).toEqual([]);
  });

  it('a rate limit is retryable; a dropped connection keeps the audio already received and the next sentence plays', async () => {
    fake.enqueueSpeak({ error: 429 }, { drop: true, afterBytes: 4801 });
    const { task, collector, errors, stop } = runPipeline(service());
    void task.queueFrame(makeFrame('speak', { text: 'First. Second sentence. Third one.' }));
    await until(() => fake.requests.length === 3 && fake.requests[2]!.status === 200);
    await collector.waitFor((f) => f.type === 'tts-stopped');
    await stop();
    expect(errors.map((e) => e.error)).toMatchObject([
      { service: 'Deepgram', status: 429, code: 'rate-limited', vendorCode: 'TOO_MANY_REQUESTS', retryable: true },
      { service: 'Deepgram', code: 'connection-lost', retryable: true },
    ]);
    // 4800 whole bytes of the second sentence (the odd byte is never half-played), then all of the third.
    const expected = concatInt16([fakeDeepgramSpeechAudio('Second sentence.', 24000).subarray(0, 2400), fakeDeepgramSpeechAudio('Third one.', 24000)]);
    expect(audioOf(collector.downstream)).toEqual(expected);
  });

  it('gives up on a stalled response after timeoutMs', async () => {
    fake.enqueueSpeak({ stall: true, afterBytes: 100 });
    const { task, errors, stop } = runPipeline(service({ timeoutMs: 80 }));
    const started = performance.now();
    void task.queueFrame(makeFrame('speak', { text: 'Hello.' }));
    await until(() => errors.length === 1);
    expect(performance.now() - started).toBeLessThan(1000);
    await stop();
    expect(errors[0]!.error).toMatchObject({ service: 'Deepgram', code: 'timeout', retryable: true });
    await until(() => fake.requests[0]!.aborted === true);
  });
});

describe('DeepgramTTSService requests', () => {
  it('cuts text over 2000 characters into requests Deepgram accepts, at sentence boundaries', async () => {
    const sentence = 'This sentence has exactly fifty characters in it. ';
    const text = sentence.repeat(50).trim();
    const pieces = splitForDeepgramSpeak(text);
    expect(pieces.map((p) => p.length)).toEqual([1999, 499]);
    expect(pieces.every((p) => p.endsWith('in it.'))).toBe(true);
    expect(splitForDeepgramSpeak('x'.repeat(2500)).map((p) => p.length)).toEqual([2000, 500]);

    // 150 s of audio: big writes, no pauses.
    await restartFake({ ttsChunkMs: 5000, ttsFrameDelayMs: 0 });
    const tts = service({ sampleRate: 8000 });
    const controller = new AbortController();
    let samples = 0;
    for await (const chunk of tts.synthesize(text, { contextId: 'c1', signal: controller.signal })) {
      if (chunk.type === 'audio') samples += chunk.audio.length;
    }
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200]);
    expect(samples).toBe(Math.round((1999 * 60 * 8000) / 1000) + Math.round((499 * 60 * 8000) / 1000));
  });

  it('validates its options', () => {
    expect(() => new DeepgramTTSService({ apiKey: '  ' })).toThrow(/DeepgramTTSService.*DEEPGRAM_API_KEY/);
    expect(() => new DeepgramTTSService({ apiKey: KEY, encoding: 'mulaw', sampleRate: 24000 })).toThrow(RangeError);
    expect(() => new DeepgramTTSService({ apiKey: KEY, speed: 2 })).toThrow(RangeError);
    const tts = new DeepgramTTSService({ apiKey: KEY });
    expect([tts.model, tts.sampleRate, tts.encoding]).toEqual(['aura-2-thalia-en', 24000, 'linear16']);
  });
});
