// GladiaSTTService: Gladia live transcription (v2), on the shared StreamingSTTService (services/base/streaming-stt.ts).
// Facts and sources: docs/vendors/gladia.md.
//
// Each socket starts with an HTTP call: `POST /v2/live` (key in `x-gladia-key`, the audio format and options in the
// JSON body) answers `{id, url}`, a WebSocket address holding a one-session token; the key never goes on the
// socket. Audio goes as binary PCM; `transcript` messages carry `data.is_final` and `data.utterance` (text, start
// and end seconds from the session's start, language, words). Gladia ends utterances itself (`endpointing`); its
// reference names no "finalise now" message, so a VAD stop asks for nothing and the turn is complete when a final
// utterance reaches it. `{"type":"stop_recording"}` ends the call; Gladia sends the last finals and closes.
// A drop opens a new session (a fresh POST): the safest reading, since resuming a session's URL is documented
// only as possible, and the base replays the audio final results do not cover.
import type { TranscriptionWord } from '../../frames/index.js';
import { ServiceError } from '../base/service-error.js';
import { StreamingSTTService, type StreamingSTTConnection, type StreamingSTTServiceOptions } from '../base/streaming-stt.js';
import { redactSecrets, requireApiKey, retryAfterSecs } from '../base/vendor-errors.js';

export const GLADIA = 'Gladia';

/** The sample rates Gladia's session accepts for `wav/pcm`. */
export const GLADIA_SAMPLE_RATES: readonly number[] = [8000, 16000, 32000, 44100, 48000];

export interface GladiaSTTServiceOptions extends StreamingSTTServiceOptions {
  apiKey: string;
  /** Default 'solaria-1'. */
  model?: string;
  /** Languages expected (`language_config.languages`), e.g. ['hi', 'en']; none: Gladia detects. */
  languages?: readonly string[];
  /** Let the language change between utterances (`language_config.code_switching`). Default false. */
  codeSwitching?: boolean;
  /** Silence that ends an utterance on Gladia's side (`endpointing`, seconds, 0.01 to 10). Default 0.05. */
  endpointingSecs?: number;
  /** Interim (partial) transcripts. Default true. */
  interimResults?: boolean;
  /** Any other session field (`pre_processing`, `realtime_processing`, ...), sent as given. */
  extraConfig?: Readonly<Record<string, unknown>>;
  /** Default 'https://api.gladia.io'. */
  baseUrl?: string;
  /** Longest wait for the session POST. Default 10 000 ms. */
  sessionTimeoutMs?: number;
}

interface GladiaWord {
  word?: unknown;
  start?: unknown;
  end?: unknown;
  confidence?: unknown;
}

interface GladiaUtterance {
  text?: unknown;
  start?: unknown;
  end?: unknown;
  language?: unknown;
  words?: unknown;
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** A refused session POST as a ServiceError: the status read with the one table, the body without the key. */
export function gladiaSessionError(status: number, body: string, secrets: readonly string[], retryAfter?: number): ServiceError {
  const hint = status === 401 ? ' (check GLADIA_API_KEY)' : '';
  const detail = body.trim() === '' ? '' : ` ${body.trim().slice(0, 300)}`;
  return new ServiceError(GLADIA, redactSecrets(`session refused: ${status}${detail}${hint}`, secrets), {
    status,
    vendorCode: String(status),
    ...(retryAfter === undefined ? {} : { retryAfterSecs: retryAfter }),
  });
}

export class GladiaSTTService extends StreamingSTTService {
  protected readonly vendor = GLADIA;
  protected readonly secrets: readonly string[];
  private readonly apiKey: string;
  private readonly options: GladiaSTTServiceOptions;
  private readonly baseUrl: string;
  /** Gladia is in an utterance (speech started or a partial came) whose final has not come yet. */
  private utteranceOpen = false;
  /** A VAD stop waits for the open utterance's final. */
  private finalizeWanted = false;

  constructor(options: GladiaSTTServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'GLADIA_API_KEY');
    super({ ...options, model: options.model ?? 'solaria-1' });
    this.apiKey = apiKey;
    this.secrets = [apiKey];
    this.options = options;
    this.baseUrl = (options.baseUrl ?? 'https://api.gladia.io').replace(/\/+$/, '').replace(/\/v2\/live$/, '');
  }

