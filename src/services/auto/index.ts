// `piopiy-ai/services/auto`: STT, LLM and TTS chosen from the environment — the real vendor when its key is
// set, the offline engine otherwise — so one agent file runs on a laptop with no keys and in production alike.
// Vendors are imported only when chosen: an offline run loads no vendor client.
//
//   STT: DEEPGRAM_API_KEY (+ optional DEEPGRAM_STT_MODEL; a flux-* model: Flux) -> Deepgram, else OPENAI_API_KEY ->
//        OpenAI transcriptions, else SARVAM_API_KEY (+ optional SARVAM_LANGUAGE such as hi-IN; SARVAM_STT_MODE=streaming
//        for the streaming socket, default one REST request per turn) -> Sarvam, ASSEMBLYAI_API_KEY (+ optional
//        ASSEMBLYAI_MODEL) -> AssemblyAI, SPEECHMATICS_API_KEY (+ optional SPEECHMATICS_LANGUAGE such as hi) ->
//        Speechmatics, SONIOX_API_KEY (+ optional SONIOX_LANGUAGE, a hint such as hi) -> Soniox, GLADIA_API_KEY
//        (+ optional GLADIA_LANGUAGE such as hi) -> Gladia, CARTESIA_API_KEY (+ optional CARTESIA_STT_LANGUAGE such as
//        hi) -> Cartesia Ink, else GROQ_API_KEY -> Groq Whisper, else ELEVENLABS_API_KEY (+ optional
//        ELEVENLABS_STT_LANGUAGE; ELEVENLABS_STT_MODE=realtime for Scribe realtime, default one REST request per turn)
//        -> ElevenLabs Scribe, else AZURE_SPEECH_KEY + AZURE_SPEECH_REGION (+ optional AZURE_SPEECH_LANGUAGE) -> Azure
//        Speech, else GOOGLE_SPEECH_API_KEY (+ optional GOOGLE_SPEECH_LANGUAGE) -> Google Cloud Speech, else the AWS
//        keys and region (aws-env.ts; + optional TRANSCRIBE_LANGUAGE, default en-IN) -> Amazon Transcribe, else
//        Pocketsphinx (offline)
//   LLM: OPENAI_API_KEY -> OpenAI, ANTHROPIC_API_KEY -> Anthropic, GOOGLE_API_KEY -> Gemini, AZURE_OPENAI_API_KEY
//        (+ AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_DEPLOYMENT) -> Azure OpenAI, then the OpenAI-compatible presets by their
//        key (GROQ_API_KEY, MISTRAL_API_KEY, XAI_API_KEY, CEREBRAS_API_KEY, FIREWORKS_API_KEY, SAMBANOVA_API_KEY,
//        PERPLEXITY_API_KEY, DASHSCOPE_API_KEY, NVIDIA_API_KEY, HF_TOKEN, TOGETHER_API_KEY, OPENROUTER_API_KEY,
//        DEEPSEEK_API_KEY), else the AWS keys and region (aws-env.ts) + BEDROCK_MODEL -> Amazon Bedrock (the model
//        is asked for: which ones an account may call is its own setting), else LLAMA_MODEL_PATH (a GGUF file) ->
//        llama.cpp in-process (LlamaCppLLMService; needs the optional node-llama-cpp), else the ScriptedLLMService
//        rules you pass (offline, deterministic)
//   TTS: CARTESIA_API_KEY (+ optional CARTESIA_VOICE_ID) -> Cartesia, ELEVENLABS_API_KEY (+ ELEVENLABS_VOICE_ID) ->
//        ElevenLabs, DEEPGRAM_API_KEY -> Deepgram Aura, OPENAI_API_KEY -> OpenAI TTS, SARVAM_API_KEY (+ SARVAM_LANGUAGE,
//        SARVAM_SPEAKER) -> Sarvam Bulbul, RIME_API_KEY (+ optional RIME_SPEAKER,
//        default 'astra') -> Rime, LMNT_API_KEY (+ optional LMNT_VOICE, default 'leah') -> LMNT,
//        INWORLD_API_KEY (+ optional INWORLD_VOICE, default 'Ashley') -> Inworld, FISH_API_KEY (+ optional
//        FISH_VOICE, a voice model id) -> Fish Audio, HUME_API_KEY + HUME_VOICE -> Hume,
//        MINIMAX_API_KEY (+ optional MINIMAX_GROUP_ID, MINIMAX_VOICE, default 'Wise_Woman') -> MiniMax, then the cloud platforms'
//        (cloud-tts.ts: Azure Speech, Google Cloud TTS, Gradium, Neuphonic, Groq, Amazon Polly,
//        Speechmatics, a Piper HTTP server at PIPER_URL), else Flite (offline)
// PIOPIY_OFFLINE=1 forces the offline engines even when keys are set.
import type { LLMService } from '../base/llm-service.js';
import type { STTService } from '../base/stt-service.js';
import type { TTSService } from '../base/tts-service.js';
import type { ScriptedRule } from '../scripted/scripted-llm.js';
import { awsFromEnvironment } from './aws-env.js';
import { chooseCloudTTS, makeCloudTTS, type CloudTTSChoice } from './cloud-tts.js';

