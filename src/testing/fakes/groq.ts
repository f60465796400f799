// A local stand-in for Groq's OpenAI-compatible transcription endpoint, `POST /openai/v1/audio/transcriptions`,
// as Groq documents it (docs/vendors/groq.md): `Authorization: Bearer`, a multipart form with `file` and `model`
// (only Groq's Whisper models), `language` in ISO-639-1, `prompt`, `temperature` 0 to 1, `response_format` json,
// text or verbose_json (`timestamp_granularities[]` only with verbose_json); files of at least 0.01 s. Errors carry
// OpenAI's shape `{"error": {"message", "type", "code"}}` with Groq's wording; a JSON answer carries `x_groq`.
import type { IncomingMessage } from 'node:http';
import { bearerKey, type FakeKeyPolicy } from './auth.js';
import { parseMultipart } from './openai-audio.js';
import { FakeVendorRefusal, decodeWav, startFakeSegmentedSTT, type FakeSTTAnswer, type FakeSTTRequest } from './segmented-stt.js';

export const FAKE_GROQ_STT_MODELS = ['whisper-large-v3-turbo', 'whisper-large-v3'] as const;
const FORMATS = ['json', 'text', 'verbose_json'];
const MIN_AUDIO_SECS = 0.01;
const PATH = '/openai/v1/audio/transcriptions';

export interface FakeGroqSTT {
  /** `http://127.0.0.1:<port>/openai/v1`, to pass as the service's `baseURL`. */
  readonly baseURL: string;
  readonly requests: readonly FakeSTTRequest[];
  /** Queues transcripts (or faults: `{ error: 429, retryAfter }`, `{ stall: true }`, `{ drop: true }`). */
  enqueueTranscriptions(...answers: FakeSTTAnswer[]): void;
  close(): Promise<void>;
}

const groqError = (status: number, message: string, type: string, code: string | null, headers: Record<string, string | number> = {}): FakeVendorRefusal =>
  new FakeVendorRefusal(status, { error: { message, type, ...(code === null ? {} : { code }) } }, headers);
const invalid = (message: string): FakeVendorRefusal => groqError(400, message, 'invalid_request_error', null);

function parse(req: IncomingMessage, raw: Buffer): { options: Record<string, string>; audio: NonNullable<FakeSTTRequest['audio']> } {
  let parts;
  try {
    parts = parseMultipart(raw, req.headers['content-type']);
  } catch {
    throw invalid('request Content-Type isn\'t multipart/form-data');
  }
  const options: Record<string, string> = {};
  for (const part of parts) if (part.filename === undefined) options[part.name] = part.data.toString('utf8');
  const file = parts.find((part) => part.name === 'file' && part.filename !== undefined);
  if (file === undefined) throw invalid('either file or url must be provided');
  const model = options.model;
  if (model === undefined || model === '') throw invalid('model is required');
  if (!(FAKE_GROQ_STT_MODELS as readonly string[]).includes(model)) {
    throw groqError(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found');
  }
  const format = options.response_format ?? 'json';
  if (!FORMATS.includes(format)) throw invalid(`response_format must be one of ${FORMATS.join(', ')}`);
  if (options['timestamp_granularities[]'] !== undefined && format !== 'verbose_json') {
    throw invalid('timestamp_granularities requires response_format verbose_json');
  }
  if (options.language !== undefined && !/^[a-z]{2,3}$/.test(options.language)) throw invalid(`invalid language: ${options.language}`);
  if (options.temperature !== undefined) {
    const value = Number(options.temperature);
    if (!Number.isFinite(value) || value < 0 || value > 1) throw invalid('temperature must be between 0 and 1');
  }
  const audio = decodeWav(file.data);
  if (audio === undefined) throw invalid('could not process file - is it a valid media file?');
  if (audio.durationSecs < MIN_AUDIO_SECS) throw invalid(`audio file is too short: minimum ${MIN_AUDIO_SECS} seconds`);
  return { options, audio };
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeGroqSTT(policy: FakeKeyPolicy = {}): Promise<FakeGroqSTT> {
  const fake = await startFakeSegmentedSTT(
    {
      keyOf: (req) => bearerKey(req.headers.authorization),
      secretHeaders: ['authorization'],
      routes: (method, path) => method === 'POST' && path === PATH,
      notFound: (method, path) => groqError(404, `Unknown request URL: ${method} ${path}. Please check the URL for typos, or see the docs at https://console.groq.com/docs/`, 'invalid_request_error', 'unknown_url'),
      refusedKey: () => groqError(401, 'Invalid API Key', 'invalid_request_error', 'invalid_api_key'),
      parse: (req, _url, raw) => parse(req, raw),
      scriptedError: (status, message, retryAfter) => {
        const headers: Record<string, string | number> = retryAfter === undefined ? {} : { 'retry-after': retryAfter };
        if (status === 401) return groqError(401, 'Invalid API Key', 'invalid_request_error', 'invalid_api_key');
        if (status === 429) return groqError(429, message ?? 'Rate limit reached for model. Please try again later.', 'seconds', 'rate_limit_exceeded', headers);
        if (status >= 500) return groqError(status, message ?? 'Internal Server Error', 'internal_server_error', null, headers);
        return groqError(status, message ?? 'Bad request', 'invalid_request_error', null, headers);
      },
      answer: (text, _request, sequence) => ({ text, x_groq: { id: `req_fake${String(sequence).padStart(6, '0')}` } }),
    },
    policy,
  );
  return {
    baseURL: `${fake.url}/openai/v1`,
    requests: fake.requests,
    enqueueTranscriptions: fake.enqueue,
    close: fake.close,
  };
}
