// A local stand-in for Gladia live transcription (v2), speaking its protocol over real HTTP and a real socket so that
// the production client is what gets tested. Facts and sources: docs/vendors/gladia.md.
//
// `POST /v2/live` takes the key in `x-gladia-key` and the session's JSON (`encoding` wav/pcm with `bit_depth` 16,
// `sample_rate` among Gladia's, `channels`, `model`, `endpointing`, `language_config`, `messages_config`), and
// answers 201 `{id, url}`: the WebSocket address with a one-session token (a second connection with it is refused).
// A bad key is 401, a bad body 400 with the fields named. Audio: binary PCM or `{type: "audio_chunk", data: {chunk:
// base64}}`; transcripts follow the audio received (speech-tracker.ts): partial ones while speech goes on (when
// `receive_partial_transcripts`), `speech_start`/`speech_end` (when `receive_speech_events`), the final utterance after `endpointing` seconds of silence or at
// `{type: "stop_recording"}`, which then closes the socket (1000). Faults, on the session POST: 401, 429, 500. Keys are never stored.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { isRecord, parseJSONBody, refuseUpgrade, requestPath, startFakeHttpServer } from './http.js';
import { SpeechTracker, UtteranceQueue, type TrackedWord } from './speech-tracker.js';
import { frameBytes, type FakeSocketClose, type FakeSTTSocketSession, type FakeStreamingSTTServer } from './websocket.js';

export type FakeGladiaFault = 401 | 429 | 500;

export interface FakeGladiaOptions extends FakeKeyPolicy {
  speechThreshold?: number;
  msPerWord?: number;
  /** Audio time between two partial transcripts while speech goes on. Default 300 ms. */
  interimIntervalMs?: number;
  defaultTranscript?: string;
}

export interface FakeGladiaSession extends FakeSTTSocketSession {
  readonly id: string;
  /** The session POST's body, as accepted. */
  readonly config: Readonly<Record<string, unknown>>;
  /** JSON messages from the client other than audio (`stop_recording`, ...), by type. */
  readonly controls: readonly string[];
  /** Whether a socket was opened with the session's URL. */
  readonly connected: boolean;
}

export interface FakeGladia extends FakeStreamingSTTServer<FakeGladiaSession, FakeGladiaFault> {
  /** `http://127.0.0.1:<port>`: the client's `baseUrl`. */
  readonly url: string;
  /** Session POSTs refused (status), in order. */
  readonly refused: readonly number[];
}

const SAMPLE_RATES = [8000, 16000, 32000, 44100, 48000];
const ENCODINGS = ['wav/pcm', 'wav/alaw', 'wav/ulaw'];
const BIT_DEPTHS = [8, 16, 24, 32];

/** The fields of a session body Gladia would refuse, with why. */
function invalidFields(body: Record<string, unknown>): string[] {
  const errors: string[] = [];
  if (body.encoding !== undefined && !ENCODINGS.includes(body.encoding as string)) errors.push(`encoding must be one of ${ENCODINGS.join(', ')}`);
  if (body.encoding !== undefined && body.encoding !== 'wav/pcm') errors.push('this fake takes encoding wav/pcm only');
  if (body.bit_depth !== undefined && !BIT_DEPTHS.includes(body.bit_depth as number)) errors.push(`bit_depth must be one of ${BIT_DEPTHS.join(', ')}`);
  if (body.bit_depth !== undefined && body.bit_depth !== 16) errors.push('this fake takes bit_depth 16 only');
  if (body.sample_rate !== undefined && !SAMPLE_RATES.includes(body.sample_rate as number)) errors.push(`sample_rate must be one of ${SAMPLE_RATES.join(', ')}`);
  if (body.channels !== undefined && body.channels !== 1) errors.push('this fake takes channels 1 only');
  if (body.model !== undefined && (typeof body.model !== 'string' || !/^solaria-/.test(body.model))) errors.push('model must be a solaria model');
  const endpointing = body.endpointing;
  if (endpointing !== undefined && (typeof endpointing !== 'number' || endpointing < 0.01 || endpointing > 10)) errors.push('endpointing must be between 0.01 and 10');
  const languages = isRecord(body.language_config) ? body.language_config.languages : undefined;
  if (languages !== undefined && (!Array.isArray(languages) || languages.some((l) => typeof l !== 'string'))) errors.push('language_config.languages must be a list of language codes');
  if (body.messages_config !== undefined && !isRecord(body.messages_config)) errors.push('messages_config must be an object');
  return errors;
}

