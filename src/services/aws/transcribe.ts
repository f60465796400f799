// TranscribeSTTService: Amazon Transcribe streaming over a WebSocket
// (`wss://transcribestreaming.<region>.amazonaws.com:8443/stream-transcription-websocket`, a URL presigned with SigV4),
// on the shared StreamingSTTService (services/base/streaming-stt.ts). Facts and sources: docs/vendors/aws.md.
//
// Audio goes as `AudioEvent` messages in AWS's event-stream framing (event-stream.ts), raw PCM16 as the payload, in
// frames of 50 to 200 ms; results come back the same way, as `TranscriptEvent`s whose results carry `IsPartial`
// and start / end seconds from the stream's start. An empty AudioEvent ends the stream: Transcribe sends its last
// results and closes. Failures come in band as `exception` messages (`BadRequestException`,
// `LimitExceededException`, ...) just before the close; a refused signature is an HTTP 403 on the handshake.
// Transcribe has no "finalise now" message: its own endpointing closes results, so a VAD stop is complete at the
// final that closes the open result (at once when none is open). No AWS SDK: see docs/vendors/aws.md.
import type { TranscriptionWord } from '../../frames/index.js';
import type { HttpFailure } from '../base/http-stream.js';
import { isRecord, parseJSONText } from '../base/json.js';
import { ServiceError, codeForStatus, type ServiceErrorCode } from '../base/service-error.js';
import { StreamingSTTService, type AudioSendLimits, type StreamingSTTConnection, type StreamingSTTServiceOptions } from '../base/streaming-stt.js';
import { redactSecrets } from '../base/vendor-errors.js';
import { AWS_AUTH_ERROR_TYPES, awsErrorType, awsSecrets, checkAwsOptions, resolveAwsCredentials, type AwsCredentialsOption } from './credentials.js';
import { encodeEventStreamMessage, EventStreamDecoder, EventStreamError, stringHeader } from './event-stream.js';
import { presignAwsUrl } from './sigv4.js';

export const TRANSCRIBE = 'Amazon Transcribe';

/** PCM rates Transcribe streams at: 8 kHz (telephone) to 48 kHz. */
export const TRANSCRIBE_MIN_SAMPLE_RATE = 8000;
export const TRANSCRIBE_MAX_SAMPLE_RATE = 48000;

export interface TranscribeSTTServiceOptions extends StreamingSTTServiceOptions {
  credentials: AwsCredentialsOption;
  /** e.g. 'ap-south-1' (Mumbai), 'us-east-1'. */
  region: string;
  /** `language-code`, e.g. 'en-IN' (default), 'hi-IN', 'en-US'. Ignored when `languageOptions` is given. */
  language?: string;
  /** Languages to identify among (`identify-language` with `language-options`), e.g. ['en-IN', 'hi-IN']. */
  languageOptions?: readonly string[];
  /** `vocabulary-name`: a custom vocabulary of the account. */
  vocabularyName?: string;
  /** Partial-result stabilization (`partial-results-stability`); default: off (Transcribe's own). */
  partialResultsStability?: 'low' | 'medium' | 'high';
  /** Any other query parameter of the handshake, sent as given (e.g. `{ 'content-redaction-type': 'PII' }`). */
  extraQuery?: Readonly<Record<string, string>>;
  /** Instead of the region's endpoint (a VPC endpoint, a test fake): `wss://host:port`. */
  baseUrl?: string;
}

