// CartesiaTTSService against the fake Cartesia WebSocket over real sockets, in a pipeline task.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { concatInt16, mulawToPcm, pcmToMulaw } from '../../../src/audio/index.js';
import { makeFrame, type Frame } from '../../../src/frames/index.js';
import { ServiceError, UnsaidTextError, type TTSChunk } from '../../../src/services/base/index.js';
import { CARTESIA_DEFAULT_VOICE_ID, CartesiaTTSService, type CartesiaTTSServiceOptions } from '../../../src/services/cartesia/index.js';
import type { FrameCollector } from '../../../src/testing/frame-collector.js';
import { fakeCartesiaSpeech, startFakeCartesia, type FakeCartesia } from '../../../src/testing/fakes/cartesia.js';
import { extraFakes } from '../../support/extra-fakes.js';
import { audioOf, metricsOf, runPipeline as run } from '../../support/pipeline.js';
import { sleep, waitUntil } from '../../support/wait.js';

const KEY = 'sk_car_test_SECRET_0123456789';
const BAD_KEY = 'sk_car_bad_key_9876543210';
const VOICE = 'a0e99841-438c-4a64-b679-ae501e7d6091';

let fake: FakeCartesia;
beforeEach(async () => {
  fake = await startFakeCartesia({ rejectKey: BAD_KEY });
});
afterEach(async () => {
  await fake.close();
});
const otherFake = extraFakes(startFakeCartesia);

function service(options: Partial<CartesiaTTSServiceOptions> = {}, on: FakeCartesia = fake): CartesiaTTSService {
  return new CartesiaTTSService({ apiKey: KEY, voiceId: VOICE, baseUrl: on.baseUrl, ...options });
}

const speech = (text: string, sampleRate = 16000): Int16Array => fakeCartesiaSpeech(text, { sampleRate, voiceId: VOICE });
const records = (list: readonly unknown[]): Record<string, unknown>[] => list as Record<string, unknown>[];

/** Word offsets as the fake places them: 60 ms per character from the start of the context's audio. */
function wordOffsets(sentences: readonly string[], startMs = 0): { text: string; offsetMs: number }[] {
  const words: { text: string; offsetMs: number }[] = [];
  let at = startMs;
  for (const sentence of sentences) {
    for (const match of sentence.matchAll(/\S+/g)) words.push({ text: match[0], offsetMs: at + (match.index ?? 0) * 60 });
    at += sentence.length * 60;
  }
  return words;
}

