// A local stand-in for Cartesia's TTS WebSocket (`/tts/websocket`), speaking its wire protocol over a real socket
// so that the production client is what gets tested.
//
// Handshake: the key (`X-API-Key`, `Authorization: Bearer`, or the browser's `api_key` / `access_token` query) and
// the version (`Cartesia-Version` header or `cartesia_version` query, the query winning) are required, as by the
// real service; a rejection is a plain HTTP error before the upgrade, with a JSON body
// (`{error_code, title, message, request_id, doc_url}`) for versions from 2026-03-01 and `Title: message` text for
// older ones.
// Generation requests are checked like the real API (model, voice, raw output format with a supported encoding and
// rate, fields identical within a context) and answered with `type: "error"` events carrying both error shapes'
// fields (`error` and `error_code`/`title`/`message`, `status_code`, `done: true`).
// Each context buffers its transcripts (concatenated verbatim) and generates them on `flush` (then `flush_done`
// with that flush's number, which the chunks also carry), on `continue: false` (then `done`, the only time it is
// sent), or after `max_buffer_delay_ms`. Audio is a deterministic tone, `msPerCharacter` per character of the
// trimmed text, at the requested rate and encoding, base64 in `chunk` messages of `chunkMs` sent `chunkDelayMs`
// apart; `timestamps` messages follow the chunk in which their words start, in seconds from the context's start
// (audio time). `cancel` stops a context at once, with no acknowledgement and no `done`.
// A context left without input expires `contextExpiryMs` after its last audio (Cartesia documents ~1 s); input to
// an expired, cancelled or finished context is answered with an error event (the wording is the fake's own).
// Failures are scriptable: handshake errors, a socket destroyed mid-generation (the client sees 1006), an in-stream
// error, a close frame, a generation that never answers; idle sockets close after `idleTimeoutMs`.
// Every client frame is recorded; API keys are never stored, only whether auth was present and valid.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { fakeVoiceTone, encodeSamples, type FakeWireEncoding } from './audio.js';
import { bearerCredentials, isAcceptedKey } from './auth.js';
import { isRecord, pause, recordQuery, refuseUpgrade } from './http.js';
import { recordHeaders } from './sse.js';
import { FakeSocketSession, FakeWebSocketServer, frameBytes, type FakeHandshakeFault } from './websocket.js';

export const FAKE_CARTESIA_SAMPLE_RATES: readonly number[] = [8000, 16000, 22050, 24000, 44100, 48000];
export const FAKE_CARTESIA_ENCODINGS: readonly string[] = ['pcm_s16le', 'pcm_f32le', 'pcm_mulaw', 'pcm_alaw'];
/** The version from which errors use the `{error_code, title, message}` shape. */
const STRUCTURED_ERRORS_VERSION = '2026-03-01';
const DOC_URL = 'https://docs.cartesia.ai/api-reference/tts/websocket';

export interface FakeCartesiaOptions {
  /** Answer 401 for this key (any other non-empty key is accepted). */
  rejectKey?: string;
  /** Accept only this key. */
  requireKey?: string;
  /** Speech length per character of trimmed transcript. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per `chunk` message. Default 40 ms. */
  chunkMs?: number;
  /** Pause between two messages of a generation; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
  /** Pause before the first chunk of every generation. Default 0. */
  firstChunkDelayMs?: number;
  /** A context without input expires this long after its last audio. Default 1000 ms. */
  contextExpiryMs?: number;
  /** `max_buffer_delay_ms` when a request does not set it. Default 3000 ms. */
  defaultMaxBufferDelayMs?: number;
  /** A socket without any client message for this long is closed (1000). Default 300 000 ms (5 minutes). */
  idleTimeoutMs?: number;
  /** Active contexts allowed across the fake (the plan's concurrency); more get a 429 error event. Default 15. */
  maxConcurrentContexts?: number;
}

export type FakeCartesiaHandshakeStatus = 400 | 401 | 402 | 403 | 404 | 429 | 500 | 503;

