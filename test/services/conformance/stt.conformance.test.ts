// The STT conformance checks, run by every STT service against its fake vendor server (entries-stt.ts). The
// promises checked are the STT bases': a turn's audio becomes a final transcription with TTFB and usage metrics;
// language and model reach the vendor; an interruption loses no caller audio; a streaming STT reconnects by
// itself after a drop or a refused (429/5xx) handshake and still transcribes the turn, while a segmented one reports
// the turn's failure with the stable code and transcribes the next turn; a refused key is one clear error; the key
// appears nowhere; nothing is left running or connected after the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputAudioFrame, type Frame } from '../../../src/frames/index.js';
import { synthesizeSpeech } from '../../../src/testing/speech.js';
import { STT_ENTRIES } from './entries-stt.js';
import { CONFORMANCE_KEY, REJECTED_KEY, capturingLogger, type STTEntry, type STTHarness } from './harness.js';
import { firstServiceError, makeFrame, metricsOf, runOnVirtualClock, waitUntil, type ConformanceRun } from './run.js';

const RATE = 16000;
const SENTENCE = 'I would like to check my order.';
const TIMEOUT_MS = 5000;
const REAL_WAIT_MS = 8000;

let speech: Int16Array;
beforeAll(async () => {
  speech = await synthesizeSpeech(SENTENCE, { sampleRate: RATE });
});

const silence = (ms: number): Int16Array => new Int16Array((ms * RATE) / 1000);
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const finals = (frames: readonly Frame[]): string[] => frames.flatMap((f) => (f.type === 'transcription' && f.final && f.text !== '' ? [f.text] : []));

/** Audio in 20 ms frames, one per event-loop turn (VAD frames are system frames and would overtake queued audio). */
async function send(run: ConformanceRun, audio: Int16Array): Promise<void> {
  const samples = (RATE * 20) / 1000;
  for (let at = 0; at < audio.length; at += samples) {
    await run.task.queueFrame(inputAudioFrame(audio.slice(at, at + samples), RATE));
    await tick();
  }
}

/** One caller turn as the input transport and the VAD give it; `midway` runs halfway through the speech. */
async function turn(run: ConformanceRun, midway?: () => Promise<void>): Promise<void> {
  await send(run, silence(300));
  void run.task.queueFrame(makeFrame('user-started-speaking'));
  await tick();
  const half = Math.floor(speech.length / 2 / 320) * 320;
  await send(run, speech.subarray(0, half));
  await midway?.();
  await send(run, speech.subarray(half));
  await send(run, silence(300));
  void run.task.queueFrame(makeFrame('user-stopped-speaking'));
  await tick();
}

