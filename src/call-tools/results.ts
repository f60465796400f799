// What the call tools tell the model (spec §5.4): one small JSON object per call, the shape the platform's own
// connectors use, so prompts written for them work here too.
import { PiopiyApiError, PiopiyError, PiopiyValidationError } from '../piopiy/index.js';

export type CallToolResult =
  | { status: 'ringing'; request_id: string | undefined; detail: string }
  | { status: 'transferred'; request_id: string | undefined; detail: string }
  | { status: 'ended' }
  | { status: 'error'; detail: string };

/** Reasons and details the model reads are cut to this length (as the platform's connectors do). */
export const MAX_REASON_CHARS = 120;

export function cut(text: string, max = MAX_REASON_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/** A failure as the model should read it: what happened, in words it can repeat to the caller. */
export function errorResult(error: unknown, action: 'transfer' | 'hangup'): CallToolResult {
  if (error instanceof PiopiyApiError) {
    if (error.code === 'transfer_in_progress') return { status: 'error', detail: 'a transfer is already in progress; wait for its outcome' };
    if (error.status === 404 || error.code === 'CALL_NOT_FOUND') return { status: 'error', detail: 'the call is no longer live' };
    return { status: 'error', detail: cut(`the platform refused the ${action} (${error.code ?? error.status})`) };
  }
  if (error instanceof PiopiyValidationError) return { status: 'error', detail: cut(`the ${action} is misconfigured: ${error.message}`) };
  if (error instanceof PiopiyError) return { status: 'error', detail: cut(`the ${action} could not be sent: ${error.message}`) };
  return { status: 'error', detail: cut(`the ${action} failed: ${error instanceof Error ? error.message : String(error)}`) };
}
