import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { concatInt16 } from '../../../src/audio/index.js';
import { makeFrame } from '../../../src/frames/index.js';
import { ServiceError, type TTSChunk } from '../../../src/services/base/index.js';
import { OpenAITTSService, splitForSpeechInput, type OpenAITTSServiceOptions } from '../../../src/services/openai/tts.js';
import {
  fakeSpeechSamples,
  startFakeOpenAIAudio,
  type FakeOpenAIAudio,
  type FakeOpenAIAudioOptions,
} from '../../../src/testing/fakes/openai-audio.js';
import { audioOf, metricsOf, runPipeline } from '../../support/pipeline.js';

const KEY = 'sk-test-SECRET123456';
const BAD_KEY = 'sk-bad-key-0123456789abcdef';

let fake: FakeOpenAIAudio;
beforeEach(async () => {
  fake = await startFakeOpenAIAudio({ rejectKey: BAD_KEY });
});
afterEach(async () => {
  await fake.close();
});

function service(options: Partial<OpenAITTSServiceOptions> = {}, on: FakeOpenAIAudio = fake): OpenAITTSService {
  return new OpenAITTSService({ apiKey: KEY, baseURL: on.baseURL, ...options });
}

async function withFake<T>(options: FakeOpenAIAudioOptions, body: (fake: FakeOpenAIAudio) => Promise<T>): Promise<T> {
  const other = await startFakeOpenAIAudio(options);
  try {
    return await body(other);
  } finally {
    await other.close();
  }
}

const signal = (): AbortSignal => new AbortController().signal;

async function synthesizeAll(tts: OpenAITTSService, text: string, abort = signal()): Promise<Int16Array[]> {
  const chunks: Int16Array[] = [];
  for await (const chunk of tts.synthesize(text, { contextId: 'c1', signal: abort })) {
    if (chunk.type === 'audio') chunks.push(chunk.audio);
  }
  return chunks;
}

async function synthesisError(tts: OpenAITTSService, text = 'Hello.', received: Int16Array[] = []): Promise<ServiceError> {
  try {
    for await (const chunk of tts.synthesize(text, { contextId: 'c1', signal: signal() })) {
      if (chunk.type === 'audio') received.push(chunk.audio);
    }
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceError);
    return err as ServiceError;
  }
  throw new Error('expected the synthesis to fail');
}

