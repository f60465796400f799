// A local stand-in for Amazon Polly's REST `SynthesizeSpeech` (`POST /v1/speech`), over a real HTTP socket, so the
// production client is what gets tested. It checks requests as AWS documents them — a SigV4 `authorization` whose
// signature it recomputes with the secret of the access key id (refused: 403 `UnrecognizedClientException` for an
// unknown key, `InvalidSignatureException` for a wrong signature, `SignatureDoesNotMatch`-style skew over 5 minutes),
// the JSON body's `OutputFormat` (`pcm` emulated; `mp3`, `ogg_vorbis`, `json` refused as not emulated), `SampleRate`
// ("8000" or "16000" for pcm), `Text` of at most 3000 characters, `VoiceId`, `Engine` — and streams headerless PCM16
// back in paced pieces. Errors carry `x-amzn-ErrorType` and a `{"message"}` body. Scriptable failures: errors
// (429 is answered as Polly throttles, 400 `ThrottlingException`), a stall after the headers, a connection dropped
// mid-answer. Facts: docs/vendors/aws-polly.md.
import type { IncomingMessage } from 'node:http';
import { createHash } from 'node:crypto';
import { int16ToBytes } from '../../audio/index.js';
import { canonicalRequest, signature } from '../../services/aws/sigv4.js';
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { fakeVoiceTone } from './audio.js';
import { isRecord, parseJSONBody } from './http.js';
import { recordHeaders } from './sse.js';
import { pieces, samplesPerChunk, startFakeTTSHttpVendor, streamFakeAnswer, type FakeTTSHttpRequest, type FakeTTSHttpVendor, type FakeStreamFault, type FakeTTSHttp } from './tts-http.js';

const FORMATS = ['json', 'mp3', 'ogg_vorbis', 'pcm'];
const ENGINES = ['standard', 'neural', 'long-form', 'generative'];
const MAX_SKEW_MS = 5 * 60_000;

export type FakePollyFault =
  | { error: 400 | 401 | 403 | 429 | 500 | 503; message?: string }
  | FakeStreamFault;

export interface FakePollyRequest extends FakeTTSHttpRequest {
  /** The `x-amzn-ErrorType` of a refusal. */
  errorType?: string;
}

export interface FakePollyOptions extends FakeKeyPolicy {
  /** The secret every accepted access key id signs with. Default 'fake-polly-secret'. */
  secretAccessKey?: string;
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per write. Default 40 ms. */
  chunkMs?: number;
  /** Pause between writes; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
}

export type FakePolly = FakeTTSHttp<FakePollyRequest, FakePollyFault>;

/** The fake's speech for `text` as PCM16: a tone of its own timbre, so another fake's audio differs. */
export function fakePollySpeech(text: string, options: { sampleRate: number; voice: string; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * options.sampleRate) / 1000);
  return fakeVoiceTone(`${options.voice}@${text}`, count, options.sampleRate, {
    baseHz: 140, hzSpread: 130, amplitude: 7400, tremoloBase: 0.7, tremoloDepth: 0.3, tremoloHz: 1.5,
    rampStep: 3, rampPeriod: 31, rampOffset: 15,
  });
}

