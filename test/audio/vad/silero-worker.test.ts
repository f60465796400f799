import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SileroVADAnalyzer, defaultSileroModelPath, type SileroSampleRate } from '../../../src/audio/vad/index.js';
import type { OrtTensor } from '../../../src/audio/vad/onnx-types.js';
import { sileroRuntime, type SileroRuntime } from '../../../src/audio/vad/silero-runtime.js';
import { WorkerSileroSession } from '../../../src/audio/vad/silero-worker.js';
import { concatAudio, silence, synthesizeSpeech } from '../../../src/testing/speech.js';
import { ConfidenceProbe } from '../../support/silero-probe.js';

async function confidencesTogether(audios: readonly Int16Array[], options: ConstructorParameters<typeof SileroVADAnalyzer>[0]) {
  const vads = audios.map(() => new ConfidenceProbe(options));
  const chunk = options.sampleRate / 50;
  const longest = Math.max(...audios.map((audio) => audio.length));
  for (let i = 0; i < longest; i += chunk) {
    await Promise.all(vads.map((vad, n) => vad.analyze(audios[n]!.subarray(i, i + chunk))));
  }
  return vads.map((vad) => vad.confidences);
}

describe.each([16000, 8000] as const)('Silero inference on a worker thread at %i Hz', (rate: SileroSampleRate) => {
  // The worker runs onnxruntime-web, the main thread onnxruntime-node: measured at most 4.2e-6 apart.
  it('gives the same probabilities as on the main thread (to 1e-5)', async () => {
    const speech = await synthesizeSpeech('please connect me to the billing team', { sampleRate: rate });
    const audios = [0, 1, 2, 3].map((n) => concatAudio(silence(150 * n, rate), speech, silence(300, rate)));
    const main = await confidencesTogether(audios, { sampleRate: rate });
    const worker = await confidencesTogether(audios, { sampleRate: rate, inferenceThread: 'worker' });
    for (let n = 0; n < audios.length; n++) {
      expect(worker[n]).toHaveLength(main[n]!.length);
      worker[n]!.forEach((p, i) => expect(Math.abs(p - main[n]![i]!)).toBeLessThan(1e-5));
      expect(Math.max(...worker[n]!)).toBeGreaterThan(0.9);
    }
  });
});

