// A local stand-in for Sarvam's streaming speech-to-text socket (`wss://api.sarvam.ai/speech-to-text/ws`), speaking
// the wire protocol over a real socket so that the production client is what gets tested. Facts and sources:
// docs/vendors/sarvam.md.
//
// The handshake: the key in `api-subscription-key` (refused: 403 `invalid_api_key_error` with Sarvam's error body,
// as its REST gateway answers), the query checked like the reference says (`language-code` required and one of
// Sarvam's codes, `model`, `mode` only with Saaras v3/v4, `sample_rate` 8000 or 16000, `input_audio_codec`, the
// 'true'/'false' switches; refused: 400 `invalid_request_error`). Audio: `{"audio": {"data", "sample_rate",
// "encoding"}}` text frames, base64 PCM16 when `input_audio_codec` is a PCM one (a WAV container otherwise); a bad
// message is an in-band `{"type": "error", "data": {"error", "code"}}` and the close. Recognition follows the audio
// received (speech-tracker.ts): with `vad_signals=true` the speech events `START_SPEECH` / `END_SPEECH`; one final
// `{"type": "data"}` per utterance (no interim results on this endpoint) after `endSilenceMs` of silence (1 s, or
// 0.5 s with `high_vad_sensitivity`, Sarvam's documented silences), or at once on `{"type": "flush"}` when
// `flush_signal=true` (a flush with no speech held answers nothing). Faults: 403, 429 and 500 handshakes, drops.
// Keys are never stored.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { recordQuery, refuseUpgrade } from './http.js';
import { SpeechTracker, UtteranceQueue } from './speech-tracker.js';
import type { FakeSTTSocketSession, FakeStreamingSTTServer } from './websocket.js';
import { FakeJsonSTTSession, serveFakeSTTSockets } from './stt-socket.js';

export type FakeSarvamStreamFault = 403 | 429 | 500;

/** The language codes the socket takes (the Saaras v3 list; saarika:v2.5 takes the first twelve). */
export const FAKE_SARVAM_STREAM_LANGUAGES: readonly string[] = [
  'unknown', 'hi-IN', 'bn-IN', 'gu-IN', 'kn-IN', 'ml-IN', 'mr-IN', 'od-IN', 'pa-IN', 'ta-IN', 'te-IN', 'en-IN',
  'as-IN', 'ur-IN', 'ne-IN', 'kok-IN', 'ks-IN', 'sd-IN', 'sa-IN', 'sat-IN', 'mni-IN', 'brx-IN', 'mai-IN', 'doi-IN',
];
export const FAKE_SARVAM_STREAM_MODELS: readonly string[] = ['saaras:v3', 'saaras:v4', 'saarika:v2.5'];
const MODES = ['transcribe', 'translate', 'verbatim', 'translit', 'codemix'];
const CODECS = ['wav', 'pcm_s16le', 'pcm_l16', 'pcm_raw'];
const SWITCHES = ['high_vad_sensitivity', 'vad_signals', 'flush_signal'];

export interface FakeSarvamStreamOptions extends FakeKeyPolicy {
  speechThreshold?: number;
  msPerWord?: number;
  /** Silence that ends an utterance on Sarvam's side. Default 1000 ms (500 ms with `high_vad_sensitivity=true`). */
  endSilenceMs?: number;
  defaultTranscript?: string;
}

export interface FakeSarvamStreamSession extends FakeSTTSocketSession {
  /** The handshake's query (the key never appears: it travels in a header). */
  readonly query: Readonly<Record<string, string>>;
  /** The handshake was accepted. */
  readonly accepted: boolean;
  /** Control messages received (`flush`), in order. */
  readonly controls: readonly string[];
  /** Audio messages received. */
  readonly audioMessages: number;
}

export type FakeSarvamStream = FakeStreamingSTTServer<FakeSarvamStreamSession, FakeSarvamStreamFault>;

