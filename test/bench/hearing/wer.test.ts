import { describe, expect, it } from 'vitest';
import { HUMAN_REQUESTS, MEASURED_SENTENCES, TUNING_PHRASES } from '../../../bench/hearing/sentences.js';
import { wordEditDistance, wordErrorRate, wordErrors } from '../../../bench/hearing/wer.js';
import { normaliseWords } from '../../../src/services/local/pocketsphinx/domain-model.js';

describe('word error rate', () => {
  it('counts substitutions, deletions and insertions once each', () => {
    expect(wordEditDistance(['a', 'b', 'c'], ['a', 'b', 'c'])).toBe(0);
    expect(wordEditDistance(['a', 'b', 'c'], ['a', 'x', 'c'])).toBe(1);
    expect(wordEditDistance(['a', 'b', 'c'], ['a', 'c'])).toBe(1);
    expect(wordEditDistance(['a', 'b', 'c'], ['a', 'b', 'y', 'c'])).toBe(1);
    expect(wordEditDistance(['a', 'b'], [])).toBe(2);
    expect(wordEditDistance([], ['a', 'b'])).toBe(2);
    // The demo's mishearing: "a human" -> "you but": two substitutions.
    expect(wordErrors('I want to talk to a human please', 'i want to talk to you but please')).toEqual({ errors: 2, words: 8 });
  });

  it('compares normalised words: case, punctuation and digits do not count as errors', () => {
    expect(wordErrors('Order 3815, please!', 'order three thousand eight hundred fifteen please').errors).toBe(0);
    expect(wordErrors("It's 5 o'clock.", "it's five o'clock").errors).toBe(0);
    expect(normaliseWords('My number is 9876543210')).toEqual(
      ['my', 'number', 'is', 'nine', 'eight', 'seven', 'six', 'five', 'four', 'three', 'two', 'one', 'zero'],
    );
  });

  it('pools errors over words across sentences', () => {
    const pairs = [
      { reference: 'yes', hypothesis: 'no' },
      { reference: 'one two three', hypothesis: 'one two three' },
    ];
    expect(wordErrorRate(pairs)).toBe(25);
    expect(wordErrorRate([])).toBe(0);
  });
});

describe('the hearing test set', () => {
  it('holds out the measured sentences and the human requests from the tuning phrases', () => {
    const tuning = new Set(TUNING_PHRASES.map((p) => normaliseWords(p).join(' ')));
    expect(MEASURED_SENTENCES.length).toBeGreaterThanOrEqual(40);
    expect(HUMAN_REQUESTS).toHaveLength(20);
    for (const sentence of [...MEASURED_SENTENCES, ...HUMAN_REQUESTS]) {
      expect(tuning.has(normaliseWords(sentence).join(' ')), sentence).toBe(false);
    }
  });
});
