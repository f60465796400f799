// A local stand-in for ElevenLabs' speech-to-text endpoint, `POST /v1/speech-to-text`, as ElevenLabs documents it
// (docs/vendors/elevenlabs-stt.md): the `xi-api-key` header (a refused key is 401 `{"detail": {"status":
// "invalid_api_key", ...}}`), a multipart form with `model_id` (a Scribe model) and `file`, `file_format`
// `pcm_s16le_16` (raw 16 kHz mono little-endian PCM: an odd byte count is refused) or `other` (a container: WAV
// here), `language_code` ISO-639-1 or -3, booleans as 'true'/'false', `timestamps_granularity` none/word/character.
// Validation failures are 422 `{"detail": [{"type", "loc", "msg"}]}`. The answer carries `language_code`,
// `language_probability`, `text` and `words`.
import type { IncomingMessage } from 'node:http';
import { bytesToInt16 } from '../../audio/index.js';
import type { FakeKeyPolicy } from './auth.js';
import { parseMultipart, type FakeUploadedAudio } from './openai-audio.js';
import { FakeVendorRefusal, decodeWav, startFakeSegmentedSTT, type FakeSTTAnswer, type FakeSTTRequest } from './segmented-stt.js';

export const FAKE_ELEVENLABS_STT_MODELS = ['scribe_v1', 'scribe_v2'] as const;
const GRANULARITIES = ['none', 'word', 'character'];
const BOOLEAN_FIELDS = ['tag_audio_events', 'diarize'];

export interface FakeElevenLabsSTT {
  /** `http://127.0.0.1:<port>`, to pass as the service's `baseUrl`. */
  readonly baseUrl: string;
  readonly requests: readonly FakeSTTRequest[];
  /** Queues transcripts (or faults), one per valid request. */
  enqueueTranscriptions(...answers: FakeSTTAnswer[]): void;
  close(): Promise<void>;
}

const detailError = (status: number, code: string, message: string, headers: Record<string, string | number> = {}): FakeVendorRefusal =>
  new FakeVendorRefusal(status, { detail: { status: code, message } }, headers);
const unprocessable = (field: string, type: string, msg: string): FakeVendorRefusal =>
  new FakeVendorRefusal(422, { detail: [{ type, loc: ['body', field], msg, input: null }] });

function parse(req: IncomingMessage, raw: Buffer): { options: Record<string, string>; audio: FakeUploadedAudio } {
  let parts;
  try {
    parts = parseMultipart(raw, req.headers['content-type']);
  } catch {
    throw unprocessable('file', 'missing', 'Field required');
  }
  const options: Record<string, string> = {};
  for (const part of parts) if (part.filename === undefined) options[part.name] = part.data.toString('utf8');
  const model = options.model_id;
  if (model === undefined) throw unprocessable('model_id', 'missing', 'Field required');
  if (!(FAKE_ELEVENLABS_STT_MODELS as readonly string[]).includes(model)) {
    throw unprocessable('model_id', 'enum', `Input should be ${FAKE_ELEVENLABS_STT_MODELS.map((m) => `'${m}'`).join(' or ')}`);
  }
  const format = options.file_format ?? 'other';
  if (format !== 'pcm_s16le_16' && format !== 'other') throw unprocessable('file_format', 'enum', "Input should be 'pcm_s16le_16' or 'other'");
  const granularity = options.timestamps_granularity ?? 'word';
  if (!GRANULARITIES.includes(granularity)) throw unprocessable('timestamps_granularity', 'enum', "Input should be 'none', 'word' or 'character'");
  for (const name of BOOLEAN_FIELDS) {
    const value = options[name];
    if (value !== undefined && value !== 'true' && value !== 'false') throw unprocessable(name, 'bool_parsing', 'Input should be a valid boolean');
  }
  if (options.language_code !== undefined && !/^[a-z]{2,3}$/.test(options.language_code)) {
    throw detailError(400, 'invalid_language_code', `Unsupported language code: ${options.language_code}`);
  }
  const file = parts.find((part) => part.name === 'file' && part.filename !== undefined);
  if (file === undefined) throw detailError(400, 'invalid_request', 'Either file or cloud_storage_url must be provided.');
  let audio: FakeUploadedAudio | undefined;
  if (format === 'pcm_s16le_16') {
    if (file.data.length % 2 !== 0) throw detailError(400, 'invalid_audio', 'pcm_s16le_16 audio must be 16-bit samples.');
    const samples = bytesToInt16(file.data);
    audio = { sampleRate: 16000, channels: 1, samples, durationSecs: samples.length / 16000 };
  } else {
    audio = decodeWav(file.data);
    if (audio === undefined) throw detailError(400, 'invalid_audio', 'The audio file could not be decoded.');
  }
  if (audio.samples.length === 0) throw detailError(400, 'invalid_audio', 'The audio file is empty.');
  return { options, audio };
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeElevenLabsSTT(policy: FakeKeyPolicy = {}): Promise<FakeElevenLabsSTT> {
  const statuses: Record<number, string> = { 400: 'invalid_request', 401: 'invalid_api_key', 429: 'too_many_concurrent_requests', 500: 'internal_error', 503: 'service_unavailable' };
  const fake = await startFakeSegmentedSTT(
    {
      keyOf: (req) => (typeof req.headers['xi-api-key'] === 'string' ? req.headers['xi-api-key'] : undefined),
      secretHeaders: ['xi-api-key', 'authorization'],
      routes: (method, path) => method === 'POST' && path === '/v1/speech-to-text',
      notFound: () => new FakeVendorRefusal(404, { detail: 'Not Found' }),
      refusedKey: (present) =>
        present ? detailError(401, 'invalid_api_key', 'Invalid API key') : detailError(401, 'needs_authorization', 'Neither authorization header nor xi-api-key received, please provide one.'),
      parse: (req, _url, raw) => parse(req, raw),
      scriptedError: (status, message, retryAfter) =>
        detailError(status, statuses[status] ?? 'error', message ?? `Scripted ${statuses[status] ?? 'error'}.`, retryAfter === undefined ? {} : { 'retry-after': retryAfter }),
      answer: (text, request) => {
        const words = text.split(/\s+/).filter((word) => word !== '');
        const per = (request.audio?.durationSecs ?? 0) / Math.max(1, words.length);
        return {
          language_code: request.options.language_code ?? 'eng',
          language_probability: 0.98,
          text,
          words: words.map((word, i) => ({ text: word, start: i * per, end: (i + 1) * per, type: 'word', logprob: -0.1 })),
        };
      },
    },
    policy,
  );
  return { baseUrl: fake.url, requests: fake.requests, enqueueTranscriptions: fake.enqueue, close: fake.close };
}
