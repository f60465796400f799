// Error mapping, timeouts and the retry policy: what the platform (or the network) does, and what the caller
// sees. The server counts requests, so "never retried" is checked where it matters: on the wire.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../../../src/logging/index.js';
import {
  PiopiyApiError,
  PiopiyError,
  PiopiyNetworkError,
  RestClient,
  type RestClientOptions,
} from '../../../src/piopiy/rest/index.js';
import { AGENT_ID, CALL_ID, TOKEN, startServer, startSimulatorRest, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function serve(listener: (req: IncomingMessage, res: ServerResponse, count: number) => void): Promise<TestServer> {
  let count = 0;
  const server = await startServer((req, res) => {
    count++;
    // Drain the body before answering, like a real server.
    req.resume();
    req.on('end', () => listener(req, res, count));
  });
  servers.push(server);
  return server;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function clientFor(server: TestServer, options: Partial<RestClientOptions> = {}): RestClient {
  return new RestClient({ token: TOKEN, baseUrl: `${server.url}/v3`, logger: silentLogger, retryDelayMs: 1, ...options });
}

async function failure(promise: Promise<unknown>): Promise<PiopiyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PiopiyError)) throw new Error(`expected a PiopiyError, got ${String(error)}`);
  expect(error.message).not.toContain(TOKEN);
  return error;
}

const transfer = (piopiy: RestClient) =>
  piopiy.voice.transfer(CALL_ID, piopiy.voice.pipeline().connect({ callerId: '918000000001' }, [{ type: 'pstn', number: '918000000002' }]));
const aiCall = (piopiy: RestClient) => piopiy.ai.call({ callerId: '918000000001', toNumber: '919876543210', agentId: AGENT_ID });
const settle = () => new Promise((r) => setTimeout(r, 100));

describe('API errors', () => {
  it('409 transfer_in_progress carries the running request id', async () => {
    const server = await serve((_req, res) => json(res, 409, { error: 'transfer_in_progress', request_id: 'req-running' }));
    const error = await failure(transfer(clientFor(server)));
    expect(error).toBeInstanceOf(PiopiyApiError);
    expect(error).toMatchObject({
      status: 409,
      code: 'transfer_in_progress',
      requestId: 'req-running',
      message: 'transfer_in_progress',
      payload: { error: 'transfer_in_progress', request_id: 'req-running' },
      method: 'POST',
      path: '/voice/pcmo/transfer',
    });
  });

  it('404 CALL_NOT_FOUND from the simulator handlers', async () => {
    const sim = await startSimulatorRest({
      hangup: (callId) => ({ status: 404, body: { code: 'CALL_NOT_FOUND', message: `Call ${callId} was not found.` } }),
    });
    servers.push(sim.server);
    const error = await failure(sim.client().voice.hangup(CALL_ID));
    expect(error).toMatchObject({ status: 404, code: 'CALL_NOT_FOUND', message: `Call ${CALL_ID} was not found.` });
  });

  it('403 ai_agent_not_running: message from error, then message', async () => {
    const server = await serve((_req, res, n) =>
      n === 1
        ? json(res, 403, { error: 'ai_agent_not_running', message: 'Agent is offline.' })
        : json(res, 403, { error_code: 'ai_agent_not_running', message: 'Agent is offline.' }),
    );
    expect(await failure(aiCall(clientFor(server)))).toMatchObject({ status: 403, code: 'ai_agent_not_running', message: 'ai_agent_not_running' });
    expect(await failure(aiCall(clientFor(server)))).toMatchObject({ status: 403, code: 'ai_agent_not_running', message: 'Agent is offline.' });
  });

  it('a sentence in `error` is a message, not a code', async () => {
    const server = await serve((_req, res) => json(res, 400, { error: 'Invalid pipeline supplied.' }));
    expect(await failure(transfer(clientFor(server)))).toMatchObject({ status: 400, code: undefined, message: 'Invalid pipeline supplied.' });
  });

  it('non-JSON and empty error bodies', async () => {
    const server = await serve((_req, res, n) => {
      if (n === 1) res.writeHead(502, { 'Content-Type': 'text/html' }).end('  Bad Gateway  ');
      else res.writeHead(500).end();
    });
    expect(await failure(transfer(clientFor(server)))).toMatchObject({ status: 502, message: 'Bad Gateway', payload: { message: 'Bad Gateway' } });
    expect(await failure(transfer(clientFor(server)))).toMatchObject({ status: 500, message: 'Piopiy API request failed.', payload: {} });
  });

  it('401 from the simulator for a wrong token; an echoed token is redacted', async () => {
    const sim = await startSimulatorRest();
    servers.push(sim.server);
    const wrong = await failure(transfer(sim.client({ token: 'wrong-token-123' })));
    expect(wrong).toMatchObject({ status: 401, code: 'unauthorized' });
    const echo = await serve((req, res) => json(res, 401, { message: `token ${req.headers.authorization} rejected`, detail: [TOKEN] }));
    const error = (await failure(transfer(clientFor(echo)))) as PiopiyApiError;
    expect(error.message).toBe('token Bearer [redacted] rejected');
    expect(JSON.stringify(error.payload)).not.toContain(TOKEN);
  });
});

