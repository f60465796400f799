// examples/interruption-tuning.ts through `piopiy-ai demo`: the agent with a two-word interruption strategy and
// custom VAD settings (confidence 0.6, stop 0.3 s). The caller asks for the long explanation, talks over it 2 s
// in ("wait stop please"), and the agent stops: the summary shows that turn interrupted and trimmed to the words
// the caller heard, then the agent's answer to the interruption and the goodbye.
import { describe, expect, it } from 'vitest';
import { hasPocketsphinx, runExampleDemo, scriptedTurns } from './run-demo.js';

const LONG_EXPLANATION =
  'Sure. It works in three steps. First, you pick how much data you need each month. Second, you pick a speed. ' +
  'Third, we install the router for free within two days.';

describe('examples/interruption-tuning.ts', () => {
  it.skipIf(!hasPocketsphinx)('the caller barges in on the long answer: it stops, trimmed to what was heard, and the call goes on [needs pocketsphinx]', async () => {
    const { code, stderr, result } = await runExampleDemo('examples/interruption-tuning.ts');
    expect(code, stderr).toBe(0);
    expect(result.ok, stderr).toBe(true);
    expect(result.expected).toEqual({ transfer: false, interruption: true });
    expect(scriptedTurns(result).map(([role]) => role), stderr).toEqual(['assistant', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    const [greeting, ask, answer, bargeIn, afterBargeIn, goodbye, farewell] = result.turns;
    expect(greeting).toMatchObject({ role: 'assistant', text: 'Hello! Ask me how our broadband plans work.', interrupted: false });
    expect(ask).toMatchObject({ role: 'user', said: 'Can you explain how the plan works' });
    // The long answer was cut: interrupted, and only its first words (those played before the caller's words
    // stopped it) are kept.
    expect(answer).toMatchObject({ role: 'assistant', interrupted: true });
    const heardText = (answer as { text: string }).text;
    expect(LONG_EXPLANATION.startsWith(heardText), heardText).toBe(true);
    expect(heardText.length).toBeGreaterThan('Sure.'.length);
    expect(heardText.length).toBeLessThan(LONG_EXPLANATION.length);
    // The caller's line started while the agent was speaking, 2 s into the answer.
    expect(bargeIn).toMatchObject({ role: 'user', said: 'Wait stop please' });
    expect((bargeIn as { heard: string | null }).heard, stderr).not.toBeNull();
    expect(bargeIn!.startMs - answer!.startMs).toBeGreaterThanOrEqual(2000);
    expect(bargeIn!.startMs).toBeLessThan(answer!.endMs);
    expect(afterBargeIn).toMatchObject({ role: 'assistant', text: 'Of course. What would you like to know?', interrupted: false });
    expect(goodbye).toMatchObject({ role: 'user', said: 'That is all goodbye' });
    expect(farewell).toMatchObject({ role: 'assistant', text: 'You are welcome. Goodbye!', interrupted: false });
    // Every caller line was answered; the transcript marks the cut.
    expect(result.latency.voiceToVoiceMs).toHaveLength(3);
    expect(stderr).toContain('(interrupted)');
    expect(stderr).toContain('caller: Wait stop please (over the agent)');
  }, 90_000);
});
