// PocketsphinxSTTService: offline speech recognition with CMU PocketSphinx, one user turn at a time (VAD start to
// VAD stop). Dictation is rough; a JSGF grammar listing the sentences callers may say is exact, which suits menus,
// tests and the offline demo.
import type { Frame, FrameDirection } from '../../../frames/index.js';
import { ServiceError, SegmentedSTTService, type SegmentedSTTServiceOptions } from '../../base/index.js';
import {
  DEFAULT_DICT_PATH,
  DEFAULT_HMM_PATH,
  DEFAULT_LIBRARY_PATH,
  DEFAULT_LM_PATH,
  POCKETSPHINX_SAMPLE_RATE,
  PocketsphinxDecoder,
  checkJsgfGrammar,
  type PocketsphinxDecoderOptions,
} from './pocketsphinx-decoder.js';
import { buildDomainModel, type DomainModelFiles } from './domain-model.js';

export interface PocketsphinxSTTServiceOptions
  extends Pick<SegmentedSTTServiceOptions, 'name' | 'userId' | 'preRollMs' | 'maxSegmentSecs'> {
  /**
   * 'dictation' (default): free speech through the US English language model; expect some words wrong.
   * `{ grammar }`: JSGF text; only its sentences can be recognised, and they are recognised reliably.
   */
  mode?: 'dictation' | { grammar: string };
  /** Acoustic model directory. Default: Debian pocketsphinx-en-us's /usr/share/pocketsphinx/model/en-us/en-us. */
  hmmPath?: string;
  /** Pronunciation dictionary. Default: pocketsphinx-en-us's cmudict-en-us.dict. */
  dictPath?: string;
  /** Language model for dictation. Default: pocketsphinx-en-us's en-us.lm.bin (or the domain model of `phrases`). */
  lmPath?: string;
  /**
   * Examples of what callers say to this agent (sentences, in any case and punctuation; digits are read as
   * words). When given, dictation uses a trigram model built from them plus a conversational core (greetings,
   * yes/no, numbers, goodbyes) instead of the general model: a few hundred words, fewer mistakes on them and a fifth
   * of the CPU, but words outside them cannot be heard (docs/hearing.md). Words missing from the pronunciation
   * dictionary are left out (see `missingWords`). Not with `lmPath`. The model is built in the constructor (or in
   * `prewarm`) and kept for the process: the first build reads the 3 MB dictionary (about 0.8 s on the event loop,
   * 20 MB kept), so pass the same phrases to `prewarm` before calls arrive.
   */
  phrases?: readonly string[];
  /** With `phrases`: add the conversational core (default true). */
  includeCoreVocabulary?: boolean;
  /** The shared library. Default: libpocketsphinx.so.3 (Debian libpocketsphinx3). */
  libraryPath?: string;
}

/**
 * Fresh decoders loaded ahead of time, by configuration: loading the model is most of what a call would otherwise
 * pay at its start (0.1-1 s of a pool thread). `prewarm` loads one; a call takes it and a replacement is loaded in
 * the background for the next call. Decoders are never passed from one call to the next: a used decoder carries
 * the last caller's channel estimate (cepstral mean) into its next utterance, which hurt recognition of a caller on
 * a different line, so a finished call's decoder is freed.
 */
const spareDecoders = new Map<string, Promise<PocketsphinxDecoder>>();

/** Domain models already built in this process, by phrases and dictionary. */
const domainModels = new Map<string, DomainModelFiles>();

function domainModel(phrases: readonly string[], includeCore: boolean, dictPath: string): DomainModelFiles {
  const key = JSON.stringify([phrases, includeCore, dictPath]);
  let model = domainModels.get(key);
  if (model === undefined) {
    model = buildDomainModel({ phrases, includeCore, dictPath });
    domainModels.set(key, model);
  }
  return model;
}

function resolvedDecoderOptions(options: PocketsphinxSTTServiceOptions): PocketsphinxDecoderOptions & { domain?: DomainModelFiles } {
  const mode = options.mode ?? 'dictation';
  if (mode !== 'dictation') {
    if (typeof mode !== 'object' || mode === null) {
      throw new TypeError(`pocketsphinx: mode must be 'dictation' or { grammar: '<JSGF text>' }`);
    }
    checkJsgfGrammar(mode.grammar);
  }
  const dictPath = options.dictPath ?? DEFAULT_DICT_PATH;
  const common = { mode, hmmPath: options.hmmPath ?? DEFAULT_HMM_PATH, libraryPath: options.libraryPath ?? DEFAULT_LIBRARY_PATH };
  if (options.phrases !== undefined) {
    if (!Array.isArray(options.phrases) || options.phrases.some((p) => typeof p !== 'string')) {
      throw new TypeError('pocketsphinx: phrases must be an array of strings');
    }
    if (mode !== 'dictation') throw new TypeError('pocketsphinx: phrases are for dictation; a grammar lists its own sentences');
    if (options.lmPath !== undefined) throw new TypeError('pocketsphinx: give either phrases or lmPath, not both');
    const domain = domainModel(options.phrases, options.includeCoreVocabulary ?? true, dictPath);
    return { ...common, dictPath: domain.dictPath, lmPath: domain.lmPath, domain };
  }
  return { ...common, dictPath, lmPath: options.lmPath ?? DEFAULT_LM_PATH };
}

