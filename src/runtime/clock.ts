// Clock: the runtime's only source of time. Every timer of a call (output pacing, turn and idle timeouts, the
// LLM's stall and retry waits, tool timeouts, reconnect backoff) is set through the Clock its pipeline was given,
// so a test can hand the whole call a virtual clock (`VirtualClock` in `piopiy-ai/testing`) and run minutes of
// conversation in milliseconds, the same way every time.

/** A timer set through a Clock. */
export interface ClockTimer {
  /** Lets the process exit while this timer is pending (a no-op on clocks that are not the system's). */
  unref(): unknown;
}

export interface Clock {
  /** Milliseconds since an arbitrary origin; never goes backwards. */
  now(): number;
  /** Calls `callback` once, `delayMs` from now (0 or less: as soon as possible, after what is running). */
  setTimeout(callback: () => void, delayMs: number): ClockTimer;
  /** Cancels a timer; undefined and timers that already fired are ignored. */
  clearTimeout(timer: ClockTimer | undefined): void;
}

/** Real time: `performance.now()` and Node's timers. */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  setTimeout: (callback: () => void, delayMs: number): ClockTimer => setTimeout(callback, delayMs),
  clearTimeout: (timer: ClockTimer | undefined): void => clearTimeout(timer as NodeJS.Timeout | undefined),
});

/** Resolves true after `delayMs` on `clock`, or false as soon as `signal` aborts (at once if it already has). */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve(false);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      resolve(false);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
