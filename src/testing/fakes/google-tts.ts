// A local stand-in for Google Cloud Text-to-Speech's v1 REST method (`POST /v1/text:synthesize`), over a real HTTP
// socket, so the production client is what gets tested. It checks requests as Google documents them — an API key
// (`X-Goog-Api-Key` or `?key=`; refused: 400 INVALID_ARGUMENT with ErrorInfo API_KEY_INVALID) or a bearer token
// (refused: 401 UNAUTHENTICATED), exactly one of `input.text` / `input.ssml` of at most 5000 bytes,
// `voice.languageCode`, `audioConfig.audioEncoding` (LINEAR16 and MULAW emulated, the others refused as not emulated),
// `speakingRate` in range — and answers `{"audioContent": <base64 WAV>}` (LINEAR16 and MULAW both carry a WAV header),
// the JSON written in paced pieces so that a drop can cut it. Scriptable failures: HTTP errors (429 with a RetryInfo),
// a stall after the headers, a connection dropped mid-answer. Facts: docs/vendors/google-tts.md.
import { int16ToBytes, pcmToMulaw } from '../../audio/index.js';
import { bearerCredentials, isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { fakeVoiceTone } from './audio.js';
import { isRecord, parseJSONBody } from './http.js';
import { recordHeaders } from './sse.js';
import { pieces, startFakeTTSHttpVendor, streamFakeAnswer, type FakeTTSHttpRequest, type FakeTTSHttpVendor, type FakeStreamFault, type FakeTTSHttp } from './tts-http.js';

const ENCODINGS = ['LINEAR16', 'MP3', 'OGG_OPUS', 'MULAW', 'ALAW', 'PCM', 'M4A'];
const STATUS_NAMES: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };

export type FakeGoogleTTSFault =
  | { error: 400 | 401 | 403 | 429 | 500 | 503; message?: string; retryDelaySecs?: number }
  | FakeStreamFault;

export interface FakeGoogleTTSRequest extends FakeTTSHttpRequest {
  readonly auth: { readonly present: boolean; readonly valid: boolean; readonly via?: 'header' | 'query' | 'bearer' };
}

export interface FakeGoogleTTSOptions extends FakeKeyPolicy {
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Pieces the JSON answer is written in. Default 8. */
  chunks?: number;
  /** Pause between pieces; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
}

export type FakeGoogleTTS = FakeTTSHttp<FakeGoogleTTSRequest, FakeGoogleTTSFault>;

/** The fake's speech for `text` as PCM16: a tone of its own timbre, so another fake's audio differs. */
export function fakeGoogleSpeech(text: string, options: { sampleRate: number; voice: string; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * options.sampleRate) / 1000);
  return fakeVoiceTone(`${options.voice}@${text}`, count, options.sampleRate, {
    baseHz: 150, hzSpread: 120, amplitude: 7600, tremoloBase: 0.55, tremoloDepth: 0.45, tremoloHz: 2.5,
    rampStep: 13, rampPeriod: 59, rampOffset: 29,
  });
}

/** A WAV file: PCM16 (format 1) or G.711 μ-law (format 7), mono. */
export function googleWav(samples: Int16Array, sampleRate: number, encoding: 'LINEAR16' | 'MULAW'): Buffer {
  const data = encoding === 'MULAW' ? pcmToMulaw(samples) : int16ToBytes(samples);
  const bytesPerSample = encoding === 'MULAW' ? 1 : 2;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(encoding === 'MULAW' ? 7 : 1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * bytesPerSample, 28);
  header.writeUInt16LE(bytesPerSample, 32);
  header.writeUInt16LE(bytesPerSample * 8, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

class GoogleError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: readonly object[] = [],
  ) {
    super(message);
  }
}

