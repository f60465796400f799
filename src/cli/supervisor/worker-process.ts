// One worker process of the supervisor: forked with an IPC channel, told of invites, counting the calls it holds.
// It owns its own bookkeeping (which rooms it holds, its memory); the supervisor decides what to do with it.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WORKER_ENV, isSupervisorMessage, type SupervisorMessage, type WorkerMessage } from '../../agent/ipc-invite-source.js';

// Under tsx (tests, `npx tsx src/cli/main.ts`) the entry is the TypeScript file; in the package, the compiled one.
const WORKER_MAIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../worker-main.ts' : '../worker-main.js', import.meta.url));

export type WorkerEvent =
  | { readonly type: 'ready' }
  | { readonly type: 'call-ended'; readonly roomName: string }
  | { readonly type: 'memory'; readonly rssBytes: number }
  | { readonly type: 'exit'; readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly lostRooms: readonly string[] };

export class WorkerProcess {
  readonly rooms = new Set<string>();
  ready = false;
  /** Told to end its calls and go (over its memory limit); takes no new calls. */
  retiring = false;
  rssBytes = 0;
  readonly startedAt = performance.now();
  private readonly child: ChildProcess;
  private exited = false;

  constructor(
    /** A stable slot number (its label in /metrics); a replacement takes the slot of the process it replaces. */
    readonly slot: number,
    agentFile: string,
    commandLine: string,
    onEvent: (worker: WorkerProcess, event: WorkerEvent) => void,
  ) {
    this.child = fork(WORKER_MAIN, [agentFile, commandLine], {
      // Only the supervisor serves /healthz, /readyz and /metrics, and only it talks to signaling.
      env: { ...process.env, [WORKER_ENV]: '1', PIOPIY_OPERATIONS_PORT: 'off' },
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: unknown) => {
      const event = this.receive(message as WorkerMessage);
      if (event !== undefined) onEvent(this, event);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      const lostRooms = [...this.rooms];
      this.rooms.clear();
      this.ready = false;
      onEvent(this, { type: 'exit', code, signal, lostRooms });
    });
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
    this.child.send(message);
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.exited) this.child.kill(signal);
  }

  private receive(message: WorkerMessage): WorkerEvent | undefined {
    switch (message.type) {
      case 'ready':
        this.ready = true;
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
      default:
        return undefined;
    }
  }
}