/** A scripted rejection of the next handshake. */
export interface FakeCartesiaHandshakeFault extends FakeHandshakeFault {
  status: FakeCartesiaHandshakeStatus;
}

/**
 * A scripted failure of the next generation that has text to say (with `onText`: of the next one whose text
 * contains it, so a test can spoil one call's sentence while other calls share the server).
 */
export type FakeCartesiaGenerationFault = { onText?: string } & (
  /** Destroys the socket (no close frame) after `afterChunks` chunks (default 0). */
  | { drop: true; afterChunks?: number }
  /** Sends an error event for the context (`done: true`) after `afterChunks` chunks; the context ends. */
  | { error: number; errorCode?: string; title?: string; message?: string; afterChunks?: number }
  /** Sends a close frame after `afterChunks` chunks. */
  | { close: number; reason?: string; afterChunks?: number }
  /** Never answers (until the socket closes). */
  | { stall: true });

/** One client frame as received. */
export interface FakeCartesiaMessage {
  /** Index of the connection in `connections`. */
  readonly connection: number;
  readonly binary: boolean;
  /** The parsed JSON of a text frame (undefined when it was not JSON). */
  readonly json?: unknown;
  /** The raw text of a text frame. */
  readonly text?: string;
  /** Milliseconds since the fake started. */
  readonly atMs: number;
}

/** One WebSocket handshake, as recorded. The API key itself is never stored. */
export interface FakeCartesiaConnection {
  readonly index: number;
  readonly path: string;
  /** Query values; `api_key` and `access_token` are replaced by `[redacted]`. */
  readonly query: Readonly<Record<string, string>>;
  /** Lower-case header names; `x-api-key` and `authorization` are replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: { readonly present: boolean; readonly valid: boolean; readonly via?: 'x-api-key' | 'bearer' | 'api_key' | 'access_token' };
  /** The Cartesia version used (query over header). */
  readonly version: string | undefined;
  /** 101 when upgraded, else the HTTP status answered. */
  status?: number;
  readonly received: FakeCartesiaMessage[];
  /** Set once the socket is closed: who closed it and how. */
  close?: { readonly code: number; readonly reason: string; readonly by: 'client' | 'server' | 'dropped' };
}

/** One context (one `context_id` on one connection), as the fake saw it. */
export interface FakeCartesiaContext {
  readonly contextId: string;
  readonly connection: number;
  /** Every transcript received, in order (empty ones included). */
  readonly transcripts: string[];
  /** The text of every generation, trimmed, in order. */
  readonly generations: string[];
  /** Flushes received. */
  flushes: number;
  /** Audio samples sent. */
  audioSamples: number;
  /** How it ended; undefined while open. */
  outcome?: 'done' | 'cancelled' | 'expired' | 'error' | 'dropped';
}

export interface FakeCartesia {
  /** e.g. `ws://127.0.0.1:54321`, to pass as the client's `baseUrl`. */
  readonly baseUrl: string;
  readonly port: number;
  readonly connections: readonly FakeCartesiaConnection[];
  readonly contexts: readonly FakeCartesiaContext[];
  /** Every client text frame's JSON, across connections, in arrival order. */
  messages(): unknown[];
  /** Resolves with the first received frame (already or still to come) whose JSON matches. */
  waitForMessage(predicate: (json: unknown) => boolean, timeoutMs?: number): Promise<FakeCartesiaMessage>;
  /** Rejects the next handshakes, one fault each. */
  failHandshake(...faults: FakeCartesiaHandshakeFault[]): void;
  /** Spoils the next generations that have text, one fault each. */
  failGeneration(...faults: FakeCartesiaGenerationFault[]): void;
  /** Destroys every open socket now, without a close frame. */
  dropConnections(): void;
  close(): Promise<void>;
}

export interface FakeCartesiaSpeechOptions {
  sampleRate: number;
  /** Default 60. */
  msPerCharacter?: number;
  voiceId?: string;
}