function synthesisAnswer(options: FakeGoogleTTSOptions): FakeTTSHttpVendor<FakeGoogleTTSRequest, FakeGoogleTTSFault, GoogleError>['answer'] {
  return async (req, raw, record, res, takeFault) => {
    if (req.method !== 'POST' || record.path !== '/v1/text:synthesize') throw new GoogleError(404, `Method not found: ${req.method ?? ''} ${record.path}`);
    if (!record.auth.present) {
      throw new GoogleError(403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
    }
    if (!record.auth.valid && record.auth.via === 'bearer') {
      throw new GoogleError(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    }
    if (!record.auth.valid) {
      throw new GoogleError(400, 'API key not valid. Please pass a valid API key.', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'texttospeech.googleapis.com' } },
      ]);
    }
    const { body, parsed } = parseJSONBody(raw, false);
    (record as { body?: unknown }).body = body;
    const invalid = (message: string): GoogleError => new GoogleError(400, message);
    if (!parsed || !isRecord(body)) throw invalid('Invalid JSON payload received.');
    const input = isRecord(body.input) ? body.input : {};
    const hasText = typeof input.text === 'string';
    if (hasText === (typeof input.ssml === 'string')) throw invalid('Exactly one of input.text or input.ssml must be set.');
    const text = hasText ? String(input.text) : String(input.ssml).replace(/<[^>]*>/g, '');
    if (Buffer.byteLength(hasText ? String(input.text) : String(input.ssml)) > 5000) throw invalid('Either `input.text` or `input.ssml` is longer than the limit of 5000 bytes.');
    if (text.trim() === '') throw invalid('Input text is empty.');
    const voice = isRecord(body.voice) ? body.voice : undefined;
    if (typeof voice?.languageCode !== 'string' || voice.languageCode === '') throw invalid('Voice language code is required.');
    const name = typeof voice.name === 'string' ? voice.name : `${voice.languageCode}-Standard-A`;
    if (!name.startsWith(voice.languageCode.split('-')[0] ?? '') && !name.includes('Chirp3')) throw invalid(`Voice '${name}' does not exist or does not speak ${voice.languageCode}.`);
    const config = isRecord(body.audioConfig) ? body.audioConfig : undefined;
    const encoding = config?.audioEncoding;
    if (typeof encoding !== 'string' || !ENCODINGS.includes(encoding)) throw invalid('AudioConfig.audio_encoding must be one of LINEAR16, MP3, OGG_OPUS, MULAW, ALAW, PCM, M4A.');
    if (encoding !== 'LINEAR16' && encoding !== 'MULAW') throw invalid(`fake Google TTS server: audioEncoding ${encoding} is not emulated by this fake (the real API makes it)`);
    const rate = config?.sampleRateHertz ?? (encoding === 'MULAW' ? 8000 : 24000);
    if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < 8000 || rate > 48000) throw invalid(`Invalid sample_rate_hertz ${JSON.stringify(rate)}.`);
    const speakingRate = config?.speakingRate;
    if (speakingRate !== undefined && (typeof speakingRate !== 'number' || speakingRate < 0.25 || speakingRate > 4)) throw invalid('speaking_rate must be in [0.25, 4.0].');
    const fault = takeFault();
    if (fault !== undefined && 'error' in fault) {
      const details = fault.error === 429 ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${fault.retryDelaySecs ?? 30}s` }] : [];
      throw new GoogleError(fault.error, fault.message ?? `Scripted ${fault.error}`, details);
    }
    const samples = fakeGoogleSpeech(text, { sampleRate: rate, voice: name, msPerCharacter: options.msPerCharacter });
    const answer = Buffer.from(JSON.stringify({ audioContent: googleWav(samples, rate, encoding).toString('base64') }));
    await streamFakeAnswer(res, record, {
      headers: { 'content-type': 'application/json; charset=UTF-8', 'transfer-encoding': 'chunked' },
      pieces: pieces(answer, Math.ceil(answer.length / Math.max(1, options.chunks ?? 8))),
      fault,
      chunkDelayMs: options.chunkDelayMs,
    });
  };
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeGoogleTTS(options: FakeGoogleTTSOptions = {}): Promise<FakeGoogleTTS> {
  const { origin, requests, failSpeech, close } = await startFakeTTSHttpVendor({
    record: (req): FakeGoogleTTSRequest => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const headerKey = req.headers['x-goog-api-key'];
      const queryKey = url.searchParams.get('key') ?? undefined;
      const bearer = bearerCredentials(req.headers.authorization ?? '');
      const key = typeof headerKey === 'string' ? headerKey : (queryKey ?? bearer);
      const via = typeof headerKey === 'string' ? 'header' : queryKey !== undefined ? 'query' : bearer !== undefined ? 'bearer' : undefined;
      return {
        path: url.pathname,
        headers: recordHeaders(req, ['x-goog-api-key', 'authorization']),
        auth: { present: key !== undefined, valid: isAcceptedKey(key, options), ...(via === undefined ? {} : { via }) },
        chunksSent: 0,
      };
    },
    answer: synthesisAnswer(options),
    refusal: GoogleError,
    refuse: (res, error) => {
      res.writeHead(error.status, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify({ error: { code: error.status, message: error.message, status: STATUS_NAMES[error.status] ?? 'UNKNOWN', ...(error.details.length > 0 ? { details: error.details } : {}) } }));
    },
    sendFailure: (res) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 500, message: 'fake failure', status: 'INTERNAL' } })),
  });
  return { baseUrl: origin, requests, failSpeech, close };
}
