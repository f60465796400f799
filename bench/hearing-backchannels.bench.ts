// Backchannels over the bot: false barge-ins (a backchannel that stopped the bot) and missed barge-ins (a "wait" or
// a real sentence that did not) over the scripted overlaps of bench/hearing/overlaps.ts, fed as interim transcripts
// word by word to the call's Conversation; for the default strategy and for the old default (any one word).
import { MinWordsInterruptionStrategy } from '../src/turns/index.js';
import { emit } from './lib.js';
import { OVERLAPS, scoreOverlaps } from './hearing/overlaps.js';

const backchannels = OVERLAPS.filter((o) => !o.interrupt).length;
const bargeIns = OVERLAPS.length - backchannels;
for (const [strategy, factory] of [
  ['backchannel (default)', undefined],
  ['min-words 1', () => new MinWordsInterruptionStrategy({ minWords: 1 })],
] as const) {
  const { falseBargeIns, missedBargeIns } = scoreOverlaps(factory);
  emit({ name: 'hearing_false_barge_ins', value: falseBargeIns.length, unit: 'count', of: backchannels, strategy });
  emit({ name: 'hearing_missed_barge_ins', value: missedBargeIns.length, unit: 'count', of: bargeIns, strategy });
}
