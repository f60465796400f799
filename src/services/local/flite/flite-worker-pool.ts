// Flite synthesis on worker threads. One WASI run of Flite blocks its thread for 15-50 ms; on the main thread that
// would stall the audio of every call the process serves, so syntheses run on a small pool of workers instead
// (one per process by default; with maxWorkers > 1, more only while requests are waiting), started on first use.
//
// Idle workers are unref'd: a pool left alone never keeps the process alive, while a worker with a request in
// flight is ref'd so a program awaiting only that request does not exit under it.
//
// The worker runs plain JavaScript given as source text (flite-worker-source.ts): it only runs the WASI program
// and hands back the WAV bytes; checking the request and decoding the WAV happen here. So a worker needs no
// TypeScript loader, whether the package runs from dist/ or from sources under tsx (worker threads loaded through
// tsx's loader crashed Node 20 with SIGSEGV in long runs).
import { Worker } from 'node:worker_threads';
import { retireWorker } from '../../../runtime/worker-threads.js';
import { readWav, toMono } from '../../../audio/index.js';
import { FLITE_VOICE_RATES, fliteWasmPath, prepareFliteText, type FliteAudio, type FliteVoice } from './flite-engine.js';
import { FLITE_WORKER_SOURCE } from './flite-worker-source.js';
import type { FliteWorkerMessage, FliteWorkerReply } from './flite-worker-protocol.js';

export interface FliteWorkerPoolOptions {
  /**
   * Most worker threads run at once. Default 1: one worker synthesises a sentence in 15-50 ms, enough for several
   * calls. (Long test runs crashed Node 20 with SIGSEGV in a worker while workers were loaded through tsx; the
   * worker is now plain JavaScript, but more than one stays opt-in until long runs have shown it is safe.)
   */
  maxWorkers?: number;
}

export interface FliteWorkerSynthesisOptions {
  /** Default 'kal16'. */
  voice?: FliteVoice;
  /** Aborting drops the request: removed from the queue if waiting, its result ignored if running. */
  signal?: AbortSignal;
}

interface Request {
  readonly id: number;
  readonly text: string;
  readonly voice: FliteVoice;
  readonly resolve: (audio: FliteAudio) => void;
  readonly reject: (error: Error) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
  settled: boolean;
}

interface PoolWorker {
  readonly worker: Worker;
  current: Request | undefined;
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error('The operation was aborted', { cause: reason });
  error.name = 'AbortError';
  return error;
}

function replyError(reply: { error: string; errorName: string }): Error {
  if (reply.errorName === 'RangeError') return new RangeError(reply.error);
  if (reply.errorName === 'TypeError') return new TypeError(reply.error);
  return new Error(reply.error);
}

export class FliteWorkerPool {
  readonly maxWorkers: number;
  private readonly workers: PoolWorker[] = [];
  private readonly waiting: Request[] = [];
  private lastId = 0;
  private wasmPath: string | undefined;
  private closed = false;
  private warming: Promise<void> | undefined;
  private started = 0;

  constructor(options: FliteWorkerPoolOptions = {}) {
    const maxWorkers = options.maxWorkers ?? 1;
    if (!Number.isInteger(maxWorkers) || maxWorkers < 1) {
      throw new RangeError(`maxWorkers must be an integer >= 1, got ${String(maxWorkers)}`);
    }
    this.maxWorkers = maxWorkers;
  }

  /** Worker threads currently running. */
  get size(): number {
    return this.workers.length;
  }

  /** Worker threads started over the pool's life: each one loads Flite anew (see `warmUp`). */
  get workersStarted(): number {
    return this.started;
  }

  /** Requests not yet handed to a worker. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Speaks `text` on a worker thread; same result as `synthesizeWithFlite`. */
  synthesize(text: string, options: FliteWorkerSynthesisOptions = {}): Promise<FliteAudio> {
    if (this.closed) return Promise.reject(new Error('flite: the worker pool is closed'));
    const { signal, voice = 'kal16' } = options;
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    if (typeof voice !== 'string' || !Object.hasOwn(FLITE_VOICE_RATES, voice)) {
      return Promise.reject(
        new RangeError(`flite: unknown voice '${String(voice)}'; the voices are ${Object.keys(FLITE_VOICE_RATES).join(', ')}`),
      );
    }
    if (typeof text !== 'string') return Promise.reject(new TypeError(`flite: text must be a string, got ${typeof text}`));
    const prepared = prepareFliteText(text);
    if (prepared.trim() === '') return Promise.reject(new Error('flite: text to synthesize is empty'));
    text = prepared;
    return new Promise<FliteAudio>((resolve, reject) => {
      const request: Request = {
        id: ++this.lastId,
        text,
        voice,
        signal,
        settled: false,
        resolve: (audio) => {
          if (request.settled) return;
          request.settled = true;
          signal?.removeEventListener('abort', request.onAbort);
          resolve(audio);
        },
        reject: (error) => {
          if (request.settled) return;
          request.settled = true;
          signal?.removeEventListener('abort', request.onAbort);
          reject(error);
        },
        onAbort: () => {
          const index = this.waiting.indexOf(request);
          if (index >= 0) this.waiting.splice(index, 1);
          // A running request finishes on its worker; its reply finds the request settled and is dropped.
          request.reject(abortReason(signal!));
        },
      };
      signal?.addEventListener('abort', request.onAbort, { once: true });
      this.waiting.push(request);
      this.dispatch();
    });
  }

