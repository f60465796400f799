// ServiceError: what every vendor client throws, with the one list of what can go wrong and the one retry policy.
//
// `code` is stable: one of SERVICE_ERROR_CODES, the same for every vendor and for HTTP and WebSocket clients alike,
// so an application can branch on it (`if (error.code === 'auth') ...`) without knowing how each vendor spells its
// errors. What the vendor itself said is kept beside it: `status` (the HTTP status, when there was one) and
// `vendorCode` (the vendor's own error code or close reason, e.g. `INVALID_AUTH`, `rate_limit_exceeded`,
// `NET-0001`), for logs and support tickets; neither is stable across vendors.
//
// The retry policy lives here too, so that every place deciding whether to try again, and when, decides alike:
// `isRetryableCode` (which failures may pass), `codeForStatus` (what an HTTP status means) and `retryDelayMs` (how
// long to wait, given the attempt and the vendor's Retry-After).

/**
 * Every value of `ServiceError.code`. Codes may be added in a minor version; none is renamed or removed.
 *
 * | code                | what happened                                                                  | retryable |
 * |---------------------|--------------------------------------------------------------------------------|-----------|
 * | `auth`              | the key was refused, or lacks permission (401, 403, an invalid-key error)      | no        |
 * | `quota`             | the account cannot pay for more (402, exhausted quota or credits)              | no        |
 * | `rate-limited`      | too many requests or streams at once (429); wait `retryAfterSecs` if given     | yes       |
 * | `bad-request`       | the request is wrong: a parameter, an unknown model or voice, too long (4xx)   | no        |
 * | `content-filtered`  | the vendor declined the content (a refusal, a safety block)                    | no        |
 * | `server`            | the vendor failed (5xx, overloaded, an internal error inside a stream)        | yes       |
 * | `timeout`           | no answer, or no more of it, in the time allowed (408, a watchdog)             | yes       |
 * | `connection-failed` | the connection broke before the vendor answered (DNS, refused, TLS, reset)     | yes       |
 * | `connection-lost`   | the connection broke after the vendor began to answer (an open socket dropped) | yes       |
 * | `protocol`          | the vendor sent something the client cannot read (not JSON, a bad shape)       | yes       |
 * | `closed`            | the service was closed (the call ended) before or while the request ran        | no        |
 * | `unknown`           | not classified (a ServiceError made with neither a code nor a status)          | yes       |
 */
export const SERVICE_ERROR_CODES = [
  'auth',
  'quota',
  'rate-limited',
  'bad-request',
  'content-filtered',
  'server',
  'timeout',
  'connection-failed',
  'connection-lost',
  'protocol',
  'closed',
  'unknown',
] as const;

export type ServiceErrorCode = (typeof SERVICE_ERROR_CODES)[number];

/** Whether trying again may help, for each code (see the table above). */
const RETRYABLE: Readonly<Record<ServiceErrorCode, boolean>> = {
  auth: false,
  quota: false,
  'rate-limited': true,
  'bad-request': false,
  'content-filtered': false,
  server: true,
  timeout: true,
  'connection-failed': true,
  'connection-lost': true,
  protocol: true,
  closed: false,
  unknown: true,
};

export function isServiceErrorCode(value: unknown): value is ServiceErrorCode {
  return typeof value === 'string' && Object.hasOwn(RETRYABLE, value);
}

// ---- the retry policy ---------------------------------------------------------------------------------------

/** Whether waiting and trying again may help after a failure with `code`. */
export function isRetryableCode(code: ServiceErrorCode): boolean {
  return RETRYABLE[code];
}

/**
 * What an HTTP error status means: 401/403 auth, 402 quota, 408 timeout, 429 rate-limited, 5xx server, other 4xx
 * bad-request. 409 is a conflict the vendor resolves by itself (OpenAI: a lock timeout), so it counts as the
 * server's. Anything else (a redirect on a WebSocket upgrade, no status at all) is a protocol error.
 */
export function codeForStatus(status: number): ServiceErrorCode {
  if (status === 401 || status === 403) return 'auth';
  if (status === 402) return 'quota';
  if (status === 408) return 'timeout';
  if (status === 409) return 'server';
  if (status === 429) return 'rate-limited';
  if (status >= 500 && status <= 599) return 'server';
  if (status >= 400 && status <= 499) return 'bad-request';
  return 'protocol';
}

