// What the carrier tests (test/transports/<carrier>/) share: waiting on real time, and the check that an
// interrupted greeting keeps only the words the carrier acknowledged as played.
import { expect } from 'vitest';

export async function until(predicate: () => boolean, timeoutMs = 10_000, what = 'the condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** 40 one-letter words: at 60 ms a character, 120 ms a word. */
export const LONG_GREETING = Array.from({ length: 40 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(' ');

/**
 * The kept text of the interrupted LONG_GREETING against what the caller heard (`heardMs` of it, played by the
 * fake before the clear): acknowledged is what was played a round trip (400 ms, 3-4 words) ago, so the history
 * keeps fewer words than were heard by about that, never more. Counting what was sent would keep more.
 */
export function expectKeptOnlyAcknowledged(kept: { text: string; interrupted: boolean }, heardMs: number, msPerCharacter = 60): void {
  expect(kept.interrupted).toBe(true);
  expect(LONG_GREETING.startsWith(kept.text)).toBe(true);
  const words = LONG_GREETING.split(' ');
  const keptWords = kept.text.split(' ').filter((w) => w !== '');
  const greetingMs = LONG_GREETING.length * msPerCharacter;
  const heardShare = Math.floor((words.length * Math.min(heardMs, greetingMs)) / greetingMs);
  expect(keptWords.length).toBeLessThanOrEqual(heardShare - 2);
  expect(keptWords.length).toBeGreaterThanOrEqual(heardShare - 6);
}