describe('CartesiaTTSService in a pipeline', () => {
  it('says an LLM response: one context with continue:true per sentence, a flush each, continue:false at the end', async () => {
    const tts = service();
    const { collector, errors, respond, stop } = run(tts);
    respond(['Hello there. How can', ' I help you', ' today? Bye', ' now.']);
    await collector.waitFor((f) => f.type === 'llm-response-end');
    await vi_waitUntil(() => fake.contexts[0]?.outcome === 'done');
    await stop();
    expect(errors).toEqual([]);

    const sentences = ['Hello there.', 'How can I help you today?', 'Bye now.'];
    // Exactly the fake's samples, in order, at the requested rate.
    const audioFrames = collector.ofType('tts-audio');
    expect(audioFrames.every((f) => f.sampleRate === 16000 && f.channels === 1)).toBe(true);
    expect(audioFrames.length).toBeGreaterThan(10);
    expect(audioOf(collector.downstream)).toEqual(concatInt16(sentences.map((s) => speech(s))));
    // 45 characters at 60 ms: 2.7 s.
    expect(audioOf(collector.downstream).length).toBe((45 * 60 * 16000) / 1000);

    // Words with audio-time offsets from the start of the response.
    expect(collector.ofType('tts-text').map((f) => ({ text: f.text, offsetMs: f.offsetMs }))).toEqual(wordOffsets(sentences));
    const types = collector.types().filter((t) => t !== 'metrics');
    expect(types.filter((t) => t === 'tts-started')).toHaveLength(1);
    expect(types.indexOf('tts-started')).toBeLessThan(types.indexOf('tts-audio'));
    expect(types.lastIndexOf('tts-audio')).toBeLessThan(types.indexOf('tts-stopped'));
    expect(types.indexOf('tts-stopped')).toBeLessThan(types.indexOf('llm-response-end'));
    // The first sentence's words come before the audio chunk they start in.
    const firstAudio = types.indexOf('tts-audio');
    expect(types[firstAudio - 1]).toBe('tts-text');

    // On the wire: one socket, one context.
    expect(fake.connections).toHaveLength(1);
    expect(fake.contexts).toHaveLength(1);
    const context = fake.contexts[0]!;
    expect(context.transcripts).toEqual(['Hello there. ', '', 'How can I help you today? ', '', 'Bye now. ', '', '']);
    expect(context.generations).toEqual(['Hello there.', 'How can I help you today?', 'Bye now.']);
    expect(context.flushes).toBe(3);
    expect(context.outcome).toBe('done');
    const sent = records(fake.messages());
    expect(sent.map((m) => [m.continue, m.flush ?? false])).toEqual([
      [true, false], [true, true], [true, false], [true, true], [true, false], [true, true], [false, false],
    ]);
    expect(new Set(sent.map((m) => m.context_id)).size).toBe(1);
    const { transcript: _t, continue: _c, flush: _f, context_id: _id, ...fields } = sent[0]!;
    expect(fields).toEqual({
      model_id: 'sonic-3',
      voice: { mode: 'id', id: VOICE },
      output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
      language: 'en',
      add_timestamps: true,
    });

    // Handshake: key in X-API-Key (never recorded), the version header.
    const connection = fake.connections[0]!;
    expect(connection.auth).toEqual({ present: true, valid: true, via: 'x-api-key' });
    expect(connection.headers['x-api-key']).toBe('[redacted]');
    expect(connection.version).toBe('2025-04-16');
    // The service closes its socket cleanly when the pipeline ends.
    await vi_waitUntil(() => connection.close !== undefined);
    expect(connection.close?.by).toBe('client');
    expect(connection.close?.code).toBe(1000);

    const metrics = metricsOf(collector.downstream);
    expect(metrics.filter((m) => m.kind === 'tts-usage').map((m) => (m.kind === 'tts-usage' ? m.characters : 0))).toEqual([12, 25, 8]);
    expect(metrics.filter((m) => m.kind === 'ttfb')).toHaveLength(3);
  });

  it('opens the socket at pipeline start and keeps it for every utterance, one context each', async () => {
    const tts = service();
    const { collector, send, stop } = run(tts);
    await vi_waitUntil(() => fake.connections.length === 1 && fake.connections[0]!.status === 101);
    expect(fake.contexts).toHaveLength(0);
    send(makeFrame('speak', { text: 'Hello! How are you?' }));
    send(makeFrame('speak', { text: 'Still here.' }));
    await waitForCount(collector, 'tts-stopped', 2);
    await vi_waitUntil(() => fake.contexts[1]?.outcome === 'done');
    await stop();
    expect(fake.connections).toHaveLength(1);
    expect(fake.contexts.map((c) => [c.generations, c.outcome])).toEqual([
      [['Hello!', 'How are you?'], 'done'],
      [['Still here.'], 'done'],
    ]);
    expect(new Set(fake.contexts.map((c) => c.contextId)).size).toBe(2);
    const stopped = collector.ofType('tts-stopped').map((f) => f.contextId);
    const started = collector.ofType('tts-started').map((f) => f.contextId);
    expect(stopped).toEqual(started);
    expect(audioOf(collector.downstream).length).toBe(speech('Hello!').length + speech('How are you?').length + speech('Still here.').length);
  });

  it('decodes μ-law at 8 kHz to the PCM16 the G.711 tables give', async () => {
    const tts = service({ encoding: 'pcm_mulaw', sampleRate: 8000 });
    const { collector, errors, send, stop } = run(tts);
    send(makeFrame('speak', { text: 'Your order has shipped.' }));
    await collector.waitFor((f) => f.type === 'tts-stopped');
    await stop();
    expect(errors).toEqual([]);
    expect(collector.ofType('tts-audio').every((f) => f.sampleRate === 8000)).toBe(true);
    const expected = mulawToPcm(pcmToMulaw(speech('Your order has shipped.', 8000)));
    expect(audioOf(collector.downstream)).toEqual(expected);
    expect(records(fake.messages())[0]!.output_format).toEqual({ container: 'raw', encoding: 'pcm_mulaw', sample_rate: 8000 });
  });

  it('decodes float32 audio split across messages at odd offsets', async () => {
    const odd = await otherFake({ chunkMs: 13 });
    const tts = service({ encoding: 'pcm_f32le', sampleRate: 22050 }, odd);
    const { collector, send, stop } = run(tts);
    send(makeFrame('speak', { text: 'Float audio.' }));
    await collector.waitFor((f) => f.type === 'tts-stopped');
    await stop();
    const expected = speech('Float audio.', 22050);
    const got = audioOf(collector.downstream);
    expect(got.length).toBe(expected.length);
    // float32 of x/32768, back to int16: exact.
    expect(got).toEqual(expected);
  });

  it('an interruption mid-sentence cancels the context and no audio follows it', async () => {
    const slow = await otherFake({ chunkDelayMs: 5 });
    const tts = service({}, slow);
    const { collector, errors, respond, send, stop } = run(tts);
    respond(['This is a long answer that goes on and on so the caller can cut it short. ', 'And another sentence.']);
    await collector.waitFor((f) => f.type === 'tts-audio');
    send(makeFrame('interruption'));
    const cancel = await slow.waitForMessage((m) => (m as { cancel?: boolean }).cancel === true);
    const contextId = slow.contexts[0]!.contextId;
    expect(cancel.json).toEqual({ context_id: contextId, cancel: true });
    await sleep(60);
    await stop();
    const types = collector.types();
    const at = types.indexOf('interruption');
    expect(types.slice(0, at)).toContain('tts-audio');
    expect(types.slice(at)).not.toContain('tts-audio');
    expect(collector.ofType('tts-stopped')).toHaveLength(1);
    expect(errors).toEqual([]);
    const context = slow.contexts[0]!;
    expect(context.outcome).toBe('cancelled');
    // Far less than the sentence's 4.5 s of audio went out, and the second sentence was never sent.
    expect(context.audioSamples).toBeLessThan(speech('This is a long answer that goes on and on so the caller can cut it short.').length / 2);
    expect(context.transcripts.some((t) => t.startsWith('And another'))).toBe(false);
    // Nothing after the cancel: no continue:false for a cancelled context.
    const after = records(slow.messages()).slice(records(slow.messages()).findIndex((m) => m.cancel === true) + 1);
    expect(after).toEqual([]);
  });

  it('a socket dropped mid-sentence: the rest of the sentence is said on a new socket from the word cut, then the next', async () => {
    // 12 chunks of 40 ms (480 ms) arrive: "First" and the start of "sentence" (which begins at 360 ms).
    fake.failGeneration({ drop: true, afterChunks: 12 });
    const tts = service();
    const { collector, errors, respond, stop } = run(tts);
    respond(['First sentence here. ', 'Second sentence here.']);
    await collector.waitFor((f) => f.type === 'llm-response-end');
    await vi_waitUntil(() => fake.contexts[1]?.outcome === 'done');
    await stop();
    expect(errors).toEqual([]);
    expect(fake.connections).toHaveLength(2);
    // The word cut in the middle is said again whole; the words before it are not.
    expect(fake.contexts.map((c) => [c.connection, c.generations, c.outcome])).toEqual([
      [0, ['First sentence here.'], 'dropped'],
      [1, ['sentence here.', 'Second sentence here.'], 'done'],
    ]);
    const cut = speech('First sentence here.').subarray(0, 12 * 640);
    expect(audioOf(collector.downstream)).toEqual(concatInt16([cut, speech('sentence here.'), speech('Second sentence here.')]));
    // Every word is given once, placed on the audio the caller heard: "sentence" where it began before the drop.
    const words = collector.ofType('tts-text').map((f) => [f.text, f.offsetMs]);
    expect(words).toEqual([
      ['First', 0],
      ['sentence', 360],
      ['here.', 480 + 9 * 60],
      ...wordOffsets(['Second sentence here.'], 480 + 14 * 60).map((w) => [w.text, w.offsetMs]),
    ]);
    expect(collector.ofType('tts-stopped')).toHaveLength(1);
  });

  it('without word timestamps, a sentence cut by a drop is said again whole', async () => {
    fake.failGeneration({ drop: true, afterChunks: 3 });
    const tts = service({ addTimestamps: false });
    const { collector, errors, respond, stop } = run(tts);
    respond(['Call me back at five. ', 'Thanks.']);
    await collector.waitFor((f) => f.type === 'llm-response-end');
    await vi_waitUntil(() => fake.contexts[1]?.outcome === 'done');
    await stop();
    expect(errors).toEqual([]);
    expect(fake.contexts.map((c) => c.generations)).toEqual([['Call me back at five.'], ['Call me back at five.', 'Thanks.']]);
    expect(audioOf(collector.downstream)).toEqual(
      concatInt16([speech('Call me back at five.').subarray(0, 3 * 640), speech('Call me back at five.'), speech('Thanks.')]),
    );
    expect(collector.ofType('tts-text').map((f) => f.text)).toEqual(['Call me back at five.', 'Thanks.']);
  });

  it('a socket that drops again and again: after two resumptions the rest is reported unsaid, and the next sentence is said', async () => {
    fake.failGeneration({ drop: true, afterChunks: 12 }, { drop: true, afterChunks: 2 }, { drop: true, afterChunks: 2 });
    const tts = service();
    const { collector, errors, respond, stop } = run(tts);
    respond(['First sentence here. ', 'Second sentence here.']);
    await collector.waitFor((f) => f.type === 'llm-response-end');
    await vi_waitUntil(() => fake.contexts.at(-1)?.outcome === 'done' && fake.contexts.length === 4);
    await stop();
    expect(errors).toHaveLength(1);
    const error = errors[0]!.error as UnsaidTextError;
    expect(error).toBeInstanceOf(UnsaidTextError);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error.message).toMatch(/^Cartesia: connection closed \(code 1006/);
    expect(error.code).toBe('connection-lost');
    expect(error.unsaidText).toBe('sentence here.');
    expect(error.wordsGiven).toBe(1);
    expect(fake.contexts.map((c) => c.generations)).toEqual([
      ['First sentence here.'],
      ['sentence here.'],
      ['sentence here.'],
      ['Second sentence here.'],
    ]);
  });

  it('a wrong key is a ServiceError naming Cartesia, without the key, and no audio', async () => {
    const tts = service({ apiKey: BAD_KEY });
    const { collector, errors, send, stop } = run(tts);
    send(makeFrame('speak', { text: 'Hello.' }));
    await collector.waitFor((f) => f.type === 'tts-stopped');
    await stop();
    expect(errors).toHaveLength(1);
    const error = errors[0]!.error as ServiceError;
    expect(error).toBeInstanceOf(ServiceError);
    // The default version (2025-04-16) answers in plain text.
    expect(error.message).toBe('Cartesia: 401 Invalid API key: The API key provided is not valid.');
    expect(error.message).not.toContain(BAD_KEY);
    expect(error.status).toBe(401);
    expect(error.retryable).toBe(false);
    expect(errors[0]!.processor).toBe(tts.name);
    expect(collector.ofType('tts-audio')).toEqual([]);
    expect(fake.connections.every((c) => c.auth.present && !c.auth.valid && c.status === 401)).toBe(true);
  });

  it('an in-stream error ends that sentence with a ServiceError; the next sentence gets a new context', async () => {
    fake.failGeneration({ error: 500, afterChunks: 1, message: 'Something went wrong.' });
    const tts = service();
    const { collector, errors, respond, stop } = run(tts);
    respond(['One sentence. ', 'Two sentences.']);
    await collector.waitFor((f) => f.type === 'llm-response-end');
    await vi_waitUntil(() => fake.contexts[1]?.outcome === 'done');
    await stop();
    expect(errors).toHaveLength(1);
    const error = errors[0]!.error as ServiceError;
    expect(error.message).toBe('Cartesia: 500 Something went wrong.');
    expect(error.status).toBe(500);
    expect(error.code).toBe('server');
    expect(error.vendorCode).toBe('internal_error');
    expect(error.retryable).toBe(true);
    expect(fake.connections).toHaveLength(1);
    expect(fake.contexts.map((c) => [c.generations, c.outcome])).toEqual([
      [['One sentence.'], 'error'],
      [['Two sentences.'], 'done'],
    ]);
    expect(audioOf(collector.downstream)).toEqual(concatInt16([speech('One sentence.').subarray(0, 640), speech('Two sentences.')]));
  });
});

