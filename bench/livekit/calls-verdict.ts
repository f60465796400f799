// The pass rule of the LiveKit calls ladder (../livekit-calls.bench.ts), apart so its test need not start a call.

export interface CallsCriteria {
  /** The agent's audio ticks (output pacing, one per 20 ms chunk) must be this punctual at p99: one chunk. */
  tickLatenessP99LtMs: number;
  /** Caller speech → its echo heard back, p99. */
  roundTripP99LtMs: number;
  /** Share of the echoed audio lost (silent 10 ms frames inside a burst, as the caller heard it). */
  dropoutLt: number;
  /** Share of the bursts whose echo never came. */
  unansweredLt: number;
}

export const DEFAULT_CRITERIA: CallsCriteria = { tickLatenessP99LtMs: 20, roundTripP99LtMs: 800, dropoutLt: 0.01, unansweredLt: 0.01 };

export interface TrialMeasure {
  n: number;
  answered: boolean;
  sessions: number;
  tickLatenessP99Ms: number;
  roundTripP99Ms: number | null;
  bursts: number;
  unanswered: number;
  loudFrames: number;
  dropoutFrames: number;
}

/** Whether the trial kept N calls in real time, and the first reason it did not. */
export function verdict(m: TrialMeasure, c: CallsCriteria = DEFAULT_CRITERIA): { pass: boolean; failed?: string } {
  const dropout = m.loudFrames === 0 ? 1 : m.dropoutFrames / (m.loudFrames + m.dropoutFrames);
  const unanswered = m.bursts + m.unanswered === 0 ? 1 : m.unanswered / (m.bursts + m.unanswered);
  if (!m.answered || m.sessions !== m.n) return { pass: false, failed: `${m.sessions} of ${m.n} calls up` };
  if (m.roundTripP99Ms === null) return { pass: false, failed: 'no echo came back' };
  if (!(m.tickLatenessP99Ms < c.tickLatenessP99LtMs)) return { pass: false, failed: `tick lateness p99 ${m.tickLatenessP99Ms} ms` };
  if (!(m.roundTripP99Ms < c.roundTripP99LtMs)) return { pass: false, failed: `round trip p99 ${m.roundTripP99Ms} ms` };
  if (!(dropout < c.dropoutLt)) return { pass: false, failed: `${(dropout * 100).toFixed(2)}% of the echoed audio lost` };
  if (!(unanswered < c.unansweredLt)) return { pass: false, failed: `${m.unanswered} of ${m.bursts + m.unanswered} bursts unanswered` };
  return { pass: true };
}
