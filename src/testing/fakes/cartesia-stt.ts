// A local stand-in for Cartesia Ink streaming STT (`wss://api.cartesia.ai/stt/websocket`), speaking its wire protocol
// over a real socket so that the production client is what gets tested. Facts and sources:
// docs/vendors/cartesia-stt.md.
//
// Handshake: the key (`X-API-Key`, `Authorization: Bearer`, or the browser's `api_key` / `access_token` query) and
// the version (`Cartesia-Version` or `cartesia_version`) are required; the query is checked like the API reference
// (`model` an Ink model, `language` among Whisper's, `encoding` and `sample_rate` required, `min_volume` 0-1,
// `max_silence_duration_secs` > 0). A refusal is an HTTP error before the upgrade: a JSON body
// (`{error_code, title, message, request_id, doc_url}`) from version 2026-03-01, `Title: message` text before.
// Audio: binary PCM; `transcript` messages follow the audio received (speech-tracker.ts): interims (`is_final`
// false, the utterance so far) while speech goes on, a final piece (the words not yet final, with times from the
// socket's start) after `max_silence_duration_secs` of silence, on the text command `finalize` (then `flush_done`),
// or on `done` (`close` in newer versions; then `done` and the close, 1000). Other text is an `error` message.
// Faults: handshake 401, 429, 500. Keys are never stored.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { bearerCredentials, isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { recordQuery, refuseUpgrade } from './http.js';
import { SpeechTracker, UtteranceQueue, type TrackedWord } from './speech-tracker.js';
import { frameBytes, type FakeSocketClose, type FakeSTTSocketSession, type FakeStreamingSTTServer } from './websocket.js';
import { serveFakeSTTSockets } from './stt-socket.js';

export type FakeCartesiaSTTFault = 401 | 429 | 500;

export interface FakeCartesiaSTTOptions extends FakeKeyPolicy {
  speechThreshold?: number;
  msPerWord?: number;
  /** Audio time between two interim transcripts while speech goes on. Default 300 ms. */
  interimIntervalMs?: number;
  /** Silence that ends an utterance when the query sets no `max_silence_duration_secs`. Default 800 ms. */
  endpointSilenceMs?: number;
  /** A socket without any client message for this long is closed (1000). Default 180 000 ms (3 minutes). */
  idleTimeoutMs?: number;
  defaultTranscript?: string;
}

export interface FakeCartesiaSTTSession extends FakeSTTSocketSession {
  /** The accepted query (`api_key` / `access_token` redacted). */
  readonly query: Readonly<Record<string, string>>;
  readonly version: string;
  /** Text commands from the client (`finalize`, `done`, ...). */
  readonly commands: readonly string[];
}

export interface FakeCartesiaSTT extends FakeStreamingSTTServer<FakeCartesiaSTTSession, FakeCartesiaSTTFault> {
  /** Handshakes refused (status), in order. */
  readonly refused: readonly number[];
}

/** The version from which errors use the `{error_code, title, message}` shape. */
const STRUCTURED_ERRORS_VERSION = '2026-03-01';
const DOC_URL = 'https://docs.cartesia.ai/api-reference/stt/stt';
const ENCODINGS = ['pcm_s16le', 'pcm_s32le', 'pcm_f16le', 'pcm_f32le', 'pcm_mulaw', 'pcm_alaw'];
// prettier-ignore
const LANGUAGES = new Set(('en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su yue').split(' '));

const FAULTS: Readonly<Record<FakeCartesiaSTTFault, [string, string, string]>> = {
  401: ['Invalid API key', 'The API key provided is not valid.', 'invalid_api_key'],
  429: ['Too many concurrent requests', 'Your plan allows fewer concurrent STT requests.', 'concurrency_limited'],
  500: ['Internal server error', 'Something went wrong on our side.', 'internal_error'],
};

