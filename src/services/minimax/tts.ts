// MiniMaxTTSService: MiniMax's voices through its T2A v2 HTTP endpoint (`POST /v1/t2a_v2` with `stream: true`): one
// request per sentence, answered as Server-Sent Events whose `data.audio` is hex-encoded PCM. The last event
// (`data.status` 2) carries `extra_info` (and, unless excluded, the whole sentence's audio again, which is skipped).
// Facts and sources: docs/vendors/minimax.md.
//
// HTTP rather than MiniMax's WebSocket (`wss://…/ws/v1/t2a_v2`): the TTS base hands over one sentence at a time and
// needs to know where its audio ends, which the end of a request says; an interruption is an aborted request, so no
// stale audio can follow it; and the socket's task_start/task_continue handshake would only add a round trip.
import { codeForStatus, ServiceError, TTSService, type ServiceErrorCode, type SynthesizeOptions, type TTSChunk } from '../base/index.js';
import { streamHttpBody, type HttpFailure } from '../base/http-stream.js';
import { isRecord } from '../base/json.js';
import { SSEDecoder } from '../base/sse-decoder.js';
import { redactSecrets, requireApiKey, retryAfterSecs } from '../base/vendor-errors.js';
import { WireAudioDecoder } from '../base/wire-audio.js';

const VENDOR = 'MiniMax';

/** The rates T2A v2 makes (`audio_setting.sample_rate`). */
export const MINIMAX_SAMPLE_RATES = [8000, 16000, 22050, 24000, 32000, 44100] as const;
/** The longest text one synchronous request takes. */
export const MINIMAX_MAX_CHARS = 10_000;
/** The emotions `voice_setting.emotion` takes. */
export type MiniMaxEmotion = 'happy' | 'sad' | 'angry' | 'fearful' | 'disgusted' | 'surprised' | 'neutral';

export interface MiniMaxTTSServiceOptions {
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** Older accounts' GroupId, sent as the `GroupId` query parameter when given; current keys do not need it. */
  groupId?: string;
  /** `voice_setting.voice_id`, e.g. 'English_Graceful_Lady', 'Wise_Woman'. Default 'Wise_Woman'. */
  voice?: string;
  /** Default 'speech-02-turbo'; also 'speech-02-hd', 'speech-2.5-turbo-preview', 'speech-2.6-turbo', … */
  model?: string;
  /** `language_boost`: MiniMax's language name ('Hindi', 'English', 'auto', …). Default: not sent (MiniMax's). */
  language?: string;
  /** `voice_setting.speed`, 0.5 to 2. Default: MiniMax's (1). */
  speed?: number;
  /** `voice_setting.pitch`, -12 to 12 semitones. Default: MiniMax's (0). */
  pitch?: number;
  /** `voice_setting.emotion`. Default: the model's choice. */
  emotion?: MiniMaxEmotion;
  /** A fixed output rate; by default the call's output rate (8 kHz on a phone line). */
  sampleRate?: (typeof MINIMAX_SAMPLE_RATES)[number];
  /** Default `https://api.minimax.io` (`https://api-uw.minimax.io` is MiniMax's lower-latency host). */
  baseUrl?: string;
  /** Longest wait for the first audio, and then between two pieces of it. Default 10 s. */
  timeoutMs?: number;
  name?: string;
}

/**
 * What a `base_resp.status_code` means. The documented codes: 1000 unknown, 1001 timeout, 1002 rate limit, 1004 not
 * authorised, 1008 insufficient balance, 1024 internal error, 1026/1027 sensitive input/output, 1039 token limit,
 * 2013 invalid parameters, 2049 invalid API key. Other 2xxx codes are request problems; anything else is the server's.
 */
export function minimaxCodeOf(statusCode: number): ServiceErrorCode {
  if (statusCode === 1004 || statusCode === 2049) return 'auth';
  if (statusCode === 1002 || statusCode === 1039) return 'rate-limited';
  if (statusCode === 1008) return 'quota';
  if (statusCode === 1001) return 'timeout';
  if (statusCode === 1026 || statusCode === 1027) return 'content-filtered';
  if (statusCode >= 2000 && statusCode < 3000) return 'bad-request';
  return 'server';
}

/** The `base_resp` of a MiniMax answer when it reports a failure (a non-zero `status_code`). */
function failedBaseResp(body: unknown): { code: number; message: string } | undefined {
  if (!isRecord(body) || !isRecord(body.base_resp)) return undefined;
  const code = body.base_resp.status_code;
  if (typeof code !== 'number' || code === 0) return undefined;
  const message = typeof body.base_resp.status_msg === 'string' ? body.base_resp.status_msg : '';
  return { code, message };
}

