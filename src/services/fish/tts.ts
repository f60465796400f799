// FishAudioTTSService: Fish Audio's voices over its live WebSocket (`/v1/tts/live`), on the shared
// WebSocketTTSService base; this file is Fish's protocol on top of it. Facts and sources: docs/vendors/fish.md.
//
// How an utterance maps onto the protocol. Every message is MessagePack (msgpack.ts), both ways. The key and the
// model go in the handshake's headers; the voice, format and rate in the `start` event, the socket's first message.
// Fish's session has no contexts, no acknowledgement of a flush and no cancel: the only end it announces is the
// `finish` that follows a `stop`, after which it closes the socket. So each sentence is one session: its text, then
// `stop`, and the sentence ends with `finish` (reason `stop`). The socket is retired when its `stop` is sent, and a
// fresh one (its `start` already sent) is opened at once for the next sentence, off the latency path, so a call
// holds at most two sockets. An interruption destroys the socket of the sentence in flight: nothing else stops it.
// No word timings (the `/with-timestamp` variant is not used here), so a sentence cut by a drop is said again whole.
import { ServiceError } from '../base/index.js';
import {
  WebSocketTTSService,
  newSocketContext,
  stringField,
  type HandshakeErrorDetails,
  type TTSConnection,
  type TTSSocketContext,
} from '../base/websocket-tts.js';
import { isRecord } from '../base/json.js';
import { redactSecrets, requireApiKey } from '../base/vendor-errors.js';
import { packMessage, unpackMessage, type PackValue } from './msgpack.js';

const VENDOR = 'Fish Audio';
const DEFAULT_BASE_URL = 'wss://api.fish.audio';
const DEFAULT_TIMEOUT_MS = 10_000;

/** The PCM rates Fish makes. */
export const FISH_SAMPLE_RATES = [8000, 16000, 24000, 32000, 44100] as const;

export interface FishAudioTTSServiceOptions {
  apiKey: string;
  /** The voice model's id (`reference_id`, the id in a fish.audio/m/<id> URL). Default: Fish's default voice. */
  voice?: string;
  /** The `model` header: 's1' (default) or 's2-pro'. */
  model?: 's1' | 's2-pro' | (string & {});
  /** 'balanced' (default: lower latency) or 'normal' (quality). */
  latency?: 'normal' | 'balanced';
  /** Speech speed, 0.5 to 2.0 (`prosody.speed`). */
  speed?: number;
  /** Volume change in dB (`prosody.volume`). */
  volumeDb?: number;
  /** A fixed output rate; by default the call's output rate (8 kHz on a phone line). */
  sampleRate?: (typeof FISH_SAMPLE_RATES)[number];
  /** Default 'wss://api.fish.audio' (http(s) URLs are turned into ws(s)). */
  baseUrl?: string;
  /** Longest wait for the handshake, and for the next audio while a sentence is being synthesised. Default 10 s. */
  timeoutMs?: number;
  name?: string;
}

function inBandError(message: Record<string, unknown>, apiKey: string): ServiceError {
  const text = stringField(message, 'error', 'message') ?? 'unknown error';
  // The one documented in-band error is the concurrency limit (it carries `max_concurrency`): a rate limit.
  const code = typeof message.max_concurrency === 'number' ? 'rate-limited' : 'server';
  return new ServiceError(VENDOR, redactSecrets(text, [apiKey]), { code });
}

export class FishAudioTTSService extends WebSocketTTSService<TTSSocketContext> {
  override readonly model: string;
  readonly voice: string | undefined;
  readonly latency: 'normal' | 'balanced';
  private readonly speed: number | undefined;
  private readonly volumeDb: number | undefined;

