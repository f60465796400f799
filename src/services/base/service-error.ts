// ServiceError: what every vendor client throws. It names the service (so a log line says which vendor failed),
// carries the HTTP status / vendor code when there is one, and says whether trying again may help.
export interface ServiceErrorOptions {
  status?: number;
  code?: string;
  /** True for rate limits, 5xx, timeouts and dropped connections; false for auth and request errors. */
  retryable?: boolean;
  /** Seconds the vendor asked us to wait (Retry-After), when it said. */
  retryAfterSecs?: number;
  cause?: unknown;
}

export class ServiceError extends Error {
  readonly service: string;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly retryable: boolean;
  readonly retryAfterSecs: number | undefined;

  constructor(service: string, message: string, options: ServiceErrorOptions = {}) {
    super(`${service}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServiceError';
    this.service = service;
    this.status = options.status;
    this.code = options.code;
    this.retryable = options.retryable ?? (options.status === undefined || options.status === 429 || options.status >= 500);
    this.retryAfterSecs = options.retryAfterSecs;
  }
}
