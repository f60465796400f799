// A local stand-in for OpenAI's audio endpoints (`/v1/audio/speech` and `/v1/audio/transcriptions`), speaking
// their wire protocol over a real HTTP socket so that the production clients (the official `openai` SDK included)
// are what gets tested. It is a separate server from the chat fake (openai-chat.ts): a test that needs both starts
// both and points each service at its own base URL.
//
// Speech: validates the JSON body as strictly as the real API (auth, model, voice, input length, speed,
// instructions, formats) and returns audio whose length follows the text (60 ms per character by default, divided
// by `speed`) as raw PCM16 24 kHz mono, cut into several writes at odd byte offsets with small pauses, never one
// buffered blob. Only `pcm` and `wav` are emulated (the real API also does mp3, opus, aac and flac; the fake cannot
// encode those and says so with a fake-specific 400). `stream_format: "sse"` is honoured.
// Transcriptions: real multipart parsing (boundary, filename, any field order); the uploaded file must be a WAV
// that decodes to real audio; the answer is a scripted transcript in the requested `response_format`.
// Failures are scriptable per request: HTTP errors with OpenAI's bodies, stalls, dropped connections.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WavFormatError, int16ToBytes, readWav, writeWav } from '../../audio/index.js';
import { fakeVoiceTone } from './audio.js';
import { bearerKey, isAcceptedKey } from './auth.js';
import { isRecord, parseJSONBody, pause, requestPath, startFakeHttpServer, untilClosed } from './http.js';
import {
  OpenAIRequestError as RequestError,
  checkKey,
  commonError,
  incorrectKey,
  invalid,
  invalidURL,
  modelNotFound,
  openAIHeaders,
  scriptedErrorHeaders,
  sendFakeFailure,
  sendOpenAIError,
  typeName,
} from './openai-errors.js';
import { isClosed, readBody, recordHeaders, sendJSON, SSEWriter } from './sse.js';
import { createSeededRandom } from '../random.js';

/** Rate of the `pcm` format (fixed by the API) and of the fake's `wav` output. */
export const FAKE_SPEECH_SAMPLE_RATE = 24000;

export const OPENAI_SPEECH_VOICES = [
  'alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'onyx', 'nova', 'sage', 'shimmer', 'verse', 'marin', 'cedar',
] as const;

export const OPENAI_SPEECH_MODELS = ['tts-1', 'tts-1-hd', 'gpt-4o-mini-tts'] as const;

export const OPENAI_TRANSCRIPTION_MODELS = [
  'whisper-1', 'gpt-4o-transcribe', 'gpt-4o-mini-transcribe', 'gpt-4o-transcribe-diarize',
] as const;

const SPEECH_FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'];
const EMULATED_SPEECH_FORMATS = ['pcm', 'wav'];
const UPLOAD_EXTENSIONS = ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm'];
const TRANSCRIPTION_FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt', 'diarized_json'];
const MAX_INPUT_CHARS = 4096;
const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;
const MIN_AUDIO_SECS = 0.1;

export type FakeAudioErrorStatus = 400 | 401 | 403 | 404 | 429 | 500 | 503;

/** A scripted HTTP error with OpenAI's body for that status; `shouldRetry` adds the `x-should-retry` header. */
export interface FakeAudioError {
  error: FakeAudioErrorStatus;
  retryAfter?: number;
  shouldRetry?: boolean;
  message?: string;
}

export type FakeSpeechResponse =
  /** The normal answer; `firstByteDelayMs` holds the status line back that long (a slow first byte). */
  | { firstByteDelayMs?: number }
  | FakeAudioError
  /** Sends the 200 and `afterBytes` audio bytes (default 0), then nothing until the client goes away. */
  | { stall: true; afterBytes?: number }
  /** Destroys the socket after `afterBytes` audio bytes; without it, before answering at all. */
  | { drop: true; afterBytes?: number };

export type FakeTranscriptionResponse =
  | string
  /** A transcript, answered after `delayMs`. */
  | { text: string; delayMs?: number }
  | FakeAudioError
  /** Never answers; the request ends when the client gives up. */
  | { stall: true }
  /** Destroys the socket without answering. */
  | { drop: true };

