// A local stand-in for AssemblyAI Universal Streaming (v3): `wss://streaming.assemblyai.com/v3/ws`, speaking the wire
// protocol over a real socket so that the production client is what gets tested. Facts and sources:
// docs/vendors/assemblyai.md.
//
// Handshake: the key in `Authorization` (no scheme) or a `token` query parameter; `sample_rate` required,
// `encoding` `pcm_s16le` (default) or `pcm_mulaw`, `speech_model` one of the published models. Credentials and
// parameters are checked after the upgrade, as the real service does: a failure is an `Error` frame
// (`{type, error_code, error}`) and a close with the same code (1008 unauthorised, 3006 invalid message or
// parameter). On success: `Begin`. Audio: binary frames of 50-1000 ms (else 3007 `Input duration violation`).
// Recognition follows the audio received (speech-tracker.ts): `Turn` partials while speech goes on, a turn ends
// on `ForceEndpoint`, on `max_turn_silence` of silence, or on `min_end_of_turn_silence_when_confident` when the
// fake's end-of-turn confidence (0.9 once the speaker pauses) reaches `end_of_turn_confidence_threshold`; with
// `format_turns=true` the final `Turn` is followed by its formatted copy. `Terminate` ends the open turn, sends
// `Termination` and closes 1000. Unknown messages and invalid JSON: 3006. Scripted faults: 401 (1008), 429 (3009,
// too many concurrent sessions), 500 (3005, session cancelled). Keys are never stored.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { mulawToPcm } from '../../audio/index.js';
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { recordQuery } from './http.js';
import { bareWord, SpeechTracker, UtteranceQueue, type TrackedWord } from './speech-tracker.js';
import { frameBytes, type FakeSocketClose, type FakeSTTSocketSession, type FakeStreamingSTTServer } from './websocket.js';
import { serveFakeSTTSockets } from './stt-socket.js';

export const ASSEMBLYAI_SPEECH_MODELS = ['universal-streaming-english', 'universal-streaming-multilingual', 'u3-rt-pro'] as const;

export type FakeAssemblyAIFault = 401 | 429 | 500;

export interface FakeAssemblyAIOptions extends FakeKeyPolicy {
  /** RMS (PCM16 units) above which a 10 ms window counts as speech. Default 500. */
  speechThreshold?: number;
  /** Audio time per word revealed in partials. Default 300 ms. */
  msPerWord?: number;
  /** Audio time between two partial `Turn`s while speech goes on. Default 400 ms. */
  partialIntervalMs?: number;
  /** What speech with no scripted utterance left is transcribed as. Default ''. */
  defaultTranscript?: string;
}

export type FakeAssemblyAIClientFrame = { readonly kind: 'audio'; readonly ms: number } | { readonly kind: 'text'; readonly message: unknown };

export interface FakeAssemblyAISession extends FakeSTTSocketSession {
  /** Query values of the handshake (`token` redacted). */
  readonly query: Readonly<Record<string, string>>;
  readonly authorized: boolean;
  /** True once `Begin` was sent: the session passed its checks and faults. */
  readonly accepted: boolean;
  readonly received: readonly FakeAssemblyAIClientFrame[];
  readonly audioSeconds: number;
}

export interface FakeAssemblyAI extends FakeStreamingSTTServer<FakeAssemblyAISession, FakeAssemblyAIFault> {
  /** `ws://127.0.0.1:<port>`: the base of `/v3/ws`. */
  readonly url: string;
}

const FAULTS: Readonly<Record<FakeAssemblyAIFault, { code: number; error: string }>> = {
  401: { code: 1008, error: 'Unauthorized Connection: Invalid API key' },
  429: { code: 3009, error: 'Unauthorized Connection: Too many concurrent sessions' },
  500: { code: 3005, error: 'Session Cancelled: An error occurred' },
};

interface Settings {
  readonly sampleRate: number;
  readonly encoding: 'pcm_s16le' | 'pcm_mulaw';
  readonly formatTurns: boolean;
  readonly threshold: number;
  readonly minSilenceMs: number;
  readonly maxSilenceMs: number;
  readonly languageDetection: boolean;
}