  constructor(options: FishAudioTTSServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'FISH_API_KEY');
    const rates: readonly number[] = FISH_SAMPLE_RATES;
    if (options.sampleRate !== undefined && !rates.includes(options.sampleRate)) {
      throw new RangeError(`${new.target.name}: sampleRate must be one of ${rates.join(', ')}, got ${String(options.sampleRate)}`);
    }
    if (options.speed !== undefined && !(options.speed >= 0.5 && options.speed <= 2)) {
      throw new RangeError(`${new.target.name}: speed must be between 0.5 and 2, got ${String(options.speed)}`);
    }
    const model = options.model ?? 's1';
    const base = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/^http/, 'ws').replace(/\/+$/, '');
    super({
      name: options.name,
      sampleRate: options.sampleRate ?? 16000,
      sampleRates: rates,
      fixedSampleRate: options.sampleRate !== undefined,
      model,
      vendor: VENDOR,
      url: `${base}/v1/tts/live`,
      headers: { Authorization: `Bearer ${apiKey}`, model },
      apiKey,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      holdAudioForWords: false,
      closedBeforeSend: 'connection closed before the text could be sent',
      greeting: () => packMessage(this.startEvent()),
    });
    this.model = model;
    this.voice = options.voice?.trim() || undefined;
    this.latency = options.latency ?? 'balanced';
    this.speed = options.speed;
    this.volumeDb = options.volumeDb;
  }

  private startEvent(): PackValue {
    const prosody = this.speed === undefined && this.volumeDb === undefined ? undefined : { speed: this.speed, volume: this.volumeDb };
    return {
      event: 'start',
      request: {
        text: '',
        format: 'pcm',
        sample_rate: this.sampleRate,
        latency: this.latency,
        reference_id: this.voice,
        prosody,
      },
    };
  }

  protected override newContext(utterance: string, connection: TTSConnection, offsetMs: number): TTSSocketContext {
    return newSocketContext(utterance, connection, offsetMs);
  }

  protected override sendSentence(context: TTSSocketContext, text: string): void {
    this.sendBinary(context.connection, packMessage({ event: 'text', text: /\s$/.test(text) ? text : `${text} ` }));
    // `stop` has Fish say what it holds, answer `finish`, and close: the session is this sentence's alone.
    this.sendBinary(context.connection, packMessage({ event: 'stop' }));
    this.retire(context.connection);
  }

  /** Nothing stops a Fish session but the end of its socket. */
  protected override cancelMessage(context: TTSSocketContext): undefined {
    this.discard(context.connection);
    return undefined;
  }

  /** The sentence's session ends by itself with `finish`: nothing to close. */
  protected override finishContext(context: TTSSocketContext): void {
    context.ended = true;
  }

  /** A new session per sentence: a context never takes a second one. */
  protected override canContinue(): boolean {
    return false;
  }

  protected override describeHandshakeError(body: Record<string, unknown>): HandshakeErrorDetails {
    const status = body.status;
    return { message: stringField(body, 'message', 'detail', 'error'), code: typeof status === 'number' ? String(status) : stringField(body, 'code') };
  }

  /** Fish sends nothing as JSON text. */
  protected override onServerMessage(): void {
    this.logger.warn(`${VENDOR} sent a JSON text frame; ignored`);
  }

  protected override onServerBinary(connection: TTSConnection, data: Buffer): void {
    let message: PackValue;
    try {
      message = unpackMessage(data);
    } catch (error) {
      this.logger.warn({ err: error }, `${VENDOR} sent a frame that is not MessagePack; ignored`);
      return;
    }
    if (!isRecord(message)) return;
    const context = this.current;
    const sentence = context?.connection === connection ? context.sentence : undefined;
    if (message.event === 'error') {
      const error = inBandError(message, this.apiKey);
      connection.lastError = error;
      if (sentence !== undefined) sentence.fail(error);
      else this.logger.warn({ err: error }, `${VENDOR} reported an error between sentences`);
      return;
    }
    if (context === undefined || sentence === undefined) return;
    sentence.heard = true;
    sentence.watch(this.timeoutMs);
    if (message.event === 'audio' && message.audio instanceof Uint8Array) {
      const audio = this.decodeAudio(context, Buffer.from(message.audio.buffer, message.audio.byteOffset, message.audio.byteLength));
      if (audio.length > 0) sentence.push({ type: 'audio', audio });
    } else if (message.event === 'finish') {
      context.ended = true;
      if (message.reason === 'stop') sentence.end();
      else sentence.fail(connection.lastError ?? new ServiceError(VENDOR, `synthesis failed (finish reason ${JSON.stringify(message.reason)})`, { code: 'server' }));
    }
  }
}
