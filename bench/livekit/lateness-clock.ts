// The system clock, with a record of how late each of its timers fired: handed to the echo agent's pipelines, it
// measures the output transport's audio ticks (one per 20 ms chunk while audio plays), i.e. how far behind real time
// the agent hands its audio to rtc-node. The transport writes 200 ms ahead, so a tick later than that is a gap the
// caller hears; below it the lateness is absorbed by the AudioSource's queue.
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { systemClock, type Clock, type ClockTimer } from '../../src/runtime/clock.js';

export class LatenessClock implements Clock {
  /** Lateness in microseconds (a histogram records integers >= 1: 1 µs stands for "on time"). */
  private histogram: RecordableHistogram = createHistogram();

  now(): number {
    return performance.now();
  }

  setTimeout(callback: () => void, delayMs: number): ClockTimer {
    const due = performance.now() + Math.max(0, delayMs);
    return systemClock.setTimeout(() => {
      this.histogram.record(Math.max(1, Math.round((performance.now() - due) * 1000)));
      callback();
    }, delayMs);
  }

  clearTimeout(timer: ClockTimer | undefined): void {
    systemClock.clearTimeout(timer);
  }

  /** Ticks and their lateness (ms) since the last call, then starts afresh. */
  take(): { ticks: number; p50: number; p99: number; max: number } {
    const h = this.histogram;
    this.histogram = createHistogram();
    const ms = (us: number): number => (h.count === 0 ? 0 : us / 1000);
    return { ticks: h.count, p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
  }
}
