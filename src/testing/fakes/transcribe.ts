// A local stand-in for Amazon Transcribe streaming over a WebSocket (`/stream-transcription-websocket`), speaking its
// protocol over a real socket so that the production client is what gets tested. Facts: docs/vendors/aws.md.
//
// The handshake is a presigned URL, checked as AWS does (aws-auth.ts: the signature recomputed with the key's
// secret over the query and `host`, X-Amz-Expires of at most 300 s, an expired session token refused): a refusal is
// an HTTP 403 with `x-amzn-ErrorType`. The query is validated (`language-code` among the streaming languages, or
// `identify-language` with two or more `language-options`; `media-encoding` pcm / ogg-opus / flac; `sample-rate`
// 8000 to 48000), refused with 400 `BadRequestException`. Audio comes as event-stream `AudioEvent` messages (headers
// checked; at most 32 KB of PCM each); a text frame or a malformed message is an `exception` message and a close.
// Results follow the audio received (speech-tracker.ts): partial `TranscriptEvent`s while speech goes on, the final
// one after `endpointingMs` of silence or at the empty AudioEvent that ends the stream, after which the server
// closes (1000). Faults on the next handshakes: 429 `LimitExceededException`, 500 `InternalFailureException`.
// No new audio for 15 s ends the stream with a `BadRequestException`, as Transcribe does. Keys are never stored.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { decodeEventStreamMessage, encodeEventStreamMessage, EventStreamError, stringHeader } from '../../services/aws/event-stream.js';
import { verifyAwsPresignedUrl } from './aws-auth.js';
import type { FakeKeyPolicy } from './auth.js';
import { SpeechTracker, UtteranceQueue, type TrackedWord } from './speech-tracker.js';
import { FakeSocketSession, FakeWebSocketServer, frameBytes, type FakeSocketClose, type RecordedConnection, type RecordedFrame } from './websocket.js';

export type FakeTranscribeFault = 429 | 500;

export interface FakeTranscribeOptions extends FakeKeyPolicy {
  /** The secret every accepted access key id signs with. Default 'fake-transcribe-secret'. */
  secretAccessKey?: string;
  /** A session token refused as expired. */
  expiredSessionToken?: string;
  speechThreshold?: number;
  msPerWord?: number;
  /** Audio time between two partial results while speech goes on. Default 300 ms. */
  interimIntervalMs?: number;
  /** Silence after which the open result is made final. Default 250 ms. */
  endpointingMs?: number;
  defaultTranscript?: string;
  /** No audio for this long (real time) ends the stream with a BadRequestException. Default 15 000 ms. */
  idleTimeoutMs?: number;
}

export interface FakeTranscribeConnection extends RecordedConnection<RecordedFrame> {
  /** The handshake's query without the X-Amz-* signing parameters. */
  readonly query: Readonly<Record<string, string>>;
  status?: number;
  errorType?: string;
  /** Audio bytes received, and AudioEvent messages. */
  audioBytes: number;
  audioEvents: number;
  /** The results sent, in order. */
  readonly results: { text: string; partial: boolean }[];
  /** Exception types sent. */
  readonly exceptions: string[];
  close?: FakeSocketClose;
}

export interface FakeTranscribe {
  /** `ws://127.0.0.1:<port>`: the client's `baseUrl`. */
  readonly baseUrl: string;
  readonly connections: readonly FakeTranscribeConnection[];
  scriptTranscripts(...texts: string[]): void;
  failNextConnections(fault: FakeTranscribeFault, count?: number): void;
  /** Cuts every open socket now, without a close frame. */
  dropConnections(): void;
  openSockets(): number;
  close(): Promise<void>;
}

/** Streaming languages (a subset of AWS's table, Indian languages included). */
const LANGUAGES = new Set(['en-US', 'en-GB', 'en-AU', 'en-IN', 'hi-IN', 'es-US', 'es-ES', 'fr-FR', 'fr-CA', 'de-DE', 'it-IT', 'pt-BR', 'ja-JP', 'ko-KR', 'zh-CN', 'ar-SA', 'th-TH']);
const ENCODINGS = new Set(['pcm', 'ogg-opus', 'flac']);
const MAX_AUDIO_EVENT_BYTES = 32 * 1024;

