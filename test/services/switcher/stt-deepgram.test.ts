// STTSwitcher with a streaming vendor (Deepgram clients against two Deepgram fakes over real sockets, real time):
// a switch asked for mid-sentence waits for the sentence's final transcript; the new service connects while the
// caller goes on and hears all of the next sentence; switching back restarts the first service.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { inputAudioFrame, makeFrame } from '../../../src/frames/index.js';
import { silentLogger } from '../../../src/logging/index.js';
import { DeepgramSTTService } from '../../../src/services/deepgram/index.js';
import { STTSwitcher } from '../../../src/services/switcher/index.js';
import { startFakeDeepgram, type FakeDeepgram } from '../../../src/testing/fakes/deepgram.js';
import { runPipeline } from '../../support/pipeline.js';

const RATE = 16000;
let englishFake: FakeDeepgram;
let hindiFake: FakeDeepgram;
beforeEach(async () => {
  englishFake = await startFakeDeepgram({ interimIntervalMs: 300 });
  hindiFake = await startFakeDeepgram({ interimIntervalMs: 300 });
});
afterEach(async () => {
  await englishFake.close();
  await hindiFake.close();
});

function tone(ms: number): Int16Array {
  const out = new Int16Array(Math.round((ms * RATE) / 1000));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(6000 * Math.sin((2 * Math.PI * 250 * i) / RATE));
  return out;
}
const silence = (ms: number): Int16Array => new Int16Array(Math.round((ms * RATE) / 1000));
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

it('switches between two streaming STTs at turn boundaries without losing caller audio', async () => {
  englishFake.scriptTranscripts('First sentence.', 'Second sentence.', 'Fourth sentence.');
  hindiFake.scriptTranscripts('Teesra vaakya.');
  const deepgram = (fake: FakeDeepgram, name: string): DeepgramSTTService => new DeepgramSTTService({ apiKey: 'dg-test-key', baseUrl: fake.url, name });
  const stt = new STTSwitcher({ english: deepgram(englishFake, 'dg-en'), hindi: deepgram(hindiFake, 'dg-hi') }, { logger: silentLogger });
  const run = runPipeline(stt, { audioInSampleRate: RATE });
  const audio = async (samples: Int16Array): Promise<void> => {
    for (let at = 0; at < samples.length; at += 320) {
      await run.task.queueFrame(inputAudioFrame(samples.slice(at, at + 320), RATE));
      await tick();
    }
  };
  const vad = async (type: 'user-started-speaking' | 'user-stopped-speaking'): Promise<void> => {
    await run.task.queueFrame(makeFrame(type));
    await tick();
  };
  const utterance = async (speech: Int16Array, during?: () => void): Promise<void> => {
    await vad('user-started-speaking');
    await audio(speech.subarray(0, speech.length / 2));
    during?.();
    await audio(speech.subarray(speech.length / 2));
    await audio(silence(200));
    await vad('user-stopped-speaking');
  };
  const finals = (): string[] => run.collector.ofType('transcription').filter((t) => t.final).map((t) => t.text);
  const final = (text: string) => run.collector.waitFor((f) => f.type === 'transcription' && f.final && f.text === text);

  await audio(silence(200));
  await utterance(tone(800));
  await final('First sentence.');
  await audio(silence(300));
  // Asked for in the middle of a sentence: the sentence stays with the English service.
  await utterance(tone(1000), () => stt.switchTo('hindi'));
  await final('Second sentence.');
  expect(stt.choice).toBe('hindi');
  const englishHeardBefore = englishFake.listenSessions[0]!.audioSeconds;
  // The caller speaks again at once: the Hindi service connects meanwhile and hears the whole sentence.
  await utterance(tone(1200));
  await final('Teesra vaakya.');
  expect(stt.current?.name).toBe('dg-hi');
  expect(hindiFake.listenSessions).toHaveLength(1);
  expect(hindiFake.listenSessions[0]!.audioSeconds).toBeGreaterThanOrEqual(1.2 + 0.2);
  // Between turns a switch is immediate; the English service starts again (a new stream) for the next sentence.
  await audio(silence(300));
  stt.switchTo('english');
  expect(stt.current?.name).toBe('dg-en');
  await utterance(tone(900));
  await final('Fourth sentence.');
  await run.stop();

  expect(run.errors).toEqual([]);
  expect(finals()).toEqual(['First sentence.', 'Second sentence.', 'Teesra vaakya.', 'Fourth sentence.']);
  expect(englishFake.listenSessions).toHaveLength(2);
  expect(englishFake.listenSessions[0]!.audioSeconds).toBeLessThanOrEqual(englishHeardBefore + 0.3);
  expect(englishFake.listenSessions[1]!.audioSeconds).toBeGreaterThanOrEqual(0.9 + 0.2);
}, 30_000);
