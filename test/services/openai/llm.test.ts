import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LLMContextSnapshot, LLMToolDefinition } from '../../../src/frames/index.js';
import { ServiceError, type LLMStreamEvent } from '../../../src/services/base/index.js';
import {
  DeepSeekLLMService,
  GroqLLMService,
  OllamaLLMService,
  OpenAILLMService,
  OpenRouterLLMService,
  TogetherLLMService,
} from '../../../src/services/openai/index.js';
import { startFakeOpenAIChat, type FakeOpenAIChat } from '../../../src/testing/fakes/openai-chat.js';
import { ask, collect, expectQuietAbort, failure, textOf } from '../../support/llm-stream.js';

const KEY = 'sk-test-SECRET123456';

const weather: LLMToolDefinition = {
  name: 'get_weather',
  description: 'Weather in a city.',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

let fake: FakeOpenAIChat;
let llm: OpenAILLMService;
beforeEach(async () => {
  fake = await startFakeOpenAIChat();
  llm = new OpenAILLMService({ apiKey: KEY, baseURL: fake.baseURL, timeoutMs: 2_000 });
});
afterEach(async () => {
  await fake.close();
});

describe('OpenAILLMService: streaming', () => {
  it('streams text in order, whole across arbitrary byte splits, then usage', async () => {
    const text = 'héllo 👋 — naïve café, 日本語 ok.';
    for (let seed = 1; seed <= 5; seed++) {
      const seeded = await startFakeOpenAIChat({ seed });
      try {
        seeded.enqueue({ text, chunkSize: 2, usage: { promptTokens: 30, completionTokens: 9, cachedTokens: 12 } });
        const service = new OpenAILLMService({ apiKey: KEY, baseURL: seeded.baseURL });
        const events = await collect(service, ask('Say hello'));
        const texts = events.filter((e) => e.type === 'text');
        expect(texts.length).toBe(Math.ceil([...text].length / 2));
        expect(textOf(events)).toBe(text);
        expect(events.at(-1)).toEqual({ type: 'usage', promptTokens: 30, completionTokens: 9, cachedTokens: 12 });
      } finally {
        await seeded.close();
      }
    }
  });

  it('sends the request the API expects', async () => {
    const service = new OpenAILLMService({
      apiKey: KEY,
      baseURL: fake.baseURL,
      model: 'gpt-4o',
      params: { temperature: 0.3, maxCompletionTokens: 200, topP: 0.9, seed: 7, toolChoice: 'auto', parallelToolCalls: true, extra: { user: 'caller-1' } },
    });
    await collect(service, ask('Hi', [weather]));
    await collect(service, ask('Hi'));
    const [withTools, withoutTools] = fake.requests;
    expect(withTools!.body).toEqual({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You are a phone assistant.' },
        { role: 'user', content: 'Hi' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.3,
      top_p: 0.9,
      seed: 7,
      max_completion_tokens: 200,
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city.', parameters: weather.parameters } }],
      tool_choice: 'auto',
      parallel_tool_calls: true,
      user: 'caller-1',
    });
    // Without tools, neither tools nor the tool options are sent (the API would answer 400).
    expect(withoutTools!.status).toBe(200);
    expect(withoutTools!.body).not.toHaveProperty('tools');
    expect(withoutTools!.body).not.toHaveProperty('tool_choice');
    expect(withoutTools!.headers['content-type']).toBe('application/json');
    expect(withoutTools!.auth).toEqual({ present: true, valid: true });
  });

  it('assembles parallel tool calls with their exact arguments, after the text', async () => {
    const args = { city: 'Paris', note: 'quote " and \\ and é👋', nested: { list: [1, 2, 3] } };
    fake.enqueue({
      text: 'Let me check.',
      toolCalls: [
        { name: 'get_weather', arguments: args, id: 'call_1' },
        { name: 'get_weather', arguments: '{"city":"Lyon"}', id: 'call_2' },
        { name: 'hang_up', arguments: {}, id: 'call_3' },
      ],
    });
    const events = await collect(llm, ask('Weather?', [weather]));
    expect(textOf(events)).toBe('Let me check.');
    const calls = events.filter((e) => e.type === 'tool-call').map((e) => e.toolCall);
    expect(calls).toEqual([
      { id: 'call_1', name: 'get_weather', arguments: JSON.stringify(args) },
      { id: 'call_2', name: 'get_weather', arguments: '{"city":"Lyon"}' },
      { id: 'call_3', name: 'hang_up', arguments: '{}' },
    ]);
    const kinds = events.map((e) => e.type);
    expect(kinds.lastIndexOf('text')).toBeLessThan(kinds.indexOf('tool-call'));
    expect(kinds.at(-1)).toBe('usage');
  });

  it('tolerates compatible servers: whole calls, repeated ids, finish "stop", empty choices, no usage', async () => {
    const base = { id: 'x', object: 'chat.completion.chunk', created: 1, model: 'llama' };
    const delta = (d: object, finish: string | null = null): object => ({ ...base, choices: [{ index: 0, delta: d, finish_reason: finish }] });
    fake.enqueue({
      chunks: [
        { ...base, choices: [] },
        delta({ role: 'assistant', content: '' }),
        delta({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] }),
        delta({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'get_weather', arguments: '"Nice"}' } }] }),
        // Parallel calls all sent with index 0, told apart by id.
        delta({ tool_calls: [{ index: 0, id: 'b', type: 'function', function: { name: 'hang_up', arguments: '{}' } }] }),
        delta({ tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Pau"}' } }] }),
        delta({}, 'stop'),
      ],
    });
    const events = await collect(llm, ask('Weather?', [weather]));
    expect(events).toEqual([
      { type: 'tool-call', toolCall: { id: 'a', name: 'get_weather', arguments: '{"city":"Nice"}' } },
      { type: 'tool-call', toolCall: { id: 'b', name: 'hang_up', arguments: '{}' } },
      { type: 'tool-call', toolCall: { id: 'c', name: 'get_weather', arguments: '{"city":"Pau"}' } },
    ]);
  });

  it('takes whole-call deltas (Groq, Ollama style)', async () => {
    fake.enqueue({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }, { name: 'hang_up', arguments: {} }], style: 'whole' });
    const calls = (await collect(llm, ask('Weather?', [weather]))).filter((e) => e.type === 'tool-call').map((e) => e.toolCall);
    expect(calls.map((c) => [c.name, c.arguments])).toEqual([
      ['get_weather', '{"city":"Oslo"}'],
      ['hang_up', '{}'],
    ]);
    expect(calls[0]!.id).toMatch(/^call_/);
    expect(calls[0]!.id).not.toBe(calls[1]!.id);
  });

  it('sends a conversation with tool results that the strict fake accepts', async () => {
    fake.respondWith((body) => {
      const last = body.messages.at(-1)!;
      return last.role === 'tool' ? { text: 'It is 18 degrees in Paris.' } : { toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] };
    });
    const first = await collect(llm, ask('Weather in Paris?', [weather]));
    const call = first.find((e) => e.type === 'tool-call')!;
    expect(call.type === 'tool-call' && call.toolCall.name).toBe('get_weather');
    if (call.type !== 'tool-call') return;
    const context: LLMContextSnapshot = {
      messages: [
        ...ask('Weather in Paris?').messages,
        { role: 'assistant', content: '', toolCalls: [call.toolCall] },
        { role: 'tool', toolCallId: call.toolCall.id, name: 'get_weather', content: '{"temp_c":18}' },
      ],
      tools: [weather],
    };
    expect(textOf(await collect(llm, context))).toBe('It is 18 degrees in Paris.');
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200]);
    expect((fake.requests[1]!.body as { messages: unknown[] }).messages.slice(2)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: call.toolCall.id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: call.toolCall.id, content: '{"temp_c":18}' },
    ]);
  });
});

