// The process-wide routing of calls' uncaught errors leaves the process as it found it: installed once however many
// Agents ask, a listener for rejections only beside the program's own, and nothing left behind once released.
import { describe, expect, it } from 'vitest';
import { installCallErrorGuard } from '../../src/agent/call-errors.js';

const counts = () => ({
  uncaughtExceptionMonitor: process.listenerCount('uncaughtExceptionMonitor'),
  uncaughtException: process.listenerCount('uncaughtException'),
  unhandledRejection: process.listenerCount('unhandledRejection'),
  newListener: process.listenerCount('newListener'),
  removeListener: process.listenerCount('removeListener'),
});

describe('installCallErrorGuard', () => {
  it('adds one monitor for any number of Agents, never an uncaughtException listener, and removes all on release', () => {
    const before = counts();
    const releases = [installCallErrorGuard(), installCallErrorGuard()];
    const during = counts();
    expect(during.uncaughtExceptionMonitor).toBe(before.uncaughtExceptionMonitor + 1);
    expect(during.uncaughtException).toBe(before.uncaughtException);
    releases[0]!();
    releases[0]!(); // releasing twice counts once
    expect(counts()).toEqual(during);
    releases[1]!();
    expect(counts()).toEqual(before);
    expect(process.hasUncaughtExceptionCaptureCallback()).toBe(false);
  });

  it('listens for rejections only while the program does', () => {
    // vitest listens for rejections itself: set its listeners aside to see the process as a plain program is.
    const theirs = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    const release = installCallErrorGuard();
    try {
      expect(process.listenerCount('unhandledRejection')).toBe(0);
      const mine = (): void => {};
      process.on('unhandledRejection', mine);
      expect(process.listenerCount('unhandledRejection')).toBe(2);
      process.off('unhandledRejection', mine);
      expect(process.listenerCount('unhandledRejection')).toBe(0);
    } finally {
      release();
      for (const listener of theirs) process.on('unhandledRejection', listener);
    }
  });
});
