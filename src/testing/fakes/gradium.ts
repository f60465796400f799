// A local stand-in for Gradium's text-to-speech WebSocket (`/api/speech/tts`), speaking the wire protocol over a real
// socket so that the production client is what gets tested. Facts: docs/vendors/gradium.md.
//
// Handshake: the `x-api-key` header (missing or refused: HTTP 401; how Gradium refuses a key is not documented
// beyond "1008 policy violation", so the fake takes the handshake route every client reports as `auth`). Messages
// are JSON text frames. Requests are multiplexed by `client_req_id` (absent: one unnamed request). Each request
// begins with `setup` (`voice_id` required; `output_format` pcm (48 kHz), pcm_8000, pcm_16000, pcm_24000 emulated;
// wav, opus, ulaw_8000, alaw_8000 refused as not emulated; `model_name` default 'default'), answered by `ready`;
// its `text` messages are buffered; its `end_of_stream` has it synthesised: base64 `audio` chunks, one `text`
// timing per word (`start_s`, `stop_s`, from the request's start) after the first chunk, then `end_of_stream`, and
// the socket is closed unless the setup said `close_ws_on_eos: false`. Requests are said one after another. Any
// error is `{type: "error", message, code}` (1008 for a bad message, 1011 for a scripted server failure), then the
// socket closes with that code. There is no cancel. Scriptable failures: handshake statuses, an in-band error, a
// socket destroyed mid-audio, a synthesis that never answers. Keys are never stored.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { encodeSamples, fakeVoiceTone } from './audio.js';
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { isRecord, pause } from './http.js';
import { recordHeaders } from './sse.js';
import { FakeSpeechSession, FakeWebSocketServer, type FakeHandshakeFault } from './websocket.js';

/** The output formats the fake makes, with their rates. */
const FORMATS: Readonly<Record<string, number>> = { pcm: 48000, pcm_8000: 8000, pcm_16000: 16000, pcm_24000: 24000 };
const NOT_EMULATED = ['wav', 'opus', 'ulaw_8000', 'alaw_8000'];

