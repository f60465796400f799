// In-process binding of CMU PocketSphinx 5prealpha (Debian's libpocketsphinx3, with libsphinxbase3) through koffi,
// and a decoder that recognises one utterance at a time.
//
// Decoding is CPU work inside the C library (dictation: about 0.2 s per second of speech), so it must not run on
// the thread that carries every call's audio. Each C call that does real work (ps_init, ps_process_raw,
// ps_end_utt, ps_get_hyp) is made through koffi's asynchronous call, which runs it on a libuv pool thread while
// the event loop goes on. Each utterance is handed over whole (`full_utt`) so that its cepstral mean is computed
// from that utterance alone (`-cmn batch`): with the library's default live mean, the estimate left by one turn
// was applied to the next, and "I want to talk to a human please" said after "Hello there" was heard as "i want
// to talk to you but please" (decoded alone, it was right). The cost is one pool-thread call per turn of about a
// fifth of the turn's length (shared with file and DNS work). One decoder is only ever used by one call at a time (calls are chained);
// separate decoders share nothing but the library.
//
// PocketSphinx logs every step to stderr by default; its logging is switched off once for the whole process
// (err_set_logfp(NULL)) rather than per decoder with `-logfn`, because `-logfn` swaps a process-wide FILE while
// other decoders may be writing to it from their pool threads.
import { existsSync } from 'node:fs';
import type { KoffiFunc, TypeObject } from 'koffi';

/** Where Debian's pocketsphinx-en-us puts the US English model. */
export const DEBIAN_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
export const DEFAULT_HMM_PATH = `${DEBIAN_MODEL_DIR}/en-us`;
export const DEFAULT_DICT_PATH = `${DEBIAN_MODEL_DIR}/cmudict-en-us.dict`;
export const DEFAULT_LM_PATH = `${DEBIAN_MODEL_DIR}/en-us.lm.bin`;
/** The soname of Debian's libpocketsphinx3 (the unversioned .so only comes with the -dev package). */
export const DEFAULT_LIBRARY_PATH = 'libpocketsphinx.so.3';
/** The rate the en-us acoustic model was trained at. */
export const POCKETSPHINX_SAMPLE_RATE = 16000;

const LIBRARY_PACKAGES = 'apt-get install libpocketsphinx3 libsphinxbase3 pocketsphinx-en-us';
const MODEL_PACKAGE = 'apt-get install pocketsphinx-en-us';
const GRAMMAR_SEARCH = 'grammar';

/** An opaque C pointer as koffi hands it over. */
type Pointer = NonNullable<unknown>;

interface PocketsphinxApi {
  psArgs: KoffiFunc<() => Pointer>;
  cmdLnParse: KoffiFunc<
    (config: Pointer | null, definitions: Pointer, argc: number, argv: string[], strict: number) => Pointer | null
  >;
  cmdLnFree: KoffiFunc<(config: Pointer) => number>;
  init: KoffiFunc<(config: Pointer) => Pointer | null>;
  free: KoffiFunc<(decoder: Pointer) => number>;
  setJsgfString: KoffiFunc<(decoder: Pointer, name: string, jsgf: string) => number>;
  setSearch: KoffiFunc<(decoder: Pointer, name: string) => number>;
  startUtt: KoffiFunc<(decoder: Pointer) => number>;
  processRaw: KoffiFunc<
    (decoder: Pointer, samples: Int16Array, count: number, noSearch: number, fullUtterance: number) => number
  >;
  endUtt: KoffiFunc<(decoder: Pointer) => number>;
  getHyp: KoffiFunc<(decoder: Pointer, score: number[]) => string | null>;
}

const libraries = new Map<string, Promise<PocketsphinxApi>>();

