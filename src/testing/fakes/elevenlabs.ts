// A local stand-in for ElevenLabs' text-to-speech WebSockets, multi-context
// (`/v1/text-to-speech/{voice_id}/multi-stream-input`) and single-stream (`.../stream-input`), speaking the wire
// protocol over a real socket so that the production client is what gets tested.
//
// Auth: the `xi-api-key` header, or (when the header is absent) the key in the first message (`xi_api_key` on
// multi-context, `xi-api-key` on single-stream, or `authorization: "Bearer ..."`). A wrong header key is refused
// at the handshake with HTTP 401 `{"detail": {"status": "invalid_api_key", "message": ...}}`, or, with
// `badKeyAt: 'open'`, accepted and then refused in-band (error JSON, close 1008): the real service does either.
// Query: `model_id`, `output_format` (`pcm_<rate>`, `ulaw_8000`, `alaw_8000`; mp3 and opus are not emulated, which
// a fake-specific error says), `inactivity_timeout`, `auto_mode`, `sync_alignment`, `language_code`, ... .
// Multi-context: a context opens with its first message (voice settings only there), buffers its text, and
// generates it on `flush`, at once in `auto_mode`, or when the buffer passes the next `chunk_length_schedule`
// threshold; `{"text": ""}` keeps it alive; `close_context` stops it at once (nothing more is sent for it: whether
// the real service first finishes a generation in flight is not documented, and a client must drop late audio
// anyway) and is answered with `{"isFinal": true, "contextId"}`, the only time a context's final message is sent;
// `close_socket` ends all,
// then the socket closes 1000; at most 5 contexts (`max_active_conversations`, then close 1008).
// Single-stream: the first message must be `{"text": " "}`; `{"text": ""}` ends the input: the rest is generated,
// `{"isFinal": true}` sent, the socket closed 1000.
// Audio is a deterministic tone, `msPerCharacter` per character of the generated text (leading blanks dropped), at
// the requested rate and encoding, base64 in messages of `charsPerChunk` characters (trailing blanks going with the
// last ones) `chunkDelayMs` apart, each with
// the `alignment` and `normalizedAlignment` of exactly its characters (`charStartTimesMs` counted from the message's
// first audio by default, or from the context's start with `alignmentTimeBase: 'context'`), camelCase as the
// server sends it.
// No message for `inactivity_timeout` seconds (default 20, configurable in ms for tests): the error JSON
// `input_timeout_exceeded`, then close 1008. Scriptable failures: handshake errors, a socket destroyed mid-audio,
// in-band errors (with or without a close), a generation that never answers.
// Every client frame is recorded; API keys are never stored, only whether auth was present and valid.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { encodeSamples, fakeVoiceTone } from './audio.js';
import { bearerCredentials, isAcceptedKey } from './auth.js';
import { isRecord, pause, recordQuery, refuseUpgrade } from './http.js';
import { recordHeaders } from './sse.js';
import { FakeSocketSession, FakeWebSocketServer, frameBytes, type FakeHandshakeFault } from './websocket.js';

export const FAKE_ELEVENLABS_PCM_RATES: readonly number[] = [8000, 16000, 22050, 24000, 32000, 44100, 48000];
export const FAKE_ELEVENLABS_MODELS: readonly string[] = [
  'eleven_flash_v2_5', 'eleven_turbo_v2_5', 'eleven_flash_v2', 'eleven_turbo_v2', 'eleven_multilingual_v2', 'eleven_monolingual_v1',
];
const DEFAULT_SCHEDULE = [120, 160, 250, 290];

