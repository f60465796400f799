// A local stand-in for Piper's HTTP server (`python3 -m piper.http_server`, piper-tts[http]), over a real HTTP
// socket, so the production client is what gets tested. It behaves as the server's source does: `POST /synthesize`
// (or `POST /` with `legacy`, the servers before 1.5; a 1.5 server answers `POST /` with 405 and a legacy one
// `/synthesize` with 404) takes JSON `{text, voice, speaker, speaker_id, length_scale, noise_scale, noise_w_scale}`;
// an unknown voice falls back to the default one and an unknown speaker to speaker 0, silently; empty text or a body
// that is not JSON fails with Flask's HTML 500 page; the answer is a whole WAV file (16-bit mono at the voice's
// rate) with a Content-Length, written here in pieces. No authentication, as the real server has none. Scriptable
// failures: HTTP errors (a proxy's 502/503), a stall after the headers, a dropped connection. Facts: docs/vendors/piper.md.
import { writeWav } from '../../audio/wav.js';
import { fakeVoiceTone } from './audio.js';
import { isRecord, parseJSONBody, requestPath } from './http.js';
import { recordHeaders } from './sse.js';
import { pieces, startFakeTTSHttpVendor, streamFakeAnswer, type FakeStreamOutcome, type FakeTTSHttpRecord, type FakeTTSHttpVendor, type FakeStreamFault, type FakeTTSHttp } from './tts-http.js';

export interface FakePiperVoice {
  /** The voice's rate (its `.onnx.json` `audio.sample_rate`). */
  readonly sampleRate: number;
  /** Speaker names of a multi-speaker voice, in speaker-id order. */
  readonly speakers?: readonly string[];
}

export type FakePiperFault = { error: 500 | 502 | 503 } | FakeStreamFault;

export interface FakePiperRequest extends FakeTTSHttpRecord {
  readonly method: string;
  /** The voice and speaker id the fake spoke with (after its fallbacks). */
  voiceUsed?: string;
  speakerIdUsed?: number;
  outcome?: FakeStreamOutcome;
}

export interface FakePiperOptions {
  /** The voices the server has; the first is its `-m` default. Default one voice, 'en_US-lessac-medium' at 22050 Hz. */
  voices?: Readonly<Record<string, FakePiperVoice>>;
  /** Serve as a server before piper-tts 1.5: synthesis on `POST /`, no `/synthesize`. Default false. */
  legacy?: boolean;
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Bytes per body write. Default 4096. */
  chunkBytes?: number;
  /** Pause between writes; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
}

export type FakePiper = FakeTTSHttp<FakePiperRequest, FakePiperFault>;

/** The fake's speech for `text` at the voice's rate: a tone of its own timbre per voice and speaker. */
export function fakePiperSpeech(text: string, options: { voice: string; sampleRate: number; speakerId?: number; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * options.sampleRate) / 1000);
  return fakeVoiceTone(`${options.voice}#${options.speakerId ?? 0}@${text}`, count, options.sampleRate, {
    baseHz: 150, hzSpread: 120, amplitude: 6800, tremoloBase: 0.75, tremoloDepth: 0.25, tremoloHz: 4,
    rampStep: 7, rampPeriod: 37, rampOffset: 13,
  });
}

const DEFAULT_VOICES: Readonly<Record<string, FakePiperVoice>> = { 'en_US-lessac-medium': { sampleRate: 22050 } };

/** Flask's page for an uncaught exception (the server raises ValueError for empty text). */
const flaskPage = (status: number, title: string, text: string): string =>
  `<!doctype html>\n<html lang=en>\n<title>${status} ${title}</title>\n<h1>${title}</h1>\n<p>${text}</p>\n`;

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly text: string,
  ) {
    super(title);
  }
}

