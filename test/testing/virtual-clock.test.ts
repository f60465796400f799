import { describe, expect, it } from 'vitest';
import { sleep } from '../../src/runtime/clock.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

describe('VirtualClock', () => {
  it('stands still until moved, then fires due timers in time order, equal times in the order they were set', async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`late@${clock.now()}`), 31);
    await new Promise((r) => setTimeout(r, 5));
    expect(fired).toEqual([]);
    await clock.advance(30);
    expect(fired).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.now()).toBe(30);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt).toBe(31);
  });

  it('treats a delay of 0, a negative delay or NaN as "as soon as possible", after what was already due', async () => {
    const clock = new VirtualClock({ startMs: 100 });
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(1), 0);
    clock.setTimeout(() => fired.push(2), -5);
    clock.setTimeout(() => fired.push(3), Number.NaN);
    await clock.advance(0);
    expect(fired).toEqual([1, 2, 3]);
    expect(clock.now()).toBe(100);
  });

  it('lets the promises a timer starts settle before the next timer fires', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    clock.setTimeout(() => {
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => log.push('chain of the first'));
    }, 5);
    clock.setTimeout(() => log.push('second'), 5);
    await clock.advance(5);
    expect(log).toEqual(['chain of the first', 'second']);
  });

  it('cancels timers, and ignores clearing undefined or a fired timer', async () => {
    const clock = new VirtualClock();
    let fired = 0;
    const timer = clock.setTimeout(() => fired++, 10);
    clock.clearTimeout(timer);
    clock.clearTimeout(undefined);
    await clock.advance(20);
    expect(fired).toBe(0);
    const again = clock.setTimeout(() => fired++, 1);
    await clock.advance(1);
    clock.clearTimeout(again);
    expect(fired).toBe(1);
    expect(clock.firedTimers).toBe(1);
  });

  it('runUntil jumps from timer to timer until the condition holds, and fails when nothing can happen any more', async () => {
    const clock = new VirtualClock();
    let ticks = 0;
    const tick = (): void => {
      ticks++;
      clock.setTimeout(tick, 1000);
    };
    clock.setTimeout(tick, 1000);
    await clock.runUntil(() => ticks === 60);
    expect(clock.now()).toBe(60_000);

    const idle = new VirtualClock();
    await expect(idle.runUntil(() => false, { description: 'the answer' })).rejects.toThrow(
      /the answer never held, and no timer is left to fire/,
    );
    await expect(clock.runUntil(() => false, { limitMs: 5000 })).rejects.toThrow(/did not hold within 5000 simulated ms/);
  });

  it('drives sleep(), which an abort ends early with false', async () => {
    const clock = new VirtualClock();
    const slept = sleep(clock, 500);
    const controller = new AbortController();
    const aborted = sleep(clock, 500, controller.signal);
    controller.abort();
    expect(await aborted).toBe(false);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(500);
    expect(await slept).toBe(true);
    expect(await sleep(clock, 10, AbortSignal.abort())).toBe(false);
  });
});
