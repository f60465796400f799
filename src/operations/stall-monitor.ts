// Event-loop stall monitor: a timer that should fire every `intervalMs` notes how late it fired. Lateness beyond
// `thresholdMs` means something blocked the loop (a synchronous loop, a huge JSON parse, native code on the main
// thread); every call's audio stopped for that long, so it is logged with the calls that were active and counted.
// It reads real time on purpose (performance.now, Node's timers), never the injected Clock: a stall is a fact about
// the process, and simulated time cannot block.
import type { Logger } from '../logging/index.js';

export interface StallMonitorOptions {
  /** A block longer than this is a stall. Default 100 ms. */
  thresholdMs?: number;
  /** How often the loop is sampled. Default 50 ms (the timer itself costs ~20 wake-ups a second). */
  intervalMs?: number;
  /** The calls in progress, named in the stall's log line. */
  activeCallIds: () => readonly string[];
  onStall?: (stall: EventLoopStall) => void;
  logger: Logger;
}

export interface EventLoopStall {
  readonly durationMs: number;
  readonly callIds: readonly string[];
  /** performance.now() when the stall was noticed (its end). */
  readonly at: number;
}

/** How far back the "recent delay" that /healthz reads reaches. */
const RECENT_WINDOW_MS = 10_000;

export class StallMonitor {
  private readonly thresholdMs: number;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private lastTickAt = 0;
  private stallCount = 0;
  /** The largest lateness of the current and the previous window: a "recent" maximum without keeping samples. */
  private windowStartedAt = 0;
  private windowMaxMs = 0;
  private previousWindowMaxMs = 0;

  constructor(private readonly options: StallMonitorOptions) {
    this.thresholdMs = options.thresholdMs ?? 100;
    this.intervalMs = options.intervalMs ?? 50;
    if (!(this.thresholdMs > 0)) throw new RangeError(`StallMonitor: thresholdMs must be a positive number, got ${options.thresholdMs}`);
    if (!(this.intervalMs > 0)) throw new RangeError(`StallMonitor: intervalMs must be a positive number, got ${options.intervalMs}`);
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.lastTickAt = performance.now();
    this.windowStartedAt = this.lastTickAt;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref(); // monitoring never keeps a process alive
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stalls seen since start. */
  get stalls(): number {
    return this.stallCount;
  }

  /** The longest event-loop delay seen in the last 10 to 20 seconds, in ms. */
  get recentMaxDelayMs(): number {
    return Math.max(this.windowMaxMs, this.previousWindowMaxMs, this.currentDelayMs());
  }

  /** How late the monitor's timer is right now (a loop blocked at this moment cannot answer, but a caller can ask). */
  private currentDelayMs(): number {
    if (this.timer === undefined) return 0;
    return Math.max(0, performance.now() - this.lastTickAt - this.intervalMs);
  }

  private tick(): void {
    const now = performance.now();
    const lateMs = Math.max(0, now - this.lastTickAt - this.intervalMs);
    this.lastTickAt = now;
    if (now - this.windowStartedAt >= RECENT_WINDOW_MS) {
      this.previousWindowMaxMs = this.windowMaxMs;
      this.windowMaxMs = 0;
      this.windowStartedAt = now;
    }
    if (lateMs > this.windowMaxMs) this.windowMaxMs = lateMs;
    if (lateMs <= this.thresholdMs) return;
    this.stallCount++;
    const stall: EventLoopStall = { durationMs: Math.round(lateMs), callIds: this.options.activeCallIds(), at: now };
    this.options.logger.warn(
      { stallMs: stall.durationMs, callIds: stall.callIds },
      `event loop blocked for ${stall.durationMs} ms; every call's audio stalled meanwhile`,
    );
    this.options.onStall?.(stall);
  }
}
