// AzureSTTService: Azure AI Speech through its REST API for short audio
// (`POST https://{region}.stt.speech.microsoft.com/speech/recognition/conversation/cognitiveservices/v1`), one
// request per caller turn, the VAD deciding where a turn ends (SegmentedSTTService). The turn goes up as a 16 kHz
// mono PCM WAV, the one WAV format the endpoint takes; the key travels in `Ocp-Apim-Subscription-Key`.
// An answer without speech (`NoMatch`, `InitialSilenceTimeout`, `BabbleTimeout`) is an empty turn, not a failure;
// `Error` is the service failing. The API takes at most 60 s per request: `maxSegmentSecs` stays at 30.
// Plain `fetch`: one POST does not need the Speech SDK. Facts and sources: docs/vendors/azure-speech.md.
import { writeWav } from '../../audio/index.js';
import { SegmentedSTTService, ServiceError, type SegmentedSTTServiceOptions, type SegmentedTranscript } from '../base/index.js';
import { jsonOrUndefined, postTranscription, restHttpError, type VendorErrorDetails } from '../base/rest-transcription.js';
import { requireApiKey } from '../base/vendor-errors.js';

const VENDOR = 'Azure Speech';
const RATE = 16000;
const MIN_AUDIO_SECS = 0.1;
/** Statuses that mean "no speech in this turn". */
const NO_SPEECH = new Set(['NoMatch', 'InitialSilenceTimeout', 'BabbleTimeout']);

export interface AzureSTTServiceOptions extends Omit<SegmentedSTTServiceOptions, 'model' | 'sampleRate'> {
  /** The Speech resource's key (`AZURE_SPEECH_KEY`). */
  apiKey: string;
  /** The resource's region, e.g. 'centralindia', 'eastus' (`AZURE_SPEECH_REGION`). Required unless `baseUrl` is set. */
  region?: string;
  /** BCP-47 locale, e.g. 'en-IN', 'hi-IN'. Required by the API; default 'en-US'. */
  language?: string;
  /** `profanity`: 'masked' (the API's default when unset), 'removed' or 'raw'. */
  profanity?: 'masked' | 'removed' | 'raw';
  /** Replaces `https://{region}.stt.speech.microsoft.com` (sovereign clouds, a proxy, the fake). */
  baseUrl?: string;
  /** Longest wait for a turn's transcript. Default 15 s. */
  timeoutMs?: number;
}

/** Azure's error bodies: `{"error": {"code", "message"}}` from the gateway; often an empty body from the service. */
function errorDetails(text: string): VendorErrorDetails {
  const body = jsonOrUndefined(text);
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error !== 'object' || error === null) return {};
  const { code, message } = error as { code?: unknown; message?: unknown };
  return { ...(typeof message === 'string' ? { message } : {}), ...(typeof code === 'string' ? { vendorCode: code } : {}) };
}

export class AzureSTTService extends SegmentedSTTService {
  readonly language: string;
  private readonly apiKey: string;
  private readonly endpoint: string;
  private readonly timeoutMs: number;

  constructor(options: AzureSTTServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'AZURE_SPEECH_KEY');
    const region = options.region?.trim();
    if (options.baseUrl === undefined && (region === undefined || !/^[a-z0-9-]+$/i.test(region))) {
      throw new TypeError(`${new.target.name}: region is required (e.g. { region: process.env.AZURE_SPEECH_REGION }), got ${JSON.stringify(options.region)}`);
    }
    super({ ...options, sampleRate: RATE });
    this.apiKey = apiKey;
    this.language = options.language ?? 'en-US';
    this.timeoutMs = options.timeoutMs ?? 15_000;
    const base = (options.baseUrl ?? `https://${region!}.stt.speech.microsoft.com`).replace(/\/+$/, '');
    const query = new URLSearchParams({ language: this.language, format: 'simple' });
    if (options.profanity !== undefined) query.set('profanity', options.profanity);
    this.endpoint = `${base}/speech/recognition/conversation/cognitiveservices/v1?${query.toString()}`;
  }

  protected override async transcribe(audio: Int16Array, sampleRate: number): Promise<SegmentedTranscript> {
    if (audio.length < sampleRate * MIN_AUDIO_SECS) return { text: '' };
    const body = await this.withDeadline(VENDOR, this.timeoutMs, (signal) =>
      postTranscription({
        service: VENDOR,
        url: this.endpoint,
        headers: {
          'Ocp-Apim-Subscription-Key': this.apiKey,
          'Content-Type': `audio/wav; codecs=audio/pcm; samplerate=${RATE}`,
          Accept: 'application/json',
        },
        body: writeWav({ sampleRate, channels: 1, samples: audio }),
        signal,
        secrets: [this.apiKey],
        httpError: (failure) =>
          restHttpError(failure, errorDetails(failure.body), {
            service: VENDOR,
            secrets: [this.apiKey],
            // 401: a wrong key, or the right key sent to another region's endpoint.
            authHint: ' (check AZURE_SPEECH_KEY and AZURE_SPEECH_REGION)',
          }),
      }),
    );
    // Aborted by cleanup: the call is over and nobody is waiting for this turn.
    if (body === undefined) return { text: '' };
    const { RecognitionStatus: status, DisplayText: text } = body as { RecognitionStatus?: unknown; DisplayText?: unknown };
    if (status === 'Success' && typeof text === 'string') return { text: text.trim(), language: this.language };
    if (typeof status === 'string' && NO_SPEECH.has(status)) return { text: '' };
    if (status === 'Error') throw new ServiceError(VENDOR, 'the recognition service reported an error', { code: 'server', vendorCode: 'Error' });
    throw new ServiceError(VENDOR, `unexpected answer (RecognitionStatus ${JSON.stringify(status)})`, { code: 'protocol' });
  }
}
