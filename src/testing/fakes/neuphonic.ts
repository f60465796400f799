// A local stand-in for Neuphonic's Server-Sent Events speech endpoint (`POST /sse/speak/{lang_code}`), over a real
// HTTP socket, so the production client is what gets tested. It checks requests as Neuphonic's SDK sends them — the
// key in `X-API-KEY` (a missing or refused one answered 401), a JSON body with `text`,
// `lang_code` (matching the path), `encoding` (`pcm_linear` emulated, `pcm_mulaw` refused as not emulated),
// `sampling_rate` (8000, 16000 or 22050), optional `voice_id` and `speed` (0.7–2) — and answers
// `event: message` / `data: {"status_code": 200, "data": {"audio": <base64 PCM16>, "text", "sampling_rate"}}`
// events, then closes. Failures carry `{"status_code", "errors": [...]}`, before the answer (an HTTP error) or in
// band (`event: error`). Scriptable failures: HTTP errors (with Retry-After), in-band errors, a stall after the
// headers, a dropped connection. Facts: docs/vendors/neuphonic.md.
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { encodeSamples, fakeVoiceTone } from './audio.js';
import { isRecord, parseJSONBody, requestPath } from './http.js';
import { recordHeaders, sendJSON } from './sse.js';
import { pieces, samplesPerChunk, startFakeTTSHttpVendor, streamFakeAnswer, type FakeStreamOutcome, type FakeTTSHttpRecord, type FakeTTSHttpVendor, type FakeStreamFault, type FakeTTSHttp } from './tts-http.js';

const RATES = [8000, 16000, 22050];
const PATH = /^\/sse\/speak\/([^/]+)$/;

export type FakeNeuphonicFault =
  /** Refused before the answer: an HTTP error with Neuphonic's error body. */
  | { error: 400 | 401 | 402 | 403 | 429 | 500 | 502 | 503; retryAfter?: number }
  /** Accepted (HTTP 200), then an `event: error` after `afterChunks` audio events (default 0). */
  | { inBandError: number; afterChunks?: number }
  | FakeStreamFault;

export interface FakeNeuphonicRequest extends FakeTTSHttpRecord {
  /** The `lang_code` of the path. */
  readonly language: string | undefined;
  readonly auth: { readonly present: boolean; readonly valid: boolean };
  outcome?: FakeStreamOutcome | 'failed-in-band';
}

export interface FakeNeuphonicOptions extends FakeKeyPolicy {
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per event. Default 40 ms. */
  chunkMs?: number;
  /** Pause between events; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
}

export type FakeNeuphonic = FakeTTSHttp<FakeNeuphonicRequest, FakeNeuphonicFault>;

/** The fake's speech for `text` as PCM16: a tone of its own timbre, so another fake's audio differs. */
export function fakeNeuphonicSpeech(text: string, options: { sampleRate: number; voice?: string; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * options.sampleRate) / 1000);
  return fakeVoiceTone(`${options.voice ?? 'default'}@${text}`, count, options.sampleRate, {
    baseHz: 190, hzSpread: 80, amplitude: 7000, tremoloBase: 0.7, tremoloDepth: 0.3, tremoloHz: 3.5,
    rampStep: 11, rampPeriod: 41, rampOffset: 19,
  });
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly errors: readonly string[],
    readonly retryAfter?: number,
  ) {
    super(errors.join('; '));
  }
}

