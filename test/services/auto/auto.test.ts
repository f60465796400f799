import { afterEach, describe, expect, it, vi } from 'vitest';
import { prewarmServicesFromEnvironment, servicesFromEnvironment } from '../../../src/services/auto/index.js';
import { LlamaCppLLMService } from '../../../src/services/llamacpp/index.js';
import { FliteTTSService, PocketsphinxSTTService } from '../../../src/services/local/index.js';
import { hasPocketsphinx, pocketsphinxNeeds as needs } from '../../support/pocketsphinx.js';

const rules = [{ match: /hello/i, reply: 'Hi.' }];

afterEach(() => {
  vi.restoreAllMocks();
});

describe('servicesFromEnvironment', () => {
  it('picks the offline engines without keys, the vendors with keys, and offline again with PIOPIY_OFFLINE=1', async () => {
    expect((await servicesFromEnvironment({ rules, env: {} })).chosen).toEqual([
      'stt: Pocketsphinx (offline)',
      'llm: ScriptedLLMService (offline rules, not a language model)',
      'tts: Flite (offline)',
    ]);
    const keys = { DEEPGRAM_API_KEY: 'dg-key', ANTHROPIC_API_KEY: 'ant-key', CARTESIA_API_KEY: 'ca-key' };
    expect((await servicesFromEnvironment({ rules, env: keys })).chosen).toEqual([
      'stt: Deepgram',
      'llm: Anthropic',
      'tts: Cartesia',
    ]);
    expect((await servicesFromEnvironment({ rules, env: { ...keys, PIOPIY_OFFLINE: '1' } })).chosen[0]).toBe(
      'stt: Pocketsphinx (offline)',
    );
    // Sarvam (India first: Indian-language STT and Bulbul voices) by SARVAM_API_KEY.
    expect((await servicesFromEnvironment({ rules, env: { SARVAM_API_KEY: 'sv', SARVAM_LANGUAGE: 'ta-IN' } })).chosen).toEqual([
      'stt: Sarvam',
      'llm: ScriptedLLMService (offline rules, not a language model)',
      'tts: Sarvam',
    ]);
    // AssemblyAI by ASSEMBLYAI_API_KEY, its model from ASSEMBLYAI_MODEL.
    const assemblyai = await servicesFromEnvironment({ rules, env: { ASSEMBLYAI_API_KEY: 'ak', ASSEMBLYAI_MODEL: 'universal-streaming-multilingual' } });
    expect(assemblyai.chosen[0]).toBe('stt: AssemblyAI');
    expect(assemblyai.stt).toMatchObject({ model: 'universal-streaming-multilingual' });
    // Speechmatics by SPEECHMATICS_API_KEY, its language from SPEECHMATICS_LANGUAGE.
    const speechmatics = await servicesFromEnvironment({ rules, env: { SPEECHMATICS_API_KEY: 'sk', SPEECHMATICS_LANGUAGE: 'ta' } });
    expect(speechmatics.chosen[0]).toBe('stt: Speechmatics');
    expect(speechmatics.stt).toMatchObject({ language: 'ta' });
    // Deepgram's model from DEEPGRAM_STT_MODEL; a Flux model picks the Flux service.
    const flux = await servicesFromEnvironment({ rules, env: { DEEPGRAM_API_KEY: 'dg', DEEPGRAM_STT_MODEL: 'flux-general-multi' } });
    expect(flux.chosen[0]).toBe('stt: Deepgram Flux');
    expect(flux.stt).toMatchObject({ model: 'flux-general-multi', endOfTurn: 'flux' });
    const nova = await servicesFromEnvironment({ rules, env: { DEEPGRAM_API_KEY: 'dg', DEEPGRAM_STT_MODEL: 'nova-2-phonecall' } });
    expect(nova.chosen[0]).toBe('stt: Deepgram');
    expect(nova.stt).toMatchObject({ model: 'nova-2-phonecall' });
    // Soniox by SONIOX_API_KEY, its language hint from SONIOX_LANGUAGE.
    const soniox = await servicesFromEnvironment({ rules, env: { SONIOX_API_KEY: 'sx', SONIOX_LANGUAGE: 'hi' } });
    expect(soniox.chosen[0]).toBe('stt: Soniox');
    expect((soniox.stt as unknown as { config: unknown }).config).toMatchObject({ language_hints: ['hi'] });
    // Gladia by GLADIA_API_KEY, its language from GLADIA_LANGUAGE.
    const gladia = await servicesFromEnvironment({ rules, env: { GLADIA_API_KEY: 'gl', GLADIA_LANGUAGE: 'hi' } });
    expect(gladia.chosen[0]).toBe('stt: Gladia');
    expect((gladia.stt as unknown as { sessionConfig: unknown }).sessionConfig).toMatchObject({ language_config: { languages: ['hi'] } });
    // Cartesia Ink by CARTESIA_API_KEY (after the STT-only vendors), its language from CARTESIA_STT_LANGUAGE.
    const cartesia = await servicesFromEnvironment({ rules, env: { CARTESIA_API_KEY: 'ck', CARTESIA_STT_LANGUAGE: 'ta' } });
    expect(cartesia.chosen).toEqual(['stt: Cartesia Ink', 'llm: ScriptedLLMService (offline rules, not a language model)', 'tts: Cartesia']);
    expect(cartesia.stt).toMatchObject({ model: 'ink-whisper', language: 'ta' });
    // Rime by RIME_API_KEY, its voice from RIME_SPEAKER.
    const rime = await servicesFromEnvironment({ rules, env: { RIME_API_KEY: 'rk', RIME_SPEAKER: 'cove' } });
    expect(rime.chosen[2]).toBe('tts: Rime');
    expect(rime.tts).toMatchObject({ speaker: 'cove', model: 'coda' });
    const lmnt = await servicesFromEnvironment({ rules, env: { LMNT_API_KEY: 'lk' } });
    expect(lmnt.chosen[2]).toBe('tts: LMNT');
    expect(lmnt.tts).toMatchObject({ voice: 'leah' });
    const inworld = await servicesFromEnvironment({ rules, env: { INWORLD_API_KEY: 'ik', INWORLD_VOICE: 'Dennis' } });
    expect(inworld.chosen[2]).toBe('tts: Inworld');
    expect(inworld.tts).toMatchObject({ voice: 'Dennis' });
    const fish = await servicesFromEnvironment({ rules, env: { FISH_API_KEY: 'fk', FISH_VOICE: 'model-7' } });
    expect(fish.chosen[2]).toBe('tts: Fish Audio');
    expect(fish.tts).toMatchObject({ voice: 'model-7', model: 's1' });
    const hume = await servicesFromEnvironment({ rules, env: { HUME_API_KEY: 'hk', HUME_VOICE: 'Ava Song' } });
    expect(hume.chosen[2]).toBe('tts: Hume');
    expect(hume.tts).toMatchObject({ voice: 'Ava Song', voiceProvider: 'HUME_AI' });
    // Without its voice, Hume is not chosen.
    expect((await servicesFromEnvironment({ rules, env: { HUME_API_KEY: 'hk' } })).chosen[2]).toBe('tts: Flite (offline)');
    const minimax = await servicesFromEnvironment({ rules, env: { MINIMAX_API_KEY: 'mk', MINIMAX_GROUP_ID: 'g1', MINIMAX_VOICE: 'Calm_Woman' } });
    expect(minimax.chosen[2]).toBe('tts: MiniMax');
    expect(minimax.tts).toMatchObject({ voice: 'Calm_Woman', model: 'speech-02-turbo' });
    // The cloud platforms' TTS: each needs all its variables (Azure its region too).
    const azure = await servicesFromEnvironment({ rules, env: { AZURE_SPEECH_KEY: 'ak', AZURE_SPEECH_REGION: 'centralindia', AZURE_SPEECH_VOICE: 'hi-IN-SwaraNeural' } });
    expect(azure.chosen[2]).toBe('tts: Azure Speech');
    expect(azure.tts).toMatchObject({ voice: 'hi-IN-SwaraNeural', language: 'hi-IN' });
    expect((await servicesFromEnvironment({ rules, env: { AZURE_SPEECH_KEY: 'ak' } })).chosen[2]).toBe('tts: Flite (offline)');
    const google = await servicesFromEnvironment({ rules, env: { GOOGLE_TTS_API_KEY: 'gk', GOOGLE_TTS_VOICE: 'ta-IN-Wavenet-A' } });
    expect(google.chosen[2]).toBe('tts: Google Cloud TTS');
    expect(google.tts).toMatchObject({ voice: 'ta-IN-Wavenet-A', language: 'ta-IN' });
    const gradium = await servicesFromEnvironment({ rules, env: { GRADIUM_API_KEY: 'grk', GRADIUM_VOICE: 'v-1' } });
    expect(gradium.chosen[2]).toBe('tts: Gradium');
    expect(gradium.tts).toMatchObject({ voice: 'v-1', model: 'default' });
    // A Gradium key is for speech alone: it wins the voice over a Groq key, which still brings the LLM.
    expect((await servicesFromEnvironment({ rules, env: { GRADIUM_API_KEY: 'grk', GROQ_API_KEY: 'gk' } })).chosen.slice(1)).toEqual(['llm: Groq', 'tts: Gradium']);
    const neuphonic = await servicesFromEnvironment({ rules, env: { NEUPHONIC_API_KEY: 'nk', NEUPHONIC_VOICE: 'voice-uuid', NEUPHONIC_LANGUAGE: 'hi', GROQ_API_KEY: 'gk' } });
    expect(neuphonic.chosen.slice(1)).toEqual(['llm: Groq', 'tts: Neuphonic']);
    expect(neuphonic.tts).toMatchObject({ voice: 'voice-uuid', language: 'hi' });
    const groq = await servicesFromEnvironment({ rules, env: { GROQ_API_KEY: 'gk', GROQ_TTS_VOICE: 'troy' } });
    expect(groq.chosen.slice(1)).toEqual(['llm: Groq', 'tts: Groq']);
    expect(groq.tts).toMatchObject({ voice: 'troy', model: 'canopylabs/orpheus-v1-english' });
    const polly = await servicesFromEnvironment({ rules, env: { AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 's', AWS_DEFAULT_REGION: 'ap-south-1', POLLY_VOICE: 'Aditi' } });
    expect(polly.chosen[2]).toBe('tts: Amazon Polly');
    expect(polly.tts).toMatchObject({ voice: 'Aditi', region: 'ap-south-1' });
    expect((await servicesFromEnvironment({ rules, env: { AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 's' } })).chosen[2]).toBe('tts: Flite (offline)');
    // Speechmatics' TTS comes last: its key also brings the STT, and its voices are English.
    const speechmaticsTts = await servicesFromEnvironment({ rules, env: { SPEECHMATICS_API_KEY: 'sk', SPEECHMATICS_TTS_VOICE: 'jack' } });
    expect(speechmaticsTts.chosen).toEqual(['stt: Speechmatics', 'llm: ScriptedLLMService (offline rules, not a language model)', 'tts: Speechmatics TTS']);
    expect(speechmaticsTts.tts).toMatchObject({ voice: 'jack', sampleRate: 16000 });
    expect((await servicesFromEnvironment({ rules, env: { SPEECHMATICS_API_KEY: 'sk', GRADIUM_API_KEY: 'grk' } })).chosen[2]).toBe('tts: Gradium');
    // A Piper server named by its URL: a local voice, chosen before Flite.
    const piper = await servicesFromEnvironment({ rules, env: { PIPER_URL: 'http://127.0.0.1:5000', PIPER_VOICE: 'en_US-ryan-low', PIPER_SAMPLE_RATE: '16000' } });
    expect(piper.chosen[2]).toBe('tts: Piper (HTTP server)');
    expect(piper.tts).toMatchObject({ voice: 'en_US-ryan-low', sampleRate: 16000 });
    // The OpenAI-compatible presets by their usual key variables; Azure needs its endpoint and deployment too.
    for (const [env, llm] of [
      [{ MISTRAL_API_KEY: 'k' }, 'llm: Mistral'],
      [{ XAI_API_KEY: 'k' }, 'llm: xAI Grok'],
      [{ DASHSCOPE_API_KEY: 'k' }, 'llm: Qwen'],
      [{ NVIDIA_API_KEY: 'k' }, 'llm: NVIDIA NIM'],
      [{ DEEPSEEK_API_KEY: 'k' }, 'llm: DeepSeek'],
      [{ HF_TOKEN: 'k' }, 'llm: Hugging Face'],
      [{ AZURE_OPENAI_API_KEY: 'k', AZURE_OPENAI_ENDPOINT: 'https://r.openai.azure.com', AZURE_OPENAI_DEPLOYMENT: 'gpt' }, 'llm: Azure OpenAI'],
      [{ AZURE_OPENAI_API_KEY: 'k' }, 'llm: ScriptedLLMService (offline rules, not a language model)'],
    ] as const) {
      expect((await servicesFromEnvironment({ rules, env })).chosen[1]).toBe(llm);
    }
    // a blank key counts as unset; ElevenLabs TTS needs its voice id (its STT does not)
    expect((await servicesFromEnvironment({ rules, env: { OPENAI_API_KEY: '  ', ELEVENLABS_API_KEY: 'el' } })).chosen).toEqual([
      'stt: ElevenLabs Scribe',
      'llm: ScriptedLLMService (offline rules, not a language model)',
      'tts: Flite (offline)',
    ]);
  });
});

