// Frames: everything that moves through a pipeline is one of these plain objects, discriminated by `type`.
// Plain objects (not classes) keep the hot path cheap: a 20 ms audio frame is one small allocation with a
// stable shape, and `switch (frame.type)` narrows it for the compiler.
import type { DtmfDigit, DtmfSendKey } from './dtmf.js';
import type { LLMContextSnapshot, LLMToolCall } from './llm.js';
import type { MetricsData } from './metrics.js';

export type FrameDirection = 'downstream' | 'upstream';

export interface FrameBase<T extends string> {
  readonly type: T;
  /** Process-wide increasing number; tells frames apart in logs and observers. */
  readonly id: number;
  /** Wall-clock creation time in milliseconds (`performance.now()`, not the pipeline clock), for logs and tracing. */
  readonly timestamp: number;
}

/** PCM16 audio, interleaved when `channels` > 1. */
export interface AudioFields {
  readonly audio: Int16Array;
  readonly sampleRate: number;
  readonly channels: number;
}

// ---- system frames: processed on arrival, ahead of queued data frames --------------------------------------

export interface StartFrame extends FrameBase<'start'> {
  readonly audioInSampleRate: number;
  readonly audioOutSampleRate: number;
  readonly allowInterruptions: boolean;
  readonly enableMetrics: boolean;
}

/** Stop now: queued frames are dropped and every processor stops. */
export interface CancelFrame extends FrameBase<'cancel'> {
  readonly reason?: string;
}

/** The caller barged in: drop queued bot output, cancel LLM/TTS in flight, stop playing audio. */
export type InterruptionFrame = FrameBase<'interruption'>;

export type UserStartedSpeakingFrame = FrameBase<'user-started-speaking'>;
export type UserStoppedSpeakingFrame = FrameBase<'user-stopped-speaking'>;
export type BotStartedSpeakingFrame = FrameBase<'bot-started-speaking'>;
export type BotStoppedSpeakingFrame = FrameBase<'bot-stopped-speaking'>;

export interface ErrorFrame extends FrameBase<'error'> {
  readonly error: Error;
  /** A fatal error ends the pipeline task; a non-fatal one is reported and the call goes on. */
  readonly fatal: boolean;
  /** Name of the processor where it happened. */
  readonly processor?: string;
}

export interface MetricsFrame extends FrameBase<'metrics'> {
  readonly data: readonly MetricsData[];
}

/** Pushed upstream by a processor to ask the task to end gracefully (e.g. after a goodbye). */
export interface EndTaskFrame extends FrameBase<'end-task'> {
  readonly reason?: string;
}

/** Pushed upstream by a processor to ask the task to cancel at once. */
export interface CancelTaskFrame extends FrameBase<'cancel-task'> {
  readonly reason?: string;
}

/** Pushed upstream by a processor (e.g. the turn detector) to interrupt the whole pipeline from the top. */
export type InterruptionTaskFrame = FrameBase<'interruption-task'>;

export interface FunctionCallInProgressFrame extends FrameBase<'function-call-in-progress'> {
  readonly toolCallId: string;
  readonly name: string;
  readonly arguments: unknown;
}

/** A key the caller pressed. */
export interface InputDTMFFrame extends FrameBase<'input-dtmf'> {
  readonly digit: DtmfDigit;
}

/** A message from the remote side of the transport (a data-channel or stream-event JSON payload). */
export interface InputTransportMessageFrame extends FrameBase<'input-transport-message'> {
  readonly message: unknown;
}

// ---- control frames: ordered with data frames ---------------------------------------------------------------

/** End gracefully: passes through after every frame queued before it, so pending output is flushed first. */
export interface EndFrame extends FrameBase<'end'> {
  readonly reason?: string;
}

export type LLMResponseStartFrame = FrameBase<'llm-response-start'>;
export type LLMResponseEndFrame = FrameBase<'llm-response-end'>;

export interface TTSStartedFrame extends FrameBase<'tts-started'> {
  readonly contextId?: string;
}

export interface TTSStoppedFrame extends FrameBase<'tts-stopped'> {
  readonly contextId?: string;
}

export interface FunctionCallResultFrame extends FrameBase<'function-call-result'> {
  readonly toolCallId: string;
  readonly name: string;
  readonly arguments: unknown;
  /** What the tool returned (string or JSON-serialisable), or undefined when it failed. */
  readonly result: unknown;
  /** Set when the call failed: invalid arguments, unknown tool, handler error or timeout. */
  readonly error?: string;
  /** Whether the LLM should run again once every result of its response is in (default true). */
  readonly runLLM: boolean;
}

// ---- data frames ------------------------------------------------------------------------------------------

export interface InputAudioFrame extends FrameBase<'input-audio'>, AudioFields {}
export interface OutputAudioFrame extends FrameBase<'output-audio'>, AudioFields {}

/** Audio synthesised by a TTS service; played by the output transport like any output audio. */
export interface TTSAudioFrame extends FrameBase<'tts-audio'>, AudioFields {
  readonly contextId?: string;
}