  /** The session POST's body. */
  get sessionConfig(): Record<string, unknown> {
    const o = this.options;
    if (!GLADIA_SAMPLE_RATES.includes(this.sampleRate)) {
      // Not retried: no attempt can pass with this rate.
      throw new ServiceError(GLADIA, `takes ${GLADIA_SAMPLE_RATES.join(', ')} Hz, not ${this.sampleRate} (set sampleRate)`, { code: 'bad-request' });
    }
    return {
      encoding: 'wav/pcm',
      bit_depth: 16,
      sample_rate: this.sampleRate,
      channels: 1,
      model: this.model ?? 'solaria-1',
      endpointing: o.endpointingSecs ?? 0.05,
      language_config: { languages: [...(o.languages ?? [])], code_switching: o.codeSwitching ?? false },
      // Speech events tell a VAD stop whether Gladia is still in an utterance (see requestFinalize).
      messages_config: { receive_partial_transcripts: o.interimResults ?? true, receive_final_transcripts: true, receive_speech_events: true },
      ...o.extraConfig,
    };
  }

  protected override async connection(): Promise<StreamingSTTConnection> {
    // A new session starts with nothing open; a stop waiting on the old one is met by the replayed audio's final.
    this.utteranceOpen = false;
    const url = await this.startSession();
    return {
      url,
      // No keepalive: a call's transport sends audio (silence included) all the time.
      closeMessage: JSON.stringify({ type: 'stop_recording' }),
    };
  }

  /** `POST /v2/live`: the session's WebSocket address. */
  private async startSession(): Promise<string> {
    const body = JSON.stringify(this.sessionConfig);
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/v2/live`, {
        method: 'POST',
        headers: { 'x-gladia-key': this.apiKey, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.options.sessionTimeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new ServiceError(GLADIA, redactSecrets(`session request failed: ${String(error)}`, this.secrets), { code: 'connection-failed', cause: error });
    }
    const answer = await response.text();
    if (!response.ok) throw gladiaSessionError(response.status, answer, this.secrets, retryAfterSecs(response.headers));
    let url: unknown;
    try {
      url = (JSON.parse(answer) as { url?: unknown }).url;
    } catch {
      url = undefined;
    }
    if (typeof url !== 'string' || !/^wss?:\/\//.test(url)) {
      throw new ServiceError(GLADIA, `session answer has no WebSocket url (${response.status})`, { code: 'server', retryable: true });
    }
    return url;
  }

  protected override requestFinalize(): void {
    // Gladia has no "finalise now" message; its endpointing ends utterances. With none open there (the last one
    // final, no speech since) the turn is complete now; otherwise at the final that closes the open one.
    if (this.utteranceOpen) this.finalizeWanted = true;
    else this.finalizeAnswered();
  }

  protected override onUserStartedSpeaking(): void {
    this.finalizeWanted = false;
    super.onUserStartedSpeaking();
  }

  protected override onVendorMessage(message: Readonly<Record<string, unknown>>): void {
    if (message.type === 'transcript') {
      const data = message.data as { is_final?: unknown; utterance?: GladiaUtterance } | undefined;
      if (data?.utterance !== undefined) this.onUtterance(data.utterance, data.is_final === true);
    } else if (message.type === 'speech_start') {
      this.utteranceOpen = true;
    } else if (message.type === 'speech_end') {
      // Speech that held no words ends with no final. The order of `speech_end` and the final is not in what we
      // read; the final is taken to come first (as the fake sends them), so a stop is complete here at the latest.
      this.utteranceOpen = false;
      this.answerWantedFinalize();
    } else if (message.type === 'error') {
      this.logger.warn({ error: redactSecrets(JSON.stringify(message.data ?? message), this.secrets) }, `${GLADIA} reported an error`);
    } else if (message.type === 'end_session') {
      this.endOfStreamReached();
    }
  }

  private onUtterance(utterance: GladiaUtterance, final: boolean): void {
    const text = typeof utterance.text === 'string' ? utterance.text.trim() : '';
    if (!final) {
      this.utteranceOpen = true;
      this.emitTranscript(text, false);
      return;
    }
    this.utteranceOpen = false;
    const language = typeof utterance.language === 'string' ? utterance.language : undefined;
    this.emitTranscript(text, true, { ...(language === undefined ? {} : { language }), words: this.words(utterance.words) });
    const end = num(utterance.end);
    if (end !== undefined) this.finalReached(end);
    this.answerWantedFinalize();
  }

  private answerWantedFinalize(): void {
    if (!this.finalizeWanted) return;
    this.finalizeWanted = false;
    this.finalizeAnswered();
  }

  private words(raw: unknown): TranscriptionWord[] {
    if (!Array.isArray(raw)) return [];
    const words: TranscriptionWord[] = [];
    for (const w of raw as GladiaWord[]) {
      const start = num(w.start);
      const end = num(w.end);
      const word = typeof w.word === 'string' ? w.word.trim() : '';
      if (word === '' || start === undefined || end === undefined) continue;
      const confidence = num(w.confidence);
      words.push({ word, start: this.toCallTime(start), end: this.toCallTime(end), ...(confidence === undefined ? {} : { confidence }) });
    }
    return words;
  }
}