/** What in the query Transcribe would refuse, or undefined. */
function invalidQuery(query: Readonly<Record<string, string>>): string | undefined {
  if (query['identify-language'] === 'true') {
    const options = (query['language-options'] ?? '').split(',').filter((l) => l !== '');
    if (options.length < 2) return 'To use language identification, you must specify at least two language options.';
    const unknown = options.find((l) => !LANGUAGES.has(l));
    if (unknown !== undefined) return `The language option ${unknown} isn't supported for streaming.`;
  } else if (!LANGUAGES.has(query['language-code'] ?? '')) {
    return `1 validation error detected: Value '${query['language-code'] ?? 'null'}' at 'languageCode' failed to satisfy constraint: Member must satisfy enum value set`;
  }
  if (!ENCODINGS.has(query['media-encoding'] ?? '')) return `1 validation error detected: Value '${query['media-encoding'] ?? 'null'}' at 'mediaEncoding' failed to satisfy constraint: Member must satisfy enum value set: [ogg-opus, flac, pcm]`;
  const rate = Number(query['sample-rate']);
  if (!Number.isInteger(rate) || rate < 8000 || rate > 48000) return `1 validation error detected: Value '${query['sample-rate'] ?? 'null'}' at 'mediaSampleRateHertz' failed to satisfy constraint: Member must have value between 8000 and 48000`;
  return undefined;
}

class Session extends FakeSocketSession<FakeTranscribeConnection> {
  private readonly tracker: SpeechTracker;
  private lastInterimAt = 0;
  private resultId = randomUUID();
  private ended = false;
  private idle: NodeJS.Timeout | undefined;

  constructor(
    ws: WebSocket,
    socket: Socket,
    connection: FakeTranscribeConnection,
    server: { forget(session: FakeSocketSession<FakeTranscribeConnection>): void },
    queue: UtteranceQueue,
    private readonly options: FakeTranscribeOptions,
  ) {
    super(ws, socket, connection, server);
    const sampleRate = Number(connection.query['sample-rate']);
    this.tracker = new SpeechTracker(queue, { sampleRate, speechThreshold: options.speechThreshold, msPerWord: options.msPerWord, defaultTranscript: options.defaultTranscript });
    this.armIdle();
  }

  protected override endAll(): void {
    clearTimeout(this.idle);
    if (!this.ended) this.tracker.abandon();
    this.ended = true;
  }

  protected override onMessage(data: RawData, isBinary: boolean): void {
    if (this.ended) return;
    this.connection.received.push({});
    if (!isBinary) return this.exception('BadRequestException', 'Messages must be binary event-stream messages.');
    let message;
    try {
      message = decodeEventStreamMessage(frameBytes(data));
    } catch (error) {
      if (!(error instanceof EventStreamError)) throw error;
      return this.exception('BadRequestException', `Could not decode the event-stream message: ${error.message}`);
    }
    if (stringHeader(message, ':message-type') !== 'event' || stringHeader(message, ':event-type') !== 'AudioEvent') {
      return this.exception('BadRequestException', 'Only AudioEvent messages are accepted on the audio stream.');
    }
    if (stringHeader(message, ':content-type') !== 'application/octet-stream') return this.exception('BadRequestException', 'An AudioEvent must be application/octet-stream.');
    if (message.payload.length > MAX_AUDIO_EVENT_BYTES) return this.exception('BadRequestException', 'The audio chunk is over 32 KB.');
    if (message.payload.length === 0) return this.finish();
    this.connection.audioEvents += 1;
    this.connection.audioBytes += message.payload.length;
    this.armIdle();
    if (message.payload.length % 2 !== 0) return;
    const pcm = new Int16Array(message.payload.buffer.slice(message.payload.byteOffset, message.payload.byteOffset + message.payload.length));
    const tracker = this.tracker;
    tracker.push(pcm, () => {
      if (!tracker.inSpeech || this.ended) return;
      if (tracker.pauseMs >= Math.max(this.options.endpointingMs ?? 250, 10)) this.final();
      else if (tracker.speechMs - this.lastInterimAt >= (this.options.interimIntervalMs ?? 300)) {
        this.lastInterimAt = tracker.speechMs;
        this.result(tracker.revealed(), true);
      }
    });
  }