export interface TextFrame extends FrameBase<'text'> {
  readonly text: string;
}

export interface TranscriptionWord {
  readonly word: string;
  /** Seconds from the start of the audio stream. */
  readonly start: number;
  readonly end: number;
  readonly confidence?: number;
}

export interface TranscriptionFrame extends FrameBase<'transcription'> {
  readonly text: string;
  /** False for interim (partial) results that a later result will replace. */
  readonly final: boolean;
  readonly userId: string;
  readonly language?: string;
  readonly words?: readonly TranscriptionWord[];
}

/**
 * From an STT service: every final transcript for the caller's audio up to the VAD stop `stopFrameId` (the id of
 * that `user-stopped-speaking` frame) has been pushed. The turn aggregator commits a turn when this arrives, so a
 * final result an STT sends in the middle of a sentence does not end the turn early.
 */
export interface TranscriptionCompleteFrame extends FrameBase<'transcription-complete'> {
  readonly stopFrameId: number;
}

/** Ask the LLM service to run on this context. */
export interface LLMContextFrame extends FrameBase<'llm-context'> {
  readonly context: LLMContextSnapshot;
}

/** A piece of streamed LLM output text. */
export interface LLMTextFrame extends FrameBase<'llm-text'> {
  readonly text: string;
}

/** The tool calls an LLM response asked for (all of them, once the response is complete). */
export interface LLMToolCallsFrame extends FrameBase<'llm-tool-calls'> {
  readonly toolCalls: readonly LLMToolCall[];
}

/** Words as the TTS service speaks them, aligned to its audio: what the caller actually hears. */
export interface TTSTextFrame extends FrameBase<'tts-text'> {
  readonly text: string;
  readonly contextId?: string;
  /** Offset of the word in the context's audio, in milliseconds, when the service gives timestamps. */
  readonly offsetMs?: number;
  /**
   * Set by the output transport on the text cut short by an interruption: `text` is then what the caller heard,
   * `unheard` the rest of the utterance that was queued to play.
   */
  readonly unheard?: string;
  /**
   * Set with `unheard`: milliseconds of this text's audio that had played when it was cut. With `offsetMs`, where
   * playback of the context stopped (a speech-to-speech model is told this to forget what was not heard).
   */
  readonly playedMs?: number;
}

/** Text for the bot to say as is (bypassing the LLM). */
export interface SpeakFrame extends FrameBase<'speak'> {
  readonly text: string;
}

/**
 * A key for the agent to press on the call (a DTMF tone), or `w` for a half-second pause. It plays in order after
 * the audio queued before it, and survives an interruption: it is what a tool did, and the model was told so.
 */
export interface OutputDTMFFrame extends FrameBase<'output-dtmf'> {
  readonly digit: DtmfSendKey;
}

export interface OutputTransportMessageFrame extends FrameBase<'output-transport-message'> {
  readonly message: unknown;
}

export type SystemFrame =
  | StartFrame
  | CancelFrame
  | InterruptionFrame
  | UserStartedSpeakingFrame
  | UserStoppedSpeakingFrame
  | BotStartedSpeakingFrame
  | BotStoppedSpeakingFrame
  | ErrorFrame
  | MetricsFrame
  | EndTaskFrame
  | CancelTaskFrame
  | InterruptionTaskFrame
  | FunctionCallInProgressFrame
  | InputDTMFFrame
  | InputTransportMessageFrame;

export type ControlFrame =
  | EndFrame
  | LLMResponseStartFrame
  | LLMResponseEndFrame
  | TTSStartedFrame
  | TTSStoppedFrame
  | FunctionCallResultFrame;

export type DataFrame =
  | InputAudioFrame
  | OutputAudioFrame
  | TTSAudioFrame
  | TextFrame
  | TranscriptionFrame
  | TranscriptionCompleteFrame
  | LLMContextFrame
  | LLMTextFrame
  | LLMToolCallsFrame
  | TTSTextFrame
  | SpeakFrame
  | OutputDTMFFrame
  | OutputTransportMessageFrame;

export type Frame = SystemFrame | ControlFrame | DataFrame;
export type FrameType = Frame['type'];
export type FrameOfType<T extends FrameType> = Extract<Frame, { type: T }>;

export type FrameKind = 'system' | 'control' | 'data';

/** Every frame type with its kind: the compiler checks this table covers the whole union. */
export const FRAME_KINDS: { readonly [T in FrameType]: FrameKind } = {
  start: 'system',
  cancel: 'system',
  interruption: 'system',
  'user-started-speaking': 'system',
  'user-stopped-speaking': 'system',
  'bot-started-speaking': 'system',
  'bot-stopped-speaking': 'system',
  error: 'system',
  metrics: 'system',
  'end-task': 'system',
  'cancel-task': 'system',
  'interruption-task': 'system',
  'function-call-in-progress': 'system',
  'input-dtmf': 'system',
  'input-transport-message': 'system',
  end: 'control',
  'llm-response-start': 'control',
  'llm-response-end': 'control',
  'tts-started': 'control',
  'tts-stopped': 'control',
  'function-call-result': 'control',
  'input-audio': 'data',
  'output-audio': 'data',
  'tts-audio': 'data',
  text: 'data',
  transcription: 'data',
  'transcription-complete': 'data',
  'llm-context': 'data',
  'llm-text': 'data',
  'llm-tool-calls': 'data',
  'tts-text': 'data',
  speak: 'data',
  'output-dtmf': 'data',
  'output-transport-message': 'data',
};