function speechAnswer(options: FakeNeuphonicOptions): FakeTTSHttpVendor<FakeNeuphonicRequest, FakeNeuphonicFault, Refusal>['answer'] {
  return async (req, raw, record, res, takeFault) => {
    if (req.method !== 'POST' || record.language === undefined) throw new Refusal(404, ['Not Found']);
    if (!record.auth.valid) throw new Refusal(401, [record.auth.present ? 'Invalid API key.' : 'No API key provided.']);
    const { body, parsed } = parseJSONBody(raw, false);
    (record as { body?: unknown }).body = body;
    const invalid = (message: string): Refusal => new Refusal(422, [message]);
    if (!parsed || !isRecord(body)) throw invalid('the body must be a JSON object');
    if (typeof body.text !== 'string' || body.text.trim() === '') throw invalid('text is required');
    if (body.lang_code !== undefined && body.lang_code !== record.language) throw invalid('lang_code does not match the path');
    const encoding = body.encoding ?? 'pcm_linear';
    if (encoding !== 'pcm_linear') throw invalid(`fake Neuphonic server: encoding ${JSON.stringify(encoding)} is not emulated by this fake (the real API makes pcm_mulaw)`);
    const rate = body.sampling_rate ?? 22050;
    if (typeof rate !== 'number' || !RATES.includes(rate)) throw invalid(`sampling_rate must be one of ${RATES.join(', ')}`);
    if (body.speed !== undefined && !(typeof body.speed === 'number' && body.speed >= 0.7 && body.speed <= 2)) throw invalid('speed must be between 0.7 and 2');
    if (body.voice_id !== undefined && (typeof body.voice_id !== 'string' || body.voice_id === '')) throw invalid('voice_id must be a voice id');
    const fault = takeFault();
    if (fault !== undefined && 'error' in fault) throw new Refusal(fault.error, [`scripted HTTP ${fault.error}`], fault.retryAfter);
    const voice = typeof body.voice_id === 'string' ? body.voice_id : undefined;
    const samples = fakeNeuphonicSpeech(body.text, { sampleRate: rate, voice, msPerCharacter: options.msPerCharacter });
    const words = body.text.split(/\s+/).filter(Boolean);
    const events = pieces(samples, samplesPerChunk(options.chunkMs, rate)).map((piece, index) => {
      const audio = Buffer.from(encodeSamples(piece, 's16le')).toString('base64');
      const text = words[index % Math.max(1, words.length)] ?? '';
      return `event: message\ndata: ${JSON.stringify({ status_code: 200, data: { audio, text, sampling_rate: rate } })}\n\n`;
    });
    const headers = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
    if (fault !== undefined && 'inBandError' in fault && (fault.afterChunks ?? 0) < events.length) {
      const error = `event: error\ndata: ${JSON.stringify({ status_code: fault.inBandError, errors: [`scripted ${fault.inBandError}`] })}\n\n`;
      const sent = events.slice(0, fault.afterChunks ?? 0);
      return streamFakeAnswer(res, record, { headers, pieces: sent, fault, chunkDelayMs: options.chunkDelayMs, last: error, outcome: 'failed-in-band' });
    }
    await streamFakeAnswer(res, record, { headers, pieces: events, fault, chunkDelayMs: options.chunkDelayMs });
  };
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeNeuphonic(options: FakeNeuphonicOptions = {}): Promise<FakeNeuphonic> {
  const { origin, requests, failSpeech, close } = await startFakeTTSHttpVendor({
    record: (req): FakeNeuphonicRequest => {
      const path = requestPath(req);
      const header = req.headers['x-api-key'];
      const key = typeof header === 'string' ? header.trim() : '';
      const language = PATH.exec(path)?.[1];
      return {
        path,
        language: language === undefined ? undefined : decodeURIComponent(language),
        headers: recordHeaders(req, ['x-api-key']),
        auth: { present: key !== '', valid: isAcceptedKey(key === '' ? undefined : key, options) },
        chunksSent: 0,
      };
    },
    answer: speechAnswer(options),
    refusal: Refusal,
    refuse: (res, error) => {
      const headers: Record<string, string | number> = error.retryAfter === undefined ? {} : { 'retry-after': error.retryAfter };
      sendJSON(res, error.status, { status_code: error.status, errors: error.errors, data: null }, headers);
    },
    sendFailure: (res) => sendJSON(res, 500, { status_code: 500, errors: ['fake failure'], data: null }),
  });
  return { baseUrl: origin, requests, failSpeech, close };
}
