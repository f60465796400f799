// Bare clients for the tests of the fake vendor servers: a streamed HTTP body read as the socket delivered it, a
// JSON WebSocket client, and the HTTP answer to a refused WebSocket handshake.
import WebSocket from 'ws';
import { waitUntil } from './wait.js';

/** The raw body, and how many separate reads it took. */
export async function readRaw(res: Response): Promise<{ text: string; reads: number }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const parts: Uint8Array[] = [];
  let reads = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    reads += 1;
    parts.push(value);
  }
  return { text: Buffer.concat(parts).toString('utf8'), reads };
}

export type Json = Record<string, unknown>;

export interface JsonClient {
  ws: WebSocket;
  /** Every message received, parsed. */
  received: Json[];
  send: (message: Json) => void;
  /** The first message (already received or still to come) that matches; fails after `timeoutMs` (default 2 s). */
  waitFor: (predicate: (message: Json) => boolean, timeoutMs?: number) => Promise<Json>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a WebSocket that speaks JSON text messages. `describe` says what was received when `waitFor` fails. */
export async function connectJson(url: string, headers: Record<string, string>, describe: (received: Json[]) => string): Promise<JsonClient> {
  const ws = new WebSocket(url, { headers });
  const received: Json[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('message', (data: Buffer) => received.push(JSON.parse(data.toString()) as Json));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    received,
    closed,
    send: (message) => ws.send(JSON.stringify(message)),
    waitFor: async (predicate, timeoutMs = 2000) => {
      let found: Json | undefined;
      try {
        await waitUntil(() => (found = received.find(predicate)) !== undefined, timeoutMs, 2);
      } catch {
        throw new Error(`no matching message; got ${describe(received)}`);
      }
      return found!;
    },
  };
}

/** The status, headers and body text a refused handshake answered with; fails if the handshake is accepted. */
export async function handshakeRejection(url: string, headers: Record<string, string>): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (piece: Buffer) => (body += piece.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
        ws.terminate();
      });
    });
    ws.on('open', () => reject(new Error('handshake unexpectedly accepted')));
    ws.on('error', () => {});
  });
}
