import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LLMContextSnapshot } from '../../../src/frames/index.js';
import { LLMContext } from '../../../src/llm/index.js';
import { createLogger, silentLogger } from '../../../src/logging/index.js';
import { LLMService, ServiceError, TTSService, type LLMStreamEvent, type SynthesizeOptions, type TTSChunk } from '../../../src/services/base/index.js';
import { FallbackLLMService, FallbackTTSService } from '../../../src/services/fallback/index.js';
import { CartesiaTTSService } from '../../../src/services/cartesia/index.js';
import { FakeTTSService } from '../../../src/testing/fake-services.js';
import { startFakeCartesia, type FakeCartesia } from '../../../src/testing/fakes/cartesia.js';
import { runPipeline } from '../../support/pipeline.js';

class ScriptLLM extends LLMService {
  calls = 0;
  constructor(
    name: string,
    private readonly behaviour: 'ok' | 'fail-before' | 'fail-after',
  ) {
    super({ model: name, name });
  }
  async *streamCompletion(): AsyncGenerator<LLMStreamEvent> {
    this.calls++;
    if (this.behaviour === 'fail-before') throw new ServiceError(this.name, '500 server error', { status: 500 });
    yield { type: 'text', text: `answer from ${this.name}` };
    if (this.behaviour === 'fail-after') throw new ServiceError(this.name, 'stream dropped', { retryable: true });
  }
}

class FailingTTS extends TTSService {
  calls = 0;
  constructor() {
    super({ sampleRate: 16000, name: 'failing-tts' });
  }
  // eslint-disable-next-line require-yield
  async *synthesize(): AsyncGenerator<TTSChunk> {
    this.calls++;
    throw new ServiceError('failing-tts', 'socket refused');
  }
}

const context: LLMContextSnapshot = new LLMContext([{ role: 'user', content: 'hi' }]);

async function collect(stream: AsyncIterable<LLMStreamEvent>): Promise<string[]> {
  const texts: string[] = [];
  for await (const event of stream) if (event.type === 'text') texts.push(event.text);
  return texts;
}

describe('FallbackLLMService', () => {
  it('answers from the next service when the first fails before any output, and rests the failed one', async () => {
    const primary = new ScriptLLM('primary', 'fail-before');
    const backup = new ScriptLLM('backup', 'ok');
    const llm = new FallbackLLMService([primary, backup], { logger: silentLogger, recoverAfterMs: 50 });
    const signal = new AbortController().signal;
    expect(await collect(llm.streamCompletion(context, { signal }))).toEqual(['answer from backup']);
    // While resting, the failed service is tried last: the backup answers first.
    expect(await collect(llm.streamCompletion(context, { signal }))).toEqual(['answer from backup']);
    expect(primary.calls).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    await collect(llm.streamCompletion(context, { signal }));
    expect(primary.calls).toBe(2); // tried again after recoverAfterMs
  });

  it('does not switch once output has gone out, and reports the last error when all fail', async () => {
    const llm = new FallbackLLMService([new ScriptLLM('a', 'fail-after'), new ScriptLLM('b', 'ok')], { logger: silentLogger });
    const signal = new AbortController().signal;
    await expect(collect(llm.streamCompletion(context, { signal }))).rejects.toThrow(/a: stream dropped/);
    const none = new FallbackLLMService([new ScriptLLM('x', 'fail-before'), new ScriptLLM('y', 'fail-before')], { logger: silentLogger });
    await expect(collect(none.streamCompletion(context, { signal }))).rejects.toThrow(/y: 500 server error/);
    expect(() => new FallbackLLMService([])).toThrow(/at least one/);
  });
});

