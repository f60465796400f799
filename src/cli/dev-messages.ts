// What the softphone page receives, and how a call's diagnostics become it. Every event carries `t`, when it
// happened (seconds since the call was answered; a tool call counts from when it was called, so the REST request
// it made comes after it), and `seq`, one counter per page in the order the server sent them: the page keeps its
// lists sorted by (t, seq), so an event that arrives late (a tool call is reported when it returns) still shows
// where it happened.
import type { MetricsData } from '../frames/metrics.js';
import type { VoiceAgentDiagnostic } from '../voice-agent/index.js';

export type AgentState = 'loading' | 'ready' | 'failed' | 'none';

/** The moment an event happened and its place in the page's order. */
export interface EventStamp {
  /** Seconds since the call was answered. */
  t: number;
  /** Monotonic per page: breaks ties between events of the same `t`. */
  seq: number;
}

/** A call event, before it is stamped with its `seq`. */
export type DevCallEvent =
  /** What the agent heard the caller say (its transcript: the caller knows what they said). */
  | { type: 'transcript'; role: 'user'; heard: string; t: number }
  /** What the caller heard of the agent's turn: cut short when the caller interrupted it. */
  | { type: 'transcript'; role: 'assistant'; text: string; interrupted: boolean; t: number }
  | { type: 'tool'; name: string; arguments: unknown; result: unknown; error?: string; t: number }
  | { type: 'rest'; method: string; path: string; body: unknown; status: number | undefined; t: number }
  | { type: 'metrics'; data: readonly MetricsData[] | MetricsData; t: number }
  | { type: 'speaking'; who: 'user' | 'agent'; speaking: boolean; t: number; latencyMs?: number }
  | { type: 'agent-error'; message: string; fatal: boolean; t: number };

/** Messages the page receives (as JSON text frames). */
export type DevServerMessage =
  | { type: 'hello'; agent: string | null; agentState: AgentState; callerSampleRate: number; frameMs: number }
  | { type: 'agent'; state: AgentState; message?: string }
  | { type: 'state'; state: 'ringing' | 'answered' | 'ended'; callId: string; reason?: string; transferredTo?: string | null }
  | { type: 'format'; sampleRate: number }
  | { type: 'error'; message: string }
  | (DevCallEvent & { seq: number });

/** The page's event for a VoiceAgent diagnostic; `t(at)` converts a `performance.now()` time. */
export function diagnosticEvent(event: VoiceAgentDiagnostic, t: (at: number) => number): DevCallEvent {
  switch (event.event) {
    case 'user-turn':
      return { type: 'transcript', role: 'user', heard: event.text, t: t(event.at) };
    case 'assistant-turn':
      return { type: 'transcript', role: 'assistant', text: event.text, interrupted: event.interrupted, t: t(event.at) };
    case 'tool-call':
      return {
        type: 'tool',
        name: event.name,
        arguments: event.arguments,
        result: event.result,
        ...(event.error === undefined ? {} : { error: event.error }),
        t: t(event.startedAt),
      };
    case 'metrics':
      return { type: 'metrics', data: event.data, t: t(event.at) };
    case 'error':
      return { type: 'agent-error', message: event.message, fatal: event.fatal, t: t(event.at) };
  }
}
