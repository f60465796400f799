// The scripted overlaps: what a caller says while the bot is talking, and whether the bot should stop. Each line is
// given as the interim transcripts a streaming STT would send, word by word, then the final.
import { Conversation } from '../../src/conversation/conversation.js';
import { silentLogger } from '../../src/logging/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import type { InterruptionStrategy } from '../../src/turns/index.js';
export interface Overlap {
  text: string;
  /** true: a barge-in (the bot must stop); false: a backchannel (the bot goes on). */
  interrupt: boolean;
}

const BACKCHANNELS = [
  'uh-huh', 'Uh huh.', 'okay', 'Okay.', 'OK', 'yeah', 'Yeah.', 'right', 'Right.', 'mm-hmm', 'Mm hmm.', 'mhm', 'hmm',
  'yeah yeah', 'okay okay', 'uh-huh, okay', 'right, right', 'all right', 'I see', 'got it', 'oh okay', 'yep', 'ah',
];

const BARGE_INS = [
  'wait', 'Wait!', 'stop', 'Stop.', 'no', 'No.', 'no no no', 'hold on', 'sorry', 'excuse me', 'okay wait',
  'yeah but I asked about my bill', 'uh-huh, but that is not what I need', 'right, can you repeat that',
  'I want to talk to a human', 'what', 'hang on a second', 'that is wrong', 'okay stop', 'can I ask something',
  'mm-hmm, and the price?', 'yes',
];

export const OVERLAPS: readonly Overlap[] = [
  ...BACKCHANNELS.map((text) => ({ text, interrupt: false })),
  ...BARGE_INS.map((text) => ({ text, interrupt: true })),
];

/** Says `text` over a speaking bot, one interim transcript per word then the final; whether the bot was interrupted. */
export function interruptsBot(text: string, strategy?: InterruptionStrategy): boolean {
  const conversation = new Conversation({
    clock: new VirtualClock(),
    logger: silentLogger,
    ...(strategy === undefined ? {} : { interruptionStrategy: strategy }),
  });
  let interrupted = false;
  conversation.bind({ interrupt: () => (interrupted = true), say: () => undefined });
  conversation.setBotSpeaking(true);
  conversation.setUserSpeaking(true);
  conversation.beginCallerTurn();
  const words = text.split(' ');
  for (let i = 1; i <= words.length; i++) conversation.callerWords(words.slice(0, i).join(' '));
  conversation.setUserSpeaking(false);
  conversation.commitUserTurn(text);
  conversation.close();
  return interrupted;
}

/** The overlaps that interrupted but should not have, and those that should have but did not. */
export function scoreOverlaps(strategy?: () => InterruptionStrategy): { falseBargeIns: string[]; missedBargeIns: string[] } {
  const falseBargeIns: string[] = [];
  const missedBargeIns: string[] = [];
  for (const { text, interrupt } of OVERLAPS) {
    const interrupted = interruptsBot(text, strategy?.());
    if (interrupted && !interrupt) falseBargeIns.push(text);
    if (!interrupted && interrupt) missedBargeIns.push(text);
  }
  return { falseBargeIns, missedBargeIns };
}
