// The two ONNX runtimes Silero runs on: both reproduce the probabilities of the runtime they replaced, batched and
// on a worker thread (onnxruntime-web there), and the default picks the native one, falling back to WebAssembly with one warning.
import { describe, expect, it } from 'vitest';
import { SileroVADAnalyzer, type SileroSampleRate } from '../../../src/audio/vad/index.js';
import {
  chooseSileroRuntime,
  sileroRuntime,
  type SileroRuntime,
  type SileroRuntimeName,
} from '../../../src/audio/vad/silero-runtime.js';
import { recordingLogger, type LogRecord } from '../../pipeline/helpers.js';
import { ConfidenceProbe } from '../../support/silero-probe.js';
import { REFERENCE_PROBABILITIES, referenceAudio } from './silero-reference.js';

const RUNTIMES: readonly SileroRuntimeName[] = ['onnxruntime-node', 'onnxruntime-web'];
const RATES: readonly SileroSampleRate[] = [16000, 8000];
/**
 * Measured: at most 6e-7 from the reference on onnxruntime-node, 4.2e-6 on onnxruntime-web (kernels sum in different
 * orders). The VAD decides on thresholds of 0.5 and more, so a difference this small never changes a decision.
 */
const TOLERANCE = 1e-5;

function maxDifference(a: readonly number[], b: readonly number[]): number {
  expect(a).toHaveLength(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Feeds `audio` one window per analyze to each probe at once (so they batch), and returns their confidences. */
async function confidences(probes: readonly ConfidenceProbe[], audio: Int16Array): Promise<number[][]> {
  const size = probes[0]!.windowSamples;
  for (let i = 0; i + size <= audio.length; i += size) {
    await Promise.all(probes.map((probe) => probe.analyze(audio.subarray(i, i + size))));
  }
  return probes.map((probe) => probe.confidences);
}

describe.each(RUNTIMES)('Silero on %s', (runtime) => {
  it.each(RATES)('gives the probabilities of the runtime it replaced, alone and batched (%i Hz)', async (rate) => {
    const audio = await referenceAudio(rate);
    const [alone] = await confidences([new ConfidenceProbe({ sampleRate: rate, runtime, maxBatchSize: 1 })], audio);
    expect(maxDifference(alone!, REFERENCE_PROBABILITIES[rate])).toBeLessThan(TOLERANCE);

    const probes = [0, 1, 2].map(() => new ConfidenceProbe({ sampleRate: rate, runtime }));
    for (const batched of await confidences(probes, audio)) {
      expect(maxDifference(batched, REFERENCE_PROBABILITIES[rate])).toBeLessThan(TOLERANCE);
    }
    expect(probes[0]!.runtime).toBe(runtime);
  });

});

// Worker threads run onnxruntime-web only (silero-worker.ts: WORKER_NATIVE_UNSAFE).
it('gives the reference probabilities on a worker thread (onnxruntime-web)', async () => {
  const audio = await referenceAudio(16000);
  const probes = [0, 1].map(() => new ConfidenceProbe({ sampleRate: 16000, inferenceThread: 'worker' }));
  for (const onWorker of await confidences(probes, audio)) {
    expect(maxDifference(onWorker, REFERENCE_PROBABILITIES[16000])).toBeLessThan(TOLERANCE);
  }
  expect(probes[0]!.runtime).toBe('onnxruntime-web');
});

describe('choosing the runtime', () => {
  it('runs on onnxruntime-node by default where it loads (here), and says so once', async () => {
    const vad = await SileroVADAnalyzer.load({ sampleRate: 16000 });
    expect(vad.runtime).toBe('onnxruntime-node');
    expect(await sileroRuntime()).toBe(await sileroRuntime('onnxruntime-node'));
  });

  function fakeRuntime(name: SileroRuntimeName): SileroRuntime {
    return { name, version: '9.9.9', entryPath: `/fake/${name}`, InferenceSession: { create: () => Promise.reject(new Error('unused')) }, Tensor: class {} as never, sessionOptions: {} };
  }

  it('picks onnxruntime-node when it loads, with one info line', async () => {
    const logs: LogRecord[] = [];
    const chosen = await chooseSileroRuntime((name) => Promise.resolve(fakeRuntime(name)), recordingLogger(logs));
    expect(chosen.name).toBe('onnxruntime-node');
    expect(logs.map((l) => [l.level, l.message])).toEqual([['info', 'Silero VAD runs on onnxruntime-node 9.9.9 (native)']]);
  });

  it('falls back to onnxruntime-web where the native binary cannot load, with one warning giving the reason', async () => {
    const logs: LogRecord[] = [];
    const tried: SileroRuntimeName[] = [];
    const chosen = await chooseSileroRuntime((name) => {
      tried.push(name);
      if (name === 'onnxruntime-node') return Promise.reject(new Error('Error loading shared library ld-linux-x86-64.so.2\nstack'));
      return Promise.resolve(fakeRuntime(name));
    }, recordingLogger(logs));
    expect(chosen.name).toBe('onnxruntime-web');
    expect(tried).toEqual(['onnxruntime-node', 'onnxruntime-web']);
    expect(logs).toHaveLength(1);
    expect(logs[0]!.level).toBe('warn');
    expect(logs[0]!.message).toMatch(/^Silero VAD runs on onnxruntime-web 9\.9\.9 \(WebAssembly, .*\): onnxruntime-node could not load on /);
    expect(logs[0]!.fields.nativeError).toBe('Error loading shared library ld-linux-x86-64.so.2');
  });

  it('names both failures when neither runtime loads', async () => {
    const failing = (name: SileroRuntimeName): Promise<SileroRuntime> => Promise.reject(new Error(`no ${name}`));
    await expect(chooseSileroRuntime(failing, recordingLogger())).rejects.toThrow(
      'Silero VAD has no ONNX runtime: onnxruntime-node failed (no onnxruntime-node) and onnxruntime-web failed (no onnxruntime-web)',
    );
  });

  it('rejects an unknown runtime name', () => {
    expect(() => new SileroVADAnalyzer({ sampleRate: 16000, runtime: 'onnxruntime-gpu' as never })).toThrow(
      /runtime must be 'onnxruntime-node' or 'onnxruntime-web', got onnxruntime-gpu/,
    );
  });
});
