import { describe, expect, it } from 'vitest';
import type { LLMContextSnapshot } from '../../../src/frames/index.js';
import { LLMContext } from '../../../src/llm/index.js';
import { silentLogger } from '../../../src/logging/index.js';
import { LLMService, ServiceError, TTSService, type LLMStreamEvent, type SynthesizeOptions, type TTSChunk } from '../../../src/services/base/index.js';
import { FallbackLLMService, FallbackTTSService } from '../../../src/services/fallback/index.js';
import { FakeTTSService } from '../../../src/testing/fake-services.js';

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
