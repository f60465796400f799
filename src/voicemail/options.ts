// What an outbound call's answering-machine detection is configured with (`VoiceAgentOptions.voicemailDetection`).
import type { AnsweringDecision, AnsweringMachineDetectorOptions } from './answering-machine-detector.js';

export interface VoicemailDetectionOptions extends AnsweringMachineDetectorOptions {
  /**
   * What to do when a machine answers: hang up, or wait for the end of its greeting (the beep) and leave a message,
   * then hang up.
   */
  onMachine: 'hang-up' | { leaveMessage: string };
  /**
   * Ends the call at the carrier (`() => call.hangUp()` on a carrier's server, `() => rest.voice.hangup(callId)` on
   * Piopiy). Default: the conversation ends and the media connection closes, which ends a Twilio
   * `<Connect><Stream>` call that has no TwiML after it; elsewhere the call may stay up, so give `hangUp`.
   */
  hangUp?: () => Promise<void> | void;
  /**
   * The carrier's own verdict, where it detects machines itself (Twilio AMD's `AnsweredBy`). Default: the call's
   * `AnsweredBy` metadata, which TwilioServer passes on from the answer webhook when `MachineDetection` was asked
   * for. `unknown` leaves the decision to our detection.
   */
  answeredBy?: string;
  /** After a machine decision with no beep heard, this much silence ends its greeting. Default 2000 ms. */
  greetingEndSilenceMs?: number;
  /** Longest wait for a machine's greeting to end before the message is left anyway. Default 20000 ms. */
  maxGreetingWaitMs?: number;
}

/** The `voicemail` event: a machine answered, and what the agent does about it. */
export interface VoicemailEvent extends AnsweringDecision {
  readonly answeredBy: 'machine';
  readonly action: 'hang-up' | 'leave-message';
}

/** Throws a TypeError for options that cannot work. */
export function checkVoicemailDetectionOptions(options: VoicemailDetectionOptions): void {
  const onMachine = options.onMachine as unknown;
  const message = typeof onMachine === 'object' && onMachine !== null ? (onMachine as { leaveMessage?: unknown }).leaveMessage : undefined;
  if (onMachine !== 'hang-up' && (typeof message !== 'string' || message.trim() === '')) {
    throw new TypeError(`voicemailDetection.onMachine must be 'hang-up' or { leaveMessage: '<a non-empty text>' }, got ${JSON.stringify(onMachine)}`);
  }
  if (options.hangUp !== undefined && typeof options.hangUp !== 'function') throw new TypeError('voicemailDetection.hangUp must be a function');
}
