// Errors of the REST client, one class per way a request can fail, so callers can tell "fix your input"
// (validation) from "the platform said no" (API) from "we do not know what happened" (network).

/** Base class of every REST client error. */
export class PiopiyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PiopiyError';
  }
}

/** A request body failed local validation (the platform's rules, spec §7.3–7.4); nothing was sent. */
export class PiopiyValidationError extends PiopiyError {
  /** Dotted/indexed path of the offending value, e.g. `pipeline[0].endpoints[1].number`; `body` for the top level. */
  readonly field: string | undefined;

  constructor(message: string, field?: string) {
    super(message);
    this.name = 'PiopiyValidationError';
    this.field = field;
  }
}

/** The platform answered with a non-2xx status. */
export class PiopiyApiError extends PiopiyError {
  readonly status: number;
  /** Machine-readable code when the body carries one: `transfer_in_progress`, `CALL_NOT_FOUND`, `ai_agent_not_running`, ... */
  readonly code: string | undefined;
  /** `request_id` of the body (a 409 `transfer_in_progress` names the transfer already running). */
  readonly requestId: string | undefined;
  /** Seconds from a `Retry-After` header, when present. */
  readonly retryAfterSecs: number | undefined;
  /** The error body; a non-JSON body becomes `{ message: <text> }`. */
  readonly payload: Record<string, unknown>;
  readonly method: string;
  readonly path: string;

  constructor(init: {
    message: string;
    status: number;
    code: string | undefined;
    requestId: string | undefined;
    retryAfterSecs: number | undefined;
    payload: Record<string, unknown>;
    method: string;
    path: string;
  }) {
    super(init.message);
    this.name = 'PiopiyApiError';
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.retryAfterSecs = init.retryAfterSecs;
    this.payload = init.payload;
    this.method = init.method;
    this.path = init.path;
  }
}

/**
 * - `connect`: the connection was never established (DNS failure, refused, unreachable): the platform did not
 *   receive the request.
 * - `timeout`: no complete answer within `timeoutMs`.
 * - `network`: the connection failed after the request may have been sent.
 */
export type NetworkFailure = 'connect' | 'timeout' | 'network';

/** No HTTP answer: DNS, connection, reset or timeout. */
export class PiopiyNetworkError extends PiopiyError {
  readonly failure: NetworkFailure;
  /** False only when the request certainly did not reach the platform (`connect`). */
  readonly mayHaveReachedServer: boolean;
  readonly method: string;
  readonly path: string;

  constructor(init: { message: string; failure: NetworkFailure; method: string; path: string; cause?: unknown }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'PiopiyNetworkError';
    this.failure = init.failure;
    this.mayHaveReachedServer = init.failure !== 'connect';
    this.method = init.method;
    this.path = init.path;
  }
}
