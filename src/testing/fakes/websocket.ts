// What the fake streaming-TTS WebSocket servers share: the HTTP server that takes the upgrades (accepted into a
// session, or refused with a JSON body), the record of every connection and client frame with a way to wait for a
// frame, scripted handshake and generation faults taken one at a time, and the accepted sockets (sessions), which a
// test can drop at once; for the fakes that speak one synthesis after another on a socket (`FakeSpeechSession`),
// the queue of syntheses, the generation that an interruption or the socket's end bumps, and the close once the
// queue is spoken. Each vendor's fake keeps its handshake checks and its protocol.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { refuseUpgrade } from './http.js';

/** The bytes of a client frame (ws hands them over as a Buffer, an ArrayBuffer or fragments). */
export function frameBytes(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
}

/** A test's predicate, which may not expect every kind of frame: one that throws does not match. */
function matches(predicate: (json: unknown) => boolean, json: unknown): boolean {
  try {
    return predicate(json);
  } catch {
    return false;
  }
}

/** How a socket ended, as the fakes record it. */
export interface FakeSocketClose {
  readonly code: number;
  readonly reason: string;
  readonly by: 'client' | 'server' | 'dropped';
}

/** One client socket of a fake streaming speech-to-text vendor, as a test reads it. */
export interface FakeSTTSocketSession {
  /** The JSON messages the fake sent the client, in order. */
  readonly sent: readonly Readonly<Record<string, unknown>>[];
  readonly closed: FakeSocketClose | undefined;
  /** Destroys this socket without a close frame (the client sees 1006). */
  drop(): void;
}

/** A fake streaming speech-to-text vendor on 127.0.0.1: its sessions, what it hears, and the faults it can play. */
export interface FakeStreamingSTTServer<Session, Fault> {
  /** `ws://127.0.0.1:<port>` (or `http://` where the session starts with a request): the client's `baseUrl`. */
  readonly url: string;
  readonly sessions: readonly Session[];
  /** What the next stretches of speech are transcribed as, across connections. */
  scriptTranscripts(...texts: string[]): void;
  /** Spoils the next `count` connections with a fault. */
  failNextConnections(fault: Fault, count?: number): void;
  /** Destroys every open socket (clients see 1006). */
  dropConnections(): void;
  close(): Promise<void>;
}

/** What the base keeps of a client frame and of a connection. */
export interface RecordedFrame {
  readonly json?: unknown;
}
export interface RecordedConnection<M extends RecordedFrame> {
  readonly received: M[];
  close?: FakeSocketClose;
}

/** One accepted socket: it records how it closed, and a test can destroy it. */
export abstract class FakeSocketSession<C extends RecordedConnection<RecordedFrame>> {
  protected idleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    protected readonly ws: WebSocket,
    private readonly socket: Socket,
    protected readonly connection: C,
    server: { forget(session: FakeSocketSession<C>): void },
  ) {
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', (code, reason) => {
      this.closed = true;
      connection.close ??= { code, reason: reason.toString('utf8'), by: code === 1006 ? 'dropped' : 'client' };
      this.endAll('dropped');
      clearTimeout(this.idleTimer);
      server.forget(this);
    });
    ws.on('error', () => {});
  }

  protected abstract onMessage(data: RawData, isBinary: boolean): void;

  /** The socket is gone: so are its contexts. */
  protected abstract endAll(outcome: 'dropped'): void;

  /** Destroys the socket without a close frame: the client sees 1006. */
  drop(): void {
    if (this.closed) return;
    this.connection.close ??= { code: 1006, reason: '', by: 'dropped' };
    this.endAll('dropped');
    this.socket.destroy();
  }

  protected get open(): boolean {
    return !this.closed && this.ws.readyState === this.ws.OPEN;
  }

  protected send(message: Record<string, unknown>): void {
    if (this.open) this.ws.send(JSON.stringify(message));
  }

  /** A text frame's JSON, or undefined (a binary frame, or text that is not JSON). */
  protected parseJSON(data: RawData, isBinary: boolean): unknown {
    if (isBinary) return undefined;
    try {
      return JSON.parse(frameBytes(data).toString('utf8'));
    } catch {
      return undefined;
    }
  }

  /** The server ends the socket with `code` (recorded as closed by the server). */
  protected closeByServer(code: number, reason = ''): void {
    this.connection.close ??= { code, reason, by: 'server' };
    if (this.open) this.ws.close(code, reason);
  }
}

/**
 * A session that speaks its syntheses one after another: each runs on `queue`, and stops as soon as `generation`
 * moves on (an interruption, or the socket's end) — `isCurrent(generation)` says whether it may go on.
 */
export abstract class FakeSpeechSession<C extends RecordedConnection<RecordedFrame>> extends FakeSocketSession<C> {
  /** Bumped by an interruption and by the end of the socket: a synthesis of an earlier generation stops. */
  protected generation = 0;
  protected queue: Promise<void> = Promise.resolve();

  protected override endAll(): void {
    this.generation += 1;
  }

  /** Runs `speak` after what is queued, with the generation current now. */
  protected enqueue(speak: (generation: number) => Promise<void> | void): void {
    const generation = this.generation;
    this.queue = this.queue.then(() => speak(generation));
  }

