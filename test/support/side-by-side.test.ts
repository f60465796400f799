import { describe, expect, it } from 'vitest';
import { sideBySide } from './side-by-side.js';

/** A job that records when it runs and finishes when `finish()` is called. */
function job(name: string, log: string[]): { run: () => Promise<string>; finish: () => void } {
  let finish = (): void => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    run: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
      return name;
    },
    finish: () => finish(),
  };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('sideBySide', () => {
  it('runs at most the given number at a time, the others in the order they came', async () => {
    const log: string[] = [];
    const limit = sideBySide(2);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => job(name, log));
    const results = [a, b, c, d].map((j) => limit(j!.run));
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    b!.finish();
    await settle();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    a!.finish();
    await settle();
    expect(log.slice(4)).toEqual(['end a', 'start d']);
    c!.finish();
    d!.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('frees the slot of a job that fails', async () => {
    const limit = sideBySide(1);
    await expect(limit(() => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(await limit(() => Promise.resolve('next'))).toBe('next');
  });

  it('refuses a slot count that is not a positive integer', () => {
    expect(() => sideBySide(0)).toThrow('slots must be a positive integer, got 0');
  });
});