/** Moves simulated time in steps until `condition` holds (a reconnect's back-off, say), up to `limitMs`. */
async function advanceUntil(run: ConformanceRun, condition: () => boolean, limitMs = 10_000): Promise<void> {
  for (let waited = 0; !condition(); waited += 100) {
    if (waited > limitMs) throw new Error('condition not met in simulated time');
    await run.clock.advance(100);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.each(STT_ENTRIES)('STT conformance: $name', (entry: STTEntry) => {
  let fake: STTHarness;
  beforeAll(async () => {
    fake = await entry.start();
  });
  afterAll(() => fake.close());

  const start = (apiKey = CONFORMANCE_KEY) => {
    const logs = capturingLogger();
    const service = fake.service({
      apiKey,
      timeoutMs: TIMEOUT_MS,
      ...(entry.language === undefined ? {} : { language: entry.language }),
      ...(entry.model === undefined ? {} : { model: entry.model }),
    });
    const run = runOnVirtualClock(service, { logger: logs.logger, audioInSampleRate: RATE });
    return { run, logs: logs.text };
  };
  const heard = (run: ConformanceRun, text = SENTENCE) => waitUntil(() => finals(run.collector.downstream).includes(text), REAL_WAIT_MS);

  it('streaming: the turn transcribed, a TTFB metric; usage: audio seconds; options: language and model sent', async () => {
    fake.scriptTranscript(SENTENCE);
    const { run } = start();
    await turn(run);
    await heard(run);
    await run.stop();
    const metrics = metricsOf(run.collector.downstream);
    expect(metrics.some((m) => m.kind === 'ttfb')).toBe(true);
    const usage = metrics.reduce((sum, m) => sum + (m.kind === 'stt-usage' ? m.audioSeconds : 0), 0);
    expect(usage).toBeGreaterThan(speech.length / RATE - 0.05);
    expect(fake.received()).toMatchObject({ language: entry.language, model: entry.model });
    expect(run.errors).toEqual([]);
  });

  it('interruption: no caller audio lost; the turn spoken across it is transcribed whole', async () => {
    fake.scriptTranscript(SENTENCE);
    const { run } = start();
    await turn(run, async () => {
      run.task.interrupt();
      await run.collector.waitFor((f) => f.type === 'interruption');
    });
    await heard(run);
    await run.stop();
    expect(run.errors).toEqual([]);
  });

  it('drop: mid-utterance, a streaming STT reconnects and still transcribes; a segmented one fails the turn only', async () => {
    const { run } = start();
    if (entry.kind === 'streaming') {
      fake.scriptTranscript(SENTENCE);
      fake.scriptTranscript(SENTENCE);
      const sockets = fake.received().requests;
      await turn(run, async () => {
        await waitUntil(() => fake.openSockets() > 0, REAL_WAIT_MS);
        fake.dropNow();
        await advanceUntil(run, () => fake.received().requests > sockets + 1);
      });
      await heard(run);
      expect(run.errors).toEqual([]);
    } else {
      fake.fail({ kind: 'drop' });
      await turn(run);
      await waitUntil(() => run.errors.length > 0, REAL_WAIT_MS);
      expect(firstServiceError(run.errors).code).toMatch(/^(connection-lost|connection-failed)$/);
      fake.scriptTranscript(SENTENCE);
      await turn(run);
      await heard(run);
    }
    await run.stop();
  });

  it('auth: a refused key is an `auth` error naming the vendor; neither key in the error or the logs', async () => {
    const { run, logs } = start(REJECTED_KEY);
    await turn(run);
    await waitUntil(() => run.errors.length > 0, REAL_WAIT_MS);
    await run.cancel();
    const error = firstServiceError(run.errors);
    expect(error.code).toBe('auth');
    expect(error.retryable).toBe(false);
    expect(error.message.toLowerCase()).toContain(error.service.toLowerCase());
    for (const text of [error.message, String(error.stack), logs()]) {
      expect(text).not.toContain(REJECTED_KEY);
      expect(text).not.toContain(CONFORMANCE_KEY);
    }
  });

  for (const status of [429, 500] as const) {
    const code = status === 429 ? 'rate-limited' : 'server';
    it(`${status === 429 ? 'rate limit' : 'server error'}: a ${status} is retried by a streaming STT, or a retryable \`${code}\` error`, async () => {
      const { run, logs } = start();
      // Fault first: a segmented fake answers its queue in order.
      fake.fail({ kind: 'error', status, retryAfterSecs: 2 });
      fake.scriptTranscript(SENTENCE);
      if (entry.kind === 'streaming') {
        const sockets = fake.received().requests;
        await turn(run, () => advanceUntil(run, () => fake.received().requests > sockets));
        await heard(run);
        expect(run.errors).toEqual([]);
      } else {
        await turn(run);
        await waitUntil(() => run.errors.length > 0, REAL_WAIT_MS);
        const error = firstServiceError(run.errors);
        expect(error.code).toBe(code);
        expect(error.retryable).toBe(true);
        if (status === 429 && entry.sendsRetryAfter) expect(error.retryAfterSecs).toBe(2);
        await turn(run);
        await heard(run);
      }
      await run.stop();
      expect(logs()).not.toContain(CONFORMANCE_KEY);
    });
  }

  it.skipIf(entry.notApplicable?.stall !== undefined)('stall: no answer within timeoutMs is a `timeout` error, not sooner', async () => {
    const { run } = start();
    fake.fail({ kind: 'stall' });
    const before = fake.received().requests;
    await turn(run);
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
    fake.scriptTranscript(SENTENCE);
    const { run } = start();
    await turn(run);
    await heard(run);
    await run.stop();
    await waitUntil(() => fake.openSockets() === 0, REAL_WAIT_MS);
    await waitUntil(() => run.clock.pendingTimers === 0, REAL_WAIT_MS);
  });
});
