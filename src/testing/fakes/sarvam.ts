// A local stand-in for Sarvam's speech APIs, over a real HTTP socket, so the production clients are what gets
// tested: `POST /speech-to-text` (multipart upload of one WAV, JSON transcript back) and `POST /text-to-speech/stream`
// (JSON in, raw audio streamed back as it is made). It checks requests as the service documents them — the
// `api-subscription-key` header (a refused key is 403 `invalid_api_key_error`, not 401), the models, languages,
// voices, sample rates and codecs it accepts — answers errors with Sarvam's `{"error": {"message", "code"}}` body,
// and can be scripted to fail: HTTP errors, a stall, a connection dropped mid-answer. Facts: docs/vendors/sarvam.md.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WavFormatError, int16ToBytes, readWav } from '../../audio/index.js';
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { fakeVoiceTone } from './audio.js';
import { isRecord, pause, parseJSONBody, requestPath, startFakeHttpServer, untilClosed } from './http.js';
import { parseMultipart, type FakeUploadedAudio } from './openai-audio.js';
import { readBody, recordHeaders } from './sse.js';

export const FAKE_SARVAM_STT_MODELS = ['saaras:v3', 'saarika:v2.5'] as const;
export const FAKE_SARVAM_TTS_MODELS = ['bulbul:v3', 'bulbul:v2'] as const;
export const FAKE_SARVAM_LANGUAGES = ['hi-IN', 'bn-IN', 'ta-IN', 'te-IN', 'kn-IN', 'ml-IN', 'mr-IN', 'gu-IN', 'pa-IN', 'od-IN', 'en-IN'] as const;
/** Bulbul v3's voices. */
export const FAKE_SARVAM_SPEAKERS = [
  'aditya', 'ritu', 'priya', 'neha', 'rahul', 'pooja', 'rohan', 'simran', 'kavya', 'amit', 'dev', 'ishita', 'shreya',
  'ratan', 'varun', 'manan', 'sumit', 'roopa', 'kabir', 'aayan', 'shubh', 'ashutosh', 'advait', 'anand', 'tanya',
  'tarun', 'sunny', 'mani', 'gokul', 'vijay', 'shruti', 'suhani', 'mohit', 'kavitha', 'rehan', 'soham', 'rupali', 'niharika',
] as const;
const TTS_RATES = [8000, 16000, 22050, 24000];
const STREAM_CODECS = ['mp3', 'wav', 'linear16', 'mulaw', 'alaw'];

export type FakeSarvamErrorStatus = 400 | 403 | 429 | 500 | 503;

/** A scripted failure: an HTTP error with Sarvam's body, a stall (headers, then nothing), or a dropped socket. */
export type FakeSarvamFault =
  | { error: FakeSarvamErrorStatus; code?: string; message?: string; retryAfter?: number }
  | { stall: true; afterBytes?: number }
  | { drop: true; afterBytes?: number };

export interface FakeSarvamRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-case header names; `api-subscription-key` and `authorization` are replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: { readonly present: boolean; readonly valid: boolean };
  /** Text-to-speech: the parsed JSON body. */
  readonly body?: unknown;
  /** Speech-to-text: the text fields of the form. */
  readonly fields?: Readonly<Record<string, string>>;
  /** Speech-to-text: the uploaded audio, when it was a WAV. */
  readonly audio?: FakeUploadedAudio;
  status?: number;
  /** Text-to-speech: audio bytes written. */
  bytesSent: number;
  outcome?: 'completed' | 'client-closed' | 'dropped';
}

export interface FakeSarvamOptions extends FakeKeyPolicy {
  /** Audio per character of text. Default 60 ms. */
  msPerCharacter?: number;
  /** Bytes per audio write. Default 3200. */
  chunkBytes?: number;
  /** Pause between audio writes; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
}

export interface FakeSarvam {
  /** `http://127.0.0.1:<port>`, to pass as the clients' `baseUrl`. */
  readonly baseUrl: string;
  readonly port: number;
  readonly requests: readonly FakeSarvamRequest[];
  /** Queues transcripts (or failures), one per valid speech-to-text request; then `[fake transcript]`. */
  enqueueTranscriptions(...responses: (string | FakeSarvamFault)[]): void;
  /** Queues failures of the next valid text-to-speech requests, one each. */
  failSpeech(...faults: FakeSarvamFault[]): void;
  close(): Promise<void>;
}