/** The handshake's settings, or the in-band error for a bad one. */
function parseSettings(params: URLSearchParams): Settings | string {
  const rate = Number(params.get('sample_rate'));
  if (!Number.isInteger(rate) || rate <= 0) return 'Invalid sample_rate: a positive integer is required';
  const encoding = params.get('encoding') ?? 'pcm_s16le';
  if (encoding !== 'pcm_s16le' && encoding !== 'pcm_mulaw') return `Invalid encoding: ${encoding}`;
  const model = params.get('speech_model');
  if (model === null || !(ASSEMBLYAI_SPEECH_MODELS as readonly string[]).includes(model)) return `Invalid speech_model: ${model ?? 'missing'}`;
  const number = (name: string, fallback: number): number => {
    const value = params.get(name);
    return value === null ? fallback : Number(value);
  };
  const settings: Settings = {
    sampleRate: rate,
    encoding,
    formatTurns: params.get('format_turns') === 'true',
    threshold: number('end_of_turn_confidence_threshold', 0.4),
    minSilenceMs: number('min_end_of_turn_silence_when_confident', 400),
    maxSilenceMs: number('max_turn_silence', 1280),
    languageDetection: params.get('language_detection') === 'true',
  };
  if (!(settings.threshold >= 0 && settings.threshold <= 1)) return 'Invalid end_of_turn_confidence_threshold';
  return settings;
}

class Session implements FakeAssemblyAISession {
  readonly received: FakeAssemblyAIClientFrame[] = [];
  readonly sent: Record<string, unknown>[] = [];
  closed: FakeSocketClose | undefined;
  accepted = false;
  private readonly tracker: SpeechTracker;
  private samples = 0;
  private turnOrder = 0;
  private lastPartialAt = 0;
  private ended = false;
  private readonly startedAt = Date.now();

