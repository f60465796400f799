// Which ONNX Runtime build runs Silero. Two packages serve the same API (onnxruntime-common's InferenceSession and
// Tensor), and both install from the npm registry alone, with no install script:
//
// - onnxruntime-node, pinned to 1.17.0, native (CPU, MLAS kernels): about 5x less CPU per window than the
//   WebAssembly build when batched, so it is used wherever its binary loads (glibc Linux x64/arm64, macOS,
//   Windows). 1.17.0 is the last release without a postinstall; every later one downloads CUDA/TensorRT libraries
//   from NuGet on linux/x64, which fails offline and is hundreds of MB a CPU VAD never uses.
// - onnxruntime-web, WebAssembly (SIMD, one thread): the fallback where the native binary cannot load (musl
//   Linux such as Alpine, another CPU), so the VAD still works. It is installed anyway: the package that ships
//   the model weights (@ricky0123/vad-web) depends on it.
//
// Both give the probabilities onnxruntime-node 1.30 gave, to 6e-7 (native) and 5e-6 (WebAssembly)
// (test/audio/vad/silero-runtime.test.ts).
import { createRequire } from 'node:module';
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import type { OrtSessionFactory, OrtSessionOptions, OrtTensorConstructor } from './onnx-types.js';

export type SileroRuntimeName = 'onnxruntime-node' | 'onnxruntime-web';

/** An ONNX Runtime package, loaded, with what Silero needs of it. */
export interface SileroRuntime {
  name: SileroRuntimeName;
  version: string;
  /** The package's CommonJS entry for this platform, which a worker thread `require`s to load the same build. */
  entryPath: string;
  InferenceSession: OrtSessionFactory;
  Tensor: OrtTensorConstructor;
  /** How every Silero session on this runtime is made, on the main thread or a worker. */
  sessionOptions: OrtSessionOptions;
}

/**
 * A process runs many calls at once, so one thread per inference avoids oversubscribing the CPU, and 32 ms windows
 * are too small to gain from more. Warnings off: onnxruntime-node 1.17 prints ~200 lines about the model's unused
 * initializers at every load.
 */
const NATIVE_SESSION_OPTIONS = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
} as const satisfies OrtSessionOptions;

/** onnxruntime-web takes its thread count from `env.wasm.numThreads` (set to 1 when it is loaded), not from here. */
const WASM_SESSION_OPTIONS = {
  executionProviders: ['wasm'],
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
} as const satisfies OrtSessionOptions;

const require = createRequire(import.meta.url);

/** What an `import()` of either package gives (onnxruntime-web's types are its own copy of onnxruntime-common's). */
interface OrtModule {
  InferenceSession: SileroRuntime['InferenceSession'];
  Tensor: unknown;
  env: { versions: Record<string, string | undefined>; wasm: { numThreads?: number } };
}

async function loadNative(): Promise<SileroRuntime> {
  // Loading the package loads its native binding, so a platform it cannot run on fails here, not at the first
  // window. A CommonJS package without type declarations in 1.17.0, hence `require`.
  const ort = require('onnxruntime-node') as OrtModule;
  return {
    name: 'onnxruntime-node',
    version: ort.env.versions.node ?? 'unknown',
    entryPath: require.resolve('onnxruntime-node'),
    // Read at call time, not copied, so a test's spy on the package's InferenceSession.create takes effect.
    InferenceSession: { create: (path, options) => ort.InferenceSession.create(path, options) },
    Tensor: ort.Tensor as OrtTensorConstructor,
    sessionOptions: NATIVE_SESSION_OPTIONS,
  };
}

async function loadWasm(): Promise<SileroRuntime> {
  const ort = (await import('onnxruntime-web')) as unknown as OrtModule;
  // One thread: more would start onnxruntime-web's own worker threads for every inference. Must be set before the
  // first session initialises the WebAssembly module (it applies to the whole process).
  ort.env.wasm.numThreads = 1;
  return {
    name: 'onnxruntime-web',
    version: ort.env.versions.web ?? 'unknown',
    entryPath: require.resolve('onnxruntime-web'),
    InferenceSession: { create: (path, options) => ort.InferenceSession.create(path, options) },
    Tensor: ort.Tensor as OrtTensorConstructor,
    sessionOptions: WASM_SESSION_OPTIONS,
  };
}

const LOADERS: Readonly<Record<SileroRuntimeName, () => Promise<SileroRuntime>>> = {
  'onnxruntime-node': loadNative,
  'onnxruntime-web': loadWasm,
};

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/**
 * The native runtime if it loads, otherwise the WebAssembly one; logs one line saying which runs (a warning, with
 * the reason, for the fallback). Rejects only if neither loads.
 */
export async function chooseSileroRuntime(
  load: (name: SileroRuntimeName) => Promise<SileroRuntime>,
  logger: Logger,
): Promise<SileroRuntime> {
  let nativeError: unknown;
  try {
    const runtime = await load('onnxruntime-node');
    logger.info({ runtime: runtime.name, version: runtime.version }, `Silero VAD runs on ${runtime.name} ${runtime.version} (native)`);
    return runtime;
  } catch (error) {
    nativeError = error;
  }
  try {
    const runtime = await load('onnxruntime-web');
    logger.warn(
      { runtime: runtime.name, version: runtime.version, nativeError: reasonOf(nativeError) },
      `Silero VAD runs on ${runtime.name} ${runtime.version} (WebAssembly, several times the CPU per window): ` +
        `onnxruntime-node could not load on ${process.platform}/${process.arch}`,
    );
    return runtime;
  } catch (error) {
    throw new Error(
      `Silero VAD has no ONNX runtime: onnxruntime-node failed (${reasonOf(nativeError)}) and onnxruntime-web failed (${reasonOf(error)})`,
      { cause: error },
    );
  }
}

const loaded = new Map<SileroRuntimeName, Promise<SileroRuntime>>();
let automatic: Promise<SileroRuntime> | undefined;

function loadOnce(name: SileroRuntimeName): Promise<SileroRuntime> {
  let runtime = loaded.get(name);
  if (runtime === undefined) {
    runtime = LOADERS[name]();
    loaded.set(name, runtime);
  }
  return runtime;
}

/**
 * The runtime `name` (rejecting if it cannot load), or by default the one `chooseSileroRuntime` picks, once per
 * process.
 */
export function sileroRuntime(name?: SileroRuntimeName): Promise<SileroRuntime> {
  if (name !== undefined) {
    return loadOnce(name).catch((error: unknown) => {
      throw new Error(`Silero VAD runtime ${name} could not be loaded: ${reasonOf(error)}`, { cause: error });
    });
  }
  automatic ??= chooseSileroRuntime(loadOnce, getDefaultLogger().child({ component: 'silero-vad' }));
  return automatic;
}
