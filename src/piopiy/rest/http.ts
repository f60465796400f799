// HTTP for the v3 REST API: Bearer auth, JSON in and out, a timeout per attempt, error mapping, and retries
// only where a retry cannot act twice on a live phone call.
//
// Retry policy. Every v3 POST has a real-world effect (a phone rings, a caller is moved, a call ends), and none
// carries an idempotency key, so a request the platform may have received is never sent again (GETs only read:
// status reads are retried like the call endpoints; a DELETE acts, like a transfer):
// - Retried, for every endpoint: failures before a connection existed (DNS failure, connection refused, host or
//   network unreachable, connect timeout). Not one byte of the request left this process, so the platform
//   cannot have acted on it. Backoff: `retryDelayMs` x 2^attempt.
// - Retried for the *call* endpoints only: `429` with a `Retry-After` header of at most 10 s. A rate limiter
//   refuses a request before it is processed, and the header says when to come back. Transfers and hangups are
//   not retried even then: they act on a live call, where a late duplicate is worse than a clear error.
// - Never retried: timeouts, connections reset or closed after the request was written, every 5xx, every other
//   status. The request may have been executed (a second `call` would ring a phone twice; a second `transfer`
//   would hit `transfer_in_progress` or move the caller again). The error says so (`mayHaveReachedServer`).
// At most `maxRetries` retries, so at most `maxRetries + 1` attempts.
//
// The token lives in a private field and only ever in the Authorization header; error messages and payloads
// are scrubbed of it in case a server echoes it back, and log lines carry method, path, status and timing only.
import { sleep, type Clock } from '../../runtime/clock.js';
import type { Logger } from '../../logging/index.js';
import { PiopiyApiError, PiopiyNetworkError, type NetworkFailure } from './errors.js';
import { isPlainObject } from './validation.js';
import type { PiopiyResponse } from './types.js';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** Which failures a request may be retried after (see the file header). */
export type RetryPolicy = 'unsent-only' | 'unsent-or-rate-limited';

export interface HttpTransportOptions {
  token: string;
  baseUrl: string;
  timeoutMs: number;
  maxRetries: number;
  retryDelayMs: number;
  fetch: typeof globalThis.fetch;
  logger: Logger;
  clock: Clock;
}

/** Error codes meaning the connection never existed, so nothing was sent. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** A longer Retry-After than this is surfaced to the caller instead of waited out. */
const MAX_RETRY_AFTER_MS = 10_000;
const DEFAULT_ERROR_MESSAGE = 'Piopiy API request failed.';

interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

export class HttpTransport {
  readonly #token: string;
  readonly #options: Omit<HttpTransportOptions, 'token'>;

  constructor(options: HttpTransportOptions) {
    const { token, ...rest } = options;
    this.#token = token;
    this.#options = rest;
  }

  async post(path: string, body: object, policy: RetryPolicy): Promise<PiopiyResponse> {
    return this.request('POST', path, body, policy);
  }

