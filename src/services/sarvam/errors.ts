// Sarvam failures as ServiceErrors. Sarvam answers a refused REST request with an HTTP status and a JSON body
// `{"error": {"message", "code"}}`; a refused key is 403 `invalid_api_key_error` (not 401), spent credits are 429
// `insufficient_quota_error` (not worth retrying: `quota`), a rate limit is 429 or 503 `rate_limit_exceeded_error`.
// Any text that reaches an error is scrubbed of the key: these messages end up in logs.
import { codeForStatus, ServiceError, type ServiceErrorCode } from '../base/index.js';
import { redactSecrets, retryAfterSecs, type HeaderReader } from '../base/vendor-errors.js';

export const SARVAM = 'Sarvam';

function codeFor(status: number, vendorCode: string | undefined): ServiceErrorCode {
  if (vendorCode === 'invalid_api_key_error') return 'auth';
  if (vendorCode === 'insufficient_quota_error') return 'quota';
  if (vendorCode === 'rate_limit_exceeded_error') return 'rate-limited';
  return codeForStatus(status);
}

/** A refused request (HTTP status, headers, body text) as a ServiceError. */
export function sarvamHttpError(status: number, headers: HeaderReader, bodyText: string, apiKey: string, what: string): ServiceError {
  let vendorCode: string | undefined;
  let message: string | undefined;
  try {
    const body: unknown = JSON.parse(bodyText);
    const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
    if (typeof error === 'object' && error !== null) {
      const { code, message: text } = error as { code?: unknown; message?: unknown };
      if (typeof code === 'string' && code !== '') vendorCode = code;
      if (typeof text === 'string' && text !== '') message = text;
    }
  } catch {
    // Not JSON (a proxy's page, an empty body): the status says enough.
  }
  message ??= bodyText.trim() === '' ? `HTTP ${status}` : bodyText.trim().slice(0, 200);
  const code = codeFor(status, vendorCode);
  const hint = code === 'auth' ? ' (check SARVAM_API_KEY)' : '';
  return new ServiceError(SARVAM, redactSecrets(`${what} refused with ${status}: ${message}${hint}`, [apiKey]), {
    status,
    code,
    vendorCode,
    retryAfterSecs: retryAfterSecs(headers),
  });
}

/** A request that failed before or while its answer came (`answered`), or was cut by our own deadline. */
export function sarvamTransportError(error: unknown, answered: boolean, apiKey: string, what: string): ServiceError {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  const message = error instanceof Error ? error.message : String(error);
  return new ServiceError(SARVAM, redactSecrets(`${what} failed: ${message}${cause}`, [apiKey]), {
    code: answered ? 'connection-lost' : 'connection-failed',
  });
}
