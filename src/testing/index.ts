// `piopiy-ai/testing`: tools to test agents offline — the Piopiy platform (signaling, REST, call media) and faithful
// fakes of the vendors' servers on 127.0.0.1, fake services, offline speech, a frame collector.
//
// Each name is listed on purpose: the HTTP and WebSocket plumbing the fakes share (body reading, SSE writing, seeded
// randomness) stays out, and the repository's own tests import it from its modules. api/piopiy-ai_testing.api.md
// lists all of it; run `npm run api:report` after changing this file.

// The local Piopiy simulator.
export {
  startPiopiySimulator,
  type CallEnd,
  type CallEndReason,
  type PiopiySimulator,
  type PlaceCallOptions,
  type RestRequestEvent,
  type RestRequestRecord,
  type SimulatedCall,
  type SimulatedCallDirection,
  type SimulatorAgentEnvironment,
  type SimulatorOptions,
  type SimTransfer,
  type SimTransferOutcome,
  type TimedAudio,
  type WaitForCallOptions,
} from './simulator/index.js';

// A LiveKit-protocol server the real @livekit/rtc-node client joins (the production media path, on loopback).
export {
  startLiveKitTestServer,
  type LiveKitTestServer,
  type LiveKitTestServerOptions,
  type LiveKitTestTokenOptions,
} from './livekit-server/index.js';

// Services, frames and speech without a vendor.
export { FrameCollector } from './frame-collector.js';
export { FakeTTSService, ScriptedSTTService, type FakeTTSOptions, type ScriptedSTTOptions } from './fake-services.js';
export { concatAudio, silence, synthesizeSpeech, type SpeechSampleRate, type SynthesizeSpeechOptions } from './speech.js';