  /**
   * One request with its retries. GET carries no body; `policy` still applies (a GET is read-only, so callers
   * give it `unsent-or-rate-limited`; a DELETE acts, so `unsent-only`).
   */
  async request(method: HttpMethod, path: string, body: object | undefined, policy: RetryPolicy): Promise<PiopiyResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const { maxRetries, retryDelayMs, logger, clock } = this.#options;
    for (let attempt = 0; ; attempt++) {
      let response: RawResponse;
      try {
        response = await this.#send(method, path, payload, attempt);
      } catch (error) {
        if (error instanceof PiopiyNetworkError && !error.mayHaveReachedServer && attempt < maxRetries) {
          const delayMs = retryDelayMs * 2 ** attempt;
          logger.warn({ method, path, attempt, delayMs }, 'Piopiy API unreachable before sending; retrying');
          await sleep(clock, delayMs);
          continue;
        }
        throw error;
      }
      if (response.status >= 200 && response.status < 300) return parseSuccess(response.text);
      const error = this.#apiError(method, path, response);
      const retryAfterMs = error.retryAfterSecs === undefined ? undefined : error.retryAfterSecs * 1000;
      if (
        policy === 'unsent-or-rate-limited' &&
        error.status === 429 &&
        retryAfterMs !== undefined &&
        retryAfterMs <= MAX_RETRY_AFTER_MS &&
        attempt < maxRetries
      ) {
        logger.warn({ method, path, attempt, delayMs: retryAfterMs }, 'Piopiy API rate limited; retrying after Retry-After');
        await sleep(clock, retryAfterMs);
        continue;
      }
      throw error;
    }
  }

  async #send(method: HttpMethod, path: string, payload: string | undefined, attempt: number): Promise<RawResponse> {
    const { baseUrl, timeoutMs, fetch, logger, clock } = this.#options;
    const controller = new AbortController();
    const timer = clock.setTimeout(() => controller.abort(), timeoutMs);
    const started = clock.now();
    try {
      const headers: Record<string, string> = { Authorization: `Bearer ${this.#token}`, Accept: 'application/json' };
      if (payload !== undefined) headers['Content-Type'] = 'application/json';
      const response = await fetch(`${baseUrl}${path}`, { method, headers, body: payload, signal: controller.signal });
      // The timeout covers the body too: a server that stalls mid-body is as stuck as one that never answers.
      const text = await response.text();
      const durationMs = Math.round(clock.now() - started);
      logger.debug({ method, path, status: response.status, attempt, durationMs }, 'Piopiy API response');
      return { status: response.status, headers: response.headers, text };
    } catch (error) {
      throw this.#networkError(method, path, error, controller.signal.aborted);
    } finally {
      clock.clearTimeout(timer);
    }
  }

  #networkError(method: HttpMethod, path: string, error: unknown, timedOut: boolean): PiopiyNetworkError {
    const code = errorCode(error);
    const failure: NetworkFailure = timedOut ? 'timeout' : code !== undefined && NOT_SENT_CODES.has(code) ? 'connect' : 'network';
    const detail = code === undefined ? '' : ` (${code})`;
    const message =
      failure === 'timeout'
        ? `${method} ${path} timed out after ${this.#options.timeoutMs} ms; the request may have reached the platform.`
        : failure === 'connect'
          ? `${method} ${path}: could not connect to the Piopiy API${detail}; the request was not sent.`
          : `${method} ${path}: network error${detail}; the request may have reached the platform.`;
    return new PiopiyNetworkError({ message: this.#scrub(message), failure, method, path, cause: error });
  }

  #apiError(method: HttpMethod, path: string, response: RawResponse): PiopiyApiError {
    const payload = this.#scrub(errorPayload(response.text));
    const nested = isPlainObject(payload.error) ? payload.error : undefined;
    const message =
      nonEmptyString(payload.error) ?? nonEmptyString(nested?.message) ?? nonEmptyString(payload.message) ?? DEFAULT_ERROR_MESSAGE;
    return new PiopiyApiError({
      message,
      status: response.status,
      code: errorCodeOf(payload, nested),
      requestId: nonEmptyString(payload.request_id),
      retryAfterSecs: parseRetryAfter(response.headers.get('retry-after')),
      payload,
      method,
      path,
    });
  }

  /** Replaces the token wherever a server may have echoed it. */
  #scrub<T>(value: T): T {
    const token = this.#token;
    if (token.length < 4) return value;
    const walk = (item: unknown): unknown => {
      if (typeof item === 'string') return item.split(token).join('[redacted]');
      if (Array.isArray(item)) return item.map(walk);
      if (isPlainObject(item)) return Object.fromEntries(Object.entries(item).map(([k, v]) => [walk(k), walk(v)]));
      return item;
    };
    return walk(value) as T;
  }
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** JSON object as is; empty as `{}`; anything else as `{ raw_response }` (spec §7.5). */
function parseSuccess(text: string): PiopiyResponse {
  if (text.trim() === '') return {};
  try {
    const data: unknown = JSON.parse(text);
    if (isPlainObject(data)) return data;
  } catch {
    // not JSON: returned raw below
  }
  return { raw_response: text };
}

/** A JSON object as is; other text as `{ message }`; empty as `{}`. */
function errorPayload(text: string): Record<string, unknown> {
  const trimmed = text.trim();
  if (trimmed === '') return {};
  try {
    const data: unknown = JSON.parse(trimmed);
    if (isPlainObject(data)) return data;
    return { message: typeof data === 'string' ? data : trimmed };
  } catch {
    return { message: trimmed.length > 500 ? `${trimmed.slice(0, 500)}...` : trimmed };
  }
}

/**
 * The platform puts codes in different places: `{ error: "transfer_in_progress" }` (spec §7.6), `{ code }`,
 * `{ error_code }`, `{ error: { code } }`. A human sentence in `error` is a message, not a code.
 */
function errorCodeOf(payload: Record<string, unknown>, nested: Record<string, unknown> | undefined): string | undefined {
  const error = nonEmptyString(payload.error);
  return (
    nonEmptyString(payload.code) ??
    nonEmptyString(payload.error_code) ??
    nonEmptyString(nested?.code) ??
    (error !== undefined && /^[A-Za-z][A-Za-z0-9_.:-]*$/.test(error) ? error : undefined)
  );
}

/** Seconds from `Retry-After` (delta-seconds or an HTTP date). */
function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** The system error code of a fetch failure, looking through `cause` chains and happy-eyeballs aggregates. */
function errorCode(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 5) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  if (Array.isArray(errors) && errors.length > 0) {
    // Every address tried must have failed before connecting for the request to be unsent.
    const codes = errors.map((e) => errorCode(e, depth + 1));
    const first = codes[0];
    return first !== undefined && codes.every((c) => c === first || (c !== undefined && NOT_SENT_CODES.has(c))) ? first : undefined;
  }
  return errorCode(cause, depth + 1);
}
