import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { concatInt16 } from '../../../src/audio/index.js';
import { inputAudioFrame, makeFrame, type ErrorFrame } from '../../../src/frames/index.js';
import type { PipelineTask } from '../../../src/pipeline/index.js';
import { ServiceError } from '../../../src/services/base/index.js';
import { DeepgramSTTService, type DeepgramSTTServiceOptions } from '../../../src/services/deepgram/index.js';
import type { FrameCollector } from '../../../src/testing/frame-collector.js';
import { startFakeDeepgram, type FakeDeepgram, type FakeDeepgramOptions, type FakeDeepgramListenSession } from '../../../src/testing/fakes/deepgram.js';
import { synthesizeSpeech } from '../../../src/testing/speech.js';
import { metricsOf, runPipeline as runInPipeline } from '../../support/pipeline.js';
import { sleep, waitUntil } from '../../support/wait.js';

const KEY = 'dg-test-SECRET-0123456789';
const BAD_KEY = 'dg-bad-SECRET-9876543210';
const SENTENCE = 'I would like to check my order.';

let speech16k: Int16Array;
beforeAll(async () => {
  speech16k = await synthesizeSpeech(SENTENCE, { sampleRate: 16000 });
});

let fake: FakeDeepgram;
const fakeOptions: FakeDeepgramOptions = { rejectKey: BAD_KEY, interimIntervalMs: 300 };
beforeEach(async () => {
  fake = await startFakeDeepgram(fakeOptions);
});
afterEach(async () => {
  await fake.close();
});
async function restartFake(options: FakeDeepgramOptions): Promise<void> {
  await fake.close();
  fake = await startFakeDeepgram({ ...fakeOptions, ...options });
}

function service(options: Partial<DeepgramSTTServiceOptions> = {}): DeepgramSTTService {
  return new DeepgramSTTService({ apiKey: KEY, baseUrl: fake.url, ...options });
}

function tone(ms: number, rate: number, amplitude = 6000): Int16Array {
  const out = new Int16Array(Math.round((ms * rate) / 1000));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 250 * i) / rate));
  return out;
}
const silence = (ms: number, rate: number): Int16Array => new Int16Array(Math.round((ms * rate) / 1000));

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const until = (predicate: () => boolean, timeoutMs = 3000): Promise<void> => waitUntil(predicate, timeoutMs, 2);

interface Running {
  task: PipelineTask;
  collector: FrameCollector;
  errors: ErrorFrame[];
  running: Promise<void>;
  /** Seconds of caller audio sent so far: the call's clock. */
  clock(): number;
  /** Sends audio in 20 ms frames, one per event-loop turn (VAD frames are system frames and would overtake it). */
  send(audio: Int16Array): Promise<void>;
  vad(type: 'user-started-speaking' | 'user-stopped-speaking'): Promise<void>;
  stop(): Promise<void>;
}

function runPipeline(stt: DeepgramSTTService, audioInSampleRate = 16000): Running {
  const { task, collector, errors, running, stop } = runInPipeline(stt, { audioInSampleRate });
  const frameSamples = (audioInSampleRate * 20) / 1000;
  let sent = 0;
  return {
    task,
    collector,
    errors,
    running,
    clock: () => sent / audioInSampleRate,
    send: async (audio) => {
      for (let at = 0; at < audio.length; at += frameSamples) {
        const frame = audio.slice(at, at + frameSamples);
        sent += frame.length;
        await task.queueFrame(inputAudioFrame(frame, audioInSampleRate));
        await tick();
      }
    },
    vad: async (type) => {
      void task.queueFrame(makeFrame(type));
      await tick();
    },
    stop,
  };
}

const textsOf = (session: FakeDeepgramListenSession): unknown[] =>
  session.received.flatMap((f) => (f.kind === 'text' ? [(f.message as { type: string }).type] : []));
const sttUsageSeconds = (collector: FrameCollector): number =>
  metricsOf(collector.downstream).reduce((sum, m) => sum + (m.kind === 'stt-usage' ? m.audioSeconds : 0), 0);

