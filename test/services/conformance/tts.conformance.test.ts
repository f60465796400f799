// The TTS conformance checks, run by every TTS service against its fake vendor server (entries-tts.ts). The
// promises checked are the TTSService base's: audio streamed in pieces with TTFB and usage metrics; an
// interruption stops the synthesis in flight and none of its audio comes after it; a failure (refused key, 429,
// 5xx, no audio within `timeoutMs`) is one error frame with the stable code, and the next sentence is said; a
// WebSocket dropped mid-sentence is resumed on a new socket from the word cut (an HTTP stream fails the sentence) (a TTS does not retry by itself: the fallback service does, with the error's
// `retryAfterSecs`); the key appears nowhere; nothing is left running or connected after the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../../src/frames/index.js';
import { TTS_ENTRIES } from './entries-tts.js';
import { CONFORMANCE_KEY, REJECTED_KEY, capturingLogger, type TTSEntry, type TTSHarness } from './harness.js';
import { firstServiceError, makeFrame, metricsOf, runOnVirtualClock, waitUntil } from './run.js';

const TIMEOUT_MS = 5000;
const REAL_WAIT_MS = 5000;
const LONG_TEXT = 'This sentence is long enough to be cut in the middle of its audio by the caller speaking.';

const stopped = (frames: readonly Frame[]): number => frames.filter((f) => f.type === 'tts-stopped').length;
const audioFrames = (frames: readonly Frame[]) => frames.flatMap((f) => (f.type === 'tts-audio' ? [f] : []));

for (const entry of TTS_ENTRIES.filter((e) => e.missing !== undefined)) {
  it.skip(`TTS conformance: ${entry.name} [skipped: ${entry.missing ?? ''}]`, () => undefined);
}