/** The audio the fake decoded from an upload. */
export interface FakeUploadedAudio {
  readonly sampleRate: number;
  readonly channels: number;
  /** Interleaved PCM16. */
  readonly samples: Int16Array;
  readonly durationSecs: number;
}

export interface FakeUpload {
  readonly filename: string;
  readonly contentType: string | undefined;
  readonly bytes: number;
  /** Set when the file was a WAV the fake could decode. */
  readonly audio?: FakeUploadedAudio;
}

/** What the fake recorded of one HTTP request. The API key itself is never stored. */
export interface FakeOpenAIAudioRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-case header names; `authorization` is replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: { readonly present: boolean; readonly valid: boolean };
  /** Speech: the parsed JSON body (undefined when it was not JSON). */
  readonly body?: unknown;
  /** Transcriptions: the text fields of the multipart form; a field sent several times gives an array. */
  readonly fields?: Readonly<Record<string, string | readonly string[]>>;
  /** Transcriptions: the uploaded file. */
  readonly upload?: FakeUpload;
  /** The HTTP status the fake answered with (set once it answered). */
  status?: number;
  /** Speech: body bytes written so far, and the size of every socket write in order. */
  bytesSent: number;
  readonly writes: number[];
  /**
   * How the exchange ended: `completed` (whole response written), `client-closed` (the client went away before
   * the end: an abort), `dropped` (the fake cut the connection as scripted). Undefined while in progress.
   */
  outcome?: 'completed' | 'client-closed' | 'dropped';
}

/** What a transcription handler is given. */
export interface FakeTranscriptionInput {
  readonly audio: FakeUploadedAudio;
  readonly model: string;
  readonly language?: string;
  readonly prompt?: string;
  readonly request: FakeOpenAIAudioRequest;
}

export type FakeTranscriptionHandler = (
  input: FakeTranscriptionInput,
) => FakeTranscriptionResponse | Promise<FakeTranscriptionResponse>;

export interface FakeOpenAIAudioOptions {
  /** Answer 401 `invalid_api_key` for this key (any other non-empty key is accepted). */
  rejectKey?: string;
  /** Accept only this key (401 for any other). */
  requireKey?: string;
  /** Seed of the write splits and ids. Default 1. */
  seed?: number;
  /** Audio length per character of input at speed 1. Default 60 ms. */
  msPerCharacter?: number;
  /** Mean size of one audio write in bytes; every write is an odd number of bytes. Default 4801. */
  chunkBytes?: number;
  /** Pause between audio writes, in ms; 0 yields one event-loop turn. Default 2. */
  chunkDelayMs?: number;
  /** Accepted speech models (404 `model_not_found` for others). Default OPENAI_SPEECH_MODELS. */
  speechModels?: readonly string[];
  /** Accepted transcription models (404 for others). Default OPENAI_TRANSCRIPTION_MODELS. */
  transcriptionModels?: readonly string[];
  /** Answers transcriptions not served from the queue. Default: a text naming the audio's duration. */
  transcribe?: FakeTranscriptionHandler;
}

export interface FakeOpenAIAudio {
  /** e.g. `http://127.0.0.1:54321/v1`, to pass as the client's base URL. */
  readonly baseURL: string;
  readonly port: number;
  /** Every request received, in order, including rejected ones. */
  readonly requests: readonly FakeOpenAIAudioRequest[];
  /** Queues speech answers, used one per valid speech request. */
  enqueueSpeech(...responses: FakeSpeechResponse[]): void;
  /** Queues transcription answers (texts or scripted failures), used one per valid transcription request. */
  enqueueTranscriptions(...responses: FakeTranscriptionResponse[]): void;
  /** Queues transcripts: the next valid transcription requests get these texts, in order. */
  scriptTranscripts(texts: readonly string[]): void;
  /** Answers every transcription not served from the queue. */
  transcribeWith(handler: FakeTranscriptionHandler): void;
  /** Resolves with request `index` (default: the latest so far) once its exchange has ended. */
  settled(index?: number): Promise<FakeOpenAIAudioRequest>;
  close(): Promise<void>;
}

export interface FakeSpeechAudioOptions {
  /** Default 60. */
  msPerCharacter?: number;
  /** Default 1. */
  speed?: number;
  /** Default 'alloy'. */
  voice?: string;
}

