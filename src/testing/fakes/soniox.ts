// A local stand-in for Soniox real-time transcription (`wss://stt-rt.soniox.com/transcribe-websocket`), speaking the
// wire protocol over a real socket so that the production client is what gets tested. Facts and sources:
// docs/vendors/soniox.md.
//
// The key comes with the connection (`Authorization: Bearer <key>`; the deprecated `api_key` field of the start
// request is accepted too); the first message is the configuration (`model`, `audio_format` `pcm_s16le` with
// `sample_rate` and `num_channels`, `language_hints`, `enable_endpoint_detection`). Errors are in band, as the
// service sends them: `{error_code, error_message}` (HTTP-like codes), then the close. Audio: binary PCM; tokens
// follow the audio received (speech-tracker.ts): non-final tokens while speech goes on, the words final on
// `{"type": "finalize"}` (then the `<fin>` marker) or, with endpoint detection, after a pause (then `<end>`). An
// empty frame ends the stream: the last finals, `{finished: true}`, close 1000. Faults: 401, 429, 500 (503 "Cannot
// continue request", which the service documents for an early end). Keys are never stored.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { bearerCredentials, isAcceptedKey, type FakeKeyPolicy } from './auth.js';

import { SpeechTracker, UtteranceQueue, type TrackedWord } from './speech-tracker.js';
import { frameBytes, type FakeSTTSocketSession, type FakeStreamingSTTServer } from './websocket.js';
import { FakeJsonSTTSession, serveFakeSTTSockets } from './stt-socket.js';

export type FakeSonioxFault = 401 | 429 | 500;

export interface FakeSonioxOptions extends FakeKeyPolicy {
  speechThreshold?: number;
  msPerWord?: number;
  /** Audio time between two token messages while speech goes on. Default 300 ms. */
  interimIntervalMs?: number;
  /** Pause that ends speech with endpoint detection on. Default 500 ms. */
  endpointPauseMs?: number;
  defaultTranscript?: string;
}

export interface FakeSonioxSession extends FakeSTTSocketSession {
  /** The configuration message, once accepted. */
  readonly config: Readonly<Record<string, unknown>> | undefined;
  readonly controls: readonly string[];
}

export type FakeSoniox = FakeStreamingSTTServer<FakeSonioxSession, FakeSonioxFault>;

const FAULTS: Readonly<Record<FakeSonioxFault, [number, string]>> = {
  401: [401, 'Invalid API key.'],
  429: [429, 'Too many concurrent requests.'],
  500: [503, 'Cannot continue request (code 1). Please restart the request.'],
};

class Session extends FakeJsonSTTSession implements FakeSonioxSession {
  config: Record<string, unknown> | undefined;
  readonly controls: string[] = [];
  private tracker: SpeechTracker | undefined;
  private endpointDetection = false;
  private lastInterimAt = 0;
  private ended = false;

  constructor(
    ws: WebSocket,
    private readonly headerKey: string | undefined,
    private readonly queue: UtteranceQueue,
    private readonly options: FakeSonioxOptions,
    private readonly fault: FakeSonioxFault | undefined,
  ) {
    super(ws);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
  }

  protected override onClosed(): void {
    this.tracker?.abandon();
  }

  private fail(code: number, message: string): void {
    this.send({ error_code: code, error_message: message });
    this.ended = true;
    this.closed ??= { code: 1000, reason: '', by: 'server' };
    this.ws.close(1000);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.ended) return;
    const bytes = frameBytes(data);
    if (this.tracker === undefined) {
      if (isBinary) return this.fail(400, 'Start request must be sent first.');
      return this.start(bytes.toString('utf8'));
    }
    if (bytes.length === 0) return this.finish();
    if (isBinary) {
      if (bytes.length % 2 !== 0) return this.fail(400, 'Audio data is not a whole number of samples.');
      this.onAudio(new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
      return;
    }
    let message: { type?: unknown };
    try {
      message = JSON.parse(bytes.toString('utf8')) as { type?: unknown };
    } catch {
      return this.fail(400, 'Invalid control message.');
    }
    this.controls.push(String(message.type));
    if (message.type === 'finalize') this.finalize('<fin>');
    else if (message.type !== 'keepalive') this.fail(400, `Unknown control message type ${JSON.stringify(message.type) ?? ''}.`);
  }

