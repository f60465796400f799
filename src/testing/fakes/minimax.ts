// A local stand-in for MiniMax's T2A v2 HTTP endpoint (`POST /v1/t2a_v2`), over a real HTTP socket, so the production
// client is what gets tested. It checks requests as MiniMax documents them — `Authorization: Bearer <key>` (refused
// as MiniMax does: HTTP 200 with `base_resp.status_code` 1004), `model`, `text` (at most 10000 characters),
// `voice_setting.voice_id`, `audio_setting` (`pcm` emulated, other formats refused as not emulated; `sample_rate` one
// of MiniMax's) — every refusal of a bad request being 2013 "invalid params". With `stream: true` it answers
// Server-Sent Events `data: {"data": {"audio": <hex>, "status": 1}, "trace_id", "base_resp"}`, then a last event with
// `status` 2, `extra_info` and the whole audio again (empty when `stream_options.exclude_aggregated_audio`).
// Scriptable failures: `base_resp` codes, HTTP errors (with Retry-After), a stall after the headers, a dropped
// connection. Facts: docs/vendors/minimax.md.
import { isAcceptedKey, bearerKey, type FakeKeyPolicy } from './auth.js';
import { encodeSamples, fakeVoiceTone } from './audio.js';
import { isRecord, parseJSONBody, requestPath } from './http.js';
import { recordHeaders, sendJSON } from './sse.js';
import { pieces, samplesPerChunk, startFakeTTSHttpVendor, streamFakeAnswer, type FakeTTSHttpRequest, type FakeTTSHttpVendor, type FakeStreamFault, type FakeTTSHttp } from './tts-http.js';

export const FAKE_MINIMAX_MODELS: readonly string[] = [
  'speech-2.6-hd', 'speech-2.6-turbo', 'speech-2.5-hd-preview', 'speech-2.5-turbo-preview',
  'speech-02-hd', 'speech-02-turbo', 'speech-01-hd', 'speech-01-turbo',
];
const RATES = [8000, 16000, 22050, 24000, 32000, 44100];

export type FakeMiniMaxFault =
  /** MiniMax's own way: HTTP 200 and a JSON body whose `base_resp.status_code` says what failed (1002 rate limit…). */
  | { baseResp: number; message?: string }
  /** An HTTP error from in front of the API (a gateway), with a `base_resp` body. */
  | { error: 429 | 500 | 502 | 503; retryAfter?: number }
  | FakeStreamFault;

export interface FakeMiniMaxRequest extends FakeTTSHttpRequest {
  /** The query string's parameters (`GroupId`). */
  readonly query: Readonly<Record<string, string>>;
  /** The `base_resp.status_code` of a refusal. */
  statusCode?: number;
}

export interface FakeMiniMaxOptions extends FakeKeyPolicy {
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per event. Default 40 ms. */
  chunkMs?: number;
  /** Pause between events; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
  /** Repeat the whole audio in the last event even when the request excludes it, as a deployment that ignores
   * `stream_options` would. Default false. */
  ignoreExcludeAggregatedAudio?: boolean;
}

export type FakeMiniMax = FakeTTSHttp<FakeMiniMaxRequest, FakeMiniMaxFault>;

/** The fake's speech for `text` as PCM16: a tone of its own timbre, so another fake's audio differs. */
export function fakeMiniMaxSpeech(text: string, options: { sampleRate: number; voice: string; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * options.sampleRate) / 1000);
  return fakeVoiceTone(`${options.voice}@${text}`, count, options.sampleRate, {
    baseHz: 175, hzSpread: 95, amplitude: 7400, tremoloBase: 0.65, tremoloDepth: 0.35, tremoloHz: 2.5,
    rampStep: 13, rampPeriod: 47, rampOffset: 23,
  });
}

class Refusal extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly status = 200,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

const baseResp = (statusCode: number, message: string) => ({ status_code: statusCode, status_msg: message });