describe('WorkerSileroSession', () => {
  let session: WorkerSileroSession;
  let runtime: SileroRuntime;
  let sr: OrtTensor;

  beforeAll(async () => {
    runtime = await sileroRuntime('onnxruntime-web');
    sr = new runtime.Tensor('int64', BigInt64Array.of(16000n), []);
    session = await WorkerSileroSession.start(defaultSileroModelPath(), 16000, runtime);
  });
  afterAll(() => session.close());

  function feeds(size: number): Record<string, OrtTensor> {
    const input = new Float32Array(size * 576).map((_, i) => 0.2 * Math.sin(i * 0.03));
    return {
      input: new runtime.Tensor('float32', input, [size, 576]),
      state: new runtime.Tensor('float32', new Float32Array(size * 256), [2, size, 128]),
      sr,
    };
  }

  it('fails the batch in flight when its worker dies, and runs the next batch on a new worker', async () => {
    const expected = (await session.run(feeds(3))).output!.data;
    const started = session.workersStarted;
    session.injectFault({ kind: 'exit' });
    await expect(session.run(feeds(3))).rejects.toThrow(/Silero VAD worker (exited|failed)/);
    expect((await session.run(feeds(3))).output!.data).toEqual(expected);
    expect(session.workersStarted).toBe(started + 1);
  });

  it('retires a worker that does not answer in time: the batch fails, the next runs on a new worker, and the old one finishes and leaves on its own', async () => {
    // Real time: the subject is a real thread. The stall (1.5 s) is far past the timeout (0.3 s) and well within
    // retireWorker's 5 s wait (3.5 s to spare on a loaded machine), so the stalled worker ends its batch and leaves
    // rather than being abandoned.
    const terminate = vi.spyOn(Worker.prototype, 'terminate');
    try {
      const stalling = await WorkerSileroSession.start(defaultSileroModelPath(), 16000, runtime, { batchTimeoutMs: 300 });
      const expected = (await stalling.run(feeds(2))).output!.data;
      stalling.injectFault({ kind: 'stall', stallMs: 1500 });
      await expect(stalling.run(feeds(2))).rejects.toThrow(/no answer within 300 ms; the batch is dropped and the worker retired/);
      expect((await stalling.run(feeds(2))).output!.data).toEqual(expected);
      expect(stalling.workersStarted).toBe(2);
      // close() waits for every worker not yet gone: the replacement, and the stalled one unless it has already
      // ended its batch and left (starting the replacement compiles onnxruntime-web: 1-4 s on a loaded machine).
      // Either way each left on its own; none was abandoned or terminated.
      const retirements = await stalling.close();
      expect(retirements.length === 1 || retirements.length === 2).toBe(true);
      expect(retirements.every((how) => how === 'exited')).toBe(true);
      expect(terminate).not.toHaveBeenCalled();
    } finally {
      terminate.mockRestore();
    }
  });

  it('refuses onnxruntime-node, which crashes the process when a worker thread that loaded it ends', async () => {
    const native = await sileroRuntime('onnxruntime-node');
    await expect(WorkerSileroSession.start(defaultSileroModelPath(), 16000, native)).rejects.toThrow(
      /worker thread runs onnxruntime-web: onnxruntime-node 1\.17\.0 crashes the process/,
    );
    expect(() => new SileroVADAnalyzer({ sampleRate: 16000, inferenceThread: 'worker', runtime: 'onnxruntime-node' })).toThrow(
      RangeError,
    );
    const vad = await SileroVADAnalyzer.load({ sampleRate: 16000, inferenceThread: 'worker' });
    expect(vad.runtime).toBe('onnxruntime-web');
  });

  it('rejects a batch timeout that is not a positive number', async () => {
    await expect(WorkerSileroSession.start(defaultSileroModelPath(), 16000, runtime, { batchTimeoutMs: 0 })).rejects.toThrow(
      /batchTimeoutMs must be a positive number, got 0/,
    );
  });

  it('names the model a worker cannot load', async () => {
    const notAModel = join(tmpdir(), `not-a-model-${process.pid}.onnx`);
    await writeFile(notAModel, 'not an onnx file');
    await expect(WorkerSileroSession.start(notAModel, 16000, runtime)).rejects.toThrow(
      new RegExp(`Silero VAD worker could not load ${notAModel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `),
    );
    const vad = new SileroVADAnalyzer({ sampleRate: 16000, modelPath: notAModel, inferenceThread: 'worker' });
    await expect(vad.analyze(new Int16Array(512))).rejects.toThrow(/could not load/);
    await rm(notAModel);
  });

  it('rejects runs after close', async () => {
    const closing = await WorkerSileroSession.start(defaultSileroModelPath(), 16000, runtime);
    await closing.close();
    await expect(closing.run(feeds(1))).rejects.toThrow(/closed/);
  });

  it('closing with a batch in flight fails that batch at once, and the worker leaves after finishing it', async () => {
    const terminate = vi.spyOn(Worker.prototype, 'terminate');
    try {
      const closing = await WorkerSileroSession.start(defaultSileroModelPath(), 16000, runtime);
      closing.injectFault({ kind: 'stall', stallMs: 300 });
      const inFlight = closing.run(feeds(4));
      const closed = closing.close();
      await expect(inFlight).rejects.toThrow(/Silero VAD worker closed/);
      expect(await closed).toEqual(['exited']);
      expect(terminate).not.toHaveBeenCalled();
    } finally {
      terminate.mockRestore();
    }
  });
});
