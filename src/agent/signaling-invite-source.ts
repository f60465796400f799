// The default invite source: Piopiy signaling over Socket.IO, authenticated with `{ agent_id, token }`. The client
// reconnects with backoff after a drop; calls in progress are independent media connections and go on meanwhile.
import { io, type Socket } from 'socket.io-client';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../logging/index.js';
import { signalingConnectionError } from './signaling-error.js';
import type { InviteHandlers, InviteSource } from './invite-source.js';

export interface SignalingInviteSourceOptions {
  readonly url: string;
  readonly agentId: string;
  readonly agentToken: string;
  readonly connectTimeoutMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class SignalingInviteSource implements InviteSource {
  private socket: Socket | undefined;
  /** Set from the first acknowledgement until close(): reconnections are this source's job from then on. */
  private registered = false;

  constructor(private readonly options: SignalingInviteSourceOptions) {}

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  async open(handlers: InviteHandlers): Promise<void> {
    const { url, agentId, agentToken, connectTimeoutMs } = this.options;
    const socket = io(url, {
      auth: { agent_id: agentId, token: agentToken },
      autoConnect: false,
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0.5,
      timeout: connectTimeoutMs,
    });
    this.socket = socket;
    this.listen(socket, handlers);
    await new Promise<void>((resolve, reject) => {
      const onConnect = (): void => {
        socket.off('connect_error', onError);
        resolve();
      };
      const onError = (error: Error & { type?: string }): void => {
        socket.off('connect', onConnect);
        socket.disconnect();
        this.socket = undefined;
        reject(signalingConnectionError(error, { url, agentId, timeoutMs: connectTimeoutMs }));
      };
      socket.once('connect', onConnect);
      socket.once('connect_error', onError);
      socket.connect();
    });
    this.options.logger.info({ url }, 'connected to Piopiy signaling');
  }

  close(): void {
    this.registered = false;
    this.socket?.disconnect();
    this.socket = undefined;
  }

  /**
   * Attaches every handler before the socket connects: the platform may send `join_room` in the same network read
   * as its connection acknowledgement, and socket.io delivers both before an `await` on the connection resumes, so
   * a handler attached after it would miss that invite, silently.
   */
  private listen(socket: Socket, handlers: InviteHandlers): void {
    const { clock, logger } = this.options;
    socket.once('connect', () => (this.registered = true));
    socket.on('join_room', (payload: unknown) => handlers.onInvite(payload));
    socket.on('cancel_room', (payload: unknown) => handlers.onCancel(payload));
    socket.on('disconnect', (reason) => {
      if (this.registered) logger.warn({ reason }, 'signaling connection lost; reconnecting (calls in progress go on)');
    });
    socket.io.on('reconnect', (attempt) => logger.info({ attempt }, 'signaling reconnected'));
    // socket.io does not retry by itself when the server refuses the handshake (e.g. while it restarts); an agent
    // must stay reachable, so it keeps trying with a capped backoff and says so.
    let refusals = 0;
    socket.on('connect', () => (refusals = 0));
    socket.on('connect_error', (error) => {
      if (socket.active || !this.registered) return;
      const delayMs = Math.min(30_000, 1000 * 2 ** refusals++);
      logger.warn({ err: error, retryInMs: delayMs }, 'signaling refused the reconnection; retrying');
      clock
        .setTimeout(() => {
          if (this.registered && this.socket === socket && !socket.connected) socket.connect();
        }, delayMs)
        .unref();
    });
  }
}
