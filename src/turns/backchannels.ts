// Backchannels: the short sounds a listener makes to say "go on" ("uh-huh", "okay", "yeah", "right", "mm-hmm").
// Said over the bot they are not a request to stop, so the default interruption strategy lets the bot go on when
// everything the caller said is backchannels, and interrupts on any other word: "wait", "stop", "no" and real
// sentences ("yeah, but I asked about my bill") still cut the bot off. The lists are per language; the caller's
// words are compared after lower-casing, dropping punctuation and hyphens ("Mm-hmm." is "mm hmm"). "yes" is not in
// the list: over the end of a question it is the answer.
import type { InterruptionStrategy } from './interruption-strategies.js';

/** Backchannels by language (BCP 47 primary tag). Phrases of several words are matched as a whole. */
export const DEFAULT_BACKCHANNELS: Readonly<Record<string, readonly string[]>> = {
  en: [
    'uh huh', 'uhhuh', 'mm hmm', 'mmhmm', 'mhm', 'mm', 'hmm', 'mmm', 'um hum', 'okay', 'ok', 'yeah', 'yep', 'yup', 'ya',
    'right', 'all right', 'alright', 'i see', 'got it', 'oh', 'ah', 'aha', 'uh', 'um',
  ],
};

/** Lower case words without punctuation; hyphens split words ("mm-hmm" is "mm hmm"). */
function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}'\s-]/gu, ' ')
    .split(/[\s-]+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w !== '');
}

export interface BackchannelInterruptionOptions {
  /** Words the caller must say before the bot stops (default 1); a turn of backchannels only never stops it. */
  minWords?: number;
  /** Language of the default list (default 'en'). */
  language?: string;
  /** The backchannels, replacing the language's list (an empty list makes every word count). */
  backchannels?: readonly string[];
}

/**
 * The default interruption strategy: interrupts once the caller has said `minWords` words, unless every word of the
 * turn so far is a backchannel. A turn that began as "okay" and goes on ("okay, wait") interrupts at "wait".
 */
export class BackchannelInterruptionStrategy implements InterruptionStrategy {
  readonly minWords: number;
  /** Each backchannel as its words. */
  private readonly phrases: readonly (readonly string[])[];
  private text = '';

  constructor(options: BackchannelInterruptionOptions = {}) {
    const minWords = options.minWords ?? 1;
    if (!Number.isInteger(minWords) || minWords < 1) {
      throw new RangeError(`BackchannelInterruptionStrategy: minWords must be a whole number >= 1, got ${minWords}`);
    }
    this.minWords = minWords;
    const language = (options.language ?? 'en').toLowerCase().split('-')[0]!;
    const list = options.backchannels ?? DEFAULT_BACKCHANNELS[language];
    if (list === undefined) {
      throw new RangeError(
        `BackchannelInterruptionStrategy: no backchannel list for language '${options.language}'; pass \`backchannels\` ` +
          `(known: ${Object.keys(DEFAULT_BACKCHANNELS).join(', ')})`,
      );
    }
    this.phrases = list.map(words).filter((p) => p.length > 0);
  }

  appendAudio(): void {}

  setText(text: string): void {
    this.text = text;
  }

  shouldInterrupt(): boolean {
    const said = words(this.text);
    // An interim transcript may end inside a phrase ("all" of "all right"): that waits for the next word.
    return said.length >= this.minWords && !this.onlyBackchannels(said, true);
  }

  reset(): void {
    this.text = '';
  }

  /**
   * Whether `said` can be cut into backchannel phrases from start to end; with `partialEnd`, the last piece may also
   * be the start of a phrase.
   */
  onlyBackchannels(said: readonly string[], partialEnd = false): boolean {
    if (said.length === 0) return true;
    // reachable[i]: the first i words are backchannels.
    const reachable = new Array<boolean>(said.length + 1).fill(false);
    reachable[0] = true;
    for (let i = 0; i < said.length; i++) {
      if (!reachable[i]) continue;
      for (const phrase of this.phrases) {
        const length = Math.min(phrase.length, said.length - i);
        if (length < phrase.length && !partialEnd) continue;
        if (phrase.slice(0, length).every((w, k) => said[i + k] === w)) reachable[i + length] = true;
      }
    }
    return reachable[said.length]!;
  }
}
