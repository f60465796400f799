// AzureTTSService: Azure AI Speech's neural voices through the text-to-speech REST endpoint
// (`POST https://<region>.tts.speech.microsoft.com/cognitiveservices/v1`): an SSML document per sentence, the answer
// raw audio in the format `X-Microsoft-OutputFormat` names (headerless PCM16 at the call's rate, or 8 kHz μ-law), read
// as it streams in. Facts and sources: docs/vendors/azure.md.
//
// REST rather than the Speech SDK (a native/browser bundle of several MB): one POST per sentence gives the TTS base
// what it needs, where a sentence's audio ends, and an interruption is an aborted request, so no stale audio can
// follow it. Word boundaries are an SDK-only event, so sentences are sent as one `tts-text`.
import { codeForStatus, ServiceError, TTSService, type SynthesizeOptions, type TTSChunk } from '../base/index.js';
import { streamHttpBody, type HttpFailure } from '../base/http-stream.js';
import { isRecord, parseJSONText } from '../base/json.js';
import { redactSecrets, requireApiKey, retryAfterSecs } from '../base/vendor-errors.js';
import { WireAudioDecoder } from '../base/wire-audio.js';

const VENDOR = 'Azure Speech';

/** The rates of Azure's headerless PCM formats (`raw-<rate>-16bit-mono-pcm`). */
export const AZURE_TTS_SAMPLE_RATES = [8000, 16000, 22050, 24000, 44100, 48000] as const;
export type AzureTTSSampleRate = (typeof AZURE_TTS_SAMPLE_RATES)[number];

const RATE_NAMES: Readonly<Record<AzureTTSSampleRate, string>> = {
  8000: '8khz',
  16000: '16khz',
  22050: '22050hz',
  24000: '24khz',
  44100: '44100hz',
  48000: '48khz',
};

/** The `X-Microsoft-OutputFormat` of headerless audio at `sampleRate` in `encoding`. */
export function azureOutputFormat(sampleRate: AzureTTSSampleRate, encoding: 'pcm' | 'mulaw'): string {
  return encoding === 'mulaw' ? 'raw-8khz-8bit-mono-mulaw' : `raw-${RATE_NAMES[sampleRate]}-16bit-mono-pcm`;
}

export interface AzureTTSServiceOptions {
  /** The Speech resource's key, sent as `Ocp-Apim-Subscription-Key`. */
  apiKey: string;
  /** The resource's region, e.g. 'centralindia', 'eastus': the endpoint is `https://<region>.tts.speech.microsoft.com`. */
  region?: string;
  /** A neural voice's short name. Default 'en-US-JennyNeural'; e.g. 'hi-IN-SwaraNeural', 'ta-IN-PallaviNeural'. */
  voice?: string;
  /** The SSML `xml:lang`. Default: the voice's locale (its first two parts, e.g. 'hi-IN'). */
  language?: string;
  /**
   * 'pcm' (default): PCM16 at the call's rate. 'mulaw': 8 kHz G.711 μ-law, half the bytes on the wire (decoded here to
   * PCM16; it fixes the rate at 8 kHz).
   */
  encoding?: 'pcm' | 'mulaw';
  /** A fixed output rate; by default the call's output rate (8 kHz on a phone line). */
  sampleRate?: AzureTTSSampleRate;
  /** Instead of `region`: the full origin, e.g. a sovereign cloud's or a test fake's (`http://127.0.0.1:port`). */
  baseUrl?: string;
  /** Longest wait for the first audio, and then between two pieces of it. Default 10 s. */
  timeoutMs?: number;
  name?: string;
}

