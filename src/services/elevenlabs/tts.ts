// ElevenLabsTTSService: ElevenLabs text-to-speech over the multi-context WebSocket
// (`/v1/text-to-speech/{voice_id}/multi-stream-input`), one socket per service instance, opened when the pipeline
// starts and reopened lazily when it has dropped (ElevenLabs closes an idle socket with 1008 after
// `inactivity_timeout`, 20 s by default).
//
// Why the protocol directly with `ws` and not the ElevenLabs SDK: the SDK's realtime helper speaks the
// single-context endpoint and hides the socket; WebSocketTTSService (services/base) holds the one socket shared by
// every utterance, the contexts' lifecycle and the hand-off of each sentence's audio, and this file is ElevenLabs'
// protocol on top of it (`close_context` on barge-in without waiting, the handshake's HTTP error body).
//
// How an utterance maps onto the protocol. The TTSService base calls `synthesize` once per sentence, in order,
// with one `contextId` per LLM response (or speak frame). All sentences of an utterance go into one ElevenLabs
// context (prosody carries across them): the first message opens it (`text: " "` with the voice settings), then
// each sentence is sent with `flush: true` so it is generated at once. ElevenLabs marks no end of a flush
// (`isFinal` only comes when the context closes), so the end of a sentence's audio is told by the character
// alignment that comes with every chunk (`sync_alignment=true`): once the alignment has covered every character
// sent, the sentence is complete. Should alignment be missing or fall short, a sentence ends after `sentenceIdleMs`
// without more audio. When the base closes the utterance (its `tts-stopped` frame) or on an interruption, the
// context is closed (`close_context`) and whatever still arrives for it is dropped.
//
// Word timings come from the alignment: a word starts at its first character. Whether the server counts
// `charStartTimesMs` from each message or from the context's start is not documented and clients disagree, so by
// default it is told from the numbers themselves (see `alignmentTimeBase`); either way the offsets given to the
// pipeline are from the utterance's start, in audio time.
import { ServiceError, type ServiceErrorCode, type TTSChunk } from '../base/index.js';
import { isRecord } from '../base/json.js';
import { redactSecrets, requireApiKey } from '../base/vendor-errors.js';
import {
  WebSocketTTSService,
  WireAudioDecoder,
  stringField,
  type HandshakeErrorDetails,
  type SentenceStream,
  type TTSConnection,
  type TTSSocketContext,
  type WireEncoding,
} from '../base/websocket-tts.js';

const VENDOR = 'ElevenLabs';
const DEFAULT_BASE_URL = 'wss://api.elevenlabs.io';
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_KEEP_ALIVE_MS = 10_000;
const DEFAULT_SENTENCE_IDLE_MS = 1500;

export const ELEVENLABS_PCM_SAMPLE_RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000] as const;
export type ElevenLabsEncoding = 'pcm' | 'ulaw' | 'alaw';

export interface ElevenLabsVoiceSettings {
  /** 0 to 1. */
  stability?: number;
  /** 0 to 1. */
  similarityBoost?: number;
  /** 0 to 1. */
  style?: number;
  useSpeakerBoost?: boolean;
  /** 0.7 to 1.2. */
  speed?: number;
}

