// GoogleSTTService: Google Cloud Speech-to-Text v1 synchronous recognition (`POST /v1/speech:recognize`), one
// request per caller turn, the VAD deciding where a turn ends (SegmentedSTTService): the turn goes up as base64
// LINEAR16 in the JSON body, the answer's results (sequential portions of the turn) are joined. Auth is an API key
// (sent in the `x-goog-api-key` header, never in the URL where it would end up in proxies' logs) or a bearer token
// from a function you supply (a service account's, refreshed by you), fetched for every request.
// Synchronous recognition takes at most 1 minute of audio: `maxSegmentSecs` stays at 30.
// Facts and sources: docs/vendors/google-speech.md. Google's error bodies are read as the Gemini client reads them.
import { int16ToBytes } from '../../audio/index.js';
import { SegmentedSTTService, ServiceError, type SegmentedSTTServiceOptions, type SegmentedTranscript } from '../base/index.js';
import { postTranscription } from '../base/rest-transcription.js';
import { geminiHttpError } from './errors.js';

const VENDOR = 'Google Speech';
const MIN_AUDIO_SECS = 0.1;

/** A bearer token for a request (e.g. from google-auth-library's `getAccessToken()`), or the token itself. */
export type GoogleAccessTokenSupplier = () => string | Promise<string>;

export type GoogleSTTCredentials = { readonly apiKey: string } | { readonly getAccessToken: GoogleAccessTokenSupplier };

export type GoogleSTTServiceOptions = Omit<SegmentedSTTServiceOptions, 'model' | 'sampleRate'> &
  GoogleSTTCredentials & {
    /** BCP-47 `languageCode`, e.g. 'en-IN', 'hi-IN'. Default 'en-US'. */
    language?: string;
    /** `model`, e.g. 'telephony', 'phone_call', 'latest_short'; the API's default when unset. */
    model?: string;
    /** `enableAutomaticPunctuation`. Default true (the LLM reads sentences better). */
    punctuation?: boolean;
    /** 8000 or 16000: the rate of the uploaded LINEAR16. Default 16000. */
    sampleRate?: 8000 | 16000;
    /** Default `https://speech.googleapis.com`. */
    baseUrl?: string;
    /** Longest wait for a turn's transcript (the token included). Default 15 s. */
    timeoutMs?: number;
  };

export class GoogleSTTService extends SegmentedSTTService {
  readonly language: string;
  private readonly credentials: GoogleSTTCredentials;
  private readonly punctuation: boolean;
  private readonly endpoint: string;
  private readonly timeoutMs: number;

  constructor(options: GoogleSTTServiceOptions) {
    const name = new.target.name;
    if ('getAccessToken' in options && typeof options.getAccessToken === 'function') {
      // A token supplier: nothing to check until a request is made.
    } else if (!('apiKey' in options) || typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
      throw new TypeError(`${name}: apiKey or getAccessToken is required (e.g. { apiKey: process.env.GOOGLE_SPEECH_API_KEY })`);
    }
    super({ ...options, sampleRate: options.sampleRate ?? 16000 });
    this.credentials = 'getAccessToken' in options ? { getAccessToken: options.getAccessToken } : { apiKey: options.apiKey.trim() };
    this.language = options.language ?? 'en-US';
    this.punctuation = options.punctuation ?? true;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.endpoint = `${(options.baseUrl ?? 'https://speech.googleapis.com').replace(/\/+$/, '')}/v1/speech:recognize`;
  }

  /** The auth header, and the secret to keep out of errors. */
  private async auth(): Promise<{ header: Record<string, string>; secret: string }> {
    if ('apiKey' in this.credentials) return { header: { 'x-goog-api-key': this.credentials.apiKey }, secret: this.credentials.apiKey };
    let token: string;
    try {
      token = (await this.credentials.getAccessToken()).trim();
    } catch (error) {
      throw new ServiceError(VENDOR, `getAccessToken failed: ${error instanceof Error ? error.message : String(error)}`, { code: 'auth', retryable: false });
    }
    if (token === '') throw new ServiceError(VENDOR, 'getAccessToken returned an empty token', { code: 'auth', retryable: false });
    return { header: { authorization: `Bearer ${token}` }, secret: token };
  }

  protected override async transcribe(audio: Int16Array, sampleRate: number): Promise<SegmentedTranscript> {
    if (audio.length < sampleRate * MIN_AUDIO_SECS) return { text: '' };
    const config: Record<string, unknown> = {
      encoding: 'LINEAR16',
      sampleRateHertz: sampleRate,
      audioChannelCount: 1,
      languageCode: this.language,
      enableAutomaticPunctuation: this.punctuation,
    };
    if (this.model !== undefined) config.model = this.model;
    const request = JSON.stringify({ config, audio: { content: int16ToBytes(audio).toString('base64') } });
    const answer = await this.withDeadline(VENDOR, this.timeoutMs, async (signal) => {
      const { header, secret } = await this.auth();
      return postTranscription({
        service: VENDOR,
        url: this.endpoint,
        headers: { 'content-type': 'application/json', ...header },
        body: request,
        signal,
        secrets: [secret],
        httpError: (failure) => geminiHttpError(failure, [secret], VENDOR),
      });
    });
    // Aborted by cleanup: the call is over and nobody is waiting for this turn.
    if (answer === undefined) return { text: '' };
    const results = (answer as { results?: unknown }).results;
    if (results !== undefined && !Array.isArray(results)) throw new ServiceError(VENDOR, 'recognition answer has malformed results', { code: 'protocol' });
    const pieces: string[] = [];
    for (const result of (results ?? []) as { alternatives?: { transcript?: unknown }[] }[]) {
      const transcript = result.alternatives?.[0]?.transcript;
      if (typeof transcript === 'string' && transcript.trim() !== '') pieces.push(transcript.trim());
    }
    // No results at all: the turn held no speech Google could recognise.
    return { text: pieces.join(' '), language: this.language };
  }
}