/** The fake's speech for `text` (one generation, already trimmed) as PCM16: the exact samples before encoding. */
export function fakeCartesiaSpeech(text: string, options: FakeCartesiaSpeechOptions): Int16Array {
  const msPerCharacter = options.msPerCharacter ?? 60;
  const rate = options.sampleRate;
  const count = Math.round((text.length * msPerCharacter * rate) / 1000);
  return fakeVoiceTone(`${options.voiceId ?? ''}:${text}`, count, rate, {
    baseHz: 150,
    hzSpread: 150,
    amplitude: 8000,
    tremoloBase: 0.55,
    tremoloDepth: 0.45,
    tremoloHz: 3,
    rampStep: 29,
    rampPeriod: 83,
    rampOffset: 41,
  });
}

/** Wire bytes of `samples` in a Cartesia raw encoding. */
export function encodeCartesiaAudio(samples: Int16Array, encoding: string): Uint8Array {
  const wire: FakeWireEncoding = encoding === 'pcm_mulaw' ? 'mulaw' : encoding === 'pcm_alaw' ? 'alaw' : encoding === 'pcm_f32le' ? 'f32le' : 's16le';
  return encodeSamples(samples, wire);
}

function bytesPerSample(encoding: string): number {
  return encoding === 'pcm_f32le' ? 4 : encoding === 'pcm_s16le' ? 2 : 1;
}

/** JSON with sorted keys, to compare two requests' fields regardless of key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    readonly errorCode: string,
  ) {
    super(message);
  }
}

function invalid(message: string): RequestError {
  return new RequestError(400, 'Invalid request', message, 'invalid_request');
}

interface GenerationRequest {
  contextId: string;
  transcript: string;
  continue: boolean;
  flush: boolean;
  voiceId: string;
  encoding: string;
  sampleRate: number;
  addTimestamps: boolean;
  maxBufferDelayMs: number | undefined;
  /** The fields that must stay the same within a context. */
  invariant: string;
}

function validateRequest(message: Record<string, unknown>): GenerationRequest {
  const model = message.model_id;
  if (typeof model !== 'string' || model === '') throw invalid('model_id is required');
  if (typeof message.transcript !== 'string') throw invalid('transcript is required and must be a string');
  const voice = message.voice;
  if (!isRecord(voice)) throw invalid('voice is required');
  let voiceId: string;
  if (voice.mode === 'id') {
    if (typeof voice.id !== 'string' || voice.id === '') throw invalid('voice.id is required when voice.mode is "id"');
    voiceId = voice.id;
  } else if (voice.mode === 'embedding') {
    if (!Array.isArray(voice.embedding) || !voice.embedding.every((v) => typeof v === 'number')) {
      throw invalid('voice.embedding must be an array of numbers');
    }
    voiceId = 'embedding';
  } else {
    throw invalid(`voice.mode must be "id" or "embedding", got ${JSON.stringify(voice.mode) ?? 'nothing'}`);
  }
  const format = message.output_format;
  if (!isRecord(format)) throw invalid('output_format is required');
  if (format.container !== 'raw') throw invalid(`output_format.container must be "raw" on the WebSocket, got ${JSON.stringify(format.container) ?? 'nothing'}`);
  if (typeof format.encoding !== 'string' || !FAKE_CARTESIA_ENCODINGS.includes(format.encoding)) {
    throw invalid(`output_format.encoding must be one of ${FAKE_CARTESIA_ENCODINGS.join(', ')}`);
  }
  if (typeof format.sample_rate !== 'number' || !FAKE_CARTESIA_SAMPLE_RATES.includes(format.sample_rate)) {
    throw invalid(`output_format.sample_rate must be one of ${FAKE_CARTESIA_SAMPLE_RATES.join(', ')}`);
  }
  if (message.language !== undefined && typeof message.language !== 'string') throw invalid('language must be a string');
  for (const flag of ['continue', 'flush', 'add_timestamps', 'add_phoneme_timestamps', 'use_normalized_timestamps']) {
    if (message[flag] !== undefined && typeof message[flag] !== 'boolean') throw invalid(`${flag} must be a boolean`);
  }
  if (message.context_id !== undefined && (typeof message.context_id !== 'string' || message.context_id === '')) {
    throw invalid('context_id must be a non-empty string');
  }
  const delay = message.max_buffer_delay_ms;
  if (delay !== undefined && (typeof delay !== 'number' || delay < 0 || delay > 5000)) {
    throw invalid('max_buffer_delay_ms must be a number from 0 to 5000');
  }
  const config = message.generation_config;
  if (config !== undefined) {
    if (!isRecord(config)) throw invalid('generation_config must be an object');
    if (config.speed !== undefined && !(typeof config.speed === 'number' && config.speed >= 0.6 && config.speed <= 2)) {
      throw invalid('generation_config.speed must be between 0.6 and 2.0');
    }
    if (config.volume !== undefined && !(typeof config.volume === 'number' && config.volume >= 0.5 && config.volume <= 2)) {
      throw invalid('generation_config.volume must be between 0.5 and 2.0');
    }
    if (config.emotion !== undefined && typeof config.emotion !== 'string') throw invalid('generation_config.emotion must be a string');
  }
  const { transcript: _t, continue: _c, flush: _f, context_id: _id, ...invariant } = message;
  return {
    contextId: typeof message.context_id === 'string' ? message.context_id : randomUUID(),
    transcript: message.transcript,
    continue: message.continue === true,
    flush: message.flush === true,
    voiceId,
    encoding: format.encoding,
    sampleRate: format.sample_rate,
    addTimestamps: message.add_timestamps === true,
    maxBufferDelayMs: typeof delay === 'number' ? delay : undefined,
    invariant: canonical(invariant),
  };
}

