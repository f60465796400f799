// ElevenLabsTTSService against the fake ElevenLabs multi-context WebSocket over real sockets, in a pipeline task.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { concatInt16, mulawToPcm, pcmToMulaw } from '../../../src/audio/index.js';
import { makeFrame } from '../../../src/frames/index.js';
import { ServiceError, type TTSChunk } from '../../../src/services/base/index.js';
import { ElevenLabsTTSService, type ElevenLabsTTSServiceOptions } from '../../../src/services/elevenlabs/index.js';
import { fakeElevenLabsSpeech, startFakeElevenLabs, type FakeElevenLabs } from '../../../src/testing/fakes/elevenlabs.js';
import { extraFakes } from '../../support/extra-fakes.js';
import { audioOf, metricsOf, runPipeline as run } from '../../support/pipeline.js';
import { sleep, waitUntil as waitAtMost } from '../../support/wait.js';

const KEY = 'xi_test_SECRET_0123456789abcdef';
const BAD_KEY = 'xi_bad_key_9876543210';
const VOICE = 'EXAVITQu4vr4xnSDxMaL';

let fake: FakeElevenLabs;
beforeEach(async () => {
  fake = await startFakeElevenLabs({ rejectKey: BAD_KEY });
});
afterEach(async () => {
  await fake.close();
});
const otherFake = extraFakes(startFakeElevenLabs);

function service(options: Partial<ElevenLabsTTSServiceOptions> = {}, on: FakeElevenLabs = fake): ElevenLabsTTSService {
  return new ElevenLabsTTSService({ apiKey: KEY, voiceId: VOICE, baseUrl: on.baseUrl, ...options });
}

const waitUntil = (condition: () => boolean, timeoutMs = 3000): Promise<void> => waitAtMost(condition, timeoutMs);

/** The fake's audio for a sentence as the service sends it (with its trailing space). */
const speech = (sentence: string, sampleRate = 16000): Int16Array => fakeElevenLabsSpeech(`${sentence} `, { sampleRate, voiceId: VOICE });
const records = (list: readonly unknown[]): Record<string, unknown>[] => list as Record<string, unknown>[];

/** Word offsets as the fake's audio places them: 60 ms per character, each sentence followed by its space. */
function wordOffsets(sentences: readonly string[], startMs = 0): [string, number][] {
  const words: [string, number][] = [];
  let at = startMs;
  for (const sentence of sentences) {
    for (const match of sentence.matchAll(/\S+/g)) words.push([match[0], at + (match.index ?? 0) * 60]);
    at += (sentence.length + 1) * 60;
  }
  return words;
}

