// The README's "A whole call in simulated time" snippet, run as written: extracted from README.md, written next to
// this test and imported (the package name resolves to the source here, as in the examples' tests).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { readmeSnippet, repoRoot } from '../support/readme.js';

const dir = new URL('test/testing/.readme/', repoRoot);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README: a whole call in simulated time', () => {
  it('runs as written and reports the conversation in order', async () => {
    mkdirSync(dir, { recursive: true });
    const file = new URL('simulated-call.ts', dir);
    writeFileSync(file, readmeSnippet('simulated-call'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const started = performance.now();
    let printed: unknown[][];
    try {
      await import(file.pathname);
    } finally {
      printed = [...log.mock.calls];
      log.mockRestore();
    }
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
