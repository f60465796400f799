// Bedrock Runtime failures as ServiceErrors. Before the stream, a refusal is an HTTP status with the error type in
// `x-amzn-ErrorType` and `{"message"}` as the body; inside the 200 stream, an event-stream message of type
// `exception` whose `:exception-type` names it (lowerCamel: `throttlingException`) with the same body.
import { ServiceError, codeForStatus, type ServiceErrorCode } from '../base/index.js';
import type { HttpFailure } from '../base/http-stream.js';
import { isRecord, parseJSONText } from '../base/json.js';
import { redactSecrets, retryAfterSecs } from '../base/vendor-errors.js';
import { AWS_AUTH_ERROR_TYPES, awsErrorType } from './credentials.js';

export const BEDROCK = 'Amazon Bedrock';

/** What each documented error type means; its status alone would call a 424 a bad request and a 408 a plain 4xx. */
const CODE_OF_TYPE: Readonly<Record<string, ServiceErrorCode>> = {
  ValidationException: 'bad-request',
  ResourceNotFoundException: 'bad-request',
  ServiceQuotaExceededException: 'quota',
  ThrottlingException: 'rate-limited',
  ModelNotReadyException: 'rate-limited',
  ModelTimeoutException: 'timeout',
  ModelErrorException: 'server',
  ModelStreamErrorException: 'server',
  InternalServerException: 'server',
  ServiceUnavailableException: 'server',
};

function codeOf(type: string, status: number | undefined): ServiceErrorCode {
  if (AWS_AUTH_ERROR_TYPES.test(type)) return 'auth';
  return CODE_OF_TYPE[type] ?? (status === undefined ? 'server' : codeForStatus(status));
}

function messageOf(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const message = body.message ?? body.Message;
  return typeof message === 'string' ? message : undefined;
}

/** A non-2xx answer to the ConverseStream request. */
export function bedrockHttpError(failure: HttpFailure, secrets: readonly string[]): ServiceError {
  const body = parseJSONText(failure.body);
  const type = awsErrorType(failure.headers.get('x-amzn-errortype'), isRecord(body) ? body.__type : undefined);
  const code = codeOf(type, failure.status);
  const detail = messageOf(body) ?? (failure.body.trim().slice(0, 200) || 'no error body');
  const hint = code === 'auth' ? ' (check the AWS credentials, the region, and that the model is enabled for the account)' : '';
  return new ServiceError(BEDROCK, redactSecrets(`${failure.status} ${type === '' ? '' : `${type}: `}${detail}${hint}`, secrets), {
    status: failure.status,
    code,
    vendorCode: type === '' ? undefined : type,
    retryAfterSecs: retryAfterSecs(failure.headers),
  });
}

/** An `exception` message inside the stream (`:exception-type` lowerCamel, e.g. `modelStreamErrorException`). */
export function bedrockStreamException(exceptionType: string, payloadText: string, secrets: readonly string[]): ServiceError {
  const type = exceptionType.charAt(0).toUpperCase() + exceptionType.slice(1);
  const detail = messageOf(parseJSONText(payloadText)) ?? 'exception in the stream';
  // Mid-answer, an unknown type is the service failing, not the request being wrong.
  return new ServiceError(BEDROCK, redactSecrets(`${type}: ${detail}`, secrets), { code: CODE_OF_TYPE[type] ?? (AWS_AUTH_ERROR_TYPES.test(type) ? 'auth' : 'server'), vendorCode: type });
}