  constructor(
    readonly query: Record<string, string>,
    readonly authorized: boolean,
    private readonly ws: WebSocket,
    private readonly settings: Settings,
    queue: UtteranceQueue,
    private readonly options: FakeAssemblyAIOptions,
  ) {
    this.tracker = new SpeechTracker(queue, {
      sampleRate: settings.sampleRate,
      speechThreshold: options.speechThreshold,
      msPerWord: options.msPerWord,
      defaultTranscript: options.defaultTranscript,
    });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', (code, reason) => {
      this.closed ??= { code, reason: reason.toString('utf8'), by: 'client' };
      this.tracker.abandon();
    });
    ws.on('error', () => {});
  }

  /** The session is accepted. */
  begin(): void {
    this.accepted = true;
    this.send({ type: 'Begin', id: randomUUID(), expires_at: Math.floor(Date.now() / 1000) + 3 * 3600 });
  }

  get audioSeconds(): number {
    return this.samples / this.settings.sampleRate;
  }

  drop(): void {
    this.closed ??= { code: 1006, reason: '', by: 'dropped' };
    this.ws.terminate();
  }

  /** An `Error` frame, then a close with the same code. */
  fail(code: number, error: string): void {
    this.send({ type: 'Error', error_code: code, error });
    this.closed ??= { code, reason: error.slice(0, 123), by: 'server' };
    this.ws.close(code, Buffer.byteLength(error) > 123 ? 'See Error message for details' : error);
    this.ended = true;
  }

  private send(message: Record<string, unknown>): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.sent.push(message);
    this.ws.send(JSON.stringify(message));
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.ended) return;
    const bytes = frameBytes(data);
    if (isBinary) {
      this.onAudio(bytes);
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(bytes.toString('utf8'));
    } catch {
      this.received.push({ kind: 'text', message: bytes.toString('utf8') });
      this.fail(3006, `Invalid JSON: ${bytes.toString('utf8').slice(0, 60)}`);
      return;
    }
    this.received.push({ kind: 'text', message });
    const type = typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : undefined;
    switch (type) {
      case 'ForceEndpoint':
        // With no turn open there is nothing to end: the service's answer is not documented; the fake sends none.
        if (this.tracker.inSpeech) this.endTurn();
        return;
      case 'KeepAlive':
      case 'UpdateConfiguration':
        return;
      case 'Terminate':
        if (this.tracker.inSpeech) this.endTurn();
        this.send({ type: 'Termination', audio_duration_seconds: Math.round(this.audioSeconds), session_duration_seconds: Math.round((Date.now() - this.startedAt) / 1000) });
        this.ended = true;
        this.closed ??= { code: 1000, reason: '', by: 'server' };
        this.ws.close(1000);
        return;
      default:
        this.fail(3006, `Invalid Message Type: ${JSON.stringify(type) ?? 'undefined'}`);
    }
  }

  private onAudio(bytes: Buffer): void {
    const bytesPerSample = this.settings.encoding === 'pcm_mulaw' ? 1 : 2;
    const ms = (bytes.length / bytesPerSample / this.settings.sampleRate) * 1000;
    this.received.push({ kind: 'audio', ms });
    if (ms < 50 || ms > 1000) {
      this.fail(3007, `Input duration violation: ${ms.toFixed(0)} ms. Expected between 50 and 1000 ms`);
      return;
    }
    const pcm = this.settings.encoding === 'pcm_mulaw' ? mulawToPcm(bytes) : new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    this.samples += pcm.length;
    this.tracker.push(pcm, () => this.onWindow());
  }

  private onWindow(): void {
    if (!this.tracker.inSpeech || this.ended) return;
    const pause = this.tracker.pauseMs;
    // The fake's model is confident once the speaker has paused a little.
    const confidence = pause >= 200 ? 0.9 : 0.1;
    if (pause >= this.settings.maxSilenceMs || (confidence >= this.settings.threshold && pause >= this.settings.minSilenceMs)) {
      this.endTurn();
      return;
    }
    if (this.tracker.speechMs - this.lastPartialAt >= (this.options.partialIntervalMs ?? 400)) {
      this.lastPartialAt = this.tracker.speechMs;
      this.sendTurn(this.tracker.revealed(), { endOfTurn: false, formatted: false, confidence });
    }
  }

  private endTurn(): void {
    const words = this.tracker.complete();
    this.lastPartialAt = 0;
    this.sendTurn(words, { endOfTurn: true, formatted: false, confidence: 0.9 });
    if (this.settings.formatTurns) this.sendTurn(words, { endOfTurn: true, formatted: true, confidence: 0.9 });
    this.turnOrder++;
  }

  private sendTurn(words: readonly TrackedWord[], how: { endOfTurn: boolean; formatted: boolean; confidence: number }): void {
    const spelled = words.map((w) => (how.formatted ? w.text : bareWord(w.text)));
    this.send({
      type: 'Turn',
      turn_order: this.turnOrder,
      turn_is_formatted: how.formatted,
      end_of_turn: how.endOfTurn,
      transcript: spelled.join(' '),
      end_of_turn_confidence: how.confidence,
      words: words.map((w, i) => ({
        start: Math.round(w.startSecs * 1000),
        end: Math.round(w.endSecs * 1000),
        text: spelled[i],
        confidence: 0.95,
        word_is_final: how.endOfTurn || i < words.length - 1,
      })),
      ...(this.settings.languageDetection && how.endOfTurn ? { language_code: 'en', language_confidence: 0.99 } : {}),
    });
  }
}

export async function startFakeAssemblyAI(options: FakeAssemblyAIOptions = {}): Promise<FakeAssemblyAI> {
  const sessions: Session[] = [];
  const queue = new UtteranceQueue();
  const faults: FakeAssemblyAIFault[] = [];
  const wss = new WebSocketServer({ noServer: true });

  const onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (url.pathname !== '/v3/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const key = req.headers.authorization ?? url.searchParams.get('token') ?? undefined;
      const authorized = isAcceptedKey(key, options);
      const parsed = parseSettings(url.searchParams);
      const settings: Settings = typeof parsed === 'string' ? { sampleRate: 16000, encoding: 'pcm_s16le', formatTurns: false, threshold: 0.4, minSilenceMs: 400, maxSilenceMs: 1280, languageDetection: false } : parsed;
      const session = new Session(recordQuery(url.searchParams, ['token']), authorized, ws, settings, queue, options);
      sessions.push(session);
      const fault = faults.shift();
      if (!authorized) session.fail(FAULTS[401].code, FAULTS[401].error);
      else if (fault !== undefined) session.fail(FAULTS[fault].code, FAULTS[fault].error);
      else if (typeof parsed === 'string') session.fail(3006, parsed);
      else session.begin();
    });
  };
  const controls = await serveFakeSTTSockets({ wss, onUpgrade, queue, faults, open: () => sessions.filter((s) => s.closed === undefined), handle: async (_req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'Not found' }));
    } });
  return {
    ...controls,
    sessions,
  };
}
