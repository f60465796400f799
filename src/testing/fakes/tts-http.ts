// The plumbing the fake HTTP text-to-speech vendors share: the request log, the queue of scripted faults, the
// vendor's refusals turned into its error replies, and the paced streaming of an answer with its stall and drop
// faults. Each vendor's file keeps only its protocol: paths, auth header, body schema, rejections, framing.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { pause, startFakeHttpServer, untilClosed } from './http.js';
import { readBody } from './sse.js';

/** What a fake HTTP TTS vendor records of one request. */
export interface FakeTTSHttpRecord {
  readonly path: string;
  /** Lower-case header names; the vendor's secret-bearing headers are replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
  status?: number;
  chunksSent: number;
  outcome?: string;
}

export type FakeStreamOutcome = 'completed' | 'client-closed' | 'dropped';

/** The record of a vendor that takes a key. */
export interface FakeTTSHttpRequest extends FakeTTSHttpRecord {
  readonly auth: { readonly present: boolean; readonly valid: boolean };
  outcome?: FakeStreamOutcome;
}

/** The faults of an answer once its headers are sent. */
export type FakeStreamFault =
  /** Nothing after the headers, until the client goes away. */
  | { stall: true }
  /** The socket destroyed after `afterChunks` pieces (default 0). */
  | { drop: true; afterChunks?: number };

/** An error reply as a vendor frames it; its `status` is recorded. */
export interface FakeHttpRefusal extends Error {
  readonly status: number;
}

export interface FakeTTSHttpVendor<Request extends FakeTTSHttpRecord, Fault, Refusal extends FakeHttpRefusal> {
  /** The request's record (path, redacted headers, auth), before anything is answered. */
  record(req: IncomingMessage, raw: Buffer): Request;
  /** Answers a request; throws a `Refusal` to refuse it. `takeFault` takes the next scripted fault. */
  answer(req: IncomingMessage, raw: Buffer, record: Request, res: ServerResponse, takeFault: () => Fault | undefined): Promise<void>;
  /** The vendor's refusal class: only its instances are answered by `refuse` (anything else is a bug of the fake). */
  readonly refusal: abstract new (...args: never[]) => Refusal;
  refuse(res: ServerResponse, refusal: Refusal, record: Request): void;
  /** The answer when the fake itself fails. */
  sendFailure(res: ServerResponse): void;
}

/** A fake HTTP TTS vendor as a test holds it. */
export interface FakeTTSHttp<Request, Fault> {
  /** `http://127.0.0.1:<port>`, to pass as the client's `baseUrl`. */
  readonly baseUrl: string;
  readonly requests: readonly Request[];
  /** Spoils the next valid requests, one each. */
  failSpeech(...faults: Fault[]): void;
  close(): Promise<void>;
}

export interface FakeTTSHttpServer<Request, Fault> {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly requests: readonly Request[];
  /** Spoils the next valid requests, one each. */
  readonly failSpeech: (...faults: Fault[]) => void;
  readonly close: () => Promise<void>;
}

/** Starts a fake HTTP TTS vendor on 127.0.0.1 on a free port. */
export async function startFakeTTSHttpVendor<Request extends FakeTTSHttpRecord, Fault, Refusal extends FakeHttpRefusal>(
  vendor: FakeTTSHttpVendor<Request, Fault, Refusal>,
): Promise<FakeTTSHttpServer<Request, Fault>> {
  const requests: Request[] = [];
  const faults: Fault[] = [];
  const takeFault = (): Fault | undefined => faults.shift();
  const { port, close } = await startFakeHttpServer(async (req, res) => {
    const raw = await readBody(req);
    const record = vendor.record(req, raw);
    requests.push(record);
    try {
      await vendor.answer(req, raw, record, res, takeFault);
    } catch (error) {
      if (!(error instanceof vendor.refusal)) throw error;
      record.status = error.status;
      vendor.refuse(res, error, record);
    }
  }, (res) => vendor.sendFailure(res));
  return { origin: `http://127.0.0.1:${port}`, requests, failSpeech: (...more) => void faults.push(...more), close };
}

/** `data` cut into pieces of `step` items (the last may be shorter). */
export function pieces<T extends { readonly length: number; subarray(start: number, end: number): T }>(data: T, step: number): T[] {
  const out: T[] = [];
  for (let at = 0; at < data.length; at += step) out.push(data.subarray(at, at + step));
  return out;
}

/** Samples per piece of `chunkMs` (default 40 ms) at `rate`; at least one. */
export function samplesPerChunk(chunkMs: number | undefined, rate: number): number {
  return Math.max(1, Math.round(((chunkMs ?? 40) * rate) / 1000));
}

export interface FakeStreamAnswer {
  readonly headers: OutgoingHttpHeaders;
  /** Sent right after the headers, not counted as a piece (a file header). */
  readonly preamble?: string | Uint8Array;
  readonly pieces: readonly (string | Uint8Array)[];
  /** The request's fault; only a stall or a drop acts here (a vendor handles its other faults itself). */
  readonly fault: object | undefined;
  /** Pause between two pieces; 0 yields one event-loop turn. Default 2 ms. */
  readonly chunkDelayMs: number | undefined;
  /** Sent with the end of the answer, not counted as a piece (a closing event). */
  readonly last?: string | Uint8Array;
  /** The outcome recorded once all is sent. Default 'completed'. */
  readonly outcome?: string;
}

/** Answers 200 with `headers`, then the pieces, paced, counted in `record.chunksSent`, faults applied. */
export async function streamFakeAnswer(res: ServerResponse, record: FakeTTSHttpRecord, answer: FakeStreamAnswer): Promise<void> {
  const { fault } = answer;
  record.status = 200;
  res.writeHead(200, answer.headers);
  let closed = false;
  res.on('close', () => {
    closed = true;
    record.outcome ??= 'client-closed';
  });
  if (fault !== undefined && 'stall' in fault) return untilClosed(res);
  if (answer.preamble !== undefined) res.write(answer.preamble);
  const dropAfter = fault !== undefined && 'drop' in fault ? ((fault as { afterChunks?: number }).afterChunks ?? 0) : undefined;
  for (const [index, piece] of answer.pieces.entries()) {
    if (closed) return;
    if (dropAfter !== undefined && record.chunksSent >= dropAfter) {
      record.outcome = 'dropped';
      res.socket?.destroy();
      return;
    }
    res.write(piece);
    record.chunksSent += 1;
    // No pause after the last piece: a client that has it all may go before another turn.
    if (index < answer.pieces.length - 1) await pause(answer.chunkDelayMs ?? 2);
  }
  if (closed) return;
  record.outcome = answer.outcome ?? 'completed';
  if (answer.last === undefined) res.end();
  else res.end(answer.last);
}