describe('FallbackTTSService', () => {
  it('speaks with the backup, at the first service’s rate', async () => {
    const failing = new FailingTTS();
    const backup = new FakeTTSService({ sampleRate: 24000, msPerCharacter: 10 });
    const tts = new FallbackTTSService([failing, backup], { logger: silentLogger });
    expect(tts.sampleRate).toBe(16000);
    const options: SynthesizeOptions = { contextId: 'c1', signal: new AbortController().signal };
    let samples = 0;
    for await (const chunk of tts.synthesize('Hello there.', options)) if (chunk.type === 'audio') samples += chunk.audio.length;
    expect(failing.calls).toBe(1);
    expect(backup.spoken).toEqual(['Hello there.']);
    // 12 characters x 10 ms = 120 ms at 16 kHz, less the resampler's filter delay
    expect(samples).toBeGreaterThan(1800);
    expect(samples).toBeLessThanOrEqual(1920);
  });
});

describe('FallbackTTSService: a primary lost in the middle of a sentence', () => {
  let cartesia: FakeCartesia;
  beforeEach(async () => {
    cartesia = await startFakeCartesia();
  });
  afterEach(async () => {
    await cartesia.close();
  });

  it('the backup says the words not yet heard, on the utterance’s clock, and the rest of the reply', async () => {
    // 480 ms of "First sentence here." arrive ("sentence" began at 360 ms), then the socket drops and the server
    // refuses the new one.
    cartesia.failGeneration({ drop: true, afterChunks: 12 });
    void cartesia.waitForMessage((m) => (m as { transcript?: string }).transcript === 'First sentence here. ').then(() => cartesia.failHandshake({ status: 503 }));
    const logs: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logs.push(line) } });
    const primary = new CartesiaTTSService({ apiKey: 'sk_car_test_SECRET_0123456789', baseUrl: cartesia.baseUrl, name: 'cartesia' });
    const backup = new FakeTTSService({ sampleRate: 16000, msPerCharacter: 60, wordTimestamps: true, name: 'backup-tts' });
    const { collector, errors, respond, stop } = runPipeline(new FallbackTTSService([primary, backup], { logger }));
    respond(['First sentence here. ', 'Second sentence here.']);
    await collector.waitFor((f) => f.type === 'llm-response-end');
    await stop();

    expect(errors).toEqual([]);
    expect(cartesia.contexts.map((c) => [c.generations, c.outcome])).toEqual([[['First sentence here.'], 'dropped']]);
    expect(backup.spoken).toEqual(['sentence here.', 'Second sentence here.']);
    const samples = collector.ofType('tts-audio').reduce((n, f) => n + f.audio.length, 0);
    expect(samples).toBe(12 * 640 + (14 + 21) * 60 * 16);
    // Every word once, where its audio is in the utterance.
    expect(collector.ofType('tts-text').map((f) => [f.text, f.offsetMs])).toEqual([
      ['First', 0],
      ['sentence', 360],
      ['here.', 480 + 9 * 60],
      ['Second', 1320],
      ['sentence', 1320 + 7 * 60],
      ['here.', 1320 + 16 * 60],
    ]);
    const line = logs.find((l) => l.includes('switching to'));
    expect(line).toContain('cartesia failed; switching to backup-tts');
    expect(logs.join('\n')).not.toContain('SECRET');
  });

  it('a failure after audio with nothing known of what was said is reported, not repeated by the backup', async () => {
    const backup = new FakeTTSService({ sampleRate: 16000 });
    const tts = new FallbackTTSService([new HalfTTS(), backup], { logger: silentLogger });
    const options: SynthesizeOptions = { contextId: 'c1', signal: new AbortController().signal };
    const chunks: TTSChunk[] = [];
    await expect(
      (async () => {
        for await (const chunk of tts.synthesize('Hello there.', options)) chunks.push(chunk);
      })(),
    ).rejects.toThrow(/half-tts: socket lost/);
    expect(chunks).toHaveLength(1);
    expect(backup.spoken).toEqual([]);
  });
});

/** Says half of it, then fails without saying what was left. */
class HalfTTS extends TTSService {
  constructor() {
    super({ sampleRate: 16000, name: 'half-tts' });
  }
  async *synthesize(): AsyncGenerator<TTSChunk> {
    yield { type: 'audio', audio: new Int16Array(160) };
    throw new ServiceError('half-tts', 'socket lost');
  }
}
