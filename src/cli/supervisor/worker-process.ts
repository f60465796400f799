// One worker process of the supervisor: forked with an IPC channel, told of invites, counting the calls it holds.
// It owns its own bookkeeping (which rooms it holds, its memory); the supervisor decides what to do with it.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WORKER_ENV, isSupervisorMessage, type SupervisorMessage, type WorkerMessage } from '../../agent/ipc-invite-source.js';
import type { MetricsSnapshot } from '../../operations/index.js';
import type { Clock } from '../../runtime/clock.js';

// Under tsx (tests, `npx tsx src/cli/main.ts`) the entry is the TypeScript file; in the package, the compiled one.
const WORKER_MAIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../worker-main.ts' : '../worker-main.js', import.meta.url));

export type WorkerEvent =
  | { readonly type: 'ready' }
  | { readonly type: 'call-ended'; readonly roomName: string }
  | { readonly type: 'memory'; readonly rssBytes: number }
  | { readonly type: 'exit'; readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly lostRooms: readonly string[] };

/** Starts a worker process with an IPC channel for the given agent file and the command line it was started by. */
export type ForkWorker = (agentFile: string, commandLine: string) => ChildProcess;

const forkWorkerMain: ForkWorker = (agentFile, commandLine) =>
  fork(WORKER_MAIN, [agentFile, commandLine], {
    // Only the supervisor serves /healthz, /readyz and /metrics, and only it talks to signaling.
    env: { ...process.env, [WORKER_ENV]: '1', PIOPIY_OPERATIONS_PORT: 'off' },
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

export class WorkerProcess {
  readonly rooms = new Set<string>();
  ready = false;
  /** Its Agent has been serving (ready once); stays true while it drains. */
  served = false;
  /** Told to end its calls and go (over its memory limit); takes no new calls. */
  retiring = false;
  rssBytes = 0;
  /** Killed for not answering its pings: its exit is counted as `unresponsive`, not as a crash. */
  unresponsive = false;
  readonly startedAt = performance.now();
  private readonly child: ChildProcess;
  private exited = false;
  /** The last IPC failure (a write to a worker that is exiting); its 'exit' event follows and is what counts. */
  lastError: Error | undefined;
  private seq = 0;
  /** When the oldest ping it has not answered was sent (clock ms), or undefined when it owes none. */
  private unansweredSince: number | undefined;
  private lastPingSeq = 0;
  private readonly metricsWaiters = new Map<number, (metrics: MetricsSnapshot | undefined) => void>();

  constructor(
    /** A stable slot number (its label in /metrics); a replacement takes the slot of the process it replaces. */
    readonly slot: number,
    agentFile: string,
    commandLine: string,
    onEvent: (worker: WorkerProcess, event: WorkerEvent) => void,
    /** Starts the process; tests substitute a small script for the worker's entry. */
    forkWorker: ForkWorker = forkWorkerMain,
  ) {
    this.child = forkWorker(agentFile, commandLine);
    const exited = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (this.exited) return;
      this.exited = true;
      for (const answer of this.metricsWaiters.values()) answer(undefined);
      this.metricsWaiters.clear();
      const lostRooms = [...this.rooms];
      this.rooms.clear();
      this.ready = false;
      onEvent(this, { type: 'exit', code, signal, lostRooms });
    };
    // A message written as the worker dies fails with EPIPE; without a listener Node throws it and the supervisor
    // (and every other worker's calls) would go too. The exit that follows is what counts; a process that never
    // started (no pid) gets no exit event, so its failure is its exit.
    this.child.on('error', (error) => {
      this.lastError = error;
      if (this.child.pid === undefined) exited(null, null);
    });
    this.child.on('message', (message: unknown) => {
      const event = this.receive(message as WorkerMessage);
      if (event !== undefined) onEvent(this, event);
    });
    this.child.on('exit', exited);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Whether it can take a new call now. */
  get available(): boolean {
    return this.ready && !this.retiring && !this.exited;
  }

  invite(roomName: string, payload: unknown): void {
    this.rooms.add(roomName);
    this.send({ type: 'invite', payload });
  }

  send(message: SupervisorMessage): void {
    if (!isSupervisorMessage(message) || !this.child.connected) return;
    // With a callback a failed write is reported there, not thrown as an 'error' event (see the constructor).
    this.child.send(message, (error) => {
      if (error !== null) this.lastError = error;
    });
  }

  /** Sends a liveness ping; the first unanswered one starts the count `unansweredMs` reads. */
  ping(now: number): void {
    this.unansweredSince ??= now;
    this.lastPingSeq = ++this.seq;
    this.send({ type: 'ping', seq: this.lastPingSeq });
  }

  /** How long it has owed an answer to a ping (0 when it owes none). */
  unansweredMs(now: number): number {
    return this.unansweredSince === undefined ? 0 : now - this.unansweredSince;
  }

  /** Its registry as JSON, or undefined when it does not answer within `timeoutMs` (busy, exiting). */
  requestMetrics(clock: Clock, timeoutMs: number): Promise<MetricsSnapshot | undefined> {
    if (this.exited || !this.child.connected) return Promise.resolve(undefined);
    const seq = ++this.seq;
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => answer(undefined), timeoutMs);
      const answer = (metrics: MetricsSnapshot | undefined): void => {
        clock.clearTimeout(timer);
        this.metricsWaiters.delete(seq);
        resolve(metrics);
      };
      this.metricsWaiters.set(seq, answer);
      this.send({ type: 'metrics-request', seq });
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.exited) this.child.kill(signal);
  }

  private receive(message: WorkerMessage): WorkerEvent | undefined {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.served = true;
        return { type: 'ready' };
      case 'refused':
      case 'call-ended':
        this.rooms.delete(message.roomName);
        return { type: 'call-ended', roomName: message.roomName };
      case 'draining':
        this.ready = false;
        return undefined;
      case 'memory':
        this.rssBytes = message.rssBytes;
        return { type: 'memory', rssBytes: message.rssBytes };
      case 'pong':
        // Only the answer to the latest ping clears the debt: an older one may predate the hang.
        if (message.seq === this.lastPingSeq) this.unansweredSince = undefined;
        return undefined;
      case 'metrics':
        this.metricsWaiters.get(message.seq)?.(message.metrics);
        return undefined;
      default:
        return undefined;
    }
  }
}
