import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { SileroVADAnalyzer, defaultSileroModelPath, type SileroSampleRate } from '../../../src/audio/vad/index.js';
import { sileroBatchStats } from '../../../src/audio/vad/silero.js';
import { SileroBatcher, SileroStream, type SileroSession } from '../../../src/audio/vad/silero-batch.js';
import type { OrtSession } from '../../../src/audio/vad/onnx-types.js';
import { sileroRuntime, type SileroRuntime } from '../../../src/audio/vad/silero-runtime.js';
import { concatAudio, silence, synthesizeSpeech } from '../../../src/testing/speech.js';
import { ConfidenceProbe } from '../../support/silero-probe.js';

const RATES: readonly SileroSampleRate[] = [16000, 8000];
/** Batched and unbatched runs do the same arithmetic per row; only the summation order inside a kernel may vary. */
const TOLERANCE = 1e-6;

function maxDifference(a: readonly number[], b: readonly number[]): number {
  expect(a).toHaveLength(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Feeds `audio` to a fresh analyzer in 20 ms chunks, one after another, and returns its confidences. */
async function alone(audio: Int16Array, rate: SileroSampleRate, maxBatchSize = 1): Promise<number[]> {
  const vad = new ConfidenceProbe({ sampleRate: rate, maxBatchSize });
  const chunk = rate / 50;
  for (let i = 0; i < audio.length; i += chunk) await vad.analyze(audio.subarray(i, i + chunk));
  return vad.confidences;
}

/** Feeds every analyzer its audio in 20 ms chunks, all of them in the same turn, as calls' audio arrives. */
async function together(vads: readonly SileroVADAnalyzer[], audios: readonly Int16Array[]): Promise<void> {
  const chunk = vads[0]!.sampleRate / 50;
  const longest = Math.max(...audios.map((audio) => audio.length));
  for (let i = 0; i < longest; i += chunk) {
    await Promise.all(vads.map((vad, n) => vad.analyze(audios[n]!.subarray(i, i + chunk))));
  }
}

describe.each(RATES)('batched Silero inference at %i Hz', (rate) => {
  let speech: Int16Array;
  /** Different audio per call: the speech rotated by a different offset, between silences. */
  let audios: Int16Array[];

  beforeAll(async () => {
    speech = await synthesizeSpeech('I want to talk to a human about my order please', { sampleRate: rate });
    audios = Array.from({ length: 8 }, (_, n) => {
      const cut = Math.floor((speech.length * n) / 8);
      return concatAudio(silence(200 + 100 * n, rate), speech.subarray(cut), speech.subarray(0, cut), silence(300, rate));
    });
  });

  it('gives each call the probabilities it gets alone (to 1e-6), in batches of all calls', async () => {
    const expected = await Promise.all(audios.map((audio) => alone(audio, rate)));
    const vads = audios.map(() => new ConfidenceProbe({ sampleRate: rate, maxBatchSize: 8 }));
    await together(vads, audios);
    for (let n = 0; n < vads.length; n++) {
      expect(maxDifference(vads[n]!.confidences, expected[n]!)).toBeLessThan(TOLERANCE);
      // Real speech, not silence only: the comparison covers confident windows.
      expect(Math.max(...vads[n]!.confidences)).toBeGreaterThan(0.9);
    }
    const stats = await sileroBatchStats(defaultSileroModelPath(), rate, 8);
    expect(stats?.largestBatch).toBe(8);
  });

  it('keeps each call isolated when another resets while their windows are in flight', async () => {
    const [audioA, audioB] = [audios[1]!, audios[5]!];
    const expectedA = await alone(audioA, rate);
    const expectedB = await alone(audioB, rate);
    const chunk = rate / 50;
    const half = Math.floor(audioA.length / chunk / 2) * chunk;
    // The reset lands after 0..5 event-loop turns: before A's window is submitted, while it waits for its batch,
    // while the batch runs, and between its windows.
    for (let turns = 0; turns <= 5; turns++) {
      const a = new ConfidenceProbe({ sampleRate: rate });
      const b = new ConfidenceProbe({ sampleRate: rate });
      await together([a, b], [audioA.subarray(0, half), audioB.subarray(0, half)]);
      const pendingA = a.analyze(audioA.subarray(half, half + 4 * chunk));
      const pendingB = b.analyze(audioB.subarray(half, half + 4 * chunk));
      for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve));
      a.reset();
      await Promise.all([pendingA, pendingB]);
      expect(a.state).toBe('quiet');
      const resetAt = a.confidences.length;
      await together([a, b], [audioA, audioB.subarray(half + 4 * chunk)]);
      expect(maxDifference(b.confidences, expectedB)).toBeLessThan(TOLERANCE);
      // After the reset A gives exactly what a new analyzer gives on the same audio.
      expect(maxDifference(a.confidences.slice(resetAt), expectedA)).toBeLessThan(TOLERANCE);
    }
  });
});

