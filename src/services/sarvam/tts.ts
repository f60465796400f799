// SarvamTTSService: Sarvam's Bulbul voices (Indian languages and Indian English) through the HTTP streaming endpoint
// (`POST /text-to-speech/stream`), raw PCM16 (`output_audio_codec: "linear16"`) read from the body as it arrives,
// so the first audio plays while the rest of the sentence is produced.
//
// The HTTP stream rather than the `/text-to-speech/ws` socket: the TTS base hands this service one sentence at a
// time and needs to know where each sentence's audio ends; a request per sentence has a natural end, and an
// interruption is an aborted request (the audio stops with the connection, no stale chunk to recognise and drop).
// Kept-alive connections make the per-sentence cost one HTTP exchange. Plain `fetch` (Node 20's undici): Sarvam's SDK
// would add a dependency, and its own retries, for one POST.
import { ServiceError, TTSService, type SynthesizeOptions, type TTSChunk } from '../base/index.js';
import { streamHttpBody } from '../base/http-stream.js';
import { requireApiKey } from '../base/vendor-errors.js';
import { WireAudioDecoder } from '../base/wire-audio.js';
import { SARVAM, sarvamHttpError } from './errors.js';

/** The rates Bulbul makes (24 kHz natively; lower rates on request, higher ones refused). */
export const SARVAM_TTS_SAMPLE_RATES = [8000, 16000, 22050, 24000] as const;
/** The longest text one stream request takes. */
export const SARVAM_TTS_MAX_CHARS = 3500;
/** The languages Bulbul speaks, as Sarvam names them (BCP-47 with the `-IN` region). */
export const SARVAM_TTS_LANGUAGES = ['hi-IN', 'bn-IN', 'ta-IN', 'te-IN', 'kn-IN', 'ml-IN', 'mr-IN', 'gu-IN', 'pa-IN', 'od-IN', 'en-IN'] as const;
export type SarvamLanguage = (typeof SARVAM_TTS_LANGUAGES)[number];

export interface SarvamTTSServiceOptions {
  apiKey: string;
  /** The language of the text (`target_language_code`). Default 'hi-IN'. */
  language?: SarvamLanguage | (string & {});
  /** A Bulbul voice (`speaker`), e.g. 'shubh' (the v3 default), 'priya', 'rahul', 'kavya'. Default: Sarvam's. */
  speaker?: string;
  /** Default 'bulbul:v3'. */
  model?: string;
  /** 0.5 to 2 on bulbul:v3. Default: Sarvam's (1). */
  pace?: number;
  /** A fixed output rate; by default the call's output rate (8 kHz on a phone line) when Bulbul can make it. */
  sampleRate?: (typeof SARVAM_TTS_SAMPLE_RATES)[number];
  /** Sarvam's text normalisation (numbers, dates, abbreviations in the target language). */
  enablePreprocessing?: boolean;
  /** Default `https://api.sarvam.ai`. */
  baseUrl?: string;
  /** Longest wait for the first audio, and then between two pieces of it. Default 10 s. */
  timeoutMs?: number;
  name?: string;
}

export class SarvamTTSService extends TTSService {
  override readonly model: string;
  readonly language: string;
  readonly speaker: string | undefined;
  private readonly apiKey: string;
  private readonly endpoint: string;
  private readonly pace: number | undefined;
  private readonly enablePreprocessing: boolean | undefined;
  private readonly timeoutMs: number;

  constructor(options: SarvamTTSServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'SARVAM_API_KEY');
    const rates: readonly number[] = SARVAM_TTS_SAMPLE_RATES;
    if (options.sampleRate !== undefined && !rates.includes(options.sampleRate)) {
      throw new RangeError(`${new.target.name}: Bulbul makes ${rates.join(', ')} Hz audio, not ${String(options.sampleRate)}`);
    }
    if (options.pace !== undefined && !(options.pace >= 0.5 && options.pace <= 2)) {
      throw new RangeError(`${new.target.name}: pace must be between 0.5 and 2, got ${options.pace}`);
    }
    const model = options.model ?? 'bulbul:v3';
    super({ name: options.name, sampleRate: options.sampleRate ?? 24000, sampleRates: rates, fixedSampleRate: options.sampleRate !== undefined, model });
    this.model = model;
    this.language = options.language ?? 'hi-IN';
    this.speaker = options.speaker;
    this.apiKey = apiKey;
    this.pace = options.pace;
    this.enablePreprocessing = options.enablePreprocessing;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.endpoint = `${(options.baseUrl ?? 'https://api.sarvam.ai').replace(/\/+$/, '')}/text-to-speech/stream`;
  }

  private body(text: string): Record<string, unknown> {
    return {
      text,
      target_language_code: this.language,
      model: this.model,
      ...(this.speaker === undefined ? {} : { speaker: this.speaker }),
      ...(this.pace === undefined ? {} : { pace: this.pace }),
      ...(this.enablePreprocessing === undefined ? {} : { enable_preprocessing: this.enablePreprocessing }),
      speech_sample_rate: this.sampleRate,
      output_audio_codec: 'linear16',
    };
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    if (options.signal.aborted) return;
    if (text.length > SARVAM_TTS_MAX_CHARS) {
      throw new ServiceError(SARVAM, `text of ${text.length} characters is over the ${SARVAM_TTS_MAX_CHARS} a request takes`, { code: 'bad-request' });
    }
    const decoder = new WireAudioDecoder('s16le');
    const body = streamHttpBody({
      service: SARVAM,
      url: this.endpoint,
      headers: { 'api-subscription-key': this.apiKey, 'Content-Type': 'application/json' },
      body: this.body(text),
      signal: options.signal,
      timeoutMs: this.timeoutMs,
      secrets: [this.apiKey],
      httpError: (failure) => sarvamHttpError(failure.status, failure.headers, failure.body, this.apiKey, 'speech request'),
      clock: this.clock,
      silence: 'audio',
    });
    for await (const bytes of body) {
      const audio = decoder.decode(bytes);
      if (audio.length > 0) yield { type: 'audio', audio };
    }
  }
}
