// A local stand-in for Deepgram: live transcription (`/v1/listen` over WebSocket) and Aura text-to-speech
// (`/v1/speak` over WebSocket and as a streaming REST request), speaking the wire protocol over real sockets so that
// the production clients are what gets tested.
//
// Listen: the handshake is checked like the real service (`Authorization: Token|Bearer <key>` or the browser's
// `token, <key>` subprotocol, which is echoed; query values; raw `encoding` needs `sample_rate`) and rejected with
// Deepgram's HTTP error (`dg-request-id`, `dg-error`, `{err_code, err_msg, request_id}`). Transcripts follow the
// audio actually received: an energy detector finds speech in 10 ms windows, each stretch of speech takes the next
// scripted utterance, and results carry audio-time `start`/`duration` and word timings inside that speech. Interims
// every `interimIntervalMs` of audio (with `interim_results=true`), an `is_final` window at most every
// `finalIntervalMs`, `speech_final: true` after a pause of `endpointing` ms, `from_finalize: true` after Finalize,
// `SpeechStarted` (with `vad_events`), `UtteranceEnd` (with `utterance_end_ms`), empty finals over silence.
// KeepAlive resets the idle timer; without audio or messages for `idleTimeoutMs` the fake closes 1011 `NET-0001`;
// CloseStream gets the last Results, `Metadata`, then close 1000. Malformed client frames close 1008. Scripted
// utterances are shared by all connections in order; one a stream dies in the middle of goes back to the front,
// so a client that replays the audio on a new stream gets its words.
//
// Speak: audio is a deterministic tone whose length follows the text (`ttsMsPerCharacter`, divided by `speed`) at
// the requested rate and encoding, streamed as several binary frames (WebSocket) or body writes (REST) cut at
// arbitrary byte offsets, odd ones included. WebSocket: Metadata on open, Flushed after a Flush's audio, Cleared
// after Clear, Warning past 20 flushes a minute. REST: `container=wav` (the default) adds the 44-byte header.
//
// Not emulated (a fake-specific 400 says so): compressed encodings (opus, flac, mp3, ...) and containerised input.
// Failures are scriptable: handshake errors, REST errors, dropped sockets, in-stream close codes, idle timeouts,
// slow first bytes. API keys are never stored: records say whether auth was present and valid.
import { createHash, randomUUID, type Hash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { alawToPcm, mulawToPcm } from '../../audio/index.js';
import { encodeSamples } from './audio.js';
import { isAcceptedKey } from './auth.js';
import { pause, refuseUpgrade, startFakeHttpServer, untilClosed } from './http.js';
import { isClosed, readBody, recordHeaders } from './sse.js';
import { createSeededRandom } from '../random.js';
import { frameBytes } from './websocket.js';

export type FakeDeepgramPath = '/v1/listen' | '/v1/speak';

export type FakeDeepgramErrorStatus = 400 | 401 | 402 | 403 | 429 | 500 | 503;

/** One thing the caller "says": the transcript Deepgram would print for the next stretch of speech. */
export interface FakeDeepgramUtterance {
  /** As printed with `punctuate`/`smart_format` (e.g. 'Hello, world.'); lower-cased and bare without them. */
  text: string;
  /** Alternative confidence. Default 0.98. */
  confidence?: number;
  /** Detected language, reported in `languages` (and on words with `language=multi`). */
  language?: string;
}

/** What a speech stretch with no scripted utterance left is transcribed as. */
export interface FakeDeepgramSpeechSegment {
  readonly startSecs: number;
  readonly endSecs: number;
}

export type FakeDeepgramSpeakResponse =
  /** The normal answer; `firstByteDelayMs` holds the status line back that long. */
  | { firstByteDelayMs?: number }
  /** An HTTP error with Deepgram's body. */
  | { error: FakeDeepgramErrorStatus; message?: string }
  /** Sends the 200 and `afterBytes` audio bytes (default 0), then nothing until the client goes away. */
  | { stall: true; afterBytes?: number }
  /** Destroys the socket after `afterBytes` audio bytes. */
  | { drop: true; afterBytes?: number };

export interface FakeDeepgramOptions {
  /** Answer 401 for this key (any other non-empty key is accepted). */
  rejectKey?: string;
  /** Accept only this key. */
  requireKey?: string;
  /** When set, other listen models get 400. */
  models?: readonly string[];
  /** No audio and no message for this long closes a listen stream with 1011 NET-0001. Default 10 000 ms. */
  idleTimeoutMs?: number;
  /** RMS (PCM16 units) above which a 10 ms window counts as speech. Default 500. */
  speechThreshold?: number;
  /**
   * Shortest pause that ends a stretch of speech, whatever `endpointing` says, so that the gaps between words do not
   * cut a scripted utterance in pieces. Default 200 ms.
   */
  minPauseMs?: number;
  /** Audio time per word when words are revealed in interims. Default 300 ms. */
  msPerWord?: number;
  /** Audio time between two interim results while speech goes on. Default 1000 ms (the real service's pace). */
  interimIntervalMs?: number;
  /** Longest window before an `is_final` result locks it (speech or silence). Default 4000 ms. */
  finalIntervalMs?: number;
  /**
   * Transcript of speech with no scripted utterance left. Default '' (an empty transcript). A function also gets the
   * stream's handshake request, so tests running several calls at once can tell them apart (by a `tag`, say).
   */
  defaultTranscript?: string | ((segment: FakeDeepgramSpeechSegment, request: FakeDeepgramRequest) => string);
  /** Speech length per character of text. Default 60 ms. */
  ttsMsPerCharacter?: number;
  /** Audio per binary frame or body write, roughly (each is cut at a random byte offset). Default 100 ms. */
  ttsChunkMs?: number;
  /** Pause between two audio frames or writes. Default 1 ms. */
  ttsFrameDelayMs?: number;
  /** Pause before the first audio of every synthesis. Default 0. */
  ttsFirstByteDelayMs?: number;
  /** Flushes allowed per 60 s on a speak socket before a Warning. Default 20. */
  maxFlushesPerMinute?: number;
  /** Seed of the write splits. Default 1. */
  seed?: number;
}

/** An HTTP request or WebSocket handshake, as recorded. The API key itself is never stored. */
export interface FakeDeepgramRequest {
  readonly method: string;
  readonly path: string;
  /** Query values; a repeated key (`keyterm=a&keyterm=b`) gives an array. */
  readonly query: Readonly<Record<string, string | readonly string[]>>;
  /** Lower-case header names; `authorization` and the key in `sec-websocket-protocol` are replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: { readonly present: boolean; readonly valid: boolean; readonly scheme?: 'token' | 'bearer'; readonly viaSubprotocol: boolean };
  readonly websocket: boolean;
  /** The REST body, parsed when it was JSON. */
  readonly body?: unknown;
  /** 101 for an accepted WebSocket, else the HTTP status answered. */
  status?: number;
  /** REST speak: audio bytes written (WAV header included). */
  bytesSent?: number;
  /** REST speak: the client went away before the body was complete. */
  aborted?: boolean;
}

export type FakeDeepgramClientFrame =
  | { readonly kind: 'audio'; readonly bytes: number; readonly atMs: number }
  | { readonly kind: 'text'; readonly message: unknown; readonly atMs: number };

export interface FakeDeepgramClose {
  readonly code: number;
  readonly reason: string;
  /** Who ended it: the client's close frame, the fake's, or a socket destroyed without one. */
  readonly by: 'client' | 'server' | 'dropped';
}

export interface FakeDeepgramListenSession {
  readonly request: FakeDeepgramRequest;
  readonly requestId: string;
  readonly model: string;
  readonly encoding: string;
  readonly sampleRate: number;
  readonly channels: number;
  /** Client frames in arrival order. */
  readonly received: readonly FakeDeepgramClientFrame[];
  /** Messages the fake sent, in order. */
  readonly sent: readonly Readonly<Record<string, unknown>>[];
  /** Audio received so far, in seconds. */
  readonly audioSeconds: number;
  /** Audio received, decoded to PCM16 (first channel). */
  audio(): Int16Array;
  /** Text messages of one `type` the client sent. */
  messagesOfType(type: string): unknown[];
  readonly closed: FakeDeepgramClose | undefined;
  readonly whenClosed: Promise<FakeDeepgramClose>;
  /** Destroys this socket now, without a close frame (the others stay up): one call's connection lost. */
  drop(): void;
}

export interface FakeDeepgramSpeakSession {
  readonly request: FakeDeepgramRequest;
  readonly model: string;
  readonly encoding: string;
  readonly sampleRate: number;
  readonly received: readonly FakeDeepgramClientFrame[];
  readonly sent: readonly Readonly<Record<string, unknown>>[];
  /** Audio bytes sent so far. */
  readonly audioBytesSent: number;
  readonly closed: FakeDeepgramClose | undefined;
  readonly whenClosed: Promise<FakeDeepgramClose>;
}

export interface FakeDeepgram {
  /** `ws://127.0.0.1:<port>`: the base for `/v1/listen` and `/v1/speak` sockets. */
  readonly url: string;
  /** `http://127.0.0.1:<port>`: the base for REST `/v1/speak`. */
  readonly httpUrl: string;
  readonly port: number;
  /** Every handshake and HTTP request, including rejected ones. */
  readonly requests: readonly FakeDeepgramRequest[];
  readonly listenSessions: readonly FakeDeepgramListenSession[];
  readonly speakSessions: readonly FakeDeepgramSpeakSession[];
  /** Queues what the next stretches of speech are transcribed as, across connections. */
  scriptTranscripts(...utterances: (string | FakeDeepgramUtterance)[]): void;
  /** Queues REST speak answers, used one per valid request (default: the normal answer). */
  enqueueSpeak(...responses: FakeDeepgramSpeakResponse[]): void;
  /** Rejects the next `count` handshakes (of `path`, or any) with `status` and Deepgram's body. */
  failNextConnections(status: FakeDeepgramErrorStatus, count?: number, path?: FakeDeepgramPath): void;
  /** Destroys every open socket without a close frame (clients see 1006). */
  dropConnections(path?: FakeDeepgramPath): void;
  /** Ends every open stream with a vendor close frame, e.g. 1011 `NET-0000` or 1008 `DATA-0000`. */
  closeStreams(code?: number, reason?: string, path?: FakeDeepgramPath): void;
  close(): Promise<void>;
}

// ---- wire constants -----------------------------------------------------------------------------------------

const LISTEN_ENCODINGS = ['linear16', 'linear32', 'flac', 'alaw', 'mulaw', 'amr-nb', 'amr-wb', 'opus', 'ogg-opus', 'speex', 'g729'];
/** Raw encodings the fake decodes, with their bytes per sample. */
const EMULATED_LISTEN_ENCODINGS: Readonly<Record<string, number>> = { linear16: 2, linear32: 4, mulaw: 1, alaw: 1 };
const BOOLEAN_LISTEN_PARAMS = [
  'interim_results', 'punctuate', 'smart_format', 'vad_events', 'no_delay', 'filler_words', 'diarize', 'dictation',
  'numerals', 'profanity_filter', 'multichannel', 'mip_opt_out', 'detect_entities',
];
const SPEAK_ENCODINGS = ['linear16', 'mulaw', 'alaw', 'mp3', 'opus', 'flac', 'aac'];
const SPEAK_STREAM_ENCODINGS = ['linear16', 'mulaw', 'alaw'];
const SPEAK_RATES: Readonly<Record<string, readonly number[]>> = {
  linear16: [8000, 16000, 24000, 32000, 48000],
  mulaw: [8000, 16000],
  alaw: [8000, 16000],
};
const SPEAK_MAX_CHARS = 2000;
const WINDOW_MS = 10;
const TONE_HZ = 440;
const TONE_AMPLITUDE = 8000;

interface DeepgramHttpError {
  status: number;
  errCode: string;
  errMsg: string;
}

function httpError(status: number, errCode: string, errMsg: string): DeepgramHttpError {
  return { status, errCode, errMsg };
}

function scriptedHttpError(status: FakeDeepgramErrorStatus, message?: string): DeepgramHttpError {
  switch (status) {
    case 400:
      return httpError(400, 'Bad Request', message ?? 'Bad Request: failed to process request');
    case 401:
      return httpError(401, 'INVALID_AUTH', message ?? 'Invalid credentials.');
    case 402:
      return httpError(402, 'ASR_PAYMENT_REQUIRED', message ?? 'Project does not have enough credits for an ASR request');
    case 403:
      return httpError(403, 'INSUFFICIENT_PERMISSIONS', message ?? 'User does not have sufficient permissions.');
    case 429:
      return httpError(429, 'TOO_MANY_REQUESTS', message ?? 'Too many requests. Please try again later');
    case 500:
      return httpError(500, 'INTERNAL_SERVER_ERROR', message ?? 'The server encountered an error while processing the request.');
    case 503:
      return httpError(503, 'SERVICE_UNAVAILABLE', message ?? 'The service is temporarily unavailable. Please try again later.');
  }
}

function errorBody(error: DeepgramHttpError, requestId: string): string {
  return JSON.stringify({ err_code: error.errCode, err_msg: error.errMsg, request_id: requestId });
}

function errorHeaders(error: DeepgramHttpError, requestId: string, body: string): Record<string, string | number> {
  return {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'dg-request-id': requestId,
    // Header values must be Latin-1; Deepgram's messages are plain ASCII.
    'dg-error': error.errMsg.replace(/[^\x20-\x7e]/g, '?'),
  };
}

/** Answers a WebSocket upgrade with an HTTP error instead of 101, as the real service does. */
function rejectUpgrade(socket: Socket, error: DeepgramHttpError, requestId: string): void {
  const body = errorBody(error, requestId);
  refuseUpgrade(socket, error.status, { ...errorHeaders(error, requestId, body), Connection: 'close' }, body);
}

function sendHttpError(res: ServerResponse, error: DeepgramHttpError, requestId: string): void {
  const body = errorBody(error, requestId);
  res.writeHead(error.status, errorHeaders(error, requestId, body));
  res.end(body);
}

// ---- request parsing ----------------------------------------------------------------------------------------

interface ParsedAuth {
  present: boolean;
  key: string;
  scheme?: 'token' | 'bearer';
  viaSubprotocol: boolean;
}

function parseAuth(req: IncomingMessage): ParsedAuth {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^(token|bearer)\s+(\S.*)$/i.exec(header.trim());
    if (match === null) return { present: true, key: '', viaSubprotocol: false };
    return { present: true, key: match[2]!.trim(), scheme: match[1]!.toLowerCase() as 'token' | 'bearer', viaSubprotocol: false };
  }
  const protocols = subprotocols(req);
  const scheme = protocols[0]?.toLowerCase();
  if ((scheme === 'token' || scheme === 'bearer') && protocols.length >= 2) {
    return { present: true, key: protocols[1]!, scheme, viaSubprotocol: true };
  }
  return { present: false, key: '', viaSubprotocol: false };
}

function subprotocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  if (header === undefined) return [];
  return header.split(',').map((p) => p.trim()).filter((p) => p !== '');
}

function requestHeaders(req: IncomingMessage): Record<string, string> {
  const out = recordHeaders(req);
  // The browser form carries the key as the second protocol.
  if (out['sec-websocket-protocol'] !== undefined) out['sec-websocket-protocol'] = subprotocols(req).map((p, i) => (i === 0 ? p : '[redacted]')).join(', ');
  return out;
}

function queryRecord(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    out[key] = values.length === 1 ? values[0]! : values;
  }
  return out;
}

class QueryError extends Error {}

function boolParam(params: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = params.get(name);
  if (value === null) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new QueryError(`Failed to parse query parameter \`${name}\`: expected \`true\` or \`false\`, got \`${value}\``);
}

function intParam(params: URLSearchParams, name: string): number | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  if (!/^\d+$/.test(value)) throw new QueryError(`Failed to parse query parameter \`${name}\`: invalid integer \`${value}\``);
  return Number.parseInt(value, 10);
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

// ---- listen ---------------------------------------------------------------------------------------------------

interface ListenSettings {
  model: string;
  language: string;
  encoding: string;
  bytesPerSample: number;
  sampleRate: number;
  channels: number;
  interimResults: boolean;
  punctuate: boolean;
  /** Silence in ms that ends an utterance with `speech_final`; false when disabled. */
  endpointing: number | false;
  utteranceEndMs: number | undefined;
  vadEvents: boolean;
}