/** What Cartesia would refuse in the query. */
function invalidQuery(params: URLSearchParams): string | undefined {
  const model = params.get('model');
  if (model === null || model === '') return 'model is required';
  if (!/^ink-/.test(model)) return `The model ${model} is not valid, make sure it is a valid model ID.`;
  const language = params.get('language');
  if (language !== null && !LANGUAGES.has(language)) return `language ${language} is not supported`;
  const encoding = params.get('encoding');
  if (encoding === null) return 'encoding is required';
  if (!ENCODINGS.includes(encoding)) return `encoding must be one of ${ENCODINGS.join(', ')}`;
  if (encoding !== 'pcm_s16le') return 'this fake takes pcm_s16le only';
  const rate = Number(params.get('sample_rate'));
  if (!Number.isInteger(rate) || rate <= 0) return 'sample_rate is required';
  const volume = params.get('min_volume');
  if (volume !== null && !(Number(volume) >= 0 && Number(volume) <= 1)) return 'min_volume must be between 0.0 and 1.0';
  const silence = params.get('max_silence_duration_secs');
  if (silence !== null && !(Number(silence) > 0)) return 'max_silence_duration_secs must be positive';
  return undefined;
}

class Session implements FakeCartesiaSTTSession {
  readonly commands: string[] = [];
  readonly sent: Record<string, unknown>[] = [];
  closed: FakeSocketClose | undefined;
  private readonly requestId = randomUUID();
  private readonly tracker: SpeechTracker;
  private readonly endpointMs: number;
  private lastInterimAt = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    readonly query: Readonly<Record<string, string>>,
    readonly version: string,
    queue: UtteranceQueue,
    private readonly options: FakeCartesiaSTTOptions,
  ) {
    this.tracker = new SpeechTracker(queue, {
      sampleRate: Number(query.sample_rate),
      speechThreshold: options.speechThreshold,
      msPerWord: options.msPerWord,
      defaultTranscript: options.defaultTranscript,
    });
    const silenceSecs = query.max_silence_duration_secs;
    this.endpointMs = silenceSecs === undefined ? (options.endpointSilenceMs ?? 800) : Number(silenceSecs) * 1000;
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', (code, reason) => {
      this.closed ??= { code, reason: reason.toString('utf8'), by: code === 1006 ? 'dropped' : 'client' };
      clearTimeout(this.idleTimer);
      this.tracker.abandon();
    });
    ws.on('error', () => {});
    this.touch();
  }

  drop(): void {
    this.closed ??= { code: 1006, reason: '', by: 'dropped' };
    clearTimeout(this.idleTimer);
    this.tracker.abandon();
    this.ws.terminate();
  }

  private send(message: Record<string, unknown>): void {
    if (this.closed !== undefined || this.ws.readyState !== this.ws.OPEN) return;
    const stamped = { ...message, request_id: this.requestId };
    this.sent.push(stamped);
    this.ws.send(JSON.stringify(stamped));
  }

  private closeByServer(code: number): void {
    clearTimeout(this.idleTimer);
    this.closed ??= { code, reason: '', by: 'server' };
    this.ws.close(code);
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.closeByServer(1000), this.options.idleTimeoutMs ?? 180_000);
    this.idleTimer.unref();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed !== undefined) return;
    this.touch();
    const bytes = frameBytes(data);
    if (isBinary) {
      if (bytes.length % 2 !== 0) return this.error(400, 'Audio data is not a whole number of samples.', 'invalid_audio');
      this.onAudio(new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
      return;
    }
    const command = bytes.toString('utf8').trim();
    this.commands.push(command);
    if (command === 'finalize') {
      this.final();
      this.send({ type: 'flush_done' });
    } else if (command === 'done' || command === 'close') {
      this.final();
      this.send({ type: 'done' });
      this.closeByServer(1000);
    } else {
      // The wording is the fake's own: the reference lists the commands, not the answer to another one.
      this.error(400, `Unknown command ${JSON.stringify(command.slice(0, 40))}.`, 'invalid_request');
    }
  }

  private error(status: number, message: string, errorCode: string): void {
    this.send({ type: 'error', error: message, message, title: 'Invalid request', error_code: errorCode, status_code: status, doc_url: DOC_URL });
    this.closeByServer(1000);
  }

  private onAudio(pcm: Int16Array): void {
    this.tracker.push(pcm, () => {
      if (!this.tracker.inSpeech || this.closed !== undefined) return;
      if (this.tracker.pauseMs >= this.endpointMs) this.final();
      else if (this.tracker.speechMs - this.lastInterimAt >= (this.options.interimIntervalMs ?? 300)) {
        this.lastInterimAt = this.tracker.speechMs;
        this.transcript(this.tracker.revealed(), false);
      }
    });
  }

  /** The open utterance's words not yet final, as one final piece (nothing when there are none). */
  private final(): void {
    const words = this.tracker.inSpeech ? this.tracker.complete() : [];
    this.lastInterimAt = 0;
    if (words.length > 0) this.transcript(words, true);
  }

  private transcript(words: readonly TrackedWord[], final: boolean): void {
    const first = words[0];
    const last = words.at(-1);
    this.send({
      type: 'transcript',
      is_final: final,
      text: words.map((w) => w.text).join(' '),
      duration: first === undefined || last === undefined ? 0 : round3(last.endSecs - first.startSecs),
      language: this.query.language ?? 'en',
      words: words.map((w) => ({ word: w.text, start: round3(w.startSecs), end: round3(w.endSecs) })),
    });
  }
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;

