// VendorSocket: one WebSocket to a vendor, with the lifecycle every streaming client needs, written once (Deepgram's
// live STT, the WebSocket TTS base):
// - the handshake, with the vendor's headers and subprotocols, bounded by a timeout on the owner's clock;
// - a refused handshake (an HTTP 401, 403, 429, 5xx answer to the upgrade) read briefly (its body bounded in size
//   and time) and turned into a ServiceError with the status, the stable code, Retry-After, and the vendor's own
//   message and code, with every secret cut out; a handshake that fails without an answer is `connection-failed`;
// - keepalive: the vendor's message sent after `idleMs` without anything sent (audio, text or control alike);
// - a bounded close: the vendor's close message, then the close handshake (or the server's own close), waited
//   for up to a limit, after which the socket is destroyed, so a server that never answers cannot hold it;
// - every timer on the Clock the owning processor passes (`this.clock`), so a VirtualClock drives them.
// `Reconnector` (below) says when to try again after a drop or a failed attempt, by the one retry policy.
//
// Why `ws` and not the vendors' SDKs: see the owners (deepgram/stt.ts, websocket-tts.ts). Messages are handed to the
// owner as they arrive; what they mean is the owner's business.
import type { IncomingMessage } from 'node:http';
import WebSocket, { type RawData } from 'ws';
import { systemClock, type Clock, type ClockTimer } from '../../runtime/clock.js';
import type { HttpFailure } from './http-stream.js';
import { retryDelayMs, ServiceError, type RetryBackoff } from './service-error.js';
import { redactSecrets, retryAfterSecs } from './vendor-errors.js';

/** Most of a refused handshake's body that is read, and the longest wait for it. */
const MAX_REFUSAL_BODY_CHARS = 16 * 1024;
const REFUSAL_BODY_TIMEOUT_MS = 2000;
const DEFAULT_CLOSE_TIMEOUT_MS = 1000;

export interface VendorSocketKeepAlive {
  /** Time without sending anything after which `message` is asked for something to send. */
  readonly idleMs: number;
  /** What to send (a text frame), or undefined when there is nothing to keep alive right now. */
  readonly message: () => string | undefined;
}

export interface VendorSocketOptions {
  /** Names the vendor in errors. */
  readonly vendor: string;
  readonly url: string;
  /** The handshake's headers (the API key among them, usually). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Subprotocols offered in the handshake (`Sec-WebSocket-Protocol`). */
  readonly protocols?: string | readonly string[];
  /** Cut out of every error message. */
  readonly secrets: readonly string[];
  /** Longest wait for the handshake; past it, `open` fails with a `timeout`. */
  readonly handshakeTimeoutMs: number;
  /** Offer permessage-deflate. Default: what `ws` does (it offers it). */
  readonly perMessageDeflate?: boolean;
  /** The vendor's reading of a refused handshake. Default: `refusedHandshakeError` with the body as the message. */
  readonly refusal?: (failure: HttpFailure) => ServiceError;
  readonly keepAlive?: VendorSocketKeepAlive;
  /** Sent before the socket is closed by `close()`: the vendor's "no more input" (a text frame; bytes: a binary one). */
  readonly closeMessage?: string | Uint8Array | (() => string | Uint8Array);
  /** Longest wait for the close by `close()` before the socket is destroyed. Default 1000 ms. */
  readonly closeTimeoutMs?: number;
  /** The owning processor's clock. Default: the system clock. */
  readonly clock?: Clock;
}

export interface VendorSocketHandlers {
  /** A message from the server, after the handshake. */
  onMessage?(data: RawData, isBinary: boolean): void;
  /** The socket closed after it had opened (by either side, or dropped: 1006). Not called when `open` failed. */
  onClose?(code: number, reason: string): void;
  /** A socket error after the handshake (the close follows); for logs. */
  onError?(error: Error): void;
}

/** The text of a text frame (ws hands it over as a Buffer, an ArrayBuffer or fragments). */
export function messageText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

/** A refused handshake as a ServiceError: the status, its code, Retry-After, and `message` (or the body), redacted. */
export function refusedHandshakeError(
  vendor: string,
  failure: HttpFailure,
  secrets: readonly string[],
  details: { message?: string; vendorCode?: string; retryAfterSecs?: number } = {},
): ServiceError {
  const text = details.message ?? (failure.body.trim().slice(0, 200) || 'handshake rejected');
  return new ServiceError(vendor, redactSecrets(`${failure.status} ${text}`, secrets), {
    status: failure.status,
    vendorCode: details.vendorCode,
    retryAfterSecs: details.retryAfterSecs ?? retryAfterSecs(failure.headers),
  });
}

function headersOf(res: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}

/** The body of a refused handshake, bounded in size and in time (on `clock`). */
function readRefusalBody(res: IncomingMessage, clock: Clock): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const done = (): void => {
      clock.clearTimeout(timer);
      resolve(text.slice(0, MAX_REFUSAL_BODY_CHARS));
    };
    const timer = clock.setTimeout(done, REFUSAL_BODY_TIMEOUT_MS);
    timer.unref();
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (text.length < MAX_REFUSAL_BODY_CHARS) text += chunk;
    });
    res.once('end', done);
    res.once('error', done);
    res.once('close', done);
  });
}

