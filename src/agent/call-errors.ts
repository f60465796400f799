// Per-call isolation of errors nothing catches. An uncaught exception or unhandled rejection raised by code running
// for one call (a tool handler, createSession, a listener, a timer the call started) is routed to the Agent serving
// that call, which ends that call only; any other error meets Node's default, exactly as if no Agent were there.
//
// How an error is tied to its call: the Agent runs each call in its own async context (call-session.ts), and Node
// raises an error that nothing caught inside the async context it came from — the timer's, the promise's (checked
// on Node 20 for timers, immediates, nextTick, promise jobs and async functions; not for queueMicrotask, whose
// errors are raised outside any context and so follow Node's default).
//
// How Node's default is kept for everything else: no 'uncaughtException' listener is installed (one would make
// Node treat every error as handled). Node emits 'uncaughtExceptionMonitor' first, then hands the error to a
// capture callback if one is set, else to the 'uncaughtException' listeners, else crashes; the monitor listener
// below sets a one-shot capture callback only for an error that belongs to a call, so only that error is diverted,
// and the process-wide state is back as it was before the next one. Unhandled rejections reach the monitor when
// Node turns them into uncaught exceptions (the default `--unhandled-rejections=throw`, when no 'unhandledRejection'
// listener exists). When the program has 'unhandledRejection' listeners of its own, Node gives rejections to them
// and never raises them: a listener of ours is then added beside theirs (and only then), to end a call whose code
// rejected; they still see every rejection, as before.
import { currentSession, type CallSession } from '../transports/base/call-session.js';

export type CallErrorOrigin = 'uncaughtException' | 'unhandledRejection';
export type CallErrorHandler = (error: unknown, origin: CallErrorOrigin) => void;

const handlers = new WeakMap<CallSession, CallErrorHandler>();
let guards = 0;

/** Sends the uncaught errors of code running for `session` to `handler`, while a guard is installed. */
export function claimCallErrors(session: CallSession, handler: CallErrorHandler): void {
  handlers.set(session, handler);
}

/** Installs the process-wide routing (once, however many Agents ask); call the returned function to release it. */
export function installCallErrorGuard(): () => void {
  if (guards++ === 0) {
    process.on('uncaughtExceptionMonitor', onMonitor);
    process.on('newListener', onNewListener);
    process.on('removeListener', onRemoveListener);
    if (process.listenerCount('unhandledRejection') > 0) process.on('unhandledRejection', onRejection);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--guards > 0) return;
    process.off('uncaughtExceptionMonitor', onMonitor);
    process.off('newListener', onNewListener);
    process.off('removeListener', onRemoveListener);
    process.off('unhandledRejection', onRejection);
  };
}

function handlerOfCurrentCall(): CallErrorHandler | undefined {
  const session = currentSession();
  return session === undefined ? undefined : handlers.get(session);
}

function deliver(handler: CallErrorHandler, error: unknown, origin: CallErrorOrigin): void {
  try {
    handler(error, origin);
  } catch {
    // The handler only logs and ends a call; a throw here would be a crash in Node's fatal-error path.
  }
}

function onMonitor(error: unknown, origin: CallErrorOrigin): void {
  try {
    const handler = handlerOfCurrentCall();
    // A capture callback set by someone else (the domain module, a REPL) owns every error: leave it to them.
    if (handler === undefined || process.hasUncaughtExceptionCaptureCallback()) return;
    process.setUncaughtExceptionCaptureCallback((captured) => {
      process.setUncaughtExceptionCaptureCallback(null);
      deliver(handler, captured, origin);
    });
  } catch {
    // Never break Node's own handling of the error.
  }
}

function onRejection(reason: unknown): void {
  const handler = handlerOfCurrentCall();
  if (handler !== undefined) deliver(handler, reason, 'unhandledRejection');
}

/** Others listen for rejections now: ours joins them (theirs already makes Node treat every rejection as handled). */
function onNewListener(event: string | symbol, listener: unknown): void {
  if (event !== 'unhandledRejection' || listener === onRejection) return;
  if (!process.listeners('unhandledRejection').includes(onRejection)) process.on('unhandledRejection', onRejection);
}

/** The last listener of theirs is gone: ours leaves too, so that Node's default (a crash) applies again. */
function onRemoveListener(event: string | symbol, listener: unknown): void {
  if (event !== 'unhandledRejection' || listener === onRejection) return;
  if (process.listeners('unhandledRejection').every((l) => l === onRejection)) process.off('unhandledRejection', onRejection);
}
