// A local stand-in for Fish Audio's live WebSocket (`/v1/tts/live`), speaking the wire protocol over a real socket
// so that the production client is what gets tested. Facts: docs/vendors/fish.md.
//
// Handshake: `Authorization: Bearer <key>` (missing or refused: HTTP 401) and the `model` header (s1, s2-pro, and
// the older speech-1.5, speech-1.6; this fake refuses a handshake without one, which the current reference
// requires). Every message is MessagePack in a binary frame; a text frame or bytes that do not decode end the
// session. The first message must be `start` with `request`: `format` (pcm emulated; mp3, wav and opus refused as
// not emulated), `sample_rate` (8000, 16000, 24000, 32000, 44100; default 44100), `latency` (normal, balanced),
// `reference_id`, `prosody.speed` (0.5 to 2). Then: `text` is buffered; `flush` synthesises the buffer; `stop`
// synthesises the rest, sends `finish` (reason `stop`), then closes 1000. Audio comes as `{event: "audio", audio:
// <bytes>}`. A session that fails sends `{event: "error", error}` (with `max_concurrency` for the concurrency
// limit), then `finish` with reason `error`, then closes. Scriptable failures: handshake statuses, an in-band error,
// a socket destroyed mid-audio, a synthesis that never answers. Keys are never stored.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { packMessage, unpackMessage, type PackValue } from '../../services/fish/msgpack.js';
import { encodeSamples, fakeVoiceTone } from './audio.js';
import { bearerCredentials, isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { isRecord, pause } from './http.js';
import { recordHeaders } from './sse.js';
import { FakeSpeechSession, FakeWebSocketServer, frameBytes, type FakeHandshakeFault } from './websocket.js';

export const FAKE_FISH_MODELS: readonly string[] = ['s1', 's2-pro', 'speech-1.5', 'speech-1.6'];
const RATES = [8000, 16000, 24000, 32000, 44100];

export interface FakeFishOptions extends FakeKeyPolicy {
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per `audio` event. Default 40 ms. */
  chunkMs?: number;
  /** Pause between two events of a synthesis; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
}

export interface FakeFishHandshakeFault extends FakeHandshakeFault {
  status: 400 | 401 | 402 | 403 | 429 | 500 | 503;
}

export type FakeFishSynthesisFault =
  /** Destroys the socket (no close frame) after `afterChunks` audio events (default 0). */
  | { drop: true; afterChunks?: number }
  /** Ends the session with an in-band error (`maxConcurrency` makes it the concurrency limit's). */
  | { error: string; maxConcurrency?: number }
  /** Never answers (until the socket closes). */
  | { stall: true };

export interface FakeFishConnection {
  readonly index: number;
  readonly path: string;
  /** Lower-case header names; `authorization` is replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: { readonly present: boolean; readonly valid: boolean };
  /** The `start` event's request, once received. */
  start?: Readonly<Record<string, unknown>>;
  /** 101 when upgraded, else the HTTP status answered. */
  status?: number;
  /** Each client message, decoded (`json` holds the decoded MessagePack, binary fields as byte counts). */
  readonly received: { readonly json?: unknown }[];
  close?: { readonly code: number; readonly reason: string; readonly by: 'client' | 'server' | 'dropped' };
}

export interface FakeFishSynthesis {
  readonly connection: number;
  readonly text: string;
  chunks: number;
  outcome?: 'completed' | 'dropped' | 'error' | 'stalled' | 'cut';
}

export interface FakeFish {
  /** e.g. `ws://127.0.0.1:54321`, to pass as the client's `baseUrl`. */
  readonly baseUrl: string;
  readonly connections: readonly FakeFishConnection[];
  readonly syntheses: readonly FakeFishSynthesis[];
  /** Every client message, decoded, across connections, in arrival order. */
  messages(): unknown[];
  failHandshake(...faults: FakeFishHandshakeFault[]): void;
  failSynthesis(...faults: FakeFishSynthesisFault[]): void;
  /** Destroys every open socket now, without a close frame. */
  dropConnections(): void;
  close(): Promise<void>;
}

/** The fake's speech for `text` as PCM16: a tone of its own timbre, so another fake's audio differs. */
export function fakeFishSpeech(text: string, options: { sampleRate: number; voice: string; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * options.sampleRate) / 1000);
  return fakeVoiceTone(`${options.voice}~${text}`, count, options.sampleRate, {
    baseHz: 135, hzSpread: 140, amplitude: 7800, tremoloBase: 0.6, tremoloDepth: 0.4, tremoloHz: 4,
    rampStep: 11, rampPeriod: 53, rampOffset: 26,
  });
}

class FakeFishServer
  extends FakeWebSocketServer<FakeFishConnection, { json?: unknown }, FakeFishHandshakeFault, FakeFishSynthesisFault, Session>
  implements FakeFish
{
  readonly syntheses: FakeFishSynthesis[] = [];

  constructor(readonly options: FakeFishOptions) {
    super('Fish Audio', { status: 404, message: 'Not Found' });
  }

  failSynthesis(...faults: FakeFishSynthesisFault[]): void {
    this.failGeneration(...faults);
  }

  protected override onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const header = req.headers.authorization;
    const key = header === undefined ? undefined : bearerCredentials(header);
    const connection: FakeFishConnection = {
      index: this.connections.length,
      path: url.pathname,
      headers: recordHeaders(req, ['authorization']),
      auth: { present: key !== undefined, valid: isAcceptedKey(key, this.options) },
      received: [],
    };
    if (!this.admit(socket, connection, '/v1/tts/live', 'Invalid api key', (status, message) => ({ status, message }))) return;
    const model = req.headers.model;
    if (typeof model !== 'string' || !FAKE_FISH_MODELS.includes(model)) {
      return this.refuse(socket, connection, 400, { status: 400, message: `model header must be one of ${FAKE_FISH_MODELS.join(', ')}` });
    }
    this.accept(req, socket, head, connection, (ws) => new Session(this, ws, socket, connection));
  }
}