function parseListenSettings(params: URLSearchParams, models: readonly string[] | undefined): ListenSettings {
  for (const name of BOOLEAN_LISTEN_PARAMS) boolParam(params, name, false);
  const model = params.get('model') ?? 'base';
  if (model.trim() === '' || (models !== undefined && !models.includes(model))) {
    throw new QueryError(`No such model/language/tier combination found. Use the /v1/models endpoint to list available models.`);
  }
  const encoding = params.get('encoding');
  const sampleRate = intParam(params, 'sample_rate');
  if (encoding === null) {
    throw new QueryError('fake Deepgram: containerised audio (no `encoding`) is not emulated; send raw audio with `encoding` and `sample_rate`');
  }
  if (!LISTEN_ENCODINGS.includes(encoding)) {
    throw new QueryError(`Failed to parse query parameter \`encoding\`: unknown encoding \`${encoding}\``);
  }
  if (sampleRate === undefined) {
    throw new QueryError('`sample_rate` is required when `encoding` is set to a raw audio format');
  }
  if (sampleRate < 8000 || sampleRate > 192000) throw new QueryError(`Invalid \`sample_rate\`: ${sampleRate}`);
  const bytesPerSample = EMULATED_LISTEN_ENCODINGS[encoding];
  if (bytesPerSample === undefined) {
    throw new QueryError(`fake Deepgram: encoding \`${encoding}\` is not emulated (linear16, linear32, mulaw and alaw are)`);
  }
  const channels = intParam(params, 'channels') ?? 1;
  if (channels < 1 || channels > 8) throw new QueryError(`Invalid \`channels\`: ${channels}`);
  const endpointingValue = params.get('endpointing');
  let endpointing: number | false = 10;
  if (endpointingValue === 'false') endpointing = false;
  else if (endpointingValue === 'true') endpointing = 10;
  else if (endpointingValue !== null) endpointing = intParam(params, 'endpointing')!;
  const utteranceEndMs = intParam(params, 'utterance_end_ms');
  return {
    model,
    language: params.get('language') ?? 'en',
    encoding,
    bytesPerSample,
    sampleRate,
    channels,
    interimResults: boolParam(params, 'interim_results', false),
    punctuate: boolParam(params, 'punctuate', false) || boolParam(params, 'smart_format', false),
    endpointing,
    utteranceEndMs,
    vadEvents: boolParam(params, 'vad_events', false),
  };
}

interface Utterance {
  /** Tokens as printed with punctuation. */
  tokens: string[];
  confidence: number;
  language: string | undefined;
  /** Sample positions (per channel) in this connection's audio. */
  start: number;
  lastVoicedEnd: number;
  lastInterimAt: number;
  /** Tokens already sent in an is_final result, and where the last of them ended (seconds). */
  finalizedCount: number;
  finalizedEndSecs: number | undefined;
  scripted: boolean;
}

interface WordOut {
  word: string;
  start: number;
  end: number;
  confidence: number;
  punctuated_word?: string;
  language?: string;
}

