// The two noise-suppression engines, each a WebAssembly build from npm, loaded once per process and instantiated
// per call (each instance has its own recurrent state, so one caller's noise never shapes another's audio).
// - GTCRN (@sapphi-red/web-noise-suppressor, MIT): a small neural network, 16 kHz, frames of 256 samples in [-1, 1].
//   The package ships it as an AudioWorklet for browsers; in Node the .wasm file is instantiated directly with the
//   two functions it imports (an assertion handler and heap growth), and its minified export names are checked.
// - RNNoise (@echogarden/rnnoise-wasm, BSD-3-Clause): 48 kHz, frames of 480 samples in the int16 range.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type NoiseSuppressionKind = 'gtcrn' | 'rnnoise';

/** One engine instance: frames in, frames out, same length, at `sampleRate`. */
export interface NoiseSuppressionEngine {
  readonly kind: NoiseSuppressionKind;
  readonly sampleRate: number;
  readonly frameSamples: number;
  /** Denoises one frame of `frameSamples` samples in the int16 range, in place. */
  processFrame(frame: Float32Array): void;
  destroy(): void;
}

interface EngineFactory {
  create(): NoiseSuppressionEngine;
}

/** The slice of the WebAssembly API used here (the project's TypeScript libraries do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  Module: { exports(module: object): Array<{ name: string }> };
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const GTCRN_PACKAGE = '@sapphi-red/web-noise-suppressor';
const RNNOISE_PACKAGE = '@echogarden/rnnoise-wasm';

interface GtcrnExports {
  c: WasmMemory;
  d: () => void;
  e: () => number;
  f: (pointer: number) => void;
  g: (state: number) => void;
  i: (state: number, input: number, output: number) => void;
  k: (bytes: number) => number;
}

async function loadGtcrn(): Promise<EngineFactory> {
  const require = createRequire(import.meta.url);
  let wasmPath: string;
  try {
    wasmPath = join(dirname(require.resolve(GTCRN_PACKAGE)), 'gtcrn.wasm');
  } catch (error) {
    throw new Error(`noise suppression 'gtcrn' needs the package ${GTCRN_PACKAGE}: npm install ${GTCRN_PACKAGE}`, { cause: error });
  }
  const module = await wasm.compile(await readFile(wasmPath));
  const names = wasm.Module.exports(module).map((e) => e.name).join(',');
  if (names !== 'c,d,e,f,g,h,i,j,k') {
    throw new Error(`noise suppression 'gtcrn': ${GTCRN_PACKAGE}'s gtcrn.wasm has exports this version does not know (${names})`);
  }
  const FRAME = 256;
  return {
    create(): NoiseSuppressionEngine {
      let memory: WasmMemory | undefined = undefined;
      const instance = new wasm.Instance(module, {
        a: {
          a: () => {
            throw new Error('gtcrn: assertion failed inside the engine');
          },
          // Heap growth, as the package's loader does it: grow to the requested size, 64 KiB pages.
          b: (requested: number) => {
            const pages = Math.ceil(((requested >>> 0) - memory!.buffer.byteLength) / 65536);
            try {
              memory!.grow(Math.max(pages, 1));
              return 1;
            } catch {
              return 0;
            }
          },
        },
      });
      const exports = instance.exports as GtcrnExports;
      memory = exports.c;
      exports.d();
      const state = exports.e();
      const input = exports.k(FRAME * 4);
      const output = exports.k(FRAME * 4);
      if (state === 0 || input === 0 || output === 0) throw new Error('gtcrn: could not allocate its state');
      let destroyed = false;
      return {
        kind: 'gtcrn',
        sampleRate: 16000,
        frameSamples: FRAME,
        processFrame(frame) {
          // The heap may have grown (and its buffer changed) since the last frame.
          const heap = new Float32Array(exports.c.buffer);
          for (let i = 0; i < FRAME; i++) heap[input / 4 + i] = frame[i]! / 32768;
          exports.i(state, input, output);
          const out = new Float32Array(exports.c.buffer, output, FRAME);
          for (let i = 0; i < FRAME; i++) frame[i] = out[i]! * 32768;
        },
        destroy() {
          if (destroyed) return;
          destroyed = true;
          exports.f(input);
          exports.f(output);
          exports.g(state);
        },
      };
    },
  };
}

interface RnnoiseModule {
  _rnnoise_create(model: number): number;
  _rnnoise_destroy(state: number): void;
  _rnnoise_process_frame(state: number, output: number, input: number): number;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  HEAPF32: Float32Array;
}

async function loadRnnoise(): Promise<EngineFactory> {
  let factory: () => Promise<RnnoiseModule>;
  try {
    factory = ((await import(RNNOISE_PACKAGE)) as { default: () => Promise<RnnoiseModule> }).default;
  } catch (error) {
    throw new Error(`noise suppression 'rnnoise' needs the package ${RNNOISE_PACKAGE}: npm install ${RNNOISE_PACKAGE}`, { cause: error });
  }
  const FRAME = 480;
  // One module for the process; each engine has its own state and buffer in its heap.
  const module = await factory();
  return {
    create(): NoiseSuppressionEngine {
      const state = module._rnnoise_create(0);
      const buffer = module._malloc(FRAME * 4);
      if (state === 0 || buffer === 0) throw new Error('rnnoise: could not allocate its state');
      let destroyed = false;
      return {
        kind: 'rnnoise',
        sampleRate: 48000,
        frameSamples: FRAME,
        processFrame(frame) {
          // HEAPF32 is read each time: it is replaced when the heap grows.
          module.HEAPF32.set(frame, buffer / 4);
          module._rnnoise_process_frame(state, buffer, buffer);
          frame.set(module.HEAPF32.subarray(buffer / 4, buffer / 4 + FRAME));
        },
        destroy() {
          if (destroyed) return;
          destroyed = true;
          module._free(buffer);
          module._rnnoise_destroy(state);
        },
      };
    },
  };
}

const factories = new Map<NoiseSuppressionKind, Promise<EngineFactory>>();

/** Loads an engine's code once per process (a failed load is retried next time); resolves to a new instance. */
export async function createNoiseSuppressionEngine(kind: NoiseSuppressionKind): Promise<NoiseSuppressionEngine> {
  if (kind !== 'gtcrn' && kind !== 'rnnoise') {
    throw new TypeError(`noiseSuppression must be 'gtcrn' or 'rnnoise', got ${JSON.stringify(kind)}`);
  }
  let factory = factories.get(kind);
  if (factory === undefined) {
    factory = kind === 'gtcrn' ? loadGtcrn() : loadRnnoise();
    factories.set(kind, factory);
    factory.catch(() => factories.delete(kind));
  }
  return (await factory).create();
}