function minimaxError(failure: { status?: number; base?: { code: number; message: string }; retryAfter?: number }, apiKey: string): ServiceError {
  const { status, base } = failure;
  const code = base !== undefined ? minimaxCodeOf(base.code) : codeForStatus(status ?? 500);
  const said = base !== undefined ? `${base.code} ${base.message}`.trim() : `HTTP ${status ?? '?'}`;
  const hint = code === 'auth' ? ' (check MINIMAX_API_KEY)' : '';
  const text = `speech request refused${status === undefined || status === 200 ? '' : ` with ${status}`}: ${said}${hint}`;
  return new ServiceError(VENDOR, redactSecrets(text, [apiKey]), {
    ...(status === undefined || status === 200 ? {} : { status }),
    code,
    vendorCode: base === undefined ? undefined : String(base.code),
    retryAfterSecs: failure.retryAfter,
  });
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

export class MiniMaxTTSService extends TTSService {
  override readonly model: string;
  readonly voice: string;
  readonly language: string | undefined;
  private readonly apiKey: string;
  private readonly endpoint: string;
  private readonly voiceSetting: Readonly<Record<string, unknown>>;
  private readonly timeoutMs: number;

  constructor(options: MiniMaxTTSServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'MINIMAX_API_KEY');
    const rates: readonly number[] = MINIMAX_SAMPLE_RATES;
    if (options.sampleRate !== undefined && !rates.includes(options.sampleRate)) {
      throw new RangeError(`${new.target.name}: sampleRate must be one of ${rates.join(', ')}, got ${String(options.sampleRate)}`);
    }
    if (options.speed !== undefined && !(options.speed >= 0.5 && options.speed <= 2)) {
      throw new RangeError(`${new.target.name}: speed must be between 0.5 and 2, got ${options.speed}`);
    }
    if (options.pitch !== undefined && !(Number.isInteger(options.pitch) && options.pitch >= -12 && options.pitch <= 12)) {
      throw new RangeError(`${new.target.name}: pitch must be an integer from -12 to 12, got ${options.pitch}`);
    }
    const model = options.model ?? 'speech-02-turbo';
    super({ name: options.name, sampleRate: options.sampleRate ?? 16000, sampleRates: rates, fixedSampleRate: options.sampleRate !== undefined, model });
    this.model = model;
    this.voice = options.voice ?? 'Wise_Woman';
    this.language = options.language;
    this.apiKey = apiKey;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.voiceSetting = {
      voice_id: this.voice,
      ...(options.speed === undefined ? {} : { speed: options.speed }),
      ...(options.pitch === undefined ? {} : { pitch: options.pitch }),
      ...(options.emotion === undefined ? {} : { emotion: options.emotion }),
    };
    const group = options.groupId?.trim();
    const query = group === undefined || group === '' ? '' : `?GroupId=${encodeURIComponent(group)}`;
    this.endpoint = `${(options.baseUrl ?? 'https://api.minimax.io').replace(/\/+$/, '')}/v1/t2a_v2${query}`;
  }

  private body(text: string): Record<string, unknown> {
    return {
      model: this.model,
      text,
      stream: true,
      // The last event would otherwise repeat the whole sentence's audio, which is skipped anyway.
      stream_options: { exclude_aggregated_audio: true },
      voice_setting: this.voiceSetting,
      audio_setting: { sample_rate: this.sampleRate, format: 'pcm', channel: 1 },
      ...(this.language === undefined ? {} : { language_boost: this.language }),
    };
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    if (options.signal.aborted) return;
    if (text.length > MINIMAX_MAX_CHARS) {
      throw new ServiceError(VENDOR, `text of ${text.length} characters is over the ${MINIMAX_MAX_CHARS} a request takes`, { code: 'bad-request' });
    }
    const body = streamHttpBody({
      service: VENDOR,
      url: this.endpoint,
      headers: { Authorization: `Bearer ${this.apiKey}`, 'Content-Type': 'application/json' },
      body: this.body(text),
      signal: options.signal,
      timeoutMs: this.timeoutMs,
      secrets: [this.apiKey],
      httpError: (failure: HttpFailure) =>
        minimaxError({ status: failure.status, base: failedBaseResp(parse(failure.body)), retryAfter: retryAfterSecs(failure.headers) }, this.apiKey),
      clock: this.clock,
      silence: 'audio',
    });
    const events = new SSEDecoder();
    const decoder = new WireAudioDecoder('s16le');
    // MiniMax refuses with HTTP 200 and a plain JSON body (`base_resp`), not an event: kept until an event shows up.
    let plain: string | undefined = '';
    const utf8 = new TextDecoder();
    for await (const bytes of body) {
      for (const event of events.push(bytes)) {
        plain = undefined;
        const audio = this.audioOf(event.data, decoder);
        if (audio !== undefined && audio.length > 0) yield { type: 'audio', audio };
      }
      if (plain !== undefined && plain.length < 65_536) plain += utf8.decode(bytes, { stream: true });
    }
    if (options.signal.aborted) return;
    for (const event of events.end()) {
      plain = undefined;
      const audio = this.audioOf(event.data, decoder);
      if (audio !== undefined && audio.length > 0) yield { type: 'audio', audio };
    }
    if (plain !== undefined) {
      const base = failedBaseResp(parse(plain));
      if (base !== undefined) throw minimaxError({ status: 200, base }, this.apiKey);
      throw new ServiceError(VENDOR, 'speech answer had no audio events', { code: 'protocol' });
    }
  }

  /** The audio of one event (none for the final, aggregated one); throws the event's failure. */
  private audioOf(data: string, decoder: WireAudioDecoder): Int16Array | undefined {
    const message = parse(data);
    if (!isRecord(message)) throw new ServiceError(VENDOR, 'speech stream sent an event that is not JSON', { code: 'protocol' });
    const base = failedBaseResp(message);
    if (base !== undefined) throw minimaxError({ base }, this.apiKey);
    const payload = message.data;
    if (!isRecord(payload) || payload.status === 2 || typeof payload.audio !== 'string' || payload.audio === '') return undefined;
    if (payload.audio.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(payload.audio)) {
      throw new ServiceError(VENDOR, 'speech stream sent audio that is not hex', { code: 'protocol' });
    }
    return decoder.decode(Buffer.from(payload.audio, 'hex'));
  }
}