/** Binary fields recorded by their size: a test compares messages, not audio bytes. */
function recordable(value: PackValue): unknown {
  if (value instanceof Uint8Array) return { bytes: value.length };
  if (Array.isArray(value)) return value.map((item: PackValue) => recordable(item));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, recordable(v as PackValue)]));
  return value;
}

interface Settings {
  voice: string;
  sampleRate: number;
}

/** One accepted socket: its settings once `start` came, its buffer, and the synthesis in flight. */
class Session extends FakeSpeechSession<FakeFishConnection> {
  private settings: Settings | undefined;
  private buffer = '';
  private stopped = false;

  constructor(
    private readonly fake: FakeFishServer,
    ws: WebSocket,
    socket: Socket,
    connection: FakeFishConnection,
  ) {
    super(ws, socket, connection, fake);
  }

  private sendPacked(message: PackValue): void {
    if (this.open) this.ws.send(packMessage(message), { binary: true });
  }

  /** The session fails: the error, `finish` with reason `error`, and the close. */
  private fail(error: string, extra: Record<string, PackValue> = {}): void {
    this.sendPacked({ event: 'error', error, ...extra });
    this.sendPacked({ event: 'finish', reason: 'error' });
    this.closeByServer(1008, 'error');
  }

  protected override onMessage(data: RawData, isBinary: boolean): void {
    let message: PackValue | undefined;
    try {
      message = isBinary ? unpackMessage(frameBytes(data)) : undefined;
    } catch {
      message = undefined;
    }
    this.fake.record(this.connection, { json: message === undefined ? undefined : recordable(message) });
    if (!isRecord(message)) return this.fail('Messages must be MessagePack maps in binary frames');
    if (this.stopped) return this.fail('The session was stopped');
    if (this.settings === undefined) return this.start(message);
    switch (message.event) {
      case 'text':
        if (typeof message.text !== 'string') return this.fail('text must be a string');
        this.buffer += message.text;
        return;
      case 'flush':
        return this.synthesize();
      case 'stop':
        this.stopped = true;
        this.synthesize();
        this.enqueue((generation) => {
          if (!this.isCurrent(generation)) return;
          this.sendPacked({ event: 'finish', reason: 'stop' });
          this.closeByServer(1000);
        });
        return;
      default:
        return this.fail(`Unknown event: ${JSON.stringify(message.event)}`);
    }
  }