class PollyError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** The refusal of the request's signature, or undefined when it is AWS's own. */
function verify(req: IncomingMessage, url: URL, raw: Buffer, options: FakePollyOptions): PollyError | undefined {
  const header = req.headers.authorization ?? '';
  const parsed = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8}\/[^/]+\/[^/]+\/aws4_request), SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(header);
  if (parsed === null) return new PollyError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  const [, keyId = '', scope = '', signedNames = '', sent = ''] = parsed;
  if (!isAcceptedKey(keyId, options)) return new PollyError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  const date = String(req.headers['x-amz-date'] ?? '');
  const when = Date.parse(date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (Number.isNaN(when) || Math.abs(when - Date.now()) > MAX_SKEW_MS) return new PollyError(403, 'InvalidSignatureException', 'Signature expired: the request time is more than 5 minutes from the server time.');
  if (!scope.startsWith(date.slice(0, 8)) || !scope.endsWith('/polly/aws4_request')) return new PollyError(403, 'InvalidSignatureException', `Credential should be scoped to a valid date, region and the polly service: ${scope}`);
  const names = signedNames.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return new PollyError(403, 'InvalidSignatureException', 'host and x-amz-date must be signed.');
  const headers: Record<string, string> = {};
  for (const name of names) headers[name] = String(req.headers[name] ?? '');
  const payloadHash = createHash('sha256').update(raw).digest('hex');
  const { text } = canonicalRequest({ method: req.method ?? 'POST', url, headers, payloadHash });
  const expected = signature(options.secretAccessKey ?? 'fake-polly-secret', date, scope, text);
  if (expected !== sent) return new PollyError(403, 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
  return undefined;
}

function speechAnswer(options: FakePollyOptions, refusals: WeakMap<FakePollyRequest, PollyError>): FakeTTSHttpVendor<FakePollyRequest, FakePollyFault, PollyError>['answer'] {
  return async (req, raw, record, res, takeFault) => {
    if (req.method !== 'POST' || record.path !== '/v1/speech') throw new PollyError(404, 'UnknownOperationException', `No operation at ${req.method ?? ''} ${record.path}`);
    const refusal = refusals.get(record);
    if (refusal !== undefined) throw refusal;
    const { body, parsed } = parseJSONBody(raw, false);
    (record as { body?: unknown }).body = body;
    const invalid = (message: string, type = 'ValidationException'): PollyError => new PollyError(400, type, message);
    if (!parsed || !isRecord(body)) throw invalid('The request body is not valid JSON.', 'SerializationException');
    if (typeof body.Text !== 'string' || body.Text.trim() === '') throw invalid('Text is required.');
    if (body.Text.length > 3000) throw invalid('Maximum text length has been exceeded', 'TextLengthExceededException');
    if (typeof body.VoiceId !== 'string' || !/^[A-Z][a-z]+$/.test(body.VoiceId)) throw invalid(`Value '${String(body.VoiceId)}' at 'voiceId' failed to satisfy constraint.`);
    if (body.Engine !== undefined && (typeof body.Engine !== 'string' || !ENGINES.includes(body.Engine))) throw invalid(`Value ${JSON.stringify(body.Engine)} at 'engine' failed to satisfy constraint.`);
    if (typeof body.OutputFormat !== 'string' || !FORMATS.includes(body.OutputFormat)) throw invalid(`Value '${String(body.OutputFormat)}' at 'outputFormat' failed to satisfy constraint.`);
    if (body.OutputFormat !== 'pcm') throw invalid(`fake Polly server: OutputFormat ${body.OutputFormat} is not emulated by this fake (the real API makes it)`);
    const rate = body.SampleRate ?? '16000';
    if (rate !== '8000' && rate !== '16000') throw invalid(`Sample rate ${JSON.stringify(rate)} is not valid for pcm (8000 or 16000).`, 'InvalidSampleRateException');
    const fault = takeFault();
    if (fault !== undefined && 'error' in fault) {
      if (fault.error === 429) throw new PollyError(400, 'ThrottlingException', fault.message ?? 'Rate exceeded');
      if (fault.error === 401 || fault.error === 403) throw new PollyError(403, 'UnrecognizedClientException', fault.message ?? 'The security token included in the request is invalid.');
      throw new PollyError(fault.error, fault.error >= 500 ? 'ServiceFailureException' : 'ValidationException', fault.message ?? `Scripted ${fault.error}`);
    }
    const sampleRate = Number(rate);
    const samples = fakePollySpeech(body.Text, { sampleRate, voice: body.VoiceId, msPerCharacter: options.msPerCharacter });
    await streamFakeAnswer(res, record, {
      headers: { 'content-type': 'audio/pcm', 'x-amzn-requestcharacters': String(body.Text.length), 'transfer-encoding': 'chunked' },
      pieces: pieces(samples, samplesPerChunk(options.chunkMs, sampleRate)).map((piece) => int16ToBytes(piece)),
      fault,
      chunkDelayMs: options.chunkDelayMs,
    });
  };
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakePolly(options: FakePollyOptions = {}): Promise<FakePolly> {
  // Each request's signature is judged once, when it is recorded; a refused one is answered after the route check.
  const refusals = new WeakMap<FakePollyRequest, PollyError>();
  const { origin, requests, failSpeech, close } = await startFakeTTSHttpVendor({
    record: (req, raw): FakePollyRequest => {
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
      const refusal = verify(req, url, raw, options);
      const record: FakePollyRequest = {
        path: url.pathname,
        headers: recordHeaders(req, ['authorization', 'x-amz-security-token']),
        auth: { present: req.headers.authorization !== undefined, valid: refusal === undefined },
        chunksSent: 0,
      };
      if (refusal !== undefined) refusals.set(record, refusal);
      return record;
    },
    answer: speechAnswer(options, refusals),
    refusal: PollyError,
    refuse: (res, error, record) => {
      record.errorType = error.type;
      res.writeHead(error.status, { 'content-type': 'application/json', 'x-amzn-errortype': `${error.type}:` }).end(JSON.stringify({ message: error.message }));
    },
    sendFailure: (res) => res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'ServiceFailureException:' }).end(JSON.stringify({ message: 'fake failure' })),
  });
  return { baseUrl: origin, requests, failSpeech, close };
}