describe('DeepgramSTTService in a pipeline', () => {
  it('streams the call, and turns interims and the Finalize answer into transcription frames with words', async () => {
    fake.scriptTranscripts(SENTENCE);
    const stt = service();
    const call = runPipeline(stt);
    await call.send(silence(400, 16000));
    await call.vad('user-started-speaking');
    await call.send(speech16k);
    await call.send(silence(200, 16000));
    await call.vad('user-stopped-speaking');
    await call.collector.waitFor((f) => f.type === 'transcription' && f.final);
    await call.stop();

    expect(call.errors).toEqual([]);
    const session = fake.listenSessions[0]!;
    expect(fake.listenSessions).toHaveLength(1);
    expect(session.request.auth).toEqual({ present: true, valid: true, scheme: 'token', viaSubprotocol: false });
    expect(session.request.query).toEqual({
      model: 'nova-3',
      language: 'en-US',
      encoding: 'linear16',
      sample_rate: '16000',
      channels: '1',
      interim_results: 'true',
      punctuate: 'true',
      smart_format: 'true',
      endpointing: '300',
      utterance_end_ms: '1000',
    });
    // Every sample of the call reached Deepgram, in order, as binary frames of whole samples.
    const sentAudio = concatInt16([silence(400, 16000), speech16k, silence(200, 16000)]);
    expect(session.audio()).toEqual(sentAudio);
    // Finalize right after the audio of the turn, CloseStream at the end.
    expect(textsOf(session)).toEqual(['Finalize', 'CloseStream']);
    const finalizeAt = session.received.findIndex((f) => f.kind === 'text');
    expect(session.received.slice(finalizeAt + 1).every((f) => f.kind === 'text')).toBe(true);
    expect(await session.whenClosed).toEqual({ code: 1000, reason: '', by: 'server' });

    const transcriptions = call.collector.ofType('transcription');
    const finals = transcriptions.filter((t) => t.final);
    const interims = transcriptions.filter((t) => !t.final);
    expect(interims.length).toBeGreaterThanOrEqual(2);
    expect(transcriptions.indexOf(interims[0]!)).toBeLessThan(transcriptions.indexOf(finals[0]!));
    expect(SENTENCE.startsWith(interims[0]!.text)).toBe(true);
    expect(finals.map(({ text, userId, language }) => ({ text, userId, language }))).toEqual([
      { text: SENTENCE, userId: 'caller', language: 'en-US' },
    ]);
    const words = finals[0]!.words!;
    expect(words.map((w) => w.word)).toEqual(['I', 'would', 'like', 'to', 'check', 'my', 'order.']);
    // Word times are where the speech is in the call: it starts at 0.4 s and lasts speech16k.length samples.
    const speechEnd = 0.4 + speech16k.length / 16000;
    expect(words[0]!.start).toBeGreaterThanOrEqual(0.39);
    expect(words[0]!.start).toBeLessThan(0.45);
    expect(words.at(-1)!.end).toBeLessThanOrEqual(speechEnd + 0.011);
    expect(words.every((w) => w.confidence !== undefined && w.confidence > 0.8)).toBe(true);

    const metrics = metricsOf(call.collector.downstream);
    // One TTFB: from VAD stop (Finalize) to the final transcript.
    const ttfb = metrics.filter((m) => m.kind === 'ttfb' && m.processor === stt.name);
    expect(ttfb).toHaveLength(1);
    expect(ttfb[0]!.kind === 'ttfb' && ttfb[0]!.valueMs).toBeLessThan(1000);
    expect(sttUsageSeconds(call.collector)).toBeCloseTo(sentAudio.length / 16000, 6);
    expect(metrics.find((m) => m.kind === 'stt-usage')).toMatchObject({ model: 'nova-3' });
  });

  it('resamples to its own rate and sends mu-law when asked', async () => {
    fake.scriptTranscripts('Yes.');
    const call = runPipeline(service({ sampleRate: 8000, encoding: 'mulaw', interimResults: false, model: 'nova-2-phonecall' }), 16000);
    await call.send(concatInt16([tone(600, 16000), silence(400, 16000)]));
    await call.collector.waitFor((f) => f.type === 'transcription');
    await call.stop();
    const session = fake.listenSessions[0]!;
    expect([session.encoding, session.sampleRate, session.model]).toEqual(['mulaw', 8000, 'nova-2-phonecall']);
    expect(session.request.query).not.toHaveProperty('utterance_end_ms');
    expect(session.audioSeconds).toBeCloseTo(1.0, 2);
    expect(call.collector.ofType('transcription').map((t) => [t.text, t.final])).toEqual([['Yes.', true]]);
  });

  it('takes SpeechStarted and UtteranceEnd in its stride, and reports the language Deepgram detected', async () => {
    fake.scriptTranscripts({ text: 'Hola, buenos días.', language: 'es' });
    const call = runPipeline(service({ language: 'multi', vadEvents: true }));
    await call.send(concatInt16([silence(200, 16000), tone(800, 16000), silence(1400, 16000)]));
    await until(() => fake.listenSessions[0]?.sent.some((m) => m.type === 'UtteranceEnd') === true);
    await call.stop();
    expect(fake.listenSessions[0]!.sent.map((m) => m.type).filter((t) => t !== 'Results')).toEqual([
      'SpeechStarted',
      'UtteranceEnd',
      'Metadata',
    ]);
    expect(call.errors).toEqual([]);
    const finals = call.collector.ofType('transcription').filter((t) => t.final);
    expect(finals.map(({ text, language }) => ({ text, language }))).toEqual([{ text: 'Hola, buenos días.', language: 'es' }]);
  });

  it('sends the tuning options as Deepgram query parameters', async () => {
    const stt = service({
      language: 'multi',
      endpointingMs: false,
      utteranceEndMs: false,
      vadEvents: true,
      keyterms: ['Piopiy', 'TeleCMI'],
      keywords: ['order:2'],
      profanityFilter: true,
      extraParams: { redact: ['pci', 'ssn'], diarize: true, punctuate: false },
    });
    const call = runPipeline(stt);
    await until(() => fake.listenSessions.length === 1);
    await call.stop();
    expect(fake.listenSessions[0]!.request.query).toMatchObject({
      language: 'multi',
      endpointing: 'false',
      vad_events: 'true',
      keyterm: ['Piopiy', 'TeleCMI'],
      keywords: 'order:2',
      profanity_filter: 'true',
      redact: ['pci', 'ssn'],
      diarize: 'true',
      punctuate: 'false',
    });
    expect(fake.listenSessions[0]!.request.query).not.toHaveProperty('utterance_end_ms');
  });

  it('ignores the empty finals Deepgram sends over silence', async () => {
    await restartFake({ finalIntervalMs: 200 });
    const call = runPipeline(service());
    await call.send(silence(1000, 16000));
    await until(() => fake.listenSessions[0]!.sent.filter((m) => m.type === 'Results').length >= 4);
    await call.stop();
    expect(call.collector.ofType('transcription')).toEqual([]);
  });

  it('sends KeepAlive only while no audio flows, so the server does not time out', async () => {
    await restartFake({ idleTimeoutMs: 150 });
    const call = runPipeline(service({ keepAliveIntervalMs: 50 }));
    await until(() => fake.listenSessions.length === 1);
    // 300 ms of audio at the pace of a live call: no KeepAlive needed.
    for (let i = 0; i < 15; i++) {
      await call.send(silence(20, 16000));
      await sleep(20);
    }
    const session = fake.listenSessions[0]!;
    expect(textsOf(session)).toEqual([]);
    // The caller is muted: nothing for 400 ms, longer than the server's idle timeout.
    await sleep(400);
    const keepAlives = session.messagesOfType('KeepAlive');
    expect(keepAlives.length).toBeGreaterThanOrEqual(4);
    expect(keepAlives.length).toBeLessThanOrEqual(9);
    expect(session.closed).toBeUndefined();
    await call.stop();
    expect(fake.listenSessions).toHaveLength(1);
    expect(call.errors).toEqual([]);
  });

  it('at the end, CloseStream brings the last words of the call before the EndFrame', async () => {
    fake.scriptTranscripts('Thank you, goodbye.');
    const call = runPipeline(service());
    await call.send(tone(700, 16000));
    await call.stop();
    const types = call.collector.types();
    const final = call.collector.ofType('transcription').find((t) => t.final);
    expect(final?.text).toBe('Thank you, goodbye.');
    expect(types.indexOf('transcription')).toBeLessThan(types.indexOf('end'));
    const session = fake.listenSessions[0]!;
    expect(textsOf(session)).toEqual(['CloseStream']);
    expect(session.sent.at(-1)?.type).toBe('Metadata');
    expect((await session.whenClosed).code).toBe(1000);
  });

  it('on cancel, sends CloseStream and closes at once', async () => {
    const call = runPipeline(service());
    await call.send(tone(200, 16000));
    await until(() => fake.listenSessions[0]?.audioSeconds === 0.2);
    const started = performance.now();
    call.task.cancel('caller hung up');
    await call.running;
    const close = await fake.listenSessions[0]!.whenClosed;
    expect(performance.now() - started).toBeLessThan(500);
    expect(textsOf(fake.listenSessions[0]!)).toEqual(['CloseStream']);
    expect(close.code).toBe(1000);
  });
});

