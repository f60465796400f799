import { describe, expect, it } from 'vitest';
import { OVERLAPS, scoreOverlaps } from '../../bench/hearing/overlaps.js';
import { BackchannelInterruptionStrategy, MinWordsInterruptionStrategy } from '../../src/turns/index.js';

const score = scoreOverlaps;

describe('backchannels over the bot', () => {
  it('the scripted set has at least 40 overlaps of both kinds', () => {
    expect(OVERLAPS.length).toBeGreaterThanOrEqual(40);
    expect(OVERLAPS.filter((o) => o.interrupt).length).toBeGreaterThanOrEqual(20);
    expect(OVERLAPS.filter((o) => !o.interrupt).length).toBeGreaterThanOrEqual(20);
  });

  it('by default, no backchannel interrupts and every barge-in does', () => {
    expect(score()).toEqual({ falseBargeIns: [], missedBargeIns: [] });
  });

  it('one word of anything interrupted before (the old default): every backchannel was a false barge-in', () => {
    const { falseBargeIns, missedBargeIns } = score(() => new MinWordsInterruptionStrategy({ minWords: 1 }));
    expect(falseBargeIns).toHaveLength(OVERLAPS.filter((o) => !o.interrupt).length);
    expect(missedBargeIns).toEqual([]);
  });

  it('a turn that starts as a backchannel interrupts at its first other word', () => {
    const strategy = new BackchannelInterruptionStrategy();
    strategy.setText('okay');
    expect(strategy.shouldInterrupt()).toBe(false);
    strategy.setText('okay so');
    expect(strategy.shouldInterrupt()).toBe(true);
    strategy.reset();
    expect(strategy.shouldInterrupt()).toBe(false);
  });

  it('takes a list per language, or the caller’s own list', () => {
    const custom = new BackchannelInterruptionStrategy({ backchannels: ['ji', 'haan ji'] });
    custom.setText('haan ji');
    expect(custom.shouldInterrupt()).toBe(false);
    custom.setText('okay');
    expect(custom.shouldInterrupt()).toBe(true);
    expect(new BackchannelInterruptionStrategy({ language: 'en-IN' }).onlyBackchannels(['mm', 'hmm'])).toBe(true);
    expect(() => new BackchannelInterruptionStrategy({ language: 'xx' })).toThrow(/no backchannel list for language 'xx'/);
    expect(() => new BackchannelInterruptionStrategy({ minWords: 0 })).toThrow(RangeError);
    const two = new BackchannelInterruptionStrategy({ minWords: 2 });
    two.setText('wait');
    expect(two.shouldInterrupt()).toBe(false);
    two.setText('wait please');
    expect(two.shouldInterrupt()).toBe(true);
  });
});

describe('BackchannelInterruptionStrategy on interim text', () => {
  it('waits for the next word when the text ends inside a backchannel phrase', () => {
    const strategy = new BackchannelInterruptionStrategy();
    strategy.setText('all');
    expect(strategy.shouldInterrupt()).toBe(false);
    strategy.setText('all right');
    expect(strategy.shouldInterrupt()).toBe(false);
    strategy.setText('I');
    expect(strategy.shouldInterrupt()).toBe(false);
    strategy.setText('I want');
    expect(strategy.shouldInterrupt()).toBe(true);
    // A final that ends inside a phrase is not a backchannel.
    expect(strategy.onlyBackchannels(['all'])).toBe(false);
  });
});
