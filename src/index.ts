// `piopiy-ai`: what a program that builds voice agents imports. Vendor services come from
// `piopiy-ai/services/<vendor>`, test tools from `piopiy-ai/testing`.
//
// Each name is listed on purpose: a name here is a promise to users, so the machinery behind it (queues, invite
// parsing, validators, provider adapters, the per-call async context, the simulator's media protocol) stays out
// and can change freely. Code inside this repository imports those from their own modules. A `type` export is a
// name users need in signatures but do not construct themselves. api/piopiy-ai.api.md lists all of it; run
// `npm run api:report` after changing this file.

// Agents and calls.
export { Agent, type AgentOptions, type CallInvite, type PrewarmFunction, type SileroPrewarmOptions, type TransportFactory } from './agent/index.js';
export type { InviteHandlers, InviteSource } from './agent/index.js';
export {
  type AgentOperations,
  type AgentMetrics,
  type CallEndReason,
  type EventLoopStall,
  type Health,
  type LatencyStage,
  type OperationsOptions,
  type Readiness,
  type TracingOptions,
  type WorkersHealth,
} from './operations/index.js';
export { SignalingConnectionError, type SignalingFailure } from './agent/signaling-error.js';
// Thrown by constructors (Agent, RestClient) with every missing or invalid setting at once.
export { ConfigurationError, type ConfigurationProblem, type ConfigurationProblemKind } from './runtime/configuration-error.js';
export {
  VoiceAgent,
  type ActionOptions,
  type CascadeActionOptions,
  type CommonActionOptions,
  type RealtimeActionOptions,
  type SpeechPlayout,
  type VADOptions,
  type VoiceAgentEvents,
  type VoiceAgentOptions,
} from './voice-agent/index.js';

// Ready-made call tools: transfer_call (blind or warm) and end_call (after the goodbye).
export {
  piopiyCallTools,
  DEFAULT_FAILURE_LINES,
  DEFAULT_HANGUP_CAUSE,
  type CallToolResult,
  type CallTools,
  type CallToolsOptions,
  type EndCallArgs,
  type EndCallToolOptions,
  type TransferArgs,
  type TransferTarget,
  type TransferToolOptions,
} from './call-tools/index.js';

// Tools and the conversation.
export {
  FunctionSchema,
  LLMContext,
  type CallInfo,
  type FunctionSchemaInit,
  type FunctionSchemaParametersInit,
  type FunctionSchemaPropertiesInit,
  type ObjectParametersSchema,
  type ToolArgsValidation,
  type ToolCallContext,
  type ToolHandler,
  type ToolOptions,
  type ToolOutcome,
  type ToolRegistry,
} from './llm/index.js';
// MCP servers as tool sources (VoiceAgent.addMcpServer).
export {
  McpToolError,
  McpToolSource,
  type McpHttpServerParams,
  type McpServerOptions,
  type McpServerParams,
  type McpServerStatus,
  type McpStdioServerParams,
  type McpToolInfo,
  type McpToolResult,
} from './llm/index.js';
export { MinDurationInterruptionStrategy, MinWordsInterruptionStrategy, type InterruptionStrategy, type VoiceActivityDetector } from './turns/index.js';
export { BackchannelInterruptionStrategy, DEFAULT_BACKCHANNELS, type BackchannelInterruptionOptions } from './turns/index.js';
export { NoiseSuppressionFilter, type NoiseSuppressionKind } from './audio/noise/index.js';

// Keypad (DTMF): the caller's keys as input (VoiceAgent's `dtmf` option), the ready-made send_dtmf tool, the keys
// themselves, and the legacy callback of PCMO input actions.
export { sendDtmfTool, type AgentTool, type SendDtmfArgs, type SendDtmfToolOptions } from './llm/index.js';
export type { DtmfOptions } from './conversation/index.js';
export { parseDtmfSequence, type DtmfDigit, type DtmfSendKey } from './frames/index.js';
export { dtmfCallbackHandler, parseDtmfCallback, type DtmfCallbackListener, type PiopiyDtmfResult } from './piopiy/index.js';

