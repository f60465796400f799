import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAIChat, type FakeOpenAIChat } from '../../../src/testing/fakes/openai-chat.js';
import { formatSSEEvent, splitBytes } from '../../../src/testing/fakes/sse.js';
import { createSeededRandom } from '../../../src/testing/random.js';
import { readRaw } from '../../support/fake-clients.js';

const KEY = 'sk-test-SECRET123456';

let fake: FakeOpenAIChat;
beforeEach(async () => {
  fake = await startFakeOpenAIChat({ rejectKey: 'sk-bad-key-0000000000' });
});
afterEach(async () => {
  await fake.close();
});

function post(body: unknown, init: { key?: string | null; path?: string; method?: string; raw?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (init.key !== null) headers.Authorization = `Bearer ${init.key ?? KEY}`;
  return fetch(`${fake.baseURL}${init.path ?? '/chat/completions'}`, {
    method: init.method ?? 'POST',
    headers,
    body: init.method === 'GET' ? undefined : (init.raw ?? JSON.stringify(body)),
  });
}

/** `data:` payloads of an SSE body, checking every event is `data: ...\n\n`. */
function dataEvents(text: string): string[] {
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((event) => {
      expect(event.startsWith('data: ')).toBe(true);
      expect(event.includes('\n')).toBe(false);
      return event.slice('data: '.length);
    });
}

type Chunk = {
  id: string;
  object: string;
  created: number;
  model: string;
  system_fingerprint: string;
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: unknown;
  obfuscation?: string;
};

const user = [{ role: 'user', content: 'Hi' }];

describe('fake OpenAI chat completions: streaming', () => {
  it('streams a text answer with the real framing, split across writes', async () => {
    fake.enqueue({ text: 'héllo 👋 wörld', chunkSize: 3 });
    const res = await post({ model: 'gpt-4o-mini', messages: user, stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    const { text, reads } = await readRaw(res);
    const events = dataEvents(text);
    expect(reads).toBeGreaterThan(events.length);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Chunk);
    for (const chunk of chunks) {
      expect(chunk.object).toBe('chat.completion.chunk');
      expect(chunk.id).toBe(chunks[0]!.id);
      expect(chunk.id).toMatch(/^chatcmpl-/);
      expect(chunk.model).toBe('gpt-4o-mini');
      expect(chunk.system_fingerprint).toMatch(/^fp_/);
      expect(chunk.usage).toBeDefined();
    }
    const deltas = chunks.slice(0, -1);
    expect(deltas[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '', refusal: null });
    expect(deltas.slice(1, -1).map((c) => c.choices[0]!.delta.content)).toEqual(['hél', 'lo ', '👋 w', 'örl', 'd']);
    for (const chunk of deltas) {
      expect(typeof chunk.obfuscation).toBe('string');
      expect(chunk.usage).toBeNull();
    }
    expect(deltas.at(-1)!.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' });
    const usage = chunks.at(-1)!;
    expect(usage.choices).toEqual([]);
    const counts = usage.usage as { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details: unknown };
    expect(counts.prompt_tokens).toBeGreaterThan(0);
    expect(counts.completion_tokens).toBeGreaterThan(0);
    expect(counts.total_tokens).toBe(counts.prompt_tokens + counts.completion_tokens);
    expect(counts.prompt_tokens_details).toEqual({ cached_tokens: 0, audio_tokens: 0 });
  });

  it('sends no usage chunk and no usage field without include_usage', async () => {
    fake.enqueue({ text: 'ok' });
    const { text } = await readRaw(await post({ model: 'gpt-4o-mini', messages: user, stream: true }));
    const chunks = dataEvents(text).slice(0, -1).map((e) => JSON.parse(e) as Chunk);
    expect(chunks.every((c) => c.choices.length === 1 && !('usage' in c))).toBe(true);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
  });

  it('streams parallel tool calls as argument fragments with indexes', async () => {
    fake.enqueue({
      toolCalls: [
        { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' }, id: 'call_A' },
        { name: 'get_time', arguments: '{"tz":"Europe/Paris"}' },
      ],
    });
    const { text } = await readRaw(await post({ model: 'gpt-4o-mini', messages: user, stream: true }));
    const deltas = dataEvents(text)
      .slice(0, -1)
      .map((e) => (JSON.parse(e) as Chunk).choices[0]!);
    expect(deltas[0]!.delta).toEqual({
      role: 'assistant',
      content: null,
      refusal: null,
      tool_calls: [{ index: 0, id: 'call_A', type: 'function', function: { name: 'get_weather', arguments: '' } }],
    });
    const args = ['', ''];
    let secondId = '';
    for (const { delta } of deltas) {
      const calls = delta.tool_calls as { index: number; id?: string; function: { arguments: string } }[] | undefined;
      if (!calls) continue;
      expect(calls).toHaveLength(1);
      const call = calls[0]!;
      if (call.index === 1 && call.id !== undefined) secondId = call.id;
      args[call.index] += call.function.arguments;
    }
    expect(args).toEqual(['{"city":"Paris","unit":"celsius"}', '{"tz":"Europe/Paris"}']);
    expect(secondId).toMatch(/^call_[A-Za-z0-9]{24}$/);
    expect(deltas.filter((d) => d.delta.tool_calls !== undefined).length).toBeGreaterThan(4);
    expect(deltas.at(-1)).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'tool_calls' });
  });

  it('sends an in-band error event and no [DONE]', async () => {
    fake.enqueue({ inBandError: true, text: 'Hel' });
    const { text } = await readRaw(await post({ model: 'gpt-4o-mini', messages: user, stream: true }));
    const events = dataEvents(text);
    expect(events).not.toContain('[DONE]');
    expect(JSON.parse(events.at(-1)!)).toEqual({
      error: {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        param: null,
        code: null,
      },
    });
  });

  it('drops the connection mid-stream', async () => {
    fake.enqueue({ dropAfterChunks: 2 });
    const res = await post({ model: 'gpt-4o-mini', messages: user, stream: true });
    expect(res.status).toBe(200);
    await expect(readRaw(res)).rejects.toThrow();
  });

  it('stalls after the headers until the client aborts', async () => {
    fake.enqueue({ stall: true });
    const controller = new AbortController();
    const res = await fetch(`${fake.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: user, stream: true }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reading = readRaw(res);
    setTimeout(() => controller.abort(), 50);
    await expect(reading).rejects.toThrow(/abort/i);
  });

  it('adds OpenRouter-style comment keep-alives when asked', async () => {
    const router = await startFakeOpenAIChat({ keepAliveComments: true, seed: 7 });
    try {
      const res = await fetch(`${router.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: user, stream: true }),
      });
      const { text } = await readRaw(res);
      expect(text).toContain(': OPENROUTER PROCESSING\n\n');
    } finally {
      await router.close();
    }
  });
});

