// A local stand-in for Hume's streamed-JSON text-to-speech (`POST /v0/tts/stream/json`), over a real HTTP socket, so
// the production client is what gets tested. It checks requests as Hume documents them — the `X-Hume-Api-Key` header
// (refused: 401 with the gateway's `{"fault": {"faultstring"}}`), `utterances` (1 or more; `text` at most 5000
// characters, `description` at most 1000, `speed` 0.5 to 2, `voice` `{name, provider}` or `{id}`), `format` (`pcm`
// emulated; mp3 and wav refused as not emulated), `instant_mode` (needs a voice and one generation) — and answers
// newline-delimited JSON chunks `{type: "audio", audio: <base64 PCM 48 kHz>, chunk_index, is_last_chunk, ...}`.
// Scriptable failures: HTTP errors (with Retry-After), a stall after the headers, a connection dropped mid-answer,
// an answer ended cleanly before its last chunk.
// Facts: docs/vendors/hume.md.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { encodeSamples, fakeVoiceTone } from './audio.js';
import { isRecord, pause, parseJSONBody, requestPath, startFakeHttpServer, untilClosed } from './http.js';
import { readBody, recordHeaders } from './sse.js';

const RATE = 48000;

export type FakeHumeFault =
  | { error: 400 | 401 | 422 | 429 | 500 | 503; message?: string; retryAfter?: number }
  | { stall: true }
  | { drop: true; afterChunks?: number }
  /** Ends the answer cleanly after `afterChunks` chunks, without the one flagged `is_last_chunk`. */
  | { truncate: true; afterChunks?: number };

export interface FakeHumeRequest {
  readonly path: string;
  /** Lower-case header names; `x-hume-api-key` is replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: { readonly present: boolean; readonly valid: boolean };
  readonly body?: unknown;
  status?: number;
  chunksSent: number;
  outcome?: 'completed' | 'client-closed' | 'dropped';
}

export interface FakeHumeOptions extends FakeKeyPolicy {
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per JSON line. Default 40 ms. */
  chunkMs?: number;
  /** Pause between lines; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
}

export interface FakeHume {
  /** `http://127.0.0.1:<port>`, to pass as the client's `baseUrl`. */
  readonly baseUrl: string;
  readonly requests: readonly FakeHumeRequest[];
  /** Spoils the next valid requests, one each. */
  failSpeech(...faults: FakeHumeFault[]): void;
  close(): Promise<void>;
}

/** The fake's speech for `text` (48 kHz PCM16): a tone of its own timbre, so another fake's audio differs. */
export function fakeHumeSpeech(text: string, options: { voice: string; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * RATE) / 1000);
  return fakeVoiceTone(`${options.voice}^${text}`, count, RATE, {
    baseHz: 145, hzSpread: 120, amplitude: 7600, tremoloBase: 0.55, tremoloDepth: 0.45, tremoloHz: 2.5,
    rampStep: 19, rampPeriod: 67, rampOffset: 33,
  });
}

class HumeError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** What is wrong with the request body, or undefined. */
function invalidBody(body: Record<string, unknown>): string | undefined {
  const utterances = body.utterances;
  if (!Array.isArray(utterances) || utterances.length === 0) return 'utterances: at least one utterance is required';
  for (const utterance of utterances) {
    if (!isRecord(utterance) || typeof utterance.text !== 'string') return 'utterances[].text is required';
    if (utterance.text.length > 5000) return 'utterances[].text must be at most 5000 characters';
    if (typeof utterance.description === 'string' && utterance.description.length > 1000) return 'utterances[].description must be at most 1000 characters';
    if (utterance.speed !== undefined && (typeof utterance.speed !== 'number' || utterance.speed < 0.5 || utterance.speed > 2)) return 'utterances[].speed must be between 0.5 and 2';
    const voice = utterance.voice;
    if (voice !== undefined && !(isRecord(voice) && (typeof voice.name === 'string' || typeof voice.id === 'string'))) return 'utterances[].voice needs a name or an id';
    if (isRecord(voice) && voice.provider !== undefined && voice.provider !== 'HUME_AI' && voice.provider !== 'CUSTOM_VOICE') return 'voice.provider must be HUME_AI or CUSTOM_VOICE';
    if (body.instant_mode === true && voice === undefined) return 'A voice must be specified when instant mode is enabled';
  }
  if (body.instant_mode === true && body.num_generations !== undefined && body.num_generations !== 1) return 'instant mode needs num_generations 1';
  const format = isRecord(body.format) ? body.format.type : 'mp3';
  if (format === 'mp3' || format === 'wav') return `fake Hume server: format ${format} is not emulated by this fake (the real API accepts it)`;
  if (format !== 'pcm') return `Unsupported format: ${JSON.stringify(format)}`;
  return undefined;
}

