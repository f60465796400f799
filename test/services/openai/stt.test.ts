import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { concatInt16, rms } from '../../../src/audio/index.js';
import { inputAudioFrame, makeFrame, type ErrorFrame } from '../../../src/frames/index.js';
import type { PipelineTask } from '../../../src/pipeline/index.js';
import { ServiceError } from '../../../src/services/base/index.js';
import { OpenAISTTService, type OpenAISTTServiceOptions } from '../../../src/services/openai/stt.js';
import type { FrameCollector } from '../../../src/testing/frame-collector.js';
import { startFakeOpenAIAudio, type FakeOpenAIAudio } from '../../../src/testing/fakes/openai-audio.js';
import { synthesizeSpeech } from '../../../src/testing/speech.js';
import { metricsOf, runPipeline as runInPipeline } from '../../support/pipeline.js';

const KEY = 'sk-test-SECRET123456';
const BAD_KEY = 'sk-bad-key-0123456789abcdef';

let speech16k: Int16Array;
let speech8k: Int16Array;
beforeAll(async () => {
  speech16k = await synthesizeSpeech('I would like to check my order.', { sampleRate: 16000 });
  speech8k = await synthesizeSpeech('I would like to check my order.', { sampleRate: 8000 });
});

let fake: FakeOpenAIAudio;
beforeEach(async () => {
  fake = await startFakeOpenAIAudio({ rejectKey: BAD_KEY });
});
afterEach(async () => {
  await fake.close();
});

function service(options: Partial<OpenAISTTServiceOptions> = {}): OpenAISTTService {
  return new OpenAISTTService({ apiKey: KEY, baseURL: fake.baseURL, ...options });
}