function synthesisAnswer(options: FakePiperOptions): FakeTTSHttpVendor<FakePiperRequest, FakePiperFault, Refusal>['answer'] {
  const voices = options.voices ?? DEFAULT_VOICES;
  const defaultVoice = Object.keys(voices)[0];
  if (defaultVoice === undefined) throw new RangeError('startFakePiper: voices must name at least one voice');
  const synthesis = options.legacy === true ? '/' : '/synthesize';
  return async (req, raw, record, res, takeFault) => {
    const { path } = record;
    if (path !== synthesis || req.method !== 'POST') {
      // From 1.5 on, `/` is the browser page (GET only): the fake's page is a stub.
      if (path === '/' && options.legacy !== true && req.method === 'GET') {
        record.status = 200;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html>\n<title>Piper (fake)</title>\n');
        return;
      }
      if (path === '/' && options.legacy !== true) throw new Refusal(405, 'Method Not Allowed', 'The method is not allowed for the requested URL.');
      throw new Refusal(404, 'Not Found', 'The requested URL was not found on the server.');
    }
    const { body, parsed } = parseJSONBody(raw, false);
    (record as { body?: unknown }).body = body;
    const failed = new Refusal(500, 'Internal Server Error', 'The server encountered an internal error and was unable to complete your request.');
    if (!parsed || !isRecord(body)) throw failed;
    const text = typeof body.text === 'string' ? body.text.trim() : '';
    if (text === '') throw failed;
    const named = typeof body.voice === 'string' ? body.voice : defaultVoice;
    const voiceName = named in voices ? named : defaultVoice;
    const voice = voices[voiceName]!;
    const speakers = voice.speakers ?? [];
    let speakerId = typeof body.speaker_id === 'number' ? body.speaker_id : undefined;
    if (speakers.length > 1 && speakerId === undefined && typeof body.speaker === 'string') {
      const index = speakers.indexOf(body.speaker);
      speakerId = index < 0 ? undefined : index;
    }
    if (speakerId !== undefined && speakerId > speakers.length) speakerId = 0;
    for (const name of ['length_scale', 'noise_scale', 'noise_w_scale']) {
      // The server applies float() to them: a value it cannot convert fails the request.
      if (body[name] !== undefined && !Number.isFinite(Number(body[name]))) throw failed;
    }
    const fault = takeFault();
    if (fault !== undefined && 'error' in fault) throw new Refusal(fault.error, `scripted ${fault.error}`, 'scripted failure');
    record.voiceUsed = voiceName;
    record.speakerIdUsed = speakerId ?? 0;
    const samples = fakePiperSpeech(text, { voice: voiceName, sampleRate: voice.sampleRate, speakerId: speakerId ?? 0, msPerCharacter: options.msPerCharacter });
    const wav = writeWav({ sampleRate: voice.sampleRate, channels: 1, samples });
    await streamFakeAnswer(res, record, {
      // Flask sends the bytes a view returns as text/html, with their length.
      headers: { 'content-type': 'text/html; charset=utf-8', 'content-length': wav.length },
      pieces: pieces(wav, Math.max(1, options.chunkBytes ?? 4096)),
      fault,
      chunkDelayMs: options.chunkDelayMs,
    });
  };
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakePiper(options: FakePiperOptions = {}): Promise<FakePiper> {
  const { origin, requests, failSpeech, close } = await startFakeTTSHttpVendor({
    record: (req): FakePiperRequest => ({ method: req.method ?? 'GET', path: requestPath(req), headers: recordHeaders(req, []), chunksSent: 0 }),
    answer: synthesisAnswer(options),
    refusal: Refusal,
    refuse: (res, error) => {
      const page = flaskPage(error.status, error.title, error.text);
      res.writeHead(error.status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(page) }).end(page);
    },
    sendFailure: (res) => res.writeHead(500, { 'content-type': 'text/html; charset=utf-8' }).end(flaskPage(500, 'Internal Server Error', 'fake failure')),
  });
  return { baseUrl: origin, requests, failSpeech, close };
}
