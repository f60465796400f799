// The HTTP plumbing the fake vendor servers share: a server on a free local port whose own bugs fail the client's
// request (never the test process), a WebSocket handshake refused with a plain HTTP answer as the vendors refuse
// it, JSON request bodies, request recording without secrets, and the pacing of writes.
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A pause between two writes; 0 yields one event-loop turn (enough for separate socket writes). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
}

/** Resolves when the response's connection closes (the client went away, or it was destroyed). */
export function untilClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => res.once('close', () => resolve()));
}

/** The request's path, without the query. */
export function requestPath(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/';
}

/**
 * A request body parsed as JSON; `parsed` is false when it is not JSON. An empty body is `undefined` (and parsed)
 * unless `emptyIsJSON` is false, when it is as unparsable as any other text that is not JSON.
 */
export function parseJSONBody(raw: Buffer, emptyIsJSON = true): { body: unknown; parsed: boolean } {
  if (emptyIsJSON && raw.length === 0) return { body: undefined, parsed: true };
  try {
    return { body: JSON.parse(raw.toString('utf8')) as unknown, parsed: true };
  } catch {
    return { body: undefined, parsed: false };
  }
}

/** Query values as a record (the last of repeated names), the named secret-bearing ones replaced. */
export function recordQuery(params: URLSearchParams, secretNames: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of params) out[name] = secretNames.includes(name) ? '[redacted]' : value;
  return out;
}

/** Answers a WebSocket upgrade with an HTTP response instead of 101 (a refused handshake) and ends the socket. */
export function refuseUpgrade(socket: Socket, status: number, headers: Readonly<Record<string, string | number>>, body: string): void {
  const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

export interface FakeHttpServer {
  readonly port: number;
  /** Stops listening and cuts every open connection. */
  readonly close: () => Promise<void>;
}

/**
 * Starts an HTTP server on 127.0.0.1 on a free port. A request whose handler fails is answered by `sendFailure`
 * (or cut when the answer had begun); `onUpgrade` takes the WebSocket upgrades.
 */
export async function startFakeHttpServer(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  sendFailure: (res: ServerResponse) => void,
  onUpgrade?: (req: IncomingMessage, socket: Socket, head: Buffer) => void,
): Promise<FakeHttpServer> {
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // A bug in the fake must fail the client's request, not the test process.
      if (!res.headersSent) sendFailure(res);
      else res.socket?.destroy();
    });
  });
  if (onUpgrade !== undefined) server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
