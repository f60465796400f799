// The LLM conformance checks, run by every LLM service against its fake vendor server (entries-llm.ts). The
// promises checked are the LLMService base's: text streamed as it comes with TTFB and usage metrics; an
// interruption ends the response at once; a retryable failure before any text is retried (Retry-After honoured),
// one after text is not (the caller already heard part of it); a refused key fails at once with a clear error; a
// stalled stream is cut at `responseTimeoutMs`; the key appears nowhere; nothing is left running after the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../../src/frames/index.js';
import { ask } from '../../support/llm-stream.js';
import { LLM_ENTRIES } from './entries-llm.js';
import { CONFORMANCE_KEY, CONFORMANCE_MODEL, REJECTED_KEY, capturingLogger, type LLMHarness } from './harness.js';
import { firstServiceError, makeFrame, metricsOf, runOnVirtualClock, settleSockets, waitUntil } from './run.js';

const MODEL = CONFORMANCE_MODEL;
const LONG_ANSWER = 'One two three four five six seven eight nine ten. '.repeat(6);
/** The base's default: the longest wait for the first event, then between two. */
const RESPONSE_TIMEOUT_MS = 8000;
const REAL_WAIT_MS = 5000;

const texts = (frames: readonly Frame[]): string => frames.map((f) => (f.type === 'llm-text' ? f.text : '')).join('');
const ended = (frames: readonly Frame[]): number => frames.filter((f) => f.type === 'llm-response-end').length;

