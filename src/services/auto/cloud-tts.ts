// The cloud-platform TTS vendors `servicesFromEnvironment` can pick (after the ones in index.ts): each from its usual
// environment variables, imported only when chosen.
//
//   AZURE_SPEECH_KEY + AZURE_SPEECH_REGION (+ optional AZURE_SPEECH_VOICE) -> Azure Speech,
//   GOOGLE_TTS_API_KEY (+ optional GOOGLE_TTS_VOICE) -> Google Cloud Text-to-Speech (GOOGLE_API_KEY is Gemini's: an AI
//   Studio key does not open Cloud TTS), GROQ_API_KEY (+ optional GROQ_TTS_VOICE, default 'autumn') -> Groq (Orpheus),
//   AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) + AWS_REGION (or AWS_DEFAULT_REGION) (+ optional
//   POLLY_VOICE, default 'Kajal') -> Amazon Polly, GRADIUM_API_KEY (+ optional GRADIUM_VOICE, a voice_id) -> Gradium
//   (checked before GROQ_API_KEY: a Gradium key is asked for speech alone, a Groq key may be there for the LLM),
//   NEUPHONIC_API_KEY (+ optional NEUPHONIC_VOICE, a voice_id; NEUPHONIC_LANGUAGE, default 'en') -> Neuphonic (also
//   before GROQ_API_KEY, for the same reason), SPEECHMATICS_API_KEY (+ optional SPEECHMATICS_TTS_VOICE, default 'sarah')
//   -> Speechmatics' preview TTS (after the others: that key may be there for speech-to-text alone, and the voices
//   are English), PIPER_URL (+ optional PIPER_VOICE, PIPER_SAMPLE_RATE) -> a Piper HTTP server (a local voice, the
//   last choice before the offline Flite)
import type { TTSService } from '../base/tts-service.js';

type Env = Readonly<Record<string, string | undefined>>;
type KeyReader = (name: string) => string | undefined;

export type CloudTTSChoice = 'azure' | 'google' | 'gradium' | 'neuphonic' | 'groq' | 'polly' | 'speechmatics' | 'piper';

const awsRegion = (key: KeyReader): string | undefined => key('AWS_REGION') ?? key('AWS_DEFAULT_REGION');

/** The first cloud TTS whose variables are all set, or undefined. */
export function chooseCloudTTS(key: KeyReader): CloudTTSChoice | undefined {
  if (key('AZURE_SPEECH_KEY') !== undefined && key('AZURE_SPEECH_REGION') !== undefined) return 'azure';
  if (key('GOOGLE_TTS_API_KEY') !== undefined) return 'google';
  if (key('GRADIUM_API_KEY') !== undefined) return 'gradium';
  if (key('NEUPHONIC_API_KEY') !== undefined) return 'neuphonic';
  if (key('GROQ_API_KEY') !== undefined) return 'groq';
  if (key('AWS_ACCESS_KEY_ID') !== undefined && key('AWS_SECRET_ACCESS_KEY') !== undefined && awsRegion(key) !== undefined) return 'polly';
  if (key('SPEECHMATICS_API_KEY') !== undefined) return 'speechmatics';
  if (key('PIPER_URL') !== undefined) return 'piper';
  return undefined;
}

/** The chosen service and its name for `chosen`. */
export async function makeCloudTTS(choice: CloudTTSChoice, key: KeyReader, env: Env): Promise<{ tts: TTSService; label: string }> {
  switch (choice) {
    case 'azure': {
      const { AzureTTSService } = await import('../azure/index.js');
      const voice = env.AZURE_SPEECH_VOICE?.trim() || undefined;
      return { tts: new AzureTTSService({ apiKey: key('AZURE_SPEECH_KEY')!, region: key('AZURE_SPEECH_REGION')!, ...(voice ? { voice } : {}) }), label: 'Azure Speech' };
    }
    case 'google': {
      const { GoogleTTSService } = await import('../google/index.js');
      const voice = env.GOOGLE_TTS_VOICE?.trim() || undefined;
      return { tts: new GoogleTTSService({ apiKey: key('GOOGLE_TTS_API_KEY')!, ...(voice ? { voice } : {}) }), label: 'Google Cloud TTS' };
    }
    case 'gradium': {
      const { GradiumTTSService } = await import('../gradium/index.js');
      const voice = env.GRADIUM_VOICE?.trim() || undefined;
      return { tts: new GradiumTTSService({ apiKey: key('GRADIUM_API_KEY')!, ...(voice ? { voice } : {}) }), label: 'Gradium' };
    }
    case 'neuphonic': {
      const { NeuphonicTTSService } = await import('../neuphonic/index.js');
      const voice = env.NEUPHONIC_VOICE?.trim() || undefined;
      const language = env.NEUPHONIC_LANGUAGE?.trim() || undefined;
      return { tts: new NeuphonicTTSService({ apiKey: key('NEUPHONIC_API_KEY')!, ...(voice ? { voice } : {}), ...(language ? { language } : {}) }), label: 'Neuphonic' };
    }
    case 'groq': {
      const { GroqTTSService } = await import('../openai/index.js');
      const voice = env.GROQ_TTS_VOICE?.trim() || undefined;
      return { tts: new GroqTTSService({ apiKey: key('GROQ_API_KEY')!, ...(voice ? { voice } : {}) }), label: 'Groq' };
    }
    case 'polly': {
      const { PollyTTSService } = await import('../aws/index.js');
      const voice = env.POLLY_VOICE?.trim() || undefined;
      const sessionToken = key('AWS_SESSION_TOKEN');
      const credentials = { accessKeyId: key('AWS_ACCESS_KEY_ID')!, secretAccessKey: key('AWS_SECRET_ACCESS_KEY')!, ...(sessionToken ? { sessionToken } : {}) };
      return { tts: new PollyTTSService({ credentials, region: awsRegion(key)!, ...(voice ? { voice } : {}) }), label: 'Amazon Polly' };
    }
    case 'speechmatics': {
      const { SpeechmaticsTTSService } = await import('../speechmatics/index.js');
      const voice = env.SPEECHMATICS_TTS_VOICE?.trim() || undefined;
      return { tts: new SpeechmaticsTTSService({ apiKey: key('SPEECHMATICS_API_KEY')!, ...(voice ? { voice } : {}) }), label: 'Speechmatics TTS' };
    }
    case 'piper': {
      const { PiperHttpTTSService } = await import('../piper/index.js');
      const voice = env.PIPER_VOICE?.trim() || undefined;
      const rate = env.PIPER_SAMPLE_RATE?.trim();
      const sampleRate = rate ? Number(rate) : undefined;
      return { tts: new PiperHttpTTSService({ baseUrl: key('PIPER_URL')!, ...(voice ? { voice } : {}), ...(sampleRate === undefined ? {} : { sampleRate }) }), label: 'Piper (HTTP server)' };
    }
  }
}
