// Answering-machine detection's accuracy and decision time on 24 simulated voicemail greetings (Flite, five voices,
// 18 with a beep of 440-2000 Hz, 6 without) and 24 people answering ("Hello?", "Yes, speaking", ...), over an 8 kHz
// μ-law line with a little noise, through Silero VAD at the VoiceAgent's defaults. Audio is fed faster than real
// time; times are the call's. Prints the figures docs/carriers.md quotes. (Slow only for Flite and Silero: ~30 s.)
import { describe, expect, it } from 'vitest';
import { simulatedAnswers } from '../voicemail/greetings.js';
import { classify, newVad, type Outcome } from '../voicemail/evaluate.js';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe('answering-machine detection accuracy', () => {
  it('decides at least 90 % of machines and of people right, machines within 5 s and people within 1.5 s of their last word', async () => {
    const answers = await simulatedAnswers();
    const vad = newVad();
    const outcomes: Outcome[] = [];
    for (const answer of answers) outcomes.push(await classify(answer, vad));
    const figures = (['machine', 'human'] as const).map((kind) => {
      const mine = outcomes.filter((o) => o.answer.kind === kind);
      const right = mine.filter((o) => o.decision?.answeredBy === kind);
      const times = mine.map((o) => o.decision?.decidedAtMs ?? Infinity);
      // For people, what the caller waits: from the end of their words to the decision.
      const waits = mine.map((o) => (o.decision?.decidedAtMs ?? Infinity) - o.answer.speechEndMs);
      const reasons: Record<string, number> = {};
      for (const o of mine) reasons[o.decision?.reason ?? 'none'] = (reasons[o.decision?.reason ?? 'none'] ?? 0) + 1;
      return {
        kind,
        cases: mine.length,
        right: right.length,
        accuracy: right.length / mine.length,
        decidedAtMs: { p50: percentile(times, 50), p90: percentile(times, 90), max: Math.max(...times) },
        afterLastWordMs: { p50: Math.round(percentile(waits, 50)), p90: Math.round(percentile(waits, 90)) },
        reasons,
        wrong: mine.filter((o) => o.decision?.answeredBy !== kind).map((o) => o.answer.text),
      };
    });
    const beeps = outcomes.filter((o) => o.answer.beep !== undefined);
    const beepsHeard = beeps.filter((o) => o.beepAtMs !== undefined).length;
    const falseBeeps = outcomes.filter((o) => o.answer.beep === undefined && o.beepAtMs !== undefined).length;
    console.log(JSON.stringify({ figures, beeps: { played: beeps.length, heard: beepsHeard, falseBeeps } }, null, 1));
    const [machines, humans] = figures;
    expect(machines!.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(humans!.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(machines!.decidedAtMs.p90).toBeLessThan(5000);
    expect(humans!.afterLastWordMs.p90).toBeLessThan(1500);
    expect(beepsHeard).toBe(beeps.length);
    expect(falseBeeps).toBe(0);
  });
});
