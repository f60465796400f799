// GroqSTTService: Whisper on Groq through its OpenAI-compatible `POST /openai/v1/audio/transcriptions` — the OpenAI
// STT client with Groq's base URL, models and key variable (a preset, not a copy). What differs from OpenAI, as
// Groq documents it (docs/vendors/groq.md): only the Whisper models (a `gpt-4o-*-transcribe` name is a 404), an
// answer carrying an `x_groq` object beside `text`, and every request billed as at least 10 s of audio — which
// matters for short phone turns, and is why the usage metric stays the audio actually sent.
import { OpenAISTTService, type OpenAISTTProvider, type OpenAISTTServiceOptions } from './stt.js';

export const GROQ_STT_PROVIDER: OpenAISTTProvider = {
  vendor: 'Groq',
  baseURL: 'https://api.groq.com/openai/v1',
  defaultModel: 'whisper-large-v3-turbo',
  apiKeyEnv: 'GROQ_API_KEY',
};

export type GroqSTTModel = 'whisper-large-v3-turbo' | 'whisper-large-v3';

export interface GroqSTTServiceOptions extends Omit<OpenAISTTServiceOptions, 'model'> {
  /** Default 'whisper-large-v3-turbo' (fastest, cheapest); 'whisper-large-v3' is the more accurate. */
  model?: GroqSTTModel | (string & {});
}

export class GroqSTTService extends OpenAISTTService {
  constructor(options: GroqSTTServiceOptions) {
    super(options, GROQ_STT_PROVIDER);
  }
}
