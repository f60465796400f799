// ElevenLabsRealtimeSTTService: ElevenLabs Scribe realtime (`wss://api.elevenlabs.io/v1/speech-to-text/realtime`),
// one WebSocket per call, on the shared StreamingSTTService (services/base/streaming-stt.ts). Facts and sources:
// docs/vendors/elevenlabs-stt.md.
//
// The socket's configuration is its query (`model_id`, `audio_format` such as `pcm_16000`, `commit_strategy`,
// `language_code`, `include_timestamps`, the VAD settings), the key the `xi-api-key` header. Audio goes as JSON
// text frames, `{"message_type": "input_audio_chunk", "audio_base_64", "commit": false, "sample_rate"}`. Scribe
// answers `partial_transcript` while speech goes on and `committed_transcript` when a segment is committed. With the
// `manual` commit strategy (the default here) our VAD ends turns: a stop sends a commit (an empty chunk with
// `commit: true`) and its committed transcript completes the turn; a commit covers all audio sent before it, which is
// where the replay after a drop is cut. With `vad` Scribe commits on its own silence detection; timestamps are asked
// for then, and the committed transcript read is the one with words (`committed_transcript_with_timestamps`, which
// follows the plain one), whose last word's end says how far the commit reaches. Errors come in band (`{"message_type": "auth_error" | "rate_limited" | ..., "error"}`)
// before the close, and are read by their type: auth, quota, terms and bad input are final, the rest retried.
import type { TranscriptionWord } from '../../frames/index.js';
import { ServiceError, type ServiceErrorCode } from '../base/service-error.js';
import { StreamingSTTService, type StreamingSTTConnection, type StreamingSTTServiceOptions } from '../base/streaming-stt.js';
import { redactSecrets, requireApiKey } from '../base/vendor-errors.js';

const VENDOR = 'ElevenLabs';

/** The PCM rates Scribe realtime takes (`audio_format` `pcm_<rate>`). */
export const ELEVENLABS_REALTIME_SAMPLE_RATES: readonly number[] = [8000, 16000, 22050, 24000, 44100, 48000];

export type ElevenLabsCommitStrategy = 'manual' | 'vad';

export interface ElevenLabsRealtimeSTTServiceOptions extends Omit<StreamingSTTServiceOptions, 'model' | 'sampleRate'> {
  apiKey: string;
  /** `model_id`. Default 'scribe_v2_realtime'. */
  model?: 'scribe_v2_realtime' | (string & {});
  /** `language_code`, ISO-639-1 or -3 ('hi', 'en', 'hin'); unset lets Scribe detect it (and report it). */
  language?: string;
  /**
   * Who ends a segment: 'manual' (default) — our VAD, with a commit at each stop; 'vad' — Scribe's own silence
   * detection (a stop then waits for Scribe's commit).
   */
  commitStrategy?: ElevenLabsCommitStrategy;
  /** With 'vad': silence that commits, 0.3 to 3 s. */
  vadSilenceThresholdSecs?: number;
  /** With 'vad': Scribe's VAD threshold, 0.1 to 0.9. */
  vadThreshold?: number;
  /** With 'vad': 50 to 2000 ms. */
  minSpeechDurationMs?: number;
  /** With 'vad': 50 to 2000 ms. */
  minSilenceDurationMs?: number;
  /** Words to bias recognition towards (`keyterms`; at most 50, each up to 20 characters). */
  keyterms?: readonly string[];
  /** The PCM rate sent. Default: the call's input rate when Scribe takes it, else 16000 (the audio is resampled). */
  sampleRate?: 8000 | 16000 | 22050 | 24000 | 44100 | 48000;
  /** Default 'wss://api.elevenlabs.io'. */
  baseUrl?: string;
}

/** In-band error types that are not failures of the session: logged, the session goes on. */
const NOTICES = new Set(['commit_throttled', 'insufficient_audio_activity']);

/** What each in-band error type means; any other `*error*` type is the server's trouble (retried). */
const CODE_OF: Readonly<Record<string, ServiceErrorCode>> = {
  auth_error: 'auth',
  unaccepted_terms: 'auth',
  quota_exceeded: 'quota',
  rate_limited: 'rate-limited',
  queue_overflow: 'rate-limited',
  resource_exhausted: 'rate-limited',
  input_error: 'bad-request',
  invalid_request: 'bad-request',
  chunk_size_exceeded: 'bad-request',
  session_time_limit_exceeded: 'connection-lost',
  transcriber_error: 'server',
  error: 'server',
};

/** An in-band error message as a ServiceError (the key cut out). */
export function elevenLabsRealtimeError(type: string, text: string, secrets: readonly string[]): ServiceError {
  const code = CODE_OF[type] ?? 'server';
  const hint = code === 'auth' ? ' (check ELEVENLABS_API_KEY)' : '';
  return new ServiceError(VENDOR, redactSecrets(`realtime ${type}: ${text}${hint}`, secrets), { code, vendorCode: type });
}

