// A local stand-in for LMNT's speech-session WebSocket (`/v1/ai/speech/stream`), speaking the wire protocol over a
// real socket so that the production client is what gets tested. Facts: docs/vendors/lmnt.md.
//
// The first message must be `init` with the key (`X-API-Key`) and the settings: `voice` (required), `format`
// (pcm_s16le, pcm_f32le and ulaw emulated; mp3 and webm refused as not emulated), `sample_rate` (8000, 16000, 24000;
// default 24000), `language` (ISO 639-1 or `auto`), `return_timestamps`; it is answered `ready`, or, with a missing
// or refused key, an `authentication_error`. Then: `text` is buffered; `flush` (nonce) synthesises the buffer — binary
// audio frames, a `timestamps` message (one entry per word, `start` in seconds from the flush's start), then
// `flush_complete` with the nonce; `reset` (nonce) drops the buffer and the speech in flight, answered
// `reset_complete`; `finish` synthesises the rest and closes 1000. Errors are `{"type": "error", "error": {"type",
// "message"}, "request_id"}`, after which the fake closes the socket 1008 (whether LMNT always closes is not
// documented). Scriptable failures: an in-band error on the next flush, a socket destroyed mid-audio, a flush that
// never answers. Keys are never stored, only whether auth was present and valid.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { encodeSamples, fakeVoiceTone, type FakeWireEncoding } from './audio.js';
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { isRecord, pause } from './http.js';
import { recordHeaders } from './sse.js';
import { FakeSpeechSession, FakeWebSocketServer } from './websocket.js';

export const FAKE_LMNT_LANGUAGES: readonly string[] = [
  'auto', 'ar', 'as', 'bn', 'cs', 'da', 'de', 'en', 'es', 'fi', 'fr', 'hi', 'id', 'it', 'ja', 'ko', 'ml', 'mr', 'nl', 'pl',
  'pt', 'ru', 'sk', 'sv', 'ta', 'te', 'th', 'tr', 'uk', 'ur', 'vi', 'zh',
];
const RATES = [8000, 16000, 24000];
const FORMATS: Readonly<Record<string, FakeWireEncoding>> = { pcm_s16le: 's16le', pcm_f32le: 'f32le', ulaw: 'mulaw' };

export type FakeLmntErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'payment_required_error'
  | 'rate_limit_error'
  | 'internal_server_error';

export interface FakeLmntOptions extends FakeKeyPolicy {
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per binary frame. Default 40 ms. */
  chunkMs?: number;
  /** Pause between two frames of a synthesis; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
}

export type FakeLmntFault =
  /** Destroys the socket (no close frame) after `afterChunks` audio frames (default 0). */
  | { drop: true; afterChunks?: number }
  /** Answers the flush with an in-band error of this type (then closes 1008). */
  | { error: FakeLmntErrorType; message?: string }
  /** Never answers the flush (until the socket closes). */
  | { stall: true };

export interface FakeLmntConnection {
  readonly index: number;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** What `init` said (the key replaced by `[redacted]`), once received. */
  init?: Readonly<Record<string, unknown>>;
  auth: { present: boolean; valid: boolean };
  /** 101 when upgraded, else the HTTP status answered. */
  status?: number;
  readonly received: { readonly json?: unknown }[];
  close?: { readonly code: number; readonly reason: string; readonly by: 'client' | 'server' | 'dropped' };
}

export interface FakeLmntSynthesis {
  readonly connection: number;
  readonly text: string;
  readonly nonce: unknown;
  frames: number;
  outcome?: 'completed' | 'reset' | 'dropped' | 'error' | 'stalled';
}

export interface FakeLmnt {
  /** e.g. `ws://127.0.0.1:54321`, to pass as the client's `baseUrl`. */
  readonly baseUrl: string;
  readonly connections: readonly FakeLmntConnection[];
  readonly syntheses: readonly FakeLmntSynthesis[];
  /** Every client message's JSON (keys redacted), across connections, in arrival order. */
  messages(): unknown[];
  /** Spoils the next flushes, one each. */
  failSynthesis(...faults: FakeLmntFault[]): void;
  /** Destroys every open socket now, without a close frame. */
  dropConnections(): void;
  close(): Promise<void>;
}

/** The fake's speech for `text` as PCM16: a tone of its own timbre, so another fake's audio differs. */
export function fakeLmntSpeech(text: string, options: { sampleRate: number; voice: string; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * options.sampleRate) / 1000);
  return fakeVoiceTone(`${options.voice}#${text}`, count, options.sampleRate, {
    baseHz: 140, hzSpread: 150, amplitude: 8000, tremoloBase: 0.5, tremoloDepth: 0.5, tremoloHz: 3.5,
    rampStep: 17, rampPeriod: 71, rampOffset: 35,
  });
}