// Fake vendor servers.
export {
  startFakeOpenAIChat,
  type FakeChatCompletionBody,
  type FakeChatDialect,
  type FakeChatHandler,
  type FakeChatResponse,
  type FakeErrorStatus,
  type FakeFinishReason,
  type FakeOpenAIChat,
  type FakeOpenAIChatOptions,
  type FakeOpenAIChatRequest,
  type FakeToolCall,
  type FakeUsage,
} from './fakes/openai-chat.js';
export {
  FAKE_SPEECH_SAMPLE_RATE,
  OPENAI_SPEECH_MODELS,
  OPENAI_SPEECH_VOICES,
  OPENAI_TRANSCRIPTION_MODELS,
  fakeSpeechSamples,
  startFakeOpenAIAudio,
  type FakeAudioError,
  type FakeAudioErrorStatus,
  type FakeOpenAIAudio,
  type FakeOpenAIAudioOptions,
  type FakeOpenAIAudioRequest,
  type FakeSpeechAudioOptions,
  type FakeSpeechResponse,
  type FakeTranscriptionHandler,
  type FakeTranscriptionInput,
  type FakeTranscriptionResponse,
  type FakeUpload,
  type FakeUploadedAudio,
} from './fakes/openai-audio.js';
export {
  startFakeAnthropic,
  type FakeAnthropic,
  type FakeAnthropicErrorStatus,
  type FakeAnthropicErrorType,
  type FakeAnthropicHandler,
  type FakeAnthropicMessagesBody,
  type FakeAnthropicOptions,
  type FakeAnthropicRequest,
  type FakeAnthropicResponse,
  type FakeAnthropicStopReason,
  type FakeAnthropicUsage,
  type FakeToolUse,
} from './fakes/anthropic.js';
// The raw events a FakeAnthropicResponse may script.
export type { SSEEvent } from './fakes/sse.js';
// What every fake streaming speech-to-text vendor offers a test (its sessions, scripted transcripts, faults).
export type { FakeHandshakeFault, FakeSocketClose, FakeStreamingSTTServer, FakeSTTSocketSession } from './fakes/websocket.js';
export {
  FAKE_REALTIME_VOICES,
  startFakeOpenAIRealtime,
  type FakeOpenAIRealtime,
  type FakeOpenAIRealtimeConnection,
  type FakeOpenAIRealtimeHandshakeFault,
  type FakeOpenAIRealtimeMessage,
  type FakeOpenAIRealtimeOptions,
  type FakeOpenAIRealtimeResponseFault,
  type FakeOpenAIRealtimeRule,
  type FakeOpenAIRealtimeScript,
  type FakeOpenAIRealtimeTruncation,
  type FakeRealtimeFormat,
  type FakeRealtimeSessionConfig,
} from './fakes/openai-realtime.js';
export {
  GEMINI_LIVE_PATH,
  startFakeGeminiLive,
  type FakeGeminiLive,
  type FakeGeminiLiveConnection,
  type FakeGeminiLiveMessage,
  type FakeGeminiLiveOptions,
  type FakeGeminiLiveRule,
  type FakeGeminiLiveScript,
  type FakeGeminiLiveTurnFault,
} from './fakes/gemini-live.js';
export {
  startFakeGemini,
  type FakeFunctionCall,
  type FakeGemini,
  type FakeGeminiBlockReason,
  type FakeGeminiBody,
  type FakeGeminiErrorStatus,
  type FakeGeminiFinishReason,
  type FakeGeminiHandler,
  type FakeGeminiOptions,
  type FakeGeminiPart,
  type FakeGeminiRequest,
  type FakeGeminiResponse,
  type FakeGeminiUsage,
} from './fakes/gemini.js';
export {
  ASSEMBLYAI_SPEECH_MODELS,
  startFakeAssemblyAI,
  type FakeAssemblyAI,
  type FakeAssemblyAIClientFrame,
  type FakeAssemblyAIFault,
  type FakeAssemblyAIOptions,
  type FakeAssemblyAISession,
} from './fakes/assemblyai.js';
export {
  startFakeSpeechmatics,
  type FakeSpeechmatics,
  type FakeSpeechmaticsFault,
  type FakeSpeechmaticsOptions,
  type FakeSpeechmaticsSession,
} from './fakes/speechmatics.js';
export {
  startFakeSoniox,
  type FakeSoniox,
  type FakeSonioxFault,
  type FakeSonioxOptions,
  type FakeSonioxSession,
} from './fakes/soniox.js';
export {
  startFakeDeepgramFlux,
  type FakeDeepgramFlux,
  type FakeDeepgramFluxFault,
  type FakeDeepgramFluxOptions,
  type FakeDeepgramFluxSession,
} from './fakes/deepgram-flux.js';
export { startFakeGladia, type FakeGladia, type FakeGladiaFault, type FakeGladiaOptions, type FakeGladiaSession } from './fakes/gladia.js';
export {
  fakeDeepgramSpeechAudio,
  startFakeDeepgram,
  type FakeDeepgram,
  type FakeDeepgramClientFrame,
  type FakeDeepgramClose,
  type FakeDeepgramErrorStatus,
  type FakeDeepgramListenSession,
  type FakeDeepgramOptions,
  type FakeDeepgramPath,
  type FakeDeepgramRequest,
  type FakeDeepgramSpeakResponse,
  type FakeDeepgramSpeakSession,
  type FakeDeepgramSpeechSegment,
  type FakeDeepgramUtterance,
} from './fakes/deepgram.js';
export {
  FAKE_CARTESIA_ENCODINGS,
  FAKE_CARTESIA_SAMPLE_RATES,
  fakeCartesiaSpeech,
  startFakeCartesia,
  type FakeCartesia,
  type FakeCartesiaConnection,
  type FakeCartesiaContext,
  type FakeCartesiaGenerationFault,
  type FakeCartesiaHandshakeFault,
  type FakeCartesiaHandshakeStatus,
  type FakeCartesiaMessage,
  type FakeCartesiaOptions,
  type FakeCartesiaSpeechOptions,
} from './fakes/cartesia.js';
export {
  startFakeCartesiaSTT,
  type FakeCartesiaSTT,
  type FakeCartesiaSTTFault,
  type FakeCartesiaSTTOptions,
  type FakeCartesiaSTTSession,
} from './fakes/cartesia-stt.js';
export {
  FAKE_ELEVENLABS_MODELS,
  FAKE_ELEVENLABS_PCM_RATES,
  fakeElevenLabsSpeech,
  startFakeElevenLabs,
  type FakeElevenLabs,
  type FakeElevenLabsConnection,
  type FakeElevenLabsContext,
  type FakeElevenLabsGenerationFault,
  type FakeElevenLabsHandshakeFault,
  type FakeElevenLabsHandshakeStatus,
  type FakeElevenLabsMessage,
  type FakeElevenLabsOptions,
  type FakeElevenLabsSpeechOptions,
} from './fakes/elevenlabs.js';
export {
  fakeSarvamSpeech,
  startFakeSarvam,
  type FakeSarvam,
  type FakeSarvamErrorStatus,
  type FakeSarvamFault,
  type FakeSarvamOptions,
  type FakeSarvamRequest,
} from './fakes/sarvam.js';
export {
  FAKE_SARVAM_STREAM_LANGUAGES,
  FAKE_SARVAM_STREAM_MODELS,
  startFakeSarvamStream,
  type FakeSarvamStream,
  type FakeSarvamStreamFault,
  type FakeSarvamStreamOptions,
  type FakeSarvamStreamSession,
} from './fakes/sarvam-stt-stream.js';
export { FAKE_GROQ_STT_MODELS, startFakeGroqSTT, type FakeGroqSTT } from './fakes/groq.js';
export { FAKE_ELEVENLABS_STT_MODELS, startFakeElevenLabsSTT, type FakeElevenLabsSTT } from './fakes/elevenlabs-stt.js';
export {
  FAKE_ELEVENLABS_REALTIME_MODELS,
  startFakeElevenLabsRealtime,
  type FakeElevenLabsRealtime,
  type FakeElevenLabsRealtimeFault,
  type FakeElevenLabsRealtimeOptions,
  type FakeElevenLabsRealtimeSession,
} from './fakes/elevenlabs-stt-realtime.js';
export { startFakeAzureSpeech, type FakeAzureSpeech } from './fakes/azure-speech.js';
export { FAKE_GOOGLE_SPEECH_MODELS, startFakeGoogleSpeech, type FakeGoogleSpeech } from './fakes/google-speech.js';
export type { FakeSTTAnswer, FakeSTTFault, FakeSTTRequest } from './fakes/segmented-stt.js';
export {
  fakeRimeSpeech,
  startFakeRime,
  type FakeRime,
  type FakeRimeConnection,
  type FakeRimeHandshakeFault,
  type FakeRimeOptions,
  type FakeRimeSynthesis,
  type FakeRimeSynthesisFault,
} from './fakes/rime.js';
export {
  fakeLmntSpeech,
  startFakeLmnt,
  type FakeLmnt,
  type FakeLmntConnection,
  type FakeLmntErrorType,
  type FakeLmntFault,
  type FakeLmntOptions,
  type FakeLmntSynthesis,
} from './fakes/lmnt.js';
export {
  fakeInworldSpeech,
  startFakeInworld,
  type FakeInworld,
  type FakeInworldFault,
  type FakeInworldOptions,
  type FakeInworldRequest,
} from './fakes/inworld.js';
export {
  fakeFishSpeech,
  startFakeFish,
  type FakeFish,
  type FakeFishConnection,
  type FakeFishHandshakeFault,
  type FakeFishOptions,
  type FakeFishSynthesis,
  type FakeFishSynthesisFault,
} from './fakes/fish.js';
export {
  fakeHumeSpeech,
  startFakeHume,
  type FakeHume,
  type FakeHumeFault,
  type FakeHumeOptions,
  type FakeHumeRequest,
} from './fakes/hume.js';
export {
  fakeMiniMaxSpeech,
  startFakeMiniMax,
  type FakeMiniMax,
  type FakeMiniMaxFault,
  type FakeMiniMaxOptions,
  type FakeMiniMaxRequest,
} from './fakes/minimax.js';
export {
  fakeNeuphonicSpeech,
  startFakeNeuphonic,
  type FakeNeuphonic,
  type FakeNeuphonicFault,
  type FakeNeuphonicOptions,
  type FakeNeuphonicRequest,
} from './fakes/neuphonic.js';
export {
  FAKE_SPEECHMATICS_VOICES,
  fakeSpeechmaticsSpeech,
  startFakeSpeechmaticsTTS,
  type FakeSpeechmaticsTTS,
  type FakeSpeechmaticsTTSFault,
  type FakeSpeechmaticsTTSOptions,
  type FakeSpeechmaticsTTSRequest,
} from './fakes/speechmatics-tts.js';
export {
  fakePiperSpeech,
  startFakePiper,
  type FakePiper,
  type FakePiperFault,
  type FakePiperOptions,
  type FakePiperRequest,
  type FakePiperVoice,
} from './fakes/piper.js';
export { fakeAzureSpeech, startFakeAzure, type FakeAzure, type FakeAzureFault, type FakeAzureOptions, type FakeAzureRequest } from './fakes/azure.js';
export {
  fakeGoogleSpeech,
  googleWav,
  startFakeGoogleTTS,
  type FakeGoogleTTS,
  type FakeGoogleTTSFault,
  type FakeGoogleTTSOptions,
  type FakeGoogleTTSRequest,
} from './fakes/google-tts.js';
export {
  FAKE_GROQ_TTS_VOICES,
  fakeGroqSpeech,
  startFakeGroqTTS,
  type FakeGroqTTS,
  type FakeGroqTTSFault,
  type FakeGroqTTSOptions,
  type FakeGroqTTSRequest,
} from './fakes/groq-tts.js';
export type { FakeStreamFault, FakeStreamOutcome, FakeTTSHttp, FakeTTSHttpRecord, FakeTTSHttpRequest } from './fakes/tts-http.js';
export { startFakeBedrock, type FakeBedrock, type FakeBedrockOptions, type FakeBedrockRequest, type FakeBedrockResponse, type FakeBedrockToolUse } from './fakes/bedrock.js';
export { startFakeTranscribe, type FakeTranscribe, type FakeTranscribeConnection, type FakeTranscribeFault, type FakeTranscribeOptions } from './fakes/transcribe.js';
export { fakePollySpeech, startFakePolly, type FakePolly, type FakePollyFault, type FakePollyOptions, type FakePollyRequest } from './fakes/polly.js';
export {
  fakeGradiumSpeech,
  startFakeGradium,
  type FakeGradium,
  type FakeGradiumConnection,
  type FakeGradiumHandshakeFault,
  type FakeGradiumOptions,
  type FakeGradiumSynthesis,
  type FakeGradiumSynthesisFault,
} from './fakes/gradium.js';

