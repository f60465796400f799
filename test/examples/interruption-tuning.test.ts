// examples/interruption-tuning.ts through `piopiy-ai demo`: the agent with a two-word interruption strategy and
// custom VAD settings (confidence 0.6, stop 0.3 s) hears both caller lines and says its long answer in full.
import { describe, expect, it } from 'vitest';
import { hasPocketsphinx, runExampleDemo } from './run-demo.js';

describe('examples/interruption-tuning.ts', () => {
  it.skipIf(!hasPocketsphinx)('with the tuned VAD and MinWords strategy: a long answer said in full, then the next turn [needs pocketsphinx]', async () => {
    const { code, stderr, result } = await runExampleDemo('examples/interruption-tuning.ts');
    expect(code, stderr).toBe(0);
    expect(result.ok, stderr).toBe(true);
    expect(result.turns.map((t) => [t.role, t.text]), stderr).toEqual([
      ['assistant', 'Hello! Ask me how our broadband plans work.'],
      ['user', 'Can you explain how the plan works'],
      [
        'assistant',
        'Sure. It works in three steps. First, you pick how much data you need each month. Second, you pick a speed. ' +
          'Third, we install the router for free within two days.',
      ],
      ['user', 'That is all goodbye'],
      ['assistant', 'You are welcome. Goodbye!'],
    ]);
    // Both caller turns were detected (VAD with stopSecs 0.3) and answered; nothing was cut off.
    expect(result.latency.voiceToVoiceMs).toHaveLength(2);
    expect(stderr).not.toContain('(interrupted)');
    // The long answer really is long: seconds of speech the caller could have interrupted.
    const long = result.turns[2]!;
    expect(long.endMs - long.startMs).toBeGreaterThan(5000);
  }, 60_000);
});
