// Silero inference on a worker thread. A session runs synchronously on the thread that calls it, so on the main
// thread every batch blocks the event loop of every call for its duration (about 1.8 ms for 32 windows at 16 kHz
// on onnxruntime-node). A worker moves that work to another core: the main thread only copies the batch into a
// message and the results out of the reply. The worker runs onnxruntime-web (WORKER_NATIVE_UNSAFE below), which
// costs ~5x the CPU per window of the native runtime: a way to keep the event loop free, not to save CPU.
//
// One worker per model file and sample rate; the batcher sends it one batch at a time. A worker is never
// terminated (it may be inside onnxruntime, and terminating it there can crash the process): a worker that dies
// costs the batch in flight, a worker that does not answer in time is retired — the batch fails, the thread is
// asked to leave once its work is done — and the next batch runs on a new worker either way.
import { Worker, type TransferListItem } from 'node:worker_threads';
import { retireWorker, type WorkerRetirement } from '../../runtime/worker-threads.js';
import { SILERO_STATE_WIDTH, type SileroSession } from './silero-batch.js';
import type { OrtTensor } from './onnx-types.js';
import type { SileroRuntime } from './silero-runtime.js';
import { SILERO_WORKER_SOURCE } from './silero-worker-source.js';

/** A fault a test can have the worker act out on its next batch: die, or answer late. */
export type SileroWorkerFault = { kind: 'exit' } | { kind: 'stall'; stallMs: number };

type SileroWorkerMessage =
  | { kind: 'run'; input: Float32Array; state: Float32Array; size: number }
  | { kind: 'leave' }
  | { kind: 'fault'; fault: SileroWorkerFault };

type SileroWorkerReply =
  | { kind: 'ready' }
  | { kind: 'result'; output: Float32Array; stateN: Float32Array }
  | { kind: 'failed'; message: string };

interface PendingRun {
  size: number;
  timer: NodeJS.Timeout;
  resolve(outputs: Record<string, OrtTensor>): void;
  reject(error: Error): void;
}

export interface WorkerSileroSessionOptions {
  /**
   * How long a batch may take before the worker is given up on: the batch fails (its windows read as errors for
   * their calls' VAD), the worker is retired, and the next batch runs on a new worker. A batch normally takes a
   * few milliseconds. Default 2000.
   */
  batchTimeoutMs?: number;
}

interface SpawnOptions {
  modelPath: string;
  sampleRate: 8000 | 16000;
  /** The worker loads the same runtime package, with the same session options. */
  runtime: SileroRuntime;
  batchTimeoutMs: number;
}

const DEFAULT_BATCH_TIMEOUT_MS = 2000;

/**
 * Measured: worker threads that load onnxruntime-node 1.17.0 (the pinned version, silero-runtime.ts) corrupt the
 * heap when they end ("double free or corruption", "free(): invalid pointer", every run of three workers ending
 * after the main thread loaded it; 1.30.0 did not), and one that loads it with no other thread holding it fails
 * with "Module did not self-register". Our workers do end (retired or dead), so they run onnxruntime-web.
 */
export const WORKER_NATIVE_UNSAFE =
  "Silero VAD's worker thread runs onnxruntime-web: onnxruntime-node 1.17.0 crashes the process when a worker " +
  'thread that loaded it ends';

function post(worker: Worker, message: SileroWorkerMessage, transfer?: readonly TransferListItem[]): void {
  worker.postMessage(message, transfer);
}

/** Starts a worker and waits until it has loaded the model; rejects with the worker's error if it cannot. */
function spawnWorker({ modelPath, sampleRate, runtime }: SpawnOptions): Promise<Worker> {
  const workerData = {
    runtimePath: runtime.entryPath,
    runtimeName: runtime.name,
    modelPath,
    sampleRate,
    sessionOptions: runtime.sessionOptions,
    stateWidth: SILERO_STATE_WIDTH,
  };
  // Not the process's own flags: a test runner's loader would make the worker fail to start, and it needs none.
  const worker = new Worker(SILERO_WORKER_SOURCE, { eval: true, execArgv: [], workerData });
  return new Promise<Worker>((resolve, reject) => {
    const onMessage = (reply: SileroWorkerReply): void => {
      worker.off('error', onError);
      if (reply.kind === 'ready') {
        resolve(worker);
        return;
      }
      // A worker that could not load the model has closed its port and ends on its own.
      const reason = reply.kind === 'failed' ? reply.message : `unexpected ${reply.kind}`;
      reject(new Error(`Silero VAD worker could not load ${modelPath}: ${reason}`));
    };
    const onError = (error: Error): void => {
      worker.off('message', onMessage);
      reject(new Error(`Silero VAD worker failed to start: ${error.message}`, { cause: error }));
    };
    worker.once('message', onMessage);
    worker.once('error', onError);
  });
}

export class WorkerSileroSession implements SileroSession {
  private pending: PendingRun | undefined;
  private closed = false;
  /** Workers asked to leave and not yet gone; close() waits for them too. */
  private readonly retiring = new Set<Promise<WorkerRetirement>>();
  private started = 1;

  private constructor(
    private readonly options: SpawnOptions,
    private worker: Worker | undefined,
  ) {
    if (worker !== undefined) this.adopt(worker);
  }