describe.each(LLM_ENTRIES)('LLM conformance: $name', (entry) => {
  let fake: LLMHarness;
  beforeAll(async () => {
    fake = await entry.start();
  });
  afterAll(() => fake.close());

  const start = (logger = capturingLogger()) => {
    const service = fake.service({ apiKey: CONFORMANCE_KEY, model: MODEL });
    const run = runOnVirtualClock(service, { logger: logger.logger });
    const askNow = (text: string): void => run.send(makeFrame('llm-context', { context: ask(text) }));
    return { service, run, askNow, logs: logger.text };
  };

  it('streaming: text in pieces, a TTFB metric; usage: the tokens reported; options: the model sent', async () => {
    fake.script({ kind: 'text', text: 'Hello there, how can I help?', usage: { promptTokens: 21, completionTokens: 8 } });
    const before = fake.models().length;
    const { run, askNow } = start();
    askNow('Hi');
    await waitUntil(() => ended(run.collector.downstream) === 1, REAL_WAIT_MS);
    await run.stop();
    expect(run.collector.ofType('llm-text').length).toBeGreaterThan(1);
    expect(texts(run.collector.downstream)).toBe('Hello there, how can I help?');
    const metrics = metricsOf(run.collector.downstream);
    expect(metrics.some((m) => m.kind === 'ttfb')).toBe(true);
    expect(metrics.find((m) => m.kind === 'llm-usage')).toMatchObject({ promptTokens: 21, completionTokens: 8 });
    expect(fake.models().slice(before)).toEqual([MODEL]);
    expect(run.errors).toEqual([]);
  });

  it('interruption: the answer in flight stops, no stale text after it, the next answer is whole', async () => {
    fake.script({ kind: 'text', text: LONG_ANSWER, chunkSize: 2 }, { kind: 'text', text: 'Second answer.' });
    const { run, askNow } = start();
    askNow('Count');
    await run.collector.waitFor((f) => f.type === 'llm-text');
    run.task.interrupt();
    await run.collector.waitFor((f) => f.type === 'interruption');
    askNow('Again');
    await waitUntil(() => texts(run.collector.downstream).endsWith('Second answer.'), REAL_WAIT_MS);
    await settleSockets();
    await run.stop();
    const frames = run.collector.downstream;
    const cut = frames.findIndex((f) => f.type === 'interruption');
    const secondStart = frames.findIndex((f, i) => i > cut && f.type === 'llm-response-start');
    expect(secondStart).toBeGreaterThan(cut);
    expect(frames.slice(cut, secondStart).filter((f) => f.type === 'llm-text')).toEqual([]);
    expect(texts(frames.slice(secondStart))).toBe('Second answer.');
    expect(texts(frames.slice(0, cut)).length).toBeLessThan(LONG_ANSWER.length);
  });

  it('drop: a stream cut mid-answer ends the response with an error, not retried, no apology', async () => {
    fake.script({ kind: 'drop', text: LONG_ANSWER, afterEvents: 4 });
    const requests = fake.models().length;
    const { run, askNow } = start();
    askNow('Hi');
    await waitUntil(() => ended(run.collector.downstream) === 1, REAL_WAIT_MS);
    await run.stop();
    expect(run.collector.ofType('llm-text').length).toBeGreaterThan(0);
    expect(firstServiceError(run.errors).code).toMatch(/^(connection-lost|server|protocol)$/);
    expect(fake.models().length - requests).toBe(1);
    expect(run.collector.ofType('speak')).toEqual([]);
  });

  it('auth: a refused key fails at once with an `auth` error naming the vendor; the caller hears the apology', async () => {
    const logger = capturingLogger();
    const service = fake.service({ apiKey: REJECTED_KEY, model: MODEL });
    const run = runOnVirtualClock(service, { logger: logger.logger });
    run.send(makeFrame('llm-context', { context: ask('Hi') }));
    await waitUntil(() => ended(run.collector.downstream) === 1, REAL_WAIT_MS);
    await run.stop();
    const error = firstServiceError(run.errors);
    expect(error.code).toBe('auth');
    expect(error.retryable).toBe(false);
    expect(error.message.toLowerCase()).toContain(error.service.toLowerCase());
    expect(run.collector.ofType('speak')).toHaveLength(1);
    // secrets: neither the refused key nor the good one in the error or the logs.
    for (const text of [error.message, String(error.stack), logger.text()]) {
      expect(text).not.toContain(REJECTED_KEY);
      expect(text).not.toContain(CONFORMANCE_KEY);
    }
  });

  it('rate limit: a 429 is retried no sooner than its Retry-After (or the back-off without one), then answered', async () => {
    fake.script({ kind: 'error', status: 429, retryAfterSecs: 2 }, { kind: 'text', text: 'After the wait.' });
    const requests = fake.models().length;
    const { run, askNow } = start();
    askNow('Hi');
    await waitUntil(() => fake.models().length === requests + 1, REAL_WAIT_MS);
    await settleSockets();
    // Without a Retry-After, the base's first back-off step (250 ms).
    const waitMs = entry.sendsRetryAfter === false ? 250 : 2000;
    await run.clock.advance(waitMs - 10);
    await settleSockets();
    expect(fake.models().length).toBe(requests + 1);
    await run.clock.advance(20);
    await waitUntil(() => ended(run.collector.downstream) === 1, REAL_WAIT_MS);
    await run.stop();
    expect(texts(run.collector.downstream)).toBe('After the wait.');
    expect(run.errors).toEqual([]);
  });

  it('server error: a 500 is retried after the back-off; the key is not in the retry log', async () => {
    fake.script({ kind: 'error', status: 500 }, { kind: 'text', text: 'Recovered.' });
    const { run, askNow, logs } = start();
    askNow('Hi');
    await waitUntil(() => logs().includes('retrying'), REAL_WAIT_MS);
    await run.clock.advance(2000);
    await waitUntil(() => ended(run.collector.downstream) === 1, REAL_WAIT_MS);
    await run.stop();
    expect(texts(run.collector.downstream)).toBe('Recovered.');
    expect(logs()).toMatch(/"code":"server"|server/);
    expect(logs()).not.toContain(CONFORMANCE_KEY);
  });

  it('stall: a stream that stops sending is cut at the response timeout and retried', async () => {
    fake.script({ kind: 'stall' }, { kind: 'text', text: 'Second try.' });
    const requests = fake.models().length;
    const { run, askNow } = start();
    askNow('Hi');
    await waitUntil(() => fake.models().length === requests + 1, REAL_WAIT_MS);
    await settleSockets();
    await run.clock.advance(RESPONSE_TIMEOUT_MS - 10);
    await settleSockets();
    expect(fake.models().length).toBe(requests + 1);
    await run.clock.advance(10);
    await run.clock.advance(2000);
    await waitUntil(() => ended(run.collector.downstream) === 1, REAL_WAIT_MS);
    await run.stop();
    expect(texts(run.collector.downstream)).toBe('Second try.');
  });

  it('close: no timer of the service left once the task has ended', async () => {
    fake.script({ kind: 'text', text: 'Bye.' });
    const { run, askNow } = start();
    askNow('Hi');
    await waitUntil(() => ended(run.collector.downstream) === 1, REAL_WAIT_MS);
    await run.stop();
    expect(run.clock.pendingTimers).toBe(0);
  });
});
