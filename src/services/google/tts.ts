// GoogleTTSService: Google Cloud Text-to-Speech through its v1 REST method (`POST /v1/text:synthesize`): one request
// per sentence, the answer one JSON object whose `audioContent` is a base64 WAV (LINEAR16 at the call's rate, or
// 8 kHz MULAW), its header checked and cut off here. Facts and sources: docs/vendors/google-tts.md.
//
// REST rather than the gRPC `StreamingSynthesize` (the only streamed method, and gRPC only: a dependency of several
// MB for `@grpc/grpc-js` plus the client): a sentence's audio comes whole, so the first audio waits for the sentence
// to be made; it is then handed on in 40 ms pieces. Auth is an API key or, for service accounts, a bearer-token
// supplier the user owns (google-auth-library's `getAccessToken`), so this package needs no Google SDK.
import { bytesToInt16, mulawToPcm } from '../../audio/index.js';
import { ServiceError, TTSService, type SynthesizeOptions, type TTSChunk } from '../base/index.js';
import { streamHttpBody } from '../base/http-stream.js';
import { isRecord, parseJSONText } from '../base/json.js';
import { requireApiKey } from '../base/vendor-errors.js';
import { WavStreamReader } from '../base/wav-stream.js';
import { googleHttpError } from './errors.js';

const VENDOR = 'Google TTS';

/** The rates this client asks LINEAR16 in (Google resamples to any `sampleRateHertz`). */
export const GOOGLE_TTS_SAMPLE_RATES = [8000, 16000, 22050, 24000, 44100, 48000] as const;
export type GoogleTTSSampleRate = (typeof GOOGLE_TTS_SAMPLE_RATES)[number];
/** The most bytes of text one request takes. */
export const GOOGLE_TTS_MAX_INPUT_BYTES = 5000;
/** How much audio each piece handed on holds. */
const PIECE_MS = 40;

export interface GoogleTTSServiceOptions {
  /** An API key (`X-Goog-Api-Key`). Give this or `accessToken`. */
  apiKey?: string;
  /**
   * A bearer token for each request (`Authorization: Bearer`), e.g. `() => auth.getAccessToken()` from
   * google-auth-library for a service account. Called per request: the supplier caches and refreshes.
   */
  accessToken?: () => string | Promise<string>;
  /** The project billed for a user's credentials (`x-goog-user-project`); not needed with an API key. */
  quotaProject?: string;
  /** A voice name, e.g. 'en-IN-Chirp3-HD-Aoede', 'hi-IN-Wavenet-A'. Default 'en-US-Neural2-F'. */
  voice?: string;
  /** `voice.languageCode` (BCP-47). Default: the voice's (its name's first two parts). */
  language?: string;
  /** 'LINEAR16' (default, at the call's rate) or 'MULAW' (8 kHz G.711, decoded here; fixes the rate at 8 kHz). */
  encoding?: 'LINEAR16' | 'MULAW';
  /** `audioConfig.speakingRate`, 0.25 to 2. Default: Google's (1). */
  speakingRate?: number;
  /** A fixed output rate; by default the call's output rate (8 kHz on a phone line). */
  sampleRate?: GoogleTTSSampleRate;
  /** Default `https://texttospeech.googleapis.com`. */
  baseUrl?: string;
  /** Longest wait for the answer to start, and then between two pieces of it. Default 10 s. */
  timeoutMs?: number;
  name?: string;
}

export class GoogleTTSService extends TTSService {
  readonly voice: string;
  readonly language: string;
  readonly encoding: 'LINEAR16' | 'MULAW';
  private readonly apiKey: string | undefined;
  private readonly accessToken: (() => string | Promise<string>) | undefined;
  private readonly quotaProject: string | undefined;
  private readonly speakingRate: number | undefined;
  private readonly endpoint: string;
  private readonly timeoutMs: number;

