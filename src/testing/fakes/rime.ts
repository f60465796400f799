// A local stand-in for Rime's JSON text-to-speech WebSocket (`/ws3`), speaking the wire protocol over a real socket
// so that the production client is what gets tested. Facts: docs/vendors/rime.md.
//
// Handshake: `Authorization: Bearer <key>` (missing or refused: HTTP 401), the synthesis options as query
// parameters — `speaker` (required), `modelId` (coda, arcana, mistv2, mistv3, mist), `audioFormat` (pcm and mulaw
// emulated; mp3 refused as not emulated), `samplingRate`, `lang` (eng, spa, fra, ger, hin), `segment`.
// Messages: `{text, contextId?}` is appended to the buffer, and the buffer is synthesised as soon as it ends with
// `.`, `?` or `!`; `{"operation": "flush"}` synthesises whatever is buffered; `clear` drops the buffer and stops the
// synthesis in flight; `eos` synthesises the rest, then closes the socket 1000. A synthesis is tagged with the most
// recent contextId received before it started (Rime keeps one), and sends base64 `chunk`s, one `timestamps` after
// the first chunk (words, start and end in seconds from the synthesis's start), then `done`. A flush with nothing buffered sends
// nothing (whether Rime sends a `done` then is not documented). Scriptable failures: handshake errors, a socket
// destroyed mid-audio, an in-band `{"type": "error", "message"}`, a synthesis that never answers.
// Keys are never stored, only whether auth was present and valid.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { encodeSamples, fakeVoiceTone } from './audio.js';
import { bearerCredentials, isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { isRecord, pause, recordQuery } from './http.js';
import { recordHeaders } from './sse.js';
import { FakeSpeechSession, FakeWebSocketServer, type FakeHandshakeFault } from './websocket.js';

export const FAKE_RIME_MODELS: readonly string[] = ['coda', 'arcana', 'mistv2', 'mistv3', 'mist'];
export const FAKE_RIME_LANGUAGES: readonly string[] = ['eng', 'spa', 'fra', 'ger', 'hin'];
const RATES = [8000, 16000, 22050, 24000, 44100, 48000];

export interface FakeRimeOptions extends FakeKeyPolicy {
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per chunk message. Default 40 ms. */
  chunkMs?: number;
  /** Pause between two messages of a synthesis; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
}

export interface FakeRimeHandshakeFault extends FakeHandshakeFault {
  status: 400 | 401 | 403 | 429 | 500 | 503;
}

export type FakeRimeSynthesisFault =
  /** Destroys the socket (no close frame) after `afterChunks` audio messages (default 0). */
  | { drop: true; afterChunks?: number }
  /** Sends `{"type": "error", "message"}` instead of the synthesis. */
  | { error: string }
  /** Never answers (until the socket closes). */
  | { stall: true };

export interface FakeRimeConnection {
  readonly index: number;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Lower-case header names; `authorization` is replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: { readonly present: boolean; readonly valid: boolean };
  /** 101 when upgraded, else the HTTP status answered. */
  status?: number;
  readonly received: { readonly json?: unknown }[];
  close?: { readonly code: number; readonly reason: string; readonly by: 'client' | 'server' | 'dropped' };
}

export interface FakeRimeSynthesis {
  readonly connection: number;
  readonly text: string;
  readonly contextId: string | null;
  chunks: number;
  outcome?: 'done' | 'cleared' | 'dropped' | 'error' | 'stalled';
}

export interface FakeRime {
  /** e.g. `ws://127.0.0.1:54321`, to pass as the client's `baseUrl`. */
  readonly baseUrl: string;
  readonly connections: readonly FakeRimeConnection[];
  readonly syntheses: readonly FakeRimeSynthesis[];
  /** Every client message's JSON, across connections, in arrival order. */
  messages(): unknown[];
  failHandshake(...faults: FakeRimeHandshakeFault[]): void;
  failSynthesis(...faults: FakeRimeSynthesisFault[]): void;
  /** Destroys every open socket now, without a close frame. */
  dropConnections(): void;
  close(): Promise<void>;
}

/** The fake's speech for `text` as PCM16: a tone of its own timbre, so another fake's audio differs. */
export function fakeRimeSpeech(text: string, options: { sampleRate: number; speaker: string; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * options.sampleRate) / 1000);
  return fakeVoiceTone(`${options.speaker}/${text}`, count, options.sampleRate, {
    baseHz: 150, hzSpread: 130, amplitude: 7500, tremoloBase: 0.55, tremoloDepth: 0.45, tremoloHz: 3,
    rampStep: 13, rampPeriod: 61, rampOffset: 30,
  });
}

class FakeRimeServer
  extends FakeWebSocketServer<FakeRimeConnection, { json?: unknown }, FakeRimeHandshakeFault, FakeRimeSynthesisFault, Session>
  implements FakeRime
{
  readonly syntheses: FakeRimeSynthesis[] = [];

  constructor(readonly options: FakeRimeOptions) {
    super('Rime', { message: 'Not Found' });
  }

  failSynthesis(...faults: FakeRimeSynthesisFault[]): void {
    this.failGeneration(...faults);
  }

  protected override onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const header = req.headers.authorization;
    const key = header === undefined ? undefined : bearerCredentials(header);
    const connection: FakeRimeConnection = {
      index: this.connections.length,
      path: url.pathname,
      query: recordQuery(url.searchParams, []),
      headers: recordHeaders(req, ['authorization']),
      auth: { present: key !== undefined, valid: isAcceptedKey(key, this.options) },
      received: [],
    };
    if (!this.admit(socket, connection, '/ws3', 'Unauthorized: invalid or missing API key', (_status, message) => ({ message }))) return;
    const problem = this.checkQuery(connection.query);
    if (problem !== undefined) return this.refuse(socket, connection, 400, { message: problem });
    this.accept(req, socket, head, connection, (ws) => new Session(this, ws, socket, connection));
  }

  private checkQuery(query: Readonly<Record<string, string>>): string | undefined {
    if (query.speaker === undefined || query.speaker === '') return 'speaker is required';
    if (!FAKE_RIME_MODELS.includes(query.modelId ?? 'coda')) return `Unknown modelId: ${query.modelId}`;
    const format = query.audioFormat ?? 'mp3';
    if (format === 'mp3') return 'fake Rime server: audioFormat mp3 is not emulated by this fake (the real API accepts it)';
    if (format !== 'pcm' && format !== 'mulaw') return `Unsupported audioFormat: ${format}`;
    if (query.samplingRate !== undefined && !RATES.includes(Number(query.samplingRate))) return `Unsupported samplingRate: ${query.samplingRate}`;
    if (format === 'mulaw' && query.samplingRate !== undefined && query.samplingRate !== '8000') return 'mulaw is 8000 Hz only';
    if (query.lang !== undefined && !FAKE_RIME_LANGUAGES.includes(query.lang)) return `Unsupported lang: ${query.lang}`;
    if (query.segment !== undefined && !['immediate', 'bySentence', 'never'].includes(query.segment)) return `Unsupported segment: ${query.segment}`;
    return undefined;
  }
}