class FakeServer {
  readonly requests: FakeHumeRequest[] = [];
  readonly faults: FakeHumeFault[] = [];

  constructor(private readonly options: FakeHumeOptions) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = requestPath(req);
    const header = req.headers['x-hume-api-key'];
    const key = typeof header === 'string' ? header : undefined;
    const raw = await readBody(req);
    const record: FakeHumeRequest = {
      path,
      headers: recordHeaders(req, ['x-hume-api-key']),
      auth: { present: key !== undefined, valid: isAcceptedKey(key, this.options) },
      chunksSent: 0,
    };
    this.requests.push(record);
    try {
      if (req.method !== 'POST' || path !== '/v0/tts/stream/json') throw new HumeError(404, `No route for ${req.method ?? ''} ${path}`);
      if (!record.auth.valid) {
        record.status = 401;
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ fault: { faultstring: 'Invalid ApiKey', detail: { errorcode: 'oauth.v2.InvalidApiKey' } } }));
        return;
      }
      await this.speak(raw, record, res);
    } catch (error) {
      if (!(error instanceof HumeError)) throw error;
      record.status = error.status;
      const headers: Record<string, string | number> = { 'content-type': 'application/json' };
      if (error.retryAfter !== undefined) headers['retry-after'] = error.retryAfter;
      res.writeHead(error.status, headers).end(JSON.stringify({ message: error.message }));
    }
  }

  private async speak(raw: Buffer, record: FakeHumeRequest, res: ServerResponse): Promise<void> {
    const { body, parsed } = parseJSONBody(raw, false);
    (record as { body?: unknown }).body = body;
    if (!parsed || !isRecord(body)) throw new HumeError(400, 'The body must be JSON.');
    const problem = invalidBody(body);
    if (problem !== undefined) throw new HumeError(422, problem);
    const fault = this.faults.shift();
    if (fault !== undefined && 'error' in fault) throw new HumeError(fault.error, fault.message ?? `Scripted ${fault.error}`, fault.retryAfter);
    const utterances = body.utterances as Record<string, unknown>[];
    const text = utterances.map((u) => String(u.text)).join(' ');
    const voice = isRecord(utterances[0]?.voice) ? String(utterances[0].voice.name ?? utterances[0].voice.id) : 'generated';
    const bytes = encodeSamples(fakeHumeSpeech(text, { voice, msPerCharacter: this.options.msPerCharacter }), 's16le');
    record.status = 200;
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    let closed = false;
    res.on('close', () => {
      closed = true;
      record.outcome ??= 'client-closed';
    });
    if (fault !== undefined && 'stall' in fault) return untilClosed(res);
    const ids = { request_id: randomUUID(), generation_id: randomUUID(), snippet_id: randomUUID() };
    const step = Math.max(1, Math.round(((this.options.chunkMs ?? 40) * RATE) / 1000)) * 2;
    for (let at = 0; at < bytes.length && !closed; at += step) {
      if (fault !== undefined && 'drop' in fault && record.chunksSent >= (fault.afterChunks ?? 0)) {
        record.outcome = 'dropped';
        res.socket?.destroy();
        return;
      }
      if (fault !== undefined && 'truncate' in fault && record.chunksSent >= (fault.afterChunks ?? 0)) break;
      const chunk = {
        type: 'audio',
        audio: Buffer.from(bytes.subarray(at, at + step)).toString('base64'),
        audio_format: 'pcm',
        chunk_index: record.chunksSent,
        is_last_chunk: at + step >= bytes.length,
        text,
        utterance_index: 0,
        ...ids,
      };
      res.write(`${JSON.stringify(chunk)}\n`);
      record.chunksSent += 1;
      await pause(this.options.chunkDelayMs ?? 2);
    }
    if (!closed) {
      record.outcome = 'completed';
      res.end();
    }
  }
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeHume(options: FakeHumeOptions = {}): Promise<FakeHume> {
  const fake = new FakeServer(options);
  const { port, close } = await startFakeHttpServer(
    (req, res) => fake.handle(req, res),
    (res) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'fake failure' })),
  );
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests: fake.requests,
    failSpeech: (...faults) => void fake.faults.push(...faults),
    close,
  };
}
