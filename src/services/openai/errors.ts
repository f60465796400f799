// Vendor failures as ServiceErrors: what happened (a stable code, OpenAI's own code beside it), whether trying again
// may help, how long the vendor asked us to wait, and never the API key. OpenAI echoes a wrong key in its 401
// message (first and last characters around asterisks, short keys in full), and those messages end up in logs, so
// anything key-like is cut out.
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { codeForStatus, ServiceError, type ServiceErrorCode } from '../base/index.js';
import { redactSecrets, retryAfterSecs, shouldRetryHeader } from '../base/vendor-errors.js';

/** What an OpenAI error means, from its HTTP status and its own code. */
function codeOf(status: number, vendorCode: string | undefined): ServiceErrorCode {
  // An exhausted quota answers 429 too, but waiting does not refill it.
  if (vendorCode === 'insufficient_quota') return 'quota';
  if (vendorCode === 'invalid_api_key') return 'auth';
  return codeForStatus(status);
}

/** Any failure of a request or its stream as a ServiceError of `service`. */
export function toServiceError(service: string, err: unknown, apiKey: string): ServiceError {
  if (err instanceof ServiceError) return err;
  if (err instanceof APIConnectionTimeoutError) {
    return new ServiceError(service, 'request timed out', { code: 'timeout' });
  }
  if (err instanceof APIConnectionError) {
    // The SDK says this only when no response came: the connection broke before OpenAI answered.
    const cause = err.cause instanceof Error ? `: ${redactSecrets(err.cause.message, [apiKey])}` : '';
    return new ServiceError(service, `connection error${cause}`, { code: 'connection-failed', cause: err.cause });
  }
  if (err instanceof APIError) return fromAPIError(service, err as APIError, apiKey);
  // Errors from reading the body (the connection dropped mid-stream: undici's "terminated") or parsing it.
  const message = err instanceof Error ? err.message : String(err);
  return new ServiceError(service, `stream failed: ${redactSecrets(message, [apiKey])}`, {
    code: err instanceof SyntaxError ? 'protocol' : 'connection-lost',
    cause: err,
  });
}

function fromAPIError(service: string, err: APIError, apiKey: string): ServiceError {
  const vendorCode = err.code ?? err.type ?? undefined;
  const message = redactSecrets(err.message, [apiKey]);
  // The SDK error is not attached as `cause`: its body and message still hold the echoed key.
  if (err.status === undefined) {
    // An error event inside a 200 stream: the vendor failed mid-answer, unless it blames the request.
    return new ServiceError(service, message, { code: err.type === 'invalid_request_error' ? 'bad-request' : 'server', vendorCode });
  }
  return new ServiceError(service, message, {
    status: err.status,
    code: codeOf(err.status, vendorCode),
    vendorCode,
    retryable: shouldRetryHeader(err.headers),
    retryAfterSecs: retryAfterSecs(err.headers),
  });
}
