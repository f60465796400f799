// A local stand-in for Inworld's HTTP streaming text-to-speech (`POST /tts/v1/voice:stream`), over a real HTTP socket,
// so the production client is what gets tested. It checks requests as Inworld documents them — `Authorization:
// Basic <base64 credential>` (refused: 401 `{"code": 16, "message"}`), `voiceId`, `modelId`, `audioConfig`
// (`LINEAR16` emulated, MP3 and others refused as not emulated; `sampleRateHertz` 8000 to 48000), text of at most
// 2000 characters — and answers newline-delimited JSON lines `{"result": {"audioContent": <base64>}}`, each piece of
// LINEAR16 starting with its own 44-byte WAV header as Inworld's do. Scriptable failures: HTTP errors (with
// Retry-After), a stall after the headers, a connection dropped mid-answer. Facts: docs/vendors/inworld.md.
import { writeWav } from '../../audio/index.js';
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { fakeVoiceTone } from './audio.js';
import { isRecord, parseJSONBody, requestPath } from './http.js';
import { recordHeaders } from './sse.js';
import { pieces, samplesPerChunk, startFakeTTSHttpVendor, streamFakeAnswer, type FakeTTSHttpRequest, type FakeTTSHttpVendor, type FakeStreamFault, type FakeTTSHttp } from './tts-http.js';

export const FAKE_INWORLD_MODELS: readonly string[] = ['inworld-tts-1.5-max', 'inworld-tts-1.5-mini', 'inworld-tts-1-max', 'inworld-tts-1'];
const RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000];
const GRPC: Record<number, number> = { 400: 3, 401: 16, 403: 7, 429: 8, 500: 13, 503: 14 };

export type FakeInworldFault =
  | { error: 400 | 401 | 403 | 429 | 500 | 503; message?: string; retryAfter?: number }
  | FakeStreamFault;

export type FakeInworldRequest = FakeTTSHttpRequest;

export interface FakeInworldOptions extends FakeKeyPolicy {
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per NDJSON line. Default 40 ms. */
  chunkMs?: number;
  /** Pause between lines; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
}

export type FakeInworld = FakeTTSHttp<FakeInworldRequest, FakeInworldFault>;

/** The fake's speech for `text` as PCM16: a tone of its own timbre, so another fake's audio differs. */
export function fakeInworldSpeech(text: string, options: { sampleRate: number; voice: string; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * options.sampleRate) / 1000);
  return fakeVoiceTone(`${options.voice}@${text}`, count, options.sampleRate, {
    baseHz: 160, hzSpread: 110, amplitude: 7800, tremoloBase: 0.6, tremoloDepth: 0.4, tremoloHz: 2,
    rampStep: 11, rampPeriod: 53, rampOffset: 26,
  });
}

class InworldError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

function speechAnswer(options: FakeInworldOptions): FakeTTSHttpVendor<FakeInworldRequest, FakeInworldFault, InworldError>['answer'] {
  return async (req, raw, record, res, takeFault) => {
    if (req.method !== 'POST' || record.path !== '/tts/v1/voice:stream') throw new InworldError(404, `No route for ${req.method ?? ''} ${record.path}`);
    if (!record.auth.valid) throw new InworldError(401, 'Invalid authorization credentials');
    const { body, parsed } = parseJSONBody(raw, false);
    (record as { body?: unknown }).body = body;
    const invalid = (message: string): InworldError => new InworldError(400, message);
    if (!parsed || !isRecord(body)) throw invalid('The body must be JSON.');
    if (typeof body.text !== 'string' || body.text.trim() === '') throw invalid('text is required');
    if (body.text.length > 2000) throw invalid('text must be at most 2000 characters');
    if (typeof body.voiceId !== 'string' || body.voiceId === '') throw invalid('voiceId is required');
    if (typeof body.modelId !== 'string' || !FAKE_INWORLD_MODELS.includes(body.modelId)) throw invalid(`Unknown modelId: ${JSON.stringify(body.modelId)}`);
    const config = isRecord(body.audioConfig) ? body.audioConfig : {};
    const encoding = config.audioEncoding ?? 'MP3';
    if (encoding !== 'LINEAR16') throw invalid(`fake Inworld server: audioEncoding ${JSON.stringify(encoding)} is not emulated by this fake (the real API accepts it)`);
    const rate = config.sampleRateHertz ?? 48000;
    if (typeof rate !== 'number' || !RATES.includes(rate)) throw invalid(`sampleRateHertz must be one of ${RATES.join(', ')}`);
    const fault = takeFault();
    if (fault !== undefined && 'error' in fault) throw new InworldError(fault.error, fault.message ?? `Scripted ${fault.error}`, fault.retryAfter);
    const samples = fakeInworldSpeech(body.text, { sampleRate: rate, voice: body.voiceId, msPerCharacter: options.msPerCharacter });
    // Each piece is a whole WAV file, header included, as Inworld sends LINEAR16.
    const lines = pieces(samples, samplesPerChunk(options.chunkMs, rate)).map((piece) => {
      const wav = writeWav({ sampleRate: rate, channels: 1, samples: piece });
      return `${JSON.stringify({ result: { audioContent: Buffer.from(wav).toString('base64') } })}\n`;
    });
    await streamFakeAnswer(res, record, {
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      pieces: lines,
      fault,
      chunkDelayMs: options.chunkDelayMs,
    });
  };
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeInworld(options: FakeInworldOptions = {}): Promise<FakeInworld> {
  const { origin, requests, failSpeech, close } = await startFakeTTSHttpVendor({
    record: (req): FakeInworldRequest => {
      const header = req.headers.authorization;
      const key = typeof header === 'string' && header.startsWith('Basic ') ? header.slice('Basic '.length).trim() : undefined;
      return { path: requestPath(req), headers: recordHeaders(req, ['authorization']), auth: { present: key !== undefined, valid: isAcceptedKey(key, options) }, chunksSent: 0 };
    },
    answer: speechAnswer(options),
    refusal: InworldError,
    refuse: (res, error) => {
      const headers: Record<string, string | number> = { 'content-type': 'application/json' };
      if (error.retryAfter !== undefined) headers['retry-after'] = error.retryAfter;
      res.writeHead(error.status, headers).end(JSON.stringify({ code: GRPC[error.status] ?? 2, message: error.message, details: [] }));
    },
    sendFailure: (res) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 13, message: 'fake failure' })),
  });
  return { baseUrl: origin, requests, failSpeech, close };
}
