// SarvamSTTService: Sarvam's Saaras / Saarika recognisers for Indian languages (and Indian English, and the two
// mixed) through the REST endpoint (`POST /speech-to-text`, multipart): one request per caller turn, the VAD deciding
// where a turn ends (SegmentedSTTService), which suits phone turns well under the endpoint's 30 s limit.
//
// The `/speech-to-text/ws` socket is SarvamStreamingSTTService (streaming-stt.ts). Plain `fetch` with Node's
// FormData: one POST does not need Sarvam's SDK.
import { writeWav } from '../../audio/index.js';
import { SegmentedSTTService, ServiceError, type SegmentedSTTServiceOptions, type SegmentedTranscript } from '../base/index.js';
import { postTranscription } from '../base/rest-transcription.js';
import { requireApiKey } from '../base/vendor-errors.js';
import { SARVAM, sarvamHttpError } from './errors.js';

/** Saaras v3's output modes (only that model takes one). */
export type SarvamSTTMode = 'transcribe' | 'translate' | 'verbatim' | 'translit' | 'codemix';

export interface SarvamSTTServiceOptions extends Omit<SegmentedSTTServiceOptions, 'model' | 'sampleRate'> {
  apiKey: string;
  /** Default 'saaras:v3'; 'saarika:v2.5' is the previous transcription model. */
  model?: 'saaras:v3' | 'saarika:v2.5' | (string & {});
  /** `language_code`: 'hi-IN', 'ta-IN', 'en-IN', ... or 'unknown' to let Sarvam detect it. Default 'unknown'. */
  language?: string;
  /** Saaras v3 only. Default 'transcribe'. */
  mode?: SarvamSTTMode;
  /** Default `https://api.sarvam.ai`. */
  baseUrl?: string;
  /** The rate the turn's audio is sent at. Default 16000 (Sarvam's recommended rate; 8 kHz is accepted too). */
  sampleRate?: 8000 | 16000;
  /** Longest wait for a turn's transcript. Default 15 s. */
  timeoutMs?: number;
}

/** Shorter than this is not sent: Sarvam cannot say anything useful about it. */
const MIN_AUDIO_SECS = 0.1;

export class SarvamSTTService extends SegmentedSTTService {
  override readonly model: string;
  readonly language: string;
  readonly mode: SarvamSTTMode | undefined;
  private readonly apiKey: string;
  private readonly endpoint: string;
  private readonly timeoutMs: number;

  constructor(options: SarvamSTTServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'SARVAM_API_KEY');
    const model = options.model ?? 'saaras:v3';
    super({ ...options, model, sampleRate: options.sampleRate ?? 16000 });
    this.model = model;
    this.language = options.language ?? 'unknown';
    // Only Saaras v3 takes a mode; sending one to another model is refused.
    this.mode = model.startsWith('saaras:v3') ? (options.mode ?? 'transcribe') : undefined;
    this.apiKey = apiKey;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.endpoint = `${(options.baseUrl ?? 'https://api.sarvam.ai').replace(/\/+$/, '')}/speech-to-text`;
  }

  protected override async transcribe(audio: Int16Array, sampleRate: number): Promise<SegmentedTranscript> {
    if (audio.length < sampleRate * MIN_AUDIO_SECS) return { text: '' };
    const form = new FormData();
    form.append('file', new Blob([writeWav({ sampleRate, channels: 1, samples: audio })], { type: 'audio/wav' }), 'audio.wav');
    form.append('model', this.model);
    form.append('language_code', this.language);
    if (this.mode !== undefined) form.append('mode', this.mode);
    const body = await this.withDeadline(SARVAM, this.timeoutMs, (signal) =>
      postTranscription({
        service: SARVAM,
        url: this.endpoint,
        headers: { 'api-subscription-key': this.apiKey },
        body: form,
        signal,
        secrets: [this.apiKey],
        httpError: (failure) => sarvamHttpError(failure.status, failure.headers, failure.body, this.apiKey, 'transcription request'),
      }),
    );
    // Aborted by cleanup: the call is over and nobody is waiting for this turn.
    if (body === undefined) return { text: '' };
    const { transcript, language_code: detected } = body as { transcript?: unknown; language_code?: unknown };
    if (typeof transcript !== 'string') throw new ServiceError(SARVAM, 'transcription answer has no transcript', { code: 'protocol' });
    // The language Sarvam reports (the detected one when `language` is 'unknown'), else the one asked for.
    const language = typeof detected === 'string' && detected !== '' ? detected : this.language === 'unknown' ? undefined : this.language;
    return language === undefined ? { text: transcript.trim() } : { text: transcript.trim(), language };
  }
}
