// A local stand-in for ElevenLabs Scribe realtime (`wss://api.elevenlabs.io/v1/speech-to-text/realtime`), speaking the
// wire protocol over a real socket so that the production client is what gets tested. Facts and sources:
// docs/vendors/elevenlabs-stt.md.
//
// The handshake: the key in `xi-api-key` (or a `token` query value); the query checked as the reference and the
// official SDK do (`model_id` required and a realtime model, `audio_format` `pcm_<rate>` or `ulaw_8000`,
// `commit_strategy` manual/vad, `language_code` ISO-639-1/-3, the VAD settings in their ranges, booleans as
// 'true'/'false'). Errors are in band, as the reference says (an error message, then the close): a refused key is
// `auth_error`, a bad query `invalid_request`, a bad chunk `input_error`; scripted faults send `auth_error`,
// `rate_limited` or `transcriber_error`. An accepted session starts with `session_started` (its config echoed).
// Audio: `input_audio_chunk` messages (base64 PCM16, `sample_rate` as the format says, `previous_text` only on the
// first chunk). Recognition follows the audio received (speech-tracker.ts): `partial_transcript` (the segment's text
// so far) while speech goes on; a commit (`commit: true`, or with `commit_strategy=vad` a pause of
// `vad_silence_threshold_secs`) answers `committed_transcript` with the segment's words — an empty text when it held
// none — then, with `include_timestamps=true`, `committed_transcript_with_timestamps` (words and spacing with times
// from the session's start, the language). Keys are never stored.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { recordQuery } from './http.js';
import { SpeechTracker, UtteranceQueue, type TrackedWord } from './speech-tracker.js';
import type { FakeSTTSocketSession, FakeStreamingSTTServer } from './websocket.js';
import { FakeJsonSTTSession, serveFakeSTTSockets } from './stt-socket.js';

export type FakeElevenLabsRealtimeFault = 401 | 429 | 500;

export const FAKE_ELEVENLABS_REALTIME_MODELS: readonly string[] = ['scribe_v2_realtime'];
const FORMATS: Readonly<Record<string, number>> = {
  pcm_8000: 8000,
  pcm_16000: 16000,
  pcm_22050: 22050,
  pcm_24000: 24000,
  pcm_44100: 44100,
  pcm_48000: 48000,
};
const RANGES: Readonly<Record<string, [number, number]>> = {
  vad_silence_threshold_secs: [0.3, 3],
  vad_threshold: [0.1, 0.9],
  min_speech_duration_ms: [50, 2000],
  min_silence_duration_ms: [50, 2000],
};
const BOOLEANS = ['include_timestamps', 'include_language_detection', 'enable_logging', 'no_verbatim', 'filter_background_audio'];

export interface FakeElevenLabsRealtimeOptions extends FakeKeyPolicy {
  speechThreshold?: number;
  msPerWord?: number;
  /** Audio time between two partial transcripts while speech goes on. Default 300 ms. */
  partialIntervalMs?: number;
  defaultTranscript?: string;
}

export interface FakeElevenLabsRealtimeSession extends FakeSTTSocketSession {
  /** The handshake's query (a `token` value redacted). */
  readonly query: Readonly<Record<string, string>>;
  /** The session started (key and query accepted, no fault). */
  readonly started: boolean;
  /** Commits received (`commit: true`), in order. */
  readonly commits: number;
  readonly audioChunks: number;
}

export type FakeElevenLabsRealtime = FakeStreamingSTTServer<FakeElevenLabsRealtimeSession, FakeElevenLabsRealtimeFault>;

const FAULTS: Readonly<Record<FakeElevenLabsRealtimeFault, [string, string, number]>> = {
  401: ['auth_error', 'Invalid API key', 1008],
  429: ['rate_limited', 'Too many concurrent sessions. Please try again later.', 1013],
  500: ['transcriber_error', 'The transcriber failed. Please reconnect.', 1011],
};