describe('OpenAILLMService: errors', () => {
  it('401: not retryable, and no key material in the message', async () => {
    fake.enqueue({ error: 401 });
    const err = await failure(llm);
    expect(err).toMatchObject({ service: 'OpenAI', status: 401, code: 'auth', vendorCode: 'invalid_api_key', retryable: false });
    expect(err.message).toMatch(/^OpenAI: 401 Incorrect API key provided: \[redacted\]\. You can find/);
    for (const secret of [KEY, 'SECRET', '123456', '3456', 'sk-test']) expect(err.message).not.toContain(secret);
    expect(JSON.stringify(err)).not.toContain('3456');
    expect(err.cause).toBeUndefined();
  });

  it('401 for a short key echoed in full is redacted too', async () => {
    const rejecting = await startFakeOpenAIChat({ rejectKey: 'hello' });
    try {
      const err = await failure(new OpenAILLMService({ apiKey: 'hello', baseURL: rejecting.baseURL }));
      expect(err.status).toBe(401);
      expect(err.message).not.toContain('hello');
    } finally {
      await rejecting.close();
    }
  });

  it('429 with retry-after: retryable with the wait', async () => {
    fake.enqueue({ error: 429, retryAfter: 3 });
    const err = await failure(llm);
    expect(err).toMatchObject({ service: 'OpenAI', status: 429, code: 'rate-limited', vendorCode: 'rate_limit_exceeded', retryable: true, retryAfterSecs: 3 });
    expect(fake.requests).toHaveLength(1); // the SDK did not retry on its own
  });

  it('500 and 503: retryable; 400, 403 and 404: not', async () => {
    fake.enqueue({ error: 500 }, { error: 503 }, { error: 400 }, { error: 403 }, { error: 404 });
    expect(await failure(llm)).toMatchObject({ status: 500, retryable: true, retryAfterSecs: undefined });
    expect(await failure(llm)).toMatchObject({ status: 503, retryable: true });
    expect(await failure(llm)).toMatchObject({ status: 400, code: 'bad-request', vendorCode: 'context_length_exceeded', retryable: false });
    expect(await failure(llm)).toMatchObject({ status: 403, retryable: false });
    expect(await failure(llm)).toMatchObject({ status: 404, code: 'bad-request', vendorCode: 'model_not_found', retryable: false });
  });

  it('x-should-retry: false overrides the status', async () => {
    fake.enqueue({ error: 503, shouldRetry: false });
    expect(await failure(llm)).toMatchObject({ status: 503, retryable: false });
  });

  it('a connection dropped mid-stream: retryable', async () => {
    fake.enqueue({ dropAfterChunks: 3, text: 'This answer never finishes properly.' });
    const events: LLMStreamEvent[] = [];
    let error: unknown;
    try {
      for await (const event of llm.streamCompletion(ask('Hi'), { signal: new AbortController().signal })) events.push(event);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ service: 'OpenAI', retryable: true, code: 'connection-lost' });
    expect(events.length).toBeGreaterThan(0);
  });

  it('an in-band error event: ServiceError', async () => {
    fake.enqueue({ inBandError: true, text: 'Hel' });
    const err = await failure(llm);
    expect(err).toMatchObject({ service: 'OpenAI', status: undefined, code: 'server', vendorCode: 'server_error', retryable: true });
    expect(err.message).toContain('The server had an error');
  });

  it('a server that is not there: retryable connection error', async () => {
    const gone = await startFakeOpenAIChat();
    const baseURL = gone.baseURL;
    await gone.close();
    const err = await failure(new OpenAILLMService({ apiKey: KEY, baseURL }));
    expect(err).toMatchObject({ code: 'connection-failed', retryable: true });
    expect(err.message).toMatch(/^OpenAI: connection error/);
  });

  it('a stream that stops sending: timeout error, retryable', async () => {
    fake.enqueue({ stall: true });
    const impatient = new OpenAILLMService({ apiKey: KEY, baseURL: fake.baseURL, timeoutMs: 100 });
    const started = Date.now();
    expect(await failure(impatient)).toMatchObject({ code: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('OpenAILLMService: abort', () => {
  it('a stalled stream ends quietly within 200 ms of the abort', async () => {
    fake.enqueue({ stall: true });
    await expectQuietAbort(llm);
  });

  it('an abort mid-answer stops the stream and drops partial tool calls', async () => {
    fake.enqueue({ text: 'one two three four five six seven eight', chunkSize: 1, toolCalls: [{ name: 'hang_up', arguments: {} }] });
    const controller = new AbortController();
    const events: LLMStreamEvent[] = [];
    for await (const event of llm.streamCompletion(ask('Hi'), { signal: controller.signal })) {
      events.push(event);
      if (events.length === 3) controller.abort();
    }
    expect(events.length).toBeLessThanOrEqual(4);
    expect(events.every((e) => e.type === 'text')).toBe(true);
  });

  it('an already aborted signal sends nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await collect(llm, ask('Hi'), controller.signal)).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('OpenAI-compatible presets', () => {
  const cases = [
    ['Groq', GroqLLMService, 'llama-3.3-70b-versatile', 'GROQ_API_KEY', 'max_completion_tokens'],
    ['Together', TogetherLLMService, 'meta-llama/Llama-3.3-70B-Instruct-Turbo', 'TOGETHER_API_KEY', 'max_tokens'],
    ['OpenRouter', OpenRouterLLMService, 'openai/gpt-4o-mini', 'OPENROUTER_API_KEY', 'max_tokens'],
    ['DeepSeek', DeepSeekLLMService, 'deepseek-chat', 'DEEPSEEK_API_KEY', 'max_tokens'],
  ] as const;

  for (const [vendor, Service, model, env, maxTokensField] of cases) {
    it(`${vendor}: default model, base URL override, key variable, vendor name in errors`, async () => {
      const service = new Service({ apiKey: 'k-123', baseURL: fake.baseURL, params: { maxCompletionTokens: 64 } });
      expect(service.model).toBe(model);
      expect(service.provider.vendor).toBe(vendor);
      fake.enqueue({ text: `hi from ${vendor}` });
      expect(textOf(await collect(service, ask('Hi')))).toBe(`hi from ${vendor}`);
      expect(fake.requests.at(-1)!.body).toMatchObject({ model, [maxTokensField]: 64 });
      expect(fake.requests.at(-1)!.headers).not.toHaveProperty('openai-organization');
      fake.enqueue({ error: 500 });
      expect(await failure(service)).toMatchObject({ service: vendor, status: 500 });
      expect(() => new Service({ apiKey: '' })).toThrow(TypeError);
      expect(() => new Service({ apiKey: '' })).toThrow(new RegExp(`${Service.name}.*${env}`));
      const custom = new Service({ apiKey: 'k', baseURL: fake.baseURL, model: 'custom-model' });
      await collect(custom, ask('Hi'));
      expect(fake.requests.at(-1)!.body).toMatchObject({ model: 'custom-model' });
    });
  }

  it('Ollama: no key needed (sends "ollama"), base URL override', async () => {
    const ollama = await startFakeOpenAIChat({ requireKey: 'ollama', keepAliveComments: true });
    try {
      const service = new OllamaLLMService({ baseURL: ollama.baseURL });
      expect(service.model).toBe('llama3.2');
      ollama.enqueue({ text: 'local answer' });
      expect(textOf(await collect(service, ask('Hi')))).toBe('local answer');
      expect(ollama.requests[0]!.auth.valid).toBe(true);
      expect(new OllamaLLMService().provider.baseURL).toBe('http://localhost:11434/v1');
    } finally {
      await ollama.close();
    }
  });

  it('OpenAI: missing key names OPENAI_API_KEY; default model', () => {
    expect(() => new OpenAILLMService({ apiKey: '' })).toThrow(/OpenAILLMService.*OPENAI_API_KEY/);
    expect(() => new OpenAILLMService({} as { apiKey: string })).toThrow(TypeError);
    expect(new OpenAILLMService({ apiKey: KEY }).model).toBe('gpt-4o-mini');
  });
});
