// OpenAISTTService: OpenAI speech-to-text (`POST /audio/transcriptions`), one request per caller turn: the audio
// from VAD start (with the base's pre-roll) to VAD stop is wrapped in a WAV file and uploaded as multipart form
// data; the answer is the turn's final transcript.
//
// Through the official `openai` SDK rather than bare `fetch`: it builds the multipart body (boundary, filename,
// content type) and gives the same typed errors as the LLM and TTS services, mapped by one function (errors.ts)
// that also strips echoed keys. The client is built with `maxRetries: 0`: retrying is the framework's decision.
import { OpenAI, toFile } from 'openai';
import type { TranscriptionCreateParamsNonStreaming } from 'openai/resources/audio/transcriptions';
import { writeWav } from '../../audio/index.js';
import { SegmentedSTTService, type SegmentedSTTServiceOptions, type SegmentedTranscript } from '../base/index.js';
import { requireApiKey } from '../base/vendor-errors.js';
import { toServiceError } from './errors.js';

/** Who answers `/audio/transcriptions`: OpenAI, or a compatible vendor (its name in errors, URL, model, key variable). */
export interface OpenAISTTProvider {
  readonly vendor: string;
  readonly baseURL: string;
  readonly defaultModel: string;
  /** The environment variable named when the key is missing. */
  readonly apiKeyEnv: string;
}

export const OPENAI_STT_PROVIDER: OpenAISTTProvider = {
  vendor: 'OpenAI',
  baseURL: 'https://api.openai.com/v1',
  defaultModel: 'gpt-4o-mini-transcribe',
  apiKeyEnv: 'OPENAI_API_KEY',
};

const DEFAULT_TIMEOUT_MS = 15_000;
/** The API refuses shorter files ("Audio file is too short"); such a turn is a click, not speech. */
const MIN_AUDIO_SECS = 0.1;

export type OpenAISTTModel = 'gpt-4o-mini-transcribe' | 'gpt-4o-transcribe' | 'whisper-1';

export interface OpenAISTTServiceOptions extends Omit<SegmentedSTTServiceOptions, 'model' | 'sampleRate'> {
  apiKey: string;
  /** Default 'gpt-4o-mini-transcribe' (fast and cheap); 'gpt-4o-transcribe' is more accurate; 'whisper-1' also works. */
  model?: OpenAISTTModel | (string & {});
  /** ISO-639-1 code of the caller's language ('en', 'hi', ...); improves accuracy and latency. Also put on transcripts. */
  language?: string;
  /** Text to steer recognition: names, product words, the style of the expected answer. */
  prompt?: string;
  /** 0 to 1; the API's default when not set. */
  temperature?: number;
  /** Default: the provider's ('https://api.openai.com/v1' for OpenAI). */
  baseURL?: string;
  /** Rate of the uploaded audio. Default 16000 (8 kHz phone audio is resampled up). */
  sampleRate?: number;
  /** Longest wait for the transcript. Default 15 s. */
  timeoutMs?: number;
}

export class OpenAISTTService extends SegmentedSTTService {
  override readonly model: string;
  readonly language: string | undefined;
  readonly prompt: string | undefined;
  readonly temperature: number | undefined;
  private readonly client: OpenAI;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly vendor: string;

  constructor(options: OpenAISTTServiceOptions, provider: OpenAISTTProvider = OPENAI_STT_PROVIDER) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, provider.apiKeyEnv);
    if (options.temperature !== undefined && !(options.temperature >= 0 && options.temperature <= 1)) {
      throw new RangeError(`${new.target.name}: temperature must be between 0 and 1, got ${options.temperature}`);
    }
    const model = options.model ?? provider.defaultModel;
    super({ ...options, model, sampleRate: options.sampleRate ?? 16000 });
    this.model = model;
    this.language = options.language;
    this.prompt = options.prompt;
    this.temperature = options.temperature;
    this.apiKey = apiKey;
    this.vendor = provider.vendor;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // The deadline is this service's own timer on the call's clock (below), so simulated time drives it like every
    // other timer; the SDK's is a backstop a little later.
    this.client = new OpenAI({
      apiKey,
      baseURL: options.baseURL ?? provider.baseURL,
      maxRetries: 0,
      timeout: this.timeoutMs + 1000,
    });
  }

  protected override async transcribe(audio: Int16Array, sampleRate: number): Promise<string | SegmentedTranscript> {
    if (audio.length < sampleRate * MIN_AUDIO_SECS) return '';
    const file = await toFile(writeWav({ sampleRate, channels: 1, samples: audio }), 'audio.wav', { type: 'audio/wav' });
    const body: TranscriptionCreateParamsNonStreaming<'json'> = { file, model: this.model, response_format: 'json' };
    if (this.language !== undefined) body.language = this.language;
    if (this.prompt !== undefined) body.prompt = this.prompt;
    if (this.temperature !== undefined) body.temperature = this.temperature;
    const result = await this.withDeadline(this.vendor, this.timeoutMs, (signal) =>
      this.client.audio.transcriptions.create(body, { signal }).catch((err: unknown) => {
        if (signal.aborted) throw err;
        throw toServiceError(this.vendor, err, this.apiKey);
      }),
    );
    // Aborted by cleanup (undefined): the call is over and nobody is waiting for this turn.
    const text = result?.text.trim() ?? '';
    return this.language === undefined ? text : { text, language: this.language };
  }
}
