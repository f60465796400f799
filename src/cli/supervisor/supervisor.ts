// The supervisor of `piopiy-ai start --workers N`: it alone holds the Piopiy signaling connection and hands each
// invite to the least-loaded worker process (worker-process.ts), forwards cancels to the worker holding the room,
// replaces a worker that dies or outgrows its memory limit, and drains them all on SIGTERM. Why processes and IPC
// rather than node:cluster: docs/architecture.md, "All cores: a supervisor and worker processes".
import type { Logger } from '../../logging/index.js';
import type { Clock } from '../../runtime/clock.js';
import { parseInvite } from '../../agent/invite.js';
import type { InviteSource } from '../../agent/invite-source.js';
import { AgentOperations, type OperationsOptions, type WorkerMetricsSnapshot } from '../../operations/index.js';
import { addWorkerMetrics, type RestartCounts } from './supervisor-metrics.js';
import { CliError } from '../errors.js';
import { WorkerLiveness, type UnresponsiveReason, type WorkerLivenessOptions } from './worker-liveness.js';
import { WorkerProcess, type WorkerEvent } from './worker-process.js';

export interface SupervisorOptions {
  readonly agentFile: string;
  /** The command line as typed, for the worker's error messages. */
  readonly commandLine: string;
  readonly workers: number;
  /** A worker whose resident memory passes this is retired (its calls end with the error goodbye) and replaced. */
  readonly workerMemoryMb: number | undefined;
  /** How long SIGTERM lets the workers' calls finish; the workers read the same PIOPIY_DRAIN_SECS. */
  readonly drainMs: number;
  /** How often workers are pinged, and how long one may not answer before it is killed and replaced. */
  readonly liveness: WorkerLivenessOptions;
  readonly inviteSource: InviteSource;
  readonly operations: OperationsOptions | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The first worker exited before its Agent connected: it has printed why (the agent file's error) already. */
export class FirstWorkerFailed extends Error {
  constructor(readonly exitCode: number) {
    super(`the first worker exited with code ${exitCode} before its Agent connected`);
    this.name = 'FirstWorkerFailed';
  }
}

/** A retired worker's callers get this long for the goodbye before the process is killed (Agent ends them in 15 s). */
const RETIRE_KILL_MS = 20_000;
/** After the drain, workers get this long to close their calls' media before they are killed. */
const DRAIN_GRACE_MS = 5_000;
/** A worker that dies this soon after starting is crash-looping: its replacement waits (doubling, up to 30 s). */
const QUICK_CRASH_MS = 5_000;
/**
 * A scrape waits this long for each worker's registry; a worker that is late (busy, exiting) is left out of that
 * scrape rather than holding it past Prometheus's default 10 s scrape timeout.
 */
const WORKER_METRICS_TIMEOUT_MS = 2_000;

export class Supervisor {
  private readonly workers = new Map<number, WorkerProcess>();
  private readonly roomWorker = new Map<string, WorkerProcess>();
  private readonly operations: AgentOperations | undefined;
  private readonly liveness: WorkerLiveness;
  private readonly restartCounts: RestartCounts = { crashed: 0, memory: 0, unresponsive: 0 };
  private quickCrashes = 0;
  private draining = false;
  private drainPromise: Promise<void> | undefined;
  private firstReady: { resolve: () => void; reject: (error: Error) => void } | undefined;

  constructor(private readonly options: SupervisorOptions) {
    this.liveness = new WorkerLiveness(options.liveness, () => this.workers.values(), (worker, silentMs, reason) => this.killUnresponsive(worker, silentMs, reason), options.clock);
    if (options.operations !== undefined) {
      this.operations = new AgentOperations(options.operations, () => this.status(), options.logger, {
        workerMetrics: () => this.workerMetrics(),
        workersHealth: () => this.liveness.health(),
      });
      addWorkerMetrics(this.operations.metrics.registry, this.workers, () => this.restartCounts);
    }
  }

  /**
   * Starts the first worker (its agent file's errors are the command's), then the others, then signaling. On a
   * failure nothing was served yet: the workers are killed at once and the error is the command's.
   */
  async start(): Promise<void> {
    try {
      await this.operations?.start();
      const first = new Promise<void>((resolve, reject) => (this.firstReady = { resolve, reject }));
      this.spawn(0);
      this.liveness.start();
      await first;
      for (let slot = 1; slot < this.options.workers; slot++) this.spawn(slot);
      await this.options.inviteSource.open({
        onInvite: (payload) => this.route(payload),
        onCancel: (payload) => this.cancel(payload),
        onFail: () => undefined,
      });
    } catch (error) {
      this.draining = true;
      this.liveness.stop();
      for (const worker of this.workers.values()) worker.kill('SIGKILL');
      await this.operations?.close();
      throw error;
    }
    this.options.logger.info({ workers: this.options.workers }, 'supervisor serving calls');
  }

  /** Calls in progress per worker slot (what /metrics reports). */
  activeCallsBySlot(): Map<number, number> {
    return new Map([...this.workers].map(([slot, worker]) => [slot, worker.rooms.size]));
  }

  /** Stops taking calls, lets every worker drain (SIGTERM to each), resolves when all have exited. */
  shutdown(): Promise<void> {
    this.drainPromise ??= this.drain();
    return this.drainPromise;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    this.options.inviteSource.close();
    const exits = [...this.workers.values()].filter((w) => w.alive).map((worker) => this.exitOf(worker));
    for (const worker of this.workers.values()) worker.kill('SIGTERM');
    const timer = this.options.clock.setTimeout(() => {
      for (const worker of this.workers.values()) worker.kill('SIGKILL');
    }, this.options.drainMs + DRAIN_GRACE_MS);
    await Promise.all(exits);
    this.options.clock.clearTimeout(timer);
    this.liveness.stop();
    await this.operations?.close();
    this.options.logger.info('supervisor stopped');
  }

  private exitOf(worker: WorkerProcess): Promise<void> {
    return new Promise((resolve) => {
      const poll = (): void => {
        if (!worker.alive) resolve();
        else this.options.clock.setTimeout(poll, 50);
      };
      poll();
    });
  }

  private status(): { connected: boolean; draining: boolean; activeCallIds: string[]; maxCalls: number | undefined } {
    const anyAvailable = [...this.workers.values()].some((w) => w.available);
    // "connected" for readiness means: invites can arrive and some worker can take one.
    return { connected: this.options.inviteSource.connected && anyAvailable, draining: this.draining, activeCallIds: [...this.roomWorker.keys()], maxCalls: undefined };
  }

  /** Every live worker's registry, labelled by its slot; a worker that does not answer in time is left out. */
  private async workerMetrics(): Promise<WorkerMetricsSnapshot[]> {
    const live = [...this.workers].filter(([, worker]) => worker.alive);
    const answers = await Promise.all(live.map(([, worker]) => worker.requestMetrics(this.options.clock, WORKER_METRICS_TIMEOUT_MS)));
    return live.flatMap(([slot], i) => {
      const metrics = answers[i];
      return metrics === undefined ? [] : [{ worker: String(slot), metrics }];
    });
  }

  private killUnresponsive(worker: WorkerProcess, silentMs: number, reason: UnresponsiveReason): void {
    worker.unresponsive = true;
    const where = { worker: worker.slot, pid: worker.pid, silentMs: Math.round(silentMs), calls: worker.rooms.size };
    if (reason === 'hung') this.options.logger.error(where, 'worker unresponsive (its event loop answers no ping): killing it; its calls end; replacing it');
    else this.options.logger.error(where, 'worker did not start serving in time (its agent file hangs while loading): killing it; replacing it');
    worker.kill('SIGKILL');
  }

  private spawn(slot: number): void {
    const worker = new WorkerProcess(slot, this.options.agentFile, this.options.commandLine, (w, event) => this.onWorkerEvent(w, event));
    this.workers.set(slot, worker);
    this.options.logger.debug({ worker: slot, pid: worker.pid }, 'worker started');
  }

  /** The least-loaded worker that takes calls; ties go to the lowest slot. */
  private leastLoaded(): WorkerProcess | undefined {
    let best: WorkerProcess | undefined;
    for (const worker of this.workers.values()) {
      if (worker.available && (best === undefined || worker.rooms.size < best.rooms.size)) best = worker;
    }
    return best;
  }

  private route(payload: unknown): boolean {
    const parsed = parseInvite(payload);
    if (!parsed.ok) {
      this.options.logger.warn({ field: parsed.field }, `join_room ignored: ${parsed.field} ${parsed.problem}`);
      return false;
    }
    const { roomName, callId } = parsed.invite;
    if (this.draining) {
      this.operations?.callRefused('draining');
      this.options.logger.warn({ callId }, 'join_room ignored: shutting down');
      return false;
    }
    if (this.roomWorker.has(roomName)) return false;
    const worker = this.leastLoaded();
    if (worker === undefined) {
      this.operations?.callRefused('capacity');
      this.options.logger.warn({ callId }, 'join_room refused: no worker is ready');
      return false;
    }
    worker.invite(roomName, payload);
    this.roomWorker.set(roomName, worker);
    return true;
  }

  private cancel(payload: unknown): void {
    const room = typeof payload === 'object' && payload !== null ? (payload as { room_name?: unknown }).room_name : undefined;
    if (typeof room === 'string') this.roomWorker.get(room)?.send({ type: 'cancel', payload });
  }

  private onWorkerEvent(worker: WorkerProcess, event: WorkerEvent): void {
    const { logger } = this.options;
    switch (event.type) {
      case 'ready':
        logger.debug({ worker: worker.slot, pid: worker.pid }, 'worker ready');
        this.firstReady?.resolve();
        this.firstReady = undefined;
        return;
      case 'call-ended':
        if (this.roomWorker.get(event.roomName) === worker) this.roomWorker.delete(event.roomName);
        return;
      case 'memory':
        this.checkMemory(worker);
        return;
      case 'exit':
        this.onExit(worker, event);
    }
  }

  private checkMemory(worker: WorkerProcess): void {
    const limitMb = this.options.workerMemoryMb;
    if (limitMb === undefined || worker.retiring || this.draining || worker.rssBytes <= limitMb * 1024 * 1024) return;
    worker.retiring = true;
    this.restartCounts.memory++;
    this.options.logger.warn(
      { worker: worker.slot, pid: worker.pid, rssMb: Math.round(worker.rssBytes / 1048576), limitMb, calls: worker.rooms.size },
      'worker over its memory limit: ending its calls with an apology and replacing it',
    );
    worker.send({ type: 'retire', reason: 'worker over its memory limit' });
    const timer = this.options.clock.setTimeout(() => worker.kill('SIGKILL'), RETIRE_KILL_MS);
    timer.unref();
    // Retired workers leave the slot at once, so the replacement serves new calls while the old one says goodbye.
    const slot = this.freeSlot();
    this.workers.set(slot, worker);
    this.workers.delete(worker.slot);
    this.spawn(worker.slot);
  }

  /** A slot number for a retiring worker to finish in, outside the ones new calls go to. */
  private freeSlot(): number {
    let slot = this.options.workers;
    while (this.workers.has(slot)) slot++;
    return slot;
  }

  private onExit(worker: WorkerProcess, event: Extract<WorkerEvent, { type: 'exit' }>): void {
    const { logger } = this.options;
    for (const room of event.lostRooms) {
      this.roomWorker.delete(room);
      this.operations?.callEnded('worker-lost');
    }
    const current = [...this.workers].find(([, w]) => w === worker)?.[0];
    if (current !== undefined && current !== worker.slot) this.workers.delete(current); // a retired worker, finished
    const expected = this.draining || worker.retiring;
    // Before the first worker is ready, the worker's own message (the agent file's error) says it all.
    if (!expected && !worker.unresponsive && this.firstReady === undefined) {
      // The caller's media went with the process: nothing can speak to them now. Piopiy signaling takes no message
      // from agents (spec §1.4), so the platform learns of the end from the media room the agent left.
      logger.error(
        { worker: worker.slot, pid: worker.pid, code: event.code, signal: event.signal, lostCalls: event.lostRooms },
        'worker exited unexpectedly; its calls ended; replacing it',
      );
    }
    if (this.firstReady !== undefined) {
      // Killed at the start deadline, it printed nothing: say so here. Otherwise it printed the agent file's error.
      this.firstReady.reject(
        worker.unresponsive
          ? new CliError(
              `the first worker did not start serving within ${Math.round(this.options.liveness.startTimeoutMs / 1000)} s: its agent file hangs while loading (or give it longer with --worker-start-timeout-ms)`,
            )
          : new FirstWorkerFailed(event.code ?? 1),
      );
      this.firstReady = undefined;
      return;
    }
    if (expected || this.workers.get(worker.slot) !== worker) return;
    if (worker.unresponsive) this.restartCounts.unresponsive++;
    else this.restartCounts.crashed++;
    const quick = performance.now() - worker.startedAt < QUICK_CRASH_MS;
    this.quickCrashes = quick ? this.quickCrashes + 1 : 0;
    const delayMs = quick ? Math.min(30_000, 500 * 2 ** this.quickCrashes) : 0;
    this.options.clock.setTimeout(() => {
      if (!this.draining && this.workers.get(worker.slot) === worker) this.spawn(worker.slot);
    }, delayMs);
  }
}