export interface FakeElevenLabsOptions {
  /** Refuse this key (any other non-empty key is accepted). */
  rejectKey?: string;
  /** Accept only this key. */
  requireKey?: string;
  /** How a wrong key in the header is refused: HTTP 401 at the handshake (default), or in-band right after open. */
  badKeyAt?: 'handshake' | 'open';
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Characters of speech per audio message. Default 4. */
  charsPerChunk?: number;
  /** Pause between two messages of a generation; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
  /** Pause before the first audio of every generation. Default 0. */
  firstChunkDelayMs?: number;
  /** How `charStartTimesMs` are counted. Default 'message' (each message starts near 0, as in the docs' example). */
  alignmentTimeBase?: 'message' | 'context';
  /** Send `alignment: null` (audio without timings). Default false. */
  withoutAlignment?: boolean;
  /** Inactivity timeout in ms, overriding the `inactivity_timeout` query (default 20 s). */
  inactivityTimeoutMs?: number;
  /** Contexts per connection. Default 5. */
  maxContexts?: number;
  /** Accepted models. Default FAKE_ELEVENLABS_MODELS. */
  models?: readonly string[];
}

export type FakeElevenLabsHandshakeStatus = 400 | 401 | 403 | 404 | 429 | 500 | 503;

export interface FakeElevenLabsHandshakeFault extends FakeHandshakeFault {
  status: FakeElevenLabsHandshakeStatus;
}

/** A scripted failure of the next generation that has text to say. */
export type FakeElevenLabsGenerationFault =
  /** Destroys the socket (no close frame) after `afterChunks` audio messages (default 0). */
  | { drop: true; afterChunks?: number }
  /**
   * Sends the error JSON `{message, error, code: 1008}` after `afterChunks` audio messages, with the context's id
   * when `inContext`, then closes 1008 unless `close` is false.
   */
  | { error: string; message?: string; afterChunks?: number; close?: boolean; inContext?: boolean }
  /** Never answers (until the socket closes). */
  | { stall: true };

export interface FakeElevenLabsMessage {
  readonly connection: number;
  readonly binary: boolean;
  /** The parsed JSON of a text frame, keys redacted (undefined when it was not JSON). */
  readonly json?: unknown;
  readonly atMs: number;
}

export interface FakeElevenLabsConnection {
  readonly index: number;
  readonly path: string;
  readonly mode: 'multi' | 'single' | undefined;
  readonly voiceId: string | undefined;
  readonly query: Readonly<Record<string, string>>;
  /** Lower-case header names; `xi-api-key` and `authorization` are replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  auth: { present: boolean; valid: boolean; via?: 'header' | 'message' };
  /** 101 when upgraded, else the HTTP status answered. */
  status?: number;
  readonly received: FakeElevenLabsMessage[];
  /** Error JSON messages the fake sent. */
  readonly errors: Record<string, unknown>[];
  close?: { readonly code: number; readonly reason: string; readonly by: 'client' | 'server' | 'dropped' };
}

export interface FakeElevenLabsContext {
  /** '' for the single-stream endpoint. */
  readonly contextId: string;
  readonly connection: number;
  /** Every text received for the context, in order (the opening " " and keep-alive "" included). */
  readonly texts: string[];
  /** The text of every generation (leading blanks dropped). */
  readonly generations: string[];
  readonly voiceSettings: unknown;
  flushes: number;
  audioSamples: number;
  /** 'closed': by close_context, close_socket or the end of input (isFinal sent). */
  outcome?: 'closed' | 'dropped' | 'error' | 'timeout';
}

export interface FakeElevenLabs {
  /** e.g. `ws://127.0.0.1:54321`, to pass as the client's `baseUrl`. */
  readonly baseUrl: string;
  readonly port: number;
  readonly connections: readonly FakeElevenLabsConnection[];
  readonly contexts: readonly FakeElevenLabsContext[];
  /** Every client text frame's JSON (keys redacted), across connections, in arrival order. */
  messages(): unknown[];
  waitForMessage(predicate: (json: unknown) => boolean, timeoutMs?: number): Promise<FakeElevenLabsMessage>;
  failHandshake(...faults: FakeElevenLabsHandshakeFault[]): void;
  failGeneration(...faults: FakeElevenLabsGenerationFault[]): void;
  /** Destroys every open socket now, without a close frame. */
  dropConnections(): void;
  close(): Promise<void>;
}

export interface FakeElevenLabsSpeechOptions {
  sampleRate: number;
  /** Default 60. */
  msPerCharacter?: number;
  voiceId?: string;
}

