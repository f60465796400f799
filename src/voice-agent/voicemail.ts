// Answering-machine detection on a VoiceAgent's outbound call: what the agent does with the detector's decision.
// A person: the greeting is said (it was held back while deciding). A machine: the `voicemail` event, then a
// hang-up, or the configured message once the greeting is over (the beep), then a hang-up.
import type { Logger } from '../logging/index.js';
import { sleep, type Clock } from '../runtime/clock.js';
import {
  VoicemailProcessor,
  type AnsweringDecision,
  type VoicemailDetectionOptions,
  type VoicemailEvent,
} from '../voicemail/index.js';
import type { SpeechPlayout } from './playout.js';

/** After a hang-up, how long the carrier has to end the call before the agent ends the conversation itself. */
const HANG_UP_GRACE_MS = 2000;

export interface VoicemailHooks {
  logger: Logger;
  clock: Clock;
  /** Aborted when the conversation is over. */
  signal: AbortSignal;
  /** A person answered: say the greeting now. */
  greet(): void;
  /** Says `text` after what is queued; resolves once it has been played (or the call ended). */
  sayAndWait(text: string): Promise<SpeechPlayout>;
  /** Ends the conversation. */
  end(reason: string): void;
  onHuman(decision: AnsweringDecision): void;
  onVoicemail(event: VoicemailEvent): void;
}

export function createVoicemailProcessor(options: VoicemailDetectionOptions, answeredBy: string | undefined, hooks: VoicemailHooks): VoicemailProcessor {
  const { onMachine } = options;
  const hangUp = async (): Promise<void> => {
    try {
      if (options.hangUp !== undefined) {
        await options.hangUp();
        // The carrier ends the call (the caller leaves, which ends the conversation); leaving first would end it
        // as "agent left" instead of as a hang-up.
        await sleep(hooks.clock, HANG_UP_GRACE_MS, hooks.signal);
      }
    } catch (error) {
      hooks.logger.warn({ err: error }, 'voicemail: hanging up failed; ending the conversation');
    }
    hooks.end('answering machine');
  };
  return new VoicemailProcessor({
    ...options,
    ...(answeredBy === undefined ? {} : { answeredBy }),
    onDecision: (decision) => {
      hooks.logger.info({ answeredBy: decision.answeredBy, reason: decision.reason, decidedAtMs: Math.round(decision.decidedAtMs) }, 'answering-machine detection decided');
      if (decision.answeredBy === 'human') {
        hooks.onHuman(decision);
        hooks.greet();
        return;
      }
      hooks.onVoicemail({ ...decision, answeredBy: 'machine', action: onMachine === 'hang-up' ? 'hang-up' : 'leave-message' });
      if (onMachine === 'hang-up') void hangUp();
    },
    onGreetingEnd: (end, atMs) => {
      if (onMachine === 'hang-up') return;
      hooks.logger.info({ end, atMs: Math.round(atMs) }, 'voicemail: the greeting is over; leaving the message');
      void hooks.sayAndWait(onMachine.leaveMessage).then(hangUp);
    },
  });
}
