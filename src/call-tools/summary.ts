// The transfer summary the human hears about (or, to a SIP desk, reads in `X-Transfer-Summary`): written from the
// conversation itself, without a model call — the model's own one-line summary when it gave one, then the
// caller's latest words, newest last, within a length a header and a whisper can carry.
import type { LLMMessage } from '../frames/index.js';

export const DEFAULT_MAX_SUMMARY_CHARS = 400;

export interface SummaryInput {
  /** The history (a VoiceAgent's `context.messages`). */
  readonly messages: readonly LLMMessage[];
  /** What the model wrote for the human, if anything. */
  readonly modelSummary?: string;
  readonly maxChars?: number;
}

/** The summary, or undefined when there is nothing to say (no caller turn and no model summary). */
export function transferSummary({ messages, modelSummary, maxChars = DEFAULT_MAX_SUMMARY_CHARS }: SummaryInput): string | undefined {
  const parts: string[] = [];
  const own = oneLine(modelSummary ?? '');
  if (own !== '') parts.push(own.endsWith('.') ? own : `${own}.`);
  const turns = messages.filter((m) => m.role === 'user').map((m) => oneLine(m.content)).filter((t) => t !== '');
  const room = maxChars - (parts[0]?.length ?? 0) - 20;
  const quoted: string[] = [];
  let used = 0;
  // Newest turns first until the room is used, then put back in the order they were said.
  for (let i = turns.length - 1; i >= 0; i--) {
    const turn = `"${turns[i]!}"`;
    if (used + turn.length + 2 > room && quoted.length > 0) break;
    quoted.unshift(turn);
    used += turn.length + 2;
  }
  if (quoted.length > 0) parts.push(`Caller said: ${quoted.join('; ')}.`);
  if (parts.length === 0) return undefined;
  const text = parts.join(' ');
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 3)}...`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
