// The README's keypad (DTMF) snippet, run as written: extracted from README.md, written next
// to this test and imported (the package name resolves to the source here, as in the examples' tests).
import { describe, expect, it } from 'vitest';
import { runReadmeSnippet } from '../support/readme.js';

describe('README: keypad (DTMF)', () => {
  it('runs as written: keys in become a message the model answers, keys out reach the caller', async () => {
    const printed = await runReadmeSnippet('keypad');
    const events = printed[0]![0] as { kind: string; text?: string; name?: string }[];
    expect(events.map((e) => (e.kind === 'tool' ? `tool ${e.name}` : `${e.kind}: ${e.text}`))).toEqual([
      'agent: For sales press 1, or type your order number and then hash.',
      'caller: The caller pressed: 4 7 1 1',
      'agent: Looking up your order.',
      'caller: Please check my voicemail',
      'tool send_dtmf', // reported when it ran; the reply before it, when it had been heard
      'agent: Entering your code.',
    ]);
  });
});