/** Text as SSML character data (the five XML specials escaped). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[ch]};`);
}

/** An Azure refusal: a JSON `{"error": {"code", "message"}}` from the gateway, or an empty body (the status says it). */
function azureError(failure: HttpFailure, apiKey: string): ServiceError {
  const body = parseJSONText(failure.body);
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const message = typeof error?.message === 'string' ? error.message : failure.body.trim().slice(0, 200) || `HTTP ${failure.status}`;
  const code = codeForStatus(failure.status);
  const hint = code === 'auth' ? ' (check AZURE_SPEECH_KEY and that AZURE_SPEECH_REGION is the resource’s region)' : '';
  return new ServiceError(VENDOR, redactSecrets(`speech request refused with ${failure.status}: ${message}${hint}`, [apiKey]), {
    status: failure.status,
    code,
    vendorCode: typeof error?.code === 'string' ? error.code : undefined,
    retryAfterSecs: retryAfterSecs(failure.headers),
  });
}

export class AzureTTSService extends TTSService {
  readonly voice: string;
  readonly language: string;
  readonly encoding: 'pcm' | 'mulaw';
  private readonly apiKey: string;
  private readonly endpoint: string;
  private readonly timeoutMs: number;

  constructor(options: AzureTTSServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'AZURE_SPEECH_KEY');
    const region = options.region?.trim();
    if (options.baseUrl === undefined && (region === undefined || !/^[a-z0-9]+$/.test(region))) {
      throw new TypeError(`${new.target.name}: region is required (e.g. { region: process.env.AZURE_SPEECH_REGION }), got ${JSON.stringify(options.region)}`);
    }
    const rates: readonly number[] = AZURE_TTS_SAMPLE_RATES;
    if (options.sampleRate !== undefined && !rates.includes(options.sampleRate)) {
      throw new RangeError(`${new.target.name}: sampleRate must be one of ${rates.join(', ')}, got ${String(options.sampleRate)}`);
    }
    const encoding = options.encoding ?? 'pcm';
    if (encoding === 'mulaw' && options.sampleRate !== undefined && options.sampleRate !== 8000) {
      throw new RangeError(`${new.target.name}: μ-law is 8 kHz only, got sampleRate ${options.sampleRate}`);
    }
    const mulaw = encoding === 'mulaw';
    super({
      name: options.name,
      sampleRate: mulaw ? 8000 : (options.sampleRate ?? 24000),
      sampleRates: mulaw ? [8000] : rates,
      fixedSampleRate: mulaw || options.sampleRate !== undefined,
    });
    this.voice = options.voice ?? 'en-US-JennyNeural';
    this.language = options.language ?? this.voice.split('-').slice(0, 2).join('-');
    this.encoding = encoding;
    this.apiKey = apiKey;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    const origin = options.baseUrl ?? `https://${region ?? ''}.tts.speech.microsoft.com`;
    this.endpoint = `${origin.replace(/\/+$/, '')}/cognitiveservices/v1`;
  }

  /** The SSML document that says `text` in the configured voice. */
  ssml(text: string): string {
    const lang = escapeXml(this.language);
    return `<speak version='1.0' xml:lang='${lang}'><voice xml:lang='${lang}' name='${escapeXml(this.voice)}'>${escapeXml(text)}</voice></speak>`;
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    if (options.signal.aborted) return;
    const decoder = new WireAudioDecoder(this.encoding === 'mulaw' ? 'mulaw' : 's16le');
    const body = streamHttpBody({
      service: VENDOR,
      url: this.endpoint,
      headers: {
        'Ocp-Apim-Subscription-Key': this.apiKey,
        'Content-Type': 'application/ssml+xml',
        'X-Microsoft-OutputFormat': azureOutputFormat(this.sampleRate as AzureTTSSampleRate, this.encoding),
        // Required by the endpoint: the application's name.
        'User-Agent': 'piopiy-ai',
      },
      bodyText: this.ssml(text),
      signal: options.signal,
      timeoutMs: this.timeoutMs,
      secrets: [this.apiKey],
      httpError: (failure) => azureError(failure, this.apiKey),
      clock: this.clock,
      silence: 'audio',
    });
    for await (const bytes of body) {
      const audio = decoder.decode(bytes);
      if (audio.length > 0) yield { type: 'audio', audio };
    }
  }
}