/** The audio the fake makes for `text` at `sampleRate`: a tone of its own timbre, so another fake's audio differs. */
export function fakeSarvamSpeech(text: string, options: { sampleRate: number; speaker?: string; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * options.sampleRate) / 1000);
  return fakeVoiceTone(`${options.speaker ?? 'shubh'}~${text}`, count, options.sampleRate, {
    baseHz: 170, hzSpread: 120, amplitude: 7000, tremoloBase: 0.6, tremoloDepth: 0.4, tremoloHz: 4,
    rampStep: 5, rampPeriod: 41, rampOffset: 20,
  });
}

class SarvamError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

const invalid = (message: string): SarvamError => new SarvamError(400, 'invalid_request_error', message);
const DEFAULT_CODES: Record<FakeSarvamErrorStatus, string> = {
  400: 'invalid_request_error',
  403: 'invalid_api_key_error',
  429: 'rate_limit_exceeded_error',
  500: 'internal_server_error',
  503: 'rate_limit_exceeded_error',
};

class FakeServer {
  readonly requests: FakeSarvamRequest[] = [];
  readonly transcriptions: (string | FakeSarvamFault)[] = [];
  readonly speechFaults: FakeSarvamFault[] = [];

  constructor(private readonly options: FakeSarvamOptions) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = requestPath(req);
    const header = req.headers['api-subscription-key'];
    const key = typeof header === 'string' ? header : undefined;
    const raw = await readBody(req);
    const record: FakeSarvamRequest = {
      method: req.method ?? 'GET',
      path,
      headers: recordHeaders(req, ['api-subscription-key', 'authorization']),
      auth: { present: key !== undefined, valid: isAcceptedKey(key, this.options) },
      bytesSent: 0,
    };
    this.requests.push(record);
    try {
      if (req.method !== 'POST' || (path !== '/speech-to-text' && path !== '/text-to-speech/stream')) {
        throw new SarvamError(404, 'not_found_error', `No route for ${req.method ?? ''} ${path}`);
      }
      if (!record.auth.valid) throw new SarvamError(403, 'invalid_api_key_error', 'Invalid API key. Check the api-subscription-key header.');
      if (path === '/speech-to-text') await this.transcribe(req, raw, record, res);
      else await this.speak(raw, record, res);
    } catch (error) {
      if (!(error instanceof SarvamError)) throw error;
      record.status = error.status;
      const headers: Record<string, string | number> = { 'content-type': 'application/json' };
      if (error.retryAfter !== undefined) headers['retry-after'] = error.retryAfter;
      res.writeHead(error.status, headers).end(JSON.stringify({ error: { message: error.message, code: error.code } }));
    }
  }

  private async transcribe(req: IncomingMessage, raw: Buffer, record: FakeSarvamRequest, res: ServerResponse): Promise<void> {
    let parts: ReturnType<typeof parseMultipart>;
    try {
      parts = parseMultipart(raw, req.headers['content-type']);
    } catch {
      throw invalid('Could not parse the multipart form.');
    }
    const fields: Record<string, string> = {};
    for (const part of parts) if (part.filename === undefined) fields[part.name] = part.data.toString('utf8');
    (record as { fields?: Record<string, string> }).fields = fields;
    const file = parts.find((part) => part.name === 'file' && part.filename !== undefined);
    if (file === undefined) throw invalid('file is required');
    const model = fields.model ?? 'saaras:v3';
    if (!(FAKE_SARVAM_STT_MODELS as readonly string[]).includes(model)) throw invalid(`Unsupported model: ${model}`);
    const language = fields.language_code ?? 'unknown';
    if (language !== 'unknown' && !(FAKE_SARVAM_LANGUAGES as readonly string[]).includes(language)) throw invalid(`Unsupported language_code: ${language}`);
    if (fields.mode !== undefined && model !== 'saaras:v3') throw invalid('mode is only supported by saaras:v3');
    let audio: FakeUploadedAudio;
    try {
      const wav = readWav(file.data);
      audio = { sampleRate: wav.sampleRate, channels: wav.channels, samples: wav.samples, durationSecs: wav.samples.length / wav.channels / wav.sampleRate };
    } catch (error) {
      if (error instanceof WavFormatError) throw invalid('The audio file could not be decoded.');
      throw error;
    }
    (record as { audio?: FakeUploadedAudio }).audio = audio;
    if (audio.durationSecs > 30) throw invalid('Audio longer than 30 seconds: use the batch API.');
    const next = this.transcriptions.shift() ?? '[fake transcript]';
    if (typeof next !== 'string') return this.fault(next, record, res);
    record.status = 200;
    const requestId = `fake_${this.requests.length}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ request_id: requestId, transcript: next, timestamps: null, diarized_transcript: null, language_code: language === 'unknown' ? 'hi-IN' : language }));
    record.outcome = 'completed';
  }

  private async speak(raw: Buffer, record: FakeSarvamRequest, res: ServerResponse): Promise<void> {
    const { body, parsed } = parseJSONBody(raw, false);
    (record as { body?: unknown }).body = body;
    if (!parsed || !isRecord(body)) throw invalid('The body must be JSON.');
    const text = body.text;
    if (typeof text !== 'string' || text.trim() === '') throw invalid('text is required');
    if (text.length > 3500) throw invalid('text is longer than 3500 characters');
    const language = body.target_language_code;
    if (typeof language !== 'string' || !(FAKE_SARVAM_LANGUAGES as readonly string[]).includes(language)) throw invalid(`Unsupported target_language_code: ${String(language)}`);
    const model = body.model ?? 'bulbul:v3';
    if (typeof model !== 'string' || !(FAKE_SARVAM_TTS_MODELS as readonly string[]).includes(model)) throw invalid(`Unsupported model: ${JSON.stringify(model)}`);
    const speaker = body.speaker ?? 'shubh';
    if (typeof speaker !== 'string' || !(FAKE_SARVAM_SPEAKERS as readonly string[]).includes(speaker)) throw invalid(`Unknown speaker for ${model}: ${JSON.stringify(speaker)}`);
    const rate = body.speech_sample_rate ?? 24000;
    if (typeof rate !== 'number' || !TTS_RATES.includes(rate)) throw invalid(`speech_sample_rate must be one of ${TTS_RATES.join(', ')}`);
    const codec = body.output_audio_codec ?? 'mp3';
    if (typeof codec !== 'string' || !STREAM_CODECS.includes(codec)) throw invalid(`Unsupported output_audio_codec for streaming: ${JSON.stringify(codec)}`);
    if (codec !== 'linear16') throw invalid(`The fake makes linear16 only, not ${codec}`);
    const fault = this.speechFaults.shift();
    if (fault !== undefined && 'error' in fault) return this.fault(fault, record, res);
    const bytes = int16ToBytes(fakeSarvamSpeech(text, { sampleRate: rate, speaker, msPerCharacter: this.options.msPerCharacter }));
    record.status = 200;
    res.writeHead(200, { 'content-type': 'audio/l16', 'transfer-encoding': 'chunked' });
    let closed = false;
    res.on('close', () => {
      closed = true;
      record.outcome ??= 'client-closed';
    });
    const limit = fault === undefined ? Infinity : (fault.afterBytes ?? 0);
    const chunkBytes = this.options.chunkBytes ?? 3200;
    for (let at = 0; at < bytes.length && !closed; at += chunkBytes) {
      if (record.bytesSent >= limit) return this.fault(fault!, record, res);
      const piece = bytes.subarray(at, Math.min(at + chunkBytes, bytes.length));
      res.write(piece);
      record.bytesSent += piece.length;
      await pause(this.options.chunkDelayMs ?? 2);
    }
    if (fault !== undefined && !closed) return this.fault(fault, record, res);
    if (!closed) {
      record.outcome = 'completed';
      res.end();
    }
  }

  /** Answers with a scripted fault (after the headers when a body was already started). */
  private async fault(fault: FakeSarvamFault, record: FakeSarvamRequest, res: ServerResponse): Promise<void> {
    if ('error' in fault) throw new SarvamError(fault.error, fault.code ?? DEFAULT_CODES[fault.error], fault.message ?? `Scripted ${fault.error}`, fault.retryAfter);
    if ('drop' in fault) {
      record.outcome = 'dropped';
      res.socket?.destroy();
      return;
    }
    if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/json' });
    record.status = 200;
    await untilClosed(res);
  }
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeSarvam(options: FakeSarvamOptions = {}): Promise<FakeSarvam> {
  const fake = new FakeServer(options);
  const { port, close } = await startFakeHttpServer(
    (req, res) => fake.handle(req, res),
    (res) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'fake failure', code: 'internal_server_error' } })),
  );
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    requests: fake.requests,
    enqueueTranscriptions: (...responses) => void fake.transcriptions.push(...responses),
    failSpeech: (...faults) => void fake.speechFaults.push(...faults),
    close,
  };
}