describe('fake OpenAI chat completions: non-streaming, scripting, recording', () => {
  it('returns a chat.completion object when stream is absent', async () => {
    fake.enqueue({ toolCalls: [{ name: 'hang_up', arguments: {}, id: 'call_X' }], text: 'Bye' });
    const res = await post({ model: 'gpt-4o-mini', messages: user });
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Bye',
            tool_calls: [{ id: 'call_X', type: 'function', function: { name: 'hang_up', arguments: '{}' } }],
          },
          finish_reason: 'tool_calls',
        },
      ],
    });
    expect((body.usage as { completion_tokens: number }).completion_tokens).toBeGreaterThan(0);
  });

  it('serves the queue first, then the handler, then the default', async () => {
    fake.enqueue({ text: 'queued' });
    fake.respondWith((body) => ({ text: `handled ${body.model}` }));
    const texts: string[] = [];
    for (let i = 0; i < 2; i++) {
      const body = (await (await post({ model: 'm1', messages: user })).json()) as { choices: { message: { content: string } }[] };
      texts.push(body.choices[0]!.message.content);
    }
    expect(texts).toEqual(['queued', 'handled m1']);
  });

  it('records requests without the key', async () => {
    await post({ model: 'gpt-4o-mini', messages: user });
    await post({ model: 'gpt-4o-mini', messages: user }, { key: 'sk-bad-key-0000000000' });
    await post({ model: 'gpt-4o-mini', messages: user }, { key: null });
    expect(fake.requests.map((r) => [r.status, r.auth.present, r.auth.valid])).toEqual([
      [200, true, true],
      [401, true, false],
      [401, false, false],
    ]);
    expect(fake.requests[0]!.headers.authorization).toBe('[redacted]');
    expect(fake.requests[0]!.body).toEqual({ model: 'gpt-4o-mini', messages: user });
    expect(JSON.stringify(fake.requests)).not.toContain('SECRET');
  });
});