describe('ElevenLabsTTSService in a pipeline', () => {
  it('says an LLM response in one context: opened once, a flush per sentence, closed at the end', async () => {
    const tts = service();
    const { collector, errors, respond, stop } = run(tts);
    respond(['Hello there. How can', ' I help you', ' today? Bye', ' now.']);
    await collector.waitFor((f) => f.type === 'llm-response-end');
    await waitUntil(() => fake.contexts[0]?.outcome === 'closed');
    await stop();
    expect(errors).toEqual([]);

    const sentences = ['Hello there.', 'How can I help you today?', 'Bye now.'];
    expect(collector.ofType('tts-audio').every((f) => f.sampleRate === 16000 && f.channels === 1)).toBe(true);
    expect(audioOf(collector.downstream)).toEqual(concatInt16(sentences.map((s) => speech(s))));
    // 45 characters and three spaces at 60 ms: 2.88 s.
    expect(audioOf(collector.downstream).length).toBe((48 * 60 * 16000) / 1000);
    expect(collector.ofType('tts-text').map((f) => [f.text, f.offsetMs])).toEqual(wordOffsets(sentences));
    const types = collector.types().filter((t) => t !== 'metrics');
    expect(types.filter((t) => t === 'tts-started')).toHaveLength(1);
    expect(types[types.indexOf('tts-audio') - 1]).toBe('tts-text');
    expect(types.lastIndexOf('tts-audio')).toBeLessThan(types.indexOf('tts-stopped'));

    // On the wire: one socket, one context, opened with a space, a flush per sentence, closed after the last.
    expect(fake.connections).toHaveLength(1);
    expect(fake.contexts).toHaveLength(1);
    const contextId = fake.contexts[0]!.contextId;
    expect(fake.messages()).toEqual([
      { text: ' ', context_id: contextId },
      { text: 'Hello there. ', context_id: contextId, flush: true },
      { text: 'How can I help you today? ', context_id: contextId, flush: true },
      { text: 'Bye now. ', context_id: contextId, flush: true },
      { context_id: contextId, close_context: true },
    ]);
    expect(fake.contexts[0]!.generations).toEqual(['Hello there. ', 'How can I help you today? ', 'Bye now. ']);
    const connection = fake.connections[0]!;
    expect(connection.path).toBe(`/v1/text-to-speech/${VOICE}/multi-stream-input`);
    expect(connection.query).toEqual({ model_id: 'eleven_flash_v2_5', output_format: 'pcm_16000', sync_alignment: 'true', auto_mode: 'true' });
    expect(connection.auth).toEqual({ present: true, valid: true, via: 'header' });
    expect(connection.headers['xi-api-key']).toBe('[redacted]');
    await waitUntil(() => connection.close !== undefined);
    expect(connection.close?.code).toBe(1000);
    expect(connection.received.at(-1)?.json).toEqual({ close_socket: true });

    const usage = metricsOf(collector.downstream).filter((m) => m.kind === 'tts-usage');
    expect(usage.map((m) => (m.kind === 'tts-usage' ? [m.characters, m.model] : []))).toEqual([[12, 'eleven_flash_v2_5'], [25, 'eleven_flash_v2_5'], [8, 'eleven_flash_v2_5']]);
  });

  it('reads alignment counted from the context start just the same', async () => {
    const absolute = await otherFake({ alignmentTimeBase: 'context', charsPerChunk: 3 });
    const tts = service({}, absolute);
    const { collector, respond, stop } = run(tts);
    respond(['First one here. ', 'Then the second.']);
    await collector.waitFor((f) => f.type === 'llm-response-end');
    await stop();
    expect(collector.ofType('tts-text').map((f) => [f.text, f.offsetMs])).toEqual(wordOffsets(['First one here.', 'Then the second.']));
  });

  it('decodes μ-law 8 kHz (ulaw_8000)', async () => {
    const tts = service({ encoding: 'ulaw' });
    const { collector, send, stop } = run(tts);
    send(makeFrame('speak', { text: 'Your order has shipped.' }));
    await collector.waitFor((f) => f.type === 'tts-stopped');
    await stop();
    expect(tts.sampleRate).toBe(8000);
    expect(fake.connections[0]!.query.output_format).toBe('ulaw_8000');
    expect(collector.ofType('tts-audio').every((f) => f.sampleRate === 8000)).toBe(true);
    expect(audioOf(collector.downstream)).toEqual(mulawToPcm(pcmToMulaw(speech('Your order has shipped.', 8000))));
  });

  it('an interruption mid-sentence closes the context and no audio follows it', async () => {
    const slow = await otherFake({ chunkDelayMs: 5, charsPerChunk: 2 });
    const tts = service({}, slow);
    const { collector, errors, respond, send, stop } = run(tts);
    respond(['This is a long answer that goes on and on so the caller can cut it short. ', 'And another sentence.']);
    await collector.waitFor((f) => f.type === 'tts-audio');
    send(makeFrame('interruption'));
    const close = await slow.waitForMessage((m) => (m as { close_context?: boolean }).close_context === true);
    const contextId = slow.contexts[0]!.contextId;
    expect(close.json).toEqual({ context_id: contextId, close_context: true });
    await sleep(60);
    await stop();
    const types = collector.types();
    const at = types.indexOf('interruption');
    expect(types.slice(0, at)).toContain('tts-audio');
    expect(types.slice(at)).not.toContain('tts-audio');
    expect(errors).toEqual([]);
    expect(slow.contexts[0]!.outcome).toBe('closed');
    expect(slow.contexts[0]!.audioSamples).toBeLessThan(speech('This is a long answer that goes on and on so the caller can cut it short.').length / 2);
    expect(slow.contexts[0]!.texts.some((t) => t.startsWith('And another'))).toBe(false);
  });

  it('a socket dropped mid-sentence: the rest of the sentence is said on a new socket from the last word begun', async () => {
    // Four messages of four characters (960 ms) arrive: "First sentence h".
    fake.failGeneration({ drop: true, afterChunks: 4 });
    const tts = service();
    const { collector, errors, respond, stop } = run(tts);
    respond(['First sentence here. ', 'Second sentence here.']);
    await collector.waitFor((f) => f.type === 'llm-response-end');
    await waitUntil(() => fake.contexts[1]?.outcome === 'closed');
    await stop();
    expect(errors).toEqual([]);
    expect(fake.connections).toHaveLength(2);
    // "here" had begun but its timing is given only at the space after it: the sentence goes on from "sentence".
    expect(fake.contexts.map((c) => [c.connection, c.generations, c.outcome])).toEqual([
      [0, ['First sentence here. '], 'dropped'],
      [1, ['sentence here. ', 'Second sentence here. '], 'closed'],
    ]);
    expect(audioOf(collector.downstream)).toEqual(
      concatInt16([speech('First sentence here.').subarray(0, 15360), speech('sentence here.'), speech('Second sentence here.')]),
    );
    // Every word once: "sentence" where it began before the drop, the rest on the new socket's audio.
    const words = collector.ofType('tts-text').map((f) => [f.text, f.offsetMs]);
    expect(words).toEqual([['First', 0], ['sentence', 360], ...wordOffsets(['here.'], 960 + 9 * 60), ...wordOffsets(['Second sentence here.'], 960 + 15 * 60)]);
  });

  it('a wrong key refused at the handshake is a ServiceError naming ElevenLabs, without the key', async () => {
    const tts = service({ apiKey: BAD_KEY });
    const { collector, errors, send, stop } = run(tts);
    send(makeFrame('speak', { text: 'Hello.' }));
    await collector.waitFor((f) => f.type === 'tts-stopped');
    await stop();
    expect(errors).toHaveLength(1);
    const error = errors[0]!.error as ServiceError;
    expect(error.message).toBe('ElevenLabs: 401 Invalid API key');
    expect(error.message).not.toContain(BAD_KEY);
    expect(error.status).toBe(401);
    expect(error.code).toBe('auth');
    expect(error.vendorCode).toBe('invalid_api_key');
    expect(error.retryable).toBe(false);
    expect(collector.ofType('tts-audio')).toEqual([]);
  });

  it('a wrong key refused in-band right after open is just as clear', async () => {
    const inBand = await otherFake({ rejectKey: BAD_KEY, badKeyAt: 'open' });
    const tts = service({ apiKey: BAD_KEY }, inBand);
    const { collector, errors, send, stop } = run(tts);
    send(makeFrame('speak', { text: 'Hello.' }));
    await collector.waitFor((f) => f.type === 'tts-stopped');
    await stop();
    expect(errors.length).toBeGreaterThanOrEqual(1);
    const error = errors[0]!.error as ServiceError;
    expect(error.message).toBe('ElevenLabs: Invalid API key');
    expect(error.status).toBe(401);
    expect(error.code).toBe('auth');
    expect(error.vendorCode).toBe('invalid_api_key');
    expect(error.retryable).toBe(false);
    expect(inBand.connections[0]!.close).toMatchObject({ code: 1008, reason: 'Invalid API key', by: 'server' });
  });

  it('an in-band error about the context fails that sentence; the next one goes into a new context', async () => {
    fake.failGeneration({ error: 'too_many_concurrent_requests', message: 'Too many concurrent requests.', afterChunks: 1, close: false, inContext: true });
    const tts = service();
    const { collector, errors, respond, stop } = run(tts);
    respond(['One sentence. ', 'Two sentences.']);
    await collector.waitFor((f) => f.type === 'llm-response-end');
    await waitUntil(() => fake.contexts[1]?.outcome === 'closed');
    await stop();
    expect(errors).toHaveLength(1);
    const error = errors[0]!.error as ServiceError;
    expect(error.message).toBe('ElevenLabs: Too many concurrent requests.');
    expect(error.code).toBe('rate-limited');
    expect(error.vendorCode).toBe('too_many_concurrent_requests');
    expect(error.status).toBe(429);
    expect(error.retryable).toBe(true);
    expect(fake.connections).toHaveLength(1);
    expect(fake.contexts.map((c) => c.generations)).toEqual([['One sentence. '], ['Two sentences. ']]);
    expect(audioOf(collector.downstream)).toEqual(concatInt16([speech('One sentence.').subarray(0, 3840), speech('Two sentences.')]));
  });
});

