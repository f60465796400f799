// Fake servers a test starts besides its file's main one (with other options): each is closed after the test.
import { afterEach } from 'vitest';

/** A starter of extra fakes: `start(options)`, with every fake it started closed after each test. */
export function extraFakes<O, F extends { close(): Promise<void> }>(start: (options: O) => Promise<F>): (options: O) => Promise<F> {
  const started: F[] = [];
  afterEach(async () => {
    for (const fake of started.splice(0)) await fake.close();
  });
  return async (options) => {
    const fake = await start(options);
    started.push(fake);
    return fake;
  };
}