// The Piopiy REST API: the client, what its methods take and return, its errors.
export {
  PiopiyApiError,
  PiopiyError,
  PiopiyNetworkError,
  PiopiyValidationError,
  RestClient,
  type AgentEndpoint,
  type AiApi,
  type AiCallInput,
  type CallVariables,
  type CallerIdInput,
  type CallerInputMode,
  type ConnectAction,
  type ConnectEndpoint,
  type ConnectOptions,
  type ConnectParams,
  type ConnectStrategy,
  type DtmfInputOptions,
  type FailoverInput,
  type FlowApi,
  type FlowCallInput,
  type HangupAction,
  type HangupOptions,
  type InferredRawPipelineAction,
  type InputAction,
  type InputResultTarget,
  type InputRetryOptions,
  type NetworkFailure,
  type OutboundCallOptions,
  type ParamAction,
  type PcmoAction,
  type PcmoApi,
  type PcmoCallInput,
  type PcmoConnectOptions,
  type PcmoConnectParams,
  type PcmoDtmf,
  type PcmoPrompt,
  type PcmoRecording,
  type PcmoRetries,
  type PiopiyResponse,
  type PipelineAction,
  type PipelineBuilder,
  type PipelineInput,
  type PipelineSource,
  type PlayAction,
  type PlayGetInputAction,
  type PlayPrompt,
  type PstnEndpoint,
  type RawConnectAction,
  type RawPipelineAction,
  type RecordAction,
  type RecordingChannels,
  type RecordingFormat,
  type RecordingOptions,
  type RestClientOptions,
  type ScalarValue,
  type SipEndpoint,
  type StreamAction,
  type StreamActionOptions,
  type StreamListenMode,
  type StreamVoiceQuality,
  type VoiceApi,
  type VoiceCallInput,
  type AgentsApi,
  type CallsApi,
  type CallHangupOptions,
  type CreateAgentInput,
  type QueuedAction,
  type RouteNumberInput,
  type TransferDestination,
  type TransferFailureReason,
  type TransferState,
  type TransferStatus,
  type WaitForTransferOptions,
  type WarmTransferInput,
} from './piopiy/index.js';

// Transports: the ones that ship, and the bases and events to write another.
export {
  BaseInputTransport,
  BaseOutputTransport,
  CallFailedError,
  LiveKitTransport,
  MemoryTransport,
  PiopiyStreamServer,
  PiopiyStreamTransport,
  TransportEventEmitter,
  type CallSession,
  type AudioFormat,
  type CallTransport,
  type TransportAudioFormats,
  type CallerConnectOptions,
  type LiveKitRoomDriver,
  type LiveKitRoomEvents,
  type LiveKitTransportOptions,
  type MemoryCaller,
  type MemoryOutputTransport,
  type MemoryTransportOptions,
  type OutputTransportOptions,
  type PiopiyStreamServerOptions,
  type ReceivedChunk,
  type StreamCallFlow,
  type StreamSampleRate,
  type TransportEvents,
} from './transports/index.js';

// Carrier media streams (docs/carriers.md): the shared base with its jitter buffer, and Twilio.
export {
  JitterBuffer,
  MediaStreamProtocolError,
  MediaStreamTransport,
  TwilioApiError,
  TwilioCalls,
  TwilioSerializer,
  TwilioServer,
  connectStreamTwiml,
  createTwilioServer,
  dialTwiml,
  isValidTwilioSignature,
  twilioSignature,
  type JitterBufferOptions,
  type JitterBufferStats,
  type MediaStreamEvent,
  type MediaStreamJitterOptions,
  type MediaStreamMessage,
  type MediaStreamSerializer,
  type MediaStreamStart,
  type MediaStreamTransportOptions,
  type PiopiyStreamTransportOptions,
  type TwilioCallSession,
  type TwilioCredentials,
  type TwilioServerOptions,
} from './transports/index.js';

// Exotel's Voicebot applet stream (docs/carriers.md, "Exotel").
export {
  EXOTEL_SAMPLE_RATES,
  ExotelSerializer,
  ExotelServer,
  createExotelServer,
  type ExotelCallSession,
  type ExotelSampleRate,
  type ExotelServerOptions,
  type MediaStreamSessionBase,
} from './transports/index.js';

// The JSON stream serializer every JSON carrier states its shape to (docs/carriers.md).
export { JsonStreamSerializer, type JsonStreamMedia, type JsonStreamShape } from './transports/index.js';

// Plivo Audio Streams (docs/carriers.md, "Plivo").
export {
  PLIVO_CONTENT_TYPES,
  PlivoApiError,
  PlivoCalls,
  PlivoSerializer,
  PlivoServer,
  createPlivoServer,
  isValidPlivoSignatureV3,
  plivoDialXml,
  plivoSignatureV3,
  plivoStreamXml,
  type PlivoCallSession,
  type PlivoContentType,
  type PlivoCredentials,
  type PlivoServerOptions,
} from './transports/index.js';

// Telnyx Call Control with media streaming (docs/carriers.md, "Telnyx").
export {
  TELNYX_STREAM_SHAPE,
  TelnyxApiError,
  TelnyxCalls,
  TelnyxSerializer,
  TelnyxServer,
  createTelnyxServer,
  isValidTelnyxSignature,
  telnyxPublicKey,
  type TelnyxCallSession,
  type TelnyxCredentials,
  type TelnyxServerOptions,
} from './transports/index.js';

// Vonage Voice API WebSocket audio (docs/carriers.md, "Vonage").
export {
  VONAGE_SAMPLE_RATES,
  VonageApiError,
  VonageCalls,
  VonageSerializer,
  VonageServer,
  createVonageServer,
  isValidVonageWebhook,
  vonageApplicationJwt,
  type VonageCallSession,
  type VonageCredentials,
  type VonageSampleRate,
  type VonageServerOptions,
} from './transports/index.js';