export interface ElevenLabsTTSServiceOptions {
  apiKey: string;
  /** The voice's id (from the ElevenLabs voice library). Required. */
  voiceId: string;
  /** Default 'eleven_flash_v2_5' (the lowest latency; multi-context is not available for eleven_v3). */
  model?: string;
  /** 'pcm' (raw s16le), 'ulaw' or 'alaw' (8 kHz only, decoded to PCM16 here). Default 'pcm'. */
  encoding?: ElevenLabsEncoding;
  /** PCM: 8000, 16000, 22050, 24000, 32000, 44100 or 48000, default 16000; μ-law and A-law: 8000. */
  sampleRate?: number;
  /** Sent when the context opens. */
  voiceSettings?: ElevenLabsVoiceSettings;
  /** ISO 639-1 code (`language_code`), for the models that take one (the v2.5 models). */
  language?: string;
  /** `auto_mode`: no chunk schedule or buffering, right for whole sentences as this service sends. Default true. */
  autoMode?: boolean;
  /** `generation_config.chunk_length_schedule` (used when autoMode is off). */
  chunkLengthSchedule?: number[];
  /** `inactivity_timeout` in seconds (ElevenLabs: default 20, at most 180); sent only when set. */
  inactivityTimeoutSecs?: number;
  /** `apply_text_normalization`. */
  applyTextNormalization?: 'auto' | 'on' | 'off';
  /** `enable_logging=false` is zero-retention mode (enterprise). */
  enableLogging?: boolean;
  seed?: number;
  /**
   * How `charStartTimesMs` are counted: from each message's first audio ('message'), from the context's start
   * ('context'), or told from the numbers ('auto', default).
   */
  alignmentTimeBase?: 'auto' | 'message' | 'context';
  /** Default 'wss://api.elevenlabs.io' (http(s) URLs are accepted and turned into ws(s); a trailing /v1 is fine). */
  baseUrl?: string;
  /** The processor's name in logs and metrics. */
  name?: string;
  /** Longest wait for the handshake, and for the first audio of a sentence. Default 10 s. */
  timeoutMs?: number;
  /** A sentence whose alignment does not say it is complete ends after this long without more audio. Default 1500 ms. */
  sentenceIdleMs?: number;
  /** After this long without sending, an open context is kept alive (`{"text": ""}`). Default 10 s. */
  keepAliveIntervalMs?: number;
}

const WIRE_ENCODING: Readonly<Record<ElevenLabsEncoding, WireEncoding>> = { pcm: 's16le', ulaw: 'mulaw', alaw: 'alaw' };

type ChunkSink = Pick<SentenceStream, 'push'>;

/** One ElevenLabs context: all or part of one utterance of the base class. */
interface ElevenLabsContext extends TTSSocketContext {
  /** Its first message (with the voice settings) went out. */
  opened: boolean;
  /** Non-blank characters sent, and covered by the alignment received so far. */
  sentChars: number;
  alignedChars: number;
  /** The word being assembled from the alignment, and where it starts. */
  word: string;
  wordStartMs: number;
  /** What arrived after the previous sentence was taken as complete: it opens the next one. */
  late: TTSChunk[];
}

// ---- helpers --------------------------------------------------------------------------------------------------

function nonBlankLength(text: string): number {
  let count = 0;
  for (const ch of text) if (!/\s/.test(ch)) count++;
  return count;
}

/** What ElevenLabs' in-band error codes mean; any other is the service failing. */
const CODE_OF: Readonly<Record<string, ServiceErrorCode>> = {
  invalid_api_key: 'auth',
  detected_unusual_activity: 'auth',
  quota_exceeded: 'quota',
  payment_required: 'quota',
  invalid_request: 'bad-request',
  voice_not_found: 'bad-request',
  model_not_found: 'bad-request',
  too_many_concurrent_requests: 'rate-limited',
  // The socket went unused past the inactivity timeout: the server closes it.
  input_timeout_exceeded: 'timeout',
};
const STATUS_OF: Readonly<Record<string, number>> = {
  invalid_api_key: 401,
  quota_exceeded: 402,
  too_many_concurrent_requests: 429,
};

/** An in-band error (`{"message", "error", "code"}`). */
function streamError(message: Record<string, unknown>, apiKey: string): ServiceError {
  const code = stringField(message, 'error') ?? (isRecord(message.error) ? stringField(message.error, 'status', 'type') : undefined);
  const text = stringField(message, 'message') ?? (isRecord(message.error) ? stringField(message.error, 'message') : undefined) ?? code ?? 'unknown error';
  return new ServiceError(VENDOR, redactSecrets(text, [apiKey]), {
    status: code === undefined ? undefined : STATUS_OF[code],
    code: (code === undefined ? undefined : CODE_OF[code]) ?? 'server',
    vendorCode: code,
  });
}

function checkUnit(service: string, name: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && !(value >= min && value <= max)) {
    throw new RangeError(`${service}: ${name} must be between ${min} and ${max}, got ${value}`);
  }
}

let lastContextNumber = 0;

// ---- the service ----------------------------------------------------------------------------------------------

