// FallbackSTTService with real vendor clients against the vendor fakes over real sockets: a streaming service
// (Deepgram) that loses its server in the middle of an utterance, one refused at once, a per-turn service (OpenAI)
// failing a turn, and the way back to the first service after its rest.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inputAudioFrame, makeFrame } from '../../../src/frames/index.js';
import { createLogger } from '../../../src/logging/index.js';
import type { STTService } from '../../../src/services/base/index.js';
import { DeepgramSTTService, type DeepgramSTTServiceOptions } from '../../../src/services/deepgram/index.js';
import { FallbackSTTService, type FallbackSTTOptions } from '../../../src/services/fallback/index.js';
import { OpenAISTTService } from '../../../src/services/openai/index.js';
import { startFakeDeepgram, type FakeDeepgram } from '../../../src/testing/fakes/deepgram.js';
import { startFakeOpenAIAudio, type FakeOpenAIAudio } from '../../../src/testing/fakes/openai-audio.js';
import { runPipeline, type PipelineRun } from '../../support/pipeline.js';
import { sleep, waitUntil } from '../../support/wait.js';

const KEY = 'dg-test-SECRET-0123456789';
const BAD_KEY = 'dg-bad-SECRET-9876543210';
const OPENAI_KEY = 'sk-test-SECRET-abcdefghij';
const RATE = 16000;

let primaryFake: FakeDeepgram;
let backupFake: FakeDeepgram;
beforeEach(async () => {
  primaryFake = await startFakeDeepgram({ rejectKey: BAD_KEY, interimIntervalMs: 300 });
  backupFake = await startFakeDeepgram({ interimIntervalMs: 300 });
});
afterEach(async () => {
  // A test may have closed one already (a server gone for good).
  await primaryFake.close().catch(() => undefined);
  await backupFake.close().catch(() => undefined);
});

/** Gives up reconnecting after three quick attempts (the default takes about 3 s). */
function deepgram(fake: FakeDeepgram, name: string, options: Partial<DeepgramSTTServiceOptions> = {}): DeepgramSTTService {
  return new DeepgramSTTService({ apiKey: KEY, baseUrl: fake.url, name, reconnect: { initialDelayMs: 20, maxDelayMs: 40, attemptsBeforeError: 3 }, ...options });
}

function tone(ms: number, amplitude = 6000): Int16Array {
  const out = new Int16Array(Math.round((ms * RATE) / 1000));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 250 * i) / RATE));
  return out;
}
const silence = (ms: number): Int16Array => new Int16Array(Math.round((ms * RATE) / 1000));
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Call extends PipelineRun {
  stt: FallbackSTTService;
  logs: string[];
  /** Sends audio in 20 ms frames, one per event-loop turn, as a phone line would (only faster). */
  audio(samples: Int16Array): Promise<void>;
  vad(type: 'user-started-speaking' | 'user-stopped-speaking'): Promise<void>;
  finals(): string[];
}

function call(services: STTService[], options: FallbackSTTOptions = {}): Call {
  const logs: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logs.push(line) } });
  const stt = new FallbackSTTService(services, { logger, ...options });
  const run = runPipeline(stt, { audioInSampleRate: RATE });
  return {
    ...run,
    stt,
    logs,
    audio: async (samples) => {
      for (let at = 0; at < samples.length; at += 320) {
        await run.task.queueFrame(inputAudioFrame(samples.slice(at, at + 320), RATE));
        await tick();
      }
    },
    vad: async (type) => {
      await run.task.queueFrame(makeFrame(type));
      await tick();
    },
    finals: () => run.collector.ofType('transcription').filter((t) => t.final).map((t) => t.text),
  };
}

async function utterance(c: Call, before: Int16Array, during?: () => Promise<void>, after: Int16Array = tone(400)): Promise<void> {
  await c.vad('user-started-speaking');
  await c.audio(before);
  await during?.();
  await c.audio(after);
  await c.audio(silence(200));
  await c.vad('user-stopped-speaking');
}

