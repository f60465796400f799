// OpenAI-compatible speech APIs: OpenAITTSService with another provider. Facts and sources: docs/vendors/groq-tts.md.
import { OpenAITTSService, type OpenAISpeechProvider, type OpenAITTSServiceOptions } from './tts.js';

/** The rates Groq's `sample_rate` takes. */
export const GROQ_TTS_SAMPLE_RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000] as const;

export const GROQ_SPEECH_PROVIDER: OpenAISpeechProvider = {
  vendor: 'Groq',
  baseURL: 'https://api.groq.com/openai/v1',
  apiKeyEnv: 'GROQ_API_KEY',
  defaultModel: 'canopylabs/orpheus-v1-english',
  defaultVoice: 'autumn',
  // Groq has no `pcm`: its formats are flac, mp3, mulaw, ogg and wav. WAV at the call's rate is PCM16 behind a header.
  format: 'wav',
  sampleRates: GROQ_TTS_SAMPLE_RATES,
  // Orpheus on Groq takes short inputs (200 characters, as we read its docs); splitting at sentence or word
  // boundaries below that is harmless if the limit is higher.
  maxInputChars: 200,
  instructions: false,
};

export type GroqTTSServiceOptions = Omit<OpenAITTSServiceOptions, 'instructions' | 'sampleRate'> & {
  /** A fixed output rate; by default the call's output rate (8 kHz on a phone line). */
  sampleRate?: (typeof GROQ_TTS_SAMPLE_RATES)[number];
};

/**
 * Groq's speech API (Canopy Labs' Orpheus): `model` 'canopylabs/orpheus-v1-english' (default; voices autumn, diana,
 * hannah, austin, daniel, troy) or 'canopylabs/orpheus-arabic-saudi' (abdullah, fahad, sultan, lulwa, noura, aisha).
 */
export class GroqTTSService extends OpenAITTSService {
  constructor(options: GroqTTSServiceOptions) {
    super(options, GROQ_SPEECH_PROVIDER);
  }
}