export interface FakeGradiumOptions extends FakeKeyPolicy {
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per `audio` message. Default 80 ms (Gradium's chunk). */
  chunkMs?: number;
  /** Pause between two messages of a synthesis; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
}

export interface FakeGradiumHandshakeFault extends FakeHandshakeFault {
  status: 400 | 401 | 403 | 429 | 500 | 503;
}

export type FakeGradiumSynthesisFault =
  /** Destroys the socket (no close frame) after `afterChunks` audio messages (default 0). */
  | { drop: true; afterChunks?: number }
  /** Sends `{type: "error", message, code}` (default code 1011) and closes the socket. */
  | { error: string; code?: number }
  /** Never answers (until the socket closes). */
  | { stall: true };

export interface FakeGradiumConnection {
  readonly index: number;
  readonly path: string;
  /** Lower-case header names; `x-api-key` is replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: { readonly present: boolean; readonly valid: boolean };
  /** 101 when upgraded, else the HTTP status answered. */
  status?: number;
  readonly received: { readonly json?: unknown }[];
  close?: { readonly code: number; readonly reason: string; readonly by: 'client' | 'server' | 'dropped' };
}

export interface FakeGradiumSynthesis {
  readonly connection: number;
  readonly clientReqId: string | undefined;
  /** The request's setup as received. */
  readonly setup: Readonly<Record<string, unknown>>;
  readonly text: string;
  chunks: number;
  outcome?: 'completed' | 'dropped' | 'error' | 'stalled';
}

export interface FakeGradium {
  /** e.g. `ws://127.0.0.1:54321`, to pass as the client's `baseUrl`. */
  readonly baseUrl: string;
  readonly connections: readonly FakeGradiumConnection[];
  readonly syntheses: readonly FakeGradiumSynthesis[];
  /** Every client message's JSON, across connections, in arrival order. */
  messages(): unknown[];
  failHandshake(...faults: FakeGradiumHandshakeFault[]): void;
  failSynthesis(...faults: FakeGradiumSynthesisFault[]): void;
  /** Destroys every open socket now, without a close frame. */
  dropConnections(): void;
  close(): Promise<void>;
}

/** The fake's speech for `text` as PCM16: a tone of its own timbre, so another fake's audio differs. */
export function fakeGradiumSpeech(text: string, options: { sampleRate: number; voice: string; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * options.sampleRate) / 1000);
  return fakeVoiceTone(`${options.voice}#${text}`, count, options.sampleRate, {
    baseHz: 160, hzSpread: 120, amplitude: 7200, tremoloBase: 0.65, tremoloDepth: 0.35, tremoloHz: 5,
    rampStep: 9, rampPeriod: 47, rampOffset: 22,
  });
}

class FakeGradiumServer
  extends FakeWebSocketServer<FakeGradiumConnection, { json?: unknown }, FakeGradiumHandshakeFault, FakeGradiumSynthesisFault, Session>
  implements FakeGradium
{
  readonly syntheses: FakeGradiumSynthesis[] = [];

  constructor(readonly options: FakeGradiumOptions) {
    super('Gradium', { message: 'Not Found' });
  }

  failSynthesis(...faults: FakeGradiumSynthesisFault[]): void {
    this.failGeneration(...faults);
  }

  protected override onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const header = req.headers['x-api-key'];
    const key = typeof header === 'string' && header !== '' ? header : undefined;
    const connection: FakeGradiumConnection = {
      index: this.connections.length,
      path: url.pathname,
      headers: recordHeaders(req, ['x-api-key']),
      auth: { present: key !== undefined, valid: isAcceptedKey(key, this.options) },
      received: [],
    };
    if (!this.admit(socket, connection, '/api/speech/tts', 'Invalid API key', (_status, message) => ({ message }))) return;
    this.accept(req, socket, head, connection, (ws) => new Session(this, ws, socket, connection));
  }
}

interface Request {
  readonly setup: Record<string, unknown>;
  readonly rate: number;
  readonly voice: string;
  readonly closeOnEnd: boolean;
  text: string;
}

/** One accepted socket: its requests by `client_req_id`, said one after another. */
class Session extends FakeSpeechSession<FakeGradiumConnection> {
  private readonly requests = new Map<string, Request>();

  constructor(
    private readonly fake: FakeGradiumServer,
    ws: WebSocket,
    socket: Socket,
    connection: FakeGradiumConnection,
  ) {
    super(ws, socket, connection, fake);
  }

  /** Gradium's error: the message, then the socket closes with the code. */
  private fail(message: string, code = 1008): void {
    this.send({ type: 'error', message, code });
    this.closeByServer(code, 'error');
  }

  protected override onMessage(data: RawData, isBinary: boolean): void {
    const json = this.parseJSON(data, isBinary);
    this.fake.record(this.connection, { json });
    if (!isRecord(json)) return this.fail('Invalid message: expected a JSON object');
    const id = typeof json.client_req_id === 'string' ? json.client_req_id : '';
    const request = this.requests.get(id);
    if (json.type === 'setup') return request === undefined ? this.setup(id, json) : this.fail(`Request ${JSON.stringify(id)} was already set up`);
    if (request === undefined) return this.fail('The setup message must come first');
    switch (json.type) {
      case 'text':
        if (typeof json.text !== 'string') return this.fail('text must be a string');
        request.text += json.text;
        return;
      case 'end_of_stream':
        this.requests.delete(id);
        return this.synthesize(id, request);
      default:
        return this.fail(`Unknown message type: ${JSON.stringify(json.type)}`);
    }
  }