interface LiveContext {
  readonly record: FakeCartesiaContext;
  readonly first: GenerationRequest;
  state: 'open' | 'closing' | 'ended';
  buffer: string;
  /** Generations queued or running. */
  pending: number;
  chain: Promise<void>;
  bufferTimer: NodeJS.Timeout | undefined;
  expiryTimer: NodeJS.Timeout | undefined;
}

class FakeCartesiaServer
  extends FakeWebSocketServer<FakeCartesiaConnection, FakeCartesiaMessage, FakeCartesiaHandshakeFault, FakeCartesiaGenerationFault, Session>
  implements FakeCartesia
{
  readonly contexts: FakeCartesiaContext[] = [];

  constructor(readonly options: FakeCartesiaOptions) {
    super('Cartesia', { error: 'Not Found' });
  }

  activeContexts(): number {
    let count = 0;
    for (const session of this.sessions) count += session.activeContexts();
    return count;
  }

  protected override onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = recordQuery(url.searchParams, ['api_key', 'access_token']);
    const headers = recordHeaders(req, ['x-api-key', 'authorization']);
    const header = (name: string): string | undefined => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const bearer = bearerCredentials(header('authorization') ?? '');
    const found: [string | undefined, FakeCartesiaConnection['auth']['via']][] = [
      [header('x-api-key'), 'x-api-key'],
      [bearer, 'bearer'],
      [url.searchParams.get('api_key') ?? undefined, 'api_key'],
      [url.searchParams.get('access_token') ?? undefined, 'access_token'],
    ];
    const [key, via] = found.find(([value]) => value !== undefined && value !== '') ?? [undefined, undefined];
    const valid = isAcceptedKey(key, this.options);
    const version = url.searchParams.get('cartesia_version') ?? header('cartesia-version');
    const connection: FakeCartesiaConnection = {
      index: this.connections.length,
      path: url.pathname,
      query,
      headers,
      auth: { present: key !== undefined, valid, ...(via === undefined ? {} : { via }) },
      version,
      received: [],
    };
    this.connections.push(connection);
    const reject = (status: number, title: string, message: string, errorCode: string, extra: Record<string, string> = {}): void => {
      connection.status = status;
      const structured = version !== undefined && version >= STRUCTURED_ERRORS_VERSION;
      const body = structured
        ? JSON.stringify({ error_code: errorCode, title, message, request_id: randomUUID(), doc_url: DOC_URL })
        : `${title}: ${message}`;
      const contentType = structured ? 'application/json' : 'text/plain; charset=utf-8';
      refuseUpgrade(socket, status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), Connection: 'close', ...extra }, body);
    };
    if (url.pathname !== '/tts/websocket') return reject(404, 'Not found', `No route for ${url.pathname}`, 'not_found');
    const fault = this.handshakeFaults.shift();
    if (fault !== undefined) {
      const titles: Record<number, [string, string]> = {
        400: ['Invalid request', 'invalid_request'],
        401: ['Invalid API key', 'invalid_api_key'],
        402: ['Payment required', 'credits_exhausted'],
        403: ['Forbidden', 'forbidden'],
        404: ['Not found', 'not_found'],
        429: ['Too many concurrent requests', 'concurrency_limited'],
        500: ['Internal server error', 'internal_error'],
        503: ['Service unavailable', 'service_unavailable'],
      };
      const [title, code] = titles[fault.status] ?? ['Error', 'error'];
      return reject(fault.status, title, fault.message ?? `${title}.`, code, fault.retryAfter === undefined ? {} : { 'Retry-After': String(fault.retryAfter) });
    }
    if (key === undefined) return reject(401, 'Missing API key', 'Provide your API key in the X-API-Key header.', 'missing_api_key');
    if (!valid) return reject(401, 'Invalid API key', 'The API key provided is not valid.', 'invalid_api_key');
    if (version === undefined || version === '') {
      return reject(400, 'Missing Cartesia-Version', 'The Cartesia-Version header (or cartesia_version query parameter) is required.', 'missing_version');
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(version)) {
      return reject(400, 'Invalid Cartesia-Version', `Invalid version "${version}": expected a date such as 2025-04-16.`, 'invalid_version');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      connection.status = 101;
      this.sessions.add(new Session(this, ws, socket, connection));
    });
  }
}