describe('OpenAITTSService in a pipeline', () => {
  it('speaks a speak frame: tts-started, tts-text, 24 kHz audio of the right length, tts-stopped, usage once per request', async () => {
    const tts = service();
    const { task, collector, errors, stop } = runPipeline(tts);
    void task.queueFrame(makeFrame('speak', { text: 'Hello there. How can I help you today?' }));
    await collector.waitFor((f) => f.type === 'tts-stopped');
    await stop();

    // The base cuts the text into sentences; each is one request.
    expect(fake.requests.map((r) => (r.body as { input: string }).input)).toEqual(['Hello there.', 'How can I help you today?']);
    const types = collector.types().filter((t) => t !== 'metrics');
    expect(types[0]).toBe('start');
    expect(types[1]).toBe('tts-started');
    expect(types[2]).toBe('tts-text');
    expect(types.at(-2)).toBe('tts-stopped');
    expect(types.at(-1)).toBe('end');
    expect(collector.ofType('tts-text').map((f) => f.text)).toEqual(['Hello there.', 'How can I help you today?']);
    const audioFrames = collector.ofType('tts-audio');
    expect(audioFrames.length).toBeGreaterThan(4);
    expect(audioFrames.every((f) => f.sampleRate === 24000 && f.channels === 1)).toBe(true);
    // 12 + 25 characters at 60 ms each, byte for byte what the server sent.
    const audio = audioOf(collector.downstream);
    expect(audio.length).toBe(Math.round(37 * 0.06 * 24000));
    expect(audio).toEqual(concatInt16([fakeSpeechSamples('Hello there.'), fakeSpeechSamples('How can I help you today?')]));
    expect(errors).toEqual([]);

    const metrics = metricsOf(collector.downstream);
    expect(metrics.filter((m) => m.kind === 'tts-usage')).toEqual([
      { kind: 'tts-usage', processor: tts.name, model: 'gpt-4o-mini-tts', characters: 12 },
      { kind: 'tts-usage', processor: tts.name, model: 'gpt-4o-mini-tts', characters: 25 },
    ]);
    expect(metrics.filter((m) => m.kind === 'ttfb')).toHaveLength(2);
  });

  it('an interruption mid-stream aborts the HTTP request and no audio follows it', async () => {
    await withFake({ chunkDelayMs: 5 }, async (slow) => {
      const tts = service({}, slow);
      const { task, collector, errors, stop } = runPipeline(tts);
      // 120 characters: 7.2 s of audio, about 70 writes 5 ms apart.
      const text = 'This is a long answer that goes on and on so that the caller has plenty of time to interrupt it midway through';
      void task.queueFrame(makeFrame('speak', { text }));
      await collector.waitFor((f) => f.type === 'tts-audio');
      void task.queueFrame(makeFrame('interruption'));
      const request = await slow.settled(0);
      expect(request.outcome).toBe('client-closed');
      const total = fakeSpeechSamples(text).length * 2;
      expect(request.bytesSent).toBeLessThan(total / 2);
      // Give a late chunk every chance to show up.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await stop();
      const types = collector.types();
      const interruptedAt = types.indexOf('interruption');
      expect(interruptedAt).toBeGreaterThan(0);
      expect(types.slice(interruptedAt).includes('tts-audio')).toBe(false);
      expect(types.slice(0, interruptedAt).includes('tts-audio')).toBe(true);
      // The utterance is closed, and an abort is not an error.
      expect(collector.ofType('tts-stopped')).toHaveLength(1);
      expect(errors).toEqual([]);
      expect(slow.requests).toHaveLength(1);
    });
  });

  it('a wrong key becomes an error frame naming OpenAI, without the key, and no audio', async () => {
    const tts = service({ apiKey: BAD_KEY });
    const { task, collector, errors, stop } = runPipeline(tts);
    void task.queueFrame(makeFrame('speak', { text: 'Hello.' }));
    await collector.waitFor((f) => f.type === 'tts-stopped');
    await stop();
    expect(errors).toHaveLength(1);
    const error = errors[0]!.error;
    expect(error).toBeInstanceOf(ServiceError);
    expect(error.message).toMatch(/^OpenAI: 401 Incorrect API key provided: \[redacted\]/);
    expect(error.message).not.toContain(BAD_KEY);
    expect(error.message).not.toContain(BAD_KEY.slice(-4));
    expect((error as ServiceError).status).toBe(401);
    expect((error as ServiceError).retryable).toBe(false);
    expect(errors[0]!.processor).toBe(tts.name);
    expect(collector.ofType('tts-audio')).toEqual([]);
    expect(fake.requests[0]?.auth).toEqual({ present: true, valid: false });
  });
});

