// Deepgram failures as ServiceErrors. Deepgram answers a refused request (a WebSocket handshake or a REST call) with
// an HTTP status, a `dg-error` header and a JSON body `{err_code, err_msg, request_id}` (newer endpoints:
// `{category, message, details, request_id}`); a stream that fails later ends with a close frame whose reason starts
// with a code such as `NET-0001`. Deepgram does not echo keys, but any text that reaches an error is still scrubbed of
// the key: these messages end up in logs.
import { codeForStatus, ServiceError } from '../base/index.js';
import { redactSecrets, retryAfterSecs, type HeaderReader } from '../base/vendor-errors.js';

export const DEEPGRAM = 'Deepgram';

function stringField(record: Record<string, unknown>, name: string): string | undefined {
  const value = record[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A refused request (HTTP status, headers, body text) as a ServiceError. */
export function httpServiceError(
  status: number,
  headers: HeaderReader,
  bodyText: string,
  apiKey: string,
  what: string,
): ServiceError {
  let vendorCode: string | undefined;
  let message: string | undefined;
  try {
    const body: unknown = JSON.parse(bodyText);
    if (typeof body === 'object' && body !== null) {
      const record = body as Record<string, unknown>;
      vendorCode = stringField(record, 'err_code') ?? stringField(record, 'category');
      message = stringField(record, 'err_msg') ?? stringField(record, 'message');
      const details = stringField(record, 'details');
      if (details !== undefined && message !== undefined) message = `${message} (${details})`;
    }
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): the header or the status says enough.
  }
  message ??= headers.get('dg-error') ?? (bodyText.trim() === '' ? `HTTP ${status}` : bodyText.trim().slice(0, 200));
  const hint = status === 401 ? ' (check DEEPGRAM_API_KEY)' : '';
  return new ServiceError(DEEPGRAM, redactSecrets(`${what} refused with ${status}: ${message}${hint}`, [apiKey]), {
    status,
    code: codeForStatus(status),
    vendorCode,
    retryAfterSecs: retryAfterSecs(headers),
  });
}

/** The vendor code at the start of a close reason (`NET-0001: ...`), if any. */
export function closeReasonCode(reason: string): string | undefined {
  return /^([A-Z]+-\d{4})\b/.exec(reason)?.[1];
}
