import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { concatInt16, dbfs } from '../../../../src/audio/index.js';
import { makeFrame, type ErrorFrame } from '../../../../src/frames/index.js';
import { silentLogger } from '../../../../src/logging/index.js';
import { Pipeline, PipelineTask } from '../../../../src/pipeline/index.js';
import { ServiceError, type TTSChunk } from '../../../../src/services/base/index.js';
import {
  FliteTTSService,
  FliteWorkerPool,
  synthesizeWithFlite,
  type FliteVoice,
} from '../../../../src/services/local/flite/index.js';
import { FrameCollector } from '../../../../src/testing/frame-collector.js';

const SENTENCE = 'Please hold the line while I connect you to an agent.';
/** About eight seconds of speech: a synthesis long enough to block a thread measurably. */
const LONG_TEXT = Array.from({ length: 5 }, () => SENTENCE).join(' ');
/** About half a minute of speech: Flite runs it in one synchronous burst of roughly 100 ms. */
const STALL_TEXT = Array.from({ length: 20 }, () => SENTENCE).join(' ');

const pools: FliteWorkerPool[] = [];
function newPool(maxWorkers?: number): FliteWorkerPool {
  const pool = new FliteWorkerPool(maxWorkers === undefined ? {} : { maxWorkers });
  pools.push(pool);
  return pool;
}
/** One warm worker for the tests that do not count workers: starting one costs about 0.4 s under tsx. */
let shared: FliteWorkerPool;
beforeAll(async () => {
  shared = newPool(1);
  await shared.warmUp();
  await synthesizeWithFlite('Hi.'); // compiles the engine on the main thread too
});
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

async function collect(chunks: AsyncIterable<TTSChunk>): Promise<Int16Array[]> {
  const audio: Int16Array[] = [];
  for await (const chunk of chunks) if (chunk.type === 'audio') audio.push(chunk.audio);
  return audio;
}

const live = (): AbortSignal => new AbortController().signal;