describe('the REST STT vendors', () => {
  it('are chosen by their keys, after Deepgram, OpenAI and Sarvam', async () => {
    for (const [env, stt] of [
      [{ GROQ_API_KEY: 'k' }, 'stt: Groq Whisper'],
      [{ ELEVENLABS_API_KEY: 'k' }, 'stt: ElevenLabs Scribe'],
      [{ AZURE_SPEECH_KEY: 'k', AZURE_SPEECH_REGION: 'centralindia' }, 'stt: Azure Speech'],
      [{ GOOGLE_SPEECH_API_KEY: 'k', GOOGLE_SPEECH_LANGUAGE: 'hi-IN' }, 'stt: Google Cloud Speech'],
      [{ SARVAM_API_KEY: 'k', GROQ_API_KEY: 'k' }, 'stt: Sarvam'],
    ] as const) {
      expect((await servicesFromEnvironment({ rules, env })).chosen[0]).toBe(stt);
    }
  });
});

describe('the streaming modes of Sarvam and ElevenLabs STT', () => {
  it('SARVAM_STT_MODE=streaming and ELEVENLABS_STT_MODE=realtime pick the socket services, with their languages', async () => {
    const { SarvamStreamingSTTService } = await import('../../../src/services/sarvam/index.js');
    const { ElevenLabsRealtimeSTTService } = await import('../../../src/services/elevenlabs/index.js');
    const sarvam = await servicesFromEnvironment({ rules, env: { SARVAM_API_KEY: 'sv', SARVAM_LANGUAGE: 'kn-IN', SARVAM_STT_MODE: 'streaming' } });
    expect(sarvam.chosen[0]).toBe('stt: Sarvam (streaming)');
    expect(sarvam.stt).toBeInstanceOf(SarvamStreamingSTTService);
    expect((sarvam.stt as InstanceType<typeof SarvamStreamingSTTService>).query).toMatchObject({ 'language-code': 'kn-IN' });
    const eleven = await servicesFromEnvironment({ rules, env: { ELEVENLABS_API_KEY: 'el', ELEVENLABS_STT_MODE: 'realtime', ELEVENLABS_STT_LANGUAGE: 'hi' } });
    expect(eleven.chosen[0]).toBe('stt: ElevenLabs Scribe realtime');
    expect(eleven.stt).toBeInstanceOf(ElevenLabsRealtimeSTTService);
    expect(eleven.stt).toMatchObject({ language: 'hi', commitStrategy: 'manual' });
    // Any other value keeps the REST services.
    expect((await servicesFromEnvironment({ rules, env: { SARVAM_API_KEY: 'sv', SARVAM_STT_MODE: 'rest' } })).chosen[0]).toBe('stt: Sarvam');
  });
});

