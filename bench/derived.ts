// Figures derived from the lines of one bench run, for both sides alike.
//
// `concurrent_calls_answered_in_time`: the real-time criteria (event-loop delay p99 < 20 ms, no output gap
// > 40 ms) say nothing of the VAD falling behind. Its inference shares the CPU, so past some N every call still
// sounds smooth but the turns are answered late (ours at 400 calls: end of speech detected 0.2-0.8 s late). This
// figure is the largest N of the ladder whose trial passed AND whose voice-to-voice overhead p99 stayed within
// ANSWER_SLACK_MS of the same side's single-call p99 (every smaller N passing too), computed from the
// `concurrent_trial` / `lk_concurrent_trial` lines and the single-call overhead lines of the same run.
import { round, type BenchResult } from './lib.js';

/** How much later than with one call a turn may be answered, at p99, and still count as in time. */
export const ANSWER_SLACK_MS = 100;

type Line = Record<string, unknown>;

function parse(lines: readonly string[]): Line[] {
  const out: Line[] = [];
  for (const line of lines) {
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed === 'object' && parsed !== null) out.push(parsed as Line);
    } catch {
      // not a figure
    }
  }
  return out;
}

function p99Of(value: unknown): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const p99 = (value as Line).p99;
  return typeof p99 === 'number' ? p99 : undefined;
}

interface Side {
  trialName: string;
  singleCallName: string;
  isSingleCall: (line: Line) => boolean;
}

const OURS: Side = {
  trialName: 'concurrent_trial',
  singleCallName: 'voice_to_voice_overhead_ms',
  isSingleCall: (line) => line.calls === 1,
};
const PEER: Side = {
  trialName: 'lk_concurrent_trial',
  singleCallName: 'lk_voice_to_voice_overhead_ms',
  isSingleCall: () => true,
};

function answeredInTime(lines: Line[], side: Side): { n: number; limitMs: number; tried: Line[] } | undefined {
  const single = lines.find((l) => l.name === side.singleCallName && side.isSingleCall(l));
  const singleP99 = typeof single?.p99 === 'number' ? single.p99 : undefined;
  const trials = lines
    .filter((l) => l.name === side.trialName && typeof l.value === 'number')
    .sort((a, b) => (a.value as number) - (b.value as number));
  if (singleP99 === undefined || trials.length === 0) return undefined;
  const limitMs = singleP99 + ANSWER_SLACK_MS;
  let n = 0;
  const tried: Line[] = [];
  let failed = false;
  for (const trial of trials) {
    const p99 = p99Of(trial.overhead_ms);
    const inTime = trial.pass === true && p99 !== undefined && p99 <= limitMs;
    tried.push({ n: trial.value, pass: trial.pass === true, overhead_p99_ms: p99, in_time: inTime });
    if (!inTime) failed = true;
    if (!failed) n = trial.value as number;
  }
  return { n, limitMs: round(limitMs), tried };
}

/** The derived figures of a run (none when the run had no concurrency trials). */
export function derivedFigures(rawLines: readonly string[]): BenchResult[] {
  const lines = parse(rawLines);
  const ours = answeredInTime(lines, OURS);
  if (ours === undefined) return [];
  const peer = answeredInTime(lines, PEER);
  const figure: BenchResult = {
    name: 'concurrent_calls_answered_in_time',
    value: ours.n,
    unit: 'calls',
    rule: `trial passed and voice-to-voice overhead p99 <= single-call p99 + ${ANSWER_SLACK_MS} ms, every smaller N too`,
    overhead_p99_limit_ms: ours.limitMs,
    tried: ours.tried,
  };
  if (peer !== undefined && peer.n > 0) {
    figure.peer = 'livekit-agents';
    figure.peerValue = peer.n;
    figure.ratio = round(ours.n / peer.n, 3);
    figure.peer_overhead_p99_limit_ms = peer.limitMs;
    figure.peer_tried = peer.tried;
  }
  return [figure];
}