  /**
   * Starts a worker and has it load Flite, so the first real request does not pay for it (about 0.4 s). Does
   * nothing when a worker is already running.
   */
  async warmUp(voice: FliteVoice = 'kal16'): Promise<void> {
    if (this.workers.length > 0) return;
    this.warming ??= this.synthesize('Hi.', { voice }).then(
      () => {
        this.warming = undefined;
      },
      (error: unknown) => {
        this.warming = undefined;
        throw error;
      },
    );
    await this.warming;
  }

  /**
   * Stops every worker; requests waiting or running are rejected. The pool cannot be used afterwards. Each worker
   * is retired (src/runtime/worker-threads.ts): it leaves once its WebAssembly work in flight is done — a worker
   * prepares its next instance right after every reply — and is never terminated mid-run.
   */
  async close(): Promise<void> {
    this.closed = true;
    const error = new Error('flite: the worker pool was closed');
    for (const request of this.waiting.splice(0)) request.reject(error);
    const workers = this.workers.splice(0);
    for (const { current } of workers) current?.reject(error);
    const leave: FliteWorkerMessage = { type: 'close' };
    await Promise.all(workers.map(({ worker }) => retireWorker(worker, leave)));
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      let free = this.workers.find((w) => w.current === undefined);
      if (free === undefined) {
        if (this.workers.length >= this.maxWorkers) return;
        try {
          free = this.spawn();
        } catch (error) {
          const failure = error instanceof Error ? error : new Error(String(error));
          for (const request of this.waiting.splice(0)) request.reject(failure);
          return;
        }
      }
      const request = this.waiting.shift()!;
      free.current = request;
      free.worker.ref();
      const message: FliteWorkerMessage = { type: 'synthesize', id: request.id, text: request.text, voice: request.voice };
      free.worker.postMessage(message);
    }
  }

  private spawn(): PoolWorker {
    this.wasmPath ??= fliteWasmPath();
    // Not the process's own flags: a worker inherits them by default, and some (`--input-type`, test runners'
    // loaders) make a worker fail to start. The worker needs none.
    const worker = new Worker(FLITE_WORKER_SOURCE, { eval: true, execArgv: [], workerData: { wasmPath: this.wasmPath } });
    const member: PoolWorker = { worker, current: undefined };
    this.started++;
    worker.unref();
    worker.on('message', (reply: FliteWorkerReply) => {
      const request = member.current;
      if (request === undefined || request.id !== reply.id) return;
      member.current = undefined;
      worker.unref();
      if ('error' in reply) {
        request.reject(replyError(reply));
      } else {
        try {
          const wav = readWav(reply.wav);
          request.resolve({ samples: wav.channels === 1 ? wav.samples : toMono(wav.samples, wav.channels), sampleRate: wav.sampleRate });
        } catch (error) {
          request.reject(new Error(`flite wrote unreadable audio: ${(error as Error).message}`, { cause: error }));
        }
      }
      this.dispatch();
    });
    const retire = (error: Error): void => {
      const index = this.workers.indexOf(member);
      if (index < 0) return;
      this.workers.splice(index, 1);
      member.current?.reject(error);
      member.current = undefined;
      // The requests still waiting go to a fresh worker.
      if (!this.closed) this.dispatch();
    };
    worker.on('error', (error) => {
      retire(new Error(`flite worker failed: ${error.message}`, { cause: error }));
    });
    worker.on('exit', (code) => {
      retire(new Error(`flite worker exited with code ${code}`));
    });
    this.workers.push(member);
    return member;
  }
}

let sharedPool: FliteWorkerPool | undefined;

/** The process-wide pool every FliteTTSService uses by default, created on first use. */
export function sharedFliteWorkerPool(): FliteWorkerPool {
  sharedPool ??= new FliteWorkerPool();
  return sharedPool;
}