const redacted = (json: Record<string, unknown>): Record<string, unknown> => ('X-API-Key' in json ? { ...json, 'X-API-Key': '[redacted]' } : json);

class FakeLmntServer
  extends FakeWebSocketServer<FakeLmntConnection, { json?: unknown }, never, FakeLmntFault, Session>
  implements FakeLmnt
{
  readonly syntheses: FakeLmntSynthesis[] = [];

  constructor(readonly options: FakeLmntOptions) {
    super('LMNT', { error: { type: 'not_found_error', message: 'Not Found' } });
  }

  failSynthesis(...faults: FakeLmntFault[]): void {
    this.failGeneration(...faults);
  }

  protected override onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const connection: FakeLmntConnection = {
      index: this.connections.length,
      path: url.pathname,
      headers: recordHeaders(req, ['x-api-key', 'authorization']),
      auth: { present: false, valid: false },
      received: [],
    };
    this.connections.push(connection);
    if (url.pathname !== '/v1/ai/speech/stream') {
      return this.refuse(socket, connection, 404, { error: { type: 'not_found_error', message: `No route for ${url.pathname}` } });
    }
    this.accept(req, socket, head, connection, (ws) => new Session(this, ws, socket, connection));
  }
}

interface Settings {
  voice: string;
  encoding: FakeWireEncoding;
  sampleRate: number;
  timestamps: boolean;
}

/** One accepted socket: its settings once `init` came, its buffer, and the speech in flight. */
class Session extends FakeSpeechSession<FakeLmntConnection> {
  private settings: Settings | undefined;
  private buffer = '';
  private readonly requestId: string;

  constructor(
    private readonly fake: FakeLmntServer,
    ws: WebSocket,
    socket: Socket,
    connection: FakeLmntConnection,
  ) {
    super(ws, socket, connection, fake);
    this.requestId = `fake-${connection.index}`;
  }

  /** The error message, then close 1008. */
  private fail(type: FakeLmntErrorType, message: string): void {
    this.send({ type: 'error', error: { type, message }, request_id: this.requestId });
    if (this.open) this.closeByServer(1008, type);
  }

  protected override onMessage(data: RawData, isBinary: boolean): void {
    const json = this.parseJSON(data, isBinary);
    this.fake.record(this.connection, { json: isRecord(json) ? redacted(json) : json });
    if (!isRecord(json)) return this.fail('invalid_request_error', 'Messages must be JSON objects');
    if (this.settings === undefined) return this.init(json);
    switch (json.type) {
      case 'text':
        if (typeof json.text !== 'string') return this.fail('invalid_request_error', 'text must be a string');
        this.buffer += json.text;
        return;
      case 'flush':
        if (typeof json.nonce !== 'number') return this.fail('invalid_request_error', 'flush needs an integer nonce');
        return this.synthesize(json.nonce);
      case 'reset': {
        if (typeof json.nonce !== 'number') return this.fail('invalid_request_error', 'reset needs an integer nonce');
        this.buffer = '';
        this.generation += 1;
        const nonce = json.nonce;
        this.enqueue(() => this.send({ type: 'reset_complete', nonce }));
        return;
      }
      case 'finish':
        this.synthesize(undefined);
        return this.closeWhenSpoken();
      default:
        return this.fail('invalid_request_error', `Unknown message type: ${JSON.stringify(json.type)}`);
    }
  }