interface TranscribeItem {
  Content?: unknown;
  StartTime?: unknown;
  EndTime?: unknown;
  Type?: unknown;
  Confidence?: unknown;
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** What each exception type means (Transcribe's types name their cause better than their status). */
const CODE_OF_TYPE: Readonly<Record<string, ServiceErrorCode>> = {
  BadRequestException: 'bad-request',
  LimitExceededException: 'rate-limited',
  ConflictException: 'bad-request',
  InternalFailureException: 'server',
  ServiceUnavailableException: 'server',
};

/** An exception message, or a refused handshake, as a ServiceError. */
export function transcribeError(type: string, message: string, secrets: readonly string[], status?: number): ServiceError {
  const code = AWS_AUTH_ERROR_TYPES.test(type) ? 'auth' : (CODE_OF_TYPE[type] ?? (status === undefined ? 'server' : codeForStatus(status)));
  const hint = code === 'auth' ? ' (check the AWS credentials and region)' : '';
  return new ServiceError(TRANSCRIBE, redactSecrets(`${status === undefined ? '' : `${status} `}${type === '' ? '' : `${type}: `}${message}${hint}`, secrets), {
    ...(status === undefined ? {} : { status }),
    code,
    ...(type === '' ? {} : { vendorCode: type }),
  });
}

export class TranscribeSTTService extends StreamingSTTService {
  protected readonly vendor = TRANSCRIBE;
  protected secrets: readonly string[] = [];
  readonly region: string;
  readonly language: string;
  private readonly options: TranscribeSTTServiceOptions;
  private readonly baseUrl: string;
  private readonly decoder = new EventStreamDecoder();
  /** A partial result is open: speech Transcribe has not closed with a final yet. */
  private resultOpen = false;
  /** Results came since the caller started speaking (a stop before any is waited for, not answered at once). */
  private heardSinceSpeechStart = false;
  private finalizeWanted = false;
  private lastError: ServiceError | undefined;

  constructor(options: TranscribeSTTServiceOptions) {
    checkAwsOptions(new.target.name, options.credentials, options.region);
    const rate = options.sampleRate;
    if (rate !== undefined && (!Number.isInteger(rate) || rate < TRANSCRIBE_MIN_SAMPLE_RATE || rate > TRANSCRIBE_MAX_SAMPLE_RATE)) {
      throw new RangeError(`${new.target.name}: Transcribe streams PCM at 8000 to 48000 Hz, not ${String(rate)}`);
    }
    super(options);
    this.options = options;
    this.region = options.region;
    this.language = options.language ?? 'en-IN';
    this.baseUrl = (options.baseUrl ?? `wss://transcribestreaming.${options.region}.amazonaws.com:8443`).replace(/\/+$/, '');
  }

  /** The handshake's own query (before signing). */
  get query(): Record<string, string> {
    const o = this.options;
    const query: Record<string, string> = { 'media-encoding': 'pcm', 'sample-rate': String(this.sampleRate) };
    if (o.languageOptions !== undefined && o.languageOptions.length > 0) {
      query['identify-language'] = 'true';
      query['language-options'] = o.languageOptions.join(',');
    } else query['language-code'] = this.language;
    if (o.vocabularyName !== undefined) query['vocabulary-name'] = o.vocabularyName;
    if (o.partialResultsStability !== undefined) {
      query['enable-partial-results-stabilization'] = 'true';
      query['partial-results-stability'] = o.partialResultsStability;
    }
    return { ...query, ...o.extraQuery };
  }

  protected override async connection(): Promise<StreamingSTTConnection> {
    // A new stream starts with nothing open; a stop waiting on the old one is met by the replayed audio's final.
    this.resultOpen = false;
    this.lastError = undefined;
    this.decoder.reset();
    const credentials = await resolveAwsCredentials(this.options.credentials);
    this.secrets = awsSecrets(credentials);
    const url = new URL(`${this.baseUrl}/stream-transcription-websocket`);
    for (const [name, value] of Object.entries(this.query)) url.searchParams.set(name, value);
    const secrets = this.secrets;
    return {
      // 5 minutes is the most AWS takes; the URL is used at once.
      url: presignAwsUrl({ url: url.toString(), region: this.region, service: 'transcribe', credentials, expiresSecs: 300 }),
      // An empty AudioEvent: "no more audio". No keepalive: a call's transport sends audio (silence included).
      closeMessage: audioEvent(Buffer.alloc(0)),
      refusal: (failure) => handshakeError(failure, secrets),
    };
  }

  /** 50 ms at least (AWS advises 50 to 200 ms per chunk), 200 ms at most (within its 32 KB per event). */
  protected override get audioSendLimits(): AudioSendLimits {
    return { minChunkSamples: Math.round(this.sampleRate / 20), maxChunkSamples: Math.round(this.sampleRate / 5) };
  }

  protected override audioMessage(bytes: Buffer): Buffer {
    return audioEvent(bytes);
  }

  protected override requestFinalize(): void {
    // No "finalise now" message. With no result open (the last one final, words heard since the speech began) the
    // turn is complete now; otherwise at the final that closes the open result.
    if (this.resultOpen || !this.heardSinceSpeechStart) this.finalizeWanted = true;
    else this.finalizeAnswered();
  }

  protected override onUserStartedSpeaking(): void {
    this.finalizeWanted = false;
    this.heardSinceSpeechStart = false;
    super.onUserStartedSpeaking();
  }

  protected override closeError(code: number, reason: string): ServiceError {
    return this.lastError ?? super.closeError(code, reason);
  }

  /** Transcribe sends no text frames. */
  protected override onVendorMessage(): void {}

  protected override onVendorBinary(data: Buffer): void {
    let messages;
    try {
      messages = this.decoder.push(data);
    } catch (error) {
      if (!(error instanceof EventStreamError)) throw error;
      this.logger.warn({ err: error.message }, `${TRANSCRIBE} sent a frame that is not an event-stream message; ignored`);
      this.decoder.reset();
      return;
    }
    for (const message of messages) {
      const payload = Buffer.from(message.payload).toString('utf8');
      const type = stringHeader(message, ':message-type');
      if (type === 'exception' || type === 'error') {
        const body = parseJSONText(payload);
        const text = messageOf(body) ?? '';
        this.lastError = transcribeError(stringHeader(message, ':exception-type') ?? stringHeader(message, ':error-code') ?? '', text || (stringHeader(message, ':error-message') ?? ''), this.secrets);
        this.logger.warn({ error: this.lastError.message }, `${TRANSCRIBE} reported an exception`);
      } else if (type === 'event' && stringHeader(message, ':event-type') === 'TranscriptEvent') {
        const body = parseJSONText(payload);
        const transcript = isRecord(body) && isRecord(body.Transcript) ? body.Transcript : {};
        if (Array.isArray(transcript.Results)) for (const result of transcript.Results) if (isRecord(result)) this.onResult(result);
      }
    }
  }

  private onResult(result: Record<string, unknown>): void {
    const alternative = Array.isArray(result.Alternatives) && isRecord(result.Alternatives[0]) ? result.Alternatives[0] : {};
    const text = typeof alternative.Transcript === 'string' ? alternative.Transcript.trim() : '';
    this.heardSinceSpeechStart = true;
    if (result.IsPartial !== false) {
      this.resultOpen = true;
      this.emitTranscript(text, false);
      return;
    }
    this.resultOpen = false;
    const language = typeof result.LanguageCode === 'string' ? result.LanguageCode : undefined;
    this.emitTranscript(text, true, { ...(language === undefined ? {} : { language }), words: this.words(alternative.Items) });
    const end = num(result.EndTime);
    if (end !== undefined) this.finalReached(end);
    if (this.finalizeWanted) {
      this.finalizeWanted = false;
      this.finalizeAnswered();
    }
  }

  private words(raw: unknown): TranscriptionWord[] {
    if (!Array.isArray(raw)) return [];
    const words: TranscriptionWord[] = [];
    for (const item of raw as TranscribeItem[]) {
      const start = num(item.StartTime);
      const end = num(item.EndTime);
      const word = typeof item.Content === 'string' ? item.Content.trim() : '';
      // Punctuation items carry no time of their own.
      if (item.Type !== 'pronunciation' || word === '' || start === undefined || end === undefined) continue;
      const confidence = num(item.Confidence);
      words.push({ word, start: this.toCallTime(start), end: this.toCallTime(end), ...(confidence === undefined ? {} : { confidence }) });
    }
    return words;
  }
}

/** The text of an AWS error body (`Message` in Transcribe's exceptions, `message` in refusals). */
function messageOf(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const message = body.Message ?? body.message;
  return typeof message === 'string' ? message : undefined;
}

/** One AudioEvent message: the headers Transcribe documents, the PCM as the payload. */
function audioEvent(pcm: Uint8Array): Buffer {
  return encodeEventStreamMessage({ ':content-type': 'application/octet-stream', ':event-type': 'AudioEvent', ':message-type': 'event' }, pcm);
}

/** A refused handshake: the type in `x-amzn-ErrorType` or the body, the text in its `message` / `Message`. */
function handshakeError(failure: HttpFailure, secrets: readonly string[]): ServiceError {
  const body = parseJSONText(failure.body);
  const record = isRecord(body) ? body : {};
  const type = awsErrorType(failure.headers.get('x-amzn-errortype'), record.__type);
  const message = messageOf(record) ?? (failure.body.trim().slice(0, 200) || 'handshake refused');
  return transcribeError(type, message, secrets, failure.status);
}