async function bindLibrary(libraryPath: string): Promise<PocketsphinxApi> {
  // Imported here, not at the top: programs that never use PocketSphinx do not load koffi's native addon.
  const { default: koffi } = await import('koffi');
  let library: ReturnType<typeof koffi.load>;
  try {
    library = koffi.load(libraryPath);
  } catch (error) {
    throw new Error(
      `pocketsphinx: cannot load ${libraryPath} (${error instanceof Error ? error.message : String(error)}); ` +
        `install it with: ${LIBRARY_PACKAGES}`,
      { cause: error },
    );
  }
  const decoder = koffi.pointer(koffi.opaque());
  const config = koffi.pointer(koffi.opaque());
  const definitions = koffi.pointer(koffi.opaque());
  type TypeSpec = TypeObject | string | ReturnType<typeof koffi.out>;
  const bind = <T extends (...args: never[]) => unknown>(
    name: string,
    result: TypeSpec,
    parameters: TypeSpec[],
  ): KoffiFunc<T> => library.func(name, result, parameters) as KoffiFunc<T>;
  const api: PocketsphinxApi = {
    psArgs: bind('ps_args', definitions, []),
    // The sphinxbase functions are found through libpocketsphinx, which links libsphinxbase.
    cmdLnParse: bind('cmd_ln_parse_r', config, [config, definitions, 'int32_t', 'const char **', 'int32_t']),
    cmdLnFree: bind('cmd_ln_free_r', 'int', [config]),
    init: bind('ps_init', decoder, [config]),
    free: bind('ps_free', 'int', [decoder]),
    setJsgfString: bind('ps_set_jsgf_string', 'int', [decoder, 'const char *', 'const char *']),
    setSearch: bind('ps_set_search', 'int', [decoder, 'const char *']),
    startUtt: bind('ps_start_utt', 'int', [decoder]),
    processRaw: bind('ps_process_raw', 'int', [decoder, 'const int16_t *', 'size_t', 'int', 'int']),
    endUtt: bind('ps_end_utt', 'int', [decoder]),
    getHyp: bind('ps_get_hyp', 'const char *', [decoder, koffi.out(koffi.pointer('int32_t'))]),
  };
  const setLogFile = bind<(file: null) => void>('err_set_logfp', 'void', [koffi.pointer(koffi.opaque())]);
  setLogFile(null);
  return api;
}

function pocketsphinxLibrary(libraryPath: string): Promise<PocketsphinxApi> {
  let library = libraries.get(libraryPath);
  if (library === undefined) {
    library = bindLibrary(libraryPath);
    libraries.set(libraryPath, library);
    // A failed load is not kept: installing the package fixes the next attempt.
    library.catch(() => libraries.delete(libraryPath));
  }
  return library;
}

/** Runs a C function on a libuv pool thread. */
function callAsync<A extends unknown[], R>(fn: KoffiFunc<(...args: A) => R>, ...args: A): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    fn.async(...args, (error: unknown, result: R) => {
      if (error === null || error === undefined) resolve(result);
      else reject(error instanceof Error ? error : new Error('pocketsphinx: native call failed', { cause: error }));
    });
  });
}

/**
 * Decoders are created one at a time: model loading is the one step whose thread safety across decoders the
 * library does not document, and it costs 0.1-0.4 s anyway.
 */
let decoderCreation: Promise<unknown> = Promise.resolve();

export interface PocketsphinxDecoderOptions {
  /** 'dictation' uses the statistical language model; a grammar (JSGF text) recognises only its sentences. */
  mode: 'dictation' | { grammar: string };
  hmmPath?: string;
  dictPath?: string;
  lmPath?: string;
  libraryPath?: string;
}

/**
 * Throws unless `grammar` starts with a JSGF header. Checked before the library sees it: the library's JSGF lexer
 * echoes text it cannot match to the process's stdout, which may be carrying JSON lines.
 */
export function checkJsgfGrammar(grammar: unknown): asserts grammar is string {
  if (typeof grammar !== 'string' || !/^\s*#JSGF\s+V\d/.test(grammar)) {
    throw new TypeError("pocketsphinx: a grammar must be JSGF text starting with a header such as '#JSGF V1.0;'");
  }
}

function checkModelFile(kind: string, path: string): void {
  if (!existsSync(path)) {
    throw new Error(`pocketsphinx: ${kind} not found at ${path}; install the US English model with: ${MODEL_PACKAGE}`);
  }
}

export class PocketsphinxDecoder {
  private queue: Promise<unknown> = Promise.resolve();
  private handle: Pointer | undefined;

  private constructor(
    private readonly api: PocketsphinxApi,
    handle: Pointer,
  ) {
    this.handle = handle;
  }

