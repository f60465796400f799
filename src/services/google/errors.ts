// Gemini failures as ServiceErrors. Google APIs answer errors as `{"error":{"code","message","status","details"}}`
// (google.rpc.Status); `details` may name the precise reason (ErrorInfo, e.g. API_KEY_INVALID) and how long to
// wait (RetryInfo `retryDelay`, e.g. "37s"), which is more precise than any header.
import { codeForStatus, ServiceError, type ServiceErrorCode } from '../base/index.js';
import type { HttpFailure } from '../base/http-stream.js';
import { isRecord, parseJSONText } from '../base/json.js';
import { redactSecrets, retryAfterSecs } from '../base/vendor-errors.js';

export const GEMINI_SERVICE = 'Gemini';

/** What each google.rpc status means; it is more precise than the HTTP status (which it usually matches). */
const CODE_OF_STATUS: Readonly<Record<string, ServiceErrorCode>> = {
  INVALID_ARGUMENT: 'bad-request',
  FAILED_PRECONDITION: 'bad-request',
  OUT_OF_RANGE: 'bad-request',
  NOT_FOUND: 'bad-request',
  ALREADY_EXISTS: 'bad-request',
  UNAUTHENTICATED: 'auth',
  PERMISSION_DENIED: 'auth',
  // Gemini answers both a rate limit and a spent free-tier quota this way, with a RetryInfo wait.
  RESOURCE_EXHAUSTED: 'rate-limited',
  ABORTED: 'server',
  INTERNAL: 'server',
  UNAVAILABLE: 'server',
  UNKNOWN: 'server',
  DATA_LOSS: 'server',
  DEADLINE_EXCEEDED: 'timeout',
};

interface GoogleStatus {
  code?: number;
  message?: string;
  status?: string;
  reason?: string;
  retryDelaySecs?: number;
}

/** `"37s"` / `"0.5s"` (a protobuf Duration in JSON) as seconds. */
function durationSecs(value: unknown): number | undefined {
  if (typeof value !== 'string' || !value.endsWith('s')) return undefined;
  const secs = Number.parseFloat(value.slice(0, -1));
  return Number.isFinite(secs) && secs >= 0 ? secs : undefined;
}

/** The google.rpc.Status inside a response body (an object, or the first element of an array). */
export function readGoogleStatus(value: unknown): GoogleStatus | undefined {
  const holder = Array.isArray(value) ? (value[0] as unknown) : value;
  if (!isRecord(holder) || !isRecord(holder.error)) return undefined;
  const error = holder.error;
  const out: GoogleStatus = {
    code: typeof error.code === 'number' ? error.code : undefined,
    message: typeof error.message === 'string' ? error.message : undefined,
    status: typeof error.status === 'string' ? error.status : undefined,
  };
  for (const detail of Array.isArray(error.details) ? (error.details as unknown[]) : []) {
    if (!isRecord(detail)) continue;
    const kind = typeof detail['@type'] === 'string' ? detail['@type'] : '';
    if (kind.endsWith('google.rpc.ErrorInfo') && typeof detail.reason === 'string') out.reason = detail.reason;
    if (kind.endsWith('google.rpc.RetryInfo')) out.retryDelaySecs = durationSecs(detail.retryDelay);
  }
  return out;
}

/**
 * What a Google error means: a bad key is a 400 INVALID_ARGUMENT whose ErrorInfo reason says API_KEY_INVALID;
 * otherwise the rpc status, else the HTTP status. An error mid-answer that names nothing is the service's.
 */
function codeOf(httpStatus: number | undefined, status: GoogleStatus | undefined): ServiceErrorCode {
  if (status?.reason?.startsWith('API_KEY_') === true) return 'auth';
  const byStatus = status?.status === undefined ? undefined : CODE_OF_STATUS[status.status];
  return byStatus ?? (httpStatus === undefined ? 'server' : codeForStatus(httpStatus));
}

/** A refused Gemini request (the Gemini API, or Vertex AI when `service` names it). */
export function geminiHttpError(failure: HttpFailure, secrets: readonly string[], service: string = GEMINI_SERVICE): ServiceError {
  return googleHttpError(service, failure, secrets);
}

/** A refused request to any Google API (Gemini, Vertex AI, Cloud Speech-to-Text and Text-to-Speech), named after `service`. */
export function googleHttpError(service: string, failure: HttpFailure, secrets: readonly string[], hint = ''): ServiceError {
  const status = readGoogleStatus(parseJSONText(failure.body));
  const detail = status?.message ?? (failure.body.trim().slice(0, 200) || 'no error body');
  const code = codeOf(failure.status, status);
  return new ServiceError(service, redactSecrets(`${failure.status} ${detail}${code === 'auth' ? hint : ''}`, secrets), {
    status: failure.status,
    code,
    vendorCode: status?.reason ?? status?.status,
    retryAfterSecs: status?.retryDelaySecs ?? retryAfterSecs(failure.headers),
  });
}

/** An `{"error": ...}` object sent inside a 200 stream. */
export function geminiStreamError(status: GoogleStatus, secrets: readonly string[], service: string = GEMINI_SERVICE): ServiceError {
  return new ServiceError(service, redactSecrets(status.message ?? 'error in the stream', secrets), {
    status: status.code,
    code: codeOf(status.code, status),
    vendorCode: status.reason ?? status.status,
    retryAfterSecs: status.retryDelaySecs,
  });
}
