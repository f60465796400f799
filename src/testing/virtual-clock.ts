// VirtualClock: simulated time for tests. Time stands still until the test moves it; moving it fires the timers
// that fall due, in order, and lets the promises they start settle before the next one. A call whose every
// timer is on this clock (give it to VoiceAgent.action({ clock }) and MemoryTransport({ clock })) runs as fast as
// the CPU allows and the same way on every run: nothing depends on how busy the machine is.
//
// What it cannot simulate: work that finishes on another thread or a socket (a vendor fake over HTTP, Silero's
// inference thread). Such work completes in real time while simulated time jumps, so use in-process services
// (ScriptedSTTService, ScriptedLLMService, FakeTTSService, EnergyVAD) for simulated-time tests.
import type { Clock, ClockTimer } from '../runtime/clock.js';

class VirtualTimer implements ClockTimer {
  cancelled = false;

  constructor(
    readonly dueMs: number,
    readonly order: number,
    readonly callback: () => void,
  ) {}

  unref(): this {
    return this;
  }
}

export interface VirtualClockOptions {
  /** The time `now()` starts at. Default 0. */
  startMs?: number;
  /**
   * Event-loop turns given to the code a timer started before the next timer fires (promise chains settle in
   * one turn; a step through `setImmediate` takes one more). Default 2.
   */
  settleTurns?: number;
}

export interface RunUntilOptions {
  /** Simulated milliseconds after which `runUntil` gives up with an error. Default 10 minutes. */
  limitMs?: number;
  /** What the error says is awaited. */
  description?: string;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class VirtualClock implements Clock {
  private nowMs: number;
  private readonly settleTurns: number;
  /** Pending timers, ordered by due time, then by the order they were set. */
  private timers: VirtualTimer[] = [];
  private setCount = 0;
  private firedCount = 0;

  constructor(options: VirtualClockOptions = {}) {
    this.nowMs = options.startMs ?? 0;
    this.settleTurns = Math.max(1, options.settleTurns ?? 2);
  }

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, delayMs: number): ClockTimer {
    // Like Node: a delay that is not a positive number means "as soon as possible".
    const delay = delayMs > 0 ? delayMs : 0;
    const timer = new VirtualTimer(this.nowMs + delay, this.setCount++, callback);
    // Insert after every timer due at the same time or earlier: equal times fire in the order they were set.
    let low = 0;
    let high = this.timers.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.timers[mid]!.dueMs <= timer.dueMs) low = mid + 1;
      else high = mid;
    }
    this.timers.splice(low, 0, timer);
    return timer;
  }

  clearTimeout(timer: ClockTimer | undefined): void {
    if (!(timer instanceof VirtualTimer) || timer.cancelled) return;
    timer.cancelled = true;
    const index = this.timers.indexOf(timer);
    if (index >= 0) this.timers.splice(index, 1);
  }

  /** Timers waiting to fire. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Timers fired so far. */
  get firedTimers(): number {
    return this.firedCount;
  }

  /** When the next timer is due, or undefined when none is pending. */
  get nextTimerAt(): number | undefined {
    return this.timers[0]?.dueMs;
  }

  /** Lets what is running settle (promise chains, `setImmediate` steps) without moving time. */
  async settle(): Promise<void> {
    for (let turn = 0; turn < this.settleTurns; turn++) await nextTurn();
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way (each at its own time). */
  async advance(ms: number): Promise<void> {
    const until = this.nowMs + Math.max(0, ms);
    await this.settle();
    while (this.timers.length !== 0 && this.timers[0]!.dueMs <= until) await this.fireNext();
    this.nowMs = until;
    await this.settle();
  }

  /**
   * Runs the simulation until `condition()` holds: lets what is running settle, then jumps to the next timer and
   * fires it, and so on. Fails when no timer is left to fire (nothing more can happen) or after `limitMs` of
   * simulated time.
   */
  async runUntil(condition: () => boolean, options: RunUntilOptions = {}): Promise<void> {
    const limitAt = this.nowMs + (options.limitMs ?? 600_000);
    const what = options.description ?? 'the condition';
    await this.settle();
    while (!condition()) {
      const next = this.timers[0];
      if (next === undefined) throw new Error(`VirtualClock.runUntil: ${what} never held, and no timer is left to fire`);
      if (next.dueMs > limitAt) {
        throw new Error(`VirtualClock.runUntil: ${what} did not hold within ${options.limitMs ?? 600_000} simulated ms`);
      }
      await this.fireNext();
    }
  }

  private async fireNext(): Promise<void> {
    const timer = this.timers.shift()!;
    if (timer.dueMs > this.nowMs) this.nowMs = timer.dueMs;
    this.firedCount++;
    timer.callback();
    await this.settle();
  }
}
