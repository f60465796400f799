// Vendor failures as ServiceErrors: what happened, whether trying again may help, how long the vendor asked us to
// wait, and never the API key. OpenAI echoes a wrong key in its 401 message (first and last characters around
// asterisks, short keys in full), and those messages end up in logs, so anything key-like is cut out.
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { ServiceError } from '../base/index.js';

const REDACTED = '[redacted]';

/** `message` with the API key, masked key echoes and key-looking tokens replaced. */
export function redactSecrets(message: string, apiKey: string): string {
  let out = message;
  if (apiKey.length >= 4) out = out.split(apiKey).join(REDACTED);
  return (
    out
      // OpenAI's 401 wording: whatever stands between these words is the key as sent, masked or not.
      .replace(/(Incorrect API key provided: ).*?(\. You can find|$)/s, `$1${REDACTED}$2`)
      // Masked echoes such as `sk-proj-****abcd`.
      .replace(/\S*\*{3,}\S*/g, REDACTED)
      // Tokens shaped like provider keys (sk-..., gsk_..., sk-or-v1-...).
      .replace(/\b(?:sk|gsk|pk|rk|xai|key)[-_][A-Za-z0-9_.-]{6,}/g, REDACTED)
  );
}

function headerValue(headers: Headers | undefined, name: string): string | undefined {
  return headers?.get(name) ?? undefined;
}

/** Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date), when the vendor said. */
export function retryAfterSecs(headers: Headers | undefined): number | undefined {
  const ms = Number.parseFloat(headerValue(headers, 'retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms / 1000;
  const value = headerValue(headers, 'retry-after');
  if (value === undefined) return undefined;
  const secs = Number.parseFloat(value);
  if (Number.isFinite(secs) && secs >= 0) return secs;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

function isRetryableStatus(status: number, code: string | undefined): boolean {
  // An exhausted quota answers 429 too, but waiting does not refill it.
  if (code === 'insufficient_quota') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Any failure of a request or its stream as a ServiceError of `service`. */
export function toServiceError(service: string, err: unknown, apiKey: string): ServiceError {
  if (err instanceof ServiceError) return err;
  if (err instanceof APIConnectionTimeoutError) {
    return new ServiceError(service, 'request timed out', { code: 'timeout', retryable: true });
  }
  if (err instanceof APIConnectionError) {
    const cause = err.cause instanceof Error ? `: ${redactSecrets(err.cause.message, apiKey)}` : '';
    return new ServiceError(service, `connection error${cause}`, { code: 'connection_error', retryable: true, cause: err.cause });
  }
  if (err instanceof APIError) return fromAPIError(service, err as APIError, apiKey);
  // Errors from reading the body (the connection dropped mid-stream: undici's "terminated") or parsing it.
  const message = err instanceof Error ? err.message : String(err);
  return new ServiceError(service, `stream failed: ${redactSecrets(message, apiKey)}`, {
    code: err instanceof SyntaxError ? 'invalid_response' : 'connection_error',
    retryable: true,
    cause: err,
  });
}

function fromAPIError(service: string, err: APIError, apiKey: string): ServiceError {
  const code = err.code ?? err.type ?? undefined;
  const message = redactSecrets(err.message, apiKey);
  // The SDK error is not attached as `cause`: its body and message still hold the echoed key.
  if (err.status === undefined) {
    // An error event inside a 200 stream: the vendor failed mid-answer, unless it blames the request.
    return new ServiceError(service, message, { code, retryable: err.type !== 'invalid_request_error' });
  }
  const shouldRetry = headerValue(err.headers, 'x-should-retry');
  return new ServiceError(service, message, {
    status: err.status,
    code,
    retryable: shouldRetry === 'false' ? false : isRetryableStatus(err.status, code),
    retryAfterSecs: retryAfterSecs(err.headers),
  });
}