/** The fake's speech for `text` (one generation, leading blanks already dropped) as PCM16, before encoding. */
export function fakeElevenLabsSpeech(text: string, options: FakeElevenLabsSpeechOptions): Int16Array {
  const rate = options.sampleRate;
  const count = samplesAt(text.length, options.msPerCharacter ?? 60, rate);
  return fakeVoiceTone(`${options.voiceId ?? ''}|${text}`, count, rate, {
    baseHz: 170,
    hzSpread: 140,
    amplitude: 8500,
    tremoloBase: 0.6,
    tremoloDepth: 0.4,
    tremoloHz: 2.5,
    rampStep: 31,
    rampPeriod: 97,
    rampOffset: 48,
  });
}

function samplesAt(characters: number, msPerCharacter: number, rate: number): number {
  return Math.round((characters * msPerCharacter * rate) / 1000);
}

/** A close reason must fit in 123 bytes. */
function closeReason(text: string): string {
  let out = text;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

const SECRET_FIELDS = ['xi_api_key', 'xi-api-key', 'authorization'];

function redacted(json: unknown): unknown {
  if (!isRecord(json)) return json;
  const out: Record<string, unknown> = { ...json };
  for (const field of SECRET_FIELDS) if (field in out) out[field] = '[redacted]';
  return out;
}

interface OutputFormat {
  encoding: 'pcm' | 'ulaw' | 'alaw';
  sampleRate: number;
}

function parseOutputFormat(value: string): OutputFormat | 'not-emulated' | undefined {
  const pcm = /^pcm_(\d+)$/.exec(value);
  if (pcm !== null) {
    const rate = Number(pcm[1]);
    return FAKE_ELEVENLABS_PCM_RATES.includes(rate) ? { encoding: 'pcm', sampleRate: rate } : undefined;
  }
  if (value === 'ulaw_8000') return { encoding: 'ulaw', sampleRate: 8000 };
  if (value === 'alaw_8000') return { encoding: 'alaw', sampleRate: 8000 };
  if (/^(mp3_(22050_32|24000_48|44100_(32|64|96|128|192))|opus_48000_(32|64|96|128|192))$/.test(value)) return 'not-emulated';
  return undefined;
}

class ProtocolError extends Error {
  constructor(
    readonly error: string,
    message: string,
    /** Close the socket (1008) after the error message. */
    readonly fatal = true,
    readonly contextId?: string,
  ) {
    super(message);
  }
}

class FakeElevenLabsServer
  extends FakeWebSocketServer<FakeElevenLabsConnection, FakeElevenLabsMessage, FakeElevenLabsHandshakeFault, FakeElevenLabsGenerationFault, Session>
  implements FakeElevenLabs
{
  readonly contexts: FakeElevenLabsContext[] = [];

  constructor(readonly options: FakeElevenLabsOptions) {
    super('ElevenLabs', { detail: 'Not Found' });
  }

  protected override onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = recordQuery(url.searchParams, []);
    const headers = recordHeaders(req, SECRET_FIELDS);
    const route = /^\/v1\/text-to-speech\/([^/]+)\/(multi-stream-input|stream-input)$/.exec(url.pathname);
    const headerKey = req.headers['xi-api-key'];
    const key = Array.isArray(headerKey) ? headerKey[0] : headerKey;
    const connection: FakeElevenLabsConnection = {
      index: this.connections.length,
      path: url.pathname,
      mode: route === null ? undefined : route[2] === 'multi-stream-input' ? 'multi' : 'single',
      voiceId: route === null ? undefined : decodeURIComponent(route[1] ?? ''),
      query,
      headers,
      auth: { present: key !== undefined && key !== '', valid: isAcceptedKey(key, this.options), ...(key === undefined ? {} : { via: 'header' as const }) },
      received: [],
      errors: [],
    };
    this.connections.push(connection);
    const reject = (status: number, detailStatus: string, message: string, extra: Record<string, string> = {}): void => {
      connection.status = status;
      const body = JSON.stringify({ detail: { status: detailStatus, message } });
      refuseUpgrade(socket, status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close', ...extra }, body);
    };
    if (route === null) return reject(404, 'not_found', `No route for ${url.pathname}`);
    const fault = this.handshakeFaults.shift();
    if (fault !== undefined) {
      const statuses: Record<number, string> = {
        400: 'invalid_request',
        401: 'invalid_api_key',
        403: 'forbidden',
        404: 'voice_not_found',
        429: 'too_many_concurrent_requests',
        500: 'internal_error',
        503: 'service_unavailable',
      };
      const detail = statuses[fault.status] ?? 'error';
      return reject(fault.status, detail, fault.message ?? `Scripted ${detail}.`, fault.retryAfter === undefined ? {} : { 'Retry-After': String(fault.retryAfter) });
    }
    if (connection.auth.present && !connection.auth.valid && (this.options.badKeyAt ?? 'handshake') === 'handshake') {
      return reject(401, 'invalid_api_key', 'Invalid API key');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      connection.status = 101;
      this.sessions.add(new Session(this, ws, socket, connection));
    });
  }
}

