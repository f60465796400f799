// The demo's summary, built from what happened rather than what was scripted: each caller line with what the
// agent heard of it (the agent's own transcript, from its diagnostics), each assistant turn with what the caller
// heard of it (the conversation's history, trimmed at an interruption), and whether the expected outcome happened.
import type { CallEndReason } from '../testing/simulator/index.js';
import type { VoiceAgentDiagnostic } from '../voice-agent/index.js';
import { normalizeWords } from './demo-script.js';

/** A caller turn: what the caller said and what the agent heard (its transcript). */
export interface DemoUserTurn {
  role: 'user';
  /** The scripted line; null for speech the agent heard that no line said. */
  said: string | null;
  /** The agent's transcript of it; null when the agent took no turn from it. */
  heard: string | null;
  /** Whether `heard` has the same words as `said` (case and punctuation aside). */
  heardAsSaid: boolean;
  startMs: number;
  endMs: number;
}

/** An agent turn: the words the caller heard (cut where the caller interrupted). */
export interface DemoAssistantTurn {
  role: 'assistant';
  text: string;
  /** The caller talked over it and it stopped. */
  interrupted: boolean;
  startMs: number;
  endMs: number;
}

export type DemoTurn = DemoUserTurn | DemoAssistantTurn;

export interface DemoResult {
  ok: boolean;
  /** Why the demo failed (only when `ok` is false). */
  reason?: string;
  /** Null when no call was placed. */
  callId: string | null;
  /** The call's media between the simulator and the agent: a LiveKit room over real WebRTC, or the stream. */
  media: 'stream' | 'livekit';
  /** What made the run a success: a transfer, and at least one interruption. */
  expected: { transfer: boolean; interruption: boolean };
  turns: DemoTurn[];
  toolCalls: { name: string; arguments: unknown; result: unknown; error?: string }[];
  restRequests: { method: string; path: string; body: unknown }[];
  transferredTo: string | null;
  latency: { voiceToVoiceMs: number[] };
  /** The stereo WAV (caller left, agent right); null when none was written. */
  recording: string | null;
}

/** A line the caller said: when it started (before synthesis) and when its speech went out. */
export interface SaidLine {
  text: string;
  startedAt: number;
  speechStart: number;
  speechEnd: number;
}

type UserTurnEvent = Extract<VoiceAgentDiagnostic, { event: 'user-turn' }>;
type AssistantTurnEvent = Extract<VoiceAgentDiagnostic, { event: 'assistant-turn' }>;

export function heardAsSaid(said: string, heard: string | null): boolean {
  return heard !== null && normalizeWords(said) === normalizeWords(heard);
}

/** The agent's user turns taken while `lines[index]` was the caller's latest line, joined. */
export function heardOf(events: readonly VoiceAgentDiagnostic[], lines: readonly SaidLine[], index: number): string | null {
  const from = lines[index]!.startedAt;
  const to = lines[index + 1]?.startedAt ?? Infinity;
  const texts = events.filter((e): e is UserTurnEvent => e.event === 'user-turn' && e.at >= from && e.at < to).map((e) => e.text);
  return texts.length === 0 ? null : texts.join(' ');
}

/**
 * Both sides' turns in time order. `agentSpeechAfter(t)` gives the first audible agent frame after `t` (an assistant
 * turn started with the first agent speech after the previous one ended); times are relative to `origin`.
 */
export function buildTurns(
  events: readonly VoiceAgentDiagnostic[],
  lines: readonly SaidLine[],
  origin: number,
  agentSpeechAfter: (at: number) => number | undefined,
): DemoTurn[] {
  const ms = (at: number): number => Math.round(at - origin);
  const assistantEvents = events.filter((e): e is AssistantTurnEvent => e.event === 'assistant-turn');
  const assistant = assistantEvents.map((e, i): DemoAssistantTurn => {
    const previousEnd = assistantEvents[i - 1]?.at ?? 0;
    const first = agentSpeechAfter(previousEnd);
    const start = first !== undefined && first <= e.at ? first : e.at;
    return { role: 'assistant', text: e.text, interrupted: e.interrupted, startMs: ms(start), endMs: ms(e.at) };
  });
  const user = lines.map((line, i): DemoUserTurn => {
    const heard = heardOf(events, lines, i);
    return { role: 'user', said: line.text, heard, heardAsSaid: heardAsSaid(line.text, heard), startMs: ms(line.speechStart), endMs: ms(line.speechEnd) };
  });
  // What the agent took as a caller turn before the first line (noise, an echo) is shown too.
  const firstLine = lines[0]?.startedAt ?? Infinity;
  for (const e of events) {
    if (e.event === 'user-turn' && e.at < firstLine) user.push({ role: 'user', said: null, heard: e.text, heardAsSaid: false, startMs: ms(e.at), endMs: ms(e.at) });
  }
  return [...assistant, ...user].sort((a, b) => a.startMs - b.startMs);
}

const ENDINGS: Readonly<Record<CallEndReason, string>> = {
  'caller-hangup': 'the caller hanging up',
  'agent-left': 'the agent leaving the call',
  hangup: 'a hangup by the agent',
  transferred: 'a transfer',
  cancelled: 'the call being cancelled',
};

export interface Outcome {
  expected: { transfer: boolean; interruption: boolean };
  /** How the call had ended when the demo stopped waiting (undefined: it was still going). */
  endReason: CallEndReason | undefined;
  transferredTo: string | null;
  /** Seconds the demo waited for a transfer after the caller's last line. */
  transferWaitSecs: number;
  turns: readonly DemoTurn[];
  answered: boolean;
}

/** Why the run is not what was expected, or undefined when it is. */
export function outcomeFailure(outcome: Outcome): string | undefined {
  const heard = outcome.turns
    .filter((t): t is DemoUserTurn => t.role === 'user')
    .map((t) => (t.heard === null ? '(nothing)' : JSON.stringify(t.heard)))
    .join(', ');
  const agentHeard = `the agent heard: ${heard === '' ? '(nothing)' : heard}`;
  if (outcome.expected.transfer && outcome.transferredTo === null) {
    const ending =
      outcome.endReason === undefined
        ? `no transfer within ${outcome.transferWaitSecs} s of the caller's last line`
        : `the call ended with ${ENDINGS[outcome.endReason]}`;
    return `expected a transfer, but ${ending}; ${agentHeard}`;
  }
  if (!outcome.expected.transfer && outcome.transferredTo !== null) {
    return `the call was transferred to ${outcome.transferredTo}, but no transfer was expected; ${agentHeard}`;
  }
  if (outcome.expected.interruption && !outcome.turns.some((t) => t.role === 'assistant' && t.interrupted)) {
    return `expected the caller to interrupt the agent, but every assistant turn was said in full; ${agentHeard}`;
  }
  if (!outcome.answered) return `the agent never answered the caller; ${agentHeard}`;
  return undefined;
}
