// One streamed HTTP request (its raw body, or read as Server-Sent Events), with what a phone call needs around it: an abort closes
// the socket at once and ends the iteration quietly; a server that stops sending (before the headers or between
// two chunks) is cut after `timeoutMs` with a retryable ServiceError; a dropped connection becomes a retryable
// ServiceError; HTTP errors are turned into ServiceErrors by the vendor's own mapping. Secrets never reach an
// error message.
//
// Plain `fetch` (Node's built-in undici) is all this needs: the vendors' SDKs would add retries we do not want
// (the LLMService decides about retries), their own timeouts, and a dependency per vendor.
//
// Shared by the Anthropic and Gemini clients (events) and the HTTP speech clients (raw audio: Deepgram Aura, Sarvam,
// Inworld).
import type { ReadableStreamReadResult } from 'node:stream/web';
import { systemClock, type Clock, type ClockTimer } from '../../runtime/clock.js';
import { ServiceError } from './service-error.js';
import { SSEDecoder, type ServerSentEvent } from './sse-decoder.js';
import { redactSecrets } from './vendor-errors.js';

export interface HttpFailure {
  readonly status: number;
  readonly headers: Headers;
  /** The response body as text (vendors answer errors with JSON, proxies with anything). */
  readonly body: string;
}

export interface EventStreamRequest {
  /** Names the vendor in errors. */
  readonly service: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Sent as JSON, unless `bodyText` is given. */
  readonly body?: unknown;
  /** Sent as-is instead of `body` (an SSML document; a JSON text that was signed and must go out byte for byte). */
  readonly bodyText?: string;
  readonly signal: AbortSignal;
  /** Longest wait for the response headers, and then between two chunks of the body. */
  readonly timeoutMs: number;
  /** Cut out of every error message. */
  readonly secrets: readonly string[];
  /** The vendor's mapping of a non-2xx answer. */
  readonly httpError: (failure: HttpFailure) => ServiceError;
  /** The watchdog's time: the calling processor's clock. Default: the system clock. */
  readonly clock?: Clock;
  /** What a silent server fails to send, for its error: `no <silence> for N ms`. Default 'data'. */
  readonly silence?: string;
}

/**
 * POSTs the request and yields the events of its `text/event-stream` answer as they arrive. Ends quietly when
 * `signal` aborts; throws ServiceError otherwise. Leaving the loop early (break, return) closes the connection.
 */
export async function* streamServerSentEvents(request: EventStreamRequest): AsyncGenerator<ServerSentEvent> {
  const decoder = new SSEDecoder();
  for await (const chunk of streamHttpBody(request)) {
    for (const event of decoder.push(chunk)) {
      yield event;
      if (request.signal.aborted) return;
    }
  }
  if (!request.signal.aborted) yield* decoder.end();
}

/**
 * POSTs the request and yields the bytes of its answer as they arrive, with the same guarantees as
 * `streamServerSentEvents`: quiet end at an abort, a ServiceError for a silent server, a dropped connection or an
 * HTTP error, the connection closed when the consumer stops early.
 */
export async function* streamHttpBody(request: EventStreamRequest): AsyncGenerator<Uint8Array> {
  const { signal, service, timeoutMs } = request;
  if (signal.aborted) return;
  // Our own controller, so that a silent server can be cut exactly like an abort from the caller.
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  signal.addEventListener('abort', abort, { once: true });
  const clock = request.clock ?? systemClock;
  let timer: ClockTimer | undefined;
  let stalled = false;
  // The watchdog only runs while we wait on the network: time the consumer spends on a chunk is not silence.
  const armWatchdog = (): void => {
    clock.clearTimeout(timer);
    timer = clock.setTimeout(() => {
      stalled = true;
      controller.abort();
    }, timeoutMs);
    timer.unref();
  };
  /** A failure before the answer (`answered` false) or while its body streamed in. */
  const failure = (err: unknown, answered: boolean): ServiceError | undefined => {
    if (signal.aborted) return undefined;
    if (err instanceof ServiceError) return err;
    if (stalled) return new ServiceError(service, `no ${request.silence ?? 'data'} for ${timeoutMs} ms`, { code: 'timeout' });
    const message = err instanceof Error ? describeNetworkError(err) : String(err);
    return new ServiceError(service, `connection error: ${redactSecrets(message, request.secrets)}`, {
      code: answered ? 'connection-lost' : 'connection-failed',
    });
  };

  try {
    let response: Response;
    try {
      armWatchdog();
      response = await fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.bodyText ?? JSON.stringify(request.body),
        signal: controller.signal,
      });
      if (!response.ok) {
        const body = await response.text();
        throw request.httpError({ status: response.status, headers: response.headers, body });
      }
    } catch (err) {
      const error = failure(err, false);
      if (error === undefined) return;
      throw error;
    } finally {
      clock.clearTimeout(timer);
    }
    if (response.body === null) return;
    const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
    while (true) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        armWatchdog();
        chunk = await reader.read();
      } catch (err) {
        const error = failure(err, true);
        if (error === undefined) return;
        throw error;
      } finally {
        clock.clearTimeout(timer);
      }
      if (chunk.done) return;
      yield chunk.value;
      if (signal.aborted) return;
    }
  } finally {
    clock.clearTimeout(timer);
    signal.removeEventListener('abort', abort);
    // Closes the socket when the consumer stopped early; a no-op once the body was read to its end.
    controller.abort();
  }
}

/** undici reports a dropped socket as `TypeError: terminated` with the real reason in `cause`. */
function describeNetworkError(err: Error): string {
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause === undefined || cause === err.message ? err.message : `${err.message} (${cause})`;
}

/**
 * POSTs the request and yields each line of its newline-delimited JSON answer, parsed, as it arrives (a line may
 * come split across chunks), with `streamHttpBody`'s guarantees. A line that is not JSON is a `protocol` error.
 * Shared by the HTTP speech clients whose answer is JSON lines (Inworld, Hume).
 */
export async function* streamJsonLines(request: EventStreamRequest): AsyncGenerator<unknown> {
  const utf8 = new TextDecoder();
  let pending = '';
  const parse = (line: string): unknown => {
    try {
      return JSON.parse(line);
    } catch {
      throw new ServiceError(request.service, 'speech stream sent a line that is not JSON', { code: 'protocol' });
    }
  };
  for await (const bytes of streamHttpBody(request)) {
    pending += utf8.decode(bytes, { stream: true });
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() !== '') yield parse(line);
      if (request.signal.aborted) return;
    }
  }
  if (!request.signal.aborted && pending.trim() !== '') yield parse(pending);
}
