// A local stand-in for Deepgram Flux (`wss://api.deepgram.com/v2/listen`), speaking its wire protocol over a real
// socket so that the production client is what gets tested. Facts and sources: docs/vendors/deepgram-flux.md.
//
// Handshake: the key as `Authorization: Token <key>` / `Bearer <jwt>` or the `token` subprotocol (echoed); the query
// is checked like the API reference says (`model` a Flux model, raw `encoding` with `sample_rate`, `eot_threshold`
// 0.5-1.0, `eager_eot_threshold` 0.3-0.9 and not above it, `eot_timeout_ms` 500-60000); a refusal is an HTTP error
// with Deepgram's `{err_code, err_msg, request_id}` body and `dg-error` header. Then `Connected`, and `TurnInfo`
// messages that follow the audio received (speech-tracker.ts): StartOfTurn at the first speech, an Update every
// `updateIntervalMs` of audio (inside a turn with the words revealed so far; outside one with an empty transcript),
// EagerEndOfTurn / TurnResumed when `eager_eot_threshold` is set, and EndOfTurn (the whole turn's transcript,
// `trigger: "model"`) after `endOfTurnPauseMs` of silence unless `eot_threshold` is 1.0, or after `eot_timeout_ms`.
// `ForceEndTurn` ends an open turn (`trigger: "manual"`), `Configure` changes thresholds (`ConfigureSuccess`),
// `KeepAlive` is silent, `CloseStream` ends an open turn and closes 1000. A fatal error is an `Error` message, then
// a close. Faults: handshake 401, 429, 500; `sendFatalError` on open sockets. Keys are never stored.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { FAULTS, handshakeKey, LIST_PARAMS, parseQuery, refuse, type FakeDeepgramFluxFault, type Thresholds } from './deepgram-flux-handshake.js';
import { recordQuery } from './http.js';
import { SpeechTracker, UtteranceQueue, type TrackedWord } from './speech-tracker.js';
import { frameBytes, type FakeSocketClose, type FakeSTTSocketSession, type FakeStreamingSTTServer } from './websocket.js';
import { serveFakeSTTSockets } from './stt-socket.js';

export type { FakeDeepgramFluxFault } from './deepgram-flux-handshake.js';

export interface FakeDeepgramFluxOptions extends FakeKeyPolicy {
  speechThreshold?: number;
  msPerWord?: number;
  /** Audio time between two Update messages. Default 250 ms (Deepgram: "approximately every 0.25 seconds"). */
  updateIntervalMs?: number;
  /** Silence after speech at which the model's end-of-turn confidence is reached. Default 250 ms. */
  endOfTurnPauseMs?: number;
  /** Silence after speech at which EagerEndOfTurn fires (with `eager_eot_threshold`). Default 150 ms. */
  eagerPauseMs?: number;
  /** A socket without audio or a message for this long is closed 1011 `NET-0001`. Default 10 000 ms. */
  idleTimeoutMs?: number;
  defaultTranscript?: string;
}

export interface FakeDeepgramFluxSession extends FakeSTTSocketSession {
  /** The accepted query (every value as sent). */
  readonly query: Readonly<Record<string, string>>;
  /** Repeated query values (`keyterm`, `tag`, `language_hint`). */
  readonly lists: Readonly<Record<string, readonly string[]>>;
  /** Control messages from the client, by type. */
  readonly controls: readonly string[];
}

export interface FakeDeepgramFlux extends FakeStreamingSTTServer<FakeDeepgramFluxSession, FakeDeepgramFluxFault> {
  /** Handshakes refused (status), in order. */
  readonly refused: readonly number[];
  /** Sends a fatal `Error` message on every open socket, then closes it 1011. */
  sendFatalError(code: string, description: string): void;
}

type TurnState = 'idle' | 'ongoing' | 'awaiting';