interface ScribeWord {
  text?: unknown;
  start?: unknown;
  end?: unknown;
  type?: unknown;
  logprob?: unknown;
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

export class ElevenLabsRealtimeSTTService extends StreamingSTTService {
  protected readonly vendor = VENDOR;
  protected readonly secrets: readonly string[];
  override readonly model: string;
  readonly language: string | undefined;
  readonly commitStrategy: ElevenLabsCommitStrategy;
  private readonly apiKey: string;
  private readonly options: ElevenLabsRealtimeSTTServiceOptions;
  private readonly baseUrl: string;
  /** Samples sent on the current socket. */
  private socketSamples = 0;
  /** Samples sent since the last commit (ours or Scribe's). */
  private uncommittedSamples = 0;
  /** Where each commit we sent and Scribe has not answered yet ends (socket samples), oldest first. */
  private pendingCommits: number[] = [];
  /** With 'vad': Scribe heard words (a partial) that it has not committed yet. */
  private heardSinceCommit = false;
  /** With 'vad': a VAD stop waits for Scribe's next commit. */
  private finalizeWanted = false;
  private lastError: ServiceError | undefined;

  constructor(options: ElevenLabsRealtimeSTTServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'ELEVENLABS_API_KEY');
    if (options.sampleRate !== undefined && !ELEVENLABS_REALTIME_SAMPLE_RATES.includes(options.sampleRate)) {
      throw new RangeError(`${new.target.name}: Scribe takes ${ELEVENLABS_REALTIME_SAMPLE_RATES.join(', ')} Hz, not ${String(options.sampleRate)}`);
    }
    checkRange(new.target.name, 'vadSilenceThresholdSecs', options.vadSilenceThresholdSecs, 0.3, 3);
    checkRange(new.target.name, 'vadThreshold', options.vadThreshold, 0.1, 0.9);
    checkRange(new.target.name, 'minSpeechDurationMs', options.minSpeechDurationMs, 50, 2000);
    checkRange(new.target.name, 'minSilenceDurationMs', options.minSilenceDurationMs, 50, 2000);
    const model = options.model ?? 'scribe_v2_realtime';
    super({ ...options, model });
    this.model = model;
    this.language = options.language;
    this.commitStrategy = options.commitStrategy ?? 'manual';
    this.apiKey = apiKey;
    this.secrets = [apiKey];
    this.options = options;
    this.baseUrl = (options.baseUrl ?? 'wss://api.elevenlabs.io')
      .replace(/^http(s?):\/\//i, 'ws$1://')
      .replace(/\/+$/, '')
      .replace(/\/v1\/speech-to-text\/realtime$/, '');
  }

  /** The call's input rate when Scribe takes it (no resampling), else 16 kHz. */
  protected override get sampleRate(): number {
    if (this.options.sampleRate !== undefined) return this.options.sampleRate;
    const rate = super.sampleRate;
    return ELEVENLABS_REALTIME_SAMPLE_RATES.includes(rate) ? rate : 16000;
  }

  /** The socket's query, as Scribe reads it. */
  get query(): URLSearchParams {
    const o = this.options;
    const query = new URLSearchParams({ model_id: this.model, audio_format: `pcm_${this.sampleRate}`, commit_strategy: this.commitStrategy });
    if (this.language !== undefined) query.set('language_code', this.language);
    if (this.commitStrategy === 'vad') {
      // Scribe's commits come when it decides: only word times say how far each reaches.
      query.set('include_timestamps', 'true');
      if (o.vadSilenceThresholdSecs !== undefined) query.set('vad_silence_threshold_secs', String(o.vadSilenceThresholdSecs));
      if (o.vadThreshold !== undefined) query.set('vad_threshold', String(o.vadThreshold));
      if (o.minSpeechDurationMs !== undefined) query.set('min_speech_duration_ms', String(o.minSpeechDurationMs));
      if (o.minSilenceDurationMs !== undefined) query.set('min_silence_duration_ms', String(o.minSilenceDurationMs));
    }
    for (const term of o.keyterms ?? []) query.append('keyterms', term);
    return query;
  }

  protected override connection(): StreamingSTTConnection {
    this.socketSamples = 0;
    this.uncommittedSamples = 0;
    this.pendingCommits = [];
    this.heardSinceCommit = false;
    this.lastError = undefined;
    return {
      url: `${this.baseUrl}/v1/speech-to-text/realtime?${this.query.toString()}`,
      headers: { 'xi-api-key': this.apiKey },
      // No keepalive: a call's transport sends audio (silence included) all the time.
      // The end of the call commits what is left; its committed transcript closes the socket.
      closeMessage: () => this.closingCommit(),
    };
  }

  /** A commit (an empty chunk with `commit: true`), remembered as awaiting its transcript. */
  private commit(): Record<string, unknown> {
    this.pendingCommits.push(this.socketSamples);
    this.uncommittedSamples = 0;
    return { message_type: 'input_audio_chunk', audio_base_64: '', commit: true, sample_rate: this.sampleRate };
  }