// Service bases, for a vendor of your own; the vendors themselves are in `piopiy-ai/services/<vendor>`.
export {
  LLMService,
  RealtimeService,
  STTService,
  SegmentedSTTService,
  SERVICE_ERROR_CODES,
  ServiceError,
  TTSService,
  UnsaidTextError,
  type LLMServiceOptions,
  type LLMStreamEvent,
  type LLMToolSettings,
  type PlayoutPosition,
  type RealtimeAudioRates,
  type RealtimeCallSetup,
  type RealtimeEvents,
  type RealtimeServiceOptions,
  type RealtimeUsage,
  type RealtimeVendorSession,
  type STTServiceOptions,
  type SegmentedSTTServiceOptions,
  type ServiceErrorCode,
  type ServiceErrorOptions,
  type StreamCompletionOptions,
  type SynthesizeOptions,
  type TTSChunk,
  type TTSServiceOptions,
} from './services/base/index.js';

// Frames and pipelines, for processors of your own.
export {
  inputAudioFrame,
  makeFrame,
  outputAudioFrame,
  ttsAudioFrame,
  type AudioFields,
  type BotStartedSpeakingFrame,
  type BotStoppedSpeakingFrame,
  type CancelFrame,
  type CancelTaskFrame,
  type ControlFrame,
  type DataFrame,
  type EndFrame,
  type EndTaskFrame,
  type ErrorFrame,
  type Frame,
  type FrameBase,
  type FrameDirection,
  type FrameFields,
  type FrameOfType,
  type FrameType,
  type FunctionCallInProgressFrame,
  type FunctionCallResultFrame,
  type InputAudioFrame,
  type InputDTMFFrame,
  type InputTransportMessageFrame,
  type InterruptionFrame,
  type InterruptionTaskFrame,
  type JSONSchema,
  type LLMAssistantMessage,
  type LLMContextFrame,
  type LLMContextSnapshot,
  type LLMMessage,
  type LLMResponseEndFrame,
  type LLMResponseStartFrame,
  type LLMSystemMessage,
  type LLMTextFrame,
  type LLMToolCall,
  type LLMToolCallsFrame,
  type LLMToolDefinition,
  type LLMToolResultMessage,
  type LLMUsageMetric,
  type LLMUserMessage,
  type MetricsData,
  type MetricsFrame,
  type OutputAudioFrame,
  type OutputDTMFFrame,
  type OutputTransportMessageFrame,
  type ProcessingMetric,
  type STTUsageMetric,
  type SpeakFrame,
  type StartFrame,
  type SystemFrame,
  type TTFBMetric,
  type TTSAudioFrame,
  type TTSStartedFrame,
  type TTSStoppedFrame,
  type TTSTextFrame,
  type TTSUsageMetric,
  type TextFrame,
  type TranscriptionCompleteFrame,
  type TranscriptionFrame,
  type TranscriptionWord,
  type UserStartedSpeakingFrame,
  type UserStoppedSpeakingFrame,
} from './frames/index.js';
export {
  FrameProcessor,
  Pipeline,
  PipelineTask,
  type FrameObserver,
  type FrameProcessEvent,
  type FrameProcessorOptions,
  type FramePushEvent,
  type PipelineTaskOptions,
  type PipelineTaskState,
  type ProcessorSetup,
} from './pipeline/index.js';

// Audio: PCM16, G.711, resampling, WAV, framing, levels, voice activity detection.
export {
  AudioChunker,
  DEFAULT_VAD_PARAMS,
  SileroVADAnalyzer,
  StreamingResampler,
  VADAnalyzer,
  WavFormatError,
  alawToLinear,
  alawToPcm,
  amplitudeToDbfs,
  bytesToInt16,
  chunkAudio,
  concatInt16,
  dbfs,
  dbfsToAmplitude,
  durationMs,
  extractChannel,
  float32ToInt16,
  int16ToBytes,
  int16ToFloat32,
  interleaveStereo,
  linearToAlaw,
  linearToMulaw,
  mulawToLinear,
  mulawToPcm,
  pcmToAlaw,
  pcmToMulaw,
  peak,
  readWav,
  readWavFile,
  resample,
  rms,
  samplesForMs,
  toMono,
  writeWav,
  writeWavFile,
  type AudioChunkerOptions,
  type ChunkerFlushOptions,
  type ResamplerQuality,
  type SileroInferenceThread,
  type SileroRuntimeName,
  type SileroSampleRate,
  type SileroVADOptions,
  type StreamingResamplerOptions,
  type VADAnalyzerOptions,
  type VADParams,
  type VADState,
  type WavAudio,
} from './audio/index.js';

// Logging.
export { createLogger, getDefaultLogger, silentLogger, type CreateLoggerOptions, type LogFn, type LogLevel, type Logger } from './logging/index.js';

// Time: every timer of a call runs on a Clock (tests give a VirtualClock from piopiy-ai/testing).
export { systemClock, type Clock, type ClockTimer } from './runtime/clock.js';