/** Why Scribe would refuse this query, or undefined. */
function queryProblem(query: URLSearchParams): string | undefined {
  const model = query.get('model_id');
  if (model === null) return 'model_id is required';
  if (!FAKE_ELEVENLABS_REALTIME_MODELS.includes(model)) return `model_id ${model} is not a realtime model`;
  const format = query.get('audio_format') ?? 'pcm_16000';
  if (FORMATS[format] === undefined && format !== 'ulaw_8000') return `audio_format ${format} is not supported`;
  const strategy = query.get('commit_strategy') ?? 'manual';
  if (strategy !== 'manual' && strategy !== 'vad') return `commit_strategy ${strategy} is not supported`;
  const language = query.get('language_code');
  if (language !== null && !/^[a-z]{2,3}$/.test(language)) return `language_code ${language} is not ISO-639-1 or ISO-639-3`;
  for (const [name, [min, max]] of Object.entries(RANGES)) {
    const value = query.get(name);
    if (value !== null && !(Number(value) >= min && Number(value) <= max)) return `${name} must be between ${min} and ${max}`;
  }
  for (const name of BOOLEANS) {
    const value = query.get(name);
    if (value !== null && value !== 'true' && value !== 'false') return `${name} must be 'true' or 'false'`;
  }
  if (query.getAll('keyterms').length > 50) return 'at most 50 keyterms';
  return undefined;
}

class Session extends FakeJsonSTTSession implements FakeElevenLabsRealtimeSession {
  started = false;
  commits = 0;
  audioChunks = 0;
  private tracker: SpeechTracker | undefined;
  private rate = 16000;
  private vadCommit = false;
  private vadSilenceMs = 1500;
  private timestamps = false;
  private partialIntervalMs = 300;
  private lastPartialAt = 0;
  private ended = false;

  constructor(
    ws: WebSocket,
    readonly query: Record<string, string>,
    private readonly sessionNumber: number,
  ) {
    super(ws);
    ws.on('message', (data, isBinary) => this.onMessage(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary));
  }

  start(queue: UtteranceQueue, options: FakeElevenLabsRealtimeOptions): void {
    const q = this.query;
    this.rate = FORMATS[q.audio_format ?? 'pcm_16000'] ?? 8000;
    this.vadCommit = q.commit_strategy === 'vad';
    this.vadSilenceMs = Number(q.vad_silence_threshold_secs ?? '1.5') * 1000;
    this.timestamps = q.include_timestamps === 'true';
    this.partialIntervalMs = options.partialIntervalMs ?? 300;
    this.tracker = new SpeechTracker(queue, { sampleRate: this.rate, speechThreshold: options.speechThreshold, msPerWord: options.msPerWord, defaultTranscript: options.defaultTranscript });
    this.started = true;
    this.send({
      message_type: 'session_started',
      session_id: `fake-session-${this.sessionNumber}`,
      config: {
        sample_rate: this.rate,
        audio_format: q.audio_format ?? 'pcm_16000',
        language_code: q.language_code ?? null,
        commit_strategy: this.vadCommit ? 'vad' : 'manual',
        model_id: q.model_id,
        include_timestamps: this.timestamps,
      },
    });
  }

  protected override onClosed(): void {
    this.tracker?.abandon();
  }

  /** An in-band error, then the close (the reference: "an error message will be returned before the close"). */
  fail(type: string, error: string, closeCode = 1008): void {
    this.send({ message_type: type, error });
    this.ended = true;
    this.closed ??= { code: closeCode, reason: '', by: 'server' };
    this.ws.close(closeCode);
  }