describe('the offline STT with example phrases', () => {
  it.skipIf(!hasPocketsphinx)(`builds a domain model from the rules' examples and the phrases, and prewarms that one${needs}`, async () => {
    const withExamples = [{ match: /human/i, reply: 'Sure.', examples: ['I want to talk to a human'] }];
    const { stt, chosen } = await servicesFromEnvironment({ rules: withExamples, phrases: ['Where is my parcel'], env: {} });
    expect(chosen[0]).toBe('stt: Pocketsphinx (offline, domain model)');
    expect(stt).toBeInstanceOf(PocketsphinxSTTService);
    expect((stt as PocketsphinxSTTService).missingWords).toEqual([]);
    const sphinx = vi.spyOn(PocketsphinxSTTService, 'prewarm').mockResolvedValue();
    vi.spyOn(FliteTTSService, 'prewarm').mockResolvedValue();
    await prewarmServicesFromEnvironment({}, { rules: withExamples, phrases: ['Where is my parcel'] });
    expect(sphinx).toHaveBeenCalledWith({ phrases: ['I want to talk to a human', 'Where is my parcel'] });
  });
});

describe('prewarmServicesFromEnvironment', () => {
  it('loads exactly the offline engines the same environment would choose', async () => {
    const sphinx = vi.spyOn(PocketsphinxSTTService, 'prewarm').mockResolvedValue();
    const flite = vi.spyOn(FliteTTSService, 'prewarm').mockResolvedValue();

    await prewarmServicesFromEnvironment({ DEEPGRAM_API_KEY: 'dg', CARTESIA_API_KEY: 'ca' });
    expect(sphinx).not.toHaveBeenCalled();
    expect(flite).not.toHaveBeenCalled();

    // A key of a TTS-only vendor (CARTESIA_API_KEY now chooses Cartesia Ink for STT too).
    await prewarmServicesFromEnvironment({ RIME_API_KEY: 'rk' });
    expect(sphinx).toHaveBeenCalledTimes(1);
    expect(flite).not.toHaveBeenCalled();

    await prewarmServicesFromEnvironment({});
    expect(sphinx).toHaveBeenCalledTimes(2);
    expect(flite).toHaveBeenCalledWith({ voice: 'slt' });
  });

  it('rejects when an engine cannot be loaded, so Agent.connect reports it', async () => {
    vi.spyOn(PocketsphinxSTTService, 'prewarm').mockRejectedValue(new Error('libpocketsphinx.so.3: not found'));
    vi.spyOn(FliteTTSService, 'prewarm').mockResolvedValue();
    await expect(prewarmServicesFromEnvironment({})).rejects.toThrow(/libpocketsphinx/);
  });

  it('AWS: Transcribe with the keys and region (last of the STTs), Bedrock when BEDROCK_MODEL is set too', async () => {
    const aws = { AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't', AWS_REGION: 'ap-south-1' };
    const bedrock = await servicesFromEnvironment({ rules, env: { ...aws, BEDROCK_MODEL: 'apac.amazon.nova-lite-v1:0' } });
    expect(bedrock.chosen).toEqual(['stt: Amazon Transcribe', 'llm: Amazon Bedrock', 'tts: Amazon Polly']);
    expect(bedrock.stt).toMatchObject({ region: 'ap-south-1', language: 'en-IN' });
    expect((await servicesFromEnvironment({ rules, env: { ...aws, TRANSCRIBE_LANGUAGE: 'hi-IN' } })).stt).toMatchObject({ language: 'hi-IN' });
    // Another vendor's STT key comes first.
    expect((await servicesFromEnvironment({ rules, env: { ...aws, GOOGLE_SPEECH_API_KEY: 'g' } })).chosen[0]).toBe('stt: Google Cloud Speech');
    expect(bedrock.llm).toMatchObject({ model: 'apac.amazon.nova-lite-v1:0', region: 'ap-south-1' });
    // Keys alone (Polly's) do not pick a model the account may not have enabled; another vendor's key comes first.
    expect((await servicesFromEnvironment({ rules, env: aws })).chosen[1]).toBe('llm: ScriptedLLMService (offline rules, not a language model)');
    expect((await servicesFromEnvironment({ rules, env: { ...aws, BEDROCK_MODEL: 'm', MISTRAL_API_KEY: 'k' } })).chosen[1]).toBe('llm: Mistral');
  });
});