  private armIdle(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.exception('BadRequestException', 'Your request timed out because no new audio was received for 15 seconds.'), this.options.idleTimeoutMs ?? 15_000);
    this.idle.unref();
  }

  private final(): void {
    const words = this.tracker.inSpeech ? this.tracker.complete() : [];
    this.lastInterimAt = 0;
    this.result(words, false);
    this.resultId = randomUUID();
  }

  /** The empty AudioEvent: the last results, then the close. */
  private finish(): void {
    this.final();
    this.ended = true;
    clearTimeout(this.idle);
    this.closeByServer(1000);
  }

  private exception(type: string, message: string): void {
    if (this.ended) return;
    this.connection.exceptions.push(type);
    if (this.open) {
      this.ws.send(encodeEventStreamMessage({ ':exception-type': type, ':content-type': 'application/json', ':message-type': 'exception' }, Buffer.from(JSON.stringify({ Message: message }))));
    }
    this.tracker.abandon();
    this.ended = true;
    clearTimeout(this.idle);
    this.closeByServer(1000);
  }

  private result(words: readonly TrackedWord[], partial: boolean): void {
    if (words.length === 0 || !this.open) return;
    const text = words.map((w) => w.text).join(' ');
    this.connection.results.push({ text, partial });
    const language = this.connection.query['language-code'] ?? this.connection.query['language-options']?.split(',')[0];
    const result = {
      Alternatives: [
        {
          Items: words.map((w) => ({ Content: w.text, StartTime: w.startSecs, EndTime: w.endSecs, Type: 'pronunciation', VocabularyFilterMatch: false, ...(partial ? {} : { Confidence: 0.95 }) })),
          Transcript: text,
        },
      ],
      ChannelId: 'ch_0',
      EndTime: words.at(-1)!.endSecs,
      IsPartial: partial,
      ResultId: this.resultId,
      StartTime: words[0]!.startSecs,
      ...(this.connection.query['identify-language'] === 'true' ? { LanguageCode: language } : {}),
    };
    const body = Buffer.from(JSON.stringify({ Transcript: { Results: [result] } }));
    this.ws.send(encodeEventStreamMessage({ ':event-type': 'TranscriptEvent', ':content-type': 'application/json', ':message-type': 'event' }, body));
  }
}

class Server extends FakeWebSocketServer<FakeTranscribeConnection, RecordedFrame, FakeTranscribeFault, never, Session> {
  readonly queue = new UtteranceQueue();

  constructor(private readonly options: FakeTranscribeOptions) {
    super('Transcribe', { message: 'Not Found' });
  }

  protected override onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams) if (!name.startsWith('X-Amz-')) query[name] = value;
    const connection: FakeTranscribeConnection = { query, received: [], audioBytes: 0, audioEvents: 0, results: [], exceptions: [] };
    this.connections.push(connection);
    const refuse = (status: number, type: string, message: string): void => {
      connection.errorType = type;
      this.refuse(socket, connection, status, { message }, { 'x-amzn-ErrorType': `${type}:` });
    };
    if (url.pathname !== '/stream-transcription-websocket') return refuse(404, 'UnknownOperationException', 'Not Found');
    const refusal = verifyAwsPresignedUrl(
      { ...this.options, secretAccessKey: this.options.secretAccessKey ?? 'fake-transcribe-secret', service: 'transcribe' },
      { method: req.method ?? 'GET', url, host: req.headers.host ?? '' },
    );
    if (refusal !== undefined) return refuse(refusal.status, refusal.type, refusal.message);
    const invalid = invalidQuery(query);
    if (invalid !== undefined) return refuse(400, 'BadRequestException', invalid);
    const fault = this.handshakeFaults.shift();
    if (fault === 429) return refuse(429, 'LimitExceededException', 'You have reached your limit of concurrent streams. Try your request again later.');
    if (fault === 500) return refuse(500, 'InternalFailureException', 'We encountered an internal error. Try your request again.');
    this.accept(req, socket, head, connection, (ws) => new Session(ws, socket, connection, this, this.queue, this.options));
  }

  openSockets(): number {
    return this.sessions.size;
  }
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeTranscribe(options: FakeTranscribeOptions = {}): Promise<FakeTranscribe> {
  const server = new Server(options);
  await server.start();
  return {
    baseUrl: server.baseUrl,
    connections: server.connections,
    scriptTranscripts: (...texts) => server.queue.push(...texts),
    failNextConnections: (fault, count = 1) => {
      for (let i = 0; i < count; i++) server.failHandshake(fault);
    },
    dropConnections: () => server.dropConnections(),
    openSockets: () => server.openSockets(),
    close: () => server.close(),
  };
}
