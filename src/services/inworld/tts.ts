// InworldTTSService: Inworld's voices through its HTTP streaming endpoint (`POST /tts/v1/voice:stream`): one request
// per sentence, the answer newline-delimited JSON whose `result.audioContent` pieces are base64 LINEAR16 audio, each
// of which may start with its own 44-byte WAV header (cut off here). Facts and sources: docs/vendors/inworld.md.
//
// HTTP rather than the bidirectional socket, for the reason Sarvam's client gives: the TTS base hands over one sentence
// at a time and needs to know where its audio ends, which the end of a request says; an interruption is an aborted
// request, so no stale audio can follow it. Word timings are not requested yet (sentences are sent as one
// `tts-text`): their offsets restart at 0 per request and the base wants them from the utterance's start.
import { codeForStatus, ServiceError, TTSService, type SynthesizeOptions, type TTSChunk } from '../base/index.js';
import { streamJsonLines } from '../base/http-stream.js';
import { isRecord } from '../base/json.js';
import { redactSecrets, requireApiKey, retryAfterSecs, type HeaderReader } from '../base/vendor-errors.js';
import { WireAudioDecoder } from '../base/wire-audio.js';

const VENDOR = 'Inworld';

/** The rates this client asks for (Inworld makes 8 to 48 kHz). */
export const INWORLD_SAMPLE_RATES = [8000, 16000, 22050, 24000, 44100, 48000] as const;
/** The longest text one request takes. */
export const INWORLD_MAX_CHARS = 2000;

export interface InworldTTSServiceOptions {
  /** The Base64 credential Inworld's portal shows ("Basic (Base64)"), sent as `Authorization: Basic <key>`. */
  apiKey: string;
  /** `voiceId`, e.g. 'Ashley', 'Dennis'. Default 'Ashley'. */
  voice?: string;
  /** `modelId`. Default 'inworld-tts-1.5-max'; 'inworld-tts-1.5-mini' is faster. */
  model?: string;
  /** `language` (e.g. 'hi-IN'). Default: Inworld's (the voice's). */
  language?: string;
  /** `audioConfig.speakingRate`, 0.5 to 1.5. Default: Inworld's (1). */
  speakingRate?: number;
  /** A fixed output rate; by default the call's output rate (8 kHz on a phone line). */
  sampleRate?: (typeof INWORLD_SAMPLE_RATES)[number];
  /** Default `https://api.inworld.ai`. */
  baseUrl?: string;
  /** Longest wait for the first audio, and then between two pieces of it. Default 10 s. */
  timeoutMs?: number;
  name?: string;
}

/** A refused request: Inworld answers `{"code", "message"}` (gRPC-gateway style), or `{"error": {...}}` in a stream. */
function inworldError(status: number | undefined, headers: HeaderReader | undefined, body: unknown, apiKey: string): ServiceError {
  const error = isRecord(body) && isRecord(body.error) ? body.error : isRecord(body) ? body : {};
  const message = typeof error.message === 'string' && error.message !== '' ? error.message : status === undefined ? 'stream error' : `HTTP ${status}`;
  const grpc = typeof error.code === 'number' ? error.code : undefined;
  // In-stream errors carry a gRPC code: 16 unauthenticated, 7 permission denied, 8 resource exhausted, 3 invalid.
  const fromGrpc = grpc === 16 || grpc === 7 ? 'auth' : grpc === 8 ? 'rate-limited' : grpc === 3 ? 'bad-request' : 'server';
  const code = status === undefined ? fromGrpc : codeForStatus(status);
  const hint = code === 'auth' ? ' (check INWORLD_API_KEY)' : '';
  return new ServiceError(VENDOR, redactSecrets(`speech request refused${status === undefined ? '' : ` with ${status}`}: ${message}${hint}`, [apiKey]), {
    status,
    code,
    vendorCode: grpc === undefined ? undefined : String(grpc),
    retryAfterSecs: headers === undefined ? undefined : retryAfterSecs(headers),
  });
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

export class InworldTTSService extends TTSService {
  override readonly model: string;
  readonly voice: string;
  readonly language: string | undefined;
  private readonly apiKey: string;
  private readonly endpoint: string;
  private readonly speakingRate: number | undefined;
  private readonly timeoutMs: number;

  constructor(options: InworldTTSServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'INWORLD_API_KEY');
    const rates: readonly number[] = INWORLD_SAMPLE_RATES;
    if (options.sampleRate !== undefined && !rates.includes(options.sampleRate)) {
      throw new RangeError(`${new.target.name}: sampleRate must be one of ${rates.join(', ')}, got ${String(options.sampleRate)}`);
    }
    if (options.speakingRate !== undefined && !(options.speakingRate >= 0.5 && options.speakingRate <= 1.5)) {
      throw new RangeError(`${new.target.name}: speakingRate must be between 0.5 and 1.5, got ${options.speakingRate}`);
    }
    const model = options.model ?? 'inworld-tts-1.5-max';
    super({ name: options.name, sampleRate: options.sampleRate ?? 16000, sampleRates: rates, fixedSampleRate: options.sampleRate !== undefined, model });
    this.model = model;
    this.voice = options.voice ?? 'Ashley';
    this.language = options.language;
    this.apiKey = apiKey;
    this.speakingRate = options.speakingRate;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.endpoint = `${(options.baseUrl ?? 'https://api.inworld.ai').replace(/\/+$/, '')}/tts/v1/voice:stream`;
  }

  private body(text: string): Record<string, unknown> {
    return {
      text,
      voiceId: this.voice,
      modelId: this.model,
      audioConfig: {
        audioEncoding: 'LINEAR16',
        sampleRateHertz: this.sampleRate,
        ...(this.speakingRate === undefined ? {} : { speakingRate: this.speakingRate }),
      },
      ...(this.language === undefined ? {} : { language: this.language }),
    };
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    if (options.signal.aborted) return;
    if (text.length > INWORLD_MAX_CHARS) {
      throw new ServiceError(VENDOR, `text of ${text.length} characters is over the ${INWORLD_MAX_CHARS} a request takes`, { code: 'bad-request' });
    }
    const lines = streamJsonLines({
      service: VENDOR,
      url: this.endpoint,
      headers: { Authorization: `Basic ${this.apiKey}`, 'Content-Type': 'application/json' },
      body: this.body(text),
      signal: options.signal,
      timeoutMs: this.timeoutMs,
      secrets: [this.apiKey],
      httpError: (failure) => inworldError(failure.status, failure.headers, parse(failure.body), this.apiKey),
      clock: this.clock,
      silence: 'audio',
    });
    // Newline-delimited JSON, one audio piece per line.
    const decoder = new WireAudioDecoder('s16le');
    for await (const line of lines) {
      const audio = this.audioOf(line, decoder);
      if (audio !== undefined && audio.length > 0) yield { type: 'audio', audio };
    }
  }

  /** The audio of one NDJSON line (its WAV header cut off); throws the line's error. */
  private audioOf(message: unknown, decoder: WireAudioDecoder): Int16Array | undefined {
    if (!isRecord(message)) throw new ServiceError(VENDOR, 'speech stream sent a line that is not a JSON object', { code: 'protocol' });
    if (message.error !== undefined) throw inworldError(undefined, undefined, message, this.apiKey);
    const result = message.result;
    if (!isRecord(result) || typeof result.audioContent !== 'string') return undefined;
    let bytes = Buffer.from(result.audioContent, 'base64');
    if (bytes.length >= 44 && bytes.subarray(0, 4).toString('latin1') === 'RIFF') bytes = bytes.subarray(44);
    return decoder.decode(bytes);
  }
}