describe('a local model by LLAMA_MODEL_PATH', () => {
  it('is the LLM when no cloud LLM key is set (PIOPIY_OFFLINE=1 included), and is prewarmed', async () => {
    const local = await servicesFromEnvironment({ rules, env: { LLAMA_MODEL_PATH: '/models/qwen2.5-0.5b-instruct-q4_k_m.gguf', CARTESIA_API_KEY: 'ca' } });
    expect(local.chosen[1]).toBe('llm: llama.cpp (local model in-process)');
    expect(local.llm).toBeInstanceOf(LlamaCppLLMService);
    expect(local.llm).toMatchObject({ modelPath: '/models/qwen2.5-0.5b-instruct-q4_k_m.gguf', model: 'qwen2.5-0.5b-instruct-q4_k_m.gguf' });
    const withCloud = { LLAMA_MODEL_PATH: '/m.gguf', GROQ_API_KEY: 'gq' };
    expect((await servicesFromEnvironment({ rules, env: withCloud })).chosen[1]).toBe('llm: Groq');
    expect((await servicesFromEnvironment({ rules, env: { ...withCloud, PIOPIY_OFFLINE: '1' } })).chosen[1]).toBe('llm: llama.cpp (local model in-process)');
    expect((await servicesFromEnvironment({ rules, env: { LLAMA_MODEL_PATH: '  ' } })).chosen[1]).toBe('llm: ScriptedLLMService (offline rules, not a language model)');

    const prewarm = vi.spyOn(LlamaCppLLMService, 'prewarm').mockResolvedValue();
    vi.spyOn(PocketsphinxSTTService, 'prewarm').mockResolvedValue();
    vi.spyOn(FliteTTSService, 'prewarm').mockResolvedValue();
    await prewarmServicesFromEnvironment({ LLAMA_MODEL_PATH: '/m.gguf', OPENAI_API_KEY: 'sk' });
    expect(prewarm).not.toHaveBeenCalled();
    await prewarmServicesFromEnvironment({ LLAMA_MODEL_PATH: '/m.gguf' });
    expect(prewarm).toHaveBeenCalledWith({ modelPath: '/m.gguf' });
  });
});