describe('batched Silero inference with many calls', () => {
  it('runs 100 concurrent analyzers in batches of at most maxBatchSize, each matching its solo run', async () => {
    const rate = 16000;
    const speech = await synthesizeSpeech('hello there', { sampleRate: rate });
    const calls = 100;
    const audios = Array.from({ length: calls }, (_, n) =>
      concatAudio(silence(40 * (n % 10), rate), speech, silence(1200, rate)).subarray(0, rate * 1.2),
    );
    const vads = audios.map(() => new ConfidenceProbe({ sampleRate: rate, maxBatchSize: 32 }));
    const statsBefore = (await sileroBatchStats(defaultSileroModelPath(), rate, 32)) ?? { batches: 0, windows: 0 };
    await together(vads, audios);
    const stats = (await sileroBatchStats(defaultSileroModelPath(), rate, 32))!;
    expect(stats.largestBatch).toBe(32);
    // 100 windows at a time run as 4 batches (32 + 32 + 32 + 4), never more than 32 each.
    const windows = stats.windows - statsBefore.windows;
    expect(windows).toBe(calls * Math.floor((rate * 1.2) / 512));
    expect(windows / (stats.batches - statsBefore.batches)).toBe(25);
    for (const n of [0, 37, 99]) {
      expect(maxDifference(vads[n]!.confidences, await alone(audios[n]!, rate))).toBeLessThan(TOLERANCE);
    }
  });
});