describe('ElevenLabsTTSService: idle sockets and contexts', () => {
  it('a socket closed for inactivity (1008) between utterances is reopened without an error', async () => {
    const quick = await otherFake({ inactivityTimeoutMs: 80 });
    const tts = service({}, quick);
    const { collector, errors, send, stop } = run(tts);
    send(makeFrame('speak', { text: 'First.' }));
    await collector.waitFor((f) => f.type === 'tts-stopped');
    await waitUntil(() => quick.connections[0]!.close !== undefined);
    expect(quick.connections[0]!.close).toMatchObject({ code: 1008, by: 'server' });
    expect(quick.connections[0]!.errors[0]).toMatchObject({ error: 'input_timeout_exceeded', code: 1008 });
    send(makeFrame('speak', { text: 'Second.' }));
    await waitUntil(() => collector.ofType('tts-stopped').length === 2);
    await stop();
    expect(errors).toEqual([]);
    expect(quick.connections.length).toBeGreaterThanOrEqual(2);
    expect(audioOf(collector.downstream)).toEqual(concatInt16([speech('First.'), speech('Second.')]));
  });

  it('keeps an open context alive with {"text": ""} while the LLM is slow', async () => {
    const quick = await otherFake({ inactivityTimeoutMs: 200 });
    const tts = service({ keepAliveIntervalMs: 40 }, quick);
    const { collector, errors, send, stop } = run(tts);
    send(makeFrame('llm-response-start'));
    send(makeFrame('llm-text', { text: 'Let me check. ' }));
    await collector.waitFor((f) => f.type === 'metrics' && f.data.some((m) => m.kind === 'tts-usage'));
    await sleep(300);
    send(makeFrame('llm-text', { text: 'Found it.' }));
    send(makeFrame('llm-response-end'));
    await collector.waitFor((f) => f.type === 'llm-response-end');
    await stop();
    expect(errors).toEqual([]);
    expect(quick.connections).toHaveLength(1);
    expect(quick.contexts).toHaveLength(1);
    const contextId = quick.contexts[0]!.contextId;
    const keepAlives = records(quick.messages()).filter((m) => m.text === '' && m.context_id === contextId);
    expect(keepAlives.length).toBeGreaterThanOrEqual(3);
    expect(collector.ofType('tts-text').map((f) => [f.text, f.offsetMs])).toEqual(wordOffsets(['Let me check.', 'Found it.']));
  });

  it('without alignment, a sentence ends when its audio stops, and is one tts-text', async () => {
    const bare = await otherFake({ withoutAlignment: true });
    const tts = service({ sentenceIdleMs: 40 }, bare);
    const { collector, errors, send, stop } = run(tts);
    send(makeFrame('speak', { text: 'No timings here. None at all.' }));
    await collector.waitFor((f) => f.type === 'tts-stopped');
    await stop();
    expect(errors).toEqual([]);
    expect(collector.ofType('tts-text').map((f) => f.text)).toEqual(['No timings here.', 'None at all.']);
    expect(audioOf(collector.downstream)).toEqual(concatInt16([speech('No timings here.'), speech('None at all.')]));
  });

  it('a server that never answers fails the sentence after timeoutMs; the next one reconnects', async () => {
    fake.failGeneration({ stall: true });
    const tts = service({ timeoutMs: 150 });
    const { collector, errors, respond, stop } = run(tts);
    respond(['Are you there? ', 'Yes.']);
    await collector.waitFor((f) => f.type === 'llm-response-end');
    await stop();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error.message).toBe('ElevenLabs: no audio for 150 ms');
    expect((errors[0]!.error as ServiceError).code).toBe('timeout');
    expect(fake.connections).toHaveLength(2);
    expect(audioOf(collector.downstream)).toEqual(speech('Yes.'));
  });
});

