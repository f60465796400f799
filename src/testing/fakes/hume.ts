// A local stand-in for Hume's streamed-JSON text-to-speech (`POST /v0/tts/stream/json`), over a real HTTP socket, so
// the production client is what gets tested. It checks requests as Hume documents them — the `X-Hume-Api-Key` header
// (refused: 401 with the gateway's `{"fault": {"faultstring"}}`), `utterances` (1 or more; `text` at most 5000
// characters, `description` at most 1000, `speed` 0.5 to 2, `voice` `{name, provider}` or `{id}`), `format` (`pcm`
// emulated; mp3 and wav refused as not emulated), `instant_mode` (needs a voice and one generation) — and answers
// newline-delimited JSON chunks `{type: "audio", audio: <base64 PCM 48 kHz>, chunk_index, is_last_chunk, ...}`.
// Scriptable failures: HTTP errors (with Retry-After), a stall after the headers, a connection dropped mid-answer,
// an answer ended cleanly before its last chunk.
// Facts: docs/vendors/hume.md.
import { randomUUID } from 'node:crypto';
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { encodeSamples, fakeVoiceTone } from './audio.js';
import { isRecord, parseJSONBody, requestPath } from './http.js';
import { recordHeaders } from './sse.js';
import { pieces, samplesPerChunk, startFakeTTSHttpVendor, streamFakeAnswer, type FakeTTSHttpRequest, type FakeTTSHttpVendor, type FakeStreamFault, type FakeTTSHttp } from './tts-http.js';

const RATE = 48000;

export type FakeHumeFault =
  | { error: 400 | 401 | 422 | 429 | 500 | 503; message?: string; retryAfter?: number }
  | FakeStreamFault
  /** Ends the answer cleanly after `afterChunks` chunks, without the one flagged `is_last_chunk`. */
  | { truncate: true; afterChunks?: number };

export type FakeHumeRequest = FakeTTSHttpRequest;

export interface FakeHumeOptions extends FakeKeyPolicy {
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per JSON line. Default 40 ms. */
  chunkMs?: number;
  /** Pause between lines; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
}

export type FakeHume = FakeTTSHttp<FakeHumeRequest, FakeHumeFault>;

/** The fake's speech for `text` (48 kHz PCM16): a tone of its own timbre, so another fake's audio differs. */
export function fakeHumeSpeech(text: string, options: { voice: string; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * RATE) / 1000);
  return fakeVoiceTone(`${options.voice}^${text}`, count, RATE, {
    baseHz: 145, hzSpread: 120, amplitude: 7600, tremoloBase: 0.55, tremoloDepth: 0.45, tremoloHz: 2.5,
    rampStep: 19, rampPeriod: 67, rampOffset: 33,
  });
}

class HumeError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** What is wrong with the request body, or undefined. */
function invalidBody(body: Record<string, unknown>): string | undefined {
  const utterances = body.utterances;
  if (!Array.isArray(utterances) || utterances.length === 0) return 'utterances: at least one utterance is required';
  for (const utterance of utterances) {
    if (!isRecord(utterance) || typeof utterance.text !== 'string') return 'utterances[].text is required';
    if (utterance.text.length > 5000) return 'utterances[].text must be at most 5000 characters';
    if (typeof utterance.description === 'string' && utterance.description.length > 1000) return 'utterances[].description must be at most 1000 characters';
    if (utterance.speed !== undefined && (typeof utterance.speed !== 'number' || utterance.speed < 0.5 || utterance.speed > 2)) return 'utterances[].speed must be between 0.5 and 2';
    const voice = utterance.voice;
    if (voice !== undefined && !(isRecord(voice) && (typeof voice.name === 'string' || typeof voice.id === 'string'))) return 'utterances[].voice needs a name or an id';
    if (isRecord(voice) && voice.provider !== undefined && voice.provider !== 'HUME_AI' && voice.provider !== 'CUSTOM_VOICE') return 'voice.provider must be HUME_AI or CUSTOM_VOICE';
    if (body.instant_mode === true && voice === undefined) return 'A voice must be specified when instant mode is enabled';
  }
  if (body.instant_mode === true && body.num_generations !== undefined && body.num_generations !== 1) return 'instant mode needs num_generations 1';
  const format = isRecord(body.format) ? body.format.type : 'mp3';
  if (format === 'mp3' || format === 'wav') return `fake Hume server: format ${format} is not emulated by this fake (the real API accepts it)`;
  if (format !== 'pcm') return `Unsupported format: ${JSON.stringify(format)}`;
  return undefined;
}

