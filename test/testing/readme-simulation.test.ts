// The README's "A whole call in simulated time" snippet, run as written: extracted from README.md, written next to
// this test and imported (the package name resolves to the source here, as in the examples' tests).
import { describe, expect, it } from 'vitest';
import { runReadmeSnippet } from '../support/readme.js';

describe('README: a whole call in simulated time', () => {
  it('runs as written and reports the conversation in order', async () => {
    const started = performance.now();
    const printed = await runReadmeSnippet('simulated-call');
    const wallMs = performance.now() - started;
    const events = printed[0]![0] as { kind: string; text?: string; name?: string; atMs: number }[];
    expect(events.map((e) => (e.kind === 'tool' ? `tool ${e.name}` : `${e.kind}: ${e.text}`))).toEqual([
      'agent: Hello! How can I help?',
      'caller: What is the weather in Paris?',
      'tool get_weather',
      'agent: It is 18 degrees in Paris.',
      'agent: Are you still there?',
    ]);
    expect(events.at(-1)!.atMs).toBeGreaterThan(20_000);
    expect(wallMs).toBeLessThan(20_000); // simulated, not real, time (a few hundred ms here)
  });
});