describe('SileroBatcher', () => {
  const rate = 16000;
  const [context, window] = [64, 512];
  let session: OrtSession;
  let runtime: SileroRuntime;

  beforeAll(async () => {
    runtime = await sileroRuntime('onnxruntime-node');
    session = await runtime.InferenceSession.create(defaultSileroModelPath(), runtime.sessionOptions);
  });

  function streamWith(seed: number): SileroStream {
    const stream = new SileroStream(context, window);
    const samples = new Float32Array(window);
    for (let i = 0; i < window; i++) samples[i] = 0.3 * Math.sin((i + 1) * 0.01 * seed) * Math.sin(i * 0.0007 * seed);
    stream.load(samples);
    return stream;
  }

  function batcher(run: SileroSession['run'], maxBatchSize = 32): SileroBatcher {
    return new SileroBatcher({
      session: { run },
      Tensor: runtime.Tensor,
      sampleRate: rate,
      contextSamples: context,
      windowSamples: window,
      maxBatchSize,
      modelName: 'test-model.onnx',
    });
  }

  it('gives the same probability and next state in a batch as alone', async () => {
    const single = batcher((feeds) => session.run(feeds), 1);
    const batched = batcher((feeds) => session.run(feeds));
    const soloStreams = [1, 2, 3, 4, 5].map(streamWith);
    const batchStreams = [1, 2, 3, 4, 5].map(streamWith);
    for (let step = 0; step < 3; step++) {
      const solo = await Promise.all(soloStreams.map((stream) => single.submit(stream)));
      const together = await Promise.all(batchStreams.map((stream) => batched.submit(stream)));
      expect(maxDifference(together, solo)).toBeLessThan(TOLERANCE);
      for (let n = 0; n < 5; n++) {
        expect(maxDifference([...batchStreams[n]!.state], [...soloStreams[n]!.state])).toBeLessThan(TOLERANCE);
      }
    }
    expect(batched.batchesRun).toBe(3);
    expect(single.batchesRun).toBe(15);
    // Non-zero state: the recurrence really went through the batch.
    expect(batchStreams[0]!.state.some((v) => v !== 0)).toBe(true);
  });

  it('a failed inference rejects only the windows of its batch, with a clear error; later batches run', async () => {
    let runs = 0;
    const flaky = batcher((feeds) => {
      runs++;
      return runs === 2 ? Promise.reject(new Error('device lost')) : session.run(feeds);
    });
    const streams = [7, 8, 9].map(streamWith);
    const first = await Promise.all(streams.map((stream) => flaky.submit(stream)));
    const stateAfterFirst = streams.map((stream) => [...stream.state]);

    const failed = await Promise.allSettled(streams.map((stream) => flaky.submit(stream)));
    for (const outcome of failed) {
      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as Error;
      expect(reason.message).toBe(
        'Silero VAD inference failed for a batch of 3 windows (test-model.onnx, 16000 Hz): device lost',
      );
      expect((reason.cause as Error).message).toBe('device lost');
    }
    // The failed batch left every stream's state as it was.
    expect(streams.map((stream) => [...stream.state])).toEqual(stateAfterFirst);

    const third = await Promise.all(streams.map((stream) => flaky.submit(stream)));
    expect(third.every((p) => p >= 0 && p <= 1)).toBe(true);
    expect(third).not.toEqual(first);
    expect(flaky.batchesRun).toBe(2);
  });

  it('a run that throws synchronously or returns outputs of another model fails only its batch', async () => {
    let runs = 0;
    const broken = batcher((feeds) => {
      runs++;
      if (runs === 1) throw new Error('bad feeds');
      if (runs === 2) return Promise.resolve({ output: new runtime.Tensor('float32', new Float32Array(1), [1, 1]) });
      return session.run(feeds);
    });
    await expect(broken.submit(streamWith(3))).rejects.toThrow(/batch of 1 window \(.*\): bad feeds/);
    await expect(broken.submit(streamWith(3))).rejects.toThrow(/not a Silero VAD v5 model: unexpected outputs/);
    expect(await broken.submit(streamWith(3))).toBeGreaterThanOrEqual(0);
  });

  it('rejects a batch size that is not a positive integer and an unknown inference thread', () => {
    expect(() => batcher((feeds) => session.run(feeds), 0)).toThrow(RangeError);
    expect(() => new SileroVADAnalyzer({ sampleRate: rate, maxBatchSize: 2.5 })).toThrow(/maxBatchSize/);
    expect(() => new SileroVADAnalyzer({ sampleRate: rate, inferenceThread: 'gpu' as never })).toThrow(/inferenceThread/);
  });
});

describe('SileroVADAnalyzer with a model that does not fit', () => {
  it('rejects the analyze calls of the failed batch with an error naming the model', async () => {
    // The model package also ships the older Silero model, whose inputs (h, c) differ from v5's (state).
    const legacyModel = createRequire(import.meta.url).resolve('@ricky0123/vad-web/dist/silero_vad_legacy.onnx');
    const vads = [1, 2, 3].map(() => new SileroVADAnalyzer({ sampleRate: 16000, modelPath: legacyModel }));
    const outcomes = await Promise.allSettled(vads.map((vad) => vad.analyze(new Int16Array(512).fill(1000))));
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect(((outcome as PromiseRejectedResult).reason as Error).message).toMatch(
        /^Silero VAD inference failed for a batch of 3 windows \(.*silero_vad_legacy\.onnx, 16000 Hz\): /,
      );
    }
    // The default model's analyzers in the same process are unaffected.
    const fine = await SileroVADAnalyzer.load({ sampleRate: 16000 });
    expect(await fine.analyze(new Int16Array(512))).toBe('quiet');
  });
});
