// The supervisor's liveness check of its workers: a ping over IPC every interval, answered by the worker's event
// loop (worker-main.ts). A worker that owes an answer past the timeout is hung (a busy loop, a deadlocked native
// call): nothing it serves can speak, so it is reported for killing and replacing like a crashed one.
import type { Clock, ClockTimer } from '../../runtime/clock.js';
import type { WorkersHealth } from '../../operations/index.js';
import type { WorkerProcess } from './worker-process.js';

export interface WorkerLivenessOptions {
  /** How often each worker is pinged. */
  readonly intervalMs: number;
  /** A worker that has not answered for this long is unresponsive. */
  readonly timeoutMs: number;
}

/**
 * Defaults. Every 5 s costs nothing (one small IPC message per worker). 15 s to give up: three missed rounds, so a
 * long GC pause or a starved core on a loaded machine (multi-second stalls happen there) does not kill a healthy
 * worker and its calls, while a caller left in silence for 15 s is lost anyway. It also acts well before a
 * Kubernetes liveness probe of the whole pod (deploy/: 3 failures 10 s apart) would restart every worker.
 */
export const DEFAULT_WORKER_LIVENESS: WorkerLivenessOptions = { intervalMs: 5_000, timeoutMs: 15_000 };

export class WorkerLiveness {
  private timer: ClockTimer | undefined;

  constructor(
    private readonly options: WorkerLivenessOptions,
    private readonly workers: () => Iterable<WorkerProcess>,
    private readonly onUnresponsive: (worker: WorkerProcess, silentMs: number) => void,
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
      const silentMs = worker.unansweredMs(now);
      // Judged only once its Agent is serving: importing an agent file may block the loop for seconds (compiling,
      // loading models), and on a loaded machine longer than any sane timeout; that worker has no call to lose.
      if (worker.served && silentMs >= this.options.timeoutMs) this.onUnresponsive(worker, silentMs);
      else worker.ping(now);
    }
  }
}