/** One accepted socket: its buffer, its latest context id, and the synthesis in flight. */
class Session extends FakeSpeechSession<FakeRimeConnection> {
  private buffer = '';
  private contextId: string | null = null;

  constructor(
    private readonly fake: FakeRimeServer,
    ws: WebSocket,
    socket: Socket,
    connection: FakeRimeConnection,
  ) {
    super(ws, socket, connection, fake);
  }

  protected override onMessage(data: RawData, isBinary: boolean): void {
    const json = this.parseJSON(data, isBinary);
    this.fake.record(this.connection, { json });
    if (!isRecord(json)) return this.send({ type: 'error', message: 'Invalid message: expected a JSON object' });
    if (typeof json.text === 'string') {
      if (typeof json.contextId === 'string') this.contextId = json.contextId;
      this.buffer += json.text;
      if (/[.?!]\s*$/.test(this.buffer)) this.synthesizeBuffer();
      return;
    }
    switch (json.operation) {
      case 'flush':
        return this.synthesizeBuffer();
      case 'clear':
        this.buffer = '';
        this.generation += 1;
        return;
      case 'eos':
        this.synthesizeBuffer();
        return this.closeWhenSpoken();
      default:
        return this.send({ type: 'error', message: `Unknown message: ${JSON.stringify(json)}` });
    }
  }