function speechAnswer(options: FakeHumeOptions): FakeTTSHttpVendor<FakeHumeRequest, FakeHumeFault, HumeError>['answer'] {
  return async (req, raw, record, res, takeFault) => {
    if (req.method !== 'POST' || record.path !== '/v0/tts/stream/json') throw new HumeError(404, `No route for ${req.method ?? ''} ${record.path}`);
    if (!record.auth.valid) {
      // The gateway in front of the API refuses a key in its own shape.
      record.status = 401;
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ fault: { faultstring: 'Invalid ApiKey', detail: { errorcode: 'oauth.v2.InvalidApiKey' } } }));
      return;
    }
    const { body, parsed } = parseJSONBody(raw, false);
    (record as { body?: unknown }).body = body;
    if (!parsed || !isRecord(body)) throw new HumeError(400, 'The body must be JSON.');
    const problem = invalidBody(body);
    if (problem !== undefined) throw new HumeError(422, problem);
    const fault = takeFault();
    if (fault !== undefined && 'error' in fault) throw new HumeError(fault.error, fault.message ?? `Scripted ${fault.error}`, fault.retryAfter);
    const utterances = body.utterances as Record<string, unknown>[];
    const text = utterances.map((u) => String(u.text)).join(' ');
    const voice = isRecord(utterances[0]?.voice) ? String(utterances[0].voice.name ?? utterances[0].voice.id) : 'generated';
    const bytes = encodeSamples(fakeHumeSpeech(text, { voice, msPerCharacter: options.msPerCharacter }), 's16le');
    const ids = { request_id: randomUUID(), generation_id: randomUUID(), snippet_id: randomUUID() };
    const chunks = pieces(bytes, samplesPerChunk(options.chunkMs, RATE) * 2);
    const lines = chunks.map((piece, index) => {
      const chunk = {
        type: 'audio',
        audio: Buffer.from(piece).toString('base64'),
        audio_format: 'pcm',
        chunk_index: index,
        is_last_chunk: index === chunks.length - 1,
        text,
        utterance_index: 0,
        ...ids,
      };
      return `${JSON.stringify(chunk)}\n`;
    });
    await streamFakeAnswer(res, record, {
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      pieces: fault !== undefined && 'truncate' in fault ? lines.slice(0, fault.afterChunks ?? 0) : lines,
      fault,
      chunkDelayMs: options.chunkDelayMs,
    });
  };
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeHume(options: FakeHumeOptions = {}): Promise<FakeHume> {
  const { origin, requests, failSpeech, close } = await startFakeTTSHttpVendor({
    record: (req): FakeHumeRequest => {
      const header = req.headers['x-hume-api-key'];
      const key = typeof header === 'string' ? header : undefined;
      return { path: requestPath(req), headers: recordHeaders(req, ['x-hume-api-key']), auth: { present: key !== undefined, valid: isAcceptedKey(key, options) }, chunksSent: 0 };
    },
    answer: speechAnswer(options),
    refusal: HumeError,
    refuse: (res, error) => {
      const headers: Record<string, string | number> = { 'content-type': 'application/json' };
      if (error.retryAfter !== undefined) headers['retry-after'] = error.retryAfter;
      res.writeHead(error.status, headers).end(JSON.stringify({ message: error.message }));
    },
    sendFailure: (res) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'fake failure' })),
  });
  return { baseUrl: origin, requests, failSpeech, close };
}
