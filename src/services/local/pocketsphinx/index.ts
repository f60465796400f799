// PocketSphinx: offline speech recognition (Debian libpocketsphinx3 + pocketsphinx-en-us, loaded through koffi).
export { PocketsphinxSTTService } from './pocketsphinx-stt.js';
export type { PocketsphinxSTTServiceOptions } from './pocketsphinx-stt.js';
export {
  DEFAULT_DICT_PATH,
  DEFAULT_HMM_PATH,
  DEFAULT_LIBRARY_PATH,
  DEFAULT_LM_PATH,
  POCKETSPHINX_SAMPLE_RATE,
  PocketsphinxDecoder,
  checkJsgfGrammar,
} from './pocketsphinx-decoder.js';
export type { PocketsphinxDecoderOptions } from './pocketsphinx-decoder.js';