export async function startFakeCartesiaSTT(options: FakeCartesiaSTTOptions = {}): Promise<FakeCartesiaSTT> {
  const sessions: Session[] = [];
  const refused: number[] = [];
  const queue = new UtteranceQueue();
  const faults: FakeCartesiaSTTFault[] = [];
  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const header = (name: string): string | undefined => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const version = url.searchParams.get('cartesia_version') ?? header('cartesia-version');
    const reject = (status: number, title: string, message: string, errorCode: string): void => {
      refused.push(status);
      const structured = version !== undefined && version >= STRUCTURED_ERRORS_VERSION;
      const body = structured ? JSON.stringify({ error_code: errorCode, title, message, request_id: randomUUID(), doc_url: DOC_URL }) : `${title}: ${message}`;
      const contentType = structured ? 'application/json' : 'text/plain; charset=utf-8';
      refuseUpgrade(socket, status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), Connection: 'close' }, body);
    };
    if (url.pathname !== '/stt/websocket') return reject(404, 'Not found', `No route for ${url.pathname}`, 'not_found');
    const key = [header('x-api-key'), bearerCredentials(header('authorization') ?? ''), url.searchParams.get('api_key'), url.searchParams.get('access_token')].find(
      (value) => value !== undefined && value !== null && value !== '',
    );
    if (key === undefined || key === null) return reject(401, 'Missing API key', 'Provide your API key in the X-API-Key header.', 'missing_api_key');
    if (!isAcceptedKey(key, options)) return reject(401, ...FAULTS[401]);
    const fault = faults.shift();
    if (fault !== undefined) return reject(fault, ...FAULTS[fault]);
    if (version === undefined || version === '') {
      return reject(400, 'Missing Cartesia-Version', 'The Cartesia-Version header (or cartesia_version query parameter) is required.', 'missing_version');
    }
    const invalid = invalidQuery(url.searchParams);
    if (invalid !== undefined) return reject(400, 'Invalid request', invalid, 'invalid_request');
    const query = recordQuery(url.searchParams, ['api_key', 'access_token']);
    wss.handleUpgrade(req, socket, head, (ws) => sessions.push(new Session(ws, query, version, queue, options)));
  };
  const controls = await serveFakeSTTSockets({ wss, onUpgrade, queue, faults, open: () => sessions.filter((s) => s.closed === undefined) });
  return {
    ...controls,
    sessions,
    refused,
  };
}
