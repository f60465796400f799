// A local stand-in for Groq's OpenAI-compatible speech API (`POST /openai/v1/audio/speech`), over a real HTTP socket,
// so the production client (OpenAITTSService with Groq's provider) is what gets tested. It checks requests as Groq
// documents them — `Authorization: Bearer <key>` (refused: 401 `invalid_api_key`), an Orpheus `model` and one of its
// voices, `response_format` among flac, mp3, mulaw, ogg, wav (no `pcm`: refused as Groq refuses it; only `wav` is
// emulated), `sample_rate` among Groq's rates, `input` of at most 200 characters — and streams a WAV back (its header,
// then the PCM16 in paced pieces). Scriptable failures: HTTP errors (429 with `retry-after`), a stall after the
// headers, a connection dropped mid-answer. Facts: docs/vendors/groq-tts.md.
import { int16ToBytes, writeWav } from '../../audio/index.js';
import { bearerKey, isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { fakeVoiceTone } from './audio.js';
import { isRecord, parseJSONBody, requestPath } from './http.js';
import { recordHeaders } from './sse.js';
import { pieces, samplesPerChunk, startFakeTTSHttpVendor, streamFakeAnswer, type FakeTTSHttpRequest, type FakeTTSHttpVendor, type FakeStreamFault } from './tts-http.js';

/** Groq's Orpheus models and their voices. */
export const FAKE_GROQ_TTS_VOICES: Readonly<Record<string, readonly string[]>> = {
  'canopylabs/orpheus-v1-english': ['autumn', 'diana', 'hannah', 'austin', 'daniel', 'troy'],
  'canopylabs/orpheus-arabic-saudi': ['abdullah', 'fahad', 'sultan', 'lulwa', 'noura', 'aisha'],
};
const FORMATS = ['flac', 'mp3', 'mulaw', 'ogg', 'wav'];
const RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000];
const MAX_INPUT = 200;

export type FakeGroqTTSFault =
  | { error: 400 | 401 | 429 | 500 | 503; message?: string; retryAfter?: number }
  | FakeStreamFault;

export type FakeGroqTTSRequest = FakeTTSHttpRequest;

export interface FakeGroqTTSOptions extends FakeKeyPolicy {
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per write. Default 40 ms. */
  chunkMs?: number;
  /** Pause between writes; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
}

export interface FakeGroqTTS {
  /** `http://127.0.0.1:<port>/openai/v1`, to pass as the client's `baseURL`. */
  readonly baseURL: string;
  readonly requests: readonly FakeGroqTTSRequest[];
  /** Spoils the next valid requests, one each. */
  failSpeech(...faults: FakeGroqTTSFault[]): void;
  close(): Promise<void>;
}

/** The fake's speech for `text` as PCM16: a tone of its own timbre, so another fake's audio differs. */
export function fakeGroqSpeech(text: string, options: { sampleRate: number; voice: string; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * options.sampleRate) / 1000);
  return fakeVoiceTone(`${options.voice}@${text}`, count, options.sampleRate, {
    baseHz: 175, hzSpread: 100, amplitude: 8000, tremoloBase: 0.6, tremoloDepth: 0.4, tremoloHz: 3.5,
    rampStep: 5, rampPeriod: 37, rampOffset: 18,
  });
}

class GroqError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly code?: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

function speechAnswer(options: FakeGroqTTSOptions): FakeTTSHttpVendor<FakeGroqTTSRequest, FakeGroqTTSFault, GroqError>['answer'] {
  return async (req, raw, record, res, takeFault) => {
    if (req.method !== 'POST' || record.path !== '/openai/v1/audio/speech') throw new GroqError(404, 'Unknown request URL. Please check the URL for typos.', 'invalid_request_error', 'unknown_url');
    if (!record.auth.valid) throw new GroqError(401, 'Invalid API Key', 'invalid_request_error', 'invalid_api_key');
    const { body, parsed } = parseJSONBody(raw, false);
    (record as { body?: unknown }).body = body;
    const invalid = (message: string, code = 'invalid_value'): GroqError => new GroqError(400, message, 'invalid_request_error', code);
    if (!parsed || !isRecord(body)) throw invalid('the request body must be JSON', 'json_invalid');
    const voices = typeof body.model === 'string' ? FAKE_GROQ_TTS_VOICES[body.model] : undefined;
    if (voices === undefined) throw new GroqError(404, `The model \`${String(body.model)}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found');
    if (typeof body.input !== 'string' || body.input.trim() === '') throw invalid('input is required');
    if (body.input.length > MAX_INPUT) throw invalid(`input must be at most ${MAX_INPUT} characters`);
    if (typeof body.voice !== 'string' || !voices.includes(body.voice)) throw invalid(`voice must be one of ${voices.join(', ')}`);
    const format = body.response_format ?? 'wav';
    if (typeof format !== 'string' || !FORMATS.includes(format)) throw invalid(`response_format must be one of ${FORMATS.join(', ')}`);
    if (format !== 'wav') throw invalid(`fake Groq server: response_format '${format}' is not emulated by this fake (the real API makes it)`);
    const rate = body.sample_rate ?? 48000;
    if (typeof rate !== 'number' || !RATES.includes(rate)) throw invalid(`sample_rate must be one of ${RATES.join(', ')}`);
    const fault = takeFault();
    if (fault !== undefined && 'error' in fault) {
      const type = fault.error === 429 ? 'tokens' : fault.error >= 500 ? 'internal_server_error' : 'invalid_request_error';
      throw new GroqError(fault.error, fault.message ?? `Scripted ${fault.error}`, type, fault.error === 429 ? 'rate_limit_exceeded' : undefined, fault.retryAfter);
    }
    const samples = fakeGroqSpeech(body.input, { sampleRate: rate, voice: body.voice, msPerCharacter: options.msPerCharacter });
    // The header first (its sizes those of the whole answer), then the samples in pieces.
    const header = writeWav({ sampleRate: rate, channels: 1, samples }).subarray(0, 44);
    const audio = pieces(samples, samplesPerChunk(options.chunkMs, rate)).map((piece) => int16ToBytes(piece));
    await streamFakeAnswer(res, record, {
      headers: { 'content-type': 'audio/wav', 'transfer-encoding': 'chunked' },
      preamble: header,
      pieces: audio,
      fault,
      chunkDelayMs: options.chunkDelayMs,
    });
  };
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeGroqTTS(options: FakeGroqTTSOptions = {}): Promise<FakeGroqTTS> {
  const { origin, requests, failSpeech, close } = await startFakeTTSHttpVendor({
    record: (req): FakeGroqTTSRequest => {
      const key = bearerKey(req.headers.authorization);
      return { path: requestPath(req), headers: recordHeaders(req), auth: { present: key !== '', valid: isAcceptedKey(key, options) }, chunksSent: 0 };
    },
    answer: speechAnswer(options),
    refusal: GroqError,
    refuse: (res, error) => {
      const headers: Record<string, string | number> = { 'content-type': 'application/json' };
      if (error.retryAfter !== undefined) headers['retry-after'] = error.retryAfter;
      res.writeHead(error.status, headers).end(JSON.stringify({ error: { message: error.message, type: error.type, ...(error.code === undefined ? {} : { code: error.code }) } }));
    },
    sendFailure: (res) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'fake failure', type: 'internal_server_error' } })),
  });
  return { baseURL: `${origin}/openai/v1`, requests, failSpeech, close };
}