  private closingCommit(): string {
    // Nothing sent since the last commit, and no answer awaited: nothing more will come, close at once.
    if (this.uncommittedSamples === 0 && this.pendingCommits.length === 0) queueMicrotask(() => this.endOfStreamReached());
    return JSON.stringify(this.commit());
  }

  protected override audioMessage(bytes: Buffer): string {
    const samples = bytes.length / 2;
    this.socketSamples += samples;
    this.uncommittedSamples += samples;
    return JSON.stringify({ message_type: 'input_audio_chunk', audio_base_64: bytes.toString('base64'), commit: false, sample_rate: this.sampleRate });
  }

  protected override requestFinalize(): void {
    if (this.commitStrategy === 'manual') {
      this.sendJSON(this.commit());
      return;
    }
    // Scribe commits on its own; a stop with no words heard since its last commit is complete now.
    if (this.heardSinceCommit) this.finalizeWanted = true;
    else this.finalizeAnswered();
  }

  protected override onUserStartedSpeaking(): void {
    this.finalizeWanted = false;
    super.onUserStartedSpeaking();
  }

  protected override closeError(code: number, reason: string): ServiceError {
    return this.lastError ?? super.closeError(code, reason);
  }

  protected override onVendorMessage(message: Readonly<Record<string, unknown>>): void {
    const type = typeof message.message_type === 'string' ? message.message_type : '';
    const text = typeof message.text === 'string' ? message.text.trim() : '';
    const timestamped = this.commitStrategy === 'vad';
    if (type === 'partial_transcript') {
      if (text !== '') this.heardSinceCommit = true;
      this.emitTranscript(text, false);
    }
    else if (type === (timestamped ? 'committed_transcript_with_timestamps' : 'committed_transcript')) this.onCommitted(text, message);
    else if (type === 'session_started' || type.startsWith('committed_transcript') || type.startsWith('final_transcript')) {
      // The other form of a commit, or a segment final but not committed yet: nothing to add.
    } else if (NOTICES.has(type)) {
      const detail = typeof message.error === 'string' ? message.error : '';
      this.logger.warn({ type, error: redactSecrets(detail, this.secrets) }, `${VENDOR} realtime notice`);
      // A throttled or empty commit is answered by no transcript: its turn is complete as it stands.
      if (this.pendingCommits.length > 0) this.onCommitAnswered(undefined);
    } else if (typeof message.error === 'string' || type.endsWith('error')) {
      this.lastError = elevenLabsRealtimeError(type, typeof message.error === 'string' ? message.error : '', this.secrets);
    }
  }

  private onCommitted(text: string, message: Readonly<Record<string, unknown>>): void {
    const { words, lastEndSecs } = this.words(message.words);
    this.heardSinceCommit = false;
    const language = typeof message.language_code === 'string' && message.language_code !== '' ? message.language_code : this.language;
    this.emitTranscript(text, true, { ...(language === undefined ? {} : { language }), ...(words.length === 0 ? {} : { words }) });
    if (this.pendingCommits.length > 0) {
      this.onCommitAnswered(this.pendingCommits[0]! / this.sampleRate);
      return;
    }
    // Scribe's own commit ('vad'): the words say how far it reaches.
    this.uncommittedSamples = 0;
    if (lastEndSecs !== undefined) this.finalReached(lastEndSecs);
    if (this.finalizeWanted) {
      this.finalizeWanted = false;
      this.finalizeAnswered();
    }
    this.endOfStreamReached();
  }

  /** Our oldest commit was answered; `reachSecs` (socket time) is how far its transcript covers the audio. */
  private onCommitAnswered(reachSecs: number | undefined): void {
    this.pendingCommits.shift();
    if (reachSecs !== undefined) this.finalReached(reachSecs);
    if (this.commitStrategy === 'manual') this.finalizeAnswered();
    if (this.pendingCommits.length === 0) this.endOfStreamReached();
  }

  /** Scribe's words (`type` 'word'; spacing and audio events left out) on the call's clock; the last end on the socket's. */
  private words(raw: unknown): { words: TranscriptionWord[]; lastEndSecs: number | undefined } {
    const words: TranscriptionWord[] = [];
    let lastEndSecs: number | undefined;
    if (!Array.isArray(raw)) return { words, lastEndSecs };
    for (const w of raw as ScribeWord[]) {
      const start = num(w.start);
      const end = num(w.end);
      const word = typeof w.text === 'string' ? w.text.trim() : '';
      if ((w.type !== undefined && w.type !== 'word') || word === '' || start === undefined || end === undefined) continue;
      const logprob = num(w.logprob);
      lastEndSecs = end;
      words.push({ word, start: this.toCallTime(start), end: this.toCallTime(end), ...(logprob === undefined ? {} : { confidence: Math.exp(logprob) }) });
    }
    return { words, lastEndSecs };
  }
}

function checkRange(service: string, name: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && !(value >= min && value <= max)) throw new RangeError(`${service}: ${name} must be between ${min} and ${max}, got ${value}`);
}
