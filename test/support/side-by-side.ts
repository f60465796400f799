// Tests of one file that run side by side (`describe.concurrent`) but must not all run at once: real-time calls
// share one event loop (a blocked loop loses their packets), CLI processes share two cores.

/** Runs at most `slots` of the functions given to it at a time; the others wait their turn, in order. */
export function sideBySide(slots: number): <T>(run: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(slots) || slots < 1) throw new Error(`sideBySide: slots must be a positive integer, got ${slots}`);
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(run: () => Promise<T>): Promise<T> => {
    if (running >= slots) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await run();
    } finally {
      // The slot passes straight to the next in line, so `running` counts it still taken.
      const next = waiting.shift();
      if (next === undefined) running -= 1;
      else next();
    }
  };
}
