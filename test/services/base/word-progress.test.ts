// WordProgress: which words of a sentence cut short were heard in full, from the vendor's word timings.
import { describe, expect, it } from 'vitest';
import { WordProgress } from '../../../src/services/base/word-progress.js';

describe('WordProgress', () => {
  it('goes on from the last word begun before the audio stopped (it may be cut in the middle)', () => {
    const progress = new WordProgress('Your order ships on Friday.');
    expect(progress.note('Your', 0)).toBe(0);
    expect(progress.note('order', 300)).toBe(1);
    expect(progress.note('ships', 700)).toBe(2);
    expect(progress.matched).toBe(3);
    // Audio up to 800 ms arrived: "ships" had begun, so it is said again whole.
    expect(progress.wordsSaidBy(800)).toBe(2);
    expect(progress.textFrom(2)).toBe('ships on Friday.');
    // A word whose timing came but none of its audio is not said.
    expect(progress.wordsSaidBy(650)).toBe(1);
    expect(progress.wordsSaidBy(0)).toBe(0);
  });

  it('matches words whatever their case and punctuation, and skips marks no vendor times', () => {
    const progress = new WordProgress('Well — "yes", I think so!');
    expect(progress.note('well', 0)).toBe(0);
    expect(progress.note('Yes,', 250)).toBe(2);
    expect(progress.note('i', 500)).toBe(3);
    expect(progress.wordsSaidBy(600)).toBe(3);
    expect(progress.textFrom(3)).toBe('I think so!');
  });

  it('ignores the late words of the previous sentence, and gives up on timings that do not follow the text', () => {
    const progress = new WordProgress('Twenty five euros.');
    expect(progress.note('before.', 0)).toBe(-1);
    expect(progress.note('Twenty', 10)).toBe(0);
    // A vendor that spelled something differently: no word counts as said any more (the whole sentence again).
    expect(progress.note('5', 300)).toBe(-1);
    expect(progress.note('euros.', 600)).toBe(-1);
    expect(progress.matched).toBe(0);
    expect(progress.wordsSaidBy(10_000)).toBe(0);
    expect(progress.words).toBe(3);
  });
});
