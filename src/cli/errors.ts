// What the CLI prints when a command fails, in one place. A known user error (bad configuration, an agent file
// that cannot run, a server that cannot be reached) is one clear message and nothing else: its stack would only
// point into this package. Anything else is a bug somewhere, so its stack is printed, after one line saying what
// failed.
import { inspect } from 'node:util';

/** A mistake the CLI itself detects (a missing agent file, a bad option value): printed as its message alone. */
export class CliError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

export type AgentFileProblem = 'not-found' | 'never-connected' | 'not-esm';

/** An agent file that cannot be run as one, with what to do about it in the message. */
export class AgentFileError extends CliError {
  readonly problem: AgentFileProblem;
  readonly file: string;

  constructor(problem: AgentFileProblem, file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentFileError';
    this.problem = problem;
    this.file = file;
  }
}

interface ErrorFields {
  name?: unknown;
  message?: unknown;
  status?: unknown;
  method?: unknown;
  path?: unknown;
}

/** Errors whose message says all a user needs, by name: the agent file may load another copy of this package. */
const PLAIN_MESSAGE_ERRORS = new Set(['CliError', 'AgentFileError', 'ConfigurationError', 'SignalingConnectionError']);

/** The message for a known user error, or undefined for anything else. */
export function knownErrorMessage(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { name, message, status, method, path } = error as ErrorFields;
  if (typeof name !== 'string' || typeof message !== 'string') return undefined;
  if (PLAIN_MESSAGE_ERRORS.has(name)) return message;
  // The REST client's errors, thrown by an agent file that calls the API while loading (e.g. an outbound call).
  if (name === 'PiopiyValidationError') return `Piopiy REST API request not sent: ${message}`;
  if (name === 'PiopiyNetworkError') return `Piopiy REST API: ${message}`;
  if (name === 'PiopiyApiError') return `Piopiy REST API: ${String(method)} ${String(path)} failed with HTTP ${String(status)}: ${message}`;
  return undefined;
}

/**
 * What to print when `commandLine` (e.g. `piopiy-ai start agent.ts`) failed with `error`: a known error's message,
 * or a line naming the command followed by the stack and its causes' stacks (never their other fields: a socket
 * error's cause can hold a whole XMLHttpRequest).
 */
export function formatFailure(error: unknown, commandLine: string): string {
  const known = knownErrorMessage(error);
  if (known !== undefined) return known;
  const lines = [`${commandLine} failed with an unexpected error (a bug in the agent file or in piopiy-ai); its stack:`];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    const text = current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : inspect(current, { depth: 1 });
    lines.push(depth === 0 ? text : `caused by: ${text}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.join('\n');
}
