// HumeTTSService: Hume's Octave voices through its streamed-JSON endpoint (`POST /v0/tts/stream/json`): one request
// per sentence, in instant mode, the answer newline-delimited JSON chunks whose `audio` is base64 PCM (48 kHz, 16-bit
// mono), the last one flagged `is_last_chunk`. Facts and sources: docs/vendors/hume.md.
//
// HTTP rather than Hume's input-streaming socket, for the reason Inworld's and Sarvam's clients give: the TTS base
// hands over one sentence at a time and needs to know where its audio ends, which the end of a request says; an
// interruption is an aborted request, so no stale audio can follow it. Octave speaks at one rate: the pipeline
// resamples once to the call's.
import { codeForStatus, ServiceError, TTSService, type SynthesizeOptions, type TTSChunk } from '../base/index.js';
import { streamJsonLines } from '../base/http-stream.js';
import { isRecord, parseJSONText } from '../base/json.js';
import { redactSecrets, requireApiKey, retryAfterSecs, type HeaderReader } from '../base/vendor-errors.js';
import { WireAudioDecoder } from '../base/wire-audio.js';

const VENDOR = 'Hume';
/** Octave's PCM rate. */
export const HUME_SAMPLE_RATE = 48000;
/** The longest text one utterance takes. */
export const HUME_MAX_CHARS = 5000;

export interface HumeTTSServiceOptions {
  apiKey: string;
  /** A voice's name from Hume's library (e.g. 'Ava Song') or one of yours; required (instant mode needs a voice). */
  voice: string;
  /** Whose voice `voice` names: 'HUME_AI' (the library, default) or 'CUSTOM_VOICE' (yours). */
  voiceProvider?: 'HUME_AI' | 'CUSTOM_VOICE';
  /** Acting instructions for the delivery (`description`, at most 1000 characters), e.g. 'calm, reassuring'. */
  description?: string;
  /** Speed multiplier, 0.5 to 2 (`speed`). Default: Hume's (1). */
  speed?: number;
  /** Octave version: '1' or '2'. Default: Hume's. */
  version?: '1' | '2';
  /** Default `https://api.hume.ai`. */
  baseUrl?: string;
  /** Longest wait for the first audio, and then between two pieces of it. Default 10 s. */
  timeoutMs?: number;
  name?: string;
}

/** A refused request. Hume's gateway answers a bad key with `{"fault": {"faultstring"}}`; the API with `message` or a validation `detail`. */
function humeError(status: number | undefined, headers: HeaderReader | undefined, body: unknown, apiKey: string): ServiceError {
  const record = isRecord(body) ? body : {};
  const fault = isRecord(record.fault) ? record.fault : {};
  const detail = Array.isArray(record.detail) ? record.detail.map((d) => (isRecord(d) && typeof d.msg === 'string' ? d.msg : '')).join('; ') : record.detail;
  const message = [fault.faultstring, record.message, record.error, detail].find((m): m is string => typeof m === 'string' && m !== '') ?? (status === undefined ? 'stream error' : `HTTP ${status}`);
  const code = status === undefined ? 'server' : codeForStatus(status);
  const hint = code === 'auth' ? ' (check HUME_API_KEY)' : '';
  return new ServiceError(VENDOR, redactSecrets(`speech request refused${status === undefined ? '' : ` with ${status}`}: ${message}${hint}`, [apiKey]), {
    status,
    code,
    retryAfterSecs: headers === undefined ? undefined : retryAfterSecs(headers),
  });
}

export class HumeTTSService extends TTSService {
  readonly voice: string;
  readonly voiceProvider: 'HUME_AI' | 'CUSTOM_VOICE';
  private readonly apiKey: string;
  private readonly endpoint: string;
  private readonly description: string | undefined;
  private readonly speed: number | undefined;
  private readonly version: '1' | '2' | undefined;
  private readonly timeoutMs: number;

  constructor(options: HumeTTSServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'HUME_API_KEY');
    const voice = typeof options.voice === 'string' ? options.voice.trim() : '';
    if (voice === '') throw new TypeError(`${new.target.name}: voice is required (a Hume voice name, e.g. from the voice library)`);
    if (options.speed !== undefined && !(options.speed >= 0.5 && options.speed <= 2)) {
      throw new RangeError(`${new.target.name}: speed must be between 0.5 and 2, got ${options.speed}`);
    }
    if (options.description !== undefined && options.description.length > 1000) {
      throw new RangeError(`${new.target.name}: description must be at most 1000 characters`);
    }
    super({ name: options.name, sampleRate: HUME_SAMPLE_RATE });
    this.voice = voice;
    this.voiceProvider = options.voiceProvider ?? 'HUME_AI';
    this.apiKey = apiKey;
    this.description = options.description;
    this.speed = options.speed;
    this.version = options.version;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.endpoint = `${(options.baseUrl ?? 'https://api.hume.ai').replace(/\/+$/, '')}/v0/tts/stream/json`;
  }

  private body(text: string): Record<string, unknown> {
    return {
      utterances: [
        {
          text,
          voice: { name: this.voice, provider: this.voiceProvider },
          ...(this.description === undefined ? {} : { description: this.description }),
          ...(this.speed === undefined ? {} : { speed: this.speed }),
        },
      ],
      format: { type: 'pcm' },
      instant_mode: true,
      strip_headers: true,
      ...(this.version === undefined ? {} : { version: this.version }),
    };
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    if (options.signal.aborted) return;
    if (text.length > HUME_MAX_CHARS) {
      throw new ServiceError(VENDOR, `text of ${text.length} characters is over the ${HUME_MAX_CHARS} an utterance takes`, { code: 'bad-request' });
    }
    const lines = streamJsonLines({
      service: VENDOR,
      url: this.endpoint,
      headers: { 'X-Hume-Api-Key': this.apiKey, 'Content-Type': 'application/json' },
      body: this.body(text),
      signal: options.signal,
      timeoutMs: this.timeoutMs,
      secrets: [this.apiKey],
      httpError: (failure) => humeError(failure.status, failure.headers, parseJSONText(failure.body), this.apiKey),
      clock: this.clock,
      silence: 'audio',
    });
    const decoder = new WireAudioDecoder('s16le');
    let last = false;
    for await (const line of lines) {
      if (!isRecord(line)) throw new ServiceError(VENDOR, 'speech stream sent a line that is not a JSON object', { code: 'protocol' });
      // Only audio chunks carry audio; other kinds (timestamps) are skipped.
      if (line.type !== undefined && line.type !== 'audio') continue;
      if (typeof line.audio !== 'string') throw humeError(undefined, undefined, line, this.apiKey);
      const audio = decoder.decode(Buffer.from(line.audio, 'base64'));
      if (audio.length > 0) yield { type: 'audio', audio };
      if (line.is_last_chunk === true) last = true;
    }
    // An answer that ends without its last chunk was cut short, though the connection closed cleanly.
    if (!last && !options.signal.aborted) throw new ServiceError(VENDOR, 'speech stream ended before its last chunk', { code: 'connection-lost' });
  }
}
