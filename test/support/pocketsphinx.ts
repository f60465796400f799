// Whether the offline STT can run here: Debian's libpocketsphinx3 loads and the US English model is installed.
// Tests that need it skip with `pocketsphinxNeeds` in their name when it cannot.
import { existsSync } from 'node:fs';
import { DEFAULT_HMM_PATH, DEFAULT_LIBRARY_PATH, DEFAULT_LM_PATH } from '../../src/services/local/pocketsphinx/index.js';

async function canLoadLibrary(): Promise<boolean> {
  try {
    const { default: koffi } = await import('koffi');
    koffi.load(DEFAULT_LIBRARY_PATH).unload();
    return true;
  } catch {
    return false;
  }
}

export const hasPocketsphinx = existsSync(DEFAULT_HMM_PATH) && existsSync(DEFAULT_LM_PATH) && (await canLoadLibrary());

/** Appended to the name of a test that needs PocketSphinx, when it is skipped. */
export const pocketsphinxNeeds = hasPocketsphinx
  ? ''
  : ' [skipped: needs apt-get install libpocketsphinx3 libsphinxbase3 pocketsphinx-en-us]';
