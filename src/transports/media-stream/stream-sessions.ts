// What every carrier's server does with a stream once its WebSocket is accepted: wait for the carrier's start
// message (closing a stream that never sends one), run the user's `onCall` inside the call's session, close the
// stream when `onCall` is done, and let the server's `close()` end the calls in progress. Also the small HTTP
// helpers the carrier servers share (`listen` on their own server, paths, bodies).
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Logger } from '../../logging/index.js';
import { runInSession, type CallSession } from '../base/call-session.js';
import type { MediaStreamTransport } from './media-stream-transport.js';
import type { MediaStreamStart } from './serializer.js';

/** How long a stream may take from the WebSocket upgrade to its start message. */
const START_TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 64 * 1024;

/** The parts of a call session every carrier fills the same way. */
export interface MediaStreamSessionBase extends CallSession {
  /** The stream's start: the carrier's call and stream ids, the custom parameters. */
  readonly stream: MediaStreamStart;
  readonly transport: MediaStreamTransport;
}

export class MediaStreamSessions {
  private readonly running = new Set<Promise<void>>();
  private readonly sockets = new Set<WebSocket>();
  private http: HttpServer | undefined;

  constructor(
    private readonly carrier: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Runs one call on an accepted stream: once the carrier started it, `makeSession` completes the session from
   * its common part and `onCall` runs inside it; the stream is closed when `onCall` is done.
   */
  serve<S extends MediaStreamSessionBase>(
    socket: WebSocket,
    transport: MediaStreamTransport,
    makeSession: (base: MediaStreamSessionBase) => S,
    onCall: (session: S) => Promise<void> | void,
  ): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const timer = setTimeout(() => {
      this.logger.warn(`${this.carrier}: a stream sent no start message; closing it`);
      socket.close(1008);
    }, START_TIMEOUT_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    void transport.started.then((start) => {
      clearTimeout(timer);
      this.run(transport, start, makeSession, onCall);
    });
  }

  /** Serves the carrier server's handlers on an HTTP server of its own; resolves with its local http:// origin. */
  async listen(handlers: CarrierHandlers, options: { port?: number; host?: string } = {}): Promise<string> {
    const { http, origin } = await listenForCarrier(handlers, options);
    this.http = http;
    return origin;
  }

  /** Ends the streams in progress, waits for their calls, and stops listening (if `listen` was used). */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.close(1001);
    await Promise.allSettled([...this.running]);
    await closeHttp(this.http);
  }

  private run<S extends MediaStreamSessionBase>(
    transport: MediaStreamTransport,
    start: MediaStreamStart,
    makeSession: (base: MediaStreamSessionBase) => S,
    onCall: (session: S) => Promise<void> | void,
  ): void {
    const logger = this.logger.child({ callId: start.callId });
    const controller = new AbortController();
    transport.events.on('caller-left', () => controller.abort());
    const session = makeSession({
      callId: start.callId,
      agentId: undefined,
      fromNumber: start.fromNumber,
      toNumber: start.toNumber,
      metadata: start.customParameters,
      roomName: start.streamId,
      transport,
      signal: controller.signal,
      logger,
      stream: start,
    });
    const done = (async () => {
      try {
        await runInSession(session, () => onCall(session));
      } catch (error) {
        logger.error({ err: error }, `${this.carrier} session failed; this call ends`);
      } finally {
        await transport.close();
      }
    })();
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
  }
}

/** A carrier server's routes: each returns false for a request that is not its own. */
export interface CarrierHandlers {
  handleRequest: (request: IncomingMessage, response: ServerResponse) => boolean;
  handleUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
}

/** Serves `handleRequest`/`handleUpgrade` on a new HTTP server; resolves with it and its local http:// origin. */
export async function listenForCarrier(
  handlers: CarrierHandlers,
  options: { port?: number; host?: string } = {},
): Promise<{ http: HttpServer; origin: string }> {
  const host = options.host ?? '127.0.0.1';
  const http = createServer((request, response) => {
    if (!handlers.handleRequest(request, response)) response.writeHead(404).end();
  });
  http.on('upgrade', (request, socket, head) => {
    if (!handlers.handleUpgrade(request, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, host, resolve));
  return { http, origin: `http://${host}:${(http.address() as AddressInfo).port}` };
}

/** Stops a server `listenForCarrier` started (undefined: nothing to stop). */
export async function closeHttp(http: HttpServer | undefined): Promise<void> {
  if (http === undefined) return;
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
}

/** Refuses a WebSocket upgrade with 403. */
export function refuseUpgrade(socket: Duplex): void {
  socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
}

export function pathOf(request: IncomingMessage): string {
  return new URL(request.url ?? '/', 'http://localhost').pathname;
}

/** Checks a carrier server's `publicUrl`: an http(s) origin, since the carrier's signatures cover the full URL. */
export function checkPublicOrigin(server: string, publicUrl: string | undefined): void {
  if (publicUrl !== undefined && !/^https?:\/\/[^/]+$/.test(publicUrl.replace(/\/+$/, ''))) {
    throw new TypeError(`${server}: publicUrl must be an http(s) origin such as https://agent.example.com`);
  }
}

/**
 * Serves one carrier webhook: 405 for a method it does not take; otherwise `handle`, whose failure is logged (as
 * `what` failed) and answered with 400 when nothing was sent yet. Always true (the request was the carrier's).
 */
export function serveWebhook(
  request: IncomingMessage,
  response: ServerResponse,
  options: { methods: readonly string[]; logger: Logger; what: string },
  handle: () => Promise<void>,
): true {
  if (!options.methods.includes(request.method ?? '')) {
    response.writeHead(405, { allow: options.methods.join(', ') }).end();
    return true;
  }
  void handle().catch((error: unknown) => {
    options.logger.warn({ err: error }, `${options.what} failed`);
    if (!response.headersSent) response.writeHead(400).end();
  });
  return true;
}

export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RangeError('webhook body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export { field } from './serializer.js';