class Session implements FakeDeepgramFluxSession {
  readonly controls: string[] = [];
  readonly sent: Record<string, unknown>[] = [];
  closed: FakeSocketClose | undefined;
  private readonly requestId = randomUUID();
  private readonly tracker: SpeechTracker;
  private sequence = 0;
  private state: TurnState = 'idle';
  private turnIndex = 0;
  private turnStartSecs = 0;
  private eagerTranscript: string | undefined;
  private sinceUpdateMs = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    readonly query: Readonly<Record<string, string>>,
    readonly lists: Readonly<Record<string, readonly string[]>>,
    private thresholds: Thresholds,
    queue: UtteranceQueue,
    private readonly options: FakeDeepgramFluxOptions,
  ) {
    this.tracker = new SpeechTracker(queue, {
      sampleRate: Number(query.sample_rate),
      speechThreshold: options.speechThreshold,
      msPerWord: options.msPerWord,
      defaultTranscript: options.defaultTranscript,
    });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', (code, reason) => {
      this.closed ??= { code, reason: reason.toString('utf8'), by: code === 1006 ? 'dropped' : 'client' };
      clearTimeout(this.idleTimer);
      this.tracker.abandon();
    });
    ws.on('error', () => {});
    this.send({ type: 'Connected', request_id: this.requestId });
    this.touch();
  }

  drop(): void {
    this.closed ??= { code: 1006, reason: '', by: 'dropped' };
    clearTimeout(this.idleTimer);
    this.tracker.abandon();
    this.ws.terminate();
  }

  fatal(code: string, description: string): void {
    this.send({ type: 'Error', code, description });
    this.closeByServer(1011, code);
  }

  private send(message: Record<string, unknown>): void {
    if (this.closed !== undefined || this.ws.readyState !== this.ws.OPEN) return;
    const stamped = { ...message, sequence_id: this.sequence++ };
    this.sent.push(stamped);
    this.ws.send(JSON.stringify(stamped));
  }

  private closeByServer(code: number, reason: string): void {
    clearTimeout(this.idleTimer);
    this.closed ??= { code, reason, by: 'server' };
    this.ws.close(code, reason);
  }

  /** Deepgram closes a stream that gets neither audio nor a message for 10 s. */
  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.closeByServer(1011, 'NET-0001'), this.options.idleTimeoutMs ?? 10_000);
    this.idleTimer.unref();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed !== undefined) return;
    this.touch();
    const bytes = frameBytes(data);
    if (isBinary) {
      if (bytes.length % 2 !== 0) return this.closeByServer(1008, 'DATA-0000');
      this.onAudio(new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
      return;
    }
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch {
      return this.closeByServer(1008, 'text frame is not JSON');
    }
    const type = String(message.type);
    this.controls.push(type);
    if (type === 'ForceEndTurn') {
      if (this.state !== 'idle') this.endTurn('manual');
    } else if (type === 'CloseStream') {
      if (this.state !== 'idle') this.endTurn('model');
      this.closeByServer(1000, '');
    } else if (type === 'Configure') this.configure(message);
    else if (type !== 'KeepAlive' && type !== 'Finalize') {
      // The wording is the fake's own: the reference names no code for an unknown message.
      this.fatal('UNKNOWN_MESSAGE_TYPE', `Unknown message type ${JSON.stringify(type)}.`);
    }
  }

  private configure(message: Record<string, unknown>): void {
    const t = (message.thresholds ?? {}) as { eot_threshold?: unknown; eager_eot_threshold?: unknown; eot_timeout_ms?: unknown };
    if (typeof t.eot_threshold === 'number') this.thresholds.eot = t.eot_threshold;
    if (typeof t.eager_eot_threshold === 'number') this.thresholds.eager = t.eager_eot_threshold;
    if (typeof t.eot_timeout_ms === 'number') this.thresholds.timeoutMs = t.eot_timeout_ms;
    this.send({ type: 'ConfigureSuccess', request_id: this.requestId, ...(Array.isArray(message.keyterms) ? { keyterms: message.keyterms } : {}) });
  }

  private onAudio(pcm: Int16Array): void {
    const windowMs = 10;
    this.tracker.push(pcm, (voiced) => {
      if (this.closed !== undefined) return;
      this.sinceUpdateMs += windowMs;
      if (this.state === 'idle' && this.tracker.inSpeech) {
        this.state = 'ongoing';
        this.turnStartSecs = Math.max(0, this.tracker.positionSecs - windowMs / 1000);
        this.sinceUpdateMs = 0;
        this.turnInfo('StartOfTurn', []);
        return;
      }
      if (this.state === 'idle') {
        if (this.sinceUpdateMs >= (this.options.updateIntervalMs ?? 250)) this.update([]);
        return;
      }
      this.duringTurn(voiced);
    });
  }

  private duringTurn(voiced: boolean): void {
    if (voiced && this.state === 'awaiting') {
      this.state = 'ongoing';
      this.eagerTranscript = undefined;
      this.turnInfo('TurnResumed', this.tracker.revealed());
      return;
    }
    const pause = this.tracker.pauseMs;
    const t = this.thresholds;
    if ((t.eot < 1 && pause >= (this.options.endOfTurnPauseMs ?? 250)) || pause >= t.timeoutMs) return this.endTurn('model');
    if (t.eager !== undefined && this.state === 'ongoing' && pause >= (this.options.eagerPauseMs ?? 150)) {
      const words = this.tracker.revealed();
      if (words.length > 0) {
        this.state = 'awaiting';
        this.eagerTranscript = text(words);
        this.turnInfo('EagerEndOfTurn', words);
        return;
      }
    }
    if (this.sinceUpdateMs >= (this.options.updateIntervalMs ?? 250)) this.update(this.tracker.revealed());
  }

  private update(words: readonly TrackedWord[]): void {
    this.turnInfo('Update', words);
    this.sinceUpdateMs = 0;
  }

  private endTurn(trigger: 'model' | 'manual'): void {
    const words = this.tracker.complete();
    // The EndOfTurn transcript always matches the EagerEndOfTurn before it; a change is announced by TurnResumed.
    if (this.eagerTranscript !== undefined && this.eagerTranscript !== text(words)) {
      this.turnInfo('TurnResumed', words);
      this.turnInfo('EagerEndOfTurn', words);
    }
    this.turnInfo('EndOfTurn', words, { trigger });
    this.state = 'idle';
    this.eagerTranscript = undefined;
    this.sinceUpdateMs = 0;
    this.turnIndex += 1;
  }

  private turnInfo(event: string, words: readonly TrackedWord[], extra: Record<string, unknown> = {}): void {
    const multi = this.query.model === 'flux-general-multi';
    const start = this.state === 'idle' ? Math.max(0, this.tracker.positionSecs - this.sinceUpdateMs / 1000) : this.turnStartSecs;
    this.send({
      type: 'TurnInfo',
      request_id: this.requestId,
      event,
      turn_index: this.turnIndex,
      audio_window_start: round3(start),
      audio_window_end: round3(this.tracker.positionSecs),
      transcript: text(words),
      words: words.map((w) => ({ word: w.text, confidence: 0.97 })),
      end_of_turn_confidence: event === 'EndOfTurn' ? 0.9 : event === 'EagerEndOfTurn' ? 0.6 : 0.05,
      ...(multi ? { languages: [this.lists.language_hint?.[0] ?? 'en'] } : {}),
      ...extra,
    });
  }
}