/** One accepted socket and its contexts. */
class Session extends FakeSocketSession<FakeCartesiaConnection> {
  private readonly contexts = new Map<string, LiveContext>();

  constructor(
    private readonly fake: FakeCartesiaServer,
    ws: WebSocket,
    socket: Socket,
    connection: FakeCartesiaConnection,
  ) {
    super(ws, socket, connection, fake);
    this.touch();
  }

  activeContexts(): number {
    let count = 0;
    for (const context of this.contexts.values()) if (context.state !== 'ended') count++;
    return count;
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.closeSocket(1000, 'Connection idle for too long'), this.fake.options.idleTimeoutMs ?? 300_000);
    this.idleTimer.unref();
  }

  private closeSocket(code: number, reason: string): void {
    if (!this.open) return;
    this.connection.close ??= { code, reason, by: 'server' };
    this.ws.close(code, reason);
  }

  private sendError(contextId: string | undefined, error: RequestError): void {
    this.send({
      type: 'error',
      ...(contextId === undefined ? {} : { context_id: contextId }),
      status_code: error.status,
      done: true,
      error: error.message,
      error_code: error.errorCode,
      title: error.title,
      message: error.message,
      request_id: randomUUID(),
      doc_url: DOC_URL,
    });
  }

  protected override onMessage(data: RawData, isBinary: boolean): void {
    this.touch();
    const bytes = frameBytes(data);
    if (isBinary) {
      this.fake.record(this.connection, { connection: this.connection.index, binary: true, atMs: this.fake.elapsedMs() });
      this.sendError(undefined, invalid('binary messages are not supported; send JSON text messages'));
      return;
    }
    const text = bytes.toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    this.fake.record(this.connection, { connection: this.connection.index, binary: false, text, json, atMs: this.fake.elapsedMs() });
    if (!isRecord(json)) {
      this.sendError(undefined, invalid('message must be a JSON object'));
      return;
    }
    if (json.cancel === true) {
      this.cancel(json.context_id);
      return;
    }
    let request: GenerationRequest;
    try {
      request = validateRequest(json);
    } catch (error) {
      if (error instanceof RequestError) this.sendError(typeof json.context_id === 'string' ? json.context_id : undefined, error);
      return;
    }
    try {
      this.accept(request);
    } catch (error) {
      if (error instanceof RequestError) this.sendError(request.contextId, error);
    }
  }

  private cancel(contextId: unknown): void {
    // No acknowledgement exists, for known or unknown contexts alike.
    if (typeof contextId !== 'string') return;
    const context = this.contexts.get(contextId);
    if (context === undefined || context.state === 'ended') return;
    this.end(context, 'cancelled');
  }

  private accept(request: GenerationRequest): void {
    let context = this.contexts.get(request.contextId);
    if (context !== undefined && context.state !== 'open') {
      const why = context.record.outcome === 'expired' ? 'has expired' : 'is closed';
      throw new RequestError(400, 'Invalid context', `Context ${request.contextId} ${why}; start a new context_id.`, 'invalid_context');
    }
    if (context === undefined) {
      if (this.fake.activeContexts() >= (this.fake.options.maxConcurrentContexts ?? 15)) {
        throw new RequestError(429, 'Too many concurrent requests', 'Concurrency limit reached for your plan.', 'concurrency_limited');
      }
      const record: FakeCartesiaContext = {
        contextId: request.contextId,
        connection: this.connection.index,
        transcripts: [],
        generations: [],
        flushes: 0,
        audioSamples: 0,
      };
      this.fake.contexts.push(record);
      context = { record, first: request, state: 'open', buffer: '', pending: 0, chain: Promise.resolve(), bufferTimer: undefined, expiryTimer: undefined };
      this.contexts.set(request.contextId, context);
    } else if (request.invariant !== context.first.invariant) {
      throw invalid('all fields except transcript, continue and flush must stay the same within a context');
    }
    const live = context;
    clearTimeout(live.expiryTimer);
    live.record.transcripts.push(request.transcript);
    live.buffer += request.transcript;
    if (request.flush) {
      live.record.flushes += 1;
      this.generate(live, live.record.flushes, { type: 'flush_done', done: false, flush_done: true, flush_id: live.record.flushes });
    } else if (!request.continue) {
      live.state = 'closing';
      this.generate(live, live.record.flushes + 1, { type: 'done', done: true });
    } else if (live.buffer.trim() !== '' && live.bufferTimer === undefined) {
      const delay = request.maxBufferDelayMs ?? this.fake.options.defaultMaxBufferDelayMs ?? 3000;
      live.bufferTimer = setTimeout(() => this.generate(live, live.record.flushes + 1), delay);
    }
  }

  /** Queues the buffered text of `context` for generation, then `after` (flush_done or done). */
  private generate(context: LiveContext, flushId: number, after?: Record<string, unknown>): void {
    clearTimeout(context.bufferTimer);
    context.bufferTimer = undefined;
    const text = context.buffer.trim();
    context.buffer = '';
    context.pending += 1;
    context.chain = context.chain.then(async () => {
      try {
        const completed = await this.speak(context, text, flushId);
        if (!completed || context.record.outcome !== undefined) return;
        if (after !== undefined) this.send({ ...after, status_code: 206, context_id: context.record.contextId });
        if (after?.type === 'done') this.end(context, 'done');
      } finally {
        context.pending -= 1;
        this.armExpiry(context);
      }
    });
  }

  private armExpiry(context: LiveContext): void {
    if (context.state !== 'open' || context.pending > 0) return;
    clearTimeout(context.expiryTimer);
    context.expiryTimer = setTimeout(() => this.end(context, 'expired'), this.fake.options.contextExpiryMs ?? 1000);
    context.expiryTimer.unref();
  }

  private end(context: LiveContext, outcome: NonNullable<FakeCartesiaContext['outcome']>): void {
    context.state = 'ended';
    context.record.outcome ??= outcome;
    clearTimeout(context.bufferTimer);
    clearTimeout(context.expiryTimer);
  }

  protected override endAll(outcome: 'dropped'): void {
    for (const context of this.contexts.values()) if (context.state !== 'ended') this.end(context, outcome);
  }

  /** Sends the audio (and timestamps) of one generation; false when it was cut short. */
  private async speak(context: LiveContext, text: string, flushId: number): Promise<boolean> {
    if (text === '') return this.open;
    const options = this.fake.options;
    const { encoding, sampleRate, voiceId, addTimestamps } = context.first;
    const contextId = context.record.contextId;
    context.record.generations.push(text);
    const fault = this.fake.takeGenerationFault(text);
    if (fault !== undefined && 'stall' in fault) {
      await new Promise<void>((resolve) => this.ws.once('close', () => resolve()));
      return false;
    }
    const msPerCharacter = options.msPerCharacter ?? 60;
    const samples = fakeCartesiaSpeech(text, { sampleRate, msPerCharacter, voiceId });
    const startSecs = context.record.audioSamples / sampleRate;
    const words = [...text.matchAll(/\S+/g)].map((match) => {
      const start = startSecs + ((match.index ?? 0) * msPerCharacter) / 1000;
      return { word: match[0], start, end: start + (match[0].length * msPerCharacter) / 1000 };
    });
    const perChunk = Math.max(1, Math.round(((options.chunkMs ?? 40) * sampleRate) / 1000));
    const width = bytesPerSample(encoding);
    const bytes = encodeCartesiaAudio(samples, encoding);
    if ((options.firstChunkDelayMs ?? 0) > 0) await pause(options.firstChunkDelayMs ?? 0);
    let chunkIndex = 0;
    for (let at = 0; at < samples.length; at += perChunk, chunkIndex++) {
      if (!this.open || context.record.outcome !== undefined) return false;
      if (fault !== undefined && !('stall' in fault) && (fault.afterChunks ?? 0) === chunkIndex) {
        this.inflict(context, fault);
        return false;
      }
      const end = Math.min(samples.length, at + perChunk);
      this.send({
        type: 'chunk',
        data: Buffer.from(bytes.subarray(at * width, end * width)).toString('base64'),
        done: false,
        status_code: 206,
        step_time: Math.round(((end - at) / sampleRate) * 250 * 100) / 100,
        flush_id: flushId,
        context_id: contextId,
      });
      context.record.audioSamples += end - at;
      const chunkStart = startSecs + at / sampleRate;
      const chunkEnd = startSecs + end / sampleRate;
      const inChunk = words.filter((w) => w.start >= chunkStart - 1e-9 && (w.start < chunkEnd - 1e-9 || end === samples.length));
      if (addTimestamps && inChunk.length > 0) {
        this.send({
          type: 'timestamps',
          done: false,
          status_code: 206,
          flush_id: flushId,
          context_id: contextId,
          word_timestamps: {
            words: inChunk.map((w) => w.word),
            start: inChunk.map((w) => Math.round(w.start * 1e6) / 1e6),
            end: inChunk.map((w) => Math.round(w.end * 1e6) / 1e6),
          },
        });
      }
      await pause(options.chunkDelayMs ?? 2);
    }
    if (fault !== undefined && !('stall' in fault) && (fault.afterChunks ?? 0) >= chunkIndex) {
      this.inflict(context, fault);
      return false;
    }
    return this.open && context.record.outcome === undefined;
  }

  private inflict(context: LiveContext, fault: Exclude<FakeCartesiaGenerationFault, { stall: true }>): void {
    if ('drop' in fault) {
      this.drop();
    } else if ('error' in fault) {
      const title = fault.title ?? (fault.error === 429 ? 'Too many concurrent requests' : fault.error >= 500 ? 'Internal server error' : 'Invalid request');
      const code = fault.errorCode ?? (fault.error === 429 ? 'concurrency_limited' : fault.error >= 500 ? 'internal_error' : 'invalid_request');
      this.sendError(context.record.contextId, new RequestError(fault.error, title, fault.message ?? `${title}.`, code));
      this.end(context, 'error');
    } else {
      this.closeSocket(fault.close, fault.reason ?? '');
    }
  }
}

/** Starts a fake Cartesia TTS WebSocket server on 127.0.0.1 (ephemeral port). */
export async function startFakeCartesia(options: FakeCartesiaOptions = {}): Promise<FakeCartesia> {
  const fake = new FakeCartesiaServer(options);
  await fake.start();
  return fake;
}