/** Samples of fake speech for `text` (24 kHz): the exact audio the fake returns for that request. */
export function fakeSpeechSamples(text: string, options: FakeSpeechAudioOptions = {}): Int16Array {
  const msPerCharacter = options.msPerCharacter ?? 60;
  const speed = options.speed ?? 1;
  const count = Math.round(([...text].length * msPerCharacter * FAKE_SPEECH_SAMPLE_RATE) / 1000 / speed);
  return fakeVoiceTone(`${options.voice ?? 'alloy'}:${text}`, count, FAKE_SPEECH_SAMPLE_RATE, {
    baseHz: 140,
    hzSpread: 160,
    amplitude: 9000,
    tremoloBase: 0.55,
    tremoloDepth: 0.45,
    tremoloHz: 3,
    rampStep: 37,
    rampPeriod: 101,
    rampOffset: 50,
  });
}

// ---- OpenAI error bodies -------------------------------------------------------------------------------------

/** A 400 for something the real API accepts but this fake does not emulate; the message says it is the fake. */
function notEmulated(what: string, param: string): RequestError {
  return invalid(`fake OpenAI audio server: ${what} is not emulated by this fake (the real API accepts it)`, param, 'fake_not_emulated');
}

function scriptedError(response: FakeAudioError, model: string, key: string): RequestError {
  switch (response.error) {
    case 400: {
      const body = { error: { message: response.message ?? 'Invalid request.', type: 'invalid_request_error', param: null, code: null } };
      return new RequestError(response.error, body, scriptedErrorHeaders({}, response));
    }
    case 401:
      return incorrectKey(key);
    case 404:
      return modelNotFound(model);
    default: {
      const { body, headers } = commonError(response.error, model, response);
      return new RequestError(response.error, body, scriptedErrorHeaders(headers, response));
    }
  }
}

function quoted(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(', ');
}

// ---- speech ----------------------------------------------------------------------------------------------------

interface SpeechRequest {
  model: string;
  input: string;
  voice: string;
  format: string;
  speed: number;
  sse: boolean;
}