  /** Loads the library (once per process) and the model (per decoder) without blocking the event loop. */
  static async create(options: PocketsphinxDecoderOptions): Promise<PocketsphinxDecoder> {
    const hmmPath = options.hmmPath ?? DEFAULT_HMM_PATH;
    const dictPath = options.dictPath ?? DEFAULT_DICT_PATH;
    const lmPath = options.lmPath ?? DEFAULT_LM_PATH;
    if (options.mode !== 'dictation') checkJsgfGrammar(options.mode.grammar);
    checkModelFile('acoustic model', hmmPath);
    checkModelFile('dictionary', dictPath);
    if (options.mode === 'dictation') checkModelFile('language model', lmPath);
    const api = await pocketsphinxLibrary(options.libraryPath ?? DEFAULT_LIBRARY_PATH);

    // Batch cepstral mean normalisation: each utterance on its own (see the top of this file).
    const args = ['-hmm', hmmPath, '-dict', dictPath, '-samprate', String(POCKETSPHINX_SAMPLE_RATE), '-cmn', 'batch'];
    // Grammar mode loads no language model: less memory, faster start, and the grammar is the only search.
    if (options.mode === 'dictation') args.push('-lm', lmPath);
    const config = api.cmdLnParse(null, api.psArgs(), args.length, args, 1);
    if (config === null) throw new Error(`pocketsphinx: configuration rejected: ${args.join(' ')}`);

    const creation = decoderCreation.then(() => callAsync(api.init, config));
    decoderCreation = creation.catch(() => undefined);
    let handle: Pointer | null;
    try {
      handle = await creation;
    } finally {
      // ps_init keeps its own reference to the configuration.
      api.cmdLnFree(config);
    }
    if (handle === null) {
      throw new Error(
        `pocketsphinx: could not load the model (hmm ${hmmPath}, dict ${dictPath}` +
          `${options.mode === 'dictation' ? `, lm ${lmPath}` : ''}); reinstall it with: ${MODEL_PACKAGE}`,
      );
    }
    const decoder = new PocketsphinxDecoder(api, handle);
    if (options.mode !== 'dictation') {
      const grammar = options.mode.grammar;
      const compiled = await callAsync(api.setJsgfString, handle, GRAMMAR_SEARCH, grammar);
      if (compiled < 0 || api.setSearch(handle, GRAMMAR_SEARCH) < 0) {
        await decoder.free();
        throw new Error(
          'pocketsphinx: the JSGF grammar was rejected: a syntax error, no public rule, or a word missing from the ' +
            'dictionary',
        );
      }
    }
    return decoder;
  }

  /** Recognises one utterance of 16 kHz mono PCM16; '' when nothing was recognised. */
  decode(audio: Int16Array): Promise<string> {
    const result = this.queue.then(() => this.decodeNow(audio));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Releases the decoder after any decode in progress; later decodes fail. */
  async free(): Promise<void> {
    const done = this.queue.then(() => {
      if (this.handle === undefined) return;
      const handle = this.handle;
      this.handle = undefined;
      this.api.free(handle);
    });
    this.queue = done;
    await done;
  }

  private async decodeNow(audio: Int16Array): Promise<string> {
    const handle = this.handle;
    if (handle === undefined) throw new Error('pocketsphinx: the decoder has been freed');
    const { api } = this;
    if (api.startUtt(handle) < 0) throw new Error('pocketsphinx: could not start an utterance');
    let ended = false;
    try {
      // The whole utterance at once (full_utt = 1): batch normalisation needs all of it.
      if ((await callAsync(api.processRaw, handle, audio, audio.length, 0, 1)) < 0) {
        throw new Error('pocketsphinx: decoding failed');
      }
      ended = true;
      if ((await callAsync(api.endUtt, handle)) < 0) throw new Error('pocketsphinx: could not end the utterance');
      // For dictation the best path through the lattice is searched here: also worth a pool thread.
      const hypothesis = await callAsync(api.getHyp, handle, [0]);
      return (hypothesis ?? '').trim();
    } finally {
      // Leaves the decoder ready for the next utterance even when this one failed.
      if (!ended) await callAsync(api.endUtt, handle).catch(() => undefined);
    }
  }
}