  private init(json: Record<string, unknown>): void {
    this.connection.init = redacted(json);
    const key = json['X-API-Key'];
    this.connection.auth = { present: typeof key === 'string' && key !== '', valid: typeof key === 'string' && isAcceptedKey(key, this.fake.options) };
    if (json.type !== 'init') return this.fail('invalid_request_error', 'The first message must be init');
    if (!this.connection.auth.valid) return this.fail('authentication_error', 'Invalid or missing API key');
    if (typeof json.voice !== 'string' || json.voice === '') return this.fail('invalid_request_error', 'voice is required');
    const format = json.format ?? 'mp3';
    if (format === 'mp3' || format === 'webm') return this.fail('invalid_request_error', `fake LMNT server: format ${format} is not emulated by this fake (the real API accepts it)`);
    const encoding = typeof format === 'string' ? FORMATS[format] : undefined;
    if (encoding === undefined) return this.fail('invalid_request_error', `Unsupported format: ${JSON.stringify(format)}`);
    const rate = json.sample_rate ?? 24000;
    if (typeof rate !== 'number' || !RATES.includes(rate)) return this.fail('invalid_request_error', `sample_rate must be one of ${RATES.join(', ')}`);
    if (json.language !== undefined && (typeof json.language !== 'string' || !FAKE_LMNT_LANGUAGES.includes(json.language))) {
      return this.fail('invalid_request_error', `Unsupported language: ${JSON.stringify(json.language)}`);
    }
    this.settings = { voice: json.voice, encoding, sampleRate: rate, timestamps: json.return_timestamps === true };
    this.send({ type: 'ready', request_id: this.requestId });
  }

  private synthesize(nonce: number | undefined): void {
    const text = this.buffer.trim();
    this.buffer = '';
    const record: FakeLmntSynthesis = { connection: this.connection.index, text, nonce, frames: 0 };
    if (text !== '') this.fake.syntheses.push(record);
    const fault = text === '' ? undefined : this.fake.takeGenerationFault(text);
    this.enqueue((generation) => this.speak(record, generation, fault));
  }

  private async speak(record: FakeLmntSynthesis, generation: number, fault: FakeLmntFault | undefined): Promise<void> {
    const settings = this.settings!;
    const current = (): boolean => this.isCurrent(generation);
    if (fault !== undefined && 'stall' in fault) {
      record.outcome = 'stalled';
      return;
    }
    if (fault !== undefined && 'error' in fault) {
      record.outcome = 'error';
      return this.fail(fault.error, fault.message ?? `Scripted ${fault.error}`);
    }
    const options = this.fake.options;
    const bytes = encodeSamples(fakeLmntSpeech(record.text, { sampleRate: settings.sampleRate, voice: settings.voice, msPerCharacter: options.msPerCharacter }), settings.encoding);
    const bytesPerSample = settings.encoding === 'f32le' ? 4 : settings.encoding === 'mulaw' ? 1 : 2;
    const step = Math.max(1, Math.round(((options.chunkMs ?? 40) * settings.sampleRate) / 1000)) * bytesPerSample;
    for (let at = 0; at < bytes.length; at += step) {
      if (!current()) {
        record.outcome ??= generation === this.generation ? 'dropped' : 'reset';
        return;
      }
      if (fault !== undefined && 'drop' in fault && record.frames >= (fault.afterChunks ?? 0)) {
        record.outcome = 'dropped';
        return this.drop();
      }
      this.ws.send(bytes.subarray(at, at + step), { binary: true });
      record.frames += 1;
      // Where LMNT puts the timestamps among the frames is not documented: here, after the first one.
      if (record.frames === 1 && settings.timestamps) this.send({ type: 'timestamps', timestamps: wordTimings(record.text, options.msPerCharacter ?? 60) });
      await pause(options.chunkDelayMs ?? 2);
    }
    if (!current()) {
      record.outcome ??= 'reset';
      return;
    }
    if (record.text !== '') record.outcome = 'completed';
    if (record.nonce !== undefined) this.send({ type: 'flush_complete', nonce: record.nonce });
  }
}

/** One entry per word: where its first character's audio starts, and how long its characters last. */
function wordTimings(text: string, msPerCharacter: number): { text: string; start: number; duration: number }[] {
  return [...text.matchAll(/\S+/g)].map((match) => ({
    text: match[0],
    start: (match.index * msPerCharacter) / 1000,
    duration: (match[0].length * msPerCharacter) / 1000,
  }));
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeLmnt(options: FakeLmntOptions = {}): Promise<FakeLmnt> {
  const fake = new FakeLmntServer(options);
  await fake.start();
  return fake;
}
