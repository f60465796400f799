// AssemblyAISTTService: AssemblyAI Universal Streaming (v3), one WebSocket (`/v3/ws`) per call, on the shared
// StreamingSTTService (services/base/streaming-stt.ts: connect, replay after a drop, finalise at VAD stop, bounded
// close, metrics). Facts and sources: docs/vendors/assemblyai.md. The wire protocol is spoken directly (binary
// audio out, a handful of JSON messages each way): the SDK would add a dependency and hide the close codes and the
// `Error` frame this client reads to tell a refused key from a busy account.
//
// Turns: AssemblyAI's own end-of-turn model would end turns on its silence rule while our VAD ends them on its
// own; two judges of one turn disagree. By default the model's end of turn is switched off
// (`end_of_turn_confidence_threshold=1`) and each VAD stop sends `ForceEndpoint`, whose final `Turn` completes the
// turn; `max_turn_silence` still ends a turn the VAD never closed. Set `endOfTurnConfidenceThreshold` to let the
// model end turns too.
//
// Audio goes out in frames of 50 ms or more (the service closes with 3007 on frames outside 50-1000 ms): the
// pipeline's 20 ms frames are joined. Credentials are checked after the upgrade: a refused key is an `Error` frame
// and close 1008, which is final; too many sessions (3009) and a server failure (3005) are retried like a drop.
import { pcmToMulaw } from '../../audio/index.js';
import type { TranscriptionWord } from '../../frames/index.js';
import { ServiceError } from '../base/service-error.js';
import { StreamingSTTService, type AudioSendLimits, type StreamingSTTConnection, type StreamingSTTServiceOptions } from '../base/streaming-stt.js';
import { redactSecrets, requireApiKey } from '../base/vendor-errors.js';

export const ASSEMBLYAI = 'AssemblyAI';

export type AssemblyAIEncoding = 'pcm_s16le' | 'pcm_mulaw';

export interface AssemblyAISTTServiceOptions extends StreamingSTTServiceOptions {
  apiKey: string;
  /**
   * `speech_model`. Default 'universal-streaming-english'; 'universal-streaming-multilingual' (English, Spanish,
   * French, German, Italian, Portuguese), 'u3-rt-pro'. AssemblyAI has no language parameter: the model decides.
   */
  model?: string;
  /** Default 'pcm_s16le'; 'pcm_mulaw' halves the bandwidth of 8 kHz phone audio. */
  encoding?: AssemblyAIEncoding;
  /** Punctuated, cased final transcripts (`format_turns`). Default true (the LLM reads them). */
  formatTurns?: boolean;
  /** 0-1; 1 (the default here) leaves ending turns to our VAD. AssemblyAI's own default is 0.4. */
  endOfTurnConfidenceThreshold?: number;
  /** Silence before a confident end of turn. AssemblyAI's default 400 ms. */
  minEndOfTurnSilenceWhenConfidentMs?: number;
  /** Silence that ends a turn whatever the model says. AssemblyAI's default 1280 ms. */
  maxTurnSilenceMs?: number;
  /** Detect the language (multilingual model); it is put on final transcripts. */
  languageDetection?: boolean;
  /** Any other query parameter, sent as given. */
  extraParams?: Readonly<Record<string, string | number | boolean>>;
  /** Default 'wss://streaming.assemblyai.com' (EU: 'wss://streaming.eu.assemblyai.com'). */
  baseUrl?: string;
}

interface AssemblyAIWord {
  start?: unknown;
  end?: unknown;
  text?: unknown;
  confidence?: unknown;
}

