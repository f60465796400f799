import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LLMContextSnapshot, LLMToolDefinition } from '../../../src/frames/index.js';
import { LLMContext } from '../../../src/llm/context.js';
import { AnthropicLLMService, type AnthropicLLMServiceOptions } from '../../../src/services/anthropic/index.js';
import { ServiceError, type LLMStreamEvent } from '../../../src/services/base/index.js';
import { startFakeAnthropic, type FakeAnthropic } from '../../../src/testing/fakes/anthropic.js';
import { answerInPipeline, ask, callsOf, collect, expectQuietAbort, failure, textOf } from '../../support/llm-stream.js';

const KEY = 'sk-ant-api03-SECRET123456';

const weather: LLMToolDefinition = {
  name: 'get_weather',
  description: 'Weather in a city.',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const hangUp: LLMToolDefinition = { name: 'hang_up', description: 'End the call.', parameters: { type: 'object', properties: {} } };

let fake: FakeAnthropic;
let llm: AnthropicLLMService;
const make = (options: Partial<AnthropicLLMServiceOptions> = {}): AnthropicLLMService =>
  new AnthropicLLMService({ apiKey: KEY, baseURL: fake.baseURL, timeoutMs: 2_000, ...options });
beforeEach(async () => {
  fake = await startFakeAnthropic({ rejectKey: 'sk-ant-bad-key-000000' });
  llm = make();
});
afterEach(async () => {
  await fake.close();
});

describe('AnthropicLLMService: streaming', () => {
  it('streams text in order, whole across arbitrary byte splits, then usage', async () => {
    const text = 'héllo 👋 — naïve café, 日本語 ok.';
    for (let seed = 1; seed <= 6; seed++) {
      const seeded = await startFakeAnthropic({ seed, extraPings: true });
      try {
        seeded.enqueue({ text, chunkSize: 2, usage: { inputTokens: 30, outputTokens: 9, cacheReadInputTokens: 12, cacheCreationInputTokens: 4 } });
        const events = await collect(new AnthropicLLMService({ apiKey: KEY, baseURL: seeded.baseURL }), ask('Say hello'));
        expect(events.filter((e) => e.type === 'text')).toHaveLength(Math.ceil([...text].length / 2));
        expect(textOf(events)).toBe(text);
        // Cached input is counted apart by Anthropic; the prompt total includes it.
        expect(events.at(-1)).toEqual({ type: 'usage', promptTokens: 46, completionTokens: 9, cachedTokens: 12 });
      } finally {
        await seeded.close();
      }
    }
  });

  it('sends the request and headers the API expects', async () => {
    const service = make({
      model: 'claude-sonnet-4-5',
      maxTokens: 300,
      temperature: 0.4,
      topP: 0.9,
      topK: 40,
      stopSequences: ['###'],
      toolChoice: { type: 'auto' },
      cacheSystemPrompt: true,
      betas: ['fine-grained-tool-streaming-2025-05-14'],
    });
    await collect(service, ask('Hi', [weather]));
    await collect(llm, ask('Hi'));
    const [full, plain] = fake.requests;
    expect(full!.path).toBe('/v1/messages');
    expect(full!.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 300,
      stream: true,
      messages: [{ role: 'user', content: 'Hi' }],
      system: [{ type: 'text', text: 'You are a phone assistant.', cache_control: { type: 'ephemeral' } }],
      temperature: 0.4,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ['###'],
      tools: [{ name: 'get_weather', description: 'Weather in a city.', input_schema: weather.parameters }],
      tool_choice: { type: 'auto' },
    });
    expect(full!.headers).toMatchObject({
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'fine-grained-tool-streaming-2025-05-14',
      'content-type': 'application/json',
      'x-api-key': '[redacted]',
    });
    expect(full!.auth).toEqual({ present: true, valid: true });
    // Defaults: the phone-friendly model, 1024 tokens, a plain system string, no tools nor tool_choice.
    expect(plain!.body).toEqual({
      model: 'claude-haiku-4-5',
      max_tokens: 1024,
      stream: true,
      messages: [{ role: 'user', content: 'Hi' }],
      system: 'You are a phone assistant.',
    });
    expect(plain!.status).toBe(200);
  });

  it('assembles parallel tool_use blocks with their exact arguments, each when its block ends', async () => {
    const args = { city: 'Paris', note: 'quote " and \\ and é👋 {not: json}', nested: { list: [1, 2, 3] } };
    fake.enqueue({
      text: 'Let me check.',
      toolUses: [
        { name: 'get_weather', input: args, id: 'toolu_01A' },
        { name: 'get_weather', input: '{"city": "Lyon"}', id: 'toolu_01B' },
        { name: 'hang_up', input: {}, id: 'toolu_01C' },
      ],
      usage: { inputTokens: 50, outputTokens: 70 },
    });
    const events = await collect(llm, ask('Weather?', [weather, hangUp]));
    expect(textOf(events)).toBe('Let me check.');
    expect(callsOf(events)).toEqual([
      { id: 'toolu_01A', name: 'get_weather', arguments: JSON.stringify(args) },
      { id: 'toolu_01B', name: 'get_weather', arguments: '{"city": "Lyon"}' },
      // No input_json_delta at all for a call without arguments.
      { id: 'toolu_01C', name: 'hang_up', arguments: '{}' },
    ]);
    expect(events.map((e) => e.type)).toEqual([...events.filter((e) => e.type === 'text').map(() => 'text'), 'tool-call', 'tool-call', 'tool-call', 'usage']);
    expect(events.at(-1)).toEqual({ type: 'usage', promptTokens: 50, completionTokens: 70, cachedTokens: 0 });
  });

  it('tool arguments survive every split the fake makes, over many seeds', async () => {
    const input = { address: '12 rue de l’Église, Zürich', digits: '0123456789', escaped: 'tab\tnewline\n"quote"' };
    for (let seed = 1; seed <= 8; seed++) {
      const seeded = await startFakeAnthropic({ seed });
      try {
        seeded.enqueue({ toolUses: [{ name: 'get_weather', input }] });
        const calls = callsOf(await collect(new AnthropicLLMService({ apiKey: KEY, baseURL: seeded.baseURL }), ask('Go', [weather])));
        expect(calls).toHaveLength(1);
        expect(JSON.parse(calls[0]!.arguments)).toEqual(input);
        expect(calls[0]!.id).toMatch(/^toolu_01/);
      } finally {
        await seeded.close();
      }
    }
  });

  it('sends a conversation with tool results that the strict fake accepts', async () => {
    fake.respondWith((body) => {
      const last = body.messages.at(-1)!;
      return Array.isArray(last.content)
        ? { text: 'It is 18 degrees in Paris and 20 in Lyon.' }
        : { toolUses: [{ name: 'get_weather', input: { city: 'Paris' } }, { name: 'get_weather', input: { city: 'Lyon' } }] };
    });
    const calls = callsOf(await collect(llm, ask('Weather in Paris and Lyon?', [weather])));
    expect(calls).toHaveLength(2);
    const context = new LLMContext(ask('Weather in Paris and Lyon?').messages, [weather]);
    context.addToolExchange(calls, [
      { toolCallId: calls[0]!.id, content: '{"temp_c":18}' },
      { toolCallId: calls[1]!.id, content: '{"temp_c":20}' },
    ]);
    expect(textOf(await collect(llm, context.snapshot()))).toBe('It is 18 degrees in Paris and 20 in Lyon.');
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200]);
    expect((fake.requests[1]!.body as { messages: unknown[] }).messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: calls[0]!.id, name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: calls[1]!.id, name: 'get_weather', input: { city: 'Lyon' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: calls[0]!.id, content: '{"temp_c":18}' },
          { type: 'tool_result', tool_use_id: calls[1]!.id, content: '{"temp_c":20}' },
        ],
      },
    ]);
  });

  it('a context that starts with the greeting gets a minimal user turn first, which the fake accepts', async () => {
    const greeted: LLMContextSnapshot = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'assistant', content: 'Hello! How can I help you today?' },
        { role: 'user', content: 'What time do you open?' },
      ],
      tools: [],
    };
    fake.enqueue({ text: 'At nine.' });
    expect(textOf(await collect(llm, greeted))).toBe('At nine.');
    expect(fake.requests[0]!.status).toBe(200);
    expect((fake.requests[0]!.body as { messages: unknown[] }).messages).toEqual([
      { role: 'user', content: '(call connected)' },
      { role: 'assistant', content: 'Hello! How can I help you today?' },
      { role: 'user', content: 'What time do you open?' },
    ]);
    // Only instructions (the model speaks first): the same minimal turn, text configurable.
    fake.enqueue({ text: 'Welcome!' });
    const service = make({ leadingUserTurn: '[the caller picked up]' });
    expect(textOf(await collect(service, { messages: [{ role: 'system', content: 'Greet.' }], tools: [] }))).toBe('Welcome!');
    expect((fake.requests[1]!.body as { messages: unknown[] }).messages).toEqual([{ role: 'user', content: '[the caller picked up]' }]);
  });

  it('ignores thinking blocks and unknown events', async () => {
    const data = (type: string, rest: object): { event: string; data: object } => ({ event: type, data: { type, ...rest } });
    fake.enqueue({
      events: [
        data('message_start', { message: { id: 'msg_1', usage: { input_tokens: 5, output_tokens: 1 } } }),
        data('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }),
        data('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'secret plan' } }),
        data('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'abc' } }),
        data('content_block_stop', { index: 0 }),
        data('some_future_event', { index: 9 }),
        data('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
        data('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Spoken.' } }),
        data('content_block_stop', { index: 1 }),
        data('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } }),
        data('message_stop', {}),
      ],
    });
    expect(await collect(llm, ask('Hi'))).toEqual([
      { type: 'text', text: 'Spoken.' },
      { type: 'usage', promptTokens: 5, completionTokens: 3, cachedTokens: 0 },
    ]);
  });
});

describe('AnthropicLLMService: errors', () => {
  it('401 names the service, is not retryable, and holds no key material', async () => {
    const err = await failure(make({ apiKey: 'sk-ant-bad-key-000000' }));
    expect(err).toMatchObject({ service: 'Anthropic', status: 401, code: 'auth', vendorCode: 'authentication_error', retryable: false });
    expect(err.message).toMatch(/^Anthropic: 401 invalid x-api-key \(request req_01\w+\)$/);
    expect(err.message).not.toContain('sk-ant');
    expect(fake.requests[0]!.auth).toEqual({ present: true, valid: false });
  });

  it('a key echoed in an error message is redacted, whatever its shape', async () => {
    fake.enqueue({ error: 400, message: 'bad request for key plain-secret-42 and sk-ant-api03-OTHERKEY99' });
    const err = await failure(make({ apiKey: 'plain-secret-42' }));
    expect(err.message).toMatch(/^Anthropic: 400 bad request for key \[redacted\] and \[redacted\] \(request req_01\w+\)$/);
  });

  it('429 with retry-after: retryable with the wait', async () => {
    fake.enqueue({ error: 429, retryAfter: 7 });
    const err = await failure(llm);
    expect(err).toMatchObject({ service: 'Anthropic', status: 429, code: 'rate-limited', vendorCode: 'rate_limit_error', retryable: true, retryAfterSecs: 7 });
    expect(fake.requests).toHaveLength(1); // no retry of its own
  });

  it('500 and 529 are retryable; 400, 403, 404 and 413 are not; x-should-retry wins', async () => {
    fake.enqueue({ error: 500 }, { error: 529 }, { error: 400 }, { error: 403 }, { error: 404 }, { error: 413 }, { error: 529, shouldRetry: false });
    expect(await failure(llm)).toMatchObject({ status: 500, code: 'server', vendorCode: 'api_error', retryable: true });
    expect(await failure(llm)).toMatchObject({ status: 529, code: 'server', vendorCode: 'overloaded_error', retryable: true });
    expect(await failure(llm)).toMatchObject({ status: 400, code: 'bad-request', vendorCode: 'invalid_request_error', retryable: false });
    expect(await failure(llm)).toMatchObject({ status: 403, code: 'auth', vendorCode: 'permission_error', retryable: false });
    expect(await failure(llm)).toMatchObject({ status: 404, code: 'bad-request', vendorCode: 'not_found_error', retryable: false });
    expect(await failure(llm)).toMatchObject({ status: 413, code: 'bad-request', vendorCode: 'request_too_large', retryable: false });
    expect(await failure(llm)).toMatchObject({ status: 529, retryable: false });
  });

  it('an overloaded_error event after the 200: retryable ServiceError, after the text already streamed', async () => {
    fake.enqueue({ streamError: 'overloaded_error', text: 'Let me' });
    const events: LLMStreamEvent[] = [];
    let error: unknown;
    try {
      for await (const event of llm.streamCompletion(ask('Hi'), { signal: new AbortController().signal })) events.push(event);
    } catch (err) {
      error = err;
    }
    expect(textOf(events)).toBe('Let me');
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ service: 'Anthropic', status: 529, code: 'server', vendorCode: 'overloaded_error', retryable: true, message: 'Anthropic: Overloaded' });
  });

  it('an invalid_request_error event in the stream is not retryable', async () => {
    fake.enqueue({ streamError: 'invalid_request_error', message: 'bad' });
    expect(await failure(llm)).toMatchObject({ status: 400, code: 'bad-request', vendorCode: 'invalid_request_error', retryable: false });
  });

  it('a connection dropped mid-stream: retryable, and the partial tool call is not emitted', async () => {
    fake.enqueue({ dropAfterEvents: 5, text: 'This answer never finishes properly.' });
    const events: LLMStreamEvent[] = [];
    let error: unknown;
    try {
      for await (const event of llm.streamCompletion(ask('Hi'), { signal: new AbortController().signal })) events.push(event);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ service: 'Anthropic', code: 'connection-lost', retryable: true });
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.type === 'text')).toBe(true);
  });

  it('a body that ends cleanly before message_stop is an incomplete answer', async () => {
    fake.enqueue({
      events: [
        { event: 'message_start', data: { type: 'message_start', message: { usage: { input_tokens: 1, output_tokens: 1 } } } },
        { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'hang_up', input: {} } } },
      ],
    });
    expect(await failure(llm)).toMatchObject({ code: 'connection-lost', retryable: true });
  });

  it('a refusal with nothing said is an error (the caller hears the apology)', async () => {
    fake.enqueue({ text: '', stopReason: 'refusal' });
    expect(await failure(llm)).toMatchObject({ code: 'content-filtered', vendorCode: 'refusal', retryable: false });
  });

  it('a server that is not there: retryable connection error', async () => {
    const gone = await startFakeAnthropic();
    const baseURL = gone.baseURL;
    await gone.close();
    const err = await failure(new AnthropicLLMService({ apiKey: KEY, baseURL }));
    expect(err).toMatchObject({ service: 'Anthropic', code: 'connection-failed', retryable: true });
    expect(err.message).not.toContain('SECRET');
  });

  it('a stream that stops sending: timeout error, retryable, promptly', async () => {
    fake.enqueue({ stall: true });
    const started = Date.now();
    expect(await failure(make({ timeoutMs: 100 }))).toMatchObject({ service: 'Anthropic', code: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('headers that do not come in time: the same timeout error', async () => {
    fake.enqueue({ text: 'late', firstByteDelayMs: 1_000 });
    const started = Date.now();
    expect(await failure(make({ timeoutMs: 100 }))).toMatchObject({ code: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(600);
  });

  it('a missing key is a TypeError naming the service and ANTHROPIC_API_KEY', () => {
    expect(() => new AnthropicLLMService({ apiKey: '' })).toThrow(TypeError);
    expect(() => new AnthropicLLMService({ apiKey: ' ' })).toThrow(/AnthropicLLMService.*ANTHROPIC_API_KEY/);
    expect(() => new AnthropicLLMService({} as { apiKey: string })).toThrow(TypeError);
  });
});

describe('AnthropicLLMService: abort', () => {
  it('a stalled stream ends quietly within 200 ms of the abort', async () => {
    fake.enqueue({ stall: true });
    await expectQuietAbort(llm);
  });

  it('an abort mid-answer stops the stream and drops the tool call not yet finished', async () => {
    fake.enqueue({ text: 'one two three four five six seven eight', chunkSize: 1, toolUses: [{ name: 'hang_up', input: {} }] });
    const controller = new AbortController();
    const events: LLMStreamEvent[] = [];
    for await (const event of llm.streamCompletion(ask('Hi', [hangUp]), { signal: controller.signal })) {
      events.push(event);
      if (events.length === 3) controller.abort();
    }
    expect(events).toHaveLength(3);
    expect(events.every((e) => e.type === 'text')).toBe(true);
  });

  it('an already aborted signal sends nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await collect(llm, ask('Hi'), controller.signal)).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('AnthropicLLMService in a pipeline', () => {
  it('an overloaded API (529) is retried by the LLMService, and the caller hears the answer', async () => {
    fake.enqueue({ error: 529 }, { text: 'Second time lucky.' });
    const collector = await answerInPipeline(make(), ask('Hi'));
    expect(fake.requests.map((r) => r.status)).toEqual([529, 200]);
    expect(collector.ofType('llm-text').map((f) => f.text).join('')).toBe('Second time lucky.');
    expect(collector.ofType('speak')).toEqual([]); // no apology
  });

  it('answers an llm-context frame with response start, text, end and usage metrics', async () => {
    fake.enqueue({ text: 'Good morning, how can I help?', usage: { inputTokens: 21, outputTokens: 8 } });
    const context = new LLMContext([{ role: 'system', content: 'Be kind.' }, { role: 'user', content: 'Hello?' }]);
    const collector = await answerInPipeline(make({ name: 'claude' }), context.snapshot());

    const types = collector.types().filter((t) => t.startsWith('llm-'));
    expect(types[0]).toBe('llm-response-start');
    expect(types.at(-1)).toBe('llm-response-end');
    expect(types.slice(1, -1).every((t) => t === 'llm-text')).toBe(true);
    expect(collector.ofType('llm-text').map((f) => f.text).join('')).toBe('Good morning, how can I help?');
    const metrics = collector.ofType('metrics').flatMap((f) => f.data);
    expect(metrics.find((m) => m.kind === 'llm-usage')).toEqual({
      kind: 'llm-usage',
      processor: 'claude',
      model: 'claude-haiku-4-5',
      promptTokens: 21,
      completionTokens: 8,
      cachedTokens: 0,
    });
    expect(metrics.some((m) => m.kind === 'ttfb' && m.processor === 'claude')).toBe(true);
  });
});
