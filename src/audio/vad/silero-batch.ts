// Batched Silero inference across calls. Both runtimes run a session synchronously on the calling thread
// (onnxruntime-node's `run` only defers the work with setImmediate), and a Silero window costs about as much in
// fixed per-run overhead as in compute. So the windows that every call has ready in the same event-loop turn run as ONE inference of
// shape [batch, context + window] with state [2, batch, 128]: the same arithmetic per row, less than half the cost
// per window from about 8 windows on, and one short block of the event loop instead of many.
//
// Each call keeps its own context and recurrent state (a `SileroStream`); the batcher only copies them into its
// batch buffers when the batch starts and copies the new state back when it ends.
import type { OrtTensor, OrtTensorConstructor } from './onnx-types.js';

/** Recurrent state per stream: 2 layers (h and c) x 128. */
export const SILERO_STATE_WIDTH = 128;
const STATE_SIZE = 2 * SILERO_STATE_WIDTH;

/** Largest batch by default: about 1.8 ms of inference at 16 kHz, already within 2 % of the best cost per window. */
export const DEFAULT_SILERO_MAX_BATCH = 32;

/** One call's model memory: its input row ([context | window]) and recurrent state. */
export class SileroStream {
  /** [context | window]; the analyzer writes the window here before submitting it. */
  readonly input: Float32Array;
  /** [h(128) | c(128)], this stream's row of the model's [2, batch, 128] state. */
  readonly state = new Float32Array(STATE_SIZE);
  /** Bumped by `reset`: a result computed from the state before it is not written into the fresh one. */
  private epoch = 0;
  /** `epoch` when the window in flight was taken into a batch. */
  private submittedEpoch = -1;

  constructor(
    readonly contextSamples: number,
    windowSamples: number,
  ) {
    this.input = new Float32Array(contextSamples + windowSamples);
  }

  /** Shifts the previous window's tail into the context and puts `window` after it. */
  load(window: Float32Array): void {
    this.input.copyWithin(0, this.input.length - this.contextSamples);
    this.input.set(window, this.contextSamples);
  }

  reset(): void {
    this.epoch++;
    this.input.fill(0);
    this.state.fill(0);
  }

  /** Called by the batcher when this stream's window is submitted. */
  markSubmitted(): void {
    this.submittedEpoch = this.epoch;
  }

  /** Whether a result for the window in flight still belongs to this stream's current state. */
  get resultCurrent(): boolean {
    return this.submittedEpoch === this.epoch;
  }
}

/** What the batcher needs of an onnxruntime session (a seam so tests can make one batch fail). */
export interface SileroSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor | undefined>>;
}

export interface SileroBatcherOptions {
  session: SileroSession;
  Tensor: OrtTensorConstructor;
  sampleRate: 8000 | 16000;
  contextSamples: number;
  windowSamples: number;
  /** At most this many windows per inference; 1 runs every window alone. */
  maxBatchSize: number;
  /** Names the model in errors (its path). */
  modelName: string;
}

/** Removes the first `count` items in place (unlike splice, without allocating an array of them). */
function dropFirst(items: unknown[], count: number): void {
  for (let i = count; i < items.length; i++) items[i - count] = items[i];
  items.length -= count;
}

/** The batch buffers and tensors for one batch size, made on first use and reused. */
interface BatchBuffers {
  input: Float32Array;
  state: Float32Array;
  feeds: Record<'input' | 'state' | 'sr', OrtTensor>;
}

export class SileroBatcher {
  readonly maxBatchSize: number;
  /** Inferences run and windows they covered (for the benchmark and tests). */
  batchesRun = 0;
  windowsRun = 0;
  largestBatch = 0;

  private readonly rowSamples: number;
  private readonly sr: OrtTensor;
  private readonly buffers: Array<BatchBuffers | undefined> = [];

  // Waiting windows as parallel arrays, so a submission allocates no entry object.
  private waitingStreams: SileroStream[] = [];
  private waitingResolves: Array<(probability: number) => void> = [];
  private waitingRejects: Array<(error: Error) => void> = [];
  // The batch in flight (only one at a time: inference is synchronous, so a second would gain nothing, and the
  // buffers of a batch size can then be reused without a pool).
  private runningStreams: SileroStream[] = [];
  private runningResolves: Array<(probability: number) => void> = [];
  private runningRejects: Array<(error: Error) => void> = [];
  private running = false;
  private flushScheduled = false;

