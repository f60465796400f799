// One turn's audio POSTed to a vendor's REST recogniser, its JSON answer returned: the request every segmented
// HTTP STT makes (Sarvam, ElevenLabs Scribe, Azure, Google), with the failures mapped alike — the vendor's own
// mapping for an HTTP error, `connection-failed` before an answer began and `connection-lost` while it came, a
// `protocol` error for an answer that is not JSON — and every secret cut out of the messages. An abort by the
// caller's signal is rethrown as it is: `SegmentedSTTService.withDeadline` tells a deadline from a cleanup.
// Internal to the services: not exported from `piopiy-ai/services/base`.
import type { HttpFailure } from './http-stream.js';
import { codeForStatus, ServiceError, type ServiceErrorCode } from './service-error.js';
import { redactSecrets, retryAfterSecs } from './vendor-errors.js';

export interface TranscriptionPost {
  /** Names the vendor in errors. */
  readonly service: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: FormData | Uint8Array | string;
  readonly signal: AbortSignal;
  /** Cut out of every error message (keys, tokens). */
  readonly secrets: readonly string[];
  /** The vendor's mapping of a non-2xx answer. */
  readonly httpError: (failure: HttpFailure) => ServiceError;
}

/** POSTs the request and returns its answer parsed as JSON; throws ServiceError (or the abort, when aborted). */
export async function postTranscription(request: TranscriptionPost): Promise<unknown> {
  let answered = false;
  try {
    const response = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body, signal: request.signal });
    answered = true;
    const text = await response.text();
    if (!response.ok) throw request.httpError({ status: response.status, headers: response.headers, body: text });
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ServiceError(request.service, 'transcription answer is not JSON', { code: 'protocol' });
    }
  } catch (error) {
    if (error instanceof ServiceError || request.signal.aborted) throw error;
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    const message = error instanceof Error ? error.message : String(error);
    throw new ServiceError(request.service, redactSecrets(`transcription request failed: ${message}${cause}`, request.secrets), {
      code: answered ? 'connection-lost' : 'connection-failed',
    });
  }
}

/** What a vendor's error body said, as its own parser read it. */
export interface VendorErrorDetails {
  readonly message?: string;
  /** The vendor's own code (`invalid_api_key`, `RESOURCE_EXHAUSTED`, ...). */
  readonly vendorCode?: string;
}

export interface RestErrorOptions {
  readonly service: string;
  readonly secrets: readonly string[];
  /** The vendor's meaning of its own code, where it says more than the status (a 400 that is a bad key). */
  readonly codeOf?: (status: number, vendorCode: string | undefined) => ServiceErrorCode | undefined;
  /** Added to an `auth` error's message, e.g. ' (check GROQ_API_KEY)'. */
  readonly authHint?: string;
}

/** A refused REST request as a ServiceError: the status's code unless the vendor's says more, Retry-After, no secret. */
export function restHttpError(failure: HttpFailure, details: VendorErrorDetails, options: RestErrorOptions): ServiceError {
  const message = details.message ?? (failure.body.trim() === '' ? `HTTP ${failure.status}` : failure.body.trim().slice(0, 200));
  const code = options.codeOf?.(failure.status, details.vendorCode) ?? codeForStatus(failure.status);
  const hint = code === 'auth' ? (options.authHint ?? '') : '';
  return new ServiceError(options.service, redactSecrets(`transcription request refused with ${failure.status}: ${message}${hint}`, options.secrets), {
    status: failure.status,
    code,
    vendorCode: details.vendorCode,
    retryAfterSecs: retryAfterSecs(failure.headers),
  });
}

/** The body parsed as JSON, or undefined when it is not JSON (a proxy's page, an empty body). */
export function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
