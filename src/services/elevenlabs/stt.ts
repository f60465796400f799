// ElevenLabsSTTService: ElevenLabs Scribe through its REST endpoint (`POST /v1/speech-to-text`, multipart), one
// request per caller turn, the VAD deciding where a turn ends (SegmentedSTTService). The turn goes up as raw 16 kHz
// PCM (`file_format: pcm_s16le_16`), which ElevenLabs documents as the low-latency path (no container to probe).
// Audio-event tags are off: "(laughter)" in a transcript would reach the LLM as if the caller had said it.
// Facts and sources: docs/vendors/elevenlabs-stt.md.
import { int16ToBytes } from '../../audio/index.js';
import { SegmentedSTTService, ServiceError, type SegmentedSTTServiceOptions, type SegmentedTranscript, type ServiceErrorCode } from '../base/index.js';
import { jsonOrUndefined, postTranscription, restHttpError, type VendorErrorDetails } from '../base/rest-transcription.js';
import { requireApiKey } from '../base/vendor-errors.js';

const VENDOR = 'ElevenLabs';
/** The rate `pcm_s16le_16` means. */
const PCM_RATE = 16000;
/** Shorter than this is not sent: a click, not speech. */
const MIN_AUDIO_SECS = 0.1;

export type ElevenLabsSTTModel = 'scribe_v1' | 'scribe_v2';

export interface ElevenLabsSTTServiceOptions extends Omit<SegmentedSTTServiceOptions, 'model' | 'sampleRate'> {
  apiKey: string;
  /** `model_id`. Default 'scribe_v2' (ElevenLabs' current batch model; 'scribe_v1' is the older one). */
  model?: ElevenLabsSTTModel | (string & {});
  /** `language_code`, ISO-639-1 or -3 ('en', 'hi', 'hin'); unset lets Scribe detect it (and report it). */
  language?: string;
  /** Default `https://api.elevenlabs.io`. */
  baseUrl?: string;
  /** Longest wait for a turn's transcript. Default 15 s. */
  timeoutMs?: number;
}

/** ElevenLabs' `detail.status` codes that say more than the HTTP status. */
const CODE_OF: Readonly<Record<string, ServiceErrorCode>> = {
  invalid_api_key: 'auth',
  missing_permissions: 'auth',
  quota_exceeded: 'quota',
  too_many_concurrent_requests: 'rate-limited',
  system_busy: 'rate-limited',
};

/** `{"detail": {"status", "message"}}`, `{"detail": "..."}` or a 422's `{"detail": [{"loc", "msg"}]}`. */
function errorDetails(text: string): VendorErrorDetails {
  const body = jsonOrUndefined(text);
  const detail = typeof body === 'object' && body !== null ? (body as { detail?: unknown }).detail : undefined;
  if (typeof detail === 'string') return { message: detail };
  if (Array.isArray(detail)) {
    const first = detail[0] as { msg?: unknown; loc?: unknown } | undefined;
    const where = Array.isArray(first?.loc) ? ` (${first.loc.join('.')})` : '';
    return typeof first?.msg === 'string' ? { message: `${first.msg}${where}`, vendorCode: 'validation_error' } : {};
  }
  if (typeof detail === 'object' && detail !== null) {
    const { status, message } = detail as { status?: unknown; message?: unknown };
    return {
      ...(typeof message === 'string' ? { message } : {}),
      ...(typeof status === 'string' ? { vendorCode: status } : {}),
    };
  }
  return {};
}

export class ElevenLabsSTTService extends SegmentedSTTService {
  override readonly model: string;
  readonly language: string | undefined;
  private readonly apiKey: string;
  private readonly endpoint: string;
  private readonly timeoutMs: number;

  constructor(options: ElevenLabsSTTServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'ELEVENLABS_API_KEY');
    const model = options.model ?? 'scribe_v2';
    super({ ...options, model, sampleRate: PCM_RATE });
    this.model = model;
    this.language = options.language;
    this.apiKey = apiKey;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.endpoint = `${(options.baseUrl ?? 'https://api.elevenlabs.io').replace(/\/+$/, '')}/v1/speech-to-text`;
  }

  protected override async transcribe(audio: Int16Array, sampleRate: number): Promise<SegmentedTranscript> {
    if (audio.length < sampleRate * MIN_AUDIO_SECS) return { text: '' };
    const form = new FormData();
    form.append('model_id', this.model);
    form.append('file', new Blob([int16ToBytes(audio)], { type: 'application/octet-stream' }), 'audio.pcm');
    form.append('file_format', 'pcm_s16le_16');
    form.append('tag_audio_events', 'false');
    form.append('timestamps_granularity', 'none');
    if (this.language !== undefined) form.append('language_code', this.language);
    const body = await this.withDeadline(VENDOR, this.timeoutMs, (signal) =>
      postTranscription({
        service: VENDOR,
        url: this.endpoint,
        headers: { 'xi-api-key': this.apiKey },
        body: form,
        signal,
        secrets: [this.apiKey],
        httpError: (failure) =>
          restHttpError(failure, errorDetails(failure.body), {
            service: VENDOR,
            secrets: [this.apiKey],
            codeOf: (_status, vendorCode) => (vendorCode === undefined ? undefined : CODE_OF[vendorCode]),
            authHint: ' (check ELEVENLABS_API_KEY)',
          }),
      }),
    );
    // Aborted by cleanup: the call is over and nobody is waiting for this turn.
    if (body === undefined) return { text: '' };
    const { text, language_code: detected } = body as { text?: unknown; language_code?: unknown };
    if (typeof text !== 'string') throw new ServiceError(VENDOR, 'transcription answer has no text', { code: 'protocol' });
    const language = this.language ?? (typeof detected === 'string' && detected !== '' ? detected : undefined);
    return language === undefined ? { text: text.trim() } : { text: text.trim(), language };
  }
}
