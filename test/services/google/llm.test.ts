import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LLMContextSnapshot, LLMToolDefinition } from '../../../src/frames/index.js';
import { LLMContext } from '../../../src/llm/context.js';
import type { LLMStreamEvent } from '../../../src/services/base/index.js';
import { GoogleLLMService, type GoogleLLMServiceOptions } from '../../../src/services/google/index.js';
import { startFakeGemini, type FakeGemini } from '../../../src/testing/fakes/gemini.js';
import { answerInPipeline, ask, callsOf, collect, expectQuietAbort, failure, textOf } from '../../support/llm-stream.js';

const KEY = 'AIzaSyFAKE-SECRET-1234567890abcdef';

const weather: LLMToolDefinition = {
  name: 'get_weather',
  description: 'Weather in a city.',
  // `additionalProperties` is what JSON Schema tools (zod) produce; Gemini rejects it, so it must not reach the wire.
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
};
const hangUp: LLMToolDefinition = { name: 'hang_up', description: 'End the call.', parameters: { type: 'object', properties: {} } };

let fake: FakeGemini;
let llm: GoogleLLMService;
const make = (options: Partial<GoogleLLMServiceOptions> = {}): GoogleLLMService =>
  new GoogleLLMService({ apiKey: KEY, baseURL: fake.baseURL, timeoutMs: 2_000, ...options });
beforeEach(async () => {
  fake = await startFakeGemini({ rejectKey: 'AIzaSyBAD-KEY-000000000000' });
  llm = make();
});
afterEach(async () => {
  await fake.close();
});

