// NeuphonicTTSService: Neuphonic's voices through its Server-Sent Events endpoint (`POST /sse/speak/{lang_code}`):
// one request per sentence, answered as events whose `data.audio` is base64 PCM16 at the rate asked. A failure
// after the 200 comes in-band, as an `error` event whose data carries `status_code` and `errors`. Facts and
// sources: docs/vendors/neuphonic.md.
//
// SSE rather than Neuphonic's WebSocket (`wss://…/speak/{lang_code}`, text ended by `<STOP>`): the TTS base hands
// over one sentence at a time and needs to know where its audio ends, which the end of a request says; an
// interruption is an aborted request, so no stale audio can follow it.
import { codeForStatus, ServiceError, TTSService, type SynthesizeOptions, type TTSChunk } from '../base/index.js';
import { streamServerSentEvents, type HttpFailure } from '../base/http-stream.js';
import { isRecord } from '../base/json.js';
import { redactSecrets, requireApiKey, retryAfterSecs } from '../base/vendor-errors.js';
import { WireAudioDecoder } from '../base/wire-audio.js';

const VENDOR = 'Neuphonic';

/** The rates `sampling_rate` takes for `pcm_linear`. */
export const NEUPHONIC_SAMPLE_RATES = [8000, 16000, 22050] as const;

export interface NeuphonicTTSServiceOptions {
  /** Sent as `X-API-KEY`. */
  apiKey: string;
  /** `voice_id` (a UUID from Neuphonic's voice list). Default: not sent (Neuphonic's default voice for the language). */
  voice?: string;
  /** `lang_code`, in the path and the body: 'en', 'es', 'de', 'fr', 'hi', … Default 'en'. */
  language?: string;
  /** `speed`, 0.7 to 2. Default: Neuphonic's (1). */
  speed?: number;
  /** A fixed output rate; by default the call's output rate when Neuphonic makes it (8 kHz on a phone line). */
  sampleRate?: (typeof NEUPHONIC_SAMPLE_RATES)[number];
  /** Default `https://eu-west-1.api.neuphonic.com` (Neuphonic's hosts are `{aws_region}.api.neuphonic.com`). */
  baseUrl?: string;
  /** Longest wait for the first audio, and then between two pieces of it. Default 10 s. */
  timeoutMs?: number;
  name?: string;
}

/** What Neuphonic said went wrong: `errors` (the SDK's field), else `detail` or `message`, else nothing. */
function reasonOf(body: unknown): string {
  if (!isRecord(body)) return '';
  if (Array.isArray(body.errors)) return body.errors.filter((e): e is string => typeof e === 'string').join('; ');
  if (typeof body.errors === 'string') return body.errors;
  if (typeof body.detail === 'string') return body.detail;
  return typeof body.message === 'string' ? body.message : '';
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

function neuphonicError(status: number, reason: string, apiKey: string, options: { inBand: boolean; retryAfter?: number }): ServiceError {
  const code = codeForStatus(status);
  const hint = code === 'auth' ? ' (check NEUPHONIC_API_KEY)' : '';
  const where = options.inBand ? 'speech stream failed' : 'speech request refused';
  const text = `${where} with ${status}${reason === '' ? '' : `: ${reason}`}${hint}`;
  return new ServiceError(VENDOR, redactSecrets(text, [apiKey]), { status, code, retryAfterSecs: options.retryAfter });
}

export class NeuphonicTTSService extends TTSService {
  readonly voice: string | undefined;
  readonly language: string;
  private readonly apiKey: string;
  private readonly endpoint: string;
  private readonly speed: number | undefined;
  private readonly timeoutMs: number;

  constructor(options: NeuphonicTTSServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'NEUPHONIC_API_KEY');
    const rates: readonly number[] = NEUPHONIC_SAMPLE_RATES;
    if (options.sampleRate !== undefined && !rates.includes(options.sampleRate)) {
      throw new RangeError(`${new.target.name}: sampleRate must be one of ${rates.join(', ')}, got ${String(options.sampleRate)}`);
    }
    if (options.speed !== undefined && !(options.speed >= 0.7 && options.speed <= 2)) {
      throw new RangeError(`${new.target.name}: speed must be between 0.7 and 2, got ${options.speed}`);
    }
    const language = options.language?.trim() || 'en';
    if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]+)?$/.test(language)) {
      throw new RangeError(`${new.target.name}: language must be a language code such as 'en' or 'hi', got ${JSON.stringify(options.language)}`);
    }
    super({ name: options.name, sampleRate: options.sampleRate ?? 22050, sampleRates: rates, fixedSampleRate: options.sampleRate !== undefined });
    this.apiKey = apiKey;
    this.voice = options.voice?.trim() || undefined;
    this.language = language;
    this.speed = options.speed;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.endpoint = `${(options.baseUrl ?? 'https://eu-west-1.api.neuphonic.com').replace(/\/+$/, '')}/sse/speak/${encodeURIComponent(language)}`;
  }

  private body(text: string): Record<string, unknown> {
    return {
      text,
      lang_code: this.language,
      encoding: 'pcm_linear',
      sampling_rate: this.sampleRate,
      ...(this.voice === undefined ? {} : { voice_id: this.voice }),
      ...(this.speed === undefined ? {} : { speed: this.speed }),
    };
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    if (options.signal.aborted) return;
    const events = streamServerSentEvents({
      service: VENDOR,
      url: this.endpoint,
      headers: { 'X-API-KEY': this.apiKey, 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: this.body(text),
      signal: options.signal,
      timeoutMs: this.timeoutMs,
      secrets: [this.apiKey],
      httpError: (failure: HttpFailure) =>
        neuphonicError(failure.status, reasonOf(parse(failure.body)), this.apiKey, { inBand: false, retryAfter: retryAfterSecs(failure.headers) }),
      clock: this.clock,
      silence: 'audio',
    });
    const decoder = new WireAudioDecoder('s16le');
    for await (const event of events) {
      const message = parse(event.data);
      if (!isRecord(message)) throw new ServiceError(VENDOR, 'speech stream sent an event that is not JSON', { code: 'protocol' });
      const status = typeof message.status_code === 'number' ? message.status_code : undefined;
      // An `error` event, or any event whose status says so or that lists errors, ends the sentence.
      if (event.event === 'error' || (status !== undefined && status >= 300) || (message.errors !== undefined && message.errors !== null)) {
        throw neuphonicError(status ?? 500, reasonOf(message), this.apiKey, { inBand: true });
      }
      const audio = isRecord(message.data) ? message.data.audio : undefined;
      if (typeof audio !== 'string' || audio === '') continue;
      const samples = decoder.decode(Buffer.from(audio, 'base64'));
      if (samples.length > 0) yield { type: 'audio', audio: samples };
    }
  }
}