  private start(message: Record<string, unknown>): void {
    if (message.event !== 'start') return this.fail('The first event must be start');
    const request = message.request;
    if (!isRecord(request)) return this.fail('start needs a request');
    this.connection.start = recordable(request as PackValue) as Record<string, unknown>;
    const format = request.format ?? 'mp3';
    if (format === 'mp3' || format === 'wav' || format === 'opus') return this.fail(`fake Fish Audio server: format ${format} is not emulated by this fake (the real API accepts it)`);
    if (format !== 'pcm') return this.fail(`Unsupported format: ${JSON.stringify(format)}`);
    const rate = request.sample_rate ?? 44100;
    if (typeof rate !== 'number' || !RATES.includes(rate)) return this.fail(`sample_rate must be one of ${RATES.join(', ')} for pcm`);
    if (request.latency !== undefined && request.latency !== 'normal' && request.latency !== 'balanced') return this.fail(`Unsupported latency: ${JSON.stringify(request.latency)}`);
    const speed = isRecord(request.prosody) ? request.prosody.speed : undefined;
    if (speed !== undefined && speed !== null && (typeof speed !== 'number' || speed < 0.5 || speed > 2)) return this.fail('prosody.speed must be between 0.5 and 2');
    const voice = typeof request.reference_id === 'string' ? request.reference_id : 'default';
    this.settings = { voice, sampleRate: rate };
  }

  private synthesize(): void {
    const text = this.buffer.trim();
    this.buffer = '';
    if (text === '') return;
    const record: FakeFishSynthesis = { connection: this.connection.index, text, chunks: 0 };
    this.fake.syntheses.push(record);
    const fault = this.fake.takeGenerationFault(text);
    this.enqueue((generation) => this.speak(record, generation, fault));
  }

  private async speak(record: FakeFishSynthesis, generation: number, fault: FakeFishSynthesisFault | undefined): Promise<void> {
    const settings = this.settings!;
    if (fault !== undefined && 'stall' in fault) {
      record.outcome = 'stalled';
      // Nothing more is said on this socket: later events wait behind a synthesis that never ends.
      return new Promise<void>(() => undefined);
    }
    if (fault !== undefined && 'error' in fault) {
      record.outcome = 'error';
      this.generation += 1;
      return this.fail(fault.error, fault.maxConcurrency === undefined ? {} : { max_concurrency: fault.maxConcurrency });
    }
    const options = this.fake.options;
    const bytes = encodeSamples(fakeFishSpeech(record.text, { sampleRate: settings.sampleRate, voice: settings.voice, msPerCharacter: options.msPerCharacter }), 's16le');
    const step = Math.max(1, Math.round(((options.chunkMs ?? 40) * settings.sampleRate) / 1000)) * 2;
    for (let at = 0; at < bytes.length; at += step) {
      if (!this.isCurrent(generation)) {
        record.outcome ??= 'cut';
        return;
      }
      if (fault !== undefined && 'drop' in fault && record.chunks >= (fault.afterChunks ?? 0)) {
        record.outcome = 'dropped';
        return this.drop();
      }
      this.sendPacked({ event: 'audio', audio: bytes.subarray(at, at + step) });
      record.chunks += 1;
      await pause(options.chunkDelayMs ?? 2);
    }
    if (this.isCurrent(generation)) record.outcome = 'completed';
  }
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeFish(options: FakeFishOptions = {}): Promise<FakeFish> {
  const fake = new FakeFishServer(options);
  await fake.start();
  return fake;
}