const FAULTS: Readonly<Record<FakeSarvamStreamFault, [string, string]>> = {
  403: ['invalid_api_key_error', 'Invalid API key. Check the api-subscription-key header.'],
  429: ['rate_limit_exceeded_error', 'Rate limit exceeded. Please retry later.'],
  500: ['internal_server_error', 'Internal server error.'],
};

/** Why a handshake's query is refused, or undefined when Sarvam would take it. */
function queryProblem(query: URLSearchParams): string | undefined {
  const language = query.get('language-code');
  if (language === null) return 'language-code is required';
  if (!FAKE_SARVAM_STREAM_LANGUAGES.includes(language)) return `language-code ${language} is not supported`;
  const model = query.get('model') ?? 'saaras:v3';
  if (!FAKE_SARVAM_STREAM_MODELS.includes(model)) return `model ${model} is not supported`;
  if (model === 'saarika:v2.5' && FAKE_SARVAM_STREAM_LANGUAGES.indexOf(language) > 11) return `language-code ${language} needs saaras:v3`;
  const mode = query.get('mode');
  if (mode !== null && (!model.startsWith('saaras:') || !MODES.includes(mode))) return `mode ${mode} is not supported for ${model}`;
  const rate = query.get('sample_rate');
  if (rate !== null && rate !== '8000' && rate !== '16000') return 'sample_rate must be 8000 or 16000';
  const codec = query.get('input_audio_codec');
  if (codec !== null && !CODECS.includes(codec)) return `input_audio_codec ${codec} is not supported`;
  for (const name of SWITCHES) {
    const value = query.get(name);
    if (value !== null && value !== 'true' && value !== 'false') return `${name} must be 'true' or 'false'`;
  }
  return undefined;
}

class Session extends FakeJsonSTTSession implements FakeSarvamStreamSession {
  readonly controls: string[] = [];
  audioMessages = 0;
  readonly accepted = true;
  private readonly tracker: SpeechTracker;
  private readonly rate: number;
  private readonly pcm: boolean;
  private readonly vadSignals: boolean;
  private readonly flushSignal: boolean;
  private readonly endSilenceMs: number;
  private ended = false;

  constructor(
    ws: WebSocket,
    readonly query: Record<string, string>,
    queue: UtteranceQueue,
    options: FakeSarvamStreamOptions,
  ) {
    super(ws);
    this.rate = Number(query.sample_rate ?? '16000');
    this.pcm = (query.input_audio_codec ?? 'wav').startsWith('pcm_');
    this.vadSignals = query.vad_signals === 'true';
    this.flushSignal = query.flush_signal === 'true';
    this.endSilenceMs = options.endSilenceMs ?? (query.high_vad_sensitivity === 'true' ? 500 : 1000);
    this.tracker = new SpeechTracker(queue, {
      sampleRate: this.rate,
      speechThreshold: options.speechThreshold,
      msPerWord: options.msPerWord,
      defaultTranscript: options.defaultTranscript,
    });
    ws.on('message', (data, isBinary) => this.onMessage(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary));
  }

  protected override onClosed(): void {
    this.tracker.abandon();
  }

  private fail(code: string, error: string): void {
    this.send({ type: 'error', data: { error, code } });
    this.ended = true;
    this.closed ??= { code: 1008, reason: '', by: 'server' };
    this.ws.close(1008);
  }

