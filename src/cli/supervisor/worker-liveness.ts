// The supervisor's liveness check of its workers: a ping over IPC every interval, answered by the worker's event
// loop (worker-main.ts). A worker that owes an answer past the timeout is hung (a busy loop, a deadlocked native
// call): nothing it serves can speak, so it is reported for killing and replacing like a crashed one. A worker that
// has not started serving by the start deadline (its agent file hangs while loading: a top-level await on a server
// that never answers) is reported too; otherwise its slot would stay empty for good.
import type { Clock, ClockTimer } from '../../runtime/clock.js';
import type { WorkersHealth } from '../../operations/index.js';
import type { WorkerProcess } from './worker-process.js';

export interface WorkerLivenessOptions {
  /** How often each worker is pinged. */
  readonly intervalMs: number;
  /** A worker that has not answered for this long is unresponsive. */
  readonly timeoutMs: number;
  /** A worker that is not serving this long after it was first seen has hung while starting. */
  readonly startTimeoutMs: number;
}

/** Why a worker is reported: it stopped answering while serving, or never started serving. */
export type UnresponsiveReason = 'hung' | 'start-timeout';

/**
 * Defaults. Every 5 s costs nothing (one small IPC message per worker). 15 s to give up: three missed rounds, so a
 * long GC pause or a starved core on a loaded machine (multi-second stalls happen there) does not kill a healthy
 * worker and its calls, while a caller left in silence for 15 s is lost anyway. It also acts well before a
 * Kubernetes liveness probe of the whole pod (deploy/: 3 failures 10 s apart) would restart every worker.
 * 120 s to start: loading an agent file with its models takes seconds, and on a loaded machine tens of seconds;
 * a worker still not serving after two minutes is not going to, and it has no call to lose.
 */
export const DEFAULT_WORKER_LIVENESS: WorkerLivenessOptions = { intervalMs: 5_000, timeoutMs: 15_000, startTimeoutMs: 120_000 };

export class WorkerLiveness {
  private timer: ClockTimer | undefined;
  /** When each worker was first seen (clock ms), for the start deadline. */
  private readonly firstSeen = new WeakMap<WorkerProcess, number>();

  constructor(
    private readonly options: WorkerLivenessOptions,
    private readonly workers: () => Iterable<WorkerProcess>,
    private readonly onUnresponsive: (worker: WorkerProcess, silentMs: number, reason: UnresponsiveReason) => void,
    private readonly clock: Clock,
  ) {}

  start(): void {
    const tick = (): void => {
      this.check();
      this.timer = this.clock.setTimeout(tick, this.options.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** For /healthz: how many answer, and which owe an answer for longer than one interval (not yet killed). */
  health(): WorkersHealth {
    const now = this.clock.now();
    let responsive = 0;
    const late: number[] = [];
    for (const worker of this.workers()) {
      if (!worker.alive) continue;
      if (worker.served && worker.unansweredMs(now) > this.options.intervalMs) late.push(worker.slot);
      else responsive++;
    }
    return { responsive, late };
  }

  private check(): void {
    const now = this.clock.now();
    for (const worker of this.workers()) {
      if (!worker.alive || worker.unresponsive) continue;
      if (!worker.served) {
        // Not judged by its pings while starting: importing an agent file may block the loop for seconds (compiling,
        // loading models), on a loaded machine longer than any sane ping timeout. Only the start deadline applies.
        const since = this.firstSeen.get(worker) ?? now;
        this.firstSeen.set(worker, since);
        if (now - since >= this.options.startTimeoutMs) this.onUnresponsive(worker, now - since, 'start-timeout');
        else worker.ping(now);
        continue;
      }
      const silentMs = worker.unansweredMs(now);
      if (silentMs >= this.options.timeoutMs) this.onUnresponsive(worker, silentMs, 'hung');
      else worker.ping(now);
    }
  }
}