// Fake carriers: their media streams, webhooks and REST APIs.
export {
  FakeTwilioCall,
  startFakeTwilio,
  type FakeTwilio,
  type FakeTwilioCallEndReason,
  type FakeTwilioOptions,
  type FakeTwilioRestRequest,
  type PlaceTwilioCallOptions,
} from './carriers/twilio.js';
export {
  FakeExotelCall,
  startFakeExotel,
  type FakeExotel,
  type FakeExotelCallEndReason,
  type FakeExotelNextApplet,
  type FakeExotelOptions,
  type PlaceExotelCallOptions,
} from './carriers/exotel.js';
export { FakePlivoCall, startFakePlivo, type FakePlivo, type FakePlivoOptions, type FakePlivoRestRequest, type PlacePlivoCallOptions } from './carriers/plivo.js';
export { FakeTelnyxCall, startFakeTelnyx, type FakeTelnyx, type FakeTelnyxCommand, type FakeTelnyxOptions, type PlaceTelnyxCallOptions } from './carriers/telnyx.js';
export { FakeVonageCall, startFakeVonage, type FakeVonage, type FakeVonageOptions, type FakeVonageRestRequest, type PlaceVonageCallOptions } from './carriers/vonage.js';
export { FakeStreamCall, type FakeStreamCallEndReason, type FakeStreamProtocol, type FakeStreamRead } from './carriers/fake-stream-call.js';

// Whole calls in simulated time.
export { VirtualClock, type RunUntilOptions, type VirtualClockOptions } from './virtual-clock.js';
export { EnergyVAD, speechTone, type EnergyVADOptions } from './energy-vad.js';
export {
  ConversationSimulation,
  type ConversationSimulationOptions,
  type SimulationEvent,
} from './conversation-simulation.js';