  private onMessage(bytes: Buffer, isBinary: boolean): void {
    if (this.ended || this.tracker === undefined) return;
    if (isBinary) return this.fail('input_error', 'Binary frames are not accepted: send input_audio_chunk messages.');
    let message: { message_type?: unknown; audio_base_64?: unknown; commit?: unknown; sample_rate?: unknown; previous_text?: unknown };
    try {
      message = JSON.parse(bytes.toString('utf8')) as typeof message;
    } catch {
      return this.fail('input_error', 'Message is not valid JSON.');
    }
    if (message.message_type !== 'input_audio_chunk') return this.fail('input_error', `Unknown message_type ${String(message.message_type)}.`);
    if (typeof message.audio_base_64 !== 'string') return this.fail('input_error', 'audio_base_64 is required.');
    if (message.sample_rate !== undefined && message.sample_rate !== this.rate) {
      return this.fail('input_error', `sample_rate ${JSON.stringify(message.sample_rate)} does not match audio_format (${this.rate}).`);
    }
    if (message.previous_text !== undefined && this.audioChunks > 0) return this.fail('input_error', 'previous_text can only be sent with the first chunk.');
    const raw = Buffer.from(message.audio_base_64, 'base64');
    if (raw.length % 2 !== 0) return this.fail('input_error', 'PCM audio is not a whole number of 16-bit samples.');
    if (raw.length > 0) {
      this.audioChunks++;
      this.onAudio(new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length)));
    }
    if (message.commit === true) {
      this.commits++;
      this.commit();
    }
  }

  private onAudio(pcm: Int16Array): void {
    const tracker = this.tracker!;
    tracker.push(pcm, () => {
      if (!tracker.inSpeech || this.ended) return;
      if (this.vadCommit && tracker.pauseMs >= this.vadSilenceMs) this.commit();
      else if (tracker.speechMs - this.lastPartialAt >= this.partialIntervalMs) {
        this.lastPartialAt = tracker.speechMs;
        this.send({ message_type: 'partial_transcript', text: tracker.revealed().map((w) => w.text).join(' ') });
      }
    });
  }

  private commit(): void {
    const tracker = this.tracker!;
    const words = tracker.inSpeech ? tracker.complete() : [];
    this.lastPartialAt = 0;
    const text = words.map((w) => w.text).join(' ');
    this.send({ message_type: 'committed_transcript', text });
    if (this.timestamps) {
      const language = this.query.language_code ?? 'en';
      this.send({ message_type: 'committed_transcript_with_timestamps', text, language_code: language, words: timedWords(words) });
    }
  }
}

/** Words and the spacing between them, as Scribe lists them (times in seconds from the session's start). */
function timedWords(words: readonly TrackedWord[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  words.forEach((w, i) => {
    if (i > 0) out.push({ text: ' ', start: words[i - 1]!.endSecs, end: w.startSecs, type: 'spacing', logprob: 0 });
    out.push({ text: w.text, start: Number(w.startSecs.toFixed(3)), end: Number(w.endSecs.toFixed(3)), type: 'word', logprob: -0.05 });
  });
  return out;
}

export async function startFakeElevenLabsRealtime(options: FakeElevenLabsRealtimeOptions = {}): Promise<FakeElevenLabsRealtime> {
  const sessions: Session[] = [];
  const queue = new UtteranceQueue();
  const faults: FakeElevenLabsRealtimeFault[] = [];
  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (url.pathname !== '/v1/speech-to-text/realtime') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const header = req.headers['xi-api-key'];
    const key = typeof header === 'string' ? header : (url.searchParams.get('token') ?? undefined);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new Session(ws, recordQuery(url.searchParams, ['token']), sessions.length + 1);
      sessions.push(session);
      if (!isAcceptedKey(key, options)) return session.fail(...FAULTS[401]);
      const fault = faults.shift();
      if (fault !== undefined) return session.fail(...FAULTS[fault]);
      const problem = queryProblem(url.searchParams);
      if (problem !== undefined) return session.fail('invalid_request', problem);
      session.start(queue, options);
    });
  };
  const controls = await serveFakeSTTSockets({ wss, onUpgrade, queue, faults, open: () => sessions.filter((s) => s.closed === undefined) });
  return {
    ...controls,
    sessions,
  };
}