  private setup(id: string, json: Record<string, unknown>): void {
    if (typeof json.voice_id !== 'string' || json.voice_id === '') return this.fail('voice_id is required');
    const format = json.output_format;
    if (typeof format === 'string' && NOT_EMULATED.includes(format)) return this.fail(`fake Gradium server: output_format ${format} is not emulated by this fake (the real API accepts it)`);
    const rate = typeof format === 'string' ? FORMATS[format] : undefined;
    if (rate === undefined) return this.fail(`Unsupported output_format: ${JSON.stringify(format)}`);
    if (json.model_name !== undefined && typeof json.model_name !== 'string') return this.fail('model_name must be a string');
    this.requests.set(id, { setup: json, rate, voice: json.voice_id, closeOnEnd: json.close_ws_on_eos !== false, text: '' });
    this.send({ type: 'ready', request_id: `fake-${this.connection.index}-${this.requests.size}`, ...(id === '' ? {} : { client_req_id: id }) });
  }

  private synthesize(id: string, request: Request): void {
    const record: FakeGradiumSynthesis = { connection: this.connection.index, clientReqId: id === '' ? undefined : id, setup: request.setup, text: request.text.trim(), chunks: 0 };
    this.fake.syntheses.push(record);
    const fault = this.fake.takeGenerationFault(record.text);
    this.enqueue((generation) => this.speak(record, request, generation, fault));
  }

  private async speak(record: FakeGradiumSynthesis, request: Request, generation: number, fault: FakeGradiumSynthesisFault | undefined): Promise<void> {
    const tag = record.clientReqId === undefined ? {} : { client_req_id: record.clientReqId };
    if (fault !== undefined && 'stall' in fault) {
      record.outcome = 'stalled';
      // Nothing more is said on this socket: later requests wait behind one that never ends.
      return new Promise<void>(() => undefined);
    }
    if (fault !== undefined && 'error' in fault) {
      record.outcome = 'error';
      this.generation += 1;
      this.send({ type: 'error', message: fault.error, code: fault.code ?? 1011, ...tag });
      return this.closeByServer(fault.code ?? 1011, 'error');
    }
    const options = this.fake.options;
    const msPerCharacter = options.msPerCharacter ?? 60;
    const bytes = encodeSamples(fakeGradiumSpeech(record.text, { sampleRate: request.rate, voice: request.voice, msPerCharacter }), 's16le');
    const step = Math.max(1, Math.round(((options.chunkMs ?? 80) * request.rate) / 1000)) * 2;
    for (let at = 0; at < bytes.length; at += step) {
      if (!this.isCurrent(generation)) return;
      if (fault !== undefined && 'drop' in fault && record.chunks >= (fault.afterChunks ?? 0)) {
        record.outcome = 'dropped';
        return this.drop();
      }
      this.send({ type: 'audio', audio: Buffer.from(bytes.subarray(at, at + step)).toString('base64'), ...tag });
      record.chunks += 1;
      // Where Gradium puts its timings among the audio is not documented: here, after the first chunk.
      if (record.chunks === 1) for (const word of wordTimings(record.text, msPerCharacter)) this.send({ type: 'text', ...word, ...tag });
      await pause(options.chunkDelayMs ?? 2);
    }
    if (!this.isCurrent(generation)) return;
    this.send({ type: 'end_of_stream', ...tag });
    record.outcome = 'completed';
    if (request.closeOnEnd) this.closeByServer(1000);
  }
}

/** Each word starts where its first character's audio does (the speech is `msPerCharacter` per character). */
function wordTimings(text: string, msPerCharacter: number): { text: string; start_s: number; stop_s: number }[] {
  return [...text.matchAll(/\S+/g)].map((match) => ({
    text: match[0],
    start_s: (match.index * msPerCharacter) / 1000,
    stop_s: ((match.index + match[0].length) * msPerCharacter) / 1000,
  }));
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeGradium(options: FakeGradiumOptions = {}): Promise<FakeGradium> {
  const fake = new FakeGradiumServer(options);
  await fake.start();
  return fake;
}
