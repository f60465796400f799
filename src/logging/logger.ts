// Logging: a small interface (pino's shape) so users can pass their own logger, and a pino default that writes
// to stderr (stdout stays free for the CLI's JSON output) with secret-bearing fields redacted.
import { pino, type DestinationStream } from 'pino';

/** One level's method, as pino has it: `log.info({ callId }, 'joined')` or `log.info('joined')`. */
export type LogFn = {
  (obj: object, msg?: string): void;
  (msg: string): void;
};

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Field names whose values are secrets, at the top level and one level down. */
const SECRET_FIELDS = ['apiKey', 'api_key', 'token', 'agentToken', 'authorization', 'password', 'secret'];
const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]).concat(['headers.authorization', '*.headers.authorization']);

export interface CreateLoggerOptions {
  level?: LogLevel;
  name?: string;
  /** Where the JSON lines go. Default: stderr. */
  destination?: DestinationStream;
}

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const level = options.level ?? (process.env.PIOPIY_LOG_LEVEL as LogLevel | undefined) ?? 'info';
  return pino(
    { name: options.name ?? 'piopiy-ai', level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, serializers: { err: serializeError } },
    options.destination ?? pino.destination(2),
  );
}

/**
 * pino's error serializer, without the stack of a ConfigurationError: it points into the constructor that found the
 * problem, never at a bug, and its message already lists every problem. (By name: another copy of this package may
 * have thrown it.)
 */
function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown;
  if (error instanceof Error && error.name === 'ConfigurationError' && typeof serialized === 'object' && serialized !== null) {
    delete (serialized as { stack?: string }).stack;
  }
  return serialized;
}

const noop = (): void => {};

/** A logger that discards everything (tests, benchmarks). */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};

let defaultLogger: Logger | undefined;

/** The process-wide default logger, created on first use. */
export function getDefaultLogger(): Logger {
  defaultLogger ??= createLogger();
  return defaultLogger;
}
