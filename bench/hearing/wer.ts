// Word error rate: the word-level Levenshtein distance between what was said and what was heard (substitutions,
// deletions and insertions each cost one), over the number of words said. Both sides are normalised first (case,
// punctuation, digits as words), so "Order 3815." and "order three thousand eight hundred fifteen" compare word by
// word as a recogniser would write them.
import { normaliseWords } from '../../src/services/local/pocketsphinx/domain-model.js';

export interface WordErrors {
  /** Substitutions + deletions + insertions. */
  errors: number;
  /** Words in the reference. */
  words: number;
}

/** Edit distance between two word lists, in words. */
export function wordEditDistance(reference: readonly string[], hypothesis: readonly string[]): number {
  let previous = Array.from({ length: hypothesis.length + 1 }, (_, j) => j);
  for (let i = 1; i <= reference.length; i++) {
    const current = [i];
    for (let j = 1; j <= hypothesis.length; j++) {
      const substitution = previous[j - 1]! + (reference[i - 1] === hypothesis[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, previous[j]! + 1, current[j - 1]! + 1));
    }
    previous = current;
  }
  return previous[hypothesis.length]!;
}

export function wordErrors(reference: string, hypothesis: string): WordErrors {
  const said = normaliseWords(reference);
  return { errors: wordEditDistance(said, normaliseWords(hypothesis)), words: said.length };
}

/** WER in percent over many sentences: total errors over total reference words (not a mean of per-sentence rates). */
export function wordErrorRate(pairs: readonly { reference: string; hypothesis: string }[]): number {
  let errors = 0;
  let words = 0;
  for (const { reference, hypothesis } of pairs) {
    const e = wordErrors(reference, hypothesis);
    errors += e.errors;
    words += e.words;
  }
  return words === 0 ? 0 : (100 * errors) / words;
}