describe('FallbackSTTService with streaming services', () => {
  it('a server lost mid-utterance: the backup hears the unfinalised audio again and understands the sentence', async () => {
    primaryFake.scriptTranscripts('First question.', 'Second question.');
    backupFake.scriptTranscripts('Second question.', 'Third question.');
    const primary = deepgram(primaryFake, 'deepgram-primary');
    const backup = deepgram(backupFake, 'deepgram-backup');
    const c = call([primary, backup]);
    await c.audio(silence(200));
    await utterance(c, tone(800));
    await c.collector.waitFor((f) => f.type === 'transcription' && f.final);
    await c.audio(silence(300));

    // The server goes away for good half-way through the second sentence; the caller goes on talking.
    await utterance(c, tone(500), () => primaryFake.close(), tone(600));
    await c.collector.waitFor((f) => f.type === 'transcription' && f.final && f.text === 'Second question.');
    // The next sentence is heard by the backup directly.
    await c.audio(silence(300));
    await utterance(c, tone(700));
    await c.collector.waitFor((f) => f.type === 'transcription' && f.final && f.text === 'Third question.');
    await c.stop();

    expect(c.errors).toEqual([]);
    expect(c.finals()).toEqual(['First question.', 'Second question.', 'Third question.']);
    expect(c.stt.current).toBe(backup);
    // The backup heard, replayed then live, everything from the end of the first turn on: the whole second sentence,
    // none of the first.
    const callSecs = 0.2 + 1.4 + 0.3 + 1.3 + 0.3 + 1.3;
    const backupHeard = backupFake.listenSessions[0]!.audioSeconds;
    expect(backupHeard).toBeGreaterThan(callSecs - 1.9 - 0.05);
    expect(backupHeard).toBeLessThan(callSecs - 1.6 + 0.05);
    expect(c.logs.some((l) => l.includes('replaying caller audio to the next STT service'))).toBe(true);
    // Every frame of the call went on once, in order.
    expect(c.collector.ofType('input-audio').reduce((n, f) => n + f.audio.length, 0)).toBe(Math.round(callSecs * RATE));
    expect(c.collector.ofType('user-started-speaking')).toHaveLength(3);
    expect(c.collector.ofType('user-stopped-speaking')).toHaveLength(3);
    // One clear line names both services; no key anywhere.
    const switched = c.logs.filter((l) => l.includes('switching to'));
    expect(switched).toHaveLength(1);
    expect(switched[0]).toContain('deepgram-primary failed; switching to deepgram-backup');
    expect(switched[0]).toContain('Deepgram');
    expect(c.logs.join('\n')).not.toContain('SECRET');
  }, 20_000);

  it('a service refused at once (a bad key): the backup hears the call from its start', async () => {
    backupFake.scriptTranscripts('Hello there.');
    const primary = deepgram(primaryFake, 'deepgram-primary', { apiKey: BAD_KEY });
    const backup = deepgram(backupFake, 'deepgram-backup');
    const c = call([primary, backup]);
    await c.audio(silence(100));
    await utterance(c, tone(600));
    await c.collector.waitFor((f) => f.type === 'transcription' && f.final);
    await c.stop();
    expect(c.errors).toEqual([]);
    expect(c.finals()).toEqual(['Hello there.']);
    expect(primaryFake.requests.map((r) => r.status)).toEqual([401]);
    expect(backupFake.listenSessions).toHaveLength(1);
    expect(c.logs.join('\n')).toMatch(/deepgram-primary failed; switching to deepgram-backup/);
    expect(c.logs.join('\n')).not.toContain('SECRET');
  });

  it('with no service left, the error goes on upstream as usual', async () => {
    const only = deepgram(primaryFake, 'deepgram-only', { apiKey: BAD_KEY });
    const c = call([only]);
    await waitUntil(() => c.errors.length > 0, 3000);
    await c.stop();
    expect(c.errors).toHaveLength(1);
    expect(c.errors[0]!.error.message).toMatch(/^Deepgram: .*401/);
    expect(c.logs.join('\n')).toMatch(/deepgram-only failed; no fallback left/);
    expect(() => new FallbackSTTService([])).toThrow(/at least one/);
  });

  it('between turns after its rest, the first service takes over again (with a new stream)', async () => {
    primaryFake.scriptTranscripts('One.');
    backupFake.scriptTranscripts('Two.');
    const primary = deepgram(primaryFake, 'deepgram-primary');
    const backup = deepgram(backupFake, 'deepgram-backup');
    primaryFake.failNextConnections(503, 3, '/v1/listen');
    const c = call([primary, backup], { recoverAfterMs: 400 });
    await c.audio(silence(100));
    await utterance(c, tone(500));
    await c.collector.waitFor((f) => f.type === 'transcription' && f.final);
    expect(c.stt.current).toBe(backup);
    await sleep(450);
    await c.audio(silence(300));
    // The first turn after the rest is still the backup's: the switch back happens once a turn is over.
    backupFake.scriptTranscripts('Three.');
    await utterance(c, tone(500));
    await c.collector.waitFor((f) => f.type === 'transcription' && f.final && f.text === 'Three.');
    await c.audio(silence(100));
    expect(c.stt.current).toBe(primary);
    await utterance(c, tone(500));
    await c.collector.waitFor((f) => f.type === 'transcription' && f.final && f.text === 'One.');
    await c.stop();
    expect(c.errors).toEqual([]);
    expect(c.finals()).toEqual(['Two.', 'Three.', 'One.']);
    expect(primaryFake.requests.map((r) => r.status)).toEqual([503, 503, 503, 101]);
    expect(c.logs.join('\n')).toMatch(/deepgram-primary rested; switching back to it/);
  }, 15_000);
});