class Session implements FakeGladiaSession {
  readonly controls: string[] = [];
  readonly sent: Record<string, unknown>[] = [];
  connected = false;
  closed: FakeSocketClose | undefined;
  private ws: WebSocket | undefined;
  private tracker: SpeechTracker | undefined;
  private lastInterimAt = 0;
  /** An utterance is open: `speech_start` sent, its final not yet. */
  private speaking = false;
  private ended = false;

  constructor(
    readonly id: string,
    readonly config: Record<string, unknown>,
    private readonly queue: UtteranceQueue,
    private readonly options: FakeGladiaOptions,
  ) {}

  attach(ws: WebSocket): void {
    this.connected = true;
    this.ws = ws;
    this.tracker = new SpeechTracker(this.queue, {
      sampleRate: (this.config.sample_rate as number | undefined) ?? 16000,
      speechThreshold: this.options.speechThreshold,
      msPerWord: this.options.msPerWord,
      defaultTranscript: this.options.defaultTranscript,
    });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', (code, reason) => {
      this.closed ??= { code, reason: reason.toString('utf8'), by: 'client' };
      this.tracker?.abandon();
    });
    ws.on('error', () => {});
  }

  drop(): void {
    this.closed ??= { code: 1006, reason: '', by: 'dropped' };
    this.ws?.terminate();
  }

  private get messagesConfig(): Record<string, unknown> {
    return isRecord(this.config.messages_config) ? this.config.messages_config : {};
  }

  private send(message: Record<string, unknown>): void {
    if (this.ws?.readyState !== this.ws?.OPEN) return;
    this.sent.push(message);
    this.ws!.send(JSON.stringify(message));
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.ended) return;
    const bytes = frameBytes(data);
    if (isBinary) return this.onAudio(bytes);
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch {
      this.send({ type: 'error', session_id: this.id, created_at: new Date().toISOString(), data: { message: 'Invalid JSON message' } });
      return;
    }
    if (message.type === 'audio_chunk' && isRecord(message.data) && typeof message.data.chunk === 'string') {
      return this.onAudio(Buffer.from(message.data.chunk, 'base64'));
    }
    this.controls.push(String(message.type));
    if (message.type === 'stop_recording') this.stop();
  }

  private onAudio(bytes: Buffer): void {
    if (bytes.length % 2 !== 0) return;
    const tracker = this.tracker!;
    const pcm = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    const endpointingMs = ((this.config.endpointing as number | undefined) ?? 0.05) * 1000;
    tracker.push(pcm, () => {
      if (!tracker.inSpeech || this.ended) return;
      if (!this.speaking) {
        this.speaking = true;
        this.event('speech_start', { time: tracker.positionSecs, channel: 0 });
      }
      // The pause must outlast both the endpointing and a 10 ms window, as silence is measured by windows.
      if (tracker.pauseMs >= Math.max(endpointingMs, 10)) this.final();
      else if (this.messagesConfig.receive_partial_transcripts === true && tracker.speechMs - this.lastInterimAt >= (this.options.interimIntervalMs ?? 300)) {
        this.lastInterimAt = tracker.speechMs;
        this.transcript(tracker.revealed(), false);
      }
    });
  }

  private final(): void {
    const tracker = this.tracker!;
    const words = tracker.inSpeech ? tracker.complete() : [];
    this.lastInterimAt = 0;
    if (words.length > 0 && this.messagesConfig.receive_final_transcripts !== false) this.transcript(words, true);
    if (this.speaking) this.event('speech_end', { time: tracker.positionSecs, channel: 0 });
    this.speaking = false;
  }

  private event(type: 'speech_start' | 'speech_end', data: Record<string, unknown>): void {
    if (this.messagesConfig.receive_speech_events === true) this.send({ type, session_id: this.id, created_at: new Date().toISOString(), data });
  }

  private stop(): void {
    this.final();
    this.ended = true;
    this.closed ??= { code: 1000, reason: '', by: 'server' };
    this.ws?.close(1000);
  }

  private transcript(words: readonly TrackedWord[], final: boolean): void {
    if (words.length === 0) return;
    const languages = isRecord(this.config.language_config) ? this.config.language_config.languages : undefined;
    const language = Array.isArray(languages) && typeof languages[0] === 'string' ? languages[0] : 'en';
    this.send({
      type: 'transcript',
      session_id: this.id,
      created_at: new Date().toISOString(),
      data: {
        id: `00_${String(this.sent.length).padStart(8, '0')}`,
        is_final: final,
        utterance: {
          text: words.map((w) => w.text).join(' '),
          start: words[0]!.startSecs,
          end: words.at(-1)!.endSecs,
          language,
          confidence: 0.95,
          channel: 0,
          words: words.map((w) => ({ word: w.text, start: w.startSecs, end: w.endSecs, confidence: 0.95 })),
        },
      },
    });
  }
}

