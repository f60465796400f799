// A local stand-in for Inworld's HTTP streaming text-to-speech (`POST /tts/v1/voice:stream`), over a real HTTP socket,
// so the production client is what gets tested. It checks requests as Inworld documents them — `Authorization:
// Basic <base64 credential>` (refused: 401 `{"code": 16, "message"}`), `voiceId`, `modelId`, `audioConfig`
// (`LINEAR16` emulated, MP3 and others refused as not emulated; `sampleRateHertz` 8000 to 48000), text of at most
// 2000 characters — and answers newline-delimited JSON lines `{"result": {"audioContent": <base64>}}`, each piece of
// LINEAR16 starting with its own 44-byte WAV header as Inworld's do. Scriptable failures: HTTP errors (with
// Retry-After), a stall after the headers, a connection dropped mid-answer. Facts: docs/vendors/inworld.md.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeWav } from '../../audio/index.js';
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { fakeVoiceTone } from './audio.js';
import { isRecord, pause, parseJSONBody, requestPath, startFakeHttpServer, untilClosed } from './http.js';
import { readBody, recordHeaders } from './sse.js';

export const FAKE_INWORLD_MODELS: readonly string[] = ['inworld-tts-1.5-max', 'inworld-tts-1.5-mini', 'inworld-tts-1-max', 'inworld-tts-1'];
const RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000];
const GRPC: Record<number, number> = { 400: 3, 401: 16, 403: 7, 429: 8, 500: 13, 503: 14 };

export type FakeInworldFault =
  | { error: 400 | 401 | 403 | 429 | 500 | 503; message?: string; retryAfter?: number }
  | { stall: true }
  | { drop: true; afterChunks?: number };

export interface FakeInworldRequest {
  readonly path: string;
  /** Lower-case header names; `authorization` is replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: { readonly present: boolean; readonly valid: boolean };
  readonly body?: unknown;
  status?: number;
  chunksSent: number;
  outcome?: 'completed' | 'client-closed' | 'dropped';
}

export interface FakeInworldOptions extends FakeKeyPolicy {
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per NDJSON line. Default 40 ms. */
  chunkMs?: number;
  /** Pause between lines; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
}

export interface FakeInworld {
  /** `http://127.0.0.1:<port>`, to pass as the client's `baseUrl`. */
  readonly baseUrl: string;
  readonly requests: readonly FakeInworldRequest[];
  /** Spoils the next valid requests, one each. */
  failSpeech(...faults: FakeInworldFault[]): void;
  close(): Promise<void>;
}

/** The fake's speech for `text` as PCM16: a tone of its own timbre, so another fake's audio differs. */
export function fakeInworldSpeech(text: string, options: { sampleRate: number; voice: string; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * options.sampleRate) / 1000);
  return fakeVoiceTone(`${options.voice}@${text}`, count, options.sampleRate, {
    baseHz: 160, hzSpread: 110, amplitude: 7800, tremoloBase: 0.6, tremoloDepth: 0.4, tremoloHz: 2,
    rampStep: 11, rampPeriod: 53, rampOffset: 26,
  });
}

class InworldError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

class FakeServer {
  readonly requests: FakeInworldRequest[] = [];
  readonly faults: FakeInworldFault[] = [];

  constructor(private readonly options: FakeInworldOptions) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = requestPath(req);
    const header = req.headers.authorization;
    const key = typeof header === 'string' && header.startsWith('Basic ') ? header.slice('Basic '.length).trim() : undefined;
    const raw = await readBody(req);
    const record: FakeInworldRequest = {
      path,
      headers: recordHeaders(req, ['authorization']),
      auth: { present: key !== undefined, valid: isAcceptedKey(key, this.options) },
      chunksSent: 0,
    };
    this.requests.push(record);
    try {
      if (req.method !== 'POST' || path !== '/tts/v1/voice:stream') throw new InworldError(404, `No route for ${req.method ?? ''} ${path}`);
      if (!record.auth.valid) throw new InworldError(401, 'Invalid authorization credentials');
      await this.speak(raw, record, res);
    } catch (error) {
      if (!(error instanceof InworldError)) throw error;
      record.status = error.status;
      const headers: Record<string, string | number> = { 'content-type': 'application/json' };
      if (error.retryAfter !== undefined) headers['retry-after'] = error.retryAfter;
      res.writeHead(error.status, headers).end(JSON.stringify({ code: GRPC[error.status] ?? 2, message: error.message, details: [] }));
    }
  }

  private async speak(raw: Buffer, record: FakeInworldRequest, res: ServerResponse): Promise<void> {
    const { body, parsed } = parseJSONBody(raw, false);
    (record as { body?: unknown }).body = body;
    const invalid = (message: string): InworldError => new InworldError(400, message);
    if (!parsed || !isRecord(body)) throw invalid('The body must be JSON.');
    if (typeof body.text !== 'string' || body.text.trim() === '') throw invalid('text is required');
    if (body.text.length > 2000) throw invalid('text must be at most 2000 characters');
    if (typeof body.voiceId !== 'string' || body.voiceId === '') throw invalid('voiceId is required');
    if (typeof body.modelId !== 'string' || !FAKE_INWORLD_MODELS.includes(body.modelId)) throw invalid(`Unknown modelId: ${JSON.stringify(body.modelId)}`);
    const config = isRecord(body.audioConfig) ? body.audioConfig : {};
    const encoding = config.audioEncoding ?? 'MP3';
    if (encoding !== 'LINEAR16') throw invalid(`fake Inworld server: audioEncoding ${JSON.stringify(encoding)} is not emulated by this fake (the real API accepts it)`);
    const rate = config.sampleRateHertz ?? 48000;
    if (typeof rate !== 'number' || !RATES.includes(rate)) throw invalid(`sampleRateHertz must be one of ${RATES.join(', ')}`);
    const fault = this.faults.shift();
    if (fault !== undefined && 'error' in fault) throw new InworldError(fault.error, fault.message ?? `Scripted ${fault.error}`, fault.retryAfter);
    const samples = fakeInworldSpeech(body.text, { sampleRate: rate, voice: body.voiceId, msPerCharacter: this.options.msPerCharacter });
    record.status = 200;
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    let closed = false;
    res.on('close', () => {
      closed = true;
      record.outcome ??= 'client-closed';
    });
    if (fault !== undefined && 'stall' in fault) return untilClosed(res);
    const step = Math.max(1, Math.round(((this.options.chunkMs ?? 40) * rate) / 1000));
    for (let at = 0; at < samples.length && !closed; at += step) {
      if (fault !== undefined && 'drop' in fault && record.chunksSent >= (fault.afterChunks ?? 0)) {
        record.outcome = 'dropped';
        res.socket?.destroy();
        return;
      }
      // Each piece is a whole WAV file, header included, as Inworld sends LINEAR16.
      const wav = writeWav({ sampleRate: rate, channels: 1, samples: samples.subarray(at, at + step) });
      res.write(`${JSON.stringify({ result: { audioContent: Buffer.from(wav).toString('base64') } })}\n`);
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
export async function startFakeInworld(options: FakeInworldOptions = {}): Promise<FakeInworld> {
  const fake = new FakeServer(options);
  const { port, close } = await startFakeHttpServer(
    (req, res) => fake.handle(req, res),
    (res) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 13, message: 'fake failure' })),
  );
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests: fake.requests,
    failSpeech: (...faults) => void fake.faults.push(...faults),
    close,
  };
}