/** Quiet background noise (not digital silence), so that the pre-roll in the upload can be told apart. */
function murmur(ms: number, sampleRate: number): Int16Array {
  const samples = new Int16Array(Math.round((ms * sampleRate) / 1000));
  for (let i = 0; i < samples.length; i++) samples[i] = ((i * 7919) % 201) - 100;
  return samples;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Running {
  task: PipelineTask;
  collector: FrameCollector;
  errors: ErrorFrame[];
  running: Promise<void>;
  /** Sends audio in 20 ms frames, then VAD start, the speech, VAD stop, as an input transport and VAD would. */
  turn: (before: Int16Array, speech: Int16Array) => Promise<void>;
  stop: () => Promise<void>;
}

function runPipeline(stt: OpenAISTTService, audioInSampleRate = 16000): Running {
  const { task, collector, errors, running, stop } = runInPipeline(stt, { audioInSampleRate });
  const frameSamples = (audioInSampleRate * 20) / 1000;
  // One frame per event-loop turn: VAD frames are system frames and would overtake audio still queued.
  const send = async (audio: Int16Array): Promise<void> => {
    for (let at = 0; at < audio.length; at += frameSamples) {
      await task.queueFrame(inputAudioFrame(audio.slice(at, at + frameSamples), audioInSampleRate));
      await tick();
    }
  };
  return {
    task,
    collector,
    errors,
    running,
    turn: async (before, speech) => {
      await send(before);
      void task.queueFrame(makeFrame('user-started-speaking'));
      await tick();
      await send(speech);
      void task.queueFrame(makeFrame('user-stopped-speaking'));
      await tick();
    },
    stop,
  };
}

describe('OpenAISTTService in a pipeline', () => {
  it('uploads one WAV per turn (300 ms pre-roll + speech) and pushes one final transcription', async () => {
    fake.scriptTranscripts(['I would like to check my order.']);
    const stt = service({ language: 'en', prompt: 'Acme order numbers' });
    const { collector, errors, turn, stop } = runPipeline(stt);
    const before = murmur(600, 16000);
    await turn(before, speech16k);
    await collector.waitFor((f) => f.type === 'transcription');
    await stop();

    expect(errors).toEqual([]);
    const transcriptions = collector.ofType('transcription');
    expect(transcriptions.map(({ text, final, userId, language }) => ({ text, final, userId, language }))).toEqual([
      { text: 'I would like to check my order.', final: true, userId: 'caller', language: 'en' },
    ]);
    expect(fake.requests).toHaveLength(1);
    const request = fake.requests[0]!;
    expect(request.path).toBe('/v1/audio/transcriptions');
    expect(request.auth).toEqual({ present: true, valid: true });
    expect(request.fields).toEqual({ model: 'gpt-4o-mini-transcribe', response_format: 'json', language: 'en', prompt: 'Acme order numbers' });
    expect(request.upload?.filename).toBe('audio.wav');
    expect(request.upload?.contentType).toBe('audio/wav');
    const audio = request.upload!.audio!;
    expect(audio.sampleRate).toBe(16000);
    expect(audio.channels).toBe(1);
    // Exactly the last 300 ms before VAD start, then the whole turn.
    const expected = concatInt16([before.subarray(before.length - 4800), speech16k]);
    expect(audio.samples).toEqual(expected);
    expect(audio.durationSecs).toBeCloseTo(0.3 + speech16k.length / 16000, 6);

    // Caller audio still flows on, and usage is counted once, for the uploaded seconds.
    const inputFrames = collector.ofType('input-audio');
    expect(inputFrames.reduce((n, f) => n + f.audio.length, 0)).toBe(before.length + speech16k.length);
    const usage = metricsOf(collector.downstream).filter((m) => m.kind === 'stt-usage');
    expect(usage).toEqual([{ kind: 'stt-usage', processor: stt.name, model: 'gpt-4o-mini-transcribe', audioSeconds: expected.length / 16000 }]);
    expect(metricsOf(collector.downstream).filter((m) => m.kind === 'ttfb')).toHaveLength(1);
  });

  it('sends one request per turn, each with only its own audio', async () => {
    fake.scriptTranscripts(['First turn.', 'Second turn.']);
    const { collector, errors, turn, stop } = runPipeline(service());
    const half = speech16k.subarray(0, 16000);
    await turn(murmur(400, 16000), speech16k);
    await collector.waitFor((f) => f.type === 'transcription');
    await turn(murmur(400, 16000), half);
    await collector.waitFor((f) => f.type === 'transcription' && f.text === 'Second turn.');
    await stop();
    expect(errors).toEqual([]);
    expect(collector.ofType('transcription').map((f) => f.text)).toEqual(['First turn.', 'Second turn.']);
    expect(collector.ofType('transcription')[0]?.language).toBeUndefined();
    expect(fake.requests.map((r) => r.upload?.audio?.samples.length)).toEqual([4800 + speech16k.length, 4800 + 16000]);
  });

  it('resamples 8 kHz caller audio to the 16 kHz it uploads', async () => {
    fake.scriptTranscripts(['Check my order.']);
    const { collector, errors, turn, stop } = runPipeline(service(), 8000);
    await turn(murmur(600, 8000), speech8k);
    await collector.waitFor((f) => f.type === 'transcription');
    await stop();
    expect(errors).toEqual([]);
    const audio = fake.requests[0]!.upload!.audio!;
    expect(audio.sampleRate).toBe(16000);
    // The streaming resampler holds back a few samples, so the length matches to within a couple of milliseconds.
    expect(Math.abs(audio.durationSecs - (0.3 + speech8k.length / 8000))).toBeLessThan(0.005);
    // The speech is there at full level, not silence or noise.
    const speechPart = audio.samples.subarray(4800);
    expect(Math.abs(rms(speechPart) - rms(speech8k)) / rms(speech8k)).toBeLessThan(0.1);
    expect(collector.ofType('transcription').map((f) => f.text)).toEqual(['Check my order.']);
  });

  it('uploads at 8 kHz, untouched, when asked to', async () => {
    const { collector, turn, stop } = runPipeline(service({ sampleRate: 8000, model: 'whisper-1', temperature: 0.2 }), 8000);
    const before = murmur(400, 8000);
    await turn(before, speech8k);
    await collector.waitFor((f) => f.type === 'transcription');
    await stop();
    const request = fake.requests[0]!;
    expect(request.fields).toEqual({ model: 'whisper-1', response_format: 'json', temperature: '0.2' });
    expect(request.upload?.audio?.sampleRate).toBe(8000);
    expect(request.upload?.audio?.samples).toEqual(concatInt16([before.subarray(before.length - 2400), speech8k]));
    // The fake's default answer names the duration it decoded.
    const seconds = ((2400 + speech8k.length) / 8000).toFixed(2);
    expect(collector.ofType('transcription')[0]?.text).toBe(`fake transcript of ${seconds} seconds of audio`);
  });

  it('a wrong key becomes an error frame naming OpenAI, without the key, and no transcription', async () => {
    const stt = service({ apiKey: BAD_KEY });
    const { collector, errors, turn, stop } = runPipeline(stt);
    await turn(murmur(300, 16000), speech16k);
    await waitUntil(() => errors.length > 0);
    await stop();
    expect(errors).toHaveLength(1);
    const error = errors[0]!.error as ServiceError;
    expect(error).toBeInstanceOf(ServiceError);
    expect(error.message).toMatch(/^OpenAI: 401 Incorrect API key provided: \[redacted\]/);
    expect(error.message).not.toContain(BAD_KEY);
    expect(error.message).not.toContain(BAD_KEY.slice(-4));
    expect(error.status).toBe(401);
    expect(error.code).toBe('auth');
    expect(error.vendorCode).toBe('invalid_api_key');
    expect(error.retryable).toBe(false);
    expect(errors[0]!.fatal).toBe(false);
    expect(errors[0]!.processor).toBe(stt.name);
    expect(collector.ofType('transcription')).toEqual([]);
  });

  it('a failed turn is reported and the next turn works', async () => {
    fake.enqueueTranscriptions({ error: 500 }, 'Second try.');
    const { collector, errors, turn, stop } = runPipeline(service());
    await turn(murmur(300, 16000), speech16k);
    await waitUntil(() => errors.length > 0);
    await turn(murmur(300, 16000), speech16k);
    await collector.waitFor((f) => f.type === 'transcription');
    await stop();
    expect(errors).toHaveLength(1);
    expect((errors[0]!.error as ServiceError).status).toBe(500);
    expect((errors[0]!.error as ServiceError).retryable).toBe(true);
    expect(collector.ofType('transcription').map((f) => f.text)).toEqual(['Second try.']);
    expect(fake.requests).toHaveLength(2);
  });

  it('cancelling the call aborts a transcription in flight, without an error', async () => {
    fake.enqueueTranscriptions({ stall: true });
    const { task, collector, errors, running, turn } = runPipeline(service());
    await turn(murmur(300, 16000), speech16k);
    await waitUntil(() => fake.requests.length === 1 && fake.requests[0]!.upload !== undefined);
    const started = performance.now();
    task.cancel('caller hung up');
    await running;
    expect((await fake.settled(0)).outcome).toBe('client-closed');
    expect(performance.now() - started).toBeLessThan(500);
    expect(errors).toEqual([]);
    expect(collector.ofType('transcription')).toEqual([]);
  });
});

describe('OpenAISTTService: failures and edge cases (direct)', () => {
  /** Runs one turn of `audio` through the service's upload step, as the base does on VAD stop. */
  async function transcribeDirect(stt: OpenAISTTService, audio: Int16Array, rate = 16000): Promise<string> {
    return (stt as unknown as { transcribe(a: Int16Array, r: number): Promise<string> }).transcribe(audio, rate);
  }

  async function failure(stt: OpenAISTTService): Promise<ServiceError> {
    try {
      await transcribeDirect(stt, speech16k);
    } catch (err) {
      expect(err).toBeInstanceOf(ServiceError);
      return err as ServiceError;
    }
    throw new Error('expected the transcription to fail');
  }

  it('429 is retryable with the server wait, and the client does not retry by itself', async () => {
    fake.enqueueTranscriptions({ error: 429, retryAfter: 2 });
    const error = await failure(service());
    expect(error.service).toBe('OpenAI');
    expect(error.status).toBe(429);
    expect(error.retryAfterSecs).toBe(2);
    expect(error.retryable).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });

  it('a dropped connection is a retryable connection error', async () => {
    fake.enqueueTranscriptions({ drop: true });
    const error = await failure(service());
    expect(error.code).toBe('connection-failed');
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/^OpenAI: connection error/);
  });

  it('a server that does not answer fails after timeoutMs and the request is closed', async () => {
    fake.enqueueTranscriptions({ stall: true });
    const started = performance.now();
    const error = await failure(service({ timeoutMs: 150 }));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error.message).toBe('OpenAI: no transcript within 150 ms');
    expect(error.code).toBe('timeout');
    expect((await fake.settled(0)).outcome).toBe('client-closed');
  });

  it('an unknown model is a non-retryable 404', async () => {
    const error = await failure(service({ model: 'whisper-9' }));
    expect(error.status).toBe(404);
    expect(error.code).toBe('bad-request');
    expect(error.vendorCode).toBe('model_not_found');
    expect(error.retryable).toBe(false);
  });

  it('skips turns shorter than 0.1 s (the API refuses them) and trims the transcript', async () => {
    expect(await transcribeDirect(service(), speech16k.subarray(0, 1500))).toBe('');
    expect(fake.requests).toHaveLength(0);
    fake.scriptTranscripts(['  padded text \n']);
    expect(await transcribeDirect(service(), speech16k.subarray(0, 1600))).toBe('padded text');
    expect(fake.requests[0]?.upload?.audio?.durationSecs).toBe(0.1);
  });

  it('pushes no transcription for an empty transcript', async () => {
    fake.scriptTranscripts(['']);
    const { collector, errors, turn, stop } = runPipeline(service());
    await turn(murmur(300, 16000), speech16k);
    await waitUntil(() => metricsOf(collector.downstream).some((m) => m.kind === 'stt-usage'));
    await stop();
    expect(errors).toEqual([]);
    expect(collector.ofType('transcription')).toEqual([]);
  });

  it('rejects a missing key and a bad temperature at construction', () => {
    expect(() => new OpenAISTTService({ apiKey: ' ' })).toThrow(new TypeError('OpenAISTTService: apiKey is required (e.g. { apiKey: process.env.OPENAI_API_KEY })'));
    expect(() => service({ temperature: 1.5 })).toThrow(RangeError);
    expect(service().model).toBe('gpt-4o-mini-transcribe');
  });
});

/** Polls `condition` every few milliseconds, failing after a second. */
async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = performance.now() + 1000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met within 1 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