describe('OpenAITTSService: the request', () => {
  it('sends the default body and headers the API expects', async () => {
    await synthesizeAll(service(), 'Hi.');
    const request = fake.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v1/audio/speech');
    expect(request.body).toEqual({ model: 'gpt-4o-mini-tts', input: 'Hi.', voice: 'alloy', response_format: 'pcm' });
    expect(request.headers.accept).toBe('application/octet-stream');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.authorization).toBe('[redacted]');
    expect(request.auth).toEqual({ present: true, valid: true });
    expect(request.status).toBe(200);
  });

  it('sends voice, speed and instructions when set, and custom voices as objects', async () => {
    const audio = await synthesizeAll(service({ voice: 'coral', speed: 1.5, instructions: 'Calm and friendly.' }), 'Your order has shipped.');
    expect(fake.requests[0]?.body).toEqual({
      model: 'gpt-4o-mini-tts',
      input: 'Your order has shipped.',
      voice: 'coral',
      response_format: 'pcm',
      speed: 1.5,
      instructions: 'Calm and friendly.',
    });
    expect(concatInt16(audio)).toEqual(fakeSpeechSamples('Your order has shipped.', { voice: 'coral', speed: 1.5 }));
    await synthesizeAll(service({ model: 'tts-1', voice: { id: 'voice_abc123' } }), 'Hi.');
    expect(fake.requests[1]?.body).toEqual({ model: 'tts-1', input: 'Hi.', voice: { id: 'voice_abc123' }, response_format: 'pcm' });
  });

  it('rejects a missing key, a bad speed and instructions for tts-1 at construction', () => {
    expect(() => new OpenAITTSService({ apiKey: '' })).toThrow(new TypeError('OpenAITTSService: apiKey is required (e.g. { apiKey: process.env.OPENAI_API_KEY })'));
    expect(() => new OpenAITTSService({ apiKey: undefined as unknown as string })).toThrow(/OPENAI_API_KEY/);
    expect(() => service({ speed: 4.5 })).toThrow(RangeError);
    expect(() => service({ speed: 0.1 })).toThrow(/between 0.25 and 4.0/);
    expect(() => service({ model: 'tts-1-hd', instructions: 'Be calm.' })).toThrow(/instructions are not supported by tts-1-hd/);
    expect(service().sampleRate).toBe(24000);
  });

  it('splits text above 4096 characters into several requests at word boundaries', async () => {
    await withFake({ msPerCharacter: 1, chunkBytes: 48001 }, async (quick) => {
      const word = 'speech ';
      const text = word.repeat(1000).trim();
      const audio = concatInt16(await synthesizeAll(service({}, quick), text));
      const inputs = quick.requests.map((r) => (r.body as { input: string }).input);
      expect(inputs).toHaveLength(2);
      expect(inputs.every((input) => input.length <= 4096 && input.startsWith('speech') && input.endsWith('speech'))).toBe(true);
      expect(inputs.join(' ')).toBe(text);
      expect(audio).toEqual(concatInt16(inputs.map((input) => fakeSpeechSamples(input, { msPerCharacter: 1 }))));
    });
  });

  it('splitForSpeechInput prefers sentence ends and keeps short text whole', () => {
    expect(splitForSpeechInput('  Hello there.  ')).toEqual(['Hello there.']);
    expect(splitForSpeechInput('One two three. Four five six.', 20)).toEqual(['One two three.', 'Four five six.']);
    expect(splitForSpeechInput('One two. Three four five six.', 20)).toEqual(['One two. Three four', 'five six.']);
    expect(splitForSpeechInput('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(splitForSpeechInput('aaa😀bbb', 4)).toEqual(['aaa', '😀bb', 'b']);
  });
});

describe('OpenAITTSService: the audio stream', () => {
  it('reassembles samples split at odd byte offsets exactly, across seeds and tiny writes', async () => {
    for (const seed of [1, 2, 3]) {
      await withFake({ seed, chunkBytes: 7, chunkDelayMs: 0, msPerCharacter: 10 }, async (choppy) => {
        const chunks = await synthesizeAll(service({}, choppy), 'Hello, world.');
        const request = choppy.requests[0]!;
        expect(request.writes.length).toBeGreaterThan(100);
        expect(request.writes.slice(0, -1).every((size) => size % 2 === 1)).toBe(true);
        expect(chunks.length).toBeGreaterThan(1);
        expect(concatInt16(chunks)).toEqual(fakeSpeechSamples('Hello, world.', { msPerCharacter: 10 }));
      });
    }
  });

  it('yields the first audio while the server is still sending', async () => {
    await withFake({ chunkDelayMs: 5 }, async (slow) => {
      const iterator = service({}, slow).synthesize('A sentence long enough to take a while.', { contextId: 'c', signal: signal() });
      const first = await iterator[Symbol.asyncIterator]().next();
      expect((first.value as TTSChunk).type).toBe('audio');
      expect(slow.requests[0]?.outcome).toBeUndefined();
      expect(slow.requests[0]?.bytesSent).toBeLessThan(fakeSpeechSamples('A sentence long enough to take a while.').length * 2);
    });
  });

  it('an abort through the signal ends the iteration quietly and closes the request', async () => {
    await withFake({ chunkDelayMs: 5 }, async (slow) => {
      const controller = new AbortController();
      const received: Int16Array[] = [];
      const started = performance.now();
      for await (const chunk of service({}, slow).synthesize('Please hold while I look that up for you right now.', { contextId: 'c', signal: controller.signal })) {
        if (chunk.type === 'audio') received.push(chunk.audio);
        if (received.length === 2) controller.abort();
      }
      expect(performance.now() - started).toBeLessThan(1000);
      expect(received).toHaveLength(2);
      expect((await slow.settled(0)).outcome).toBe('client-closed');
    });
  });

  it('a consumer that stops early closes the request', async () => {
    await withFake({ chunkDelayMs: 5 }, async (slow) => {
      for await (const chunk of service({}, slow).synthesize('Please hold while I look that up for you right now.', { contextId: 'c', signal: signal() })) {
        expect(chunk.type).toBe('audio');
        break;
      }
      expect((await slow.settled(0)).outcome).toBe('client-closed');
    });
  });
});

describe('OpenAITTSService: failures', () => {
  it('a connection dropped mid-body is a retryable ServiceError after the audio received so far', async () => {
    fake.enqueueSpeech({ drop: true, afterBytes: 10001 });
    const received: Int16Array[] = [];
    const error = await synthesisError(service(), 'Hello there, caller.', received);
    expect(error.service).toBe('OpenAI');
    expect(error.code).toBe('connection-lost');
    expect(error.retryable).toBe(true);
    // 10001 bytes: 5000 whole samples; the half sample is dropped.
    expect(concatInt16(received)).toEqual(fakeSpeechSamples('Hello there, caller.').subarray(0, 5000));
  });

  it('a connection dropped before the answer is a retryable connection error', async () => {
    fake.enqueueSpeech({ drop: true });
    const error = await synthesisError(service());
    expect(error.message).toMatch(/^OpenAI: connection error/);
    expect(error.retryable).toBe(true);
  });

  it('429 is retryable with the wait the server asked for, and the client does not retry by itself', async () => {
    fake.enqueueSpeech({ error: 429, retryAfter: 3 });
    const error = await synthesisError(service());
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate-limited');
    expect(error.vendorCode).toBe('rate_limit_exceeded');
    expect(error.retryable).toBe(true);
    expect(error.retryAfterSecs).toBe(3);
    expect(fake.requests).toHaveLength(1);
  });

  it('500 is retryable; a bad voice (400) is not', async () => {
    fake.enqueueSpeech({ error: 500 });
    const server = await synthesisError(service());
    expect(server.status).toBe(500);
    expect(server.retryable).toBe(true);
    const bad = await synthesisError(service({ voice: 'robot' }));
    expect(bad.status).toBe(400);
    expect(bad.code).toBe('bad-request');
    expect(bad.vendorCode).toBe('invalid_value');
    expect(bad.retryable).toBe(false);
    expect(bad.message).toMatch(/^OpenAI: 400 Invalid value: 'robot'/);
  });

  it('a stream that stops sending fails after timeoutMs, and the request is closed', async () => {
    fake.enqueueSpeech({ stall: true, afterBytes: 4801 });
    const started = performance.now();
    const received: Int16Array[] = [];
    const error = await synthesisError(service({ timeoutMs: 150 }), 'Hello there.', received);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error.code).toBe('timeout');
    expect(error.retryable).toBe(true);
    expect(error.message).toBe('OpenAI: speech stream stalled: no audio for 150 ms');
    expect(concatInt16(received).length).toBe(2400);
    expect((await fake.settled(0)).outcome).toBe('client-closed');
  });

  it('a slow first byte beyond timeoutMs is a timeout', async () => {
    fake.enqueueSpeech({ firstByteDelayMs: 400 });
    const error = await synthesisError(service({ timeoutMs: 100 }));
    expect(error.code).toBe('timeout');
    // Cut by the service's own watchdog (on the call's clock), before the SDK's timeout.
    expect(error.message).toBe('OpenAI: speech stream stalled: no audio for 100 ms');
  });
});
