// A local stand-in for Speechmatics' preview text-to-speech endpoint (`POST /generate/{voice}`), over a real HTTP
// socket, so the production client is what gets tested. It checks requests as Speechmatics documents them —
// `Authorization: Bearer <key>` (a missing or refused key answered 401 with the HTML page Speechmatics' gateway
// sends), a voice of the preview's four, `output_format=pcm_16000` (the default WAV and `wav_16000` are refused as
// not emulated), a JSON body `{"text"}` — and streams raw PCM16 at 16 kHz in the body. Scriptable failures: HTTP
// errors (with Retry-After), a stall after the headers, a dropped connection. Facts: docs/vendors/speechmatics-tts.md.
import { bearerKey, isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { encodeSamples, fakeVoiceTone } from './audio.js';
import { isRecord, parseJSONBody, requestPath } from './http.js';
import { recordHeaders, sendJSON } from './sse.js';
import { pieces, samplesPerChunk, startFakeTTSHttpVendor, streamFakeAnswer, type FakeTTSHttpRequest, type FakeTTSHttpVendor, type FakeStreamFault, type FakeTTSHttp } from './tts-http.js';

export const FAKE_SPEECHMATICS_VOICES: readonly string[] = ['sarah', 'theo', 'megan', 'jack'];
const PATH = /^\/generate\/([^/]+)$/;
const RATE = 16000;

export type FakeSpeechmaticsTTSFault = { error: 400 | 401 | 403 | 429 | 500 | 502 | 503; retryAfter?: number } | FakeStreamFault;

export interface FakeSpeechmaticsTTSRequest extends FakeTTSHttpRequest {
  /** The voice of the path. */
  readonly voice: string | undefined;
  /** The query string's parameters (`output_format`, `sm-app`). */
  readonly query: Readonly<Record<string, string>>;
}

export interface FakeSpeechmaticsTTSOptions extends FakeKeyPolicy {
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per body write. Default 40 ms. */
  chunkMs?: number;
  /** Pause between writes; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
}

export type FakeSpeechmaticsTTS = FakeTTSHttp<FakeSpeechmaticsTTSRequest, FakeSpeechmaticsTTSFault>;

/** The fake's speech for `text` as PCM16 at 16 kHz: a tone of its own timbre, so another fake's audio differs. */
export function fakeSpeechmaticsSpeech(text: string, options: { voice: string; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * RATE) / 1000);
  return fakeVoiceTone(`${options.voice}@${text}`, count, RATE, {
    baseHz: 160, hzSpread: 110, amplitude: 7200, tremoloBase: 0.6, tremoloDepth: 0.4, tremoloHz: 2.8,
    rampStep: 17, rampPeriod: 53, rampOffset: 29,
  });
}

/** The gateway's page for a missing or refused key, as Speechmatics' troubleshooting guide shows it. */
const UNAUTHORISED_PAGE = '<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly retryAfter?: number,
  ) {
    super(detail);
  }
}

function speechAnswer(options: FakeSpeechmaticsTTSOptions): FakeTTSHttpVendor<FakeSpeechmaticsTTSRequest, FakeSpeechmaticsTTSFault, Refusal>['answer'] {
  return async (req, raw, record, res, takeFault) => {
    // The gateway refuses a key before any route is looked at.
    if (!record.auth.valid) {
      record.status = 401;
      res.writeHead(401, { 'content-type': 'text/html' }).end(UNAUTHORISED_PAGE);
      return;
    }
    if (req.method !== 'POST' || record.voice === undefined) throw new Refusal(404, 'Not Found');
    const { body, parsed } = parseJSONBody(raw, false);
    (record as { body?: unknown }).body = body;
    const voice = record.voice;
    if (!FAKE_SPEECHMATICS_VOICES.includes(voice)) throw new Refusal(400, `fake Speechmatics TTS server: unknown voice ${JSON.stringify(voice)} (the real answer is not documented)`);
    const format = record.query.output_format ?? 'wav_16000';
    if (format !== 'pcm_16000') throw new Refusal(400, `fake Speechmatics TTS server: output_format ${JSON.stringify(format)} is not emulated by this fake (the real API makes wav_16000)`);
    if (!parsed || !isRecord(body) || typeof body.text !== 'string' || body.text.trim() === '') throw new Refusal(400, 'text is required');
    const fault = takeFault();
    if (fault !== undefined && 'error' in fault) throw new Refusal(fault.error, `scripted HTTP ${fault.error}`, fault.retryAfter);
    const samples = fakeSpeechmaticsSpeech(body.text, { voice, msPerCharacter: options.msPerCharacter });
    // Writes of an odd number of bytes, as a network may split them: the client must carry the half sample.
    const bytes = encodeSamples(samples, 's16le');
    await streamFakeAnswer(res, record, {
      headers: { 'content-type': 'audio/pcm' },
      pieces: pieces(bytes, samplesPerChunk(options.chunkMs, RATE) * 2 + 1),
      fault,
      chunkDelayMs: options.chunkDelayMs,
    });
  };
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeSpeechmaticsTTS(options: FakeSpeechmaticsTTSOptions = {}): Promise<FakeSpeechmaticsTTS> {
  const { origin, requests, failSpeech, close } = await startFakeTTSHttpVendor({
    record: (req): FakeSpeechmaticsTTSRequest => {
      const path = requestPath(req);
      const key = bearerKey(req.headers.authorization);
      const voice = PATH.exec(path)?.[1];
      return {
        path,
        voice: voice === undefined ? undefined : decodeURIComponent(voice),
        query: Object.fromEntries(new URL(req.url ?? '/', 'http://fake').searchParams),
        headers: recordHeaders(req, ['authorization']),
        auth: { present: key !== '', valid: isAcceptedKey(key === '' ? undefined : key, options) },
        chunksSent: 0,
      };
    },
    answer: speechAnswer(options),
    refusal: Refusal,
    refuse: (res, error) => {
      const headers: Record<string, string | number> = error.retryAfter === undefined ? {} : { 'retry-after': error.retryAfter };
      sendJSON(res, error.status, { detail: error.detail }, headers);
    },
    sendFailure: (res) => sendJSON(res, 500, { detail: 'fake failure' }),
  });
  return { baseUrl: origin, requests, failSpeech, close };
}