  private synthesizeBuffer(): void {
    const text = this.buffer.trim();
    this.buffer = '';
    if (text === '') return;
    const record: FakeRimeSynthesis = { connection: this.connection.index, text, contextId: this.contextId, chunks: 0 };
    this.fake.syntheses.push(record);
    const fault = this.fake.takeGenerationFault(text);
    this.enqueue((generation) => this.speak(record, generation, fault));
  }

  private async speak(record: FakeRimeSynthesis, generation: number, fault: FakeRimeSynthesisFault | undefined): Promise<void> {
    const current = (): boolean => this.isCurrent(generation);
    if (fault !== undefined && 'stall' in fault) {
      record.outcome = 'stalled';
      return;
    }
    if (fault !== undefined && 'error' in fault) {
      record.outcome = 'error';
      return this.send({ type: 'error', message: fault.error });
    }
    const query = this.connection.query;
    const rate = Number(query.samplingRate ?? 24000);
    const options = this.fake.options;
    const samples = fakeRimeSpeech(record.text, { sampleRate: rate, speaker: query.speaker ?? '', msPerCharacter: options.msPerCharacter });
    const bytes = encodeSamples(samples, query.audioFormat === 'mulaw' ? 'mulaw' : 's16le');
    const bytesPerSample = query.audioFormat === 'mulaw' ? 1 : 2;
    const step = Math.max(1, Math.round(((options.chunkMs ?? 40) * rate) / 1000)) * bytesPerSample;
    const tag = { contextId: record.contextId };
    for (let at = 0; at < bytes.length; at += step) {
      if (!current()) {
        record.outcome ??= generation === this.generation ? 'dropped' : 'cleared';
        return;
      }
      if (fault !== undefined && 'drop' in fault && record.chunks >= (fault.afterChunks ?? 0)) {
        record.outcome = 'dropped';
        return this.drop();
      }
      this.send({ type: 'chunk', data: Buffer.from(bytes.subarray(at, at + step)).toString('base64'), ...tag });
      record.chunks += 1;
      // Where Rime puts the timestamps among the chunks is not documented: here, after the first one.
      if (record.chunks === 1) this.send({ type: 'timestamps', word_timestamps: wordTimings(record.text, options.msPerCharacter ?? 60), ...tag });
      await pause(options.chunkDelayMs ?? 2);
    }
    if (!current()) {
      record.outcome ??= 'cleared';
      return;
    }
    this.send({ type: 'done', ...tag });
    record.outcome = 'done';
  }
}

/** Each word starts where its first character's audio does (the speech is `msPerCharacter` per character). */
function wordTimings(text: string, msPerCharacter: number): { words: string[]; start: number[]; end: number[] } {
  const words: string[] = [];
  const start: number[] = [];
  const end: number[] = [];
  for (const match of text.matchAll(/\S+/g)) {
    words.push(match[0]);
    start.push((match.index * msPerCharacter) / 1000);
    end.push(((match.index + match[0].length) * msPerCharacter) / 1000);
  }
  return { words, start, end };
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeRime(options: FakeRimeOptions = {}): Promise<FakeRime> {
  const fake = new FakeRimeServer(options);
  await fake.start();
  return fake;
}
