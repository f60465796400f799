// GradiumTTSService: Gradium's voices over its JSON WebSocket (`/api/speech/tts`), one socket per service instance,
// on the shared WebSocketTTSService base; this file is Gradium's protocol on top of it. Facts and sources:
// docs/vendors/gradium.md.
//
// How an utterance maps onto the protocol. Gradium multiplexes requests on one socket by `client_req_id`, each with
// its own `setup` (voice, model, format) and, with `close_ws_on_eos: false`, its own `end_of_stream` answer that
// leaves the socket open. Each sentence is one request (`<utterance context>:<n>`): setup, text, end_of_stream; the
// sentence ends with the server's `end_of_stream` for that id. Messages tagged with any other id (an earlier sentence,
// an interrupted utterance) are dropped. Gradium documents no cancel: an interruption sends nothing and lets the
// server finish a request nobody listens to (the safest reading; the socket and the other requests stay usable).
// Word timings (`text` with `start_s`) count from the start of each request's audio.
import { ServiceError } from '../base/index.js';
import {
  WebSocketTTSService,
  beginSentenceRequest,
  newSentenceRequestContext,
  sentenceRequestId,
  sentenceWordOffsetMs,
  stringField,
  type HandshakeErrorDetails,
  type SentenceRequestContext,
  type TTSConnection,
} from '../base/websocket-tts.js';
import { redactSecrets, requireApiKey } from '../base/vendor-errors.js';

const VENDOR = 'Gradium';
const DEFAULT_TIMEOUT_MS = 10_000;
/** Gradium's example library voice (Emma), used when none is given: every request needs a `voice_id`. */
export const GRADIUM_DEFAULT_VOICE = 'YTpq7expH9539ERJ';

/** The PCM rates Gradium makes: `pcm` is 48 kHz, the others are `pcm_<rate>`. */
export const GRADIUM_SAMPLE_RATES = [8000, 16000, 24000, 48000] as const;
export type GradiumSampleRate = (typeof GRADIUM_SAMPLE_RATES)[number];

/** The `output_format` that gives PCM16 at `rate`. */
export function gradiumPcmFormat(rate: number): string {
  return rate === 48000 ? 'pcm' : `pcm_${rate}`;
}

export interface GradiumTTSServiceOptions {
  apiKey: string;
  /** The `voice_id` (a library voice or your own). Default: 'YTpq7expH9539ERJ' (Emma, English). */
  voice?: string;
  /** The `model_name`. Default 'default'. */
  model?: string;
  /** The API's region: 'us' or 'eu' (`<region>.api.gradium.ai`). Default: the global `api.gradium.ai`. */
  region?: 'us' | 'eu';
  /** A fixed output rate; by default the call's output rate (8 kHz on a phone line). */
  sampleRate?: GradiumSampleRate;
  /** Default 'wss://api.gradium.ai' (or the region's host); http(s) URLs are turned into ws(s). */
  baseUrl?: string;
  /** Longest wait for the handshake, and for the next message while a sentence is being synthesised. Default 10 s. */
  timeoutMs?: number;
  name?: string;
}

/** One utterance's context: the request ids of its sentences derive from `id`. */
function inBandError(message: Record<string, unknown>, apiKey: string): ServiceError {
  const text = redactSecrets(stringField(message, 'message', 'error') ?? 'unknown error', [apiKey]);
  // 1008 is Gradium's policy violation (a bad setup, a message out of order): the request was wrong. 1011 and
  // anything else: the server failed.
  const vendorCode = typeof message.code === 'number' ? String(message.code) : undefined;
  return new ServiceError(VENDOR, text, { code: message.code === 1008 ? 'bad-request' : 'server', ...(vendorCode ? { vendorCode } : {}) });
}

export class GradiumTTSService extends WebSocketTTSService<SentenceRequestContext> {
  override readonly model: string;
  readonly voice: string;