  constructor(options: GoogleTTSServiceOptions) {
    if ((options.apiKey === undefined) === (options.accessToken === undefined)) {
      throw new TypeError(`${new.target.name}: give apiKey (e.g. process.env.GOOGLE_TTS_API_KEY) or accessToken, not both`);
    }
    const apiKey = options.apiKey === undefined ? undefined : requireApiKey(options.apiKey, new.target.name, 'GOOGLE_TTS_API_KEY');
    const rates: readonly number[] = GOOGLE_TTS_SAMPLE_RATES;
    if (options.sampleRate !== undefined && !rates.includes(options.sampleRate)) {
      throw new RangeError(`${new.target.name}: sampleRate must be one of ${rates.join(', ')}, got ${String(options.sampleRate)}`);
    }
    const encoding = options.encoding ?? 'LINEAR16';
    if (encoding === 'MULAW' && options.sampleRate !== undefined && options.sampleRate !== 8000) {
      throw new RangeError(`${new.target.name}: MULAW is 8 kHz only here, got sampleRate ${options.sampleRate}`);
    }
    if (options.speakingRate !== undefined && !(options.speakingRate >= 0.25 && options.speakingRate <= 2)) {
      throw new RangeError(`${new.target.name}: speakingRate must be between 0.25 and 2, got ${options.speakingRate}`);
    }
    const mulaw = encoding === 'MULAW';
    super({
      name: options.name,
      sampleRate: mulaw ? 8000 : (options.sampleRate ?? 24000),
      sampleRates: mulaw ? [8000] : rates,
      fixedSampleRate: mulaw || options.sampleRate !== undefined,
    });
    this.voice = options.voice ?? 'en-US-Neural2-F';
    this.language = options.language ?? this.voice.split('-').slice(0, 2).join('-');
    this.encoding = encoding;
    this.apiKey = apiKey;
    this.accessToken = options.accessToken;
    this.quotaProject = options.quotaProject;
    this.speakingRate = options.speakingRate;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.endpoint = `${(options.baseUrl ?? 'https://texttospeech.googleapis.com').replace(/\/+$/, '')}/v1/text:synthesize`;
  }

  private body(text: string): Record<string, unknown> {
    return {
      input: { text },
      voice: { languageCode: this.language, name: this.voice },
      audioConfig: {
        audioEncoding: this.encoding,
        sampleRateHertz: this.sampleRate,
        ...(this.speakingRate === undefined ? {} : { speakingRate: this.speakingRate }),
      },
    };
  }

  private async headers(): Promise<{ headers: Record<string, string>; secrets: string[] }> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (this.quotaProject !== undefined) headers['x-goog-user-project'] = this.quotaProject;
    if (this.apiKey !== undefined) return { headers: { ...headers, 'X-Goog-Api-Key': this.apiKey }, secrets: [this.apiKey] };
    const token = (await this.accessToken?.())?.trim() ?? '';
    if (token === '') throw new ServiceError(VENDOR, 'the accessToken supplier returned no token', { code: 'auth' });
    return { headers: { ...headers, Authorization: `Bearer ${token}` }, secrets: [token] };
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    if (options.signal.aborted) return;
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > GOOGLE_TTS_MAX_INPUT_BYTES) {
      throw new ServiceError(VENDOR, `text of ${bytes} bytes is over the ${GOOGLE_TTS_MAX_INPUT_BYTES} a request takes`, { code: 'bad-request' });
    }
    const { headers, secrets } = await this.headers();
    const body = streamHttpBody({
      service: VENDOR,
      url: this.endpoint,
      headers,
      body: this.body(text),
      signal: options.signal,
      timeoutMs: this.timeoutMs,
      secrets,
      httpError: (failure) => googleHttpError(VENDOR, failure, secrets, this.apiKey === undefined ? ' (check the access token)' : ' (check GOOGLE_TTS_API_KEY)'),
      clock: this.clock,
      silence: 'audio',
    });
    const parts: Uint8Array[] = [];
    for await (const part of body) parts.push(part);
    if (options.signal.aborted) return;
    const answer = parseJSONText(Buffer.concat(parts).toString('utf8'));
    if (!isRecord(answer) || typeof answer.audioContent !== 'string') {
      throw new ServiceError(VENDOR, 'the answer has no audioContent', { code: 'protocol' });
    }
    const audio = this.decode(Buffer.from(answer.audioContent, 'base64'));
    const step = Math.round((this.sampleRate * PIECE_MS) / 1000);
    for (let at = 0; at < audio.length; at += step) {
      if (options.signal.aborted) return;
      yield { type: 'audio', audio: audio.subarray(at, at + step) };
    }
  }

  /** The samples of the answer's WAV, checked against what was asked. */
  private decode(wav: Uint8Array): Int16Array {
    const reader = new WavStreamReader();
    let data: Uint8Array;
    try {
      data = reader.push(wav);
    } catch (error) {
      throw new ServiceError(VENDOR, `unreadable audio: ${error instanceof Error ? error.message : String(error)}`, { code: 'protocol' });
    }
    const format = reader.format;
    const expected: number = this.encoding === 'MULAW' ? 7 : 1;
    if (format === undefined || format.formatTag !== expected || format.channels !== 1 || format.sampleRate !== this.sampleRate) {
      throw new ServiceError(VENDOR, `audio not as asked (${JSON.stringify(format)}), wanted ${this.encoding} at ${this.sampleRate} Hz mono`, { code: 'protocol' });
    }
    if (format.formatTag === 7) return mulawToPcm(data);
    // A copy: aligned for the Int16 view whatever the header's length.
    return bytesToInt16(new Uint8Array(data.subarray(0, data.length - (data.length % 2))));
  }
}
