// The invite source of a worker process of `piopiy-ai start --workers N`: its supervisor owns the signaling
// connection and forwards each invite (and its cancel) over the IPC channel of child_process.fork; the worker
// answers whether it took the call and when each call ends, so the supervisor knows every worker's load.
import type { MetricsSnapshot } from '../operations/index.js';
import type { InviteHandlers, InviteSource } from './invite-source.js';

/** Set by the supervisor in its workers' environment: the Agent takes its invites over IPC. */
export const WORKER_ENV = 'PIOPIY_WORKER';

export type SupervisorMessage =
  | { readonly type: 'invite'; readonly payload: unknown }
  | { readonly type: 'cancel'; readonly payload: unknown }
  /** End every call as failed (the callers hear the error goodbye); the supervisor replaces the worker. */
  | { readonly type: 'retire'; readonly reason: string }
  /** Answer with `pong` (worker-main.ts does, on the event loop: a hung loop cannot). */
  | { readonly type: 'ping'; readonly seq: number }
  /** Answer with `metrics`: this worker's registry, for the supervisor's /metrics. */
  | { readonly type: 'metrics-request'; readonly seq: number };

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'refused'; readonly roomName: string }
  | { readonly type: 'call-ended'; readonly roomName: string }
  | { readonly type: 'draining' }
  | { readonly type: 'memory'; readonly rssBytes: number }
  | { readonly type: 'pong'; readonly seq: number }
  | { readonly type: 'metrics'; readonly seq: number; readonly metrics: MetricsSnapshot };

/** The IPC source when this process is a supervisor's worker, else undefined. */
export function ipcInviteSourceFromEnvironment(env: NodeJS.ProcessEnv = process.env): IpcInviteSource | undefined {
  return env[WORKER_ENV] === '1' && process.send !== undefined ? new IpcInviteSource() : undefined;
}

export function isSupervisorMessage(value: unknown): value is SupervisorMessage {
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  return type === 'invite' || type === 'cancel' || type === 'retire' || type === 'ping' || type === 'metrics-request';
}

export class IpcInviteSource implements InviteSource {
  private handlers: InviteHandlers | undefined;
  /** Rooms this worker took and has not yet reported ended (what `retire` ends). */
  private readonly rooms = new Set<string>();
  private readonly onMessage = (message: unknown): void => this.receive(message);
  private metricsListener: ((message: unknown) => void) | undefined;

  get connected(): boolean {
    return this.handlers !== undefined && process.connected;
  }

  open(handlers: InviteHandlers): Promise<void> {
    if (process.send === undefined) return Promise.reject(new Error('IpcInviteSource: this process has no IPC channel'));
    this.handlers = handlers;
    process.on('message', this.onMessage);
    send({ type: 'ready' });
    return Promise.resolve();
  }

  close(): void {
    if (this.handlers === undefined) return;
    this.handlers = undefined;
    process.off('message', this.onMessage);
    send({ type: 'draining' });
    // The channel must not keep a drained worker alive: it exits once its last call has ended.
    process.channel?.unref();
  }

  /**
   * Answers the supervisor's metrics requests with `snapshot()` (the Agent's registry). It answers while draining
   * too: the calls finishing then are counted like any other.
   */
  serveMetrics(snapshot: () => Promise<MetricsSnapshot>): void {
    if (this.metricsListener !== undefined) process.off('message', this.metricsListener);
    this.metricsListener = (message: unknown): void => {
      if (!isSupervisorMessage(message) || message.type !== 'metrics-request') return;
      snapshot().then(
        (metrics) => send({ type: 'metrics', seq: message.seq, metrics }),
        () => undefined, // the supervisor's request times out and it serves the rest
      );
    };
    process.on('message', this.metricsListener);
  }

  /** The Agent tells the source when a call it delivered has ended. */
  callEnded(roomName: string): void {
    if (this.rooms.delete(roomName)) send({ type: 'call-ended', roomName });
  }

  private receive(message: unknown): void {
    const handlers = this.handlers;
    if (handlers === undefined || !isSupervisorMessage(message)) return;
    if (message.type === 'invite') {
      const roomName = roomOf(message.payload);
      if (handlers.onInvite(message.payload) && roomName !== undefined) this.rooms.add(roomName);
      else if (roomName !== undefined) send({ type: 'refused', roomName });
    } else if (message.type === 'cancel') {
      handlers.onCancel(message.payload);
    } else if (message.type === 'retire') {
      for (const room of this.rooms) handlers.onFail(room, message.reason);
    }
  }
}

function roomOf(payload: unknown): string | undefined {
  const room = typeof payload === 'object' && payload !== null ? (payload as { room_name?: unknown }).room_name : undefined;
  return typeof room === 'string' ? room : undefined;
}

function send(message: WorkerMessage): void {
  // A supervisor that is gone cannot be told; the worker's own shutdown follows from the channel closing.
  if (process.connected) process.send?.(message);
}