  private start(text: string): void {
    let config: Record<string, unknown>;
    try {
      config = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return this.fail(400, 'Start request is not valid JSON.');
    }
    const key = this.headerKey ?? (typeof config.api_key === 'string' ? config.api_key : undefined);
    if (!isAcceptedKey(key, this.options)) return this.fail(401, 'Invalid API key.');
    if (this.fault !== undefined) return this.fail(...FAULTS[this.fault]);
    if (typeof config.model !== 'string' || !/^stt-rt-/.test(config.model)) return this.fail(400, 'Invalid model specified.');
    if (config.audio_format !== 'pcm_s16le') return this.fail(400, 'This fake takes audio_format pcm_s16le only.');
    if (!Number.isInteger(config.sample_rate) || config.num_channels !== 1) return this.fail(400, 'sample_rate and num_channels are required for PCM formats.');
    const { api_key: _key, ...recorded } = config;
    this.config = recorded;
    this.endpointDetection = config.enable_endpoint_detection === true;
    this.tracker = new SpeechTracker(this.queue, {
      sampleRate: config.sample_rate as number,
      speechThreshold: this.options.speechThreshold,
      msPerWord: this.options.msPerWord,
      defaultTranscript: this.options.defaultTranscript,
    });
  }

  private onAudio(pcm: Int16Array): void {
    const tracker = this.tracker!;
    tracker.push(pcm, () => {
      if (!tracker.inSpeech || this.ended) return;
      if (this.endpointDetection && tracker.pauseMs >= (this.options.endpointPauseMs ?? 500)) this.finalize('<end>');
      else if (tracker.speechMs - this.lastInterimAt >= (this.options.interimIntervalMs ?? 300)) {
        this.lastInterimAt = tracker.speechMs;
        this.sendTokens(tracker.revealed(), false);
      }
    });
  }

  private finalize(marker: '<fin>' | '<end>' | undefined): void {
    const tracker = this.tracker!;
    const words = tracker.inSpeech ? tracker.complete() : [];
    this.lastInterimAt = 0;
    this.sendTokens(words, true, marker);
  }

  private finish(): void {
    this.finalize(undefined);
    this.send({ tokens: [], finished: true });
    this.ended = true;
    this.closed ??= { code: 1000, reason: '', by: 'server' };
    this.ws.close(1000);
  }

  private sendTokens(words: readonly TrackedWord[], final: boolean, marker?: string): void {
    const hints = this.config?.language_hints;
    const language = Array.isArray(hints) && typeof hints[0] === 'string' ? hints[0] : 'en';
    // Words as tokens with their leading space; a word longer than 4 letters comes in two pieces, as sub-word
    // tokens do.
    const tokens: Record<string, unknown>[] = [];
    words.forEach((w, i) => {
      const text = `${i === 0 ? '' : ' '}${w.text}`;
      const cut = w.text.length > 4 ? text.length - 2 : text.length;
      const mid = w.startSecs + ((w.endSecs - w.startSecs) * cut) / text.length;
      const pieces: [string, number, number][] = cut < text.length ? [[text.slice(0, cut), w.startSecs, mid], [text.slice(cut), mid, w.endSecs]] : [[text, w.startSecs, w.endSecs]];
      for (const [piece, start, end] of pieces) {
        tokens.push({ text: piece, start_ms: Math.round(start * 1000), end_ms: Math.round(end * 1000), confidence: 0.97, is_final: final, language });
      }
    });
    if (marker !== undefined) tokens.push({ text: marker, is_final: true });
    const processedMs = Math.round(this.tracker!.positionSecs * 1000);
    this.send({ tokens, final_audio_proc_ms: final ? processedMs : 0, total_audio_proc_ms: processedMs });
  }
}

export async function startFakeSoniox(options: FakeSonioxOptions = {}): Promise<FakeSoniox> {
  const sessions: Session[] = [];
  const queue = new UtteranceQueue();
  const faults: FakeSonioxFault[] = [];
  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    if (new URL(req.url ?? '/', 'http://fake').pathname !== '/transcribe-websocket') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const headerKey = bearerCredentials(req.headers.authorization ?? '');
    wss.handleUpgrade(req, socket, head, (ws) => sessions.push(new Session(ws, headerKey, queue, options, faults.shift())));
  };
  const controls = await serveFakeSTTSockets({ wss, onUpgrade, queue, faults, open: () => sessions.filter((s) => s.closed === undefined) });
  return {
    ...controls,
    sessions,
  };
}