export class VendorSocket {
  readonly vendor: string;
  private readonly options: VendorSocketOptions;
  private readonly handlers: VendorSocketHandlers;
  private readonly clock: Clock;
  private ws: WebSocket | undefined;
  private opened = false;
  private sentAt = 0;
  private keepAliveTimer: ClockTimer | undefined;
  private closeMessageSent = false;
  private readonly closed: Promise<void>;
  private markClosed: () => void = () => {};

  constructor(options: VendorSocketOptions, handlers: VendorSocketHandlers = {}) {
    this.vendor = options.vendor;
    this.options = options;
    this.handlers = handlers;
    this.clock = options.clock ?? systemClock;
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  /** True from the handshake's success until the socket starts closing. */
  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** When something was last sent (or the socket opened), on the clock. */
  get lastSentAt(): number {
    return this.sentAt;
  }

  /**
   * Makes the handshake. Resolves once the socket is open; rejects with a ServiceError: the vendor's refusal (with
   * its status), `timeout` past `handshakeTimeoutMs`, `connection-failed` without an answer, `closed` when `signal`
   * aborts first (the attempt is then abandoned). Called once per socket.
   */
  open(signal?: AbortSignal): Promise<void> {
    if (this.ws !== undefined) return Promise.reject(new Error('VendorSocket.open: called twice'));
    const { options, clock } = this;
    const secrets = options.secrets;
    if (signal?.aborted === true) return Promise.reject(this.closedError());
    return new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(options.url, options.protocols === undefined ? undefined : [options.protocols].flat(), {
        headers: { ...options.headers },
        ...(options.perMessageDeflate === undefined ? {} : { perMessageDeflate: options.perMessageDeflate }),
      });
      this.ws = ws;
      let settled = false;
      const settle = (error?: ServiceError): void => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(handshakeTimer);
        signal?.removeEventListener('abort', onAbort);
        if (error === undefined) {
          resolve();
          return;
        }
        reject(error);
        ws.terminate();
      };
      const handshakeTimer = clock.setTimeout(
        () => settle(new ServiceError(this.vendor, `no handshake within ${options.handshakeTimeoutMs} ms`, { code: 'timeout' })),
        options.handshakeTimeoutMs,
      );
      handshakeTimer.unref();
      const onAbort = (): void => settle(this.closedError());
      signal?.addEventListener('abort', onAbort, { once: true });

      ws.on('unexpected-response', (_request, response) => {
        // The answer came: from here the body's own bound applies, not the handshake's.
        clock.clearTimeout(handshakeTimer);
        void readRefusalBody(response, clock).then((body) => {
          const failure: HttpFailure = { status: response.statusCode ?? 0, headers: headersOf(response), body };
          settle(options.refusal?.(failure) ?? refusedHandshakeError(this.vendor, failure, secrets));
        });
      });
      ws.on('error', (error) => {
        if (!settled) {
          settle(new ServiceError(this.vendor, `connection failed: ${redactSecrets(error.message, secrets)}`, { code: 'connection-failed' }));
        } else if (this.opened) {
          this.handlers.onError?.(error);
        }
      });
      ws.on('open', () => {
        if (settled) {
          // Abandoned (aborted, timed out) just as it opened.
          ws.terminate();
          return;
        }
        this.opened = true;
        this.sentAt = clock.now();
        this.armKeepAlive();
        settle();
      });
      ws.on('message', (data, isBinary) => {
        if (this.opened) this.handlers.onMessage?.(data, isBinary);
      });
      ws.on('close', (code, reason) => {
        clock.clearTimeout(this.keepAliveTimer);
        this.markClosed();
        if (this.opened) this.handlers.onClose?.(code, reason.toString('utf8'));
      });
    });
  }

  /** Sends a text or binary frame; false (nothing sent) when the socket is not open. */
  send(data: string | Buffer | Uint8Array, binary = typeof data !== 'string'): boolean {
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(data, { binary });
    this.sentAt = this.clock.now();
    return true;
  }

  /** Sends `message` as JSON text; false when the socket is not open. */
  sendJSON(message: Readonly<Record<string, unknown>>): boolean {
    return this.send(JSON.stringify(message), false);
  }

  /**
   * Ends the socket within `timeoutMs` (default `closeTimeoutMs`): sends the vendor's close message, then either
   * closes (1000) and waits for the close handshake, or, with `serverCloses`, waits for the server to close by
   * itself (after its last results, say). Destroys the socket when the wait runs out. Resolves true when it
   * closed in time. A socket still connecting is abandoned at once.
   */
  close(options: { serverCloses?: boolean; timeoutMs?: number } = {}): Promise<boolean> {
    const ws = this.ws;
    this.clock.clearTimeout(this.keepAliveTimer);
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return Promise.resolve(true);
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
      return Promise.resolve(true);
    }
    if (ws.readyState === WebSocket.OPEN) {
      if (this.options.closeMessage !== undefined && !this.closeMessageSent) {
        this.closeMessageSent = true;
        const message = this.options.closeMessage;
        ws.send(typeof message === 'function' ? message() : message);
      }
      if (options.serverCloses !== true) ws.close(1000);
    }
    const timeoutMs = options.timeoutMs ?? this.options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    return new Promise<boolean>((resolve) => {
      const timer = this.clock.setTimeout(() => {
        ws.terminate();
        resolve(false);
      }, timeoutMs);
      timer.unref();
      void this.closed.then(() => {
        this.clock.clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Destroys the socket at once, without a close handshake. */
  terminate(): void {
    this.clock.clearTimeout(this.keepAliveTimer);
    this.ws?.terminate();
  }

  private closedError(): ServiceError {
    return new ServiceError(this.vendor, 'service is closed', { code: 'closed' });
  }

  /** Arms the keepalive for `idleMs` after the last send; when it fires idle, asks for the message and sends it. */
  private armKeepAlive(): void {
    const keepAlive = this.options.keepAlive;
    if (keepAlive === undefined) return;
    const clock = this.clock;
    clock.clearTimeout(this.keepAliveTimer);
    const wait = Math.max(0, this.sentAt + keepAlive.idleMs - clock.now());
    this.keepAliveTimer = clock.setTimeout(() => {
      if (!this.isOpen) return;
      if (clock.now() - this.sentAt >= keepAlive.idleMs) {
        const message = keepAlive.message();
        if (message === undefined) {
          // Nothing to keep alive now: look again after another idle period.
          this.keepAliveTimer = clock.setTimeout(() => this.armKeepAlive(), keepAlive.idleMs);
          this.keepAliveTimer.unref();
          return;
        }
        this.send(message, false);
      }
      this.armKeepAlive();
    }, wait);
    this.keepAliveTimer.unref();
  }
}

// ---- reconnecting ---------------------------------------------------------------------------------------------

export interface ReconnectOptions {
  /** Wait before the first attempt after a drop; doubles after each failed attempt. */
  readonly initialDelayMs: number;
  /** Longest wait between the fast attempts. */
  readonly maxDelayMs: number;
  /** Failed attempts after which the outage is reported and attempts slow down. */
  readonly attemptsBeforeError: number;
  /** Wait between attempts after that. */
  readonly slowDelayMs: number;
  /** Up to this fraction of each wait taken off at random, only with `random` (seed it for tests). Default none. */
  readonly jitter?: number;
  readonly random?: () => number;
}

/** What `Reconnector.schedule` decided. */
export interface ReconnectPlan {
  /** The wait before the next attempt. */
  readonly delayMs: number;
  /** Failed attempts since the socket was last open. */
  readonly failedAttempts: number;
  /** True once per outage, when the fast attempts are used up: the owner reports it then. */
  readonly report: boolean;
}

/**
 * When to try again after a socket dropped or an attempt to open one failed: the retry policy's wait
 * (`retryDelayMs`: growing, then slow, at least the vendor's Retry-After), the attempt run on the owner's clock.
 */
export class Reconnector {
  private failed = 0;
  private reported = false;
  private timer: ClockTimer | undefined;
  private readonly backoff: RetryBackoff;

  constructor(
    /** Read at each use: a processor's clock is set when its pipeline starts. */
    private readonly clock: () => Clock,
    options: ReconnectOptions,
  ) {
    this.backoff = {
      initialDelayMs: options.initialDelayMs,
      maxDelayMs: options.maxDelayMs,
      slowAfterRetries: options.attemptsBeforeError,
      slowDelayMs: options.slowDelayMs,
      jitter: options.jitter,
      random: options.random,
    };
  }

  /** Failed attempts since the socket was last open. */
  get failedAttempts(): number {
    return this.failed;
  }

  /** True while an attempt is scheduled. */
  get pending(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Schedules `attempt` after `cause` (a failed attempt when `attemptFailed`, else a drop of an open socket), or
   * returns undefined, scheduling nothing, when the policy says trying again cannot help (a refused key, say).
   */
  schedule(cause: ServiceError, attemptFailed: boolean, attempt: () => void): ReconnectPlan | undefined {
    if (attemptFailed) this.failed++;
    const delayMs = retryDelayMs(cause, this.failed + 1, this.backoff);
    if (delayMs === undefined) return undefined;
    const report = this.failed >= (this.backoff.slowAfterRetries ?? Number.POSITIVE_INFINITY) && !this.reported;
    if (report) this.reported = true;
    this.cancel();
    const clock = this.clock();
    this.timer = clock.setTimeout(() => {
      this.timer = undefined;
      attempt();
    }, delayMs);
    return { delayMs, failedAttempts: this.failed, report };
  }

  /** The socket is open: the next outage starts counting afresh. */
  succeeded(): void {
    this.failed = 0;
    this.reported = false;
  }

  /** Drops the scheduled attempt, if any. */
  cancel(): void {
    this.clock().clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Forgets everything: a new stream. */
  reset(): void {
    this.cancel();
    this.succeeded();
  }
}
