// The scripted overlaps: what a caller says while the bot is talking, and whether the bot should stop. Each line is
// given as the interim transcripts a streaming STT would send, word by word, then the final.
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
