// What the fake REST recognisers (Groq, ElevenLabs Scribe, Azure Speech, Google Cloud Speech) share: a real HTTP
// server that records every request without its secrets, lets the vendor's own dialect check the key and the
// request (refusing what the vendor refuses, with the vendor's error body), then answers one queued transcript
// per valid request — or a scripted fault: an HTTP error with the vendor's body, a stall (nothing until the client
// gives up), a connection cut before the answer. Each vendor's file holds only its wire protocol.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WavFormatError, readWav } from '../../audio/index.js';
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { requestPath, startFakeHttpServer, untilClosed } from './http.js';
import type { FakeUploadedAudio } from './openai-audio.js';
import { readBody, recordHeaders, sendJSON } from './sse.js';

/** A scripted failure of one request: an HTTP error with the vendor's body, a stall, or a cut connection. */
export type FakeSTTFault = { error: number; retryAfter?: number; message?: string } | { stall: true } | { drop: true };

/** What one valid request is answered with: a transcript, or a fault. */
export type FakeSTTAnswer = string | FakeSTTFault;

export interface FakeSTTRequest {
  readonly method: string;
  readonly path: string;
  /** Query parameters; secret-bearing ones replaced by `[redacted]`. */
  readonly query: Readonly<Record<string, string>>;
  /** Lower-case header names; secret-bearing ones replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: { readonly present: boolean; readonly valid: boolean };
  /** What the vendor's protocol carried: model, language and the other options, as the request named them. */
  readonly options: Readonly<Record<string, string>>;
  /** The decoded audio of a request that carried valid audio. */
  readonly audio?: FakeUploadedAudio;
  status?: number;
  outcome?: 'completed' | 'client-closed' | 'dropped';
}

/** A refusal in the vendor's words: status, JSON body, headers. */
export class FakeVendorRefusal extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Readonly<Record<string, string | number>> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

/** A vendor's wire protocol, as the shared server asks for it. */
export interface FakeSTTDialect {
  /** The key the request carries (header or query), or undefined. */
  keyOf(req: IncomingMessage, url: URL): string | undefined;
  /** Header and query names that carry secrets, never recorded. */
  readonly secretHeaders: readonly string[];
  readonly secretQuery?: readonly string[];
  /** Whether the method and path are the recogniser's; anything else is `notFound`. */
  routes(method: string, path: string): boolean;
  notFound(method: string, path: string): FakeVendorRefusal;
  refusedKey(present: boolean): FakeVendorRefusal;
  /** Validates the request as the vendor does (throwing its refusal); returns its options and audio. */
  parse(req: IncomingMessage, url: URL, raw: Buffer): { options: Record<string, string>; audio: FakeUploadedAudio };
  /** The vendor's refusal for a scripted status. */
  scriptedError(status: number, message: string | undefined, retryAfter: number | undefined): FakeVendorRefusal;
  /** The vendor's answer body for `text`. */
  answer(text: string, request: FakeSTTRequest, sequence: number): unknown;
}

export interface FakeSegmentedSTT {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly requests: readonly FakeSTTRequest[];
  /** Queues answers (transcripts or faults), one per valid request; then `[fake transcript]`. */
  readonly enqueue: (...answers: FakeSTTAnswer[]) => void;
  readonly close: () => Promise<void>;
}

/** A WAV upload decoded, or undefined when it is not a WAV the fake can read. */
export function decodeWav(bytes: Buffer): FakeUploadedAudio | undefined {
  try {
    const wav = readWav(bytes);
    return { sampleRate: wav.sampleRate, channels: wav.channels, samples: wav.samples, durationSecs: wav.samples.length / wav.channels / wav.sampleRate };
  } catch (error) {
    if (error instanceof WavFormatError) return undefined;
    throw error;
  }
}

/** Starts a fake recogniser speaking `dialect` on 127.0.0.1 on a free port. */
export async function startFakeSegmentedSTT(dialect: FakeSTTDialect, policy: FakeKeyPolicy): Promise<FakeSegmentedSTT> {
  const requests: FakeSTTRequest[] = [];
  const queue: FakeSTTAnswer[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = requestPath(req);
    const key = dialect.keyOf(req, url);
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams) query[name] = dialect.secretQuery?.includes(name) === true ? '[redacted]' : value;
    const record: FakeSTTRequest = {
      method: req.method ?? 'GET',
      path,
      query,
      headers: recordHeaders(req, dialect.secretHeaders),
      auth: { present: key !== undefined && key !== '', valid: isAcceptedKey(key, policy) },
      options: {},
    };
    requests.push(record);
    res.once('close', () => (record.outcome ??= res.writableFinished ? 'completed' : 'client-closed'));
    const raw = await readBody(req);
    try {
      if (!dialect.routes(record.method, path)) throw dialect.notFound(record.method, path);
      if (!record.auth.valid) throw dialect.refusedKey(record.auth.present);
      const { options, audio } = dialect.parse(req, url, raw);
      Object.assign(record, { options, audio });
      const next = queue.shift() ?? '[fake transcript]';
      if (typeof next !== 'string') {
        if ('error' in next) throw dialect.scriptedError(next.error, next.message, next.retryAfter);
        if ('drop' in next) {
          record.outcome = 'dropped';
          res.socket?.destroy();
          return;
        }
        await untilClosed(res);
        return;
      }
      record.status = 200;
      sendJSON(res, 200, dialect.answer(next, record, requests.length));
    } catch (error) {
      if (!(error instanceof FakeVendorRefusal)) throw error;
      record.status = error.status;
      sendJSON(res, error.status, error.body, error.headers);
    }
  };

  const { port, close } = await startFakeHttpServer(handle, (res) => sendJSON(res, 500, { error: 'fake failure' }));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    enqueue: (...answers) => void queue.push(...answers),
    close,
  };
}