describe('DeepgramSTTService reconnection', () => {
  it('reconnects after a dropped socket and transcribes the utterance cut by the drop, on the call clock', async () => {
    fake.scriptTranscripts('First question.', 'Second question.');
    const call = runPipeline(service());
    await call.send(silence(200, 16000));
    await call.vad('user-started-speaking');
    await call.send(tone(800, 16000));
    await call.send(silence(200, 16000));
    await call.vad('user-stopped-speaking');
    await call.collector.waitFor((f) => f.type === 'transcription' && f.final);
    await call.send(silence(300, 16000));

    const secondStart = call.clock();
    await call.vad('user-started-speaking');
    await call.send(tone(500, 16000));
    fake.dropConnections('/v1/listen');
    // The rest of the utterance is spoken while the service reconnects.
    await call.send(tone(500, 16000));
    await call.send(silence(200, 16000));
    await call.vad('user-stopped-speaking');
    await call.collector.waitFor((f) => f.type === 'transcription' && f.final && f.text === 'Second question.');
    await call.stop();

    expect(call.errors).toEqual([]);
    expect(fake.listenSessions).toHaveLength(2);
    expect(fake.listenSessions[0]!.closed?.by).toBe('dropped');
    const finals = call.collector.ofType('transcription').filter((t) => t.final);
    expect(finals.map((t) => t.text)).toEqual(['First question.', 'Second question.']);
    const words = finals[1]!.words!;
    // The new socket's times start at 0; the service puts them back where the speech is in the call.
    expect(words[0]!.start).toBeGreaterThanOrEqual(secondStart - 0.011);
    expect(words[0]!.start).toBeLessThan(secondStart + 0.05);
    expect(words.at(-1)!.end).toBeLessThanOrEqual(secondStart + 1.011);
    // The replay starts after the audio the first socket had finalized, and holds the whole second utterance.
    const replayed = fake.listenSessions[1]!.audioSeconds;
    expect(replayed).toBeGreaterThan(1.2);
    expect(replayed).toBeLessThan(call.clock() - 1.0);
    expect(textsOf(fake.listenSessions[1]!)).toEqual(['Finalize', 'CloseStream']);
  });

  it('reconnects after an in-stream close (1011 NET-0000)', async () => {
    fake.scriptTranscripts('Hello again.');
    const call = runPipeline(service());
    await until(() => fake.listenSessions.length === 1);
    fake.closeStreams(1011, 'NET-0000: no transcript produced in time');
    await until(() => fake.listenSessions.length === 2);
    await call.send(concatInt16([tone(500, 16000), silence(400, 16000)]));
    await call.collector.waitFor((f) => f.type === 'transcription' && f.final);
    await call.stop();
    expect(call.errors).toEqual([]);
    expect(call.collector.ofType('transcription').at(-1)?.text).toBe('Hello again.');
  });

  it('retries a 429 handshake without reporting it', async () => {
    fake.failNextConnections(429, 2, '/v1/listen');
    fake.scriptTranscripts('Still here.');
    const call = runPipeline(service({ reconnect: { initialDelayMs: 5 } }));
    await call.send(concatInt16([tone(500, 16000), silence(400, 16000)]));
    await call.collector.waitFor((f) => f.type === 'transcription' && f.final);
    await call.stop();
    expect(fake.requests.map((r) => r.status)).toEqual([429, 429, 101]);
    expect(call.errors).toEqual([]);
    // The audio spoken before the socket opened was kept and sent.
    expect(fake.listenSessions[0]!.audioSeconds).toBeCloseTo(0.9, 2);
  });

  it('reports a non-fatal error after 5 failed attempts, and keeps trying', async () => {
    fake.failNextConnections(503, 6, '/v1/listen');
    const call = runPipeline(service({ reconnect: { initialDelayMs: 2, maxDelayMs: 5, slowDelayMs: 20 } }));
    await until(() => fake.listenSessions.length === 1);
    await call.stop();
    expect(fake.requests.map((r) => r.status)).toEqual([503, 503, 503, 503, 503, 503, 101]);
    expect(call.errors).toHaveLength(1);
    const error = call.errors[0]!;
    expect(error.fatal).toBe(false);
    expect(error.error).toBeInstanceOf(ServiceError);
    expect(error.error).toMatchObject({ service: 'Deepgram', status: 503, code: 'server', vendorCode: 'SERVICE_UNAVAILABLE', retryable: true });
    expect(error.error.message).toContain('5 attempts');
  });
});