describe('ElevenLabsTTSService: options and the protocol', () => {
  it('sends voice settings on the context opening, and the tuning knobs in the query', async () => {
    const tts = service({
      model: 'eleven_turbo_v2_5',
      sampleRate: 24000,
      voiceSettings: { stability: 0.4, similarityBoost: 0.8, style: 0.1, useSpeakerBoost: true, speed: 1.1 },
      language: 'hi',
      autoMode: false,
      chunkLengthSchedule: [50, 120],
      inactivityTimeoutSecs: 60,
      applyTextNormalization: 'off',
      seed: 7,
    });
    const chunks = await synthesizeAll(tts, 'Namaste.');
    await tts.cleanup();
    expect(concatInt16(chunks.flatMap((c) => (c.type === 'audio' ? [c.audio] : [])))).toEqual(speech('Namaste.', 24000));
    expect(fake.connections[0]!.query).toEqual({
      model_id: 'eleven_turbo_v2_5',
      output_format: 'pcm_24000',
      sync_alignment: 'true',
      auto_mode: 'false',
      language_code: 'hi',
      inactivity_timeout: '60',
      apply_text_normalization: 'off',
      seed: '7',
    });
    expect(records(fake.messages())[0]).toEqual({
      text: ' ',
      context_id: fake.contexts[0]!.contextId,
      voice_settings: { stability: 0.4, similarity_boost: 0.8, style: 0.1, use_speaker_boost: true, speed: 1.1 },
      generation_config: { chunk_length_schedule: [50, 120] },
    });
  });

  it('an abort through the signal closes the context and ends the iteration at once', async () => {
    const slow = await otherFake({ chunkDelayMs: 10, charsPerChunk: 1 });
    const tts = service({}, slow);
    const controller = new AbortController();
    const audio: Int16Array[] = [];
    const started = performance.now();
    for await (const chunk of tts.synthesize('Please hold while I look that up for you.', { contextId: 'u1', signal: controller.signal })) {
      if (chunk.type === 'audio') audio.push(chunk.audio);
      if (audio.length === 2) controller.abort();
    }
    expect(performance.now() - started).toBeLessThan(500);
    expect(audio.length).toBeLessThanOrEqual(2);
    await slow.waitForMessage((m) => (m as { close_context?: boolean }).close_context === true);
    await tts.cleanup();
  });

  it('a 429 at the handshake is retryable with the wait asked for', async () => {
    fake.failHandshake({ status: 429, retryAfter: 4, message: 'Too many concurrent requests.' });
    const tts = service();
    const error = await synthesizeAll(tts, 'Hello.').then(() => undefined, (e: unknown) => e as ServiceError);
    await tts.cleanup();
    expect(error).toBeInstanceOf(ServiceError);
    expect(error?.message).toBe('ElevenLabs: 429 Too many concurrent requests.');
    expect(error?.status).toBe(429);
    expect(error?.retryable).toBe(true);
    expect(error?.retryAfterSecs).toBe(4);
    expect(error?.code).toBe('rate-limited');
    expect(error?.vendorCode).toBe('too_many_concurrent_requests');
  });

  it('rejects a missing key or voice and impossible formats or settings at construction', () => {
    expect(() => new ElevenLabsTTSService({ apiKey: ' ', voiceId: VOICE })).toThrow(
      new TypeError('ElevenLabsTTSService: apiKey is required (e.g. { apiKey: process.env.ELEVENLABS_API_KEY })'),
    );
    expect(() => new ElevenLabsTTSService({ apiKey: KEY } as ElevenLabsTTSServiceOptions)).toThrow(/ElevenLabsTTSService: voiceId is required/);
    expect(() => service({ sampleRate: 11025 })).toThrow(RangeError);
    expect(() => service({ encoding: 'ulaw', sampleRate: 16000 })).toThrow(/ulaw is only available at 8000 Hz/);
    expect(() => service({ voiceSettings: { speed: 2 } })).toThrow(/voiceSettings.speed must be between 0.7 and 1.2/);
    expect(() => service({ voiceSettings: { stability: -1 } })).toThrow(/stability/);
    const tts = service({ baseUrl: 'https://api.example.com/v1/' });
    expect(tts.url).toBe(`wss://api.example.com/v1/text-to-speech/${VOICE}/multi-stream-input?model_id=eleven_flash_v2_5&output_format=pcm_16000&sync_alignment=true&auto_mode=true`);
    expect(tts.sampleRate).toBe(16000);
    expect(tts.outputFormat).toBe('pcm_16000');
  });
});

async function synthesizeAll(tts: ElevenLabsTTSService, text: string): Promise<TTSChunk[]> {
  const chunks: TTSChunk[] = [];
  for await (const chunk of tts.synthesize(text, { contextId: 'u1', signal: new AbortController().signal })) chunks.push(chunk);
  return chunks;
}