export class ElevenLabsTTSService extends WebSocketTTSService<ElevenLabsContext> {
  override readonly model: string;
  readonly voiceId: string;
  readonly encoding: ElevenLabsEncoding;
  /** The `output_format` asked for (it follows the call's output rate unless the user chose a rate). */
  get outputFormat(): string {
    return this.encoding === 'pcm' ? `pcm_${this.sampleRate}` : `${this.encoding}_8000`;
  }
  private readonly sentenceIdleMs: number;
  private readonly alignmentTimeBase: 'auto' | 'message' | 'context';
  /** Sent with the first message of every context. */
  private readonly contextSettings: Readonly<Record<string, unknown>>;

  constructor(options: ElevenLabsTTSServiceOptions) {
    const service = new.target.name;
    const apiKey = requireApiKey(options.apiKey, service, 'ELEVENLABS_API_KEY');
    const voiceId = typeof options.voiceId === 'string' ? options.voiceId.trim() : '';
    if (voiceId === '') throw new TypeError(`${service}: voiceId is required (the id of an ElevenLabs voice, from the voice library)`);
    const encoding = options.encoding ?? 'pcm';
    let sampleRate: number;
    if (encoding === 'pcm') {
      sampleRate = options.sampleRate ?? 16000;
      if (!(ELEVENLABS_PCM_SAMPLE_RATES as readonly number[]).includes(sampleRate)) {
        throw new RangeError(`${service}: sampleRate must be one of ${ELEVENLABS_PCM_SAMPLE_RATES.join(', ')} for pcm, got ${sampleRate}`);
      }
    } else if (encoding === 'ulaw' || encoding === 'alaw') {
      sampleRate = options.sampleRate ?? 8000;
      if (sampleRate !== 8000) throw new RangeError(`${service}: ${encoding} is only available at 8000 Hz, got ${sampleRate}`);
    } else {
      throw new RangeError(`${service}: encoding must be 'pcm', 'ulaw' or 'alaw', got ${String(encoding)}`);
    }
    const voice = options.voiceSettings ?? {};
    checkUnit(service, 'voiceSettings.stability', voice.stability, 0, 1);
    checkUnit(service, 'voiceSettings.similarityBoost', voice.similarityBoost, 0, 1);
    checkUnit(service, 'voiceSettings.style', voice.style, 0, 1);
    checkUnit(service, 'voiceSettings.speed', voice.speed, 0.7, 1.2);
    checkUnit(service, 'inactivityTimeoutSecs', options.inactivityTimeoutSecs, 1, 180);
    const model = options.model ?? 'eleven_flash_v2_5';
    // output_format is set again when a socket opens (the rate may follow the call's), in its place in the query.
    const query = new URLSearchParams({ model_id: model, output_format: '', sync_alignment: 'true', auto_mode: String(options.autoMode ?? true) });
    if (options.language !== undefined) query.set('language_code', options.language);
    if (options.inactivityTimeoutSecs !== undefined) query.set('inactivity_timeout', String(options.inactivityTimeoutSecs));
    if (options.applyTextNormalization !== undefined) query.set('apply_text_normalization', options.applyTextNormalization);
    if (options.enableLogging !== undefined) query.set('enable_logging', String(options.enableLogging));
    if (options.seed !== undefined) query.set('seed', String(options.seed));
    const base = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/^http/, 'ws').replace(/\/+$/, '').replace(/\/v1$/, '');
    const socketPath = `${base}/v1/text-to-speech/${encodeURIComponent(voiceId)}/multi-stream-input`;
    super({
      name: options.name,
      sampleRate,
      // PCM comes at any of its rates: a call's own output rate unless the user chose one (μ-law/A-law: 8 kHz only).
      sampleRates: encoding === 'pcm' ? ELEVENLABS_PCM_SAMPLE_RATES : [8000],
      fixedSampleRate: options.sampleRate !== undefined,
      model,
      vendor: VENDOR,
      // The output format goes in the URL: read when a socket opens, after the call has chosen its rate.
      url: () => {
        const withFormat = new URLSearchParams(query);
        withFormat.set('output_format', this.outputFormat);
        return `${socketPath}?${withFormat.toString()}`;
      },
      headers: { 'xi-api-key': apiKey },
      apiKey,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      // A chunk can end in the middle of the sentence's first word.
      holdAudioForWords: true,
      closedBeforeSend: 'connection closed before the text could be sent',
      keepAliveIntervalMs: options.keepAliveIntervalMs ?? DEFAULT_KEEP_ALIVE_MS,
      farewell: { close_socket: true },
    });
    this.model = model;
    this.voiceId = voiceId;
    this.encoding = encoding;
    this.sentenceIdleMs = options.sentenceIdleMs ?? DEFAULT_SENTENCE_IDLE_MS;
    this.alignmentTimeBase = options.alignmentTimeBase ?? 'auto';