interface LiveContext {
  readonly record: FakeElevenLabsContext;
  buffer: string;
  schedule: number[];
  scheduleIndex: number;
  ended: boolean;
  /** Audio samples already sent (the context's clock). */
  chain: Promise<void>;
}

/** One accepted socket and its contexts. */
class Session extends FakeSocketSession<FakeElevenLabsConnection> {
  private readonly contexts = new Map<string, LiveContext>();
  private format: OutputFormat | undefined;
  private readonly autoMode: boolean;
  private authorized: boolean;
  private started = false;

  constructor(
    private readonly fake: FakeElevenLabsServer,
    ws: WebSocket,
    socket: Socket,
    connection: FakeElevenLabsConnection,
  ) {
    super(ws, socket, connection, fake);
    this.autoMode = connection.query.auto_mode === 'true';
    this.authorized = connection.auth.valid;
    this.touch();
    const problem = this.checkQuery();
    if (problem !== undefined) {
      this.fail(problem);
      return;
    }
    if (connection.auth.present && !connection.auth.valid) this.fail(new ProtocolError('invalid_api_key', 'Invalid API key'));
  }

  private get multi(): boolean {
    return this.connection.mode === 'multi';
  }

  private checkQuery(): ProtocolError | undefined {
    const query = this.connection.query;
    const model = query.model_id ?? 'eleven_multilingual_v2';
    if (!(this.fake.options.models ?? FAKE_ELEVENLABS_MODELS).includes(model)) {
      return new ProtocolError('model_not_found', `A model with model ID ${model} does not exist or does not support multi-context streaming.`);
    }
    const format = parseOutputFormat(query.output_format ?? 'mp3_44100_128');
    if (format === 'not-emulated') {
      return new ProtocolError('invalid_output_format', `fake ElevenLabs server: output_format ${query.output_format ?? 'mp3_44100_128'} is not emulated by this fake (the real API accepts it)`);
    }
    if (format === undefined) return new ProtocolError('invalid_output_format', `Invalid output_format: ${query.output_format}`);
    this.format = format;
    if (query.inactivity_timeout !== undefined) {
      const secs = Number(query.inactivity_timeout);
      if (!(Number.isInteger(secs) && secs >= 1 && secs <= 180)) return new ProtocolError('invalid_request', 'inactivity_timeout must be an integer from 1 to 180');
    }
    return undefined;
  }

