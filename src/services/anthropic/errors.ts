// Anthropic failures as ServiceErrors. Anthropic names every error with a `type` in the same body shape, before
// the stream (HTTP status + JSON body) and inside it (an `error` event after the 200).
import { codeForStatus, ServiceError, type ServiceErrorCode } from '../base/index.js';
import type { HttpFailure } from '../base/http-stream.js';
import { isRecord, parseJSONText } from '../base/json.js';
import { redactSecrets, retryAfterSecs, shouldRetryHeader } from '../base/vendor-errors.js';

export const ANTHROPIC_SERVICE = 'Anthropic';

/** The HTTP status Anthropic documents for each error type (used for in-stream errors, which arrive after a 200). */
const STATUS_OF_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** What each error type means (the type is more precise than the status: a 504 `timeout_error` is a timeout). */
const CODE_OF_TYPE: Readonly<Record<string, ServiceErrorCode>> = {
  invalid_request_error: 'bad-request',
  authentication_error: 'auth',
  billing_error: 'quota',
  permission_error: 'auth',
  not_found_error: 'bad-request',
  request_too_large: 'bad-request',
  rate_limit_error: 'rate-limited',
  api_error: 'server',
  timeout_error: 'timeout',
  overloaded_error: 'server',
};

interface AnthropicErrorBody {
  type?: string;
  message?: string;
  requestId?: string;
}

function errorBody(value: unknown): AnthropicErrorBody {
  if (!isRecord(value)) return {};
  const error = isRecord(value.error) ? value.error : {};
  return {
    type: typeof error.type === 'string' ? error.type : undefined,
    message: typeof error.message === 'string' ? error.message : undefined,
    requestId: typeof value.request_id === 'string' ? value.request_id : undefined,
  };
}

/** A non-2xx answer: `{"type":"error","error":{"type","message"},"request_id"}` plus `request-id`/`retry-after`. */
export function anthropicHttpError(failure: HttpFailure, secrets: readonly string[]): ServiceError {
  const { status, headers } = failure;
  const body = errorBody(parseJSONText(failure.body));
  // A proxy in front of the API may answer with HTML: a short excerpt says enough.
  const detail = body.message ?? (failure.body.trim().slice(0, 200) || 'no error body');
  const requestId = body.requestId ?? headers.get('request-id') ?? undefined;
  return new ServiceError(
    ANTHROPIC_SERVICE,
    redactSecrets(`${status} ${detail}${requestId === undefined ? '' : ` (request ${requestId})`}`, secrets),
    {
      status,
      code: (body.type === undefined ? undefined : CODE_OF_TYPE[body.type]) ?? codeForStatus(status),
      vendorCode: body.type,
      retryable: shouldRetryHeader(headers),
      retryAfterSecs: retryAfterSecs(headers),
    },
  );
}

/** An `error` event inside a 200 stream, e.g. `overloaded_error` when the model is overloaded mid-answer. */
export function anthropicStreamError(data: unknown, secrets: readonly string[]): ServiceError {
  const body = errorBody(data);
  const status = body.type === undefined ? undefined : STATUS_OF_TYPE[body.type];
  return new ServiceError(ANTHROPIC_SERVICE, redactSecrets(body.message ?? 'error event in the stream', secrets), {
    status,
    // An unknown type mid-answer is the service failing, not the request being wrong.
    code: (body.type === undefined ? undefined : CODE_OF_TYPE[body.type]) ?? 'server',
    vendorCode: body.type,
  });
}