describe('timeouts and network failures', () => {
  it('a timeout is a PiopiyNetworkError and the transfer is not sent again', async () => {
    const server = await serve(() => {
      /* never answers */
    });
    const started = performance.now();
    const error = await failure(transfer(clientFor(server, { timeoutMs: 150 })));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(PiopiyNetworkError);
    expect(error).toMatchObject({ failure: 'timeout', mayHaveReachedServer: true, path: '/voice/pcmo/transfer' });
    expect(error.message).toBe('POST /voice/pcmo/transfer timed out after 150 ms; the request may have reached the platform.');
    await settle();
    expect(server.seen).toHaveLength(1);
  });

  it('a timeout while the body streams counts too', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"message":');
    });
    const error = await failure(aiCall(clientFor(server, { timeoutMs: 150 })));
    expect(error).toMatchObject({ failure: 'timeout' });
    await settle();
    expect(server.seen).toHaveLength(1);
  });

  it('a connection reset after the request was sent is not retried, even for a call', async () => {
    const server = await serve((req) => req.socket.destroy());
    const error = await failure(aiCall(clientFor(server)));
    expect(error).toMatchObject({ failure: 'network', mayHaveReachedServer: true });
    await settle();
    expect(server.seen).toHaveLength(1);
  });

  it('connection refused: certainly unsent, so retried (transfer included), up to maxRetries', async () => {
    const closed = await startServer(() => undefined);
    await closed.close();
    let attempts = 0;
    const counting: typeof fetch = (input, init) => {
      attempts++;
      return fetch(input, init);
    };
    const warnings: unknown[] = [];
    const logger: Logger = { ...silentLogger, warn: (obj: unknown) => void warnings.push(obj), child: () => logger };
    const error = await failure(transfer(clientFor(closed, { fetch: counting, logger })));
    expect(error).toBeInstanceOf(PiopiyNetworkError);
    expect(error).toMatchObject({ failure: 'connect', mayHaveReachedServer: false });
    expect(error.message).toMatch(/could not connect to the Piopiy API \(ECONNREFUSED\); the request was not sent\.$/);
    expect(attempts).toBe(3);
    expect(JSON.stringify(warnings)).not.toContain(TOKEN);

    attempts = 0;
    await failure(aiCall(clientFor(closed, { fetch: counting, maxRetries: 0 })));
    expect(attempts).toBe(1);
  });

  it('connection refused then up: the retry succeeds', async () => {
    const server = await serve((_req, res) => json(res, 200, { message: 'queued' }));
    let attempts = 0;
    const flaky: typeof fetch = (input, init) => {
      attempts++;
      if (attempts === 1) return Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) }));
      return fetch(input, init);
    };
    expect(await transfer(clientFor(server, { fetch: flaky }))).toEqual({ message: 'queued' });
    expect(attempts).toBe(2);
    expect(server.seen).toHaveLength(1);
  });
});

describe('retry policy on responses', () => {
  const rateLimitedOnce = (retryAfter: string | undefined) =>
    serve((_req, res, n) => {
      if (n === 1) json(res, 429, { error: 'rate_limited' }, retryAfter === undefined ? {} : { 'Retry-After': retryAfter });
      else json(res, 200, { message: 'queued', call_id: CALL_ID });
    });

  it('429 with Retry-After: a call is retried after the wait', async () => {
    const server = await rateLimitedOnce('0');
    expect(await aiCall(clientFor(server))).toEqual({ message: 'queued', call_id: CALL_ID });
    expect(server.seen).toHaveLength(2);
  });

  it('429 without Retry-After, or with a long one: a call is not retried', async () => {
    const bare = await rateLimitedOnce(undefined);
    expect(await failure(aiCall(clientFor(bare)))).toMatchObject({ status: 429, code: 'rate_limited', retryAfterSecs: undefined });
    expect(bare.seen).toHaveLength(1);
    const long = await rateLimitedOnce('3600');
    expect(await failure(aiCall(clientFor(long)))).toMatchObject({ status: 429, retryAfterSecs: 3600 });
    expect(long.seen).toHaveLength(1);
  });

  it('429 with Retry-After: transfer and hangup are not retried', async () => {
    const server = await rateLimitedOnce('0');
    expect(await failure(transfer(clientFor(server)))).toMatchObject({ status: 429, retryAfterSecs: 0 });
    await settle();
    expect(server.seen).toHaveLength(1);
    const hangupServer = await rateLimitedOnce('0');
    await failure(clientFor(hangupServer).voice.hangup(CALL_ID));
    expect(hangupServer.seen).toHaveLength(1);
  });

  it('5xx is never retried: the server sees exactly one transfer, one call', async () => {
    const server = await serve((_req, res) => json(res, 503, { message: 'busy' }));
    expect(await failure(transfer(clientFor(server)))).toMatchObject({ status: 503 });
    await settle();
    expect(server.seen).toHaveLength(1);
    expect(await failure(aiCall(clientFor(server)))).toMatchObject({ status: 503 });
    await settle();
    expect(server.seen).toHaveLength(2);
  });

  it('429 retries stop at maxRetries', async () => {
    const server = await serve((_req, res) => json(res, 429, { error: 'rate_limited' }, { 'Retry-After': '0' }));
    await failure(aiCall(clientFor(server, { maxRetries: 2 })));
    expect(server.seen).toHaveLength(3);
  });
});
