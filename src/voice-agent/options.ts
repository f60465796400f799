// What a VoiceAgent is configured with: the agent's own options, and the services and settings `action()` takes.
import type { NoiseSuppressionKind } from '../audio/noise/index.js';
import type { SileroSampleRate, VADParams } from '../audio/vad/index.js';
import type { ErrorFrame, MetricsData } from '../frames/index.js';
import type { DtmfOptions } from '../conversation/dtmf-aggregator.js';
import type { CallInfo } from '../llm/tools.js';
import type { Logger } from '../logging/index.js';
import type { FrameObserver } from '../pipeline/index.js';
import type { Clock } from '../runtime/clock.js';
import type { LLMService } from '../services/base/llm-service.js';
import type { RealtimeService } from '../services/base/realtime-service.js';
import type { STTService } from '../services/base/stt-service.js';
import type { TTSService } from '../services/base/tts-service.js';
import type { CallTransport } from '../transports/base/transport.js';
import type { InterruptionStrategy } from '../turns/interruption-strategies.js';
import type { VoiceActivityDetector } from '../turns/vad-processor.js';
import type { AnsweringDecision, VoicemailDetectionOptions, VoicemailEvent } from '../voicemail/index.js';

export interface VoiceAgentOptions {
  /** The system prompt: who the agent is and what it may do. */
  instructions: string;
  /** Said as soon as the caller is connected, verbatim (the LLM is not run for it). */
  greeting?: string;
  /** Seconds with neither caller nor bot speech before the agent checks in (then ends the call). Default 60. */
  idleTimeoutSecs?: number;
  /** What the agent says when the caller has been silent for `idleTimeoutSecs`. */
  idleReprompt?: string;
  /** How many times it says the reprompt before ending the call. Default 1. */
  idleReprompts?: number;
  /** Said before ending a call on idle. */
  idleGoodbye?: string;
  /**
   * Said before the call ends because code running for it failed with an error nothing caught (the Agent then ends
   * that call only; see `AgentOptions.isolateCallErrors`).
   */
  errorGoodbye?: string;
  /** Spoken once when tools take longer than `toolFillerAfterMs` and the bot is silent; false for none. */
  toolFiller?: string | false;
  toolFillerAfterMs?: number;
  /**
   * Keys the caller presses become user messages the model reads ("The caller pressed: 1 2 3"): an entry ends at
   * the terminator (`#`), after `maxDigits`, or `timeoutMs` (3 s) after the last key. A key interrupts the bot.
   * Default: on, with those defaults; false: keys are ignored.
   */
  dtmf?: DtmfOptions | false;
  /**
   * For outbound calls: decide from the first seconds whether a person or an answering machine answered (the
   * greeting's length and cadence from the VAD, a beep, voicemail phrases in the transcript, the carrier's own
   * verdict), holding the greeting and the model back meanwhile. A person: the `human` event, then the greeting. A
   * machine: the `voicemail` event, then `onMachine`. Needs `vad` in `action()`; not with a speech-to-speech model.
   * Method and accuracy: docs/carriers.md.
   */
  voicemailDetection?: VoicemailDetectionOptions;
  /** The call this conversation serves (passed to tool handlers); set by the Agent session. */
  call?: CallInfo;
  /** Where the audio comes from and goes to; set by the Agent session, or given to `action()`. */
  transport?: CallTransport;
  logger?: Logger;
}

export interface VADOptions extends Partial<VADParams> {
  /** Rate the detector runs at: 8000 or 16000. Default: 16000, or 8000 when the pipeline's input is 8 kHz. */
  sampleRate?: SileroSampleRate;
}

/** The services of a cascade: speech to text, a language model, text to speech. */
export interface CascadeActionOptions extends CommonActionOptions {
  stt: STTService;
  llm: LLMService;
  tts: TTSService;
  realtime?: undefined;
}

/** A speech-to-speech model (OpenAI Realtime, ...) in place of the cascade. */
export interface RealtimeActionOptions extends CommonActionOptions {
  realtime: RealtimeService;
  /** Who takes the caller's turns: the model's own VAD (default), or ours (`vad` is then required). */
  turnDetection?: 'server' | 'local';
  stt?: undefined;
  llm?: undefined;
  tts?: undefined;
}

export type ActionOptions = CascadeActionOptions | RealtimeActionOptions;

export interface CommonActionOptions {
  /** true: Silero with the defaults; an object: Silero with these settings; or any detector. Default: none. */
  vad?: boolean | VADOptions | VoiceActivityDetector;
  allowInterruptions?: boolean;
  /**
   * Default: at least one word that is not a backchannel ("uh-huh", "okay", "yeah": BackchannelInterruptionStrategy;
   * with `realtime`: null); null: interrupt as soon as the caller's voice is detected.
   */
  interruptionStrategy?: InterruptionStrategy | null;
  /**
   * Noise suppression of the caller's audio before the VAD and the STT (or the speech-to-speech model): 'gtcrn' (neural, 16 kHz, about 0.12 s of
   * CPU per second of audio) or 'rnnoise' (48 kHz, about 0.02 s per second). Default: off. See docs/hearing.md.
   */
  noiseSuppression?: NoiseSuppressionKind;
  /**
   * Takes the agent's own voice out of the caller's audio before the VAD and the STT, for callers on speakerphones
   * and softphones whose microphone hears the agent: the audio the output transport plays is the reference, and an
   * adaptive filter (TypeScript, about 0.02 s of CPU per second of audio) learns the echo path, up to 250 ms
   * long. Default: off. See docs/hearing.md.
   */
  echoCancellation?: boolean;
  enableMetrics?: boolean;
  transport?: CallTransport;
  /** Rate of audio entering the pipeline. Default: the transport's native input rate (else 16000). */
  audioInSampleRate?: number;
  /** Rate of audio sent to the caller. Default: the transport's native output rate (else 8000). */
  audioOutSampleRate?: number;
  observers?: readonly FrameObserver[];
  /**
   * The call's time: every timer of the conversation (output pacing, turn, idle, filler, false-interruption,
   * LLM stall and retry, tool timeouts) runs on it. Default: the system clock. Tests give a `VirtualClock`
   * (`piopiy-ai/testing`) to run a whole call in simulated time.
   */
  clock?: Clock;
}

export interface VoiceAgentEvents {
  'user-turn': [text: string];
  'assistant-turn': [text: string, interrupted: boolean];
  'tool-call': [call: { toolCallId: string; name: string; arguments: unknown; result: unknown; error?: string }];
  metrics: [data: MetricsData];
  error: [frame: ErrorFrame];
  /** Answering-machine detection (`voicemailDetection`) found a person: when, and from what. */
  human: [decision: AnsweringDecision];
  /** Answering-machine detection found a machine. */
  voicemail: [event: VoicemailEvent];
}