  constructor(private readonly options: SileroBatcherOptions) {
    const { maxBatchSize } = options;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
      throw new RangeError(`maxBatchSize must be a positive integer, got ${maxBatchSize}`);
    }
    this.maxBatchSize = maxBatchSize;
    this.rowSamples = options.contextSamples + options.windowSamples;
    this.sr = new options.Tensor('int64', BigInt64Array.of(BigInt(options.sampleRate)), []);
  }

  /**
   * Queues the window in `stream.input`; resolves with its speech probability once its batch has run, after the
   * stream's state has been advanced. A stream has at most one window in flight; the input must not change until
   * the promise settles (except by `reset`, which makes the result be discarded).
   */
  submit(stream: SileroStream): Promise<number> {
    // Marked now, not when the batch starts: a reset in between must also discard this window's result.
    stream.markSubmitted();
    return new Promise<number>((resolve, reject) => {
      this.waitingStreams.push(stream);
      this.waitingResolves.push(resolve);
      this.waitingRejects.push(reject);
      this.scheduleFlush();
    });
  }

  /**
   * Runs the waiting windows after the current event-loop turn, so that every window submitted in the same turn
   * (from any call's I/O) joins one batch; a window alone waits no timer, only one setImmediate.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.running) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.running || this.waitingStreams.length === 0) return;
    const size = Math.min(this.maxBatchSize, this.waitingStreams.length);
    // Swap the queues' first `size` entries into the running arrays (reused arrays: no allocation).
    this.runningStreams.length = 0;
    this.runningResolves.length = 0;
    this.runningRejects.length = 0;
    for (let i = 0; i < size; i++) {
      this.runningStreams.push(this.waitingStreams[i]!);
      this.runningResolves.push(this.waitingResolves[i]!);
      this.runningRejects.push(this.waitingRejects[i]!);
    }
    dropFirst(this.waitingStreams, size);
    dropFirst(this.waitingResolves, size);
    dropFirst(this.waitingRejects, size);

    const buffers = this.buffersFor(size);
    const row = this.rowSamples;
    const half = size * SILERO_STATE_WIDTH;
    for (let b = 0; b < size; b++) {
      const stream = this.runningStreams[b]!;
      buffers.input.set(stream.input, b * row);
      const state = stream.state;
      const at = b * SILERO_STATE_WIDTH;
      for (let k = 0; k < SILERO_STATE_WIDTH; k++) {
        buffers.state[at + k] = state[k]!;
        buffers.state[half + at + k] = state[SILERO_STATE_WIDTH + k]!;
      }
    }
    this.running = true;
    let outcome: Promise<Record<string, OrtTensor | undefined>>;
    try {
      outcome = this.options.session.run(buffers.feeds);
    } catch (error) {
      outcome = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    outcome.then(this.onOutputs, this.onFailure);
  };

  private readonly onOutputs = (outputs: Record<string, OrtTensor | undefined>): void => {
    const size = this.runningStreams.length;
    const probabilities = outputs.output?.data;
    const nextState = outputs.stateN?.data;
    if (
      !(probabilities instanceof Float32Array) ||
      probabilities.length !== size ||
      !(nextState instanceof Float32Array) ||
      nextState.length !== size * STATE_SIZE
    ) {
      this.onFailure(new Error(`${this.options.modelName} is not a Silero VAD v5 model: unexpected outputs`));
      return;
    }
    this.batchesRun++;
    this.windowsRun += size;
    if (size > this.largestBatch) this.largestBatch = size;
    const half = size * SILERO_STATE_WIDTH;
    for (let b = 0; b < size; b++) {
      const stream = this.runningStreams[b]!;
      // A stream reset while its window ran keeps its fresh state; the others are not affected.
      if (stream.resultCurrent) {
        const state = stream.state;
        const at = b * SILERO_STATE_WIDTH;
        for (let k = 0; k < SILERO_STATE_WIDTH; k++) {
          state[k] = nextState[at + k]!;
          state[SILERO_STATE_WIDTH + k] = nextState[half + at + k]!;
        }
      }
      this.runningResolves[b]!(probabilities[b]!);
    }
    this.finishBatch();
  };

  private readonly onFailure = (cause: unknown): void => {
    const size = this.runningStreams.length;
    const reason = cause instanceof Error ? cause.message : String(cause);
    const error = new Error(
      `Silero VAD inference failed for a batch of ${size} window${size === 1 ? '' : 's'} ` +
        `(${this.options.modelName}, ${this.options.sampleRate} Hz): ${reason}`,
      { cause },
    );
    // Only this batch's windows fail; the streams keep their previous state and later windows run as usual.
    for (let b = 0; b < size; b++) this.runningRejects[b]!(error);
    this.finishBatch();
  };

  private finishBatch(): void {
    this.runningStreams.length = 0;
    this.runningResolves.length = 0;
    this.runningRejects.length = 0;
    this.running = false;
    if (this.waitingStreams.length > 0) this.scheduleFlush();
  }

  private buffersFor(size: number): BatchBuffers {
    let buffers = this.buffers[size];
    if (buffers === undefined) {
      const { Tensor } = this.options;
      const input = new Float32Array(size * this.rowSamples);
      const state = new Float32Array(size * STATE_SIZE);
      // The tensors wrap the arrays without copying; onnxruntime reads them when the run starts.
      buffers = {
        input,
        state,
        feeds: {
          input: new Tensor('float32', input, [size, this.rowSamples]),
          state: new Tensor('float32', state, [2, size, SILERO_STATE_WIDTH]),
          sr: this.sr,
        },
      };
      this.buffers[size] = buffers;
    }
    return buffers;
  }
}