  constructor(options: GradiumTTSServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'GRADIUM_API_KEY');
    const rates: readonly number[] = GRADIUM_SAMPLE_RATES;
    if (options.sampleRate !== undefined && !rates.includes(options.sampleRate)) {
      throw new RangeError(`${new.target.name}: sampleRate must be one of ${rates.join(', ')}, got ${String(options.sampleRate)}`);
    }
    if (options.region !== undefined && options.region !== 'us' && options.region !== 'eu') {
      throw new RangeError(`${new.target.name}: region must be 'us' or 'eu', got ${JSON.stringify(options.region)}`);
    }
    const model = options.model?.trim() || 'default';
    const host = options.region === undefined ? 'wss://api.gradium.ai' : `wss://${options.region}.api.gradium.ai`;
    const base = (options.baseUrl ?? host).replace(/^http/, 'ws').replace(/\/+$/, '');
    super({
      name: options.name,
      sampleRate: options.sampleRate ?? 16000,
      sampleRates: rates,
      fixedSampleRate: options.sampleRate !== undefined,
      model,
      vendor: VENDOR,
      url: `${base}/api/speech/tts`,
      headers: { 'x-api-key': apiKey },
      apiKey,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      // Gradium sends word timings (`text`) among the audio; where exactly is not documented. Holding the audio (at
      // most 300 ms) until the first one keeps the words said exact: without it the sentence is reported whole first.
      holdAudioForWords: true,
      closedBeforeSend: 'connection closed before the text could be sent',
    });
    this.model = model;
    this.voice = options.voice?.trim() || GRADIUM_DEFAULT_VOICE;
  }

  protected override newContext(utterance: string, connection: TTSConnection, offsetMs: number): SentenceRequestContext {
    return newSentenceRequestContext(utterance, connection, offsetMs);
  }

  protected override sendSentence(context: SentenceRequestContext, text: string): void {
    const id = beginSentenceRequest(context);
    this.send(context.connection, {
      type: 'setup',
      model_name: this.model,
      voice_id: this.voice,
      output_format: gradiumPcmFormat(this.sampleRate),
      close_ws_on_eos: false,
      client_req_id: id,
    });
    this.send(context.connection, { type: 'text', text, client_req_id: id });
    this.send(context.connection, { type: 'end_of_stream', client_req_id: id });
  }

  /** Each request ends by itself with `end_of_stream`: nothing to close. */
  protected override finishContext(context: SentenceRequestContext): void {
    context.ended = true;
  }

  /** No cancel exists: the interrupted request's messages are dropped by their id. */
  protected override cancelMessage(): undefined {
    return undefined;
  }

  protected override describeHandshakeError(body: Record<string, unknown>): HandshakeErrorDetails {
    const code = body.code;
    return { message: stringField(body, 'message', 'detail', 'error'), code: typeof code === 'number' ? String(code) : stringField(body, 'code') };
  }

  protected override onServerMessage(connection: TTSConnection, message: Record<string, unknown>): void {
    const context = this.current;
    const sentence = context?.connection === connection ? context.sentence : undefined;
    const own = context !== undefined && sentence !== undefined && message.client_req_id === sentenceRequestId(context);
    if (message.type === 'error') {
      const error = inBandError(message, this.apiKey);
      connection.lastError = error;
      // An error without an id concerns what is in flight; one with another request's id is that request's.
      if (sentence !== undefined && (own || message.client_req_id === undefined)) sentence.fail(error);
      else this.logger.warn({ err: error }, `${VENDOR} reported an error outside the sentence in flight`);
      return;
    }
    if (!own) return;
    sentence.heard = true;
    sentence.watch(this.timeoutMs);
    switch (message.type) {
      case 'audio': {
        if (typeof message.audio !== 'string') return;
        const audio = this.decodeAudio(context, message.audio);
        if (audio.length > 0) sentence.push({ type: 'audio', audio });
        return;
      }
      case 'text': {
        const startSecs = message.start_s;
        if (typeof message.text !== 'string' || message.text.trim() === '' || typeof startSecs !== 'number') return;
        sentence.push({ type: 'word', text: message.text.trim(), offsetMs: sentenceWordOffsetMs(context, startSecs) });
        return;
      }
      case 'end_of_stream':
        sentence.end();
        return;
      default:
        return; // `ready` and anything newer
    }
  }
}
