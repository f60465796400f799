// The call a piece of code is running for. The Agent runs each `createSession` inside its own async context, so
// a VoiceAgent created there finds its call and transport without being handed them — and two overlapping calls
// can never see each other's (the global "current call id" of the Python examples breaks exactly there).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallInfo } from '../../llm/tools.js';
import type { Logger } from '../../logging/index.js';
import type { FrameObserver } from '../../pipeline/observer.js';
import type { CallTransport } from './transport.js';

/** Everything `createSession` receives about one call. */
export interface CallSession extends CallInfo {
  readonly callId: string;
  readonly agentId: string | undefined;
  readonly fromNumber: string | undefined;
  readonly toNumber: string | undefined;
  /** Custom data of the call (outbound `variables`), parsed from JSON even when double-encoded. */
  readonly metadata: unknown;
  readonly roomName: string;
  /** The call's media, ready for a VoiceAgent (joined when the agent starts). */
  readonly transport: CallTransport;
  /** Aborted when the call is cancelled (cancel_room, shutdown). */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Observers the Agent adds to the call's pipeline (its metrics and traces); a VoiceAgent attaches them. */
  readonly observers?: readonly FrameObserver[] | undefined;
}

const storage = new AsyncLocalStorage<CallSession>();

/** Runs `fn` as part of `session`: `currentSession()` inside it (and in everything it awaits) returns it. */
export function runInSession<T>(session: CallSession, fn: () => T): T {
  return storage.run(session, fn);
}

/** The call the current code runs for, inside an Agent's `createSession`; undefined elsewhere. */
export function currentSession(): CallSession | undefined {
  return storage.getStore();
}

/**
 * The abort reason of a call's `signal` when the Agent ends the call because code running for it threw or rejected
 * with nothing to catch it (see `AgentOptions.isolateCallErrors`); `cause` is that error. A VoiceAgent then says
 * its `errorGoodbye` and ends the call.
 */
export class CallFailedError extends Error {
  constructor(cause: unknown) {
    super(`the call failed: ${describeCause(cause)}`, { cause });
    this.name = 'CallFailedError';
  }
}

function describeCause(cause: unknown): string {
  try {
    return cause instanceof Error ? cause.message : String(cause);
  } catch {
    return 'an error that cannot be printed'; // String(Object.create(null)) throws
  }
}