function bareWord(token: string): string {
  return token.toLowerCase().replace(/[^\p{L}\p{N}'-]/gu, '');
}

function decodeChannel0(bytes: Buffer, encoding: string, channels: number): Int16Array {
  let interleaved: Int16Array;
  switch (encoding) {
    case 'linear16': {
      interleaved = new Int16Array(bytes.length / 2);
      for (let i = 0; i < interleaved.length; i++) interleaved[i] = bytes.readInt16LE(i * 2);
      break;
    }
    case 'linear32': {
      interleaved = new Int16Array(bytes.length / 4);
      for (let i = 0; i < interleaved.length; i++) interleaved[i] = bytes.readInt32LE(i * 4) >> 16;
      break;
    }
    case 'mulaw':
      interleaved = mulawToPcm(bytes);
      break;
    default:
      interleaved = alawToPcm(bytes);
      break;
  }
  if (channels === 1) return interleaved;
  const out = new Int16Array(interleaved.length / channels);
  for (let i = 0; i < out.length; i++) out[i] = interleaved[i * channels]!;
  return out;
}

class Recorder {
  readonly received: FakeDeepgramClientFrame[] = [];
  readonly sent: Record<string, unknown>[] = [];
  closed: FakeDeepgramClose | undefined;
  readonly whenClosed: Promise<FakeDeepgramClose>;
  private resolveClosed!: (close: FakeDeepgramClose) => void;
  protected readonly startedAt = performance.now();
  /** Set when the fake itself sent the close frame (so the client's echo is not taken as its own close). */
  protected serverClose: { code: number; reason: string } | undefined;
  protected dropped = false;

  constructor(
    readonly request: FakeDeepgramRequest,
    protected readonly ws: WebSocket,
  ) {
    this.whenClosed = new Promise((resolve) => (this.resolveClosed = resolve));
    ws.on('close', (code, reason) => {
      const close: FakeDeepgramClose = this.dropped
        ? { code: 1006, reason: '', by: 'dropped' }
        : this.serverClose !== undefined
          ? { ...this.serverClose, by: 'server' }
          : { code, reason: reason.toString(), by: 'client' };
      this.closed = close;
      this.onClosed();
      this.resolveClosed(close);
    });
  }

  protected now(): number {
    return performance.now() - this.startedAt;
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  protected sendJSON(message: Record<string, unknown>): void {
    if (!this.open) return;
    this.sent.push(message);
    this.ws.send(JSON.stringify(message));
  }

  closeWith(code: number, reason: string): void {
    if (!this.open) return;
    this.serverClose = { code, reason };
    this.ws.close(code, reason);
  }

  drop(): void {
    this.dropped = true;
    this.ws.terminate();
  }

  /**
   * Records a client frame and gives the bytes of a binary one or the parsed JSON of a text one. A text frame that
   * is not JSON closes the socket with 1008 `notJSON` (and gives undefined).
   */
  protected receive(data: RawData, isBinary: boolean, notJSON: string): { audio: Buffer } | { message: unknown } | undefined {
    const bytes = frameBytes(data);
    if (isBinary) {
      this.received.push({ kind: 'audio', bytes: bytes.length, atMs: this.now() });
      return { audio: bytes };
    }
    let message: unknown;
    try {
      message = JSON.parse(bytes.toString('utf8'));
    } catch {
      this.received.push({ kind: 'text', message: bytes.toString('utf8'), atMs: this.now() });
      this.closeWith(1008, notJSON);
      return undefined;
    }
    this.received.push({ kind: 'text', message, atMs: this.now() });
    return { message };
  }

  messagesOfType(type: string): unknown[] {
    return this.received.flatMap((f) =>
      f.kind === 'text' && typeof f.message === 'object' && f.message !== null && (f.message as { type?: unknown }).type === type
        ? [f.message]
        : [],
    );
  }

  protected onClosed(): void {}
}

class ListenSession extends Recorder implements FakeDeepgramListenSession {
  readonly requestId = randomUUID();
  private readonly modelUuid = randomUUID();
  private readonly created = new Date().toISOString();
  private readonly hash: Hash = createHash('sha256');
  private readonly chunks: Int16Array[] = [];
  /** Samples (per channel) received. */
  private pos = 0;
  private lockedUntil = 0;
  private utterance: Utterance | undefined;
  /** End (seconds) of the last word of the last finished utterance, until UtteranceEnd is sent for it. */
  private utteranceEndDue: number | undefined;
  private readonly windowSize: number;
  private windowSumSquares = 0;
  private windowCount = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    request: FakeDeepgramRequest,
    ws: WebSocket,
    private readonly settings: ListenSettings,
    private readonly server: FakeDeepgramServer,
  ) {
    super(request, ws);
    this.windowSize = Math.max(1, Math.round((settings.sampleRate * WINDOW_MS) / 1000));
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.armIdleTimer();
  }

  get model(): string {
    return this.settings.model;
  }
  get encoding(): string {
    return this.settings.encoding;
  }
  get sampleRate(): number {
    return this.settings.sampleRate;
  }
  get channels(): number {
    return this.settings.channels;
  }
  get audioSeconds(): number {
    return this.pos / this.settings.sampleRate;
  }

  audio(): Int16Array {
    const out = new Int16Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  protected override onClosed(): void {
    clearTimeout(this.idleTimer);
    // Speech the stream died in the middle of was never transcribed: a client that replays it on a new stream gets
    // the words that were not final yet.
    const u = this.utterance;
    if (u?.scripted === true && u.finalizedCount < u.tokens.length) {
      this.server.returnUtterance({ text: u.tokens.slice(u.finalizedCount).join(' '), confidence: u.confidence, language: u.language });
    }
    this.utterance = undefined;
  }

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.closeWith(1011, 'NET-0001: Deepgram did not receive audio data or a text message within the timeout window.');
    }, this.server.options.idleTimeoutMs ?? 10_000);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.ended) return;
    const frame = this.receive(data, isBinary, 'DATA-0000: text message is not valid JSON');
    if (frame === undefined) return;
    if ('audio' in frame) {
      this.onAudio(frame.audio);
      return;
    }
    const message = frame.message;
    this.armIdleTimer();
    const type = typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : undefined;
    switch (type) {
      case 'KeepAlive':
        return;
      case 'Finalize':
        this.finalize(true);
        return;
      case 'CloseStream':
        this.ended = true;
        this.finalize(false);
        this.sendJSON({
          type: 'Metadata',
          transaction_key: 'deprecated',
          request_id: this.requestId,
          sha256: this.hash.digest('hex'),
          created: this.created,
          duration: round3(this.audioSeconds),
          channels: this.settings.channels,
          models: [this.modelUuid],
          model_info: { [this.modelUuid]: this.modelInfo() },
        });
        this.closeWith(1000, '');
        return;
      default:
        this.closeWith(1008, `DATA-0000: unknown message type ${JSON.stringify(type) ?? 'undefined'}`.slice(0, 123));
    }
  }

  private onAudio(bytes: Buffer): void {
    if (bytes.length === 0) {
      // The legacy end-of-stream signal: the server finishes and closes, which surprises clients that send it by mistake.
      this.ended = true;
      this.finalize(false);
      this.closeWith(1000, '');
      return;
    }
    const frameBytes = this.settings.bytesPerSample * this.settings.channels;
    if (bytes.length % frameBytes !== 0) {
      this.closeWith(1008, `DATA-0000: audio frame of ${bytes.length} bytes is not a whole number of ${frameBytes}-byte samples`);
      return;
    }
    this.armIdleTimer();
    this.hash.update(bytes);
    const samples = decodeChannel0(bytes, this.settings.encoding, this.settings.channels);
    this.chunks.push(samples);
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      this.windowSumSquares += s * s;
      this.pos++;
      if (++this.windowCount === this.windowSize) {
        const voiced = Math.sqrt(this.windowSumSquares / this.windowCount) >= (this.server.options.speechThreshold ?? 500);
        this.windowSumSquares = 0;
        this.windowCount = 0;
        this.onWindow(voiced);
        if (this.ended || !this.open) return;
      }
    }
  }

  private ms(samples: number): number {
    return (samples * 1000) / this.settings.sampleRate;
  }

  private secs(samples: number): number {
    return samples / this.settings.sampleRate;
  }

  private onWindow(voiced: boolean): void {
    const options = this.server.options;
    if (voiced) {
      if (this.utterance === undefined) this.beginUtterance(this.pos - this.windowSize);
      this.utterance!.lastVoicedEnd = this.pos;
    }
    const u = this.utterance;
    if (u !== undefined) {
      const pauseMs = this.ms(this.pos - u.lastVoicedEnd);
      const endpointMs = Math.max(this.settings.endpointing === false ? 0 : this.settings.endpointing, options.minPauseMs ?? 200);
      if (pauseMs >= endpointMs) {
        this.finalizeWindow({ speechFinal: this.settings.endpointing !== false, fromFinalize: false, complete: true });
      } else if (this.ms(this.pos - this.lockedUntil) >= (options.finalIntervalMs ?? 4000)) {
        this.finalizeWindow({ speechFinal: false, fromFinalize: false, complete: false });
      } else if (this.settings.interimResults && this.ms(this.pos - u.lastInterimAt) >= (options.interimIntervalMs ?? 1000)) {
        u.lastInterimAt = this.pos;
        this.sendResults(this.revealedWords(u, false), { isFinal: false, speechFinal: false, fromFinalize: false });
      }
      return;
    }
    const due = this.utteranceEndDue;
    if (
      due !== undefined &&
      this.settings.interimResults &&
      this.settings.utteranceEndMs !== undefined &&
      (this.secs(this.pos) - due) * 1000 >= this.settings.utteranceEndMs
    ) {
      this.utteranceEndDue = undefined;
      this.sendJSON({ type: 'UtteranceEnd', channel: [0, this.settings.channels], last_word_end: round3(due) });
    }
    if (this.ms(this.pos - this.lockedUntil) >= (options.finalIntervalMs ?? 4000)) {
      this.sendResults([], { isFinal: true, speechFinal: false, fromFinalize: false });
    }
  }

  private beginUtterance(start: number): void {
    const scripted = this.server.nextUtterance();
    const startSecs = this.secs(start);
    let text: string;
    let confidence = 0.98;
    let language: string | undefined;
    if (scripted !== undefined) {
      text = scripted.text;
      confidence = scripted.confidence ?? confidence;
      language = scripted.language;
    } else {
      const fallback = this.server.options.defaultTranscript ?? '';
      // The end is not known yet; a function default sees the start only.
      text = typeof fallback === 'string' ? fallback : fallback({ startSecs, endSecs: startSecs }, this.request);
    }
    this.utterance = {
      tokens: text.split(/\s+/).filter((t) => t !== ''),
      confidence,
      language,
      start,
      lastVoicedEnd: start,
      lastInterimAt: start,
      finalizedCount: 0,
      finalizedEndSecs: undefined,
      scripted: scripted !== undefined,
    };
    this.utteranceEndDue = undefined;
    if (this.settings.vadEvents) {
      this.sendJSON({ type: 'SpeechStarted', channel: [0, this.settings.channels], timestamp: round3(startSecs) });
    }
  }

  /**
   * Words not yet finalized. While speech goes on, words appear one per `msPerWord` of speech; once the utterance is
   * complete, the rest are spread over the speech actually heard.
   */
  private revealedWords(u: Utterance, complete: boolean): WordOut[] {
    const msPerWord = this.server.options.msPerWord ?? 300;
    const from = u.finalizedCount;
    const words: WordOut[] = [];
    if (complete) {
      const anchor = Math.max(u.finalizedEndSecs ?? this.secs(u.start), this.secs(u.start));
      const end = Math.max(this.secs(u.lastVoicedEnd), anchor + 0.01);
      const count = u.tokens.length - from;
      const step = (end - anchor) / Math.max(1, count);
      for (let j = 0; j < count; j++) words.push(this.word(u, from + j, anchor + j * step, anchor + (j + 0.9) * step));
      return words;
    }
    const elapsedMs = this.ms(this.pos - u.start);
    const revealed = Math.min(u.tokens.length, Math.max(1, Math.ceil(elapsedMs / msPerWord)));
    const now = this.secs(this.pos);
    for (let i = from; i < revealed; i++) {
      const start = Math.min(this.secs(u.start) + (i * msPerWord) / 1000, now);
      words.push(this.word(u, i, start, Math.min(start + (0.9 * msPerWord) / 1000, now)));
    }
    return words;
  }

  private word(u: Utterance, index: number, start: number, end: number): WordOut {
    const token = u.tokens[index]!;
    const out: WordOut = {
      word: bareWord(token),
      start: round3(start),
      end: round3(end),
      // Deterministic, high, slightly varied.
      confidence: round3(0.9 + ((index * 37) % 10) / 100),
    };
    if (this.settings.punctuate) out.punctuated_word = token;
    if (this.settings.language === 'multi') out.language = u.language ?? 'en';
    return out;
  }

  private finalizeWindow(how: { speechFinal: boolean; fromFinalize: boolean; complete: boolean }): void {
    const u = this.utterance;
    const words = u === undefined ? [] : this.revealedWords(u, how.complete);
    if (u !== undefined) {
      u.finalizedCount += words.length;
      if (words.length > 0) u.finalizedEndSecs = words[words.length - 1]!.end;
      if (how.complete) {
        this.utterance = undefined;
        if (u.finalizedEndSecs !== undefined) this.utteranceEndDue = u.finalizedEndSecs;
      }
    }
    this.sendResults(words, { isFinal: true, speechFinal: how.speechFinal, fromFinalize: how.fromFinalize }, u);
  }

  /** Finalize (from the client) or the end of the stream: whatever was not final yet becomes final now. */
  private finalize(fromFinalize: boolean): void {
    if (this.pos === this.lockedUntil && this.utterance === undefined) return;
    this.finalizeWindow({ speechFinal: false, fromFinalize, complete: true });
  }

  private sendResults(
    words: WordOut[],
    flags: { isFinal: boolean; speechFinal: boolean; fromFinalize: boolean },
    utterance: Utterance | undefined = this.utterance,
  ): void {
    const start = this.secs(this.lockedUntil);
    const duration = this.secs(this.pos) - start;
    if (flags.isFinal) this.lockedUntil = this.pos;
    const transcript = words.map((w) => (this.settings.punctuate ? w.punctuated_word : w.word)).join(' ');
    const alternative: Record<string, unknown> = {
      transcript,
      confidence: words.length === 0 ? 0 : utterance?.confidence ?? 0.98,
      words,
    };
    const language = utterance?.language ?? (this.settings.language === 'multi' ? 'en' : undefined);
    if (language !== undefined && words.length > 0) alternative.languages = [language];
    this.sendJSON({
      type: 'Results',
      channel_index: [0, this.settings.channels],
      duration: round3(duration),
      start: round3(start),
      is_final: flags.isFinal,
      speech_final: flags.speechFinal,
      from_finalize: flags.fromFinalize,
      channel: { alternatives: [alternative] },
      metadata: { request_id: this.requestId, model_info: this.modelInfo(), model_uuid: this.modelUuid },
    });
  }

  private modelInfo(): Record<string, string> {
    const arch = this.settings.model.split('-').slice(0, 2).join('-');
    return { name: `general-${arch}`, version: '2025-01-01.0', arch };
  }
}