export interface AutoServicesOptions {
  /** Rules of the offline ScriptedLLMService (used when no LLM key is set). */
  rules: readonly ScriptedRule[];
  /** Said by the scripted LLM when no rule matches. */
  fallback?: string;
  /**
   * What callers of this agent say (e.g. a `demoScenario`'s lines): with the rules' `examples`, the offline STT
   * (Pocketsphinx) builds a domain language model from them. When neither is given it uses its general model.
   */
  phrases?: readonly string[];
  /** Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface AutoServices {
  stt: STTService;
  llm: LLMService;
  tts: TTSService;
  /** What was chosen, e.g. ['stt: Pocketsphinx (offline)', ...], for a progress line. */
  chosen: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** A key from the environment, or undefined when unset, blank, or PIOPIY_OFFLINE=1. */
function keyReader(env: Env): (name: string) => string | undefined {
  const offline = env.PIOPIY_OFFLINE === '1';
  return (name) => (offline ? undefined : env[name]?.trim() || undefined);
}

type STTChoice =
  | 'deepgram'
  | 'openai'
  | 'sarvam'
  | 'assemblyai'
  | 'speechmatics'
  | 'soniox'
  | 'gladia'
  | 'cartesia'
  | 'groq'
  | 'elevenlabs'
  | 'azure'
  | 'google'
  | 'transcribe'
  | 'pocketsphinx';
type TTSChoice = 'cartesia' | 'elevenlabs' | 'deepgram' | 'openai' | 'sarvam' | 'rime' | 'lmnt' | 'inworld' | 'fish' | 'hume' | 'minimax' | CloudTTSChoice | 'flite';

function chooseSTT(env: Env): STTChoice {
  const key = keyReader(env);
  if (key('DEEPGRAM_API_KEY') !== undefined) return 'deepgram';
  if (key('OPENAI_API_KEY') !== undefined) return 'openai';
  if (key('SARVAM_API_KEY') !== undefined) return 'sarvam';
  if (key('ASSEMBLYAI_API_KEY') !== undefined) return 'assemblyai';
  if (key('SPEECHMATICS_API_KEY') !== undefined) return 'speechmatics';
  if (key('SONIOX_API_KEY') !== undefined) return 'soniox';
  if (key('GLADIA_API_KEY') !== undefined) return 'gladia';
  if (key('CARTESIA_API_KEY') !== undefined) return 'cartesia';
  if (key('GROQ_API_KEY') !== undefined) return 'groq';
  if (key('ELEVENLABS_API_KEY') !== undefined) return 'elevenlabs';
  if (key('AZURE_SPEECH_KEY') !== undefined && key('AZURE_SPEECH_REGION') !== undefined) return 'azure';
  if (key('GOOGLE_SPEECH_API_KEY') !== undefined) return 'google';
  if (awsFromEnvironment(key) !== undefined) return 'transcribe';
  return 'pocketsphinx';
}

function chooseTTS(env: Env): TTSChoice {
  const key = keyReader(env);
  if (key('CARTESIA_API_KEY') !== undefined) return 'cartesia';
  if (key('ELEVENLABS_API_KEY') !== undefined && env.ELEVENLABS_VOICE_ID !== undefined) return 'elevenlabs';
  if (key('DEEPGRAM_API_KEY') !== undefined) return 'deepgram';
  if (key('OPENAI_API_KEY') !== undefined) return 'openai';
  if (key('SARVAM_API_KEY') !== undefined) return 'sarvam';
  if (key('RIME_API_KEY') !== undefined) return 'rime';
  if (key('LMNT_API_KEY') !== undefined) return 'lmnt';
  if (key('INWORLD_API_KEY') !== undefined) return 'inworld';
  if (key('FISH_API_KEY') !== undefined) return 'fish';
  // Hume has no default voice to rely on (instant mode needs one): chosen only with HUME_VOICE.
  if (key('HUME_API_KEY') !== undefined && env.HUME_VOICE?.trim()) return 'hume';
  if (key('MINIMAX_API_KEY') !== undefined) return 'minimax';
  return chooseCloudTTS(key) ?? 'flite';
}

/** The OpenAI-compatible presets: key variable, name in `chosen`, class; tried in this order. */
const PRESETS = [
  ['GROQ_API_KEY', 'Groq', 'GroqLLMService'],
  ['MISTRAL_API_KEY', 'Mistral', 'MistralLLMService'],
  ['XAI_API_KEY', 'xAI Grok', 'XAILLMService'],
  ['CEREBRAS_API_KEY', 'Cerebras', 'CerebrasLLMService'],
  ['FIREWORKS_API_KEY', 'Fireworks', 'FireworksLLMService'],
  ['SAMBANOVA_API_KEY', 'SambaNova', 'SambaNovaLLMService'],
  ['PERPLEXITY_API_KEY', 'Perplexity', 'PerplexityLLMService'],
  ['DASHSCOPE_API_KEY', 'Qwen', 'QwenLLMService'],
  ['NVIDIA_API_KEY', 'NVIDIA NIM', 'NvidiaLLMService'],
  ['HF_TOKEN', 'Hugging Face', 'HuggingFaceLLMService'],
  ['TOGETHER_API_KEY', 'Together', 'TogetherLLMService'],
  ['OPENROUTER_API_KEY', 'OpenRouter', 'OpenRouterLLMService'],
  ['DEEPSEEK_API_KEY', 'DeepSeek', 'DeepSeekLLMService'],
] as const;

/**
 * LLAMA_MODEL_PATH, a GGUF file run in-process (LlamaCppLLMService), when no cloud LLM's key is set. A local model
 * needs no network, so PIOPIY_OFFLINE=1 does not hide it (it hides the cloud keys instead).
 */
function localModelPath(env: Env): string | undefined {
  const path = env.LLAMA_MODEL_PATH?.trim();
  if (!path) return undefined;
  const key = keyReader(env);
  const cloud =
    ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GOOGLE_API_KEY'].some((name) => key(name) !== undefined) ||
    (key('AZURE_OPENAI_API_KEY') !== undefined && key('AZURE_OPENAI_ENDPOINT') !== undefined && key('AZURE_OPENAI_DEPLOYMENT') !== undefined) ||
    PRESETS.some(([variable]) => key(variable) !== undefined) ||
    (key('BEDROCK_MODEL') !== undefined && awsFromEnvironment(key) !== undefined);
  return cloud ? undefined : path;
}

/** The example phrases of the rules and the options, for the offline STT's domain model. */
function offlinePhrases(options: Pick<AutoServicesOptions, 'rules' | 'phrases'>): string[] {
  return [...options.rules.flatMap((rule) => rule.examples ?? []), ...(options.phrases ?? [])];
}

/** The Flite voice of the offline TTS. */
const OFFLINE_VOICE = 'slt';

/**
 * Loads the offline engines `servicesFromEnvironment` will choose with this environment (Pocketsphinx, Flite)
 * once for the process, so the first caller does not wait for them: pass it as the Agent's `prewarm`. Vendor
 * services need no warm-up (their connections belong to each call), so with every key set it does nothing.
 */
export async function prewarmServicesFromEnvironment(
  env: Env = process.env,
  /** The rules and phrases `servicesFromEnvironment` will be given, so the same domain model is loaded ahead. */
  offline: Pick<AutoServicesOptions, 'rules' | 'phrases'> = { rules: [] },
): Promise<void> {
  const warmups: Array<Promise<void>> = [];
  if (chooseSTT(env) === 'pocketsphinx') {
    const { PocketsphinxSTTService } = await import('../local/index.js');
    const phrases = offlinePhrases(offline);
    warmups.push(PocketsphinxSTTService.prewarm(phrases.length === 0 ? {} : { phrases }));
  }
  if (chooseTTS(env) === 'flite') {
    const { FliteTTSService } = await import('../local/index.js');
    warmups.push(FliteTTSService.prewarm({ voice: OFFLINE_VOICE }));
  }
  const modelPath = localModelPath(env);
  if (modelPath !== undefined) {
    const { LlamaCppLLMService } = await import('../llamacpp/index.js');
    warmups.push(LlamaCppLLMService.prewarm({ modelPath }));
  }
  await Promise.all(warmups);
}

export async function servicesFromEnvironment(options: AutoServicesOptions): Promise<AutoServices> {
  const env = options.env ?? process.env;
  const key = keyReader(env);
  const chosen: string[] = [];

  let stt: STTService;
  const deepgramKey = key('DEEPGRAM_API_KEY');
  const openaiKey = key('OPENAI_API_KEY');
  const sttChoice = chooseSTT(env);
  if (sttChoice === 'deepgram') {
    const { DeepgramFluxSTTService, DeepgramSTTService } = await import('../deepgram/index.js');
    // DEEPGRAM_STT_MODEL picks the model; a Flux one (flux-general-en, flux-general-multi) picks the Flux service.
    const model = env.DEEPGRAM_STT_MODEL?.trim() || undefined;
    const flux = model?.startsWith('flux-') === true;
    stt = flux ? new DeepgramFluxSTTService({ apiKey: deepgramKey!, model }) : new DeepgramSTTService({ apiKey: deepgramKey!, ...(model === undefined ? {} : { model }) });
    chosen.push(flux ? 'stt: Deepgram Flux' : 'stt: Deepgram');
  } else if (sttChoice === 'openai') {
    const { OpenAISTTService } = await import('../openai/index.js');
    stt = new OpenAISTTService({ apiKey: openaiKey! });
    chosen.push('stt: OpenAI');
  } else if (sttChoice === 'sarvam') {
    const { SarvamSTTService, SarvamStreamingSTTService } = await import('../sarvam/index.js');
    const streaming = env.SARVAM_STT_MODE?.trim().toLowerCase() === 'streaming';
    const options = { apiKey: key('SARVAM_API_KEY')!, language: env.SARVAM_LANGUAGE };
    stt = streaming ? new SarvamStreamingSTTService(options) : new SarvamSTTService(options);
    chosen.push(streaming ? 'stt: Sarvam (streaming)' : 'stt: Sarvam');
  } else if (sttChoice === 'assemblyai') {
    const { AssemblyAISTTService } = await import('../assemblyai/index.js');
    stt = new AssemblyAISTTService({ apiKey: key('ASSEMBLYAI_API_KEY')!, ...(env.ASSEMBLYAI_MODEL === undefined ? {} : { model: env.ASSEMBLYAI_MODEL }) });
    chosen.push('stt: AssemblyAI');
  } else if (sttChoice === 'speechmatics') {
    const { SpeechmaticsSTTService } = await import('../speechmatics/index.js');
    stt = new SpeechmaticsSTTService({ apiKey: key('SPEECHMATICS_API_KEY')!, ...(env.SPEECHMATICS_LANGUAGE === undefined ? {} : { language: env.SPEECHMATICS_LANGUAGE }) });
    chosen.push('stt: Speechmatics');
  } else if (sttChoice === 'soniox') {
    const { SonioxSTTService } = await import('../soniox/index.js');
    stt = new SonioxSTTService({ apiKey: key('SONIOX_API_KEY')!, ...(env.SONIOX_LANGUAGE === undefined ? {} : { languageHints: [env.SONIOX_LANGUAGE] }) });
    chosen.push('stt: Soniox');
  } else if (sttChoice === 'gladia') {
    const { GladiaSTTService } = await import('../gladia/index.js');
    stt = new GladiaSTTService({ apiKey: key('GLADIA_API_KEY')!, ...(env.GLADIA_LANGUAGE === undefined ? {} : { languages: [env.GLADIA_LANGUAGE] }) });
    chosen.push('stt: Gladia');
  } else if (sttChoice === 'cartesia') {
    const { CartesiaSTTService } = await import('../cartesia/index.js');
    stt = new CartesiaSTTService({ apiKey: key('CARTESIA_API_KEY')!, ...(env.CARTESIA_STT_LANGUAGE === undefined ? {} : { language: env.CARTESIA_STT_LANGUAGE }) });
    chosen.push('stt: Cartesia Ink');
  } else if (sttChoice === 'groq') {
    const { GroqSTTService } = await import('../openai/index.js');
    stt = new GroqSTTService({ apiKey: key('GROQ_API_KEY')! });
    chosen.push('stt: Groq Whisper');
  } else if (sttChoice === 'elevenlabs') {
    const { ElevenLabsRealtimeSTTService, ElevenLabsSTTService } = await import('../elevenlabs/index.js');
    const realtime = env.ELEVENLABS_STT_MODE?.trim().toLowerCase() === 'realtime';
    const options = { apiKey: key('ELEVENLABS_API_KEY')!, ...(env.ELEVENLABS_STT_LANGUAGE ? { language: env.ELEVENLABS_STT_LANGUAGE } : {}) };
    stt = realtime ? new ElevenLabsRealtimeSTTService(options) : new ElevenLabsSTTService(options);
    chosen.push(realtime ? 'stt: ElevenLabs Scribe realtime' : 'stt: ElevenLabs Scribe');
  } else if (sttChoice === 'azure') {
    const { AzureSTTService } = await import('../azure/index.js');
    stt = new AzureSTTService({ apiKey: key('AZURE_SPEECH_KEY')!, region: key('AZURE_SPEECH_REGION')!, language: env.AZURE_SPEECH_LANGUAGE });
    chosen.push('stt: Azure Speech');
  } else if (sttChoice === 'google') {
    const { GoogleSTTService } = await import('../google/index.js');
    stt = new GoogleSTTService({ apiKey: key('GOOGLE_SPEECH_API_KEY')!, language: env.GOOGLE_SPEECH_LANGUAGE });
    chosen.push('stt: Google Cloud Speech');
  } else if (sttChoice === 'transcribe') {
    const { TranscribeSTTService } = await import('../aws/index.js');
    stt = new TranscribeSTTService({ ...awsFromEnvironment(key)!, ...(key('TRANSCRIBE_LANGUAGE') === undefined ? {} : { language: key('TRANSCRIBE_LANGUAGE') }) });
    chosen.push('stt: Amazon Transcribe');
  } else {
    const { PocketsphinxSTTService } = await import('../local/index.js');
    const phrases = offlinePhrases(options);
    stt = new PocketsphinxSTTService(phrases.length === 0 ? {} : { phrases });
    chosen.push(`stt: Pocketsphinx (offline${phrases.length === 0 ? '' : ', domain model'})`);
  }

  let llm: LLMService;
  const anthropicKey = key('ANTHROPIC_API_KEY');
  const googleKey = key('GOOGLE_API_KEY');
  const azureKey = key('AZURE_OPENAI_API_KEY');
  const azureEndpoint = key('AZURE_OPENAI_ENDPOINT');
  const azureDeployment = key('AZURE_OPENAI_DEPLOYMENT');
  const preset = PRESETS.find(([variable]) => key(variable) !== undefined);
  const bedrockModel = key('BEDROCK_MODEL');
  const bedrock = bedrockModel === undefined ? undefined : awsFromEnvironment(key);
  if (openaiKey !== undefined) {
    const { OpenAILLMService } = await import('../openai/index.js');
    llm = new OpenAILLMService({ apiKey: openaiKey, model: env.OPENAI_MODEL ?? 'gpt-4o-mini' });
    chosen.push('llm: OpenAI');
  } else if (anthropicKey !== undefined) {
    const { AnthropicLLMService } = await import('../anthropic/index.js');
    llm = new AnthropicLLMService({ apiKey: anthropicKey });
    chosen.push('llm: Anthropic');
  } else if (googleKey !== undefined) {
    const { GoogleLLMService } = await import('../google/index.js');
    llm = new GoogleLLMService({ apiKey: googleKey });
    chosen.push('llm: Gemini');
  } else if (azureKey !== undefined && azureEndpoint !== undefined && azureDeployment !== undefined) {
    const { AzureOpenAILLMService } = await import('../openai/index.js');
    llm = new AzureOpenAILLMService({ apiKey: azureKey, endpoint: azureEndpoint, deployment: azureDeployment });
    chosen.push('llm: Azure OpenAI');
  } else if (preset !== undefined) {
    const [variable, label, className] = preset;
    const presets = await import('../openai/index.js');
    llm = new presets[className]({ apiKey: key(variable)! });
    chosen.push(`llm: ${label}`);
  } else if (bedrock !== undefined) {
    const { BedrockLLMService } = await import('../aws/index.js');
    llm = new BedrockLLMService({ ...bedrock, model: bedrockModel });
    chosen.push('llm: Amazon Bedrock');
  } else if (localModelPath(env) !== undefined) {
    const { LlamaCppLLMService } = await import('../llamacpp/index.js');
    llm = new LlamaCppLLMService({ modelPath: localModelPath(env)! });
    chosen.push('llm: llama.cpp (local model in-process)');
  } else {
    const { ScriptedLLMService } = await import('../scripted/index.js');
    llm = new ScriptedLLMService({ rules: options.rules, fallback: options.fallback });
    chosen.push('llm: ScriptedLLMService (offline rules, not a language model)');
  }

  let tts: TTSService;
  const ttsChoice = chooseTTS(env);
  if (ttsChoice === 'cartesia') {
    const { CartesiaTTSService } = await import('../cartesia/index.js');
    tts = new CartesiaTTSService({ apiKey: key('CARTESIA_API_KEY')!, voiceId: env.CARTESIA_VOICE_ID });
    chosen.push('tts: Cartesia');
  } else if (ttsChoice === 'elevenlabs') {
    const { ElevenLabsTTSService } = await import('../elevenlabs/index.js');
    tts = new ElevenLabsTTSService({ apiKey: key('ELEVENLABS_API_KEY')!, voiceId: env.ELEVENLABS_VOICE_ID! });
    chosen.push('tts: ElevenLabs');
  } else if (ttsChoice === 'deepgram') {
    const { DeepgramTTSService } = await import('../deepgram/index.js');
    tts = new DeepgramTTSService({ apiKey: deepgramKey! });
    chosen.push('tts: Deepgram Aura');
  } else if (ttsChoice === 'openai') {
    const { OpenAITTSService } = await import('../openai/index.js');
    tts = new OpenAITTSService({ apiKey: openaiKey! });
    chosen.push('tts: OpenAI');
  } else if (ttsChoice === 'sarvam') {
    const { SarvamTTSService } = await import('../sarvam/index.js');
    // The language Sarvam detects on the caller is per turn; the voice speaks the configured one (default hi-IN).
    tts = new SarvamTTSService({ apiKey: key('SARVAM_API_KEY')!, language: env.SARVAM_LANGUAGE, speaker: env.SARVAM_SPEAKER });
    chosen.push('tts: Sarvam');
  } else if (ttsChoice === 'rime') {
    const { RimeTTSService } = await import('../rime/index.js');
    tts = new RimeTTSService({ apiKey: key('RIME_API_KEY')!, speaker: env.RIME_SPEAKER?.trim() || 'astra' });
    chosen.push('tts: Rime');
  } else if (ttsChoice === 'lmnt') {
    const { LmntTTSService } = await import('../lmnt/index.js');
    tts = new LmntTTSService({ apiKey: key('LMNT_API_KEY')!, voice: env.LMNT_VOICE?.trim() || 'leah' });
    chosen.push('tts: LMNT');
  } else if (ttsChoice === 'inworld') {
    const { InworldTTSService } = await import('../inworld/index.js');
    tts = new InworldTTSService({ apiKey: key('INWORLD_API_KEY')!, voice: env.INWORLD_VOICE?.trim() || 'Ashley' });
    chosen.push('tts: Inworld');
  } else if (ttsChoice === 'fish') {
    const { FishAudioTTSService } = await import('../fish/index.js');
    tts = new FishAudioTTSService({ apiKey: key('FISH_API_KEY')!, ...(env.FISH_VOICE?.trim() ? { voice: env.FISH_VOICE.trim() } : {}) });
    chosen.push('tts: Fish Audio');
  } else if (ttsChoice === 'hume') {
    const { HumeTTSService } = await import('../hume/index.js');
    tts = new HumeTTSService({ apiKey: key('HUME_API_KEY')!, voice: env.HUME_VOICE!.trim() });
    chosen.push('tts: Hume');
  } else if (ttsChoice === 'minimax') {
    const { MiniMaxTTSService } = await import('../minimax/index.js');
    const voice = env.MINIMAX_VOICE?.trim() || 'Wise_Woman';
    tts = new MiniMaxTTSService({ apiKey: key('MINIMAX_API_KEY')!, groupId: env.MINIMAX_GROUP_ID?.trim() || undefined, voice });
    chosen.push('tts: MiniMax');
  } else if (ttsChoice !== 'flite') {
    const cloud = await makeCloudTTS(ttsChoice, key, env);
    tts = cloud.tts;
    chosen.push(`tts: ${cloud.label}`);
  } else {
    const { FliteTTSService } = await import('../local/index.js');
    tts = new FliteTTSService({ voice: OFFLINE_VOICE });
    chosen.push('tts: Flite (offline)');
  }
  return { stt, llm, tts, chosen };
}