describe('fake OpenAI chat completions: errors', () => {
  type ErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };
  async function errorOf(res: Response): Promise<{ status: number; body: ErrorBody; requestId: string | null }> {
    return { status: res.status, body: (await res.json()) as ErrorBody, requestId: res.headers.get('x-request-id') };
  }

  it('answers 404 for other routes and methods', async () => {
    const wrongPath = await errorOf(await post({}, { path: '/completions' }));
    expect(wrongPath).toMatchObject({
      status: 404,
      body: { error: { message: 'Invalid URL (POST /v1/completions)', type: 'invalid_request_error', param: null, code: null } },
    });
    expect((await errorOf(await post({}, { method: 'GET' }))).status).toBe(404);
  });

  it('answers 401 for a missing or rejected key, masking the key like OpenAI', async () => {
    const missing = await errorOf(await post({ model: 'gpt-4o-mini', messages: user }, { key: null }));
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({ type: 'invalid_request_error', code: null, param: null });
    expect(missing.body.error.message).toMatch(/^You didn't provide an API key/);
    const rejected = await errorOf(await post({ model: 'gpt-4o-mini', messages: user }, { key: 'sk-bad-key-0000000000' }));
    expect(rejected.body).toEqual({
      error: {
        message: 'Incorrect API key provided: sk-bad-k*********0000. You can find your API key at https://platform.openai.com/account/api-keys.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
    expect(rejected.requestId).toMatch(/^req_/);
  });

  it('serves scripted 401, 429, 500 and 503 bodies and headers', async () => {
    fake.enqueue({ error: 401 }, { error: 429, retryAfter: 7 }, { error: 500 }, { error: 503 });
    const r401 = await errorOf(await post({ model: 'gpt-4o-mini', messages: user }));
    expect(r401).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } });
    expect(r401.body.error.message).toContain('provided: sk-test-********3456.');
    const res429 = await post({ model: 'gpt-4o-mini', messages: user });
    expect(res429.headers.get('retry-after')).toBe('7');
    expect(res429.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const r429 = await errorOf(res429);
    expect(r429).toMatchObject({ status: 429, body: { error: { type: 'requests', code: 'rate_limit_exceeded', param: null } } });
    expect(r429.body.error.message).toContain('Please try again in 7s');
    const r500 = await errorOf(await post({ model: 'gpt-4o-mini', messages: user }));
    expect(r500).toMatchObject({ status: 500, body: { error: { type: 'server_error', code: null, param: null } } });
    expect(r500.body.error.message).toMatch(/^The server had an error/);
    expect(await errorOf(await post({ model: 'gpt-4o-mini', messages: user }))).toMatchObject({ status: 503, body: { error: { type: 'server_error' } } });
  });

  it('rejects invalid bodies with 400 invalid_request_error', async () => {
    const cases: [string | object, RegExp, string | null][] = [
      ['{not json', /could not parse the JSON body/, null],
      [{ messages: user }, /you must provide a model parameter/, null],
      [{ model: 'gpt-4o-mini' }, /Missing required parameter: 'messages'/, 'messages'],
      [{ model: 'gpt-4o-mini', messages: [] }, /empty array/, 'messages'],
      [{ model: 'gpt-4o-mini', messages: [{ role: 'robot', content: 'x' }] }, /Invalid value: 'robot'/, 'messages[0].role'],
      [{ model: 'gpt-4o-mini', messages: user, tools: [{ type: 'retrieval' }] }, /Invalid value: 'retrieval'/, 'tools[0].type'],
      [{ model: 'gpt-4o-mini', messages: user, tools: [] }, /empty array/, 'tools'],
      [{ model: 'gpt-4o-mini', messages: user, tool_choice: 'auto' }, /only allowed when 'tools' are specified/, 'tool_choice'],
      [{ model: 'gpt-4o-mini', messages: user, stream_options: { include_usage: true } }, /only allowed when 'stream' is enabled/, 'stream_options'],
      [
        {
          model: 'gpt-4o-mini',
          messages: [...user, { role: 'tool', tool_call_id: 'call_1', content: 'x' }],
        },
        /must be a response to a preceeding message with 'tool_calls'/,
        'messages.[1].role',
      ],
      [
        {
          model: 'gpt-4o-mini',
          messages: [
            ...user,
            { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }, { id: 'call_2', type: 'function', function: { name: 'f', arguments: '{}' } }] },
            { role: 'tool', tool_call_id: 'call_1', content: 'x' },
            { role: 'user', content: 'next' },
          ],
        },
        /did not have response messages: call_2/,
        'messages.[3].role',
      ],
      [
        {
          model: 'gpt-4o-mini',
          messages: [...user, { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: { a: 1 } } }] }],
        },
        /expected a string, but got object/,
        'messages[1].tool_calls[0].function.arguments',
      ],
      [
        {
          model: 'gpt-4o-mini',
          messages: [...user, { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }],
        },
        /did not have response messages: c$/,
        'messages.[2].role',
      ],
    ];
    for (const [body, message, param] of cases) {
      const res = await post(body, typeof body === 'string' ? { raw: body } : {});
      const error = (await res.json()) as { error: { message: string; type: string; param: string | null } };
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(error.error.type).toBe('invalid_request_error');
      expect(error.error.message).toMatch(message);
      expect(error.error.param).toBe(param);
    }
  });

  it('accepts a conversation whose tool calls are all answered', async () => {
    const res = await post({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        ...user,
        { role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } }, { id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'b', content: '1' },
        { role: 'tool', tool_call_id: 'a', content: '2' },
        { role: 'assistant', content: 'Done.' },
        { role: 'user', content: 'Thanks' },
      ],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
      tool_choice: 'auto',
    });
    expect(res.status).toBe(200);
  });

  it('answers 404 model_not_found for unknown models when a model list is set', async () => {
    const strict = await startFakeOpenAIChat({ models: ['gpt-4o-mini'] });
    try {
      const res = await fetch(`${strict.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-9', messages: user }),
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'model_not_found' } });
    } finally {
      await strict.close();
    }
  });
});

describe('SSE helpers', () => {
  it('formats events, multi-line data and named events', () => {
    expect(formatSSEEvent({ data: { a: 1 } })).toBe('data: {"a":1}\n\n');
    expect(formatSSEEvent({ event: 'ping', data: 'x\ny' })).toBe('event: ping\ndata: x\ndata: y\n\n');
  });

  it('splits bytes losslessly and sometimes inside a code point', () => {
    const bytes = Buffer.from('héllo 👋 wörld', 'utf8');
    let insideCodePoint = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const pieces = splitBytes(bytes, createSeededRandom(seed));
      expect(Buffer.concat(pieces).equals(bytes)).toBe(true);
      let offset = 0;
      for (const piece of pieces.slice(0, -1)) {
        offset += piece.length;
        if (((bytes[offset] ?? 0) & 0xc0) === 0x80) insideCodePoint += 1;
      }
    }
    expect(insideCodePoint).toBeGreaterThan(10);
  });
});
