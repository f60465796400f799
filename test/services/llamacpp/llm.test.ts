// LlamaCppLLMService on a real llama.cpp (node-llama-cpp) running a tiny GGUF written by the test with RANDOM
// weights: what it says is meaningless bytes. What is tested is the machinery: loading, token streaming, abort,
// the grammar-constrained tool call (the grammar forces valid JSON whatever the weights), errors and metrics.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFrame, type LLMContextSnapshot, type LLMToolDefinition } from '../../../src/frames/index.js';
import { ServiceError, type LLMStreamEvent } from '../../../src/services/base/index.js';
import { importNodeLlamaCpp } from '../../../src/services/llamacpp/binding.js';
import { LlamaCppLLMService, unloadLlamaCppModels, type LlamaCppLLMServiceOptions } from '../../../src/services/llamacpp/index.js';
import { answerInPipeline, ask, callsOf, collect, failure, textOf } from '../../support/llm-stream.js';
import { runPipeline } from '../../support/pipeline.js';
import { waitUntil as until } from '../../support/wait.js';
import { writeTinyLlamaGguf } from '../../support/tiny-gguf.js';

const installed = await importNodeLlamaCpp().then(
  () => true,
  () => false,
);

const dir = mkdtempSync(join(tmpdir(), 'piopiy-llama-'));
const modelPath = join(dir, 'tiny-random.gguf');
let modelBytes = 0;
const services: LlamaCppLLMService[] = [];

/** A small context, the CPU only (the default of one thread suits the shared 2-core CI machine). */
function make(options: Partial<LlamaCppLLMServiceOptions> = {}): LlamaCppLLMService {
  const service = new LlamaCppLLMService({ modelPath, contextSize: 512, gpu: false, temperature: 0, maxTokens: 48, ...options });
  services.push(service);
  return service;
}

/** Enum-only arguments: with random weights a free string might never close; an enum always ends. */
const weather: LLMToolDefinition = {
  name: 'get_weather',
  description: 'Weather in a city.',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', enum: ['Paris', 'Lyon'] }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['city'],
  },
};
const hangUp: LLMToolDefinition = { name: 'hang_up', description: 'End the call.', parameters: { type: 'object', properties: {} } };

beforeAll(async () => {
  modelBytes = writeTinyLlamaGguf(modelPath);
  if (installed) await LlamaCppLLMService.prewarm({ modelPath, gpu: false });
}, 60_000);

afterAll(async () => {
  for (const service of services) await service.cleanup();
  await unloadLlamaCppModels();
  rmSync(dir, { recursive: true, force: true });
});

describe('LlamaCppLLMService: errors that need no model', () => {
  it('a missing node-llama-cpp names the package and the install command', async () => {
    const error = await importNodeLlamaCpp('node-llama-cpp-not-installed-here').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).message).toContain('needs the optional package node-llama-cpp');
    expect((error as ServiceError).message).toContain('npm install node-llama-cpp@3');
    expect((error as ServiceError).retryable).toBe(false);
  });

  it('a missing model path is a TypeError at construction', () => {
    expect(() => new LlamaCppLLMService({ modelPath: ' ' })).toThrow(/modelPath \(a GGUF file\) is required/);
  });

  it('the test model is tiny', () => {
    expect(modelBytes).toBeGreaterThan(100_000);
    expect(modelBytes).toBeLessThan(1_000_000);
  });
});