function decoderKey(options: PocketsphinxDecoderOptions): string {
  const { mode, hmmPath, dictPath, lmPath, libraryPath } = options;
  return JSON.stringify([mode === 'dictation' ? mode : mode.grammar, hmmPath, dictPath, lmPath, libraryPath]);
}

/** Starts loading the spare decoder of a configuration (a failed load is not kept: the next call retries). */
function loadSpare(key: string, options: PocketsphinxDecoderOptions): Promise<PocketsphinxDecoder> {
  const spare = PocketsphinxDecoder.create(options);
  spareDecoders.set(key, spare);
  spare.catch(() => {
    if (spareDecoders.get(key) === spare) spareDecoders.delete(key);
  });
  return spare;
}

/** A decoder for a new call: the prewarmed spare when there is one (and a new spare is started), else a new one. */
function takeDecoder(options: PocketsphinxDecoderOptions): Promise<PocketsphinxDecoder> {
  const key = decoderKey(options);
  const spare = spareDecoders.get(key);
  if (spare === undefined) return PocketsphinxDecoder.create(options);
  void loadSpare(key, options).catch(() => undefined);
  return spare;
}

/**
 * Speech to text with PocketSphinx, in-process (through koffi) and offline. Needs Debian's `libpocketsphinx3`,
 * `libsphinxbase3` and `pocketsphinx-en-us`.
 *
 * The model is 16 kHz; caller audio at other rates is resampled by the base class. Narrowband (8 kHz telephone)
 * audio resampled up lacks everything above 4 kHz that the model was trained with, so dictation accuracy on it is
 * poor; grammar mode copes much better.
 *
 * The decoder is made when the pipeline starts (0.1-1 s: the dictation model is 30 MB; after `prewarm`, one loaded
 * ahead of time is taken at once) and reused for every turn of this service. Decoding runs on libuv pool threads, never blocking the event loop
 * (see pocketsphinx-decoder.ts); more than four calls decoding at once wait for a pool thread unless
 * UV_THREADPOOL_SIZE is raised.
 */
export class PocketsphinxSTTService extends SegmentedSTTService {
  /** Words of `phrases` the pronunciation dictionary lacks, left out of the domain model (empty without phrases). */
  readonly missingWords: readonly string[];
  private readonly decoderOptions: PocketsphinxDecoderOptions;
  private decoder: Promise<PocketsphinxDecoder> | undefined;

  constructor(options: PocketsphinxSTTServiceOptions = {}) {
    const { domain, ...decoderOptions } = resolvedDecoderOptions(options);
    super({
      ...options,
      sampleRate: POCKETSPHINX_SAMPLE_RATE,
      model: decoderOptions.mode !== 'dictation' ? 'en-us-jsgf' : domain === undefined ? 'en-us' : 'en-us-domain',
    });
    this.decoderOptions = decoderOptions;
    this.missingWords = domain?.missingWords ?? [];
  }

  /**
   * Loads a decoder for these options before any call needs one (0.1-1 s: the dictation model is 30 MB): pass it
   * to the Agent's `prewarm`. From then on a fresh decoder for these options is always kept ready: each call
   * takes it at once and the next one loads in the background, off the call's critical path. Rejects when the
   * library or the model cannot be loaded.
   */
  static async prewarm(options: PocketsphinxSTTServiceOptions = {}): Promise<void> {
    const decoderOptions = resolvedDecoderOptions(options);
    const key = decoderKey(decoderOptions);
    await (spareDecoders.get(key) ?? loadSpare(key, decoderOptions));
  }

  protected override async transcribe(audio: Int16Array, sampleRate: number): Promise<string> {
    if (sampleRate !== POCKETSPHINX_SAMPLE_RATE) {
      throw new ServiceError(this.name, `audio must be ${POCKETSPHINX_SAMPLE_RATE} Hz, got ${sampleRate} Hz`, {
        retryable: false,
      });
    }
    try {
      return await (await this.loadDecoder()).decode(audio);
    } catch (error) {
      throw new ServiceError(this.name, error instanceof Error ? error.message : String(error), {
        retryable: false,
        cause: error,
      });
    }
  }

  /** Creates the decoder now (the pipeline's start does it too). */
  async warmUp(): Promise<void> {
    await this.loadDecoder();
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    // The decoder is made when the pipeline starts, so the caller's first turn does not wait for the model. A
    // failure here is only logged: the first turn tries again and reports it.
    if (frame.type === 'start') {
      if (this.missingWords.length > 0) {
        this.logger.warn(
          { words: this.missingWords },
          'pocketsphinx: words of the phrases missing from the pronunciation dictionary cannot be recognised',
        );
      }
      this.loadDecoder().catch((error: unknown) => {
        this.logger.debug({ err: error }, 'pocketsphinx: loading the decoder at start failed');
      });
    }
    return super.processFrame(frame, direction);
  }

  override async cleanup(): Promise<void> {
    await super.cleanup();
    const decoder = this.decoder;
    this.decoder = undefined;
    if (decoder !== undefined) await (await decoder.catch(() => undefined))?.free();
  }

  private loadDecoder(): Promise<PocketsphinxDecoder> {
    if (this.decoder === undefined) {
      const decoder = takeDecoder(this.decoderOptions);
      this.decoder = decoder;
      // A failed start is retried on the next turn (the packages may have been installed since).
      decoder.catch(() => {
        if (this.decoder === decoder) this.decoder = undefined;
      });
    }
    return this.decoder;
  }
}
