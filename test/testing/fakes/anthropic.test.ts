import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../../../src/testing/fakes/anthropic.js';
import { readRaw } from '../../support/fake-clients.js';

const KEY = 'sk-ant-api03-SECRET123456';
const BAD_KEY = 'sk-ant-bad-key-000000';

let fake: FakeAnthropic;
beforeEach(async () => {
  fake = await startFakeAnthropic({ rejectKey: BAD_KEY });
});
afterEach(async () => {
  await fake.close();
});

interface PostOptions {
  key?: string | null;
  version?: string | null;
  path?: string;
  raw?: string;
}

function post(body: unknown, init: PostOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.key !== null) headers['x-api-key'] = init.key ?? KEY;
  if (init.version !== null) headers['anthropic-version'] = init.version ?? '2023-06-01';
  return fetch(`${fake.baseURL}${init.path ?? '/messages'}`, { method: 'POST', headers, body: init.raw ?? JSON.stringify(body) });
}

type Event = { event: string; data: Record<string, unknown> };

/** The events of an Anthropic stream, checking the framing: `event:` then `data:`, one blank line after each. */
function events(text: string): Event[] {
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((block) => {
      const lines = block.split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^event: \w+$/);
      expect(lines[1]).toMatch(/^data: \{/);
      const event = lines[0]!.slice('event: '.length);
      const data = JSON.parse(lines[1]!.slice('data: '.length)) as Record<string, unknown>;
      expect(data.type).toBe(event);
      return { event, data };
    });
}

const base = { model: 'claude-haiku-4-5', max_tokens: 256, stream: true, messages: [{ role: 'user', content: 'Hi' }] };

async function rejection(res: Response): Promise<{ status: number; type: string; message: string }> {
  const body = (await res.json()) as { type: string; error: { type: string; message: string }; request_id: string };
  expect(body.type).toBe('error');
  expect(body.request_id).toBe(res.headers.get('request-id'));
  expect(body.request_id).toMatch(/^req_01/);
  return { status: res.status, type: body.error.type, message: body.error.message };
}