  /** Starts a worker and loads the model in it; rejects with the worker's error if the model cannot be loaded. */
  static async start(
    modelPath: string,
    sampleRate: 8000 | 16000,
    runtime: SileroRuntime,
    { batchTimeoutMs = DEFAULT_BATCH_TIMEOUT_MS }: WorkerSileroSessionOptions = {},
  ): Promise<WorkerSileroSession> {
    if (!Number.isFinite(batchTimeoutMs) || batchTimeoutMs <= 0) {
      throw new RangeError(`batchTimeoutMs must be a positive number, got ${String(batchTimeoutMs)}`);
    }
    if (runtime.name !== 'onnxruntime-web') throw new RangeError(WORKER_NATIVE_UNSAFE);
    const options = { modelPath, sampleRate, runtime, batchTimeoutMs };
    return new WorkerSileroSession(options, await spawnWorker(options));
  }

  /** Worker threads started over the session's life (1 until a worker has died or been retired). */
  get workersStarted(): number {
    return this.started;
  }

  async run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor | undefined>> {
    if (this.closed) throw new Error('Silero VAD worker closed');
    if (this.pending !== undefined) throw new Error('Silero VAD worker is already running a batch');
    const input = feeds.input?.data;
    const state = feeds.state?.data;
    const size = feeds.input?.dims[0];
    if (!(input instanceof Float32Array) || !(state instanceof Float32Array) || size === undefined) {
      throw new Error('Silero VAD worker needs float32 input and state');
    }
    // Copied now (and the copies moved, not cloned again), so the batcher's buffers are free again at once.
    const inputCopy = input.slice();
    const stateCopy = state.slice();
    const message: SileroWorkerMessage = { kind: 'run', input: inputCopy, state: stateCopy, size };
    // A worker that died or was retired is replaced for the next batch: one failure costs one batch, not the VAD
    // of every call.
    let worker = this.worker;
    if (worker === undefined) {
      worker = this.adopt(await spawnWorker(this.options), true);
      if (this.closed) {
        this.retire(worker);
        throw new Error('Silero VAD worker closed');
      }
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.giveUp(worker), this.options.batchTimeoutMs);
      this.pending = { size, timer, resolve, reject };
      worker.ref();
      post(worker, message, [inputCopy.buffer, stateCopy.buffer]);
    });
  }

  /**
   * Retires the worker and resolves once it and any worker retired earlier have left (or been abandoned after a
   * wait, see retireWorker), with how each ended; a batch in flight fails at once. Later runs are rejected.
   */
  async close(): Promise<readonly WorkerRetirement[]> {
    this.closed = true;
    this.failPending(new Error('Silero VAD worker closed'));
    if (this.worker !== undefined) this.retire(this.worker);
    return Promise.all(this.retiring);
  }

  /** For tests: the worker acts out `fault` on its next batch, as a crashed or stuck worker would. */
  injectFault(fault: SileroWorkerFault): void {
    if (this.worker !== undefined) post(this.worker, { kind: 'fault', fault });
  }

  private adopt(worker: Worker, replacement = false): Worker {
    if (replacement) this.started++;
    this.worker = worker;
    worker.on('message', (reply: SileroWorkerReply) => this.onReply(worker, reply));
    worker.on('error', (error) => this.onDeath(worker, new Error(`Silero VAD worker failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => this.onDeath(worker, new Error(`Silero VAD worker exited with code ${code}`)));
    // Idle, the worker must not keep the process alive; it is ref'd while a batch is in flight.
    worker.unref();
    return worker;
  }

  private onReply(worker: Worker, reply: SileroWorkerReply): void {
    const pending = this.pending;
    if (worker !== this.worker || pending === undefined || reply.kind === 'ready') return;
    this.settlePending();
    worker.unref();
    if (reply.kind === 'failed') {
      pending.reject(new Error(reply.message));
      return;
    }
    const { Tensor } = this.options.runtime;
    pending.resolve({
      output: new Tensor('float32', reply.output, [pending.size, 1]),
      stateN: new Tensor('float32', reply.stateN, [2, pending.size, SILERO_STATE_WIDTH]),
    });
  }

  private onDeath(worker: Worker, error: Error): void {
    if (worker !== this.worker) return;
    this.worker = undefined;
    this.failPending(error);
  }

  /** The batch in flight took too long: it fails, and its worker is retired rather than waited on. */
  private giveUp(worker: Worker): void {
    if (worker !== this.worker) return;
    const ms = this.options.batchTimeoutMs;
    this.failPending(new Error(`Silero VAD worker gave no answer within ${ms} ms; the batch is dropped and the worker retired`));
    this.retire(worker);
  }

  private retire(worker: Worker): void {
    if (worker === this.worker) this.worker = undefined;
    const retirement = retireWorker(worker, { kind: 'leave' } satisfies SileroWorkerMessage);
    this.retiring.add(retirement);
    void retirement.then(() => this.retiring.delete(retirement));
  }

  private settlePending(): void {
    if (this.pending !== undefined) clearTimeout(this.pending.timer);
    this.pending = undefined;
  }

  private failPending(error: Error): void {
    const pending = this.pending;
    this.settlePending();
    pending?.reject(error);
  }
}
