// Interruption strategies: when speech over the bot counts as a barge-in.
import { describe, expect, it } from 'vitest';
import {
  MinDurationInterruptionStrategy,
  MinWordsInterruptionStrategy,
  type InterruptionStrategy,
} from '../../src/turns/index.js';

describe('MinWordsInterruptionStrategy', () => {
  it('defaults to one word', () => {
    const strategy = new MinWordsInterruptionStrategy();
    expect(strategy.minWords).toBe(1);
    expect(strategy.shouldInterrupt()).toBe(false);
    strategy.setText('stop');
    expect(strategy.shouldInterrupt()).toBe(true);
  });

  it.each([
    ['', 0],
    ['   ', 0],
    ['hello', 1],
    ['Hello, world!', 2],
    ['wait... what?', 2],
    ['  spaced\tout\nwords  ', 3],
    ['- ... !!', 0], // punctuation alone is not a word
    ['uh - huh', 2],
    ["don't stop", 2],
    ['call 911 now', 3], // digits count
    ['¿qué pasa?', 2], // letters of any script
    ['नमस्ते दोस्त', 2],
  ])('counts the words of %j as %i', (text, words) => {
    const atLeast = new MinWordsInterruptionStrategy({ minWords: Math.max(1, words) });
    atLeast.setText(text);
    expect(atLeast.shouldInterrupt()).toBe(words >= 1);
    const moreThan = new MinWordsInterruptionStrategy({ minWords: words + 1 });
    moreThan.setText(text);
    expect(moreThan.shouldInterrupt()).toBe(false);
  });

  it('uses the latest full text (not a running sum) and forgets it on reset', () => {
    const strategy = new MinWordsInterruptionStrategy({ minWords: 3 });
    strategy.setText('one two');
    expect(strategy.shouldInterrupt()).toBe(false);
    strategy.setText('one two'); // the same interim again is still two words
    expect(strategy.shouldInterrupt()).toBe(false);
    strategy.setText('one two three');
    expect(strategy.shouldInterrupt()).toBe(true);
    strategy.reset();
    expect(strategy.shouldInterrupt()).toBe(false);
  });

  it('ignores audio', () => {
    const strategy = new MinWordsInterruptionStrategy({ minWords: 1 });
    strategy.appendAudio();
    expect(strategy.shouldInterrupt()).toBe(false);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects minWords %s', (minWords) => {
    expect(() => new MinWordsInterruptionStrategy({ minWords })).toThrow(RangeError);
  });
});

describe('MinDurationInterruptionStrategy', () => {
  it('defaults to half a second', () => {
    expect(new MinDurationInterruptionStrategy().seconds).toBe(0.5);
  });

  it('measures the audio time, at any sample rate, across chunks', () => {
    const strategy = new MinDurationInterruptionStrategy({ seconds: 0.3 });
    strategy.appendAudio(new Int16Array(1600), 16000); // 0.1 s
    strategy.appendAudio(new Int16Array(800), 8000); // 0.1 s
    expect(strategy.shouldInterrupt()).toBe(false);
    strategy.appendAudio(new Int16Array(2399), 24000); // 0.09996 s: just short
    expect(strategy.shouldInterrupt()).toBe(false);
    strategy.appendAudio(new Int16Array(1), 24000);
    expect(strategy.shouldInterrupt()).toBe(true);
  });

  it('ignores text and forgets the audio on reset', () => {
    const strategy: InterruptionStrategy = new MinDurationInterruptionStrategy({ seconds: 0.1 });
    strategy.setText('a very long sentence of many words');
    expect(strategy.shouldInterrupt()).toBe(false);
    strategy.appendAudio(new Int16Array(1600), 16000);
    expect(strategy.shouldInterrupt()).toBe(true);
    strategy.reset();
    expect(strategy.shouldInterrupt()).toBe(false);
  });

  it('zero seconds interrupts at once', () => {
    expect(new MinDurationInterruptionStrategy({ seconds: 0 }).shouldInterrupt()).toBe(true);
  });

  it.each([-0.1, Number.NaN, Number.POSITIVE_INFINITY])('rejects seconds %s', (seconds) => {
    expect(() => new MinDurationInterruptionStrategy({ seconds })).toThrow(RangeError);
  });
});