describe('GoogleLLMService: streaming', () => {
  it('streams text in order, whole across arbitrary byte splits and CRLF events, then usage', async () => {
    const text = 'héllo 👋 — naïve café, 日本語 ok. Une deuxième phrase, plus longue.';
    for (let seed = 1; seed <= 6; seed++) {
      const seeded = await startFakeGemini({ seed });
      try {
        seeded.enqueue({ text, chunkSize: 3, usage: { promptTokenCount: 30, candidatesTokenCount: 16, cachedContentTokenCount: 8, thoughtsTokenCount: 2 } });
        const events = await collect(new GoogleLLMService({ apiKey: KEY, baseURL: seeded.baseURL }), ask('Say hello'));
        expect(events.filter((e) => e.type === 'text')).toHaveLength(Math.ceil([...text].length / 3));
        expect(textOf(events)).toBe(text);
        // Thinking tokens are output too.
        expect(events.at(-1)).toEqual({ type: 'usage', promptTokens: 30, completionTokens: 18, cachedTokens: 8 });
      } finally {
        await seeded.close();
      }
    }
  });

  it('sends the request the API expects: path, header key (never in the URL), body', async () => {
    const service = make({
      model: 'models/gemini-2.5-pro',
      temperature: 0.3,
      maxOutputTokens: 256,
      topP: 0.9,
      topK: 32,
      stopSequences: ['###'],
      thinkingBudget: 128,
      functionCallingMode: 'AUTO',
    });
    await collect(service, ask('Hi', [weather, hangUp]));
    await collect(llm, ask('Hi'));
    const [full, plain] = fake.requests;
    expect(full!.path).toBe('/v1beta/models/gemini-2.5-pro:streamGenerateContent');
    expect(full!.query).toEqual({ alt: 'sse' });
    expect(full!.auth).toEqual({ present: true, valid: true, via: 'header' });
    expect(full!.headers['x-goog-api-key']).toBe('[redacted]');
    expect(full!.status).toBe(200);
    expect(full!.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
      systemInstruction: { parts: [{ text: 'You are a phone assistant.' }] },
      tools: [
        {
          functionDeclarations: [
            { name: 'get_weather', description: 'Weather in a city.', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
            { name: 'hang_up', description: 'End the call.' },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
      generationConfig: { temperature: 0.3, maxOutputTokens: 256, topP: 0.9, topK: 32, stopSequences: ['###'], thinkingConfig: { thinkingBudget: 128 } },
    });
    // Defaults: gemini-2.5-flash with thinking off (latency), no tools.
    expect(plain!.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    expect(plain!.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
      systemInstruction: { parts: [{ text: 'You are a phone assistant.' }] },
      generationConfig: { thinkingConfig: { thinkingBudget: 0 } },
    });
  });

  it('multiple functionCall parts become tool calls with exact arguments, ids kept or generated', async () => {
    const args = { city: 'Paris', note: 'quote " and \\ and é👋', nested: { list: [1, 2, 3] } };
    fake.enqueue({
      text: 'Let me check.',
      functionCalls: [{ name: 'get_weather', args, id: 'fc-1' }, { name: 'get_weather', args: { city: 'Lyon' } }, { name: 'hang_up' }],
      usage: { promptTokenCount: 40, candidatesTokenCount: 12 },
    });
    const events = await collect(llm, ask('Weather?', [weather, hangUp]));
    expect(textOf(events)).toBe('Let me check.');
    const calls = callsOf(events);
    expect(calls.map((c) => [c.name, c.arguments])).toEqual([
      ['get_weather', JSON.stringify(args)],
      ['get_weather', '{"city":"Lyon"}'],
      ['hang_up', '{}'],
    ]);
    expect(calls[0]!.id).toBe('fc-1');
    expect(calls[1]!.id).toMatch(/^call_/);
    expect(new Set(calls.map((c) => c.id)).size).toBe(3);
    expect(events.at(-1)).toEqual({ type: 'usage', promptTokens: 40, completionTokens: 12 });
  });

  it('sends a conversation with function responses that the strict fake accepts', async () => {
    fake.respondWith((body) => {
      const last = body.contents.at(-1)!;
      return last.parts.some((p) => p.functionResponse !== undefined)
        ? { text: 'It is 18 degrees in Paris and 20 in Lyon.' }
        : { functionCalls: [{ name: 'get_weather', args: { city: 'Paris' } }, { name: 'get_weather', args: { city: 'Lyon' } }] };
    });
    const calls = callsOf(await collect(llm, ask('Weather in Paris and Lyon?', [weather])));
    expect(calls).toHaveLength(2);
    const context = new LLMContext(ask('Weather in Paris and Lyon?').messages, [weather]);
    context.addToolExchange(calls, [
      { toolCallId: calls[0]!.id, content: '{"temp_c":18}' },
      { toolCallId: calls[1]!.id, content: '"20 degrees"' },
    ]);
    expect(textOf(await collect(llm, context.snapshot()))).toBe('It is 18 degrees in Paris and 20 in Lyon.');
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200]);
    expect((fake.requests[1]!.body as { contents: unknown[] }).contents.slice(1)).toEqual([
      {
        role: 'model',
        parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_weather', args: { city: 'Lyon' } } }],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { temp_c: 18 } } },
          { functionResponse: { name: 'get_weather', response: { result: '20 degrees' } } },
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
    expect((fake.requests[0]!.body as { contents: unknown[] }).contents).toEqual([
      { role: 'user', parts: [{ text: '(call connected)' }] },
      { role: 'model', parts: [{ text: 'Hello! How can I help you today?' }] },
      { role: 'user', parts: [{ text: 'What time do you open?' }] },
    ]);
    // Only instructions: Gemini rejects empty contents, so the minimal turn is what it gets.
    fake.enqueue({ text: 'Welcome!' });
    expect(textOf(await collect(llm, { messages: [{ role: 'system', content: 'Greet.' }], tools: [] }))).toBe('Welcome!');
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200]);
  });

  it('skips thought parts; takes the last usage of the stream', async () => {
    const chunk = (parts: object[], usage: object, finishReason?: string): object => ({
      candidates: [{ content: { role: 'model', parts }, ...(finishReason === undefined ? {} : { finishReason }), index: 0 }],
      usageMetadata: usage,
    });
    fake.enqueue({
      chunks: [
        chunk([{ text: 'pondering…', thought: true }], { promptTokenCount: 10, totalTokenCount: 10 }),
        chunk([{ text: 'Hi ' }], { promptTokenCount: 10, candidatesTokenCount: 1, totalTokenCount: 11 }),
        chunk([{ text: 'there.' }], { promptTokenCount: 10, candidatesTokenCount: 3, totalTokenCount: 13 }, 'STOP'),
      ],
    });
    expect(await collect(llm, ask('Hi'))).toEqual([
      { type: 'text', text: 'Hi ' },
      { type: 'text', text: 'there.' },
      { type: 'usage', promptTokens: 10, completionTokens: 3 },
    ]);
  });
});

describe('GoogleLLMService: errors', () => {
  it('an invalid key: 400 API_KEY_INVALID naming the service, not retryable, no key material', async () => {
    const err = await failure(make({ apiKey: 'AIzaSyBAD-KEY-000000000000' }));
    expect(err).toMatchObject({ service: 'Gemini', status: 400, code: 'auth', vendorCode: 'API_KEY_INVALID', retryable: false });
    expect(err.message).toBe('Gemini: 400 API key not valid. Please pass a valid API key.');
    expect(fake.requests[0]!.auth).toEqual({ present: true, valid: false, via: 'header' });
  });

  it('a key echoed in an error message is redacted, whatever its shape', async () => {
    fake.enqueue({ error: 400, message: 'bad key plain-secret-42 near AIzaSyOTHERKEY1234567' });
    const err = await failure(make({ apiKey: 'plain-secret-42' }));
    expect(err.message).toBe('Gemini: 400 bad key [redacted] near [redacted]');
  });

  it('429 RESOURCE_EXHAUSTED: retryable, with the RetryInfo delay', async () => {
    fake.enqueue({ error: 429, retryDelaySecs: 37 });
    const err = await failure(llm);
    expect(err).toMatchObject({ service: 'Gemini', status: 429, code: 'rate-limited', vendorCode: 'RESOURCE_EXHAUSTED', retryable: true, retryAfterSecs: 37 });
    expect(fake.requests).toHaveLength(1);
  });

  it('500 and 503 are retryable; 403 and 404 are not', async () => {
    fake.enqueue({ error: 500 }, { error: 503 }, { error: 403 }, { error: 404 });
    expect(await failure(llm)).toMatchObject({ status: 500, code: 'server', vendorCode: 'INTERNAL', retryable: true });
    expect(await failure(llm)).toMatchObject({ status: 503, code: 'server', vendorCode: 'UNAVAILABLE', retryable: true });
    expect(await failure(llm)).toMatchObject({ status: 403, code: 'auth', vendorCode: 'PERMISSION_DENIED', retryable: false });
    expect(await failure(llm)).toMatchObject({ status: 404, code: 'bad-request', vendorCode: 'NOT_FOUND', retryable: false });
  });

  it('a blocked prompt: non-retryable ServiceError with the block reason', async () => {
    fake.enqueue({ blockReason: 'PROHIBITED_CONTENT' });
    expect(await failure(llm)).toMatchObject({ service: 'Gemini', code: 'content-filtered', vendorCode: 'PROHIBITED_CONTENT', retryable: false });
  });

  it('finishReason SAFETY with nothing said: non-retryable; MALFORMED_FUNCTION_CALL: retryable; MAX_TOKENS after text: fine', async () => {
    fake.enqueue({ text: '', finishReason: 'SAFETY' }, { text: '', finishReason: 'MALFORMED_FUNCTION_CALL' }, { text: 'Cut sh', finishReason: 'MAX_TOKENS' });
    expect(await failure(llm)).toMatchObject({ code: 'content-filtered', vendorCode: 'SAFETY', retryable: false });
    expect(await failure(llm)).toMatchObject({ code: 'protocol', vendorCode: 'MALFORMED_FUNCTION_CALL', retryable: true });
    expect(textOf(await collect(llm, ask('Hi')))).toBe('Cut sh');
  });

  it('an error object inside the stream: retryable ServiceError after the text', async () => {
    fake.enqueue({ inStreamError: true, text: 'Let me think about', message: 'An internal error has occurred.' });
    const events: LLMStreamEvent[] = [];
    let error: unknown;
    try {
      for await (const event of llm.streamCompletion(ask('Hi'), { signal: new AbortController().signal })) events.push(event);
    } catch (err) {
      error = err;
    }
    expect(textOf(events).length).toBeGreaterThan(0);
    expect(error).toMatchObject({ service: 'Gemini', status: 500, code: 'server', vendorCode: 'INTERNAL', retryable: true, message: 'Gemini: An internal error has occurred.' });
  });

  it('a connection dropped mid-stream: retryable', async () => {
    fake.enqueue({ dropAfterChunks: 2, text: 'This answer never finishes properly, it is cut.' });
    const events: LLMStreamEvent[] = [];
    let error: unknown;
    try {
      for await (const event of llm.streamCompletion(ask('Hi'), { signal: new AbortController().signal })) events.push(event);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ service: 'Gemini', code: 'connection-lost', retryable: true });
    expect(events).toEqual([
      { type: 'text', text: 'This' },
      { type: 'text', text: ' ans' },
    ]);
  });

  it('a stream that stops sending: timeout error, retryable, promptly', async () => {
    fake.enqueue({ stall: true });
    const started = Date.now();
    expect(await failure(make({ timeoutMs: 100 }))).toMatchObject({ service: 'Gemini', code: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('a missing key is a TypeError naming the service and GOOGLE_API_KEY', () => {
    expect(() => new GoogleLLMService({ apiKey: '' })).toThrow(TypeError);
    expect(() => new GoogleLLMService({ apiKey: '' })).toThrow(/GoogleLLMService.*GOOGLE_API_KEY/);
  });
});

describe('GoogleLLMService: abort', () => {
  it('a stalled stream ends quietly within 200 ms of the abort', async () => {
    fake.enqueue({ stall: true });
    await expectQuietAbort(llm);
  });

  it('an abort mid-answer stops the stream at once', async () => {
    fake.enqueue({ text: 'one two three four five six seven eight nine ten', chunkSize: 2 });
    const controller = new AbortController();
    const events: LLMStreamEvent[] = [];
    for await (const event of llm.streamCompletion(ask('Hi'), { signal: controller.signal })) {
      events.push(event);
      if (events.length === 3) controller.abort();
    }
    expect(events).toHaveLength(3);
    expect(textOf(events)).toBe('one tw');
  });
});

describe('GoogleLLMService in a pipeline', () => {
  it('answers an llm-context frame with response start, text, end and usage metrics', async () => {
    fake.enqueue({ text: 'Good morning, how can I help?', usage: { promptTokenCount: 21, candidatesTokenCount: 8 } });
    const context = new LLMContext([{ role: 'system', content: 'Be kind.' }, { role: 'user', content: 'Hello?' }]);
    const collector = await answerInPipeline(make({ name: 'gemini' }), context.snapshot());

    const types = collector.types().filter((t) => t.startsWith('llm-'));
    expect(types[0]).toBe('llm-response-start');
    expect(types.at(-1)).toBe('llm-response-end');
    expect(types.slice(1, -1).every((t) => t === 'llm-text')).toBe(true);
    expect(collector.ofType('llm-text').map((f) => f.text).join('')).toBe('Good morning, how can I help?');
    const metrics = collector.ofType('metrics').flatMap((f) => f.data);
    expect(metrics.find((m) => m.kind === 'llm-usage')).toEqual({
      kind: 'llm-usage',
      processor: 'gemini',
      model: 'gemini-2.5-flash',
      promptTokens: 21,
      completionTokens: 8,
      cachedTokens: undefined,
    });
    expect(metrics.some((m) => m.kind === 'ttfb' && m.processor === 'gemini')).toBe(true);
  });
});
