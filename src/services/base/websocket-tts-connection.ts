// The one socket of a WebSocketTTSService: opened on demand (the first at pipeline start, off the latency path),
// kept while it is open, opened again by the next sentence once it has dropped. The socket itself (handshake,
// refusal, keepalive, bounded close) is a VendorSocket; this is the service's use of it: a handshake refused with
// the vendor's JSON read the vendor's way, JSON messages handed over parsed, and the last in-band error kept to
// explain a close that follows it.
import type { Logger } from '../../logging/index.js';
import type { Clock } from '../../runtime/clock.js';
import { isRecord, parseJSONText } from './json.js';
import { ServiceError } from './service-error.js';
import { messageText, refusedHandshakeError, VendorSocket } from './vendor-socket.js';

/** One open socket and what it last said went wrong. */
export interface TTSConnection {
  readonly socket: VendorSocket;
  /** The last in-band error the service saw, kept to explain the close that follows it. */
  lastError: ServiceError | undefined;
}

/** What an HTTP error body of the handshake says, as far as the vendor's shape tells. */
export interface HandshakeErrorDetails {
  message: string | undefined;
  code: string | undefined;
}

export interface TTSConnectorOptions {
  readonly vendor: string;
  /** Read each time a socket opens (it may depend on the call's sample rate). */
  readonly url: () => string;
  /** The handshake's headers (the API key among them). */
  readonly headers: Readonly<Record<string, string>>;
  /** Cut out of every error message. */
  readonly apiKey: string;
  /** Longest wait for the handshake. */
  readonly handshakeTimeoutMs: number;
  /** Sent just before the socket is closed on cleanup. */
  readonly farewell?: Readonly<Record<string, unknown>>;
  /** After this long without sending, `keepAliveMessage` is asked for a message; never when undefined. */
  readonly keepAliveIntervalMs?: number;
  readonly keepAliveMessage: (connection: TTSConnection) => Record<string, unknown> | undefined;
  /** The message and code of a handshake's HTTP error body given as JSON. */
  readonly describeHandshakeError: (body: Record<string, unknown>) => HandshakeErrorDetails;
  /**
   * Sent first on every new socket (a vendor that takes its key and settings in a message, not the handshake): JSON
   * text, or bytes sent as a binary frame (a vendor whose messages are not JSON).
   */
  readonly greeting?: () => Readonly<Record<string, unknown>> | Uint8Array | undefined;
  /** A message from the server (a parsed JSON object) on `connection`. */
  readonly onMessage: (connection: TTSConnection, message: Record<string, unknown>) => void;
  /** A binary frame from the server (a vendor that sends audio as binary frames); ignored when undefined. */
  readonly onBinary?: (connection: TTSConnection, data: Buffer) => void;
  /** `connection` closed, by either side. */
  readonly onClose: (connection: TTSConnection, code: number, reason: string) => void;
  /** Read at each use: the service's clock and logger are set when its pipeline starts. */
  readonly clock: () => Clock;
  readonly logger: () => Logger;
}

export class TTSConnector {
  private connection: TTSConnection | undefined;
  /** Sockets that take no more sentences but still finish one (see `retire`); destroyed if the service closes first. */
  private readonly retired = new Set<TTSConnection>();
  private connecting: Promise<TTSConnection> | undefined;
  /** Aborts a handshake in flight when the service closes. */
  private readonly closing = new AbortController();

  constructor(private readonly options: TTSConnectorOptions) {}

  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /** The open socket, or a new one (one handshake at a time). */
  connect(): Promise<TTSConnection> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.connection?.socket.isOpen === true) return Promise.resolve(this.connection);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** `connection` is not to be trusted with another sentence: destroyed, and the next sentence opens a new one. */
  discard(connection: TTSConnection): void {
    if (this.connection === connection) this.connection = undefined;
    connection.socket.terminate();
  }

  /**
   * `connection` takes no more sentences (the vendor's session on it was ended, and it closes once it has said the
   * last): the next sentence opens a new socket, while this one goes on delivering what it was sent.
   */
  retire(connection: TTSConnection): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    if (connection.socket.isOpen) this.retired.add(connection);
  }

  /** The service is closing: a handshake in flight is abandoned, the open socket closed (bounded), none opened again. */
  close(): void {
    this.closing.abort();
    for (const retired of this.retired) retired.socket.terminate();
    this.retired.clear();
    const connection = this.connection;
    this.connection = undefined;
    void connection?.socket.close();
  }

  private async open(): Promise<TTSConnection> {
    const o = this.options;
    const connection: TTSConnection = {
      socket: new VendorSocket(
        {
          vendor: o.vendor,
          url: o.url(),
          headers: o.headers,
          secrets: [o.apiKey],
          handshakeTimeoutMs: o.handshakeTimeoutMs,
          refusal: (failure) => {
            const parsed = parseJSONText(failure.body);
            const details = isRecord(parsed) ? o.describeHandshakeError(parsed) : undefined;
            const message = details?.message ?? failure.body.trim();
            return refusedHandshakeError(o.vendor, failure, [o.apiKey], {
              message: message === '' ? 'handshake rejected' : message,
              vendorCode: details?.code,
            });
          },
          keepAlive:
            o.keepAliveIntervalMs === undefined
              ? undefined
              : {
                  idleMs: o.keepAliveIntervalMs,
                  message: () => {
                    const message = o.keepAliveMessage(connection);
                    return message === undefined ? undefined : JSON.stringify(message);
                  },
                },
          closeMessage: o.farewell === undefined ? undefined : JSON.stringify(o.farewell),
          clock: o.clock(),
        },
        {
          onMessage: (data, isBinary) => {
            if (!isBinary) this.onMessage(connection, messageText(data));
            else o.onBinary?.(connection, Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer));
          },
          onClose: (code, reason) => {
            if (this.connection === connection) this.connection = undefined;
            this.retired.delete(connection);
            o.onClose(connection, code, reason);
          },
          onError: (error) => o.logger().debug({ err: error }, `${o.vendor} socket error`),
        },
      ),
      lastError: undefined,
    };
    await connection.socket.open(this.closing.signal);
    const greeting = o.greeting?.();
    if (greeting instanceof Uint8Array) connection.socket.send(greeting, true);
    else if (greeting !== undefined) connection.socket.sendJSON(greeting);
    this.connection = connection;
    return connection;
  }

  private onMessage(connection: TTSConnection, text: string): void {
    const message = parseJSONText(text);
    if (message === undefined) {
      this.options.logger().warn(`${this.options.vendor} sent a message that is not JSON; ignored`);
      return;
    }
    if (isRecord(message)) this.options.onMessage(connection, message);
  }

  private closedError(): ServiceError {
    return new ServiceError(this.options.vendor, 'service is closed', { code: 'closed' });
  }
}