const TERMINATE = JSON.stringify({ type: 'Terminate' });
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** What an AssemblyAI close code (and the `Error` frame's text before it) means. */
export function assemblyAICloseError(code: number, text: string, secrets: readonly string[]): ServiceError {
  const message = `stream closed with ${code}${text === '' ? '' : ` (${redactSecrets(text, secrets)})`}`;
  const vendorCode = String(code);
  if (code === 1008 || code === 3009) {
    // 1008 "Unauthorized Connection: <reason>": a refused key, or an account or concurrency limit.
    if (/concurrent/i.test(text) || code === 3009) return new ServiceError(ASSEMBLYAI, message, { code: 'rate-limited', vendorCode });
    if (/balance|funds|credit/i.test(text)) return new ServiceError(ASSEMBLYAI, message, { code: 'quota', vendorCode });
    return new ServiceError(ASSEMBLYAI, `${message} (check ASSEMBLYAI_API_KEY)`, { code: 'auth', vendorCode });
  }
  if (code === 3005) return new ServiceError(ASSEMBLYAI, message, { code: 'server', vendorCode });
  // 3007 is either a frame outside 50-1000 ms (this client's bug) or audio sent faster than real time (a replay
  // after a drop can be): the second may pass.
  if (code === 3007 && /rate/i.test(text)) return new ServiceError(ASSEMBLYAI, message, { code: 'rate-limited', vendorCode });
  if (code === 3006 || code === 3007) return new ServiceError(ASSEMBLYAI, message, { code: 'bad-request', vendorCode });
  // 3008 (the session's 3 hours are up), 1000 unasked, 1006: a new session continues the call.
  return new ServiceError(ASSEMBLYAI, message, { code: 'connection-lost', vendorCode });
}

export class AssemblyAISTTService extends StreamingSTTService {
  readonly encoding: AssemblyAIEncoding;
  protected readonly vendor = ASSEMBLYAI;
  protected readonly secrets: readonly string[];
  private readonly apiKey: string;
  private readonly options: AssemblyAISTTServiceOptions;
  private readonly baseUrl: string;
  /** A ForceEndpoint waits for its final Turn. */
  private forceEndpointPending = false;
  /** The text of the `Error` frame that precedes an error close. */
  private lastErrorText: string | undefined;

  constructor(options: AssemblyAISTTServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'ASSEMBLYAI_API_KEY');
    const threshold = options.endOfTurnConfidenceThreshold;
    if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) {
      throw new RangeError(`${new.target.name}: endOfTurnConfidenceThreshold must be within 0-1, got ${threshold}`);
    }
    if (options.sampleRate !== undefined && !(Number.isInteger(options.sampleRate) && options.sampleRate > 0)) {
      throw new RangeError(`${new.target.name}: sampleRate must be a positive integer, got ${options.sampleRate}`);
    }
    super({ ...options, model: options.model ?? 'universal-streaming-english' });
    this.apiKey = apiKey;
    this.secrets = [apiKey];
    this.options = options;
    this.encoding = options.encoding ?? 'pcm_s16le';
    this.baseUrl = (options.baseUrl ?? 'wss://streaming.assemblyai.com').replace(/^http(s?):\/\//i, 'ws$1://').replace(/\/+$/, '').replace(/\/v3\/ws$/, '');
  }

  /** The `/v3/ws` URL (no secret in it: the key goes in the `Authorization` header). */
  get url(): string {
    const o = this.options;
    const params = new URLSearchParams({
      sample_rate: String(this.sampleRate),
      encoding: this.encoding,
      speech_model: this.model ?? 'universal-streaming-english',
      format_turns: String(o.formatTurns ?? true),
      end_of_turn_confidence_threshold: String(o.endOfTurnConfidenceThreshold ?? 1),
    });
    if (o.minEndOfTurnSilenceWhenConfidentMs !== undefined) params.set('min_end_of_turn_silence_when_confident', String(o.minEndOfTurnSilenceWhenConfidentMs));
    if (o.maxTurnSilenceMs !== undefined) params.set('max_turn_silence', String(o.maxTurnSilenceMs));
    if (o.languageDetection === true) params.set('language_detection', 'true');
    for (const [name, value] of Object.entries(o.extraParams ?? {})) params.set(name, String(value));
    return `${this.baseUrl}/v3/ws?${params.toString()}`;
  }

  protected override connection(): StreamingSTTConnection {
    this.forceEndpointPending = false;
    this.lastErrorText = undefined;
    // No keepalive: without `inactivity_timeout` the service does not close an idle session.
    return { url: this.url, headers: { Authorization: this.apiKey }, closeMessage: TERMINATE };
  }

  protected override get audioSendLimits(): AudioSendLimits {
    return { minChunkSamples: Math.ceil(this.sampleRate * 0.05), maxChunkSamples: Math.floor(this.sampleRate * 1) };
  }

  protected override encodeAudio(audio: Int16Array): Buffer {
    if (this.encoding === 'pcm_mulaw') {
      const codes = pcmToMulaw(audio);
      return Buffer.from(codes.buffer, codes.byteOffset, codes.byteLength);
    }
    return super.encodeAudio(audio);
  }

  protected override requestFinalize(): void {
    this.forceEndpointPending = true;
    this.sendJSON({ type: 'ForceEndpoint' });
  }

  protected override closeError(code: number, reason: string): ServiceError {
    return assemblyAICloseError(code, this.lastErrorText ?? reason, this.secrets);
  }

  protected override onVendorMessage(message: Readonly<Record<string, unknown>>): void {
    switch (message.type) {
      case 'Turn':
        this.onTurn(message);
        return;
      case 'Error':
        this.lastErrorText = typeof message.error === 'string' ? message.error : `error ${String(message.error_code)}`;
        return;
      case 'Begin':
        this.logger.debug({ sessionId: message.id }, 'AssemblyAI: session began');
        return;
      case 'Termination':
        this.logger.debug({ audioSecs: message.audio_duration_seconds }, 'AssemblyAI: session terminated');
        return;
      default:
        this.logger.debug({ type: redactSecrets(String(message.type), this.secrets) }, 'AssemblyAI: message ignored');
    }
  }

  private onTurn(turn: Readonly<Record<string, unknown>>): void {
    const transcript = typeof turn.transcript === 'string' ? turn.transcript.trim() : '';
    const endOfTurn = turn.end_of_turn === true;
    // With formatting, the final is the formatted copy that follows the unformatted end of turn.
    const final = endOfTurn && (turn.turn_is_formatted === true || this.options.formatTurns === false);
    if (endOfTurn && !final) return;
    const words = this.wordsOf(turn.words);
    const language = typeof turn.language_code === 'string' ? turn.language_code : undefined;
    this.emitTranscript(transcript, final, { ...(language === undefined ? {} : { language }), words });
    if (!final) return;
    const lastEndMs = Array.isArray(turn.words) ? num((turn.words.at(-1) as AssemblyAIWord | undefined)?.end) : undefined;
    if (lastEndMs !== undefined) this.finalReached(lastEndMs / 1000);
    if (this.forceEndpointPending) {
      this.forceEndpointPending = false;
      this.finalizeAnswered();
    }
  }

  private wordsOf(value: unknown): TranscriptionWord[] {
    if (!Array.isArray(value)) return [];
    const words: TranscriptionWord[] = [];
    for (const w of value as AssemblyAIWord[]) {
      const start = num(w.start);
      const end = num(w.end);
      if (typeof w.text !== 'string' || start === undefined || end === undefined) continue;
      const confidence = num(w.confidence);
      words.push({ word: w.text, start: this.toCallTime(start / 1000), end: this.toCallTime(end / 1000), ...(confidence === undefined ? {} : { confidence }) });
    }
    return words;
  }
}