// ---- speak -----------------------------------------------------------------------------------------------------

interface SpeakSettings {
  model: string;
  encoding: string;
  sampleRate: number;
  speed: number;
  container: 'wav' | 'none';
}

function parseSpeakSettings(params: URLSearchParams, websocket: boolean): SpeakSettings {
  const model = params.get('model') ?? 'aura-asteria-en';
  if (!/^aura-/.test(model)) throw new QueryError(`No such model: \`${model}\``);
  const encoding = params.get('encoding') ?? (websocket ? 'linear16' : 'mp3');
  if (!SPEAK_ENCODINGS.includes(encoding)) throw new QueryError(`Failed to parse query parameter \`encoding\`: unknown encoding \`${encoding}\``);
  if (websocket && !SPEAK_STREAM_ENCODINGS.includes(encoding)) {
    throw new QueryError(`Encoding \`${encoding}\` is not supported for streaming; use linear16, mulaw or alaw`);
  }
  const rates = SPEAK_RATES[encoding];
  if (rates === undefined) throw new QueryError(`fake Deepgram: encoding \`${encoding}\` is not emulated (linear16, mulaw and alaw are)`);
  const sampleRate = intParam(params, 'sample_rate') ?? (encoding === 'linear16' ? 24000 : 8000);
  if (!rates.includes(sampleRate)) {
    throw new QueryError(`Unsupported \`sample_rate\` ${sampleRate} for encoding \`${encoding}\`; supported: ${rates.join(', ')}`);
  }
  const speedText = params.get('speed');
  const speed = speedText === null ? 1 : Number(speedText);
  if (!Number.isFinite(speed) || speed < 0.7 || speed > 1.5) throw new QueryError('`speed` must be between 0.7 and 1.5');
  const container = params.get('container') ?? (websocket ? 'none' : 'wav');
  if (container !== 'wav' && container !== 'none') throw new QueryError(`Unsupported \`container\` \`${container}\` for encoding \`${encoding}\``);
  return { model, encoding, sampleRate, speed, container: websocket ? 'none' : container };
}