export async function startFakeGladia(options: FakeGladiaOptions = {}): Promise<FakeGladia> {
  const sessions: Session[] = [];
  const byToken = new Map<string, Session>();
  const refused: number[] = [];
  const queue = new UtteranceQueue();
  const faults: FakeGladiaFault[] = [];
  const wss = new WebSocketServer({ noServer: true });
  let origin = '';

  const answer = (res: ServerResponse, status: number, body: Record<string, unknown>): void => {
    if (status >= 400) refused.push(status);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const failure = (status: number, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    timestamp: new Date().toISOString(),
    path: '/v2/live',
    request_id: `G-${randomUUID().slice(0, 8)}`,
    statusCode: status,
    message,
    ...extra,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST' || requestPath(req) !== '/v2/live') return void res.writeHead(404).end();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const key = req.headers['x-gladia-key'];
    if (!isAcceptedKey(typeof key === 'string' ? key : undefined, options)) return answer(res, 401, failure(401, 'Invalid or missing API key'));
    const fault = faults.shift();
    // No Retry-After: the reference we read does not mention one.
    if (fault === 429) return answer(res, 429, failure(429, 'Too many concurrent sessions'));
    if (fault === 500) return answer(res, 500, failure(500, 'Internal server error'));
    if (fault === 401) return answer(res, 401, failure(401, 'Invalid or missing API key'));
    const { body, parsed } = parseJSONBody(Buffer.concat(chunks), false);
    if (!parsed || !isRecord(body)) return answer(res, 400, failure(400, 'Body must be a JSON object'));
    const errors = invalidFields(body);
    if (errors.length > 0) return answer(res, 400, failure(400, 'Invalid parameters', { validation_errors: errors }));
    const id = randomUUID();
    const token = randomUUID();
    const session = new Session(id, body, queue, options);
    sessions.push(session);
    byToken.set(token, session);
    answer(res, 201, { id, created_at: new Date().toISOString(), url: `${origin.replace(/^http/, 'ws')}/v2/live?token=${token}` });
  };

  const onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const session = url.pathname === '/v2/live' ? byToken.get(url.searchParams.get('token') ?? '') : undefined;
    if (session === undefined) return refuseUpgrade(socket, 404, { 'content-type': 'application/json' }, JSON.stringify(failure(404, 'Session not found')));
    // One socket per token here: the simplest reading (a resumed session is not modelled).
    byToken.delete(url.searchParams.get('token')!);
    wss.handleUpgrade(req, socket, head, (ws) => session.attach(ws));
  };

  const server = await startFakeHttpServer(handle, (res) => res.writeHead(500).end(), onUpgrade);
  origin = `http://127.0.0.1:${server.port}`;
  return {
    url: origin,
    sessions,
    refused,
    scriptTranscripts: (...texts) => queue.push(...texts),
    failNextConnections: (fault, count = 1) => {
      for (let i = 0; i < count; i++) faults.push(fault);
    },
    dropConnections: () => {
      for (const session of sessions) if (session.connected && session.closed === undefined) session.drop();
    },
    close: async () => {
      for (const session of sessions) if (session.closed === undefined) session.drop();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await server.close();
    },
  };
}
