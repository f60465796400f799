// SpeechmaticsTTSService: Speechmatics' text-to-speech (a preview product) through `POST /generate/{voice}` with
// `output_format=pcm_16000`: one request per sentence, answered as raw PCM16 at 16 kHz streamed in the body (the
// output transport resamples to the line's rate). Facts and sources: docs/vendors/speechmatics-tts.md.
import { codeForStatus, ServiceError, TTSService, type SynthesizeOptions, type TTSChunk } from '../base/index.js';
import { streamHttpBody, type HttpFailure } from '../base/http-stream.js';
import { isRecord } from '../base/json.js';
import { redactSecrets, requireApiKey, retryAfterSecs } from '../base/vendor-errors.js';
import { WireAudioDecoder } from '../base/wire-audio.js';

const VENDOR = 'Speechmatics TTS';

/** The only rate the preview makes (`pcm_16000`). */
export const SPEECHMATICS_TTS_SAMPLE_RATE = 16000;
/** The preview's voices: British English (sarah, theo) and American English (megan, jack). */
export type SpeechmaticsVoice = 'sarah' | 'theo' | 'megan' | 'jack';

export interface SpeechmaticsTTSServiceOptions {
  /** Sent as `Authorization: Bearer <key>`; the same key as Speechmatics speech-to-text. */
  apiKey: string;
  /** The voice, in the path. Default 'sarah'. Other names are sent as given (the preview's list may grow). */
  voice?: SpeechmaticsVoice | (string & {});
  /** Default `https://preview.tts.speechmatics.com`. */
  baseUrl?: string;
  /** Longest wait for the first audio, and then between two pieces of it. Default 10 s. */
  timeoutMs?: number;
  name?: string;
}

/** What an error body says: JSON `detail`, `error` or `message`, an HTML page's title, or short plain text. */
export function speechmaticsReason(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isRecord(parsed)) {
      for (const field of ['detail', 'error', 'message'] as const) {
        const value = parsed[field];
        if (typeof value === 'string' && value !== '') return value;
      }
    }
  } catch {
    // Not JSON: the gateway's HTML page (Speechmatics' nginx answers a missing key so) or plain text.
  }
  const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1]?.trim();
  if (title !== undefined) return title;
  const text = body.trim();
  return text.length <= 200 && !text.startsWith('<') ? text : '';
}

export class SpeechmaticsTTSService extends TTSService {
  readonly voice: string;
  private readonly apiKey: string;
  private readonly endpoint: string;
  private readonly timeoutMs: number;

  constructor(options: SpeechmaticsTTSServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'SPEECHMATICS_API_KEY');
    const voice = options.voice?.trim() || 'sarah';
    if (!/^[A-Za-z0-9_-]+$/.test(voice)) throw new RangeError(`${new.target.name}: voice must be a voice name such as 'sarah', got ${JSON.stringify(options.voice)}`);
    super({ name: options.name, sampleRate: SPEECHMATICS_TTS_SAMPLE_RATE });
    this.apiKey = apiKey;
    this.voice = voice;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    const base = (options.baseUrl ?? 'https://preview.tts.speechmatics.com').replace(/\/+$/, '');
    this.endpoint = `${base}/generate/${voice}?output_format=pcm_${SPEECHMATICS_TTS_SAMPLE_RATE}`;
  }

  private httpError(failure: HttpFailure): ServiceError {
    const code = codeForStatus(failure.status);
    const reason = speechmaticsReason(failure.body);
    const hint = code === 'auth' ? ' (check SPEECHMATICS_API_KEY)' : '';
    const text = `speech request refused with ${failure.status}${reason === '' ? '' : `: ${reason}`}${hint}`;
    return new ServiceError(VENDOR, redactSecrets(text, [this.apiKey]), { status: failure.status, code, retryAfterSecs: retryAfterSecs(failure.headers) });
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    if (options.signal.aborted) return;
    const body = streamHttpBody({
      service: VENDOR,
      url: this.endpoint,
      headers: { Authorization: `Bearer ${this.apiKey}`, 'Content-Type': 'application/json' },
      body: { text },
      signal: options.signal,
      timeoutMs: this.timeoutMs,
      secrets: [this.apiKey],
      httpError: (failure) => this.httpError(failure),
      clock: this.clock,
      silence: 'audio',
    });
    const decoder = new WireAudioDecoder('s16le');
    for await (const bytes of body) {
      const audio = decoder.decode(bytes);
      if (audio.length > 0) yield { type: 'audio', audio };
    }
  }
}