/** The fake's voice: a 440 Hz tone as long as the text deserves, with short ramps so it starts and ends softly. */
export function fakeDeepgramSpeechAudio(text: string, sampleRate: number, msPerCharacter = 60, speed = 1): Int16Array {
  const characters = [...text].length;
  const samples = Math.round((characters * msPerCharacter * sampleRate) / (1000 * speed));
  const ramp = Math.max(1, Math.min(Math.round(sampleRate / 200), Math.floor(samples / 2)));
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) {
    const envelope = Math.min(1, i / ramp, (samples - 1 - i) / ramp);
    out[i] = Math.round(TONE_AMPLITUDE * envelope * Math.sin((2 * Math.PI * TONE_HZ * i) / sampleRate));
  }
  return out;
}

function encodeSpeech(samples: Int16Array, encoding: string): Buffer {
  return Buffer.from(encodeSamples(samples, encoding === 'mulaw' ? 'mulaw' : encoding === 'alaw' ? 'alaw' : 's16le'));
}

function wavHeader(dataBytes: number, settings: SpeakSettings): Buffer {
  const bytesPerSample = settings.encoding === 'linear16' ? 2 : 1;
  const format = settings.encoding === 'linear16' ? 1 : settings.encoding === 'alaw' ? 6 : 7;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(format, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(settings.sampleRate, 24);
  header.writeUInt32LE(settings.sampleRate * bytesPerSample, 28);
  header.writeUInt16LE(bytesPerSample, 32);
  header.writeUInt16LE(bytesPerSample * 8, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/** Cuts `bytes` into pieces of about `chunkBytes`, each cut moved by a random offset (odd ones included). */
function audioPieces(bytes: Buffer, chunkBytes: number, random: () => number): Buffer[] {
  const pieces: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const size = Math.max(1, Math.round(chunkBytes * (0.5 + random())) + (random() < 0.5 ? 1 : 0));
    pieces.push(bytes.subarray(at, Math.min(bytes.length, at + size)));
    at += size;
  }
  return pieces;
}

class SpeakSession extends Recorder implements FakeDeepgramSpeakSession {
  readonly requestId = randomUUID();
  audioBytesSent = 0;
  private text = '';
  private flushes = 0;
  private readonly flushTimes: number[] = [];
  /** Flushed text waiting to be synthesised, in order. */
  private readonly pending: { text: string; sequenceId: number }[] = [];
  private working = false;
  /** Bumped by Clear: synthesis of an older generation stops sending. */
  private generation = 0;
  private closeAfterWork = false;

  constructor(
    request: FakeDeepgramRequest,
    ws: WebSocket,
    readonly settings: SpeakSettings,
    private readonly server: FakeDeepgramServer,
  ) {
    super(request, ws);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.sendJSON({
      type: 'Metadata',
      request_id: this.requestId,
      model_name: settings.model,
      model_version: '2025-04-07.0',
      model_uuid: randomUUID(),
    });
  }

  get model(): string {
    return this.settings.model;
  }
  get encoding(): string {
    return this.settings.encoding;
  }
  get sampleRate(): number {
    return this.settings.sampleRate;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const frame = this.receive(data, isBinary, 'Invalid JSON message');
    if (frame === undefined) return;
    if ('audio' in frame) {
      this.closeWith(1003, 'Binary messages are not supported; send JSON text messages');
      return;
    }
    const message = frame.message;
    const record = typeof message === 'object' && message !== null ? (message as Record<string, unknown>) : {};
    switch (record.type) {
      case 'Speak':
        if (typeof record.text !== 'string') {
          this.closeWith(1008, 'Speak message must have a string `text`');
          return;
        }
        if ([...this.text].length + [...record.text].length > SPEAK_MAX_CHARS) {
          this.sendJSON({ type: 'Warning', description: `Text exceeds the ${SPEAK_MAX_CHARS} character limit; send a Flush first`, code: 'TEXT_LIMIT_EXCEEDED' });
          return;
        }
        this.text += record.text;
        return;
      case 'Flush':
        this.flush();
        return;
      case 'Clear':
        this.generation++;
        this.text = '';
        this.pending.length = 0;
        this.sendJSON({ type: 'Cleared', sequence_id: Math.max(0, this.flushes - 1) });
        return;
      case 'Close':
        if (this.text !== '') this.flush();
        this.closeAfterWork = true;
        if (!this.working) this.closeWith(1000, '');
        return;
      default:
        this.sendJSON({ type: 'Warning', description: `Unknown message type: ${JSON.stringify(record.type) ?? 'undefined'}`, code: 'UNKNOWN_MESSAGE_TYPE' });
    }
  }

  private flush(): void {
    const now = performance.now();
    while (this.flushTimes.length > 0 && now - this.flushTimes[0]! > 60_000) this.flushTimes.shift();
    if (this.flushTimes.length >= (this.server.options.maxFlushesPerMinute ?? 20)) {
      this.sendJSON({ type: 'Warning', description: 'Flush rate limit exceeded: at most 20 flushes per 60 seconds', code: 'FLUSH_RATE_LIMIT_EXCEEDED' });
      return;
    }
    this.flushTimes.push(now);
    this.pending.push({ text: this.text, sequenceId: this.flushes++ });
    this.text = '';
    if (!this.working) void this.work();
  }

  private async work(): Promise<void> {
    this.working = true;
    try {
      for (let job = this.pending.shift(); job !== undefined; job = this.pending.shift()) {
        const generation = this.generation;
        const options = this.server.options;
        const samples = fakeDeepgramSpeechAudio(job.text, this.settings.sampleRate, options.ttsMsPerCharacter, this.settings.speed);
        const bytes = encodeSpeech(samples, this.settings.encoding);
        const bytesPerSecond = this.settings.sampleRate * (this.settings.encoding === 'linear16' ? 2 : 1);
        await pause(options.ttsFirstByteDelayMs ?? 0);
        for (const piece of audioPieces(bytes, (bytesPerSecond * (options.ttsChunkMs ?? 100)) / 1000, this.server.random)) {
          if (generation !== this.generation || !this.open) break;
          this.ws.send(piece, { binary: true });
          this.audioBytesSent += piece.length;
          await pause(options.ttsFrameDelayMs ?? 1);
        }
        if (generation === this.generation) this.sendJSON({ type: 'Flushed', sequence_id: job.sequenceId });
      }
    } finally {
      this.working = false;
    }
    if (this.closeAfterWork) this.closeWith(1000, '');
  }
}

// ---- server -----------------------------------------------------------------------------------------------------

class FakeDeepgramServer {
  readonly requests: FakeDeepgramRequest[] = [];
  readonly listenSessions: ListenSession[] = [];
  readonly speakSessions: SpeakSession[] = [];
  readonly random: () => number;
  private readonly utterances: FakeDeepgramUtterance[] = [];
  private readonly speakResponses: FakeDeepgramSpeakResponse[] = [];
  private readonly failures: { status: FakeDeepgramErrorStatus; path: FakeDeepgramPath | undefined }[] = [];
  private readonly sockets = new Set<{ path: FakeDeepgramPath; session: Recorder }>();
  private readonly restResponses = new Set<ServerResponse>();
  readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    // The browser form authenticates with the `token, <key>` subprotocols; the scheme word is the one to echo.
    handleProtocols: (protocols) => {
      for (const p of protocols) if (p.toLowerCase() === 'token' || p.toLowerCase() === 'bearer') return p;
      return false;
    },
  });

  constructor(readonly options: FakeDeepgramOptions) {
    this.random = createSeededRandom(options.seed ?? 1);
  }

  nextUtterance(): FakeDeepgramUtterance | undefined {
    return this.utterances.shift();
  }

  returnUtterance(utterance: FakeDeepgramUtterance): void {
    this.utterances.unshift(utterance);
  }

  scriptTranscripts(utterances: (string | FakeDeepgramUtterance)[]): void {
    for (const u of utterances) this.utterances.push(typeof u === 'string' ? { text: u } : u);
  }

  enqueueSpeak(responses: FakeDeepgramSpeakResponse[]): void {
    this.speakResponses.push(...responses);
  }

  failNext(status: FakeDeepgramErrorStatus, count: number, path: FakeDeepgramPath | undefined): void {
    for (let i = 0; i < count; i++) this.failures.push({ status, path });
  }

  dropConnections(path: FakeDeepgramPath | undefined): void {
    for (const entry of this.sockets) if (path === undefined || entry.path === path) entry.session.drop();
    if (path === undefined || path === '/v1/speak') for (const res of this.restResponses) res.socket?.destroy();
  }

  closeStreams(code: number, reason: string, path: FakeDeepgramPath | undefined): void {
    for (const entry of this.sockets) if (path === undefined || entry.path === path) entry.session.closeWith(code, reason);
  }

  private takeFailure(path: FakeDeepgramPath): FakeDeepgramErrorStatus | undefined {
    const index = this.failures.findIndex((f) => f.path === undefined || f.path === path);
    if (index < 0) return undefined;
    return this.failures.splice(index, 1)[0]!.status;
  }

  private record(req: IncomingMessage, websocket: boolean, url: URL, auth: ParsedAuth, valid: boolean, body?: unknown): FakeDeepgramRequest {
    const record: FakeDeepgramRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: queryRecord(url.searchParams),
      headers: requestHeaders(req),
      auth: { present: auth.present, valid, viaSubprotocol: auth.viaSubprotocol, ...(auth.scheme === undefined ? {} : { scheme: auth.scheme }) },
      websocket,
      ...(body === undefined ? {} : { body }),
    };
    this.requests.push(record);
    return record;
  }

  private keyError(auth: ParsedAuth): DeepgramHttpError | undefined {
    return isAcceptedKey(auth.key, this.options) ? undefined : scriptedHttpError(401);
  }

  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://fake.deepgram');
    const auth = parseAuth(req);
    const requestId = randomUUID();
    const trimmed = url.pathname.replace(/\/+$/, '');
    const path: FakeDeepgramPath | undefined = trimmed === '/v1/listen' || trimmed === '/v1/speak' ? trimmed : undefined;
    const keyError = this.keyError(auth);
    const record = this.record(req, true, url, auth, keyError === undefined);
    const reject = (error: DeepgramHttpError): void => {
      record.status = error.status;
      rejectUpgrade(socket, error, requestId);
    };
    if (path === undefined) {
      reject(httpError(404, 'NOT_FOUND', `No route for ${url.pathname}`));
      return;
    }
    const failure = this.takeFailure(path);
    if (keyError !== undefined) return reject(keyError);
    if (failure !== undefined) return reject(scriptedHttpError(failure));
    let listen: ListenSettings | undefined;
    let speak: SpeakSettings | undefined;
    try {
      if (path === '/v1/listen') listen = parseListenSettings(url.searchParams, this.options.models);
      else speak = parseSpeakSettings(url.searchParams, true);
    } catch (error) {
      if (error instanceof QueryError) return reject(httpError(400, 'Bad Request', error.message));
      throw error;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      record.status = 101;
      const session: Recorder =
        listen !== undefined ? new ListenSession(record, ws, listen, this) : new SpeakSession(record, ws, speak!, this);
      if (session instanceof ListenSession) this.listenSessions.push(session);
      else if (session instanceof SpeakSession) this.speakSessions.push(session);
      const entry = { path, session };
      this.sockets.add(entry);
      ws.on('close', () => this.sockets.delete(entry));
      ws.on('error', () => {
        // A client that vanishes mid-frame: the close event that follows is what counts.
      });
    });
  }

  async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.deepgram');
    const auth = parseAuth(req);
    const requestId = randomUUID();
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
    } catch {
      body = raw.toString('utf8');
    }
    const keyError = this.keyError(auth);
    const record = this.record(req, false, url, auth, keyError === undefined, body);
    const fail = (error: DeepgramHttpError): void => {
      record.status = error.status;
      sendHttpError(res, error, requestId);
    };
    if (url.pathname.replace(/\/+$/, '') !== '/v1/speak') return fail(httpError(404, 'NOT_FOUND', `No route for ${url.pathname}`));
    if (req.method !== 'POST') return fail(httpError(405, 'METHOD_NOT_ALLOWED', `Method ${req.method ?? ''} not allowed`));
    if (keyError !== undefined) return fail(keyError);
    const failure = this.takeFailure('/v1/speak');
    if (failure !== undefined) return fail(scriptedHttpError(failure));
    let settings: SpeakSettings;
    try {
      settings = parseSpeakSettings(url.searchParams, false);
    } catch (error) {
      if (error instanceof QueryError) return fail(httpError(400, 'Bad Request', error.message));
      throw error;
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return fail(httpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json'));
    }
    const text = typeof body === 'object' && body !== null ? (body as { text?: unknown }).text : undefined;
    if (typeof text !== 'string' || text.trim() === '') {
      return fail(httpError(400, 'Bad Request', 'Request body must be JSON with a non-empty `text` string'));
    }
    if ([...text].length > SPEAK_MAX_CHARS) {
      return fail(httpError(413, 'PAYLOAD_TOO_LARGE', `Input text exceeds the maximum of ${SPEAK_MAX_CHARS} characters`));
    }
    const response = this.speakResponses.shift() ?? {};
    if ('error' in response) return fail(scriptedHttpError(response.error, response.message));
    const options = this.options;
    const samples = fakeDeepgramSpeechAudio(text, settings.sampleRate, options.ttsMsPerCharacter, settings.speed);
    const audio = encodeSpeech(samples, settings.encoding);
    const bytes = settings.container === 'wav' ? Buffer.concat([wavHeader(audio.length, settings), audio]) : audio;
    const firstByteDelay = ('firstByteDelayMs' in response ? response.firstByteDelayMs : undefined) ?? options.ttsFirstByteDelayMs ?? 0;
    this.restResponses.add(res);
    res.once('close', () => {
      this.restResponses.delete(res);
      if (!res.writableFinished) record.aborted = true;
    });
    await pause(firstByteDelay);
    if (isClosed(res)) return;
    record.status = 200;
    record.bytesSent = 0;
    res.writeHead(200, {
      'Content-Type': settings.container === 'wav' ? 'audio/wav' : 'application/octet-stream',
      'dg-request-id': requestId,
      'dg-model-name': settings.model,
      'dg-char-count': String([...text].length),
    });
    res.flushHeaders();
    const limit = 'stall' in response || 'drop' in response ? (response.afterBytes ?? 0) : Infinity;
    const bytesPerSecond = settings.sampleRate * (settings.encoding === 'linear16' ? 2 : 1);
    for (const piece of audioPieces(bytes, (bytesPerSecond * (options.ttsChunkMs ?? 100)) / 1000, this.random)) {
      if (isClosed(res)) return;
      const room = limit - record.bytesSent;
      const part = piece.subarray(0, Math.max(0, Math.min(piece.length, room)));
      if (part.length > 0) {
        res.write(part);
        record.bytesSent += part.length;
      }
      if (part.length < piece.length) break;
      await pause(options.ttsFrameDelayMs ?? 1);
    }
    if ('drop' in response) {
      await pause(0);
      res.socket?.destroy();
      return;
    }
    if ('stall' in response) {
      if (!isClosed(res)) await untilClosed(res);
      return;
    }
    if (!isClosed(res)) res.end();
  }
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeDeepgram(options: FakeDeepgramOptions = {}): Promise<FakeDeepgram> {
  const fake = new FakeDeepgramServer(options);
  const server = await startFakeHttpServer(
    (req, res) => fake.handleRequest(req, res),
    (res) => sendHttpError(res, httpError(500, 'INTERNAL_SERVER_ERROR', 'fake server failure'), randomUUID()),
    (req: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on('error', () => {
        // Reset by the client during the handshake: nothing to answer.
      });
      try {
        fake.handleUpgrade(req, socket, head);
      } catch {
        rejectUpgrade(socket, httpError(500, 'INTERNAL_SERVER_ERROR', 'fake server failure'), randomUUID());
      }
    },
  );
  const { port } = server;
  return {
    url: `ws://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    port,
    requests: fake.requests,
    listenSessions: fake.listenSessions,
    speakSessions: fake.speakSessions,
    scriptTranscripts: (...utterances) => fake.scriptTranscripts(utterances),
    enqueueSpeak: (...responses) => fake.enqueueSpeak(responses),
    failNextConnections: (status, count = 1, path) => fake.failNext(status, count, path),
    dropConnections: (path) => fake.dropConnections(path),
    closeStreams: (code = 1011, reason = 'NET-0000', path) => fake.closeStreams(code, reason, path),
    close: () => {
      for (const client of fake.wss.clients) client.terminate();
      fake.dropConnections(undefined);
      return server.close();
    },
  };
}