describe('DeepgramSTTService failures', () => {
  it('a refused key is one clear, non-retryable error naming Deepgram, without the key, and no retry loop', async () => {
    const call = runPipeline(service({ apiKey: BAD_KEY, reconnect: { initialDelayMs: 1 } }));
    await until(() => call.errors.length === 1);
    await call.send(tone(100, 16000));
    await sleep(100);
    await call.stop();
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.status).toBe(401);
    expect(call.errors).toHaveLength(1);
    const error = call.errors[0]!.error as ServiceError;
    expect(error).toBeInstanceOf(ServiceError);
    expect(error.service).toBe('Deepgram');
    expect(error.status).toBe(401);
    expect(error.code).toBe('auth');
    expect(error.vendorCode).toBe('INVALID_AUTH');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/^Deepgram: .*401.*Invalid credentials/);
    expect(error.message).not.toContain(BAD_KEY);
    expect(JSON.stringify(call.errors)).not.toContain('SECRET');
  });

  it('a bad parameter (400) is reported once and not retried', async () => {
    const call = runPipeline(service({ extraParams: { channels: 'two' } }));
    await until(() => call.errors.length === 1);
    await sleep(50);
    await call.stop();
    expect(fake.requests).toHaveLength(1);
    expect(call.errors[0]!.error).toMatchObject({ service: 'Deepgram', status: 400, retryable: false });
  });

  it('needs an API key', () => {
    expect(() => new DeepgramSTTService({ apiKey: '' })).toThrow(TypeError);
    expect(() => new DeepgramSTTService({ apiKey: '' })).toThrow(/DeepgramSTTService.*DEEPGRAM_API_KEY/);
    expect(() => new DeepgramSTTService({ apiKey: KEY, endpointingMs: -1 })).toThrow(RangeError);
  });
});