function speechAnswer(options: FakeMiniMaxOptions, traces: WeakMap<FakeMiniMaxRequest, string>): FakeTTSHttpVendor<FakeMiniMaxRequest, FakeMiniMaxFault, Refusal>['answer'] {
  return async (req, raw, record, res, takeFault) => {
    if (req.method !== 'POST' || record.path !== '/v1/t2a_v2') {
      record.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
      return;
    }
    if (!record.auth.valid) throw new Refusal(1004, 'not authorized: the API key is missing or invalid');
    const { body, parsed } = parseJSONBody(raw, false);
    (record as { body?: unknown }).body = body;
    const invalid = (message: string): Refusal => new Refusal(2013, `invalid params, ${message}`);
    if (!parsed || !isRecord(body)) throw invalid('the body must be JSON');
    if (typeof body.model !== 'string' || !FAKE_MINIMAX_MODELS.includes(body.model)) throw invalid(`unknown model ${JSON.stringify(body.model)}`);
    if (typeof body.text !== 'string' || body.text.trim() === '') throw invalid('text is required');
    if (body.text.length > 10_000) throw invalid('text must be under 10000 characters');
    const voice = isRecord(body.voice_setting) ? body.voice_setting : undefined;
    if (voice === undefined || typeof voice.voice_id !== 'string' || voice.voice_id === '') throw invalid('voice_setting.voice_id is required');
    if (voice.speed !== undefined && !(typeof voice.speed === 'number' && voice.speed >= 0.5 && voice.speed <= 2)) throw invalid('speed must be in [0.5, 2]');
    if (voice.pitch !== undefined && !(Number.isInteger(voice.pitch) && Math.abs(voice.pitch as number) <= 12)) throw invalid('pitch must be in [-12, 12]');
    const audio = isRecord(body.audio_setting) ? body.audio_setting : {};
    const format = audio.format ?? 'mp3';
    if (format !== 'pcm') throw invalid(`fake MiniMax server: format ${JSON.stringify(format)} is not emulated by this fake (the real API makes it)`);
    const rate = audio.sample_rate ?? 32000;
    if (typeof rate !== 'number' || !RATES.includes(rate)) throw invalid(`sample_rate must be one of ${RATES.join(', ')}`);
    if (body.stream !== true) throw invalid('fake MiniMax server: only stream: true is emulated');
    const fault = takeFault();
    if (fault !== undefined && 'baseResp' in fault) throw new Refusal(fault.baseResp, fault.message ?? `scripted ${fault.baseResp}`);
    if (fault !== undefined && 'error' in fault) throw new Refusal(1000, `scripted HTTP ${fault.error}`, fault.error, fault.retryAfter);
    const samples = fakeMiniMaxSpeech(body.text, { sampleRate: rate, voice: voice.voice_id, msPerCharacter: options.msPerCharacter });
    const trace = traces.get(record);
    const ok = baseResp(0, 'success');
    const event = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`;
    const events = pieces(samples, samplesPerChunk(options.chunkMs, rate)).map((piece) => {
      const hex = Buffer.from(encodeSamples(piece, 's16le')).toString('hex');
      return event({ data: { audio: hex, status: 1, ced: '' }, trace_id: trace, base_resp: ok });
    });
    const streamOptions = isRecord(body.stream_options) ? body.stream_options : {};
    const whole = streamOptions.exclude_aggregated_audio === true && options.ignoreExcludeAggregatedAudio !== true ? '' : Buffer.from(encodeSamples(samples, 's16le')).toString('hex');
    const extra = {
      audio_length: Math.round((samples.length * 1000) / rate),
      audio_sample_rate: rate,
      audio_size: samples.length * 2,
      bitrate: rate * 16,
      audio_format: 'pcm',
      audio_channel: 1,
      usage_characters: body.text.length,
      word_count: body.text.split(/\s+/).filter(Boolean).length,
    };
    await streamFakeAnswer(res, record, {
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
      pieces: events,
      fault,
      chunkDelayMs: options.chunkDelayMs,
      last: event({ data: { audio: whole, status: 2, ced: '' }, extra_info: extra, trace_id: trace, base_resp: ok }),
    });
  };
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeMiniMax(options: FakeMiniMaxOptions = {}): Promise<FakeMiniMax> {
  // Every request has its trace id, in its answer whichever it is.
  const traces = new WeakMap<FakeMiniMaxRequest, string>();
  const { origin, requests, failSpeech, close } = await startFakeTTSHttpVendor({
    record: (req): FakeMiniMaxRequest => {
      const key = bearerKey(req.headers.authorization);
      const record: FakeMiniMaxRequest = {
        path: requestPath(req),
        query: Object.fromEntries(new URL(req.url ?? '/', 'http://fake').searchParams),
        headers: recordHeaders(req, ['authorization']),
        auth: { present: key !== '', valid: isAcceptedKey(key === '' ? undefined : key, options) },
        chunksSent: 0,
      };
      traces.set(record, `fake-trace-${requests.length + 1}`);
      return record;
    },
    answer: speechAnswer(options, traces),
    refusal: Refusal,
    refuse: (res, error, record) => {
      record.statusCode = error.statusCode;
      const headers: Record<string, string | number> = error.retryAfter === undefined ? {} : { 'retry-after': error.retryAfter };
      sendJSON(res, error.status, { trace_id: traces.get(record), base_resp: baseResp(error.statusCode, error.message) }, headers);
    },
    sendFailure: (res) => sendJSON(res, 500, { base_resp: baseResp(1000, 'fake failure') }),
  });
  return { baseUrl: origin, requests, failSpeech, close };
}