/** Largest gap between timer ticks (ms) while `work` runs: how long the event loop was blocked. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return longest;
}

describe('FliteWorkerPool', () => {
  it('gives the same audio as synthesizing on the main thread', async () => {
    const pool = shared;
    const direct = await synthesizeWithFlite(SENTENCE, { voice: 'slt' });
    const viaWorker = await pool.synthesize(SENTENCE, { voice: 'slt' });
    expect(viaWorker.sampleRate).toBe(16000);
    expect(viaWorker.samples.length).toBeGreaterThan(16000);
    expect(viaWorker.samples).toEqual(direct.samples);
    expect(pool.size).toBe(1);
  });

  it('keeps the event loop running while it synthesizes (the main thread would stall)', async () => {
    const pool = shared;
    const onMainThread = await longestStall(() => synthesizeWithFlite(STALL_TEXT));
    const onWorker = await longestStall(() => pool.synthesize(STALL_TEXT));
    // Measured: 90-140 ms blocked on the main thread, 4-5 ms with the worker.
    expect(onMainThread).toBeGreaterThan(40);
    expect(onWorker).toBeLessThan(onMainThread / 2);
  });

  it('drops a waiting request that is aborted, and the next request gets its own audio', async () => {
    const pool = shared;
    const first = pool.synthesize(LONG_TEXT);
    const abort = new AbortController();
    const dropped = pool.synthesize('This request is dropped.', { signal: abort.signal });
    expect(pool.queued).toBe(1);
    abort.abort();
    await expect(dropped).rejects.toMatchObject({ name: 'AbortError' });
    expect(pool.queued).toBe(0);
    const next = pool.synthesize('Yes.');
    expect((await first).samples).toEqual((await synthesizeWithFlite(LONG_TEXT)).samples);
    expect((await next).samples).toEqual((await synthesizeWithFlite('Yes.')).samples);
  });

  it('rejects a running request at once when aborted and ignores its late result', async () => {
    const pool = shared;
    const abort = new AbortController();
    const running = pool.synthesize(LONG_TEXT, { signal: abort.signal });
    const next = pool.synthesize('Next one.');
    const abortedAt = performance.now();
    abort.abort(new Error('caller barged in'));
    await expect(running).rejects.toThrow('caller barged in');
    expect(performance.now() - abortedAt).toBeLessThan(15);
    // The worker finished the long text first, then served the next request with the right audio.
    expect((await next).samples).toEqual((await synthesizeWithFlite('Next one.')).samples);
  });

  it('rejects an already aborted signal without starting a worker', async () => {
    const pool = newPool();
    await expect(pool.synthesize('Hello.', { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(pool.size).toBe(0);
  });

  it('passes engine errors back with their type', async () => {
    const pool = shared;
    await expect(pool.synthesize('Hello.', { voice: 'nope' as FliteVoice })).rejects.toThrow(RangeError);
    await expect(pool.synthesize('   ')).rejects.toThrow(/empty/);
  });

  it('starts a second worker only while requests wait, never more than maxWorkers', async () => {
    const pool = newPool(2);
    const results = await Promise.all(['One.', 'Two.', 'Three.', 'Four.'].map((text) => pool.synthesize(text)));
    expect(pool.size).toBe(2);
    expect(results[2]!.samples).toEqual((await synthesizeWithFlite('Three.')).samples);
    const single = newPool(2);
    await single.synthesize('One.');
    await single.synthesize('Two.');
    expect(single.size).toBe(1);
  });

  it('closing lets each worker finish its WebAssembly work and leave, rather than terminating it mid-run', async () => {
    const terminate = vi.spyOn(Worker.prototype, 'terminate');
    try {
      const pool = newPool();
      await pool.synthesize('Hello.'); // the worker now prepares its next instance
      const running = pool.synthesize(SENTENCE).catch((error: unknown) => error);
      await pool.close();
      expect(await running).toBeInstanceOf(Error);
      expect(terminate).not.toHaveBeenCalled();
      expect(pool.size).toBe(0);
    } finally {
      terminate.mockRestore();
    }
  });

  it('rejects everything once closed', async () => {
    const pool = newPool();
    const pending = expect(pool.synthesize(SENTENCE)).rejects.toThrow(/closed/);
    await pool.close();
    await pending;
    await expect(pool.synthesize('Hello.')).rejects.toThrow(/closed/);
    expect(pool.size).toBe(0);
  });
});

describe('FliteTTSService', () => {
  it('takes its sample rate from the voice', () => {
    expect(new FliteTTSService().sampleRate).toBe(16000);
    expect(new FliteTTSService({ voice: 'kal' }).sampleRate).toBe(8000);
    expect(new FliteTTSService({ voice: 'awb' }).sampleRate).toBe(16000);
    expect(() => new FliteTTSService({ voice: 'robot' as FliteVoice })).toThrow(/unknown voice 'robot'/);
  });

  it.each([
    ['kal16', 640],
    ['kal', 320],
  ] as const)('yields the %s voice in 40 ms chunks (%i samples), the same audio as the engine', async (voice, size) => {
    const tts = new FliteTTSService({ voice, pool: shared });
    const chunks = await collect(tts.synthesize(SENTENCE, { contextId: 'c', signal: live() }));
    expect(chunks.length).toBeGreaterThan(20);
    expect(chunks.slice(0, -1).every((c) => c.length === size)).toBe(true);
    expect(chunks.at(-1)!.length).toBeLessThanOrEqual(size);
    expect(concatInt16(chunks)).toEqual((await synthesizeWithFlite(SENTENCE, { voice })).samples);
  });

  it('says nothing for blank text and stops yielding when aborted', async () => {
    const tts = new FliteTTSService({ pool: shared });
    expect(await collect(tts.synthesize('  ', { contextId: 'c', signal: live() }))).toEqual([]);
    const abort = new AbortController();
    let received = 0;
    for await (const chunk of tts.synthesize(SENTENCE, { contextId: 'c', signal: abort.signal })) {
      if (chunk.type === 'audio') received++;
      if (received === 3) abort.abort();
    }
    expect(received).toBe(3);
  });

  it('reports a failure as a ServiceError naming the service', async () => {
    const pool = newPool();
    await pool.close();
    const tts = new FliteTTSService({ pool, name: 'offline-voice' });
    const failure = await collect(tts.synthesize('Hello.', { contextId: 'c', signal: live() })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ServiceError);
    expect((failure as ServiceError).message).toMatch(/^offline-voice: flite: the worker pool is closed/);
  });

  it('speaks a speak frame in a pipeline: started, text, sentence audio at 16 kHz, stopped', async () => {
    const tts = new FliteTTSService({ pool: shared });
    const collector = new FrameCollector();
    const errors: ErrorFrame[] = [];
    const task = new PipelineTask(new Pipeline([tts, collector]), { logger: silentLogger, onError: (f) => errors.push(f) });
    const running = task.run();
    void task.queueFrame(makeFrame('speak', { text: 'Hello there. How can I help you today?' }));
    await collector.waitFor((f) => f.type === 'tts-stopped');
    task.stopWhenDone();
    await running;

    expect(errors).toEqual([]);
    const types = collector.types().filter((t) => t !== 'tts-audio' && t !== 'metrics');
    expect(types).toEqual(['start', 'tts-started', 'tts-text', 'tts-text', 'tts-stopped', 'end']);
    expect(collector.ofType('tts-text').map((f) => f.text)).toEqual(['Hello there.', 'How can I help you today?']);
    const frames = collector.ofType('tts-audio');
    expect(frames.every((f) => f.sampleRate === 16000)).toBe(true);
    const expected = concatInt16([
      (await synthesizeWithFlite('Hello there.')).samples,
      (await synthesizeWithFlite('How can I help you today?')).samples,
    ]);
    const audio = concatInt16(frames.map((f) => f.audio));
    expect(audio).toEqual(expected);
    expect(dbfs(audio)).toBeGreaterThan(-30);
  });

  it('stops the audio on an interruption', async () => {
    const tts = new FliteTTSService({ pool: shared });
    const collector = new FrameCollector();
    const task = new PipelineTask(new Pipeline([tts, collector]), { logger: silentLogger });
    const running = task.run();
    void task.queueFrame(makeFrame('speak', { text: `${LONG_TEXT} ${LONG_TEXT}` }));
    await collector.waitFor((f) => f.type === 'tts-audio');
    void task.queueFrame(makeFrame('interruption'));
    const countAtInterruption = collector.ofType('tts-audio').length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    task.stopWhenDone();
    await running;
    // A chunk already on its way may still land; the remaining sentences never do.
    expect(collector.ofType('tts-audio').length).toBeLessThanOrEqual(countAtInterruption + 1);
    expect(collector.types()).toContain('tts-stopped');
  });
});