/**
 * Queued frames that an interruption keeps. An interruption discards the bot's pending output, never what the
 * caller said (their audio and transcripts), a tool's result or the keys a tool pressed, or the request to end the
 * call.
 */
const SURVIVES_INTERRUPTION: ReadonlySet<FrameType> = new Set<FrameType>([
  'input-audio',
  'transcription',
  'transcription-complete',
  'function-call-result',
  'output-dtmf',
  'end',
]);

export function isSystemFrame(frame: Frame): frame is SystemFrame {
  return FRAME_KINDS[frame.type] === 'system';
}

export function survivesInterruption(frame: Frame): boolean {
  return SURVIVES_INTERRUPTION.has(frame.type);
}

export function isOutputAudioFrame(frame: Frame): frame is OutputAudioFrame | TTSAudioFrame {
  return frame.type === 'output-audio' || frame.type === 'tts-audio';
}

export function isAudioFrame(frame: Frame): frame is InputAudioFrame | OutputAudioFrame | TTSAudioFrame {
  return frame.type === 'input-audio' || frame.type === 'output-audio' || frame.type === 'tts-audio';
}

// ---- construction -----------------------------------------------------------------------------------------

let lastFrameId = 0;

/** The next process-wide frame id. */
export function nextFrameId(): number {
  return ++lastFrameId;
}

/** The fields a caller supplies for a frame of type T (everything but type, id and timestamp). */
export type FrameFields<T extends FrameType> = Omit<FrameOfType<T>, 'type' | 'id' | 'timestamp'>;

/** Frame types whose fields are all optional, so `makeFrame(type)` needs no second argument. */
type FieldlessFrameType = {
  [T in FrameType]: Record<never, never> extends FrameFields<T> ? T : never;
}[FrameType];

/**
 * Creates a frame: `makeFrame('text', { text: 'hello' })`, `makeFrame('interruption')`.
 * Hot audio paths use the dedicated constructors below, which build the object literally.
 */
export function makeFrame<T extends FieldlessFrameType>(type: T): FrameOfType<T>;
export function makeFrame<T extends FrameType>(type: T, fields: FrameFields<T>): FrameOfType<T>;
export function makeFrame<T extends FrameType>(type: T, fields?: FrameFields<T>): FrameOfType<T> {
  return { type, id: ++lastFrameId, timestamp: performance.now(), ...fields } as FrameOfType<T>;
}

export function inputAudioFrame(audio: Int16Array, sampleRate: number, channels = 1): InputAudioFrame {
  return { type: 'input-audio', id: ++lastFrameId, timestamp: performance.now(), audio, sampleRate, channels };
}

export function outputAudioFrame(audio: Int16Array, sampleRate: number, channels = 1): OutputAudioFrame {
  return { type: 'output-audio', id: ++lastFrameId, timestamp: performance.now(), audio, sampleRate, channels };
}

export function ttsAudioFrame(audio: Int16Array, sampleRate: number, contextId?: string, channels = 1): TTSAudioFrame {
  return {
    type: 'tts-audio',
    id: ++lastFrameId,
    timestamp: performance.now(),
    audio,
    sampleRate,
    channels,
    contextId,
  };
}

export function errorFrame(error: unknown, options: { fatal?: boolean; processor?: string } = {}): ErrorFrame {
  return makeFrame('error', {
    error: toError(error),
    fatal: options.fatal ?? false,
    processor: options.processor,
  });
}

/** Turns anything thrown into an Error without losing the original (kept as `cause`). */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : `non-Error thrown: ${describeThrown(thrown)}`, {
    cause: thrown,
  });
}

function describeThrown(thrown: unknown): string {
  try {
    return JSON.stringify(thrown) ?? String(thrown);
  } catch {
    return String(thrown);
  }
}

/** A short human-readable description of a frame for logs (never includes audio bytes). */
export function describeFrame(frame: Frame): string {
  switch (frame.type) {
    case 'input-audio':
    case 'output-audio':
    case 'tts-audio':
      return `${frame.type}#${frame.id}(${frame.audio.length / frame.channels} samples @${frame.sampleRate}Hz)`;
    case 'text':
    case 'llm-text':
    case 'tts-text':
    case 'speak':
    case 'transcription':
      return `${frame.type}#${frame.id}(${JSON.stringify(frame.text)})`;
    case 'error':
      return `${frame.type}#${frame.id}(${frame.fatal ? 'fatal: ' : ''}${frame.error.message})`;
    default:
      return `${frame.type}#${frame.id}`;
  }
}