describe('fake Anthropic: streaming', () => {
  it('streams text with the documented event order and framing, split across writes', async () => {
    fake.enqueue({ text: 'héllo 👋 wörld', chunkSize: 3, usage: { inputTokens: 12, outputTokens: 6 } });
    const res = await post(base);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('request-id')).toMatch(/^req_01/);
    const { text, reads } = await readRaw(res);
    const list = events(text);
    expect(reads).toBeGreaterThan(list.length);
    expect(list.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      ...Array<string>(5).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const start = list[0]!.data.message as Record<string, unknown>;
    expect(start).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-haiku-4-5', content: [], stop_reason: null, stop_sequence: null });
    expect(start.id).toMatch(/^msg_01/);
    expect(start.usage).toEqual({ input_tokens: 12, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    expect(list[1]!.data).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(list.slice(3, 8).map((e) => (e.data.delta as { text: string }).text)).toEqual(['hél', 'lo ', '👋 w', 'örl', 'd']);
    expect(list[3]!.data).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hél' } });
    expect(list[9]!.data).toEqual({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 6 } });
  });

  it('streams parallel tool_use blocks: input {} at the start, the JSON in input_json_delta fragments', async () => {
    const input = { city: 'Paris', note: 'a "quoted" é' };
    fake.enqueue({ text: 'Checking.', toolUses: [{ name: 'get_weather', input, id: 'toolu_01X' }, { name: 'hang_up', input: {} }] });
    const list = events((await readRaw(await post(base))).text);
    const starts = list.filter((e) => e.event === 'content_block_start').map((e) => e.data);
    expect(starts[0]).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(starts[1]).toEqual({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_01X', name: 'get_weather', input: {} } });
    expect((starts[2]!.content_block as { id: string }).id).toMatch(/^toolu_01[A-Za-z0-9]{22}$/);
    const fragments = (index: number): string[] =>
      list
        .filter((e) => e.event === 'content_block_delta' && e.data.index === index)
        .map((e) => {
          const delta = e.data.delta as { type: string; partial_json: string };
          expect(delta.type).toBe('input_json_delta');
          return delta.partial_json;
        });
    expect(fragments(1).length).toBeGreaterThan(2);
    expect(fragments(1).join('')).toBe(JSON.stringify(input));
    expect(fragments(2)).toEqual([]); // no arguments: no delta
    expect(list.filter((e) => e.event === 'content_block_stop').map((e) => e.data.index)).toEqual([0, 1, 2]);
    expect(list.filter((e) => e.event === 'ping')).toHaveLength(1);
    expect((list.at(-2)!.data.delta as { stop_reason: string }).stop_reason).toBe('tool_use');
    expect(list.at(-1)!.event).toBe('message_stop');
  });

  it('answers a non-streaming request with one message', async () => {
    fake.enqueue({ toolUses: [{ name: 'get_weather', input: { city: 'Oslo' }, id: 'toolu_01Y' }], text: 'Sure.' });
    const res = await post({ ...base, stream: false });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [
        { type: 'text', text: 'Sure.' },
        { type: 'tool_use', id: 'toolu_01Y', name: 'get_weather', input: { city: 'Oslo' } },
      ],
      stop_reason: 'tool_use',
    });
  });

  it('an in-stream error event ends the stream without message_stop', async () => {
    fake.enqueue({ streamError: 'overloaded_error', text: 'Hi' });
    const list = events((await readRaw(await post(base))).text);
    expect(list.at(-1)).toEqual({ event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    expect(list.some((e) => e.event === 'message_stop')).toBe(false);
  });

  it('a drop cuts the connection mid-body; a stall sends headers and nothing else', async () => {
    fake.enqueue({ dropAfterEvents: 3 });
    const dropped = await post(base);
    await expect(readRaw(dropped)).rejects.toThrow();
    fake.enqueue({ stall: true });
    const controller = new AbortController();
    const stalled = await fetch(`${fake.baseURL}/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify(base),
      signal: controller.signal,
    });
    expect(stalled.status).toBe(200);
    const reader = (stalled.body as ReadableStream<Uint8Array>).getReader();
    const next = reader.read();
    const waited = await Promise.race([next.then(() => 'data'), new Promise((resolve) => setTimeout(() => resolve('silence'), 100))]);
    expect(waited).toBe('silence');
    controller.abort();
    await next.catch(() => undefined);
  });
});

describe('fake Anthropic: auth and errors', () => {
  it('checks x-api-key: missing and rejected keys get 401 authentication_error; the key is never recorded', async () => {
    expect(await rejection(await post(base, { key: null }))).toEqual({ status: 401, type: 'authentication_error', message: 'x-api-key header is required' });
    expect(await rejection(await post(base, { key: BAD_KEY }))).toEqual({ status: 401, type: 'authentication_error', message: 'invalid x-api-key' });
    expect(fake.requests.map((r) => r.auth)).toEqual([
      { present: false, valid: false },
      { present: true, valid: false },
    ]);
    expect(JSON.stringify(fake.requests)).not.toContain('SECRET');
    expect(JSON.stringify(fake.requests)).not.toContain('bad-key');
  });

  it('requires anthropic-version (400 without it, as the real API)', async () => {
    expect(await rejection(await post(base, { version: null }))).toEqual({
      status: 400,
      type: 'invalid_request_error',
      message: 'anthropic-version: header is required',
    });
  });

  it('404 for other paths and for unknown models when a model list is set', async () => {
    expect(await rejection(await post(base, { path: '/complete' }))).toMatchObject({ status: 404, type: 'not_found_error' });
    const strict = await startFakeAnthropic({ models: ['claude-haiku-4-5'] });
    try {
      const res = await fetch(`${strict.baseURL}/messages`, {
        method: 'POST',
        headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ ...base, model: 'claude-nope' }),
      });
      expect(await rejection(res)).toEqual({ status: 404, type: 'not_found_error', message: 'model: claude-nope' });
    } finally {
      await strict.close();
    }
  });

  it('scripted 429 carries retry-after and the rate-limit headers; 529 is overloaded_error', async () => {
    fake.enqueue({ error: 429, retryAfter: 12, shouldRetry: true }, { error: 529 });
    const limited = await post(base);
    expect(limited.headers.get('retry-after')).toBe('12');
    expect(limited.headers.get('x-should-retry')).toBe('true');
    expect(limited.headers.get('anthropic-ratelimit-requests-remaining')).toBe('0');
    expect(await rejection(limited)).toMatchObject({ status: 429, type: 'rate_limit_error' });
    expect(await rejection(await post(base))).toEqual({ status: 529, type: 'overloaded_error', message: 'Overloaded' });
  });
});

describe('fake Anthropic: request validation', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['max_tokens missing', { ...base, max_tokens: undefined }, 'max_tokens: Field required'],
    ['max_tokens not an integer', { ...base, max_tokens: 1.5 }, 'max_tokens: Input should be a valid integer'],
    ['model missing', { ...base, model: undefined }, 'model: Field required'],
    ['no messages', { ...base, messages: [] }, 'messages: at least one message is required'],
    ['a system role', { ...base, messages: [{ role: 'system', content: 'x' }] }, "messages.0.role: Input should be 'user' or 'assistant'"],
    ['assistant first', { ...base, messages: [{ role: 'assistant', content: 'Hello!' }, { role: 'user', content: 'Hi' }] }, 'messages: first message must use the "user" role'],
    [
      'two user turns in a row',
      { ...base, messages: [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }] },
      'messages: roles must alternate between "user" and "assistant", but found multiple "user" roles in a row',
    ],
    ['an empty message', { ...base, messages: [{ role: 'user', content: '' }] }, 'messages.0: all messages must have non-empty content except for the optional final assistant message'],
    ['an empty text block', { ...base, messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] }, 'messages: text content blocks must be non-empty'],
    [
      'a final assistant turn ending in whitespace',
      { ...base, messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Well ' }] },
      'messages: final assistant content cannot end with trailing whitespace',
    ],
    ['temperature above 1', { ...base, temperature: 1.5 }, 'temperature: Input should be less than or equal to 1'],
    ['tool_choice without tools', { ...base, tool_choice: { type: 'auto' } }, 'tool_choice: tool_choice may only be specified while providing tools'],
    [
      'a tool schema that is not an object',
      { ...base, tools: [{ name: 'f', input_schema: { type: 'string' } }] },
      "tools.0.custom.input_schema.type: Input should be 'object'",
    ],
  ];
  for (const [what, body, message] of cases) {
    it(`400 for ${what}`, async () => {
      expect(await rejection(await post(body))).toEqual({ status: 400, type: 'invalid_request_error', message });
    });
  }

  const toolUse = { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } }] };
  const tools = [{ name: 'get_weather', description: 'Weather.', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];

  it('accepts tool_result blocks answering the previous tool_use ids', async () => {
    const res = await post({
      ...base,
      tools,
      messages: [{ role: 'user', content: 'Weather?' }, toolUse, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: '18C' }] }],
    });
    expect(res.status).toBe(200);
    await readRaw(res);
  });

  it('rejects a tool_use left unanswered, a tool_result with a foreign id, and a tool_result after text', async () => {
    const unanswered = await post({ ...base, tools, messages: [{ role: 'user', content: 'Weather?' }, toolUse, { role: 'user', content: 'Well?' }] });
    expect((await rejection(unanswered)).message).toBe(
      'messages.2: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01. Each `tool_use` block must have a corresponding `tool_result` block in the next message.',
    );
    const foreign = await post({
      ...base,
      tools,
      messages: [
        { role: 'user', content: 'Weather?' },
        toolUse,
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: '18C' }, { type: 'tool_result', tool_use_id: 'toolu_99', content: 'x' }] },
      ],
    });
    expect((await rejection(foreign)).message).toBe(
      'messages.2.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_99. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.',
    );
    const textFirst = await post({
      ...base,
      tools,
      messages: [
        { role: 'user', content: 'Weather?' },
        toolUse,
        { role: 'user', content: [{ type: 'text', text: 'here:' }, { type: 'tool_result', tool_use_id: 'toolu_01', content: '18C' }] },
      ],
    });
    expect((await rejection(textFirst)).status).toBe(400);
  });
});