const text = (words: readonly TrackedWord[]): string => words.map((w) => w.text).join(' ');
const round3 = (value: number): number => Math.round(value * 1000) / 1000;

export async function startFakeDeepgramFlux(options: FakeDeepgramFluxOptions = {}): Promise<FakeDeepgramFlux> {
  const sessions: Session[] = [];
  const refused: number[] = [];
  const queue = new UtteranceQueue();
  const faults: FakeDeepgramFluxFault[] = [];
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => [...offered][0] ?? false });
  const onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (url.pathname !== '/v2/listen') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const { key, protocol } = handshakeKey(req);
    const reject = (status: number, code: string, message: string): void => {
      refused.push(status);
      refuse(socket, status, code, message);
    };
    if (!isAcceptedKey(key, options)) return reject(401, ...FAULTS[401]);
    const fault = faults.shift();
    if (fault !== undefined) return reject(fault, ...FAULTS[fault]);
    const parsed = parseQuery(url.searchParams);
    if (typeof parsed === 'string') return reject(400, 'Bad Request', parsed);
    const lists: Record<string, string[]> = {};
    for (const name of LIST_PARAMS) if (url.searchParams.has(name)) lists[name] = url.searchParams.getAll(name);
    const query = recordQuery(url.searchParams, []);
    // The subprotocol carries the key: only the scheme word is echoed (ws echoes the first offered one).
    if (protocol === undefined) delete req.headers['sec-websocket-protocol'];
    else req.headers['sec-websocket-protocol'] = protocol;
    wss.handleUpgrade(req, socket, head, (ws) => sessions.push(new Session(ws, query, lists, parsed, queue, options)));
  };
  const controls = await serveFakeSTTSockets({ wss, onUpgrade, queue, faults, open: () => sessions.filter((s) => s.closed === undefined) });
  return {
    ...controls,
    sessions,
    refused,
    sendFatalError: (code, description) => {
      for (const session of sessions) if (session.closed === undefined) session.fatal(code, description);
    },
  };
}
