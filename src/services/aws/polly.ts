// PollyTTSService: Amazon Polly through its REST `SynthesizeSpeech` (`POST https://polly.<region>.amazonaws.com/v1/speech`),
// signed with SigV4 (sigv4.ts): one request per sentence, `OutputFormat: "pcm"` (headerless signed 16-bit
// little-endian mono at 8 or 16 kHz) read as it streams in. Facts and sources: docs/vendors/aws-polly.md.
//
// No AWS SDK: the request is one signed POST; @aws-sdk/client-polly with its credential chain is several MB. The
// credentials are the user's (keys, or temporary ones with a session token); refreshing them is the user's, through
// the `credentials` supplier.
import { ServiceError, TTSService, type SynthesizeOptions, type TTSChunk, type ServiceErrorCode } from '../base/index.js';
import { streamHttpBody, type HttpFailure } from '../base/http-stream.js';
import { isRecord, parseJSONText } from '../base/json.js';
import { redactSecrets } from '../base/vendor-errors.js';
import { WireAudioDecoder } from '../base/wire-audio.js';
import { signAwsRequest, type AwsCredentials } from './sigv4.js';

const VENDOR = 'Amazon Polly';

/** The rates Polly makes PCM at. */
export const POLLY_PCM_SAMPLE_RATES = [8000, 16000] as const;
/** The most billed characters one request takes (SSML tags excluded). */
export const POLLY_MAX_CHARS = 3000;

export interface PollyTTSServiceOptions {
  /** Keys, or a supplier asked per request (for temporary credentials it refreshes). */
  credentials: AwsCredentials | (() => AwsCredentials | Promise<AwsCredentials>);
  /** e.g. 'ap-south-1' (Mumbai), 'us-east-1'. */
  region: string;
  /** `VoiceId`, e.g. 'Kajal' (en-IN / hi-IN, neural), 'Joanna'. Default 'Kajal'. */
  voice?: string;
  /** `Engine`: 'neural' (default), 'standard', 'long-form' or 'generative'. */
  engine?: 'neural' | 'standard' | 'long-form' | 'generative';
  /** `LanguageCode`, for bilingual voices (Kajal: 'en-IN' or 'hi-IN'). Default: the voice's. */
  language?: string;
  /** A fixed output rate; by default the call's output rate (8 kHz on a phone line) when Polly makes it. */
  sampleRate?: (typeof POLLY_PCM_SAMPLE_RATES)[number];
  /** Instead of the region's endpoint (a VPC endpoint, a test fake). */
  baseUrl?: string;
  /** Longest wait for the first audio, and then between two pieces of it. Default 10 s. */
  timeoutMs?: number;
  name?: string;
}

/** Error types that mean the credentials or signature were refused, whatever the status. */
const AUTH_TYPES = /^(UnrecognizedClient|InvalidSignature|SignatureDoesNotMatch|IncompleteSignature|MissingAuthenticationToken|ExpiredToken|InvalidClientTokenId|AccessDenied)/;

/** A Polly refusal: the type in `x-amzn-ErrorType` (or the body's `__type`), the text in `message`. */
function pollyError(failure: HttpFailure, secrets: readonly string[]): ServiceError {
  const body = parseJSONText(failure.body);
  const record = isRecord(body) ? body : {};
  const type = (failure.headers.get('x-amzn-errortype') ?? (typeof record.__type === 'string' ? record.__type : '')).split(/[:#]/).filter((part) => part !== '').at(-1) ?? '';
  const message = typeof record.message === 'string' ? record.message : typeof record.Message === 'string' ? record.Message : `HTTP ${failure.status}`;
  let code: ServiceErrorCode;
  if (AUTH_TYPES.test(type) || failure.status === 401 || failure.status === 403) code = 'auth';
  else if (/Throttl|TooManyRequests/.test(type) || failure.status === 429) code = 'rate-limited';
  else if (failure.status >= 500) code = 'server';
  else code = 'bad-request';
  const hint = code === 'auth' ? ' (check the AWS credentials and region)' : '';
  return new ServiceError(VENDOR, redactSecrets(`speech request refused with ${failure.status} ${type}: ${message}${hint}`, secrets), {
    status: failure.status,
    code,
    vendorCode: type === '' ? undefined : type,
  });
}

export class PollyTTSService extends TTSService {
  readonly voice: string;
  readonly engine: string;
  readonly language: string | undefined;
  readonly region: string;
  private readonly credentials: PollyTTSServiceOptions['credentials'];
  private readonly endpoint: string;
  private readonly timeoutMs: number;

  constructor(options: PollyTTSServiceOptions) {
    if (typeof options.credentials !== 'function' && (options.credentials?.accessKeyId?.trim() ?? '') === '') {
      throw new TypeError(`${new.target.name}: credentials are required (e.g. { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY })`);
    }
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(options.region ?? '')) throw new TypeError(`${new.target.name}: region must be an AWS region such as 'ap-south-1', got ${JSON.stringify(options.region)}`);
    const rates: readonly number[] = POLLY_PCM_SAMPLE_RATES;
    if (options.sampleRate !== undefined && !rates.includes(options.sampleRate)) {
      throw new RangeError(`${new.target.name}: Polly makes PCM at 8000 or 16000 Hz, not ${String(options.sampleRate)}`);
    }
    super({ name: options.name, sampleRate: options.sampleRate ?? 16000, sampleRates: rates, fixedSampleRate: options.sampleRate !== undefined });
    this.voice = options.voice ?? 'Kajal';
    this.engine = options.engine ?? 'neural';
    this.language = options.language;
    this.region = options.region;
    this.credentials = options.credentials;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.endpoint = `${(options.baseUrl ?? `https://polly.${options.region}.amazonaws.com`).replace(/\/+$/, '')}/v1/speech`;
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    if (options.signal.aborted) return;
    if (text.length > POLLY_MAX_CHARS) {
      throw new ServiceError(VENDOR, `text of ${text.length} characters is over the ${POLLY_MAX_CHARS} a request takes`, { code: 'bad-request' });
    }
    const credentials = typeof this.credentials === 'function' ? await this.credentials() : this.credentials;
    const secrets = [credentials.accessKeyId, credentials.secretAccessKey, ...(credentials.sessionToken === undefined ? [] : [credentials.sessionToken])];
    const bodyText = JSON.stringify({
      Engine: this.engine,
      ...(this.language === undefined ? {} : { LanguageCode: this.language }),
      OutputFormat: 'pcm',
      SampleRate: String(this.sampleRate),
      Text: text,
      TextType: 'text',
      VoiceId: this.voice,
    });
    const headers = signAwsRequest({
      method: 'POST',
      url: this.endpoint,
      headers: { 'content-type': 'application/json' },
      body: bodyText,
      region: this.region,
      service: 'polly',
      credentials,
    });
    const decoder = new WireAudioDecoder('s16le');
    const body = streamHttpBody({
      service: VENDOR,
      url: this.endpoint,
      headers,
      bodyText,
      signal: options.signal,
      timeoutMs: this.timeoutMs,
      secrets,
      httpError: (failure) => pollyError(failure, secrets),
      clock: this.clock,
      silence: 'audio',
    });
    for await (const bytes of body) {
      const audio = decoder.decode(bytes);
      if (audio.length > 0) yield { type: 'audio', audio };
    }
  }
}