  private onMessage(bytes: Buffer, isBinary: boolean): void {
    if (this.ended) return;
    if (isBinary) return this.fail('invalid_request_error', 'Binary frames are not accepted; send JSON audio messages.');
    let message: { audio?: { data?: unknown; sample_rate?: unknown; encoding?: unknown }; type?: unknown };
    try {
      message = JSON.parse(bytes.toString('utf8')) as typeof message;
    } catch {
      return this.fail('invalid_request_error', 'Message is not valid JSON.');
    }
    if (message.type === 'flush') {
      this.controls.push('flush');
      if (this.flushSignal) this.finish(false);
      return;
    }
    if (message.type === 'config') return;
    const audio = message.audio;
    if (typeof audio?.data !== 'string') return this.fail('invalid_request_error', 'audio.data is required.');
    if (audio.encoding !== 'audio/wav') return this.fail('invalid_request_error', `encoding ${String(audio.encoding)} is not supported.`);
    if (audio.sample_rate !== this.rate) return this.fail('invalid_request_error', `audio.sample_rate ${String(audio.sample_rate)} does not match the connection's ${this.rate}.`);
    const raw = Buffer.from(audio.data, 'base64');
    if (!this.pcm) return this.fail('invalid_request_error', 'Audio could not be decoded: raw PCM needs input_audio_codec.');
    if (raw.length % 2 !== 0) return this.fail('invalid_request_error', 'PCM audio is not a whole number of 16-bit samples.');
    this.audioMessages++;
    const tracker = this.tracker;
    const wasInSpeech = tracker.inSpeech;
    tracker.push(new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length)), () => {
      if (!tracker.inSpeech) return;
      if (tracker.pauseMs >= this.endSilenceMs) this.finish(true);
    });
    if (!wasInSpeech && tracker.inSpeech) this.startSpeech();
  }

  private startSpeech(): void {
    if (this.vadSignals) this.send({ type: 'events', data: { event_type: 'vad', signal_type: 'START_SPEECH', occured_at: Date.now() / 1000 } });
  }

  /** The utterance held ends: by Sarvam's own silence detection (`endOfSpeech`) or a flush. */
  private finish(endOfSpeech: boolean): void {
    const tracker = this.tracker;
    if (!tracker.inSpeech) return;
    const durationSecs = tracker.speechMs / 1000;
    const words = tracker.complete();
    if (endOfSpeech && this.vadSignals) this.send({ type: 'events', data: { event_type: 'vad', signal_type: 'END_SPEECH', occured_at: Date.now() / 1000 } });
    const language = this.query['language-code'] === 'unknown' ? 'en-IN' : this.query['language-code'];
    this.send({
      type: 'data',
      data: {
        request_id: `fake-${this.audioMessages}`,
        transcript: words.map((w) => w.text).join(' '),
        timestamps: null,
        diarized_transcript: null,
        language_code: language,
        language_probability: this.query['language-code'] === 'unknown' ? 0.9 : null,
        metrics: { audio_duration: durationSecs, processing_latency: 0.05 },
      },
    });
  }
}

export async function startFakeSarvamStream(options: FakeSarvamStreamOptions = {}): Promise<FakeSarvamStream> {
  const sessions: FakeSarvamStreamSession[] = [];
  const open = new Set<Session>();
  const queue = new UtteranceQueue();
  const faults: FakeSarvamStreamFault[] = [];
  const wss = new WebSocketServer({ noServer: true });
  const refuse = (socket: Socket, query: Record<string, string>, status: number, code: string, message: string): void => {
    sessions.push({ query, accepted: false, controls: [], audioMessages: 0, sent: [], closed: { code: status, reason: code, by: 'server' }, drop: () => {} });
    const body = JSON.stringify({ error: { message, code } });
    refuseUpgrade(socket, status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' }, body);
  };
  const onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = recordQuery(url.searchParams, []);
    if (url.pathname !== '/speech-to-text/ws') return refuse(socket, query, 404, 'not_found_error', `No route for ${url.pathname}`);
    const key = req.headers['api-subscription-key'];
    if (!isAcceptedKey(typeof key === 'string' ? key : undefined, options)) return refuse(socket, query, 403, ...FAULTS[403]);
    const fault = faults.shift();
    if (fault !== undefined) return refuse(socket, query, fault, ...FAULTS[fault]);
    const problem = queryProblem(url.searchParams);
    if (problem !== undefined) return refuse(socket, query, 400, 'invalid_request_error', problem);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new Session(ws, query, queue, options);
      sessions.push(session);
      open.add(session);
      ws.once('close', () => open.delete(session));
    });
  };
  const controls = await serveFakeSTTSockets({ wss, onUpgrade, queue, faults, open: () => open });
  return {
    ...controls,
    sessions,
  };
}