/**
 * Whether waiting and trying again may help after an HTTP error `status`: a timeout (408), a conflict (409), a
 * rate limit (429) and server trouble (5xx); not auth, payment or a bad request. Vendors add their own exceptions
 * through the code they choose (an exhausted quota also answers 429, but it is `quota`).
 */
export function isRetryableStatus(status: number): boolean {
  return isRetryableCode(codeForStatus(status));
}

export interface RetryBackoff {
  /** Wait before the first retry. */
  readonly initialDelayMs: number;
  /** Each retry waits this many times longer than the one before. Default 2. */
  readonly factor?: number;
  /** Longest wait of the growing schedule. */
  readonly maxDelayMs: number;
  /** After this many retries, every retry waits `slowDelayMs` instead. Default: never. */
  readonly slowAfterRetries?: number;
  readonly slowDelayMs?: number;
  /** Longest wait at all, the vendor's Retry-After included. Default: no limit. */
  readonly limitMs?: number;
  /**
   * Takes up to this fraction (0 to 1) off each wait at random, so that many clients do not retry in step. Only
   * with `random`, so that a seeded generator makes it deterministic; without it, there is no jitter.
   */
  readonly jitter?: number;
  readonly random?: () => number;
}

/**
 * How long to wait before retry number `retry` (1 for the first) after `error`, or undefined when trying again
 * cannot help (an error that is not retryable; anything that is not a ServiceError). The wait grows from
 * `initialDelayMs` by `factor` up to `maxDelayMs` (then `slowDelayMs` past `slowAfterRetries`), is at least what the
 * vendor asked for (Retry-After), and at most `limitMs`.
 */
export function retryDelayMs(error: unknown, retry: number, backoff: RetryBackoff): number | undefined {
  if (!(error instanceof ServiceError) || !error.retryable) return undefined;
  const n = Math.max(1, Math.floor(retry));
  let delay =
    backoff.slowAfterRetries !== undefined && n > backoff.slowAfterRetries
      ? (backoff.slowDelayMs ?? backoff.maxDelayMs)
      : Math.min(backoff.initialDelayMs * (backoff.factor ?? 2) ** (n - 1), backoff.maxDelayMs);
  if (backoff.random !== undefined && backoff.jitter !== undefined) {
    delay -= delay * Math.min(1, Math.max(0, backoff.jitter)) * backoff.random();
  }
  if (error.retryAfterSecs !== undefined) delay = Math.max(delay, error.retryAfterSecs * 1000);
  return Math.max(0, Math.min(delay, backoff.limitMs ?? Number.POSITIVE_INFINITY));
}

// ---- the error ----------------------------------------------------------------------------------------------

export interface ServiceErrorOptions {
  status?: number;
  /**
   * What went wrong: one of SERVICE_ERROR_CODES. Any other string is taken as the vendor's own code (kept in
   * `vendorCode`), as in versions before the codes were stable; the code is then derived from `status`.
   * Default: derived from `status`, else 'unknown'.
   */
  code?: ServiceErrorCode | (string & {});
  /** The vendor's own error code, close reason code or error type, as it sent it. */
  vendorCode?: string;
  /** Default: what the policy says for the code (see SERVICE_ERROR_CODES). A vendor's explicit word wins. */
  retryable?: boolean;
  /** Seconds the vendor asked us to wait (Retry-After), when it said. */
  retryAfterSecs?: number;
  cause?: unknown;
}

export class ServiceError extends Error {
  /** The vendor or service that failed (it also starts the message). */
  readonly service: string;
  readonly status: number | undefined;
  /** What went wrong, the same for every vendor: branch on this. */
  readonly code: ServiceErrorCode;
  /** The vendor's own code for it, when it gave one: for logs, not for branching. */
  readonly vendorCode: string | undefined;
  readonly retryable: boolean;
  readonly retryAfterSecs: number | undefined;

  constructor(service: string, message: string, options: ServiceErrorOptions = {}) {
    super(`${service}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServiceError';
    this.service = service;
    this.status = options.status;
    const given = options.code;
    this.code = isServiceErrorCode(given) ? given : options.status === undefined ? 'unknown' : codeForStatus(options.status);
    this.vendorCode = options.vendorCode ?? (given !== undefined && !isServiceErrorCode(given) ? given : undefined);
    this.retryable = options.retryable ?? isRetryableCode(this.code);
    this.retryAfterSecs = options.retryAfterSecs;
  }
}