describe.each(TTS_ENTRIES.filter((e) => e.missing === undefined))('TTS conformance: $name', (entry: TTSEntry) => {
  let fake: TTSHarness;
  beforeAll(async () => {
    fake = await entry.start();
  });
  afterAll(() => fake.close());

  const start = (apiKey = CONFORMANCE_KEY) => {
    const logs = capturingLogger();
    const service = fake.service({
      apiKey,
      timeoutMs: TIMEOUT_MS,
      ...(entry.voice === undefined ? {} : { voice: entry.voice }),
      ...(entry.language === undefined ? {} : { language: entry.language }),
    });
    const run = runOnVirtualClock(service, { logger: logs.logger, audioOutSampleRate: service.sampleRate });
    const say = (text: string): void => run.send(makeFrame('speak', { text }));
    return { service, run, say, logs: logs.text };
  };

  it('streaming: audio in pieces, a TTFB metric; usage: characters; options: voice and language reach the vendor', async () => {
    const { run, say } = start();
    say('Hello there.');
    await waitUntil(() => stopped(run.collector.downstream) === 1, REAL_WAIT_MS);
    await run.stop();
    expect(audioFrames(run.collector.downstream).length).toBeGreaterThan(1);
    const metrics = metricsOf(run.collector.downstream);
    expect(metrics.some((m) => m.kind === 'ttfb')).toBe(true);
    expect(metrics.find((m) => m.kind === 'tts-usage')).toMatchObject({ characters: 'Hello there.'.length });
    const received = fake.received();
    if (entry.voice !== undefined) expect(received.voice).toBe(entry.voice);
    if (entry.language !== undefined) expect(received.language).toBe(entry.language);
    expect(run.errors).toEqual([]);
  });

  it('interruption: the synthesis in flight stops, none of its audio after the interruption, the next is said', async () => {
    const { run, say } = start();
    say(`${LONG_TEXT} ${LONG_TEXT} ${LONG_TEXT}`);
    const first = await run.collector.waitFor((f) => f.type === 'tts-audio');
    const firstContext = first.type === 'tts-audio' ? first.contextId : undefined;
    run.task.interrupt();
    await run.collector.waitFor((f) => f.type === 'interruption');
    say('Second.');
    await waitUntil(() => audioFrames(run.collector.downstream).some((f) => f.contextId !== firstContext), REAL_WAIT_MS);
    await waitUntil(() => run.collector.downstream.at(-1)?.type === 'tts-stopped', REAL_WAIT_MS);
    await run.stop();
    const frames = run.collector.downstream;
    const cut = frames.findIndex((f) => f.type === 'interruption');
    expect(audioFrames(frames.slice(cut)).filter((f) => f.contextId === firstContext)).toEqual([]);
    expect(run.errors).toEqual([]);
  });

  it.skipIf(entry.notApplicable?.['drop'] !== undefined)('drop: a socket cut mid-sentence is resumed on a new one (WebSocket) or one error frame (HTTP); the next is said', async () => {
    const { run, say } = start();
    fake.fail({ kind: 'drop' });
    say(LONG_TEXT);
    await waitUntil(() => stopped(run.collector.downstream) === 1, REAL_WAIT_MS);
    if (entry.onDrop === 'resumes') {
      expect(run.errors).toEqual([]);
    } else {
      expect(run.errors).toHaveLength(1);
      expect(firstServiceError(run.errors).code).toMatch(/^(connection-lost|connection-failed)$/);
    }
    const audioBefore = audioFrames(run.collector.downstream).length;
    say('Back again.');
    await waitUntil(() => stopped(run.collector.downstream) === 2, REAL_WAIT_MS);
    await run.stop();
    expect(audioFrames(run.collector.downstream).length).toBeGreaterThan(audioBefore);
    expect(run.errors.length).toBe(entry.onDrop === 'resumes' ? 0 : 1);
  });

  it.skipIf(entry.notApplicable?.['auth'] !== undefined)('auth: a refused key is an `auth` error naming the vendor; neither key in the error or the logs', async () => {
    const { run, say, logs } = start(REJECTED_KEY);
    say('Hello there.');
    await waitUntil(() => run.errors.length > 0, REAL_WAIT_MS);
    await run.stop();
    const error = firstServiceError(run.errors);
    expect(error.code).toBe('auth');
    expect(error.message.toLowerCase()).toContain(error.service.toLowerCase());
    for (const text of [error.message, String(error.stack), logs()]) {
      expect(text).not.toContain(REJECTED_KEY);
      expect(text).not.toContain(CONFORMANCE_KEY);
    }
  });

  it.skipIf(entry.notApplicable?.['rate-limit'] !== undefined)('rate limit: a 429 is a retryable `rate-limited` error carrying the vendor\'s Retry-After', async () => {
    const { run, say } = start();
    fake.fail({ kind: 'error', status: 429, retryAfterSecs: 2 });
    say('Hello there.');
    await waitUntil(() => run.errors.length > 0, REAL_WAIT_MS);
    await run.stop();
    const error = firstServiceError(run.errors);
    expect(error.code).toBe('rate-limited');
    expect(error.retryable).toBe(true);
    if (entry.sendsRetryAfter) expect(error.retryAfterSecs).toBe(2);
  });

  it.skipIf(entry.notApplicable?.['server'] !== undefined)('server error: a 500 is a retryable `server` error; the next sentence is said; the key is not logged', async () => {
    const { run, say, logs } = start();
    fake.fail({ kind: 'error', status: 500 });
    say('Hello there.');
    await waitUntil(() => run.errors.length > 0, REAL_WAIT_MS);
    expect(firstServiceError(run.errors).code).toBe('server');
    say('Second try.');
    await waitUntil(() => audioFrames(run.collector.downstream).length > 0 && run.collector.downstream.at(-1)?.type === 'tts-stopped', REAL_WAIT_MS);
    await run.stop();
    expect(logs()).not.toContain(CONFORMANCE_KEY);
  });

  it.skipIf(entry.notApplicable?.['stall'] !== undefined)('stall: no audio within timeoutMs is a `timeout` error, not sooner', async () => {
    const { run, say } = start();
    fake.fail({ kind: 'stall' });
    const before = fake.received().requests;
    say('Hello there.');
    await waitUntil(() => fake.received().requests > before, REAL_WAIT_MS);
    await run.clock.advance(TIMEOUT_MS - 10);
    expect(run.errors).toEqual([]);
    await run.clock.advance(10);
    // Well before the timeout in real time: a deadline kept on a real timer instead of the call's clock fails here.
    await waitUntil(() => run.errors.length > 0, TIMEOUT_MS / 2);
    await run.stop();
    expect(firstServiceError(run.errors).code).toBe('timeout');
  });

  it('close: no timer left and no socket open once the task has ended', async () => {
    const { run, say } = start();
    say('Bye.');
    await waitUntil(() => stopped(run.collector.downstream) === 1, REAL_WAIT_MS);
    await run.stop();
    // A socket's close is a round trip in real time; once it is over, nothing of the service may be pending.
    await waitUntil(() => fake.openSockets() === 0, REAL_WAIT_MS);
    await waitUntil(() => run.clock.pendingTimers === 0, REAL_WAIT_MS);
  });
});