describe('FallbackSTTService with a per-turn service', () => {
  let openai: FakeOpenAIAudio;
  beforeEach(async () => {
    openai = await startFakeOpenAIAudio();
  });
  afterEach(async () => {
    await openai.close();
  });
  const whisper = (name: string): OpenAISTTService => new OpenAISTTService({ apiKey: OPENAI_KEY, baseURL: openai.baseURL, name });

  it('a turn the per-turn service could not transcribe is transcribed by the streaming backup', async () => {
    openai.enqueueTranscriptions({ error: 500 });
    backupFake.scriptTranscripts('Where is my parcel?');
    const c = call([whisper('openai-primary'), deepgram(backupFake, 'deepgram-backup')]);
    await c.audio(silence(300));
    await utterance(c, tone(800));
    await c.collector.waitFor((f) => f.type === 'transcription' && f.final);
    await c.stop();
    expect(c.errors).toEqual([]);
    expect(c.finals()).toEqual(['Where is my parcel?']);
    // The turn, with the audio before it, reached the backup.
    expect(backupFake.listenSessions[0]!.audioSeconds).toBeGreaterThan(1.4);
    expect(c.logs.join('\n')).toMatch(/openai-primary failed; switching to deepgram-backup/);
  });

  it('a streaming service lost mid-utterance: the per-turn backup transcribes the replayed turn', async () => {
    primaryFake.scriptTranscripts('Never heard.');
    openai.enqueueTranscriptions('I need a refund.');
    const c = call([deepgram(primaryFake, 'deepgram-primary'), whisper('openai-backup')]);
    await c.audio(silence(200));
    await utterance(c, tone(400), () => primaryFake.close(), tone(400));
    await c.collector.waitFor((f) => f.type === 'transcription' && f.final);
    await c.stop();
    expect(c.errors).toEqual([]);
    expect(c.finals()).toEqual(['I need a refund.']);
    const upload = openai.requests.find((r) => r.path === '/v1/audio/transcriptions');
    // The whole turn (1 s of speech and silence) and the pre-roll before it.
    expect(upload?.upload?.audio?.durationSecs).toBeGreaterThan(1.0);
  });
});