  /** Whether a synthesis started in `generation` may go on: the socket is open and nothing interrupted it. */
  protected isCurrent(generation: number): boolean {
    return this.open && generation === this.generation;
  }

  /** Once everything queued is spoken, the server closes the socket 1000 (the vendor's end of input). */
  protected closeWhenSpoken(): void {
    void this.queue.then(() => this.closeByServer(1000));
  }
}

/** A scripted refusal of the next handshake, with the vendor's error body. */
export interface FakeHandshakeFault {
  status: number;
  message?: string;
  /** Sent as `Retry-After`, in seconds. */
  retryAfter?: number;
}

/**
 * The server of a fake: `C` a connection's record, `M` a client frame's record, `H` and `G` the scripted handshake
 * and generation faults. A subclass answers the upgrades (`onUpgrade`) and adds the sessions it accepts.
 */
export abstract class FakeWebSocketServer<
  C extends RecordedConnection<M>,
  M extends RecordedFrame,
  H,
  G,
  S extends { drop(): void } = { drop(): void },
> {
  readonly connections: C[] = [];
  protected readonly wss = new WebSocketServer({ noServer: true });
  protected readonly sessions = new Set<S>();
  protected handshakeFaults: H[] = [];
  private readonly server: Server;
  private readonly startedAt = performance.now();
  private generationFaults: G[] = [];
  private waiters: { predicate: (json: unknown) => boolean; resolve: (message: M) => void }[] = [];
  port = 0;

  /** `vendor` names the fake in errors; `notFound` is the JSON body of a plain HTTP request's 404. */
  constructor(
    private readonly vendor: string,
    notFound: unknown,
  ) {
    this.server = createServer((_req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(notFound));
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  protected abstract onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;

  /** Completes the upgrade of `connection` and keeps the session `create` makes of it. */
  protected accept(
    req: IncomingMessage,
    socket: Socket,
    head: Buffer,
    connection: { status?: number },
    create: (ws: WebSocket) => S,
  ): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      connection.status = 101;
      this.sessions.add(create(ws));
    });
  }

  /** Refuses the upgrade of `connection` with an HTTP `status` and `body` as JSON. */
  protected refuse(socket: Socket, connection: { status?: number }, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
    connection.status = status;
    const text = JSON.stringify(body);
    refuseUpgrade(socket, status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), Connection: 'close', ...headers }, text);
  }

  /**
   * Records `connection` and refuses it as most vendors do: 404 for a path other than `route`, then the next
   * scripted handshake fault (its Retry-After sent), then 401 `unauthorized` for a refused key; `body` frames the
   * vendor's JSON. False when refused.
   */
  protected admit(
    this: FakeWebSocketServer<C, M, FakeHandshakeFault, G, S>,
    socket: Socket,
    connection: C & { readonly path: string; readonly auth: { readonly valid: boolean }; status?: number },
    route: string,
    unauthorized: string,
    body: (status: number, message: string) => unknown,
  ): boolean {
    this.connections.push(connection);
    const reject = (status: number, message: string, headers: Record<string, string> = {}): false => {
      this.refuse(socket, connection, status, body(status, message), headers);
      return false;
    };
    if (connection.path !== route) return reject(404, `No route for ${connection.path}`);
    const fault = this.handshakeFaults.shift();
    if (fault !== undefined) return reject(fault.status, fault.message ?? `Scripted ${fault.status}`, fault.retryAfter === undefined ? {} : { 'Retry-After': String(fault.retryAfter) });
    if (!connection.auth.valid) return reject(401, unauthorized);
    return true;
  }

  get baseUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  messages(): unknown[] {
    return this.connections.flatMap((c) => c.received.filter((m) => m.json !== undefined).map((m) => m.json));
  }

  waitForMessage(predicate: (json: unknown) => boolean, timeoutMs = 5000): Promise<M> {
    for (const connection of this.connections) {
      const seen = connection.received.find((m) => matches(predicate, m.json));
      if (seen !== undefined) return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`fake ${this.vendor}: no matching message within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        predicate,
        resolve: (message: M) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      this.waiters.push(waiter);
    });
  }

  failHandshake(...faults: H[]): void {
    this.handshakeFaults.push(...faults);
  }

  failGeneration(...faults: G[]): void {
    this.generationFaults.push(...faults);
  }

  /** The first fault for a generation of `text`: one without `onText`, or whose `onText` the text contains. */
  takeGenerationFault(text = ''): G | undefined {
    const index = this.generationFaults.findIndex((fault) => {
      const onText = (fault as { onText?: unknown }).onText;
      return typeof onText !== 'string' || text.includes(onText);
    });
    return index < 0 ? undefined : this.generationFaults.splice(index, 1)[0];
  }

  dropConnections(): void {
    for (const session of this.sessions) session.drop();
  }

  async close(): Promise<void> {
    for (const session of this.sessions) session.drop();
    for (const waiter of this.waiters) waiter.predicate = () => false;
    this.waiters = [];
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** Records a client frame, and hands it to whoever waits for one like it. */
  record(connection: C, message: M): void {
    connection.received.push(message);
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (!matches(w.predicate, message.json)) return true;
      w.resolve(message);
      return false;
    });
  }

  forget(session: S): void {
    this.sessions.delete(session);
  }
}
