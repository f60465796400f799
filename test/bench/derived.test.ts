import { describe, expect, it } from 'vitest';
import { derivedFigures } from '../../bench/derived.js';

const line = (o: Record<string, unknown>): string => JSON.stringify(o);
const trial = (name: string, n: number, pass: boolean, p99: number): string =>
  line({ name, value: n, pass, overhead_ms: { p50: 1, p99 } });

describe('concurrent_calls_answered_in_time', () => {
  it('is the largest N that passed with turns answered within 100 ms of one call, for both sides', () => {
    const figures = derivedFigures([
      line({ name: 'voice_to_voice_overhead_ms', calls: 1, value: -19, p99: 3 }),
      line({ name: 'voice_to_voice_overhead_ms', calls: 100, value: -19, p99: 4 }),
      trial('concurrent_trial', 100, true, 4),
      trial('concurrent_trial', 300, true, 90),
      trial('concurrent_trial', 400, true, 800), // smooth audio, late answers
      trial('concurrent_trial', 500, true, 50), // never counted: a smaller N failed
      line({ name: 'lk_voice_to_voice_overhead_ms', value: 102, p99: 145 }),
      trial('lk_concurrent_trial', 10, true, 150),
      trial('lk_concurrent_trial', 20, true, 240),
      trial('lk_concurrent_trial', 30, true, 260),
      trial('lk_concurrent_trial', 40, false, 240),
      'not json',
    ]);
    expect(figures).toHaveLength(1);
    expect(figures[0]).toMatchObject({
      name: 'concurrent_calls_answered_in_time',
      value: 300,
      overhead_p99_limit_ms: 103,
      peer: 'livekit-agents',
      peerValue: 20,
      peer_overhead_p99_limit_ms: 245,
      ratio: 15,
    });
  });

  it('prints nothing without trials, and no peer fields without the peer', () => {
    expect(derivedFigures([line({ name: 'g711', value: 1 })])).toEqual([]);
    const [figure] = derivedFigures([
      line({ name: 'voice_to_voice_overhead_ms', calls: 1, value: 0, p99: 3 }),
      trial('concurrent_trial', 100, false, 4),
    ]);
    expect(figure).toMatchObject({ value: 0 });
    expect(figure).not.toHaveProperty('peer');
  });
});