    const settings: Record<string, unknown> = {};
    const voiceSettings: Record<string, unknown> = {};
    if (voice.stability !== undefined) voiceSettings.stability = voice.stability;
    if (voice.similarityBoost !== undefined) voiceSettings.similarity_boost = voice.similarityBoost;
    if (voice.style !== undefined) voiceSettings.style = voice.style;
    if (voice.useSpeakerBoost !== undefined) voiceSettings.use_speaker_boost = voice.useSpeakerBoost;
    if (voice.speed !== undefined) voiceSettings.speed = voice.speed;
    if (Object.keys(voiceSettings).length > 0) settings.voice_settings = voiceSettings;
    if (options.chunkLengthSchedule !== undefined) settings.generation_config = { chunk_length_schedule: options.chunkLengthSchedule };
    this.contextSettings = settings;
  }

  // ---- contexts -----------------------------------------------------------------------------------------------

  protected override newContext(utterance: string, connection: TTSConnection, offsetMs: number): ElevenLabsContext {
    return {
      id: `ctx-${(++lastContextNumber).toString(36)}-${Date.now().toString(36)}`,
      utterance,
      connection,
      offsetMs,
      audioMs: 0,
      opened: false,
      ended: false,
      sentChars: 0,
      alignedChars: 0,
      word: '',
      wordStartMs: 0,
      sentence: undefined,
      late: [],
      decoder: new WireAudioDecoder(WIRE_ENCODING[this.encoding]),
    };
  }

  /** The first sentence opens the context with the voice settings; each is flushed so it is generated at once. */
  protected override sendSentence(context: ElevenLabsContext, text: string): void {
    const sentence = context.sentence;
    for (const chunk of context.late.splice(0)) sentence?.push(chunk);
    // An alignment that overshot the previous sentence (a repeated pass) must not end this one early.
    context.alignedChars = Math.min(context.alignedChars, context.sentChars);
    context.sentChars += nonBlankLength(text);
    if (!context.opened) {
      this.send(context.connection, { text: ' ', context_id: context.id, ...this.contextSettings });
      context.opened = true;
    }
    // Each piece of text should end with a space; `flush` has it generated now rather than buffered.
    this.send(context.connection, { text: /\s$/.test(text) ? text : `${text} `, context_id: context.id, flush: true });
  }

  /** ElevenLabs ends the context (its final message is then ignored); one never opened needs no message. */
  protected override cancelMessage(context: ElevenLabsContext): Record<string, unknown> | undefined {
    return context.opened ? { context_id: context.id, close_context: true } : undefined;
  }

  /** ElevenLabs closes idle sockets: a sentence sent into one that is gone is said again on a fresh one. */
  protected override isStaleSocketError(error: ServiceError): boolean {
    return error.code === 'connection-lost' || error.vendorCode === 'input_timeout_exceeded';
  }

  /** The watchdog: no first audio within timeoutMs is a failure; no more audio for sentenceIdleMs ends the sentence. */
  protected override onSentenceIdle(context: ElevenLabsContext, sentence: SentenceStream): void {
    if (sentence.heard) {
      this.flushWord(context, sentence);
      sentence.end();
      return;
    }
    super.onSentenceIdle(context, sentence);
  }

  /** Keeps the open context alive while the LLM is slow to give the next sentence (`{"text": ""}` does not close it). */
  protected override keepAliveMessage(connection: TTSConnection): Record<string, unknown> | undefined {
    const context = this.current;
    if (context === undefined || context.connection !== connection || !context.opened || context.ended) return undefined;
    return { text: '', context_id: context.id };
  }

  /** A handshake's HTTP error body: `{"detail": {"status", "message"}}`, or `{"detail": "..."}`. */
  protected override describeHandshakeError(body: Record<string, unknown>): HandshakeErrorDetails {
    const detail = body.detail;
    if (isRecord(detail)) return { message: stringField(detail, 'message'), code: stringField(detail, 'status', 'code') };
    return { message: stringField(body, 'detail', 'message', 'error'), code: stringField(body, 'error', 'code') };
  }

  // ---- what the server sends ------------------------------------------------------------------------------------

  protected override onServerMessage(connection: TTSConnection, message: Record<string, unknown>): void {
    const contextId = message.contextId ?? message.context_id;
    const context = this.current;
    const mine = context !== undefined && context.connection === connection && contextId === context.id;
    const isError = typeof message.error === 'string' || isRecord(message.error);
    if (isError) {
      const error = streamError(message, this.apiKey);
      // An error about no context in particular concerns the socket and the sentence in flight; one about a
      // context already left behind (its late close, say) concerns neither.
      if (!mine && contextId !== undefined) {
        this.logger.debug({ err: error }, 'ElevenLabs reported an error about a finished context');
        return;
      }
      connection.lastError = error;
      if (context?.connection === connection && context.sentence !== undefined) context.sentence.fail(error);
      else this.logger.debug({ err: error }, 'ElevenLabs reported an error outside a sentence');
      return;
    }
    if (!mine) return;
    const sentence = context.sentence;
    if (typeof message.audio === 'string' && message.audio !== '') {
      this.onAudio(context, sentence, message);
    }
    if (message.isFinal === true || message.is_final === true) {
      context.ended = true;
      if (sentence !== undefined) {
        this.flushWord(context, sentence);
        sentence.end();
      }
    }
  }

  private onAudio(context: ElevenLabsContext, sentence: SentenceStream | undefined, message: Record<string, unknown>): void {
    const audioBeforeMs = context.audioMs;
    const audio = this.decodeAudio(context, message.audio as string);
    // Audio after the sentence was taken as complete (its tail, or a repeated alignment pass) belongs to the
    // utterance all the same: it opens the next sentence, in order.
    const sink = sentence ?? { push: (chunk: TTSChunk) => context.late.push(chunk) };
    if (sentence !== undefined) sentence.heard = true;
    const alignment = [message.alignment, message.normalizedAlignment, message.normalized_alignment].find(isRecord);
    if (alignment !== undefined) this.onAlignment(context, sink, alignment, audioBeforeMs);
    if (audio.length > 0) sink.push({ type: 'audio', audio });
    if (sentence === undefined) return;
    if (context.alignedChars >= context.sentChars) {
      this.flushWord(context, sentence);
      sentence.end();
    } else {
      sentence.watch(this.sentenceIdleMs);
    }
  }

  /** Words from a message's character alignment, and how many characters it covered. */
  private onAlignment(context: ElevenLabsContext, sentence: ChunkSink, alignment: Record<string, unknown>, audioBeforeMs: number): void {
    const chars = alignment.chars;
    const starts = alignment.charStartTimesMs ?? alignment.charsStartTimesMs ?? alignment.char_start_times_ms;
    if (!Array.isArray(chars) || !Array.isArray(starts)) return;
    const first: unknown = starts[0];
    const relative =
      this.alignmentTimeBase === 'message' ||
      (this.alignmentTimeBase === 'auto' && audioBeforeMs > 0 && typeof first === 'number' && first < audioBeforeMs / 2);
    const base = context.offsetMs + (relative ? audioBeforeMs : 0);
    chars.forEach((ch, i) => {
      const start: unknown = starts[i];
      if (typeof ch !== 'string') return;
      if (/^\s*$/.test(ch)) {
        this.flushWord(context, sentence);
        return;
      }
      context.alignedChars += nonBlankLength(ch);
      if (context.word === '') context.wordStartMs = base + (typeof start === 'number' ? start : 0);
      context.word += ch;
    });
  }

  private flushWord(context: ElevenLabsContext, sentence: ChunkSink): void {
    if (context.word === '') return;
    sentence.push({ type: 'word', text: context.word, offsetMs: Math.round(context.wordStartMs * 1000) / 1000 });
    context.word = '';
  }
}