  private inactivityMs(): number {
    if (this.fake.options.inactivityTimeoutMs !== undefined) return this.fake.options.inactivityTimeoutMs;
    const secs = Number(this.connection.query.inactivity_timeout ?? 20);
    return secs * 1000;
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      const secs = (this.inactivityMs() / 1000).toFixed(1);
      for (const context of this.contexts.values()) if (!context.ended) this.end(context, 'timeout');
      this.fail(
        new ProtocolError(
          'input_timeout_exceeded',
          `Have not received a new text input within the timeout of ${secs} seconds. Streaming input terminated. Please make sure to send text within the specified time period.`,
        ),
      );
    }, this.inactivityMs());
    this.idleTimer.unref();
  }

  /** The in-band error JSON, then (for fatal ones) close 1008 with the message as reason. */
  private fail(error: ProtocolError): void {
    const message: Record<string, unknown> = { message: error.message, error: error.error, code: 1008 };
    if (error.contextId !== undefined) message.contextId = error.contextId;
    this.connection.errors.push(message);
    this.send(message);
    if (!error.fatal || !this.open) return;
    this.connection.close ??= { code: 1008, reason: closeReason(error.message), by: 'server' };
    clearTimeout(this.idleTimer);
    this.ws.close(1008, closeReason(error.message));
  }

  protected override onMessage(data: RawData, isBinary: boolean): void {
    this.touch();
    if (isBinary) {
      this.fake.record(this.connection, { connection: this.connection.index, binary: true, atMs: this.fake.elapsedMs() });
      this.fail(new ProtocolError('invalid_request', 'Binary messages are not supported.'));
      return;
    }
    const bytes = frameBytes(data);
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      json = undefined;
    }
    this.fake.record(this.connection, { connection: this.connection.index, binary: false, json: redacted(json), atMs: this.fake.elapsedMs() });
    if (this.format === undefined || !this.open) return;
    try {
      if (!isRecord(json)) throw new ProtocolError('invalid_request', 'Invalid message: expected a JSON object.');
      this.authorize(json);
      if (this.multi) this.onMulti(json);
      else this.onSingle(json);
    } catch (error) {
      if (error instanceof ProtocolError) this.fail(error);
      else throw error;
    }
  }

  /** Without the header, the first message must carry the key. */
  private authorize(json: Record<string, unknown>): void {
    if (this.authorized) return;
    const field = this.multi ? json.xi_api_key : json['xi-api-key'];
    const bearer = typeof json.authorization === 'string' ? bearerCredentials(json.authorization) : undefined;
    const key = typeof field === 'string' ? field : bearer;
    this.connection.auth = { present: key !== undefined, valid: isAcceptedKey(key, this.fake.options), ...(key === undefined ? {} : { via: 'message' as const }) };
    if (key === undefined) throw new ProtocolError('invalid_api_key', 'No API key provided: send the xi-api-key header or the key in the first message.');
    if (!this.connection.auth.valid) throw new ProtocolError('invalid_api_key', 'Invalid API key');
    this.authorized = true;
  }

  private onMulti(json: Record<string, unknown>): void {
    if (json.close_socket === true) {
      for (const context of this.contexts.values()) if (!context.ended) this.finish(context);
      this.connection.close ??= { code: 1000, reason: '', by: 'server' };
      this.ws.close(1000);
      return;
    }
    const contextId = json.context_id;
    if (contextId === undefined) {
      // A context-less blank message only keeps the socket alive.
      if (json.text === '' || json.text === ' ') return;
      throw new ProtocolError('invalid_request', 'context_id is required on the multi-context endpoint.');
    }
    if (typeof contextId !== 'string' || contextId === '') throw new ProtocolError('invalid_request', 'context_id must be a non-empty string.');
    let context = this.contexts.get(contextId);
    if (json.close_context === true) {
      if (context === undefined || context.ended) {
        throw new ProtocolError('context_not_found', `Context ${contextId} does not exist or is already closed.`, false, contextId);
      }
      this.finish(context);
      return;
    }
    if (context?.ended === true) throw new ProtocolError('context_not_found', `Context ${contextId} is closed.`, false, contextId);
    if (context === undefined) {
      const open = [...this.contexts.values()].filter((c) => !c.ended).length;
      if (open >= (this.fake.options.maxContexts ?? 5)) {
        throw new ProtocolError(
          'max_active_conversations',
          `Maximum simultaneous contexts per WebSocket connection exceeded (${this.fake.options.maxContexts ?? 5}). Please close an existing context before opening a new one.`,
        );
      }
      context = this.openContext(contextId, json);
    } else if (json.voice_settings !== undefined) {
      throw new ProtocolError('invalid_request', 'voice_settings can only be sent with the first message of a context.');
    }
    this.take(context, json);
  }

  private onSingle(json: Record<string, unknown>): void {
    let context = this.contexts.get('');
    if (!this.started) {
      if (json.text !== ' ') throw new ProtocolError('invalid_request', 'The first message must be {"text": " "} (beginning of stream).');
      this.started = true;
      context = this.openContext('', json);
      context.record.texts.push(' ');
      return;
    }
    if (context === undefined || context.ended) return;
    if (json.text === '') {
      // End of input: the rest is generated, the final message sent, the socket closed.
      context.record.texts.push('');
      const live = context;
      this.generate(live, live.buffer);
      live.buffer = '';
      live.chain = live.chain.then(() => {
        if (!this.open || live.ended) return;
        this.finish(live);
        this.connection.close ??= { code: 1000, reason: '', by: 'server' };
        this.ws.close(1000);
      });
      return;
    }
    this.take(context, json);
  }

  private openContext(contextId: string, json: Record<string, unknown>): LiveContext {
    const settings = json.voice_settings;
    if (settings !== undefined) {
      if (!isRecord(settings)) throw new ProtocolError('invalid_request', 'voice_settings must be an object.');
      for (const [name, min, max] of [['stability', 0, 1], ['similarity_boost', 0, 1], ['style', 0, 1], ['speed', 0.7, 1.2]] as const) {
        const value = settings[name];
        if (value !== undefined && !(typeof value === 'number' && value >= min && value <= max)) {
          throw new ProtocolError('invalid_request', `voice_settings.${name} must be a number from ${min} to ${max}.`);
        }
      }
      if (settings.use_speaker_boost !== undefined && typeof settings.use_speaker_boost !== 'boolean') {
        throw new ProtocolError('invalid_request', 'voice_settings.use_speaker_boost must be a boolean.');
      }
    }
    const config = json.generation_config;
    let schedule = DEFAULT_SCHEDULE;
    if (config !== undefined) {
      const given = isRecord(config) ? config.chunk_length_schedule : undefined;
      if (given !== undefined) {
        if (!Array.isArray(given) || !given.every((n) => typeof n === 'number' && n >= 50 && n <= 500)) {
          throw new ProtocolError('invalid_request', 'generation_config.chunk_length_schedule must be numbers from 50 to 500.');
        }
        schedule = given as number[];
      }
    }
    const record: FakeElevenLabsContext = {
      contextId,
      connection: this.connection.index,
      texts: [],
      generations: [],
      voiceSettings: settings,
      flushes: 0,
      audioSamples: 0,
    };
    this.fake.contexts.push(record);
    const context: LiveContext = { record, buffer: '', schedule, scheduleIndex: 0, ended: false, chain: Promise.resolve() };
    this.contexts.set(contextId, context);
    return context;
  }

  /** Text (and flush) for an open context. */
  private take(context: LiveContext, json: Record<string, unknown>): void {
    const text = json.text;
    if (text !== undefined && typeof text !== 'string') throw new ProtocolError('invalid_request', 'text must be a string.');
    if (text !== undefined) {
      context.record.texts.push(text);
      context.buffer += text;
    }
    if (json.flush === true) {
      context.record.flushes += 1;
      this.generate(context, context.buffer);
      context.buffer = '';
    } else if (this.autoMode) {
      if (context.buffer.trim() !== '') {
        this.generate(context, context.buffer);
        context.buffer = '';
      }
    } else if (context.buffer.length >= (context.schedule[context.scheduleIndex] ?? Number.POSITIVE_INFINITY)) {
      context.scheduleIndex = Math.min(context.scheduleIndex + 1, context.schedule.length - 1);
      this.generate(context, context.buffer);
      context.buffer = '';
    }
  }

  /** The context's final message; it ends (no more audio for it). */
  private finish(context: LiveContext): void {
    this.end(context, 'closed');
    this.send(this.multi ? { isFinal: true, contextId: context.record.contextId } : { isFinal: true });
  }

  private end(context: LiveContext, outcome: NonNullable<FakeElevenLabsContext['outcome']>): void {
    context.ended = true;
    context.record.outcome ??= outcome;
  }

  protected override endAll(outcome: 'dropped'): void {
    for (const context of this.contexts.values()) if (!context.ended) this.end(context, outcome);
  }

  private generate(context: LiveContext, text: string): void {
    const spoken = text.replace(/^\s+/, '');
    if (spoken.trim() === '') return;
    context.chain = context.chain.then(() => this.speak(context, spoken));
  }

  private async speak(context: LiveContext, text: string): Promise<void> {
    if (!this.open || context.ended) return;
    const options = this.fake.options;
    const format = this.format!;
    const contextId = context.record.contextId;
    context.record.generations.push(text);
    const fault = this.fake.takeGenerationFault();
    if (fault !== undefined && 'stall' in fault) {
      await new Promise<void>((resolve) => this.ws.once('close', () => resolve()));
      return;
    }
    const msPerCharacter = options.msPerCharacter ?? 60;
    const rate = format.sampleRate;
    const samples = fakeElevenLabsSpeech(text, { sampleRate: rate, msPerCharacter, voiceId: this.connection.voiceId });
    const contextStartMs = (context.record.audioSamples * 1000) / rate;
    const perChunk = Math.max(1, options.charsPerChunk ?? 4);
    if ((options.firstChunkDelayMs ?? 0) > 0) await pause(options.firstChunkDelayMs ?? 0);
    let chunkIndex = 0;
    // Message boundaries: every `perChunk` characters, trailing blanks voiced with the characters before them rather
    // than in a message of their own.
    const bounds: number[] = [];
    for (let at = perChunk; text.slice(at).trim() !== ''; at += perChunk) bounds.push(at);
    bounds.push(text.length);
    let first = 0;
    for (const last of bounds) {
      if (!this.open || context.ended) return;
      if (fault !== undefined && (fault.afterChunks ?? 0) === chunkIndex) {
        this.inflict(context, fault);
        return;
      }
      const from = samplesAt(first, msPerCharacter, rate);
      const to = samplesAt(last, msPerCharacter, rate);
      const pcm = samples.subarray(from, to);
      const bytes = encodeSamples(pcm, format.encoding === 'ulaw' ? 'mulaw' : format.encoding === 'alaw' ? 'alaw' : 's16le');
      const chars = [...text.slice(first, last)];
      const fromContextStart = options.alignmentTimeBase === 'context';
      const alignment =
        options.withoutAlignment === true
          ? null
          : {
              chars,
              charStartTimesMs: chars.map((_, i) => Math.round(((fromContextStart ? contextStartMs + (first + i) * msPerCharacter : i * msPerCharacter)) * 1000) / 1000),
              charDurationsMs: chars.map(() => msPerCharacter),
            };
      const message: Record<string, unknown> = {
        audio: Buffer.from(bytes).toString('base64'),
        isFinal: null,
        normalizedAlignment: alignment,
        alignment,
      };
      if (this.multi) message.contextId = contextId;
      this.send(message);
      context.record.audioSamples += to - from;
      first = last;
      chunkIndex++;
      await pause(options.chunkDelayMs ?? 2);
    }
    if (fault !== undefined && (fault.afterChunks ?? 0) >= chunkIndex) this.inflict(context, fault);
  }

  private inflict(context: LiveContext, fault: Exclude<FakeElevenLabsGenerationFault, { stall: true }>): void {
    if ('drop' in fault) {
      this.drop();
      return;
    }
    this.end(context, 'error');
    const contextId = fault.inContext === true && this.multi ? context.record.contextId : undefined;
    this.fail(new ProtocolError(fault.error, fault.message ?? `Scripted error: ${fault.error}.`, fault.close ?? true, contextId));
  }
}

/** Starts a fake ElevenLabs TTS WebSocket server on 127.0.0.1 (ephemeral port). */
export async function startFakeElevenLabs(options: FakeElevenLabsOptions = {}): Promise<FakeElevenLabs> {
  const fake = new FakeElevenLabsServer(options);
  await fake.start();
  return fake;
}