function validateSpeech(body: unknown, models: readonly string[]): SpeechRequest {
  if (!isRecord(body)) throw invalid(`Invalid type for body: expected an object, but got ${typeName(body)} instead.`);
  const { model, input, voice, response_format: format = 'mp3', speed = 1, instructions, stream_format: streamFormat = 'audio' } = body;
  if (model === undefined) throw invalid("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  if (typeof model !== 'string') throw invalid(`Invalid type for 'model': expected a string, but got ${typeName(model)} instead.`, 'model', 'invalid_type');
  if (input === undefined) throw invalid("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  if (typeof input !== 'string') throw invalid(`Invalid type for 'input': expected a string, but got ${typeName(input)} instead.`, 'input', 'invalid_type');
  if (input.length === 0) {
    throw invalid("Invalid 'input': empty string. Expected a string with minimum length 1, but got an empty string instead.", 'input', 'empty_string');
  }
  if (input.length > MAX_INPUT_CHARS) {
    throw invalid(
      `Invalid 'input': string too long. Expected a string with maximum length ${MAX_INPUT_CHARS}, but got a string with length ${input.length} instead.`,
      'input',
      'string_above_max_length',
    );
  }
  if (voice === undefined) throw invalid("Missing required parameter: 'voice'.", 'voice', 'missing_required_parameter');
  let voiceName: string;
  if (isRecord(voice)) {
    // A custom voice: `{"id": "voice_..."}`.
    if (typeof voice.id !== 'string' || !voice.id.startsWith('voice_')) {
      throw invalid("Invalid 'voice.id': expected a custom voice id starting with 'voice_'.", 'voice.id', 'invalid_value');
    }
    voiceName = voice.id;
  } else if (typeof voice === 'string' && (OPENAI_SPEECH_VOICES as readonly string[]).includes(voice)) {
    voiceName = voice;
  } else {
    throw invalid(`Invalid value: '${typeof voice === 'string' ? voice : JSON.stringify(voice)}'. Supported values are: ${quoted(OPENAI_SPEECH_VOICES)}.`, 'voice', 'invalid_value');
  }
  if (typeof format !== 'string' || !SPEECH_FORMATS.includes(format)) {
    throw invalid(`Invalid value: '${String(format)}'. Supported values are: ${quoted(SPEECH_FORMATS)}.`, 'response_format', 'invalid_value');
  }
  if (typeof speed !== 'number' || !Number.isFinite(speed)) {
    throw invalid(`Invalid type for 'speed': expected a number, but got ${typeName(speed)} instead.`, 'speed', 'invalid_type');
  }
  if (speed < 0.25) throw invalid(`Invalid 'speed': number below minimum value. Expected a value >= 0.25, but got ${speed} instead.`, 'speed', 'decimal_below_min_value');
  if (speed > 4) throw invalid(`Invalid 'speed': number above maximum value. Expected a value <= 4, but got ${speed} instead.`, 'speed', 'decimal_above_max_value');
  const legacyModel = model === 'tts-1' || model === 'tts-1-hd';
  if (instructions !== undefined) {
    if (typeof instructions !== 'string') {
      throw invalid(`Invalid type for 'instructions': expected a string, but got ${typeName(instructions)} instead.`, 'instructions', 'invalid_type');
    }
    // Style instructions exist only for the gpt-4o TTS models; the fake refuses them elsewhere so that a client
    // sending them to tts-1 is caught (the documented contract, whatever the live API does with them).
    if (legacyModel) throw invalid(`Instructions are not supported for model ${model}.`, 'instructions', 'unsupported_parameter');
  }
  if (streamFormat !== 'audio' && streamFormat !== 'sse') {
    throw invalid(`Invalid value: '${String(streamFormat)}'. Supported values are: 'sse' and 'audio'.`, 'stream_format', 'invalid_value');
  }
  if (streamFormat === 'sse' && legacyModel) {
    throw invalid(`Streaming format 'sse' is not supported for model ${model}.`, 'stream_format', 'unsupported_value');
  }
  if (!models.includes(model)) throw modelNotFound(model);
  if (!EMULATED_SPEECH_FORMATS.includes(format)) throw notEmulated(`response_format '${format}' (only 'pcm' and 'wav' are)`, 'response_format');
  return { model, input, voice: voiceName, format, speed, sse: streamFormat === 'sse' };
}

/** The 44-byte header of a WAV file holding `samples` mono PCM16 samples at 24 kHz (the data follows it). */
function wavHeader(samples: number): Buffer {
  const header = writeWav({ sampleRate: FAKE_SPEECH_SAMPLE_RATE, channels: 1, samples: new Int16Array(0) });
  header.writeUInt32LE(36 + samples * 2, 4);
  header.writeUInt32LE(samples * 2, 40);
  return header;
}

// ---- multipart ---------------------------------------------------------------------------------------------------

export interface MultipartPart {
  name: string;
  filename: string | undefined;
  contentType: string | undefined;
  data: Buffer;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

function cannotParseForm(): RequestError {
  return invalid('Could not parse multipart form', null, null);
}

/** Parses a multipart/form-data body (RFC 7578): parts in any order, quoted or bare boundary and parameters. */
export function parseMultipart(body: Buffer, contentType: string | undefined): MultipartPart[] {
  if (contentType === undefined || !/^multipart\/form-data\s*;/i.test(contentType)) {
    throw invalid(
      `Invalid Content-Type header (${contentType ?? 'none'}), expected multipart/form-data. (HINT: If you're using ` +
        'curl, you can pass -H "Content-Type: multipart/form-data")',
    );
  }
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (boundary === undefined) throw cannotParseForm();
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
  let at = body.indexOf(delimiter);
  if (at < 0) throw cannotParseForm();
  at += delimiter.length;
  const parts: MultipartPart[] = [];
  for (;;) {
    if (body.subarray(at, at + 2).toString('latin1') === '--') return parts;
    // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
    while (body[at] === 0x20 || body[at] === 0x09) at++;
    if (!body.subarray(at, at + 2).equals(CRLF)) throw cannotParseForm();
    at += 2;
    const headersEnd = body.indexOf(HEADER_END, at);
    if (headersEnd < 0) throw cannotParseForm();
    const headers = new Map<string, string>();
    for (const line of body.subarray(at, headersEnd).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const dataStart = headersEnd + HEADER_END.length;
    const dataEnd = body.indexOf(nextDelimiter, dataStart);
    if (dataEnd < 0) throw cannotParseForm();
    const disposition = headers.get('content-disposition') ?? '';
    const name = dispositionParam(disposition, 'name');
    if (!/^form-data\b/i.test(disposition) || name === undefined) throw cannotParseForm();
    parts.push({ name, filename: dispositionParam(disposition, 'filename'), contentType: headers.get('content-type'), data: body.subarray(dataStart, dataEnd) });
    at = dataEnd + nextDelimiter.length;
  }
}

function dispositionParam(disposition: string, param: string): string | undefined {
  const match = new RegExp(`;\\s*${param}="((?:[^"\\\\]|\\\\.)*)"|;\\s*${param}=([^;\\s]+)`, 'i').exec(disposition);
  if (match === null) return undefined;
  return match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2];
}

// ---- transcriptions ------------------------------------------------------------------------------------------------

interface TranscriptionRequest {
  model: string;
  audio: FakeUploadedAudio;
  format: string;
  language: string | undefined;
  prompt: string | undefined;
  stream: boolean;
  wordTimestamps: boolean;
}

const LANGUAGE_NAMES: Readonly<Record<string, string>> = {
  en: 'english', hi: 'hindi', ta: 'tamil', te: 'telugu', es: 'spanish', fr: 'french', de: 'german', ja: 'japanese',
};

function first(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.[0];
}

function decodeUpload(file: MultipartPart): FakeUpload {
  const filename = file.filename ?? '';
  const extension = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase();
  if (extension === undefined || !UPLOAD_EXTENSIONS.includes(extension)) {
    throw invalid(`Invalid file format. Supported formats: ${JSON.stringify(UPLOAD_EXTENSIONS)}`, 'file', 'invalid_value');
  }
  if (extension !== 'wav') throw notEmulated(`an uploaded '.${extension}' file (only WAV is decoded)`, 'file');
  let wav;
  try {
    wav = readWav(file.data);
  } catch (err) {
    if (!(err instanceof WavFormatError)) throw err;
    throw invalid('The audio file could not be decoded or its format is not supported.', 'file', 'invalid_value');
  }
  const frames = wav.samples.length / wav.channels;
  // A real WAV of telephone or wideband speech; anything else means the client built the file wrongly.
  if (wav.sampleRate < 8000 || wav.sampleRate > 48000) {
    throw invalid('The audio file could not be decoded or its format is not supported.', 'file', 'invalid_value');
  }
  const durationSecs = frames / wav.sampleRate;
  if (durationSecs < MIN_AUDIO_SECS) {
    throw invalid(`Audio file is too short. Minimum audio length is ${MIN_AUDIO_SECS} seconds.`, 'file', 'audio_too_short');
  }
  return {
    filename,
    contentType: file.contentType,
    bytes: file.data.length,
    audio: { sampleRate: wav.sampleRate, channels: wav.channels, samples: wav.samples, durationSecs },
  };
}

function validateTranscription(
  fields: Readonly<Record<string, string | readonly string[]>>,
  upload: FakeUpload | undefined,
  models: readonly string[],
): TranscriptionRequest {
  const model = first(fields.model);
  if (upload === undefined) throw invalid("Missing required parameter: 'file'.", 'file', 'missing_required_parameter');
  if (model === undefined || model === '') throw invalid("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  if (!models.includes(model)) throw modelNotFound(model);
  const format = first(fields.response_format) ?? 'json';
  if (!TRANSCRIPTION_FORMATS.includes(format)) {
    throw invalid(`Invalid value: '${format}'. Supported values are: ${quoted(TRANSCRIPTION_FORMATS)}.`, 'response_format', 'invalid_value');
  }
  const isWhisper = model === 'whisper-1';
  if (model.startsWith('gpt-4o') && !model.includes('diarize') && format !== 'json') {
    throw invalid(`response_format '${format}' is not compatible with model '${model}'. Use 'json' instead.`, 'response_format', 'unsupported_value');
  }
  if (format === 'diarized_json') throw notEmulated("response_format 'diarized_json'", 'response_format');
  const language = first(fields.language);
  if (language !== undefined && !/^[a-z]{2}$/.test(language)) {
    throw invalid(`Invalid language '${language}'. Language parameter must be specified in ISO-639-1 format.`, 'language', 'invalid_language_format');
  }
  const temperature = first(fields.temperature);
  if (temperature !== undefined) {
    const value = Number(temperature);
    if (temperature.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
      throw invalid(`Invalid 'temperature': expected a number between 0 and 1, but got '${temperature}' instead.`, 'temperature', 'invalid_value');
    }
  }
  const granularities = fields['timestamp_granularities[]'];
  const wordTimestamps = (typeof granularities === 'string' ? [granularities] : granularities ?? []).includes('word');
  if (granularities !== undefined && format !== 'verbose_json') {
    throw invalid("timestamp_granularities requires response_format 'verbose_json'.", 'timestamp_granularities', 'invalid_value');
  }
  if (upload.audio === undefined) throw invalid('The audio file could not be decoded or its format is not supported.', 'file', 'invalid_value');
  return {
    model,
    audio: upload.audio,
    format,
    language,
    prompt: first(fields.prompt),
    // whisper-1 ignores `stream`.
    stream: !isWhisper && first(fields.stream) === 'true',
    wordTimestamps,
  };
}

function clock(secs: number, separator: ',' | '.'): string {
  const ms = Math.round(secs * 1000);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`;
}

// ---- the server ------------------------------------------------------------------------------------------------------

class FakeAudioServer {
  readonly requests: FakeOpenAIAudioRequest[] = [];
  private readonly speechQueue: FakeSpeechResponse[] = [];
  private readonly transcriptionQueue: FakeTranscriptionResponse[] = [];
  private handler: FakeTranscriptionHandler | undefined;
  private readonly random: () => number;
  private readonly settledPromises = new Map<FakeOpenAIAudioRequest, Promise<FakeOpenAIAudioRequest>>();

  constructor(private readonly options: FakeOpenAIAudioOptions) {
    this.random = createSeededRandom(options.seed ?? 1);
    this.handler = options.transcribe;
  }

  enqueueSpeech(responses: FakeSpeechResponse[]): void {
    this.speechQueue.push(...responses);
  }

  enqueueTranscriptions(responses: FakeTranscriptionResponse[]): void {
    this.transcriptionQueue.push(...responses);
  }

  transcribeWith(handler: FakeTranscriptionHandler): void {
    this.handler = handler;
  }

  settled(index?: number): Promise<FakeOpenAIAudioRequest> {
    const record = this.requests[index ?? this.requests.length - 1];
    if (record === undefined) return Promise.reject(new RangeError(`no request ${String(index ?? 'yet')}`));
    return this.settledPromises.get(record) ?? Promise.resolve(record);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = requestPath(req);
    const authorization = req.headers.authorization;
    const key = bearerKey(authorization);
    const keyValid = isAcceptedKey(key, this.options);
    const record: FakeOpenAIAudioRequest = {
      method: req.method ?? 'GET',
      path,
      headers: recordHeaders(req),
      auth: { present: authorization !== undefined, valid: keyValid },
      bytesSent: 0,
      writes: [],
    };
    this.requests.push(record);
    this.settledPromises.set(
      record,
      new Promise((resolve) => {
        res.once('close', () => {
          record.outcome ??= res.writableFinished ? 'completed' : 'client-closed';
          resolve(record);
        });
      }),
    );

    const raw = await readBody(req);
    try {
      if (req.method !== 'POST' || (path !== '/v1/audio/speech' && path !== '/v1/audio/transcriptions')) throw invalidURL(req.method, path);
      if (path === '/v1/audio/speech') {
        // An empty body is no more JSON here than any other text.
        const { body, parsed } = parseJSONBody(raw, false);
        Object.assign(record, { body });
        checkKey(key, keyValid);
        if (!parsed) {
          throw invalid(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP " +
              'library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)',
          );
        }
        const speech = validateSpeech(body, this.options.speechModels ?? OPENAI_SPEECH_MODELS);
        const response = this.speechQueue.shift() ?? {};
        if ('error' in response) throw scriptedError(response, speech.model, key);
        await this.speak(speech, response, record, res);
      } else {
        checkKey(key, keyValid);
        if (raw.length > MAX_UPLOAD_BYTES) {
          throw new RequestError(413, {
            error: {
              message: `Maximum content size limit (${MAX_UPLOAD_BYTES}) exceeded (${raw.length} bytes read)`,
              type: 'server_error',
              param: null,
              code: null,
            },
          });
        }
        const parts = parseMultipart(raw, req.headers['content-type']);
        const fields: Record<string, string | string[]> = {};
        let file: MultipartPart | undefined;
        for (const part of parts) {
          if (part.name === 'file' && part.filename !== undefined) {
            file = part;
            continue;
          }
          const value = part.data.toString('utf8');
          const seen = fields[part.name];
          fields[part.name] = seen === undefined ? value : [...(typeof seen === 'string' ? [seen] : seen), value];
        }
        const upload = file === undefined ? undefined : decodeUpload(file);
        Object.assign(record, { fields, upload });
        const request = validateTranscription(fields, upload, this.options.transcriptionModels ?? OPENAI_TRANSCRIPTION_MODELS);
        await this.transcribe(request, key, record, res);
      }
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      record.status = err.status;
      sendOpenAIError(res, err, this.random);
    }
  }

  /** Cuts the connection without finishing the response. */
  private drop(record: FakeOpenAIAudioRequest, res: ServerResponse): void {
    record.outcome = 'dropped';
    res.socket?.destroy();
  }

  private async speak(speech: SpeechRequest, response: FakeSpeechResponse, record: FakeOpenAIAudioRequest, res: ServerResponse): Promise<void> {
    if ('drop' in response && response.afterBytes === undefined) {
      this.drop(record, res);
      return;
    }
    if ('firstByteDelayMs' in response && response.firstByteDelayMs !== undefined) await pause(response.firstByteDelayMs);
    const samples = fakeSpeechSamples(speech.input, { msPerCharacter: this.options.msPerCharacter, speed: speech.speed, voice: speech.voice });
    const pcm = int16ToBytes(samples);
    record.status = 200;
    if (speech.sse) {
      await this.speakSSE(speech, pcm, record, res);
      return;
    }
    const body = speech.format === 'wav' ? Buffer.concat([wavHeader(samples.length), pcm]) : pcm;
    res.writeHead(200, {
      'Content-Type': speech.format === 'wav' ? 'audio/wav' : 'audio/pcm',
      ...openAIHeaders(this.random),
    });
    res.flushHeaders();
    const limit = 'stall' in response || 'drop' in response ? Math.min(response.afterBytes ?? 0, body.length) : body.length;
    const mean = Math.max(1, this.options.chunkBytes ?? 4801);
    for (let at = 0; at < limit; ) {
      // Odd sizes only: every write boundary after the first falls inside a sample.
      const size = Math.min(limit - at, 2 * Math.floor((mean * (0.5 + this.random())) / 2) + 1);
      if (isClosed(res)) return;
      res.write(body.subarray(at, at + size));
      at += size;
      record.bytesSent = at;
      record.writes.push(size);
      await pause(this.options.chunkDelayMs ?? 2);
    }
    if (isClosed(res)) return;
    if ('drop' in response) {
      this.drop(record, res);
      return;
    }
    if ('stall' in response) {
      await untilClosed(res);
      return;
    }
    res.end();
  }

  /** `stream_format: "sse"`: base64 audio deltas, then a done event with token usage. */
  private async speakSSE(speech: SpeechRequest, pcm: Buffer, record: FakeOpenAIAudioRequest, res: ServerResponse): Promise<void> {
    const writer = new SSEWriter(res, { random: this.random, eventDelayMs: this.options.chunkDelayMs ?? 2 });
    writer.open(openAIHeaders(this.random), 'text/event-stream; charset=utf-8');
    // Deltas carry whole samples (an even number of bytes).
    const step = 2 * Math.max(1, Math.floor((this.options.chunkBytes ?? 4801) / 2));
    for (let at = 0; at < pcm.length; at += step) {
      const piece = pcm.subarray(at, at + step);
      if (!(await writer.send({ data: { type: 'speech.audio.delta', audio: piece.toString('base64') } }))) return;
      record.bytesSent = at + piece.length;
    }
    const inputTokens = Math.max(1, Math.ceil(speech.input.length / 4));
    const outputTokens = Math.ceil(pcm.length / 2 / 400);
    const usage = { input_tokens: inputTokens, output_tokens: outputTokens, total_tokens: inputTokens + outputTokens };
    if (!(await writer.send({ data: { type: 'speech.audio.done', usage } }))) return;
    writer.end();
  }

  private async transcribe(request: TranscriptionRequest, key: string, record: FakeOpenAIAudioRequest, res: ServerResponse): Promise<void> {
    const input: FakeTranscriptionInput = { audio: request.audio, model: request.model, language: request.language, prompt: request.prompt, request: record };
    const response =
      this.transcriptionQueue.shift() ??
      (await this.handler?.(input)) ??
      `fake transcript of ${request.audio.durationSecs.toFixed(2)} seconds of audio`;
    if (typeof response !== 'string') {
      if ('error' in response) throw scriptedError(response, request.model, key);
      if ('drop' in response) {
        this.drop(record, res);
        return;
      }
      if ('stall' in response) {
        await untilClosed(res);
        return;
      }
      if (response.delayMs !== undefined) await pause(response.delayMs);
    }
    const text = typeof response === 'string' ? response : response.text;
    if (isClosed(res)) return;
    record.status = 200;
    const duration = request.audio.durationSecs;
    const usage =
      request.model === 'whisper-1'
        ? { type: 'duration', seconds: Math.ceil(duration) }
        : {
            type: 'tokens',
            input_tokens: Math.ceil(duration * 10),
            output_tokens: Math.max(1, Math.ceil(text.length / 4)),
            total_tokens: Math.ceil(duration * 10) + Math.max(1, Math.ceil(text.length / 4)),
            input_token_details: { text_tokens: 0, audio_tokens: Math.ceil(duration * 10) },
          };
    if (request.stream) {
      const writer = new SSEWriter(res, { random: this.random, eventDelayMs: this.options.chunkDelayMs ?? 2 });
      writer.open(openAIHeaders(this.random), 'text/event-stream; charset=utf-8');
      for (const delta of text.match(/\s*\S+/g) ?? []) {
        if (!(await writer.send({ data: { type: 'transcript.text.delta', delta } }))) return;
      }
      if (!(await writer.send({ data: { type: 'transcript.text.done', text, usage } }))) return;
      writer.end();
      return;
    }
    const headers = openAIHeaders(this.random);
    switch (request.format) {
      case 'text':
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
        res.end(`${text}\n`);
        return;
      case 'srt':
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
        res.end(`1\n${clock(0, ',')} --> ${clock(duration, ',')}\n${text}\n\n`);
        return;
      case 'vtt':
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
        res.end(`WEBVTT\n\n${clock(0, '.')} --> ${clock(duration, '.')}\n${text}\n\n`);
        return;
      case 'verbose_json': {
        const words = text.split(/\s+/).filter((w) => w !== '');
        const per = words.length === 0 ? 0 : duration / words.length;
        const body: Record<string, unknown> = {
          task: 'transcribe',
          language: LANGUAGE_NAMES[request.language ?? 'en'] ?? request.language ?? 'english',
          duration,
          text,
          segments: [
            {
              id: 0, seek: 0, start: 0, end: duration, text: ` ${text}`, tokens: [], temperature: 0,
              avg_logprob: -0.2, compression_ratio: 1, no_speech_prob: 0.01,
            },
          ],
          usage,
        };
        if (request.wordTimestamps) {
          body.words = words.map((word, i) => ({ word, start: Number((i * per).toFixed(3)), end: Number(((i + 1) * per).toFixed(3)) }));
        }
        sendJSON(res, 200, body, headers);
        return;
      }
      default:
        sendJSON(res, 200, { text, usage }, headers);
    }
  }
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeOpenAIAudio(options: FakeOpenAIAudioOptions = {}): Promise<FakeOpenAIAudio> {
  const fake = new FakeAudioServer(options);
  const { port, close } = await startFakeHttpServer((req, res) => fake.handle(req, res), sendFakeFailure);
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    port,
    requests: fake.requests,
    enqueueSpeech: (...responses) => fake.enqueueSpeech(responses),
    enqueueTranscriptions: (...responses) => fake.enqueueTranscriptions(responses),
    scriptTranscripts: (texts) => fake.enqueueTranscriptions([...texts]),
    transcribeWith: (handler) => fake.transcribeWith(handler),
    settled: (index) => fake.settled(index),
    close,
  };
}
