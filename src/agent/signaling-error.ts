// Why `Agent.connect()` could not register, in one line. socket.io-client's connect_error buries the cause: the
// polling transport reports `xhr poll error` with the HTTP status as `description` and the whole XMLHttpRequest as
// `context` (whose `statusText` holds the socket error, e.g. getaddrinfo ENOTFOUND); the websocket transport reports
// `websocket error` with an ErrorEvent whose `error` is the socket error; the manager's own connect timeout is a
// bare `timeout`; anything else is the server refusing the handshake (its middleware's error message).

/**
 * - `unreachable`: no Socket.IO handshake happened (DNS, refused, TLS, an HTTP error, no answer in time).
 * - `refused`: the server answered and refused the agent (its credentials, most likely).
 */
export type SignalingFailure = 'unreachable' | 'refused';

/** `Agent.connect()` could not register with Piopiy signaling. The raw socket.io error is the `cause`. */
export class SignalingConnectionError extends Error {
  readonly failure: SignalingFailure;
  readonly url: string;

  constructor(message: string, init: { failure: SignalingFailure; url: string; cause: unknown }) {
    super(message, { cause: init.cause });
    this.name = 'SignalingConnectionError';
    this.failure = init.failure;
    this.url = init.url;
  }
}

interface ConnectErrorLike {
  message?: unknown;
  type?: unknown;
  description?: unknown;
  context?: unknown;
}

/** The SignalingConnectionError for a socket.io `connect_error` during `connect()`. */
export function signalingConnectionError(
  error: unknown,
  at: { url: string; agentId: string; timeoutMs: number },
): SignalingConnectionError {
  const raw = (typeof error === 'object' && error !== null ? error : {}) as ConnectErrorLike;
  const message = oneLine(typeof raw.message === 'string' ? raw.message : String(error));
  if (raw.type === 'TransportError' || message === 'timeout') {
    const cause = message === 'timeout' ? `no answer within ${at.timeoutMs} ms` : transportCause(raw);
    return new SignalingConnectionError(`Agent: could not reach Piopiy signaling at ${at.url}: ${cause}`, {
      failure: 'unreachable',
      url: at.url,
      cause: error,
    });
  }
  // What the platform says on bad credentials is not documented (spec §1.2); its words are passed on as they are.
  return new SignalingConnectionError(
    `Agent: Piopiy signaling refused agent ${at.agentId}: ${message || 'no reason given'} (check AGENT_ID and AGENT_TOKEN)`,
    { failure: 'refused', url: at.url, cause: error },
  );
}

/** The root cause of a transport error, e.g. `getaddrinfo ENOTFOUND signaling.piopiy.com`. */
export function transportCause(error: ConnectErrorLike): string {
  const { description, context } = error;
  if (typeof description === 'number' && description > 0) {
    return `HTTP ${description} (is this the address of a Piopiy signaling server?)`;
  }
  if (typeof description === 'object' && description !== null) {
    // ErrorEvent (websocket) or Error (fetch polling): the socket error is inside.
    const inner = (description as { error?: unknown }).error ?? description;
    const found = innermostMessage(inner);
    if (found !== undefined) return found;
  }
  const statusText = typeof context === 'object' && context !== null ? (context as { statusText?: unknown }).statusText : undefined;
  const fromContext = innermostMessage(statusText);
  if (fromContext !== undefined) return fromContext;
  const message = typeof error.message === 'string' ? oneLine(error.message) : '';
  return message === '' ? 'unknown transport error' : message;
}

/** The message of the deepest error in a `cause` chain (undici's "fetch failed" hides the socket error there). */
function innermostMessage(value: unknown, depth = 0): string | undefined {
  if (typeof value !== 'object' || value === null || depth > 5) return typeof value === 'string' && value !== '' ? oneLine(value) : undefined;
  const { message, cause, errors, code } = value as { message?: unknown; cause?: unknown; errors?: unknown; code?: unknown };
  const deeper = innermostMessage(cause, depth + 1);
  if (deeper !== undefined) return deeper;
  if (typeof message === 'string' && message.trim() !== '') return oneLine(message);
  // Node's AggregateError for a host with several addresses has an empty message; its parts say what failed.
  if (Array.isArray(errors) && errors.length > 0) {
    const parts = [...new Set(errors.map((e) => innermostMessage(e, depth + 1)).filter((m): m is string => m !== undefined))];
    if (parts.length > 0) return parts.join('; ');
  }
  return typeof code === 'string' ? code : undefined;
}

/** One short line: OpenSSL messages end with a newline, server messages can be anything. */
function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