describe.skipIf(!installed)('LlamaCppLLMService on a random-weight model (skipped: node-llama-cpp is not installed; npm test installs it on linux-x64 glibc)', () => {
  it('streams text token by token, then usage; the model name is the file name', async () => {
    const service = make();
    const events = await collect(service, ask('Hello there'));
    const texts = events.filter((e) => e.type === 'text');
    // 48 tokens of random bytes: many pieces, not one block (a few tokens may be held until they form a character).
    expect(texts.length).toBeGreaterThan(10);
    const usage = events.at(-1);
    expect(usage).toMatchObject({ type: 'usage', completionTokens: 48 });
    expect((usage as { promptTokens: number }).promptTokens).toBeGreaterThan(10);
    expect(service.model).toBe('tiny-random.gguf');
    // Deterministic at temperature 0: the same question gives the same (meaningless) text.
    expect(textOf(await collect(service, ask('Hello there')))).toBe(textOf(events));
  });

  it('in a pipeline: response start, text, end, TTFB and usage metrics like every LLM', async () => {
    const collector = await answerInPipeline(make({ name: 'local-llm' }), ask('Good morning'));
    const types = collector.types().filter((t) => t.startsWith('llm-'));
    expect(types[0]).toBe('llm-response-start');
    expect(types.at(-1)).toBe('llm-response-end');
    expect(types.filter((t) => t === 'llm-text').length).toBeGreaterThan(10);
    const metrics = collector.ofType('metrics').flatMap((f) => f.data);
    expect(metrics.some((m) => m.kind === 'ttfb' && m.processor === 'local-llm')).toBe(true);
    expect(metrics.find((m) => m.kind === 'llm-usage')).toMatchObject({ processor: 'local-llm', model: 'tiny-random.gguf', completionTokens: 48 });
  });

  it('an abort mid-stream stops the generation promptly; the next request on the same context works', async () => {
    const service = make({ maxTokens: 400 });
    const controller = new AbortController();
    const events: LLMStreamEvent[] = [];
    let abortedAt = 0;
    for await (const event of service.streamCompletion(ask('Tell me a long story'), { signal: controller.signal })) {
      events.push(event);
      if (events.length === 3) {
        abortedAt = performance.now();
        controller.abort();
      }
    }
    const endedAfterMs = performance.now() - abortedAt;
    expect(endedAfterMs).toBeLessThan(1_000);
    // Nothing after the abort (no more text, no usage, no error): the tokens came one by one, not queued in a block.
    expect(events.length).toBeLessThanOrEqual(4);
    expect(events.every((e) => e.type === 'text')).toBe(true);
    // The same service (its one context sequence) answers again, in full.
    const again = await collect(service, ask('Hello'), new AbortController().signal);
    expect(again.filter((e) => e.type === 'text').length).toBeGreaterThan(10);
    expect(again.at(-1)).toMatchObject({ type: 'usage' });
  });

  it('an interruption in a pipeline ends the response at once; the next turn is answered in full', async () => {
    const { collector, errors, send, stop } = runPipeline(make({ maxTokens: 400 }));
    send(makeFrame('llm-context', { context: ask('Tell me a long story') }));
    await until(() => collector.ofType('llm-text').length >= 3, 10_000);
    send(makeFrame('interruption'));
    await until(() => collector.ofType('llm-response-end').length === 1, 2_000);
    const cut = collector.ofType('llm-text').length;
    expect(cut).toBeLessThan(100);
    send(makeFrame('llm-context', { context: ask('Hello') }));
    await until(() => collector.ofType('llm-response-end').length === 2, 10_000);
    await stop();
    expect(errors).toEqual([]);
    expect(collector.ofType('llm-text').length - cut).toBeGreaterThan(10);
    // Usage only for the answer given in full.
    const usage = collector.ofType('metrics').flatMap((f) => f.data).filter((m) => m.kind === 'llm-usage');
    expect(usage).toEqual([expect.objectContaining({ completionTokens: 400 })]);
  });

  it("a cleaned-up service frees its context: many services in turn on the one loaded model", async () => {
    for (let i = 0; i < 4; i++) {
      const service = make({ maxTokens: 4, contextSize: 256 });
      expect(callsOf(await collect(service, ask('Hi')))).toEqual([]);
      await service.cleanup();
    }
  });

  it("toolChoice 'required': the grammar forces one valid tool call, whatever the weights", async () => {
    const service = make({ toolChoice: 'required', maxTokens: 64 });
    const events = await collect(service, ask('What is the weather in Paris?', [weather, hangUp]));
    expect(textOf(events)).toBe('');
    const [call, ...more] = callsOf(events);
    expect(more).toEqual([]);
    expect(call!.id).toMatch(/^call_llama_/);
    const args = JSON.parse(call!.arguments) as Record<string, unknown>;
    if (call!.name === 'get_weather') {
      expect(['Paris', 'Lyon']).toContain(args.city);
      // The optional unit is either a valid value or left out (the grammar's null is removed).
      if ('unit' in args) expect(['celsius', 'fahrenheit']).toContain(args.unit);
    } else {
      expect(call!.name).toBe('hang_up');
      expect(args).toEqual({});
    }
    expect(events.at(-1)).toMatchObject({ type: 'usage' });
  });

  it("after the tool results the model is not forced again (no tool-call loop): it runs with the tools offered", async () => {
    // The tools' documentation in the system prompt is ~1000 byte-level tokens here: a larger window.
    const service = make({ toolChoice: 'required', maxTokens: 16, contextSize: 2048 });
    const context: LLMContextSnapshot = {
      messages: [
        { role: 'system', content: 'You are a phone assistant.' },
        { role: 'user', content: 'Weather in Lyon?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'get_weather', arguments: '{"city":"Lyon"}' }] },
        { role: 'tool', toolCallId: 'c1', name: 'get_weather', content: '{"tempC":21}' },
      ],
      tools: [weather],
    };
    const events = await collect(service, context);
    expect(events.at(-1)).toMatchObject({ type: 'usage' });
    expect(events.some((e) => e.type === 'text' || e.type === 'tool-call')).toBe(true);
  });

  it("toolChoice 'none' leaves the tools out of the prompt; 'auto' documents them to the model", async () => {
    const question = ask('What is the weather in Paris?', [weather, hangUp]);
    const none = await collect(make({ toolChoice: 'none', maxTokens: 8, contextSize: 2048 }), question);
    const auto = await collect(make({ toolChoice: 'auto', maxTokens: 8, contextSize: 2048 }), question);
    const promptOf = (events: LLMStreamEvent[]): number => (events.at(-1) as { promptTokens: number }).promptTokens;
    expect(callsOf(none)).toEqual([]);
    expect(textOf(none)).not.toBe('');
    // Byte-level tokens: the tools' documentation is hundreds of tokens.
    expect(promptOf(auto) - promptOf(none)).toBeGreaterThan(300);
  });

  it('a model file that does not exist: a clear, non-retryable error (and the apology in a pipeline)', async () => {
    const missing = join(dir, 'nope.gguf');
    const error = await failure(make({ modelPath: missing }));
    expect(error.message).toBe(`llama.cpp: model file not found: ${missing}`);
    expect(error.retryable).toBe(false);
    const collector = await answerInPipeline(make({ modelPath: missing }), ask('Hi'));
    expect(collector.ofType('speak').map((f) => f.text)).toEqual([expect.stringContaining("I'm sorry")]);
  });

  it('a file that is not a GGUF model: the error says so', async () => {
    const bad = join(dir, 'bad.gguf');
    writeFileSync(bad, Buffer.from('this is not a gguf file at all, just text'.repeat(10)));
    const error = await failure(make({ modelPath: bad }));
    expect(error.message).toMatch(new RegExp(`^llama\\.cpp: could not load ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} as a GGUF model: `));
    expect(error.retryable).toBe(false);
  });
});