describe('CartesiaTTSService: the protocol details', () => {
  it('a sentence later than Cartesia keeps a context goes into a fresh one, with word offsets carried on', async () => {
    const tts = service();
    const { collector, errors, send, stop } = run(tts);
    send(makeFrame('llm-response-start'));
    send(makeFrame('llm-text', { text: 'Let me check. ' }));
    // Once the sentence is said (its usage is reported after its last audio)...
    await collector.waitFor((f) => f.type === 'metrics' && f.data.some((m) => m.kind === 'tts-usage'));
    // ...the model takes its time: longer than the ~1 s Cartesia keeps an idle context.
    await sleep(1050);
    expect(fake.contexts[0]!.outcome).toBe('expired');
    send(makeFrame('llm-text', { text: 'Found it.' }));
    send(makeFrame('llm-response-end'));
    await collector.waitFor((f) => f.type === 'llm-response-end');
    await vi_waitUntil(() => fake.contexts[1]?.outcome === 'done');
    await stop();
    expect(errors).toEqual([]);
    expect(fake.contexts.map((c) => [c.generations, c.outcome])).toEqual([
      [['Let me check.'], 'expired'],
      [['Found it.'], 'done'],
    ]);
    expect(collector.ofType('tts-text').map((f) => [f.text, f.offsetMs])).toEqual([
      ['Let', 0], ['me', 240], ['check.', 420], ['Found', 780], ['it.', 1140],
    ]);
    expect(collector.ofType('tts-started')).toHaveLength(1);
  });

  it('a server that stops answering fails the sentence after timeoutMs; the next one reconnects', async () => {
    fake.failGeneration({ stall: true });
    const tts = service({ timeoutMs: 150 });
    const { collector, errors, respond, stop } = run(tts);
    const started = performance.now();
    respond(['Are you there? ', 'Yes.']);
    await collector.waitFor((f) => f.type === 'llm-response-end');
    await stop();
    expect(performance.now() - started).toBeLessThan(1500);
    expect(errors).toHaveLength(1);
    expect((errors[0]!.error as ServiceError).code).toBe('timeout');
    expect(errors[0]!.error.message).toBe('Cartesia: no audio for 150 ms');
    expect(fake.connections).toHaveLength(2);
    expect(audioOf(collector.downstream)).toEqual(speech('Yes.'));
  });

  it('a 429 handshake is retryable with the wait the server asked for', async () => {
    fake.failHandshake({ status: 429, retryAfter: 2 }, { status: 429, retryAfter: 2 });
    // From 2026-03-01 the body is JSON with an error code.
    const tts = service({ cartesiaVersion: '2026-03-01' });
    const chunks = synthesizeAll(tts, 'Hello.');
    const error = await chunks.then(() => undefined, (e: unknown) => e as ServiceError);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error!.status).toBe(429);
    expect(error!.retryable).toBe(true);
    expect(error!.retryAfterSecs).toBe(2);
    expect(error!.code).toBe('rate-limited');
    expect(error!.vendorCode).toBe('concurrency_limited');
    await tts.cleanup();
  });

  it('understands the plain-text handshake errors of older versions', async () => {
    const tts = service({ apiKey: BAD_KEY, cartesiaVersion: '2024-06-10' });
    const error = await synthesizeAll(tts, 'Hello.').then(() => undefined, (e: unknown) => e as ServiceError);
    expect(error?.message).toBe('Cartesia: 401 Invalid API key: The API key provided is not valid.');
    expect(fake.connections[0]!.version).toBe('2024-06-10');
    await tts.cleanup();
  });

  it('sends speed, volume and emotion in generation_config and the buffering window when set', async () => {
    const tts = service({ speed: 1.2, volume: 0.8, emotion: 'calm', maxBufferDelayMs: 0, language: 'es', model: 'sonic-2', cartesiaVersion: '2026-03-01' });
    const audio = concatInt16((await synthesizeAll(tts, 'Hola.')).flatMap((c) => (c.type === 'audio' ? [c.audio] : [])));
    await tts.cleanup();
    expect(audio).toEqual(speech('Hola.'));
    const first = records(fake.messages())[0]!;
    expect(first).toMatchObject({
      model_id: 'sonic-2',
      language: 'es',
      generation_config: { speed: 1.2, volume: 0.8, emotion: 'calm' },
      max_buffer_delay_ms: 0,
      transcript: 'Hola. ',
    });
    expect(fake.connections[0]!.version).toBe('2026-03-01');
  });

  it('without timestamps, the sentence text is the tts-text', async () => {
    const tts = service({ addTimestamps: false });
    const { collector, send, stop } = run(tts);
    send(makeFrame('speak', { text: 'No words. Just sentences.' }));
    await collector.waitFor((f) => f.type === 'tts-stopped');
    await stop();
    expect(collector.ofType('tts-text').map((f) => [f.text, f.offsetMs])).toEqual([['No words.', undefined], ['Just sentences.', undefined]]);
    expect(records(fake.messages()).every((m) => m.add_timestamps === false)).toBe(true);
  });

  it('a socket the server closed between utterances is reopened quietly', async () => {
    const tts = service();
    const { collector, errors, send, stop } = run(tts);
    send(makeFrame('speak', { text: 'First.' }));
    await collector.waitFor((f) => f.type === 'tts-stopped');
    fake.dropConnections();
    await vi_waitUntil(() => fake.connections[0]!.close !== undefined);
    send(makeFrame('speak', { text: 'Second.' }));
    await waitForCount(collector, 'tts-stopped', 2);
    await stop();
    expect(errors).toEqual([]);
    expect(fake.connections).toHaveLength(2);
    expect(audioOf(collector.downstream)).toEqual(concatInt16([speech('First.'), speech('Second.')]));
  });

  it('an abort through the signal sends cancel and ends the iteration at once', async () => {
    const slow = await otherFake({ chunkDelayMs: 10 });
    const tts = service({}, slow);
    const controller = new AbortController();
    const received: TTSChunk[] = [];
    const started = performance.now();
    for await (const chunk of tts.synthesize('Please hold while I look that up for you right now.', { contextId: 'u1', signal: controller.signal })) {
      received.push(chunk);
      if (received.filter((c) => c.type === 'audio').length === 2) controller.abort();
    }
    expect(performance.now() - started).toBeLessThan(500);
    expect(received.filter((c) => c.type === 'audio')).toHaveLength(2);
    await slow.waitForMessage((m) => (m as { cancel?: boolean }).cancel === true);
    expect(slow.contexts[0]!.outcome).toBe('cancelled');
    await tts.cleanup();
  });

  it('rejects a missing key or an empty voice, and bad rates, speeds and volumes, at construction', () => {
    expect(() => new CartesiaTTSService({ apiKey: '', voiceId: VOICE })).toThrow(
      new TypeError('CartesiaTTSService: apiKey is required (e.g. { apiKey: process.env.CARTESIA_API_KEY })'),
    );
    expect(() => new CartesiaTTSService({ apiKey: KEY, voiceId: ' ' })).toThrow(/CartesiaTTSService: voiceId must not be empty/);
    // The quick-start program in DESIGN.md gives no voice: a stock voice is used.
    expect(new CartesiaTTSService({ apiKey: KEY } satisfies CartesiaTTSServiceOptions).voiceId).toBe(CARTESIA_DEFAULT_VOICE_ID);
    expect(() => service({ sampleRate: 11025 })).toThrow(RangeError);
    expect(() => service({ speed: 3 })).toThrow(/speed must be between 0.6 and 2.0/);
    expect(() => service({ volume: 0.1 })).toThrow(/volume/);
    const tts = service();
    expect(tts.sampleRate).toBe(16000);
    expect(tts.model).toBe('sonic-3');
    expect(service({ baseUrl: 'https://api.example.com/' }).url).toBe('wss://api.example.com/tts/websocket');
  });
});

async function synthesizeAll(tts: CartesiaTTSService, text: string): Promise<TTSChunk[]> {
  const chunks: TTSChunk[] = [];
  for await (const chunk of tts.synthesize(text, { contextId: 'u1', signal: new AbortController().signal })) chunks.push(chunk);
  return chunks;
}

const vi_waitUntil = (condition: () => boolean, timeoutMs = 2000): Promise<void> => waitUntil(condition, timeoutMs);

async function waitForCount(collector: FrameCollector, type: Frame['type'], count: number): Promise<void> {
  await vi_waitUntil(() => collector.ofType(type).length >= count, 5000);
}
