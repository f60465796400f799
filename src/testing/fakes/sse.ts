// HTTP and Server-Sent Events helpers shared by the fake vendor servers. The point of a fake is to be as awkward
// as the network: every write is cut at arbitrary (seeded, so reproducible) byte offsets, sometimes inside a
// UTF-8 code point, and the pieces go out as separate socket writes with a pause between them, so the client's
// SSE parser and UTF-8 decoder are exercised the way a real connection exercises them.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` characters drawn from `alphabet` (default letters and digits). */
export function randomString(random: () => number, length: number, alphabet = ALPHANUMERIC): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)] ?? '';
  return out;
}

export interface SSEEvent {
  /** The `event:` field (Anthropic, OpenAI Responses); omitted when undefined. */
  event?: string;
  /** The `data:` payload: a string as is, anything else as JSON. Multi-line strings become several `data:` lines. */
  data: unknown;
  id?: string;
}

/** One event in SSE wire format, ending with the blank line that dispatches it. */
export function formatSSEEvent(event: SSEEvent): string {
  const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
  let out = '';
  if (event.event !== undefined) out += `event: ${event.event}\n`;
  if (event.id !== undefined) out += `id: ${event.id}\n`;
  for (const line of data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** An SSE comment line (clients ignore it; OpenRouter uses them as keep-alives). */
export function formatSSEComment(text: string): string {
  return `: ${text}\n\n`;
}

/**
 * Cuts `bytes` into 1 to `maxPieces` pieces at random offsets. When the bytes hold a multi-byte UTF-8 character,
 * one cut lands inside such a character half of the time, so clients must reassemble code points.
 */
export function splitBytes(bytes: Uint8Array, random: () => number, maxPieces = 4): Uint8Array[] {
  if (bytes.length < 2) return [bytes];
  const cuts = new Set<number>();
  const count = Math.floor(random() * maxPieces);
  for (let i = 0; i < count; i++) cuts.add(1 + Math.floor(random() * (bytes.length - 1)));
  const insideCodePoint: number[] = [];
  for (let i = 1; i < bytes.length; i++) {
    // A continuation byte (10xxxxxx): cutting before it splits a character.
    if (((bytes[i] ?? 0) & 0xc0) === 0x80) insideCodePoint.push(i);
  }
  if (insideCodePoint.length > 0 && random() < 0.5) {
    cuts.add(insideCodePoint[Math.floor(random() * insideCodePoint.length)] ?? 1);
  }
  const sorted = [...cuts].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const cut of sorted) {
    pieces.push(bytes.subarray(start, cut));
    start = cut;
  }
  pieces.push(bytes.subarray(start));
  return pieces;
}

/** True once the response can no longer be written (client gone, socket destroyed, or ended). */
export function isClosed(res: ServerResponse): boolean {
  return res.destroyed || res.writableEnded || res.socket === null || res.socket.destroyed;
}

function pause(delayMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (delayMs > 0) setTimeout(resolve, delayMs);
    else setImmediate(resolve);
  });
}

/** Writes one buffer, waiting for the socket to drain when it asks to (a slow client slows the fake down). */
async function writeRespectingBackpressure(res: ServerResponse, bytes: Uint8Array): Promise<void> {
  if (res.write(bytes)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export interface SplitWriteOptions {
  random: () => number;
  /** Pause between pieces, in ms; 0 yields to the event loop once (enough for separate socket writes). */
  pieceDelayMs?: number;
  /** Most pieces one write is cut into. Default 4. */
  maxPieces?: number;
}

/** Writes `text` (UTF-8) as several separate socket writes; resolves false if the client went away. */
export async function writeSplit(res: ServerResponse, text: string | Uint8Array, options: SplitWriteOptions): Promise<boolean> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  for (const piece of splitBytes(bytes, options.random, options.maxPieces)) {
    if (isClosed(res)) return false;
    await writeRespectingBackpressure(res, piece);
    await pause(options.pieceDelayMs ?? 0);
  }
  return !isClosed(res);
}

export interface SSEWriterOptions extends SplitWriteOptions {
  /** Pause between events, in ms. Default 0 (one event-loop turn). */
  eventDelayMs?: number;
}

/** Streams SSE events over one response, each event's bytes split across several writes. */
export class SSEWriter {
  private readonly res: ServerResponse;
  private readonly options: SSEWriterOptions;

  constructor(res: ServerResponse, options: SSEWriterOptions) {
    this.res = res;
    this.options = options;
  }

  /** Sends status 200 and the headers now (no Content-Length: the body is chunked). */
  open(headers: OutgoingHttpHeaders = {}, contentType = 'text/event-stream'): void {
    this.res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-cache', Connection: 'keep-alive', ...headers });
    this.res.flushHeaders();
  }

  get closed(): boolean {
    return isClosed(this.res);
  }

  /** Writes raw text split across socket writes; false if the client went away. */
  async writeRaw(text: string): Promise<boolean> {
    const ok = await writeSplit(this.res, text, this.options);
    await pause(this.options.eventDelayMs ?? 0);
    return ok;
  }

  send(event: SSEEvent): Promise<boolean> {
    return this.writeRaw(formatSSEEvent(event));
  }

  comment(text: string): Promise<boolean> {
    return this.writeRaw(formatSSEComment(text));
  }

  end(): void {
    if (!this.closed) this.res.end();
  }

  /** Cuts the connection without finishing the chunked body: the client sees a dropped connection. */
  destroy(): void {
    this.res.socket?.destroy();
  }

  /** Resolves when the client closes the connection (or it is destroyed). */
  waitForClose(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.res.once('close', () => resolve()));
  }
}

/** Reads a whole request body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Sends a complete JSON response. */
export function sendJSON(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Request headers as a plain lower-case record, with the named secret-bearing headers replaced. */
export function recordHeaders(
  req: IncomingMessage,
  secretHeaders: readonly string[] = ['authorization'],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name] = secretHeaders.includes(name) ? '[redacted]' : Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
