// The plumbing the fake streaming-STT servers share: the HTTP server their sockets upgrade from, the queues of
// scripted transcripts and handshake faults, and the drop and close of the open sessions. Each fake keeps its
// protocol: the handshake's checks and the session's messages.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket, WebSocketServer } from 'ws';
import { startFakeHttpServer } from './http.js';
import type { FakeSocketClose } from './websocket.js';

export interface FakeSTTSocketControls<Fault> {
  /** `ws://127.0.0.1:<port>`. */
  readonly url: string;
  readonly scriptTranscripts: (...texts: string[]) => void;
  readonly failNextConnections: (fault: Fault, count?: number) => void;
  readonly dropConnections: () => void;
  readonly close: () => Promise<void>;
}

export interface FakeSTTSocketSetup<Fault> {
  /** The `noServer` WebSocket server `onUpgrade` hands sockets to. */
  readonly wss: WebSocketServer;
  readonly onUpgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => void;
  /** What the next stretches of speech are transcribed as, taken by the sessions. */
  readonly queue: { push(...texts: string[]): void };
  /** The next handshakes' faults, taken by `onUpgrade`. */
  readonly faults: Fault[];
  /** The sessions a drop cuts: those still open. */
  readonly open: () => Iterable<{ drop(): void }>;
  /** Plain HTTP requests. Default: 404 with an empty body. */
  readonly handle?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

/** Starts the HTTP server of a fake streaming-STT vendor on 127.0.0.1 on a free port. */
export async function serveFakeSTTSockets<Fault>(setup: FakeSTTSocketSetup<Fault>): Promise<FakeSTTSocketControls<Fault>> {
  const notFound = async (_req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.writeHead(404).end();
  };
  const server = await startFakeHttpServer(setup.handle ?? notFound, (res) => res.writeHead(500).end(), setup.onUpgrade);
  const dropAll = (): void => {
    for (const session of [...setup.open()]) session.drop();
  };
  return {
    url: `ws://127.0.0.1:${server.port}`,
    scriptTranscripts: (...texts) => setup.queue.push(...texts),
    failNextConnections: (fault, count = 1) => {
      for (let i = 0; i < count; i++) setup.faults.push(fault);
    },
    dropConnections: dropAll,
    close: async () => {
      dropAll();
      await new Promise<void>((resolve) => setup.wss.close(() => resolve()));
      await server.close();
    },
  };
}

/** A fake STT session that speaks JSON text frames: what it sent, how its socket closed, and its drop. */
export abstract class FakeJsonSTTSession {
  /** The JSON messages sent to the client, in order. */
  readonly sent: Record<string, unknown>[] = [];
  closed: FakeSocketClose | undefined;

  constructor(protected readonly ws: WebSocket) {
    ws.on('close', (code, reason) => {
      this.closed ??= { code, reason: reason.toString('utf8'), by: 'client' };
      this.onClosed();
    });
    ws.on('error', () => {});
  }

  /** The session's own clean-up once its socket closed, whichever side closed it. */
  protected abstract onClosed(): void;

  drop(): void {
    this.closed ??= { code: 1006, reason: '', by: 'dropped' };
    this.ws.terminate();
  }

  protected send(message: Record<string, unknown>): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.sent.push(message);
    this.ws.send(JSON.stringify(message));
  }
}
