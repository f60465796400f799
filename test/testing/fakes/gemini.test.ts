import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGemini, type FakeGemini } from '../../../src/testing/fakes/gemini.js';
import { readRaw } from '../../support/fake-clients.js';

const KEY = 'AIzaSyFAKE-SECRET-1234567890abcdef';
const BAD_KEY = 'AIzaSyBAD-KEY-000000000000';

let fake: FakeGemini;
beforeEach(async () => {
  fake = await startFakeGemini({ rejectKey: BAD_KEY });
});
afterEach(async () => {
  await fake.close();
});

interface PostOptions {
  key?: string | null;
  /** Send the key as `?key=` instead of the header. */
  keyInQuery?: boolean;
  model?: string;
  method?: string;
  alt?: string | null;
}

function post(body: unknown, init: PostOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const query = new URLSearchParams();
  if (init.alt !== null) query.set('alt', init.alt ?? 'sse');
  if (init.key !== null) {
    if (init.keyInQuery === true) query.set('key', init.key ?? KEY);
    else headers['x-goog-api-key'] = init.key ?? KEY;
  }
  const qs = query.toString();
  return fetch(`${fake.baseURL}/models/${init.model ?? 'gemini-2.5-flash'}:${init.method ?? 'streamGenerateContent'}${qs === '' ? '' : `?${qs}`}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
}

type GenerateContentResponse = {
  candidates?: { content: { role: string; parts: Record<string, unknown>[] }; finishReason?: string; index: number }[];
  usageMetadata?: { promptTokenCount: number; candidatesTokenCount?: number; totalTokenCount: number };
  promptFeedback?: { blockReason: string };
  modelVersion?: string;
  responseId?: string;
};

/** The events of a Gemini SSE body, checking the framing: `data: <json>` lines ended by CRLF CRLF, no end marker. */
function sseEvents(text: string): GenerateContentResponse[] {
  expect(text.endsWith('\r\n\r\n')).toBe(true);
  return text
    .slice(0, -4)
    .split('\r\n\r\n')
    .map((event) => {
      expect(event.startsWith('data: ')).toBe(true);
      expect(/[\r\n]/.test(event)).toBe(false);
      return JSON.parse(event.slice('data: '.length)) as GenerateContentResponse;
    });
}

async function rejection(res: Response): Promise<{ code: number; status: string; message: string; details?: unknown[] }> {
  const body = (await res.json()) as { error: { code: number; status: string; message: string; details?: unknown[] } };
  expect(body.error.code).toBe(res.status);
  return body.error;
}

const user = (text: string) => ({ role: 'user', parts: [{ text }] });
const base = { contents: [user('Hi')] };

describe('fake Gemini: streaming', () => {
  it('streams text as whole GenerateContentResponses over SSE with CRLF, split across writes', async () => {
    fake.enqueue({ text: 'héllo 👋 wörld', chunkSize: 4, usage: { promptTokenCount: 9, candidatesTokenCount: 5 } });
    const res = await post(base);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const { text, reads } = await readRaw(res);
    const events = sseEvents(text);
    expect(reads).toBeGreaterThan(events.length);
    expect(events.map((e) => e.candidates![0]!.content.parts[0]!.text)).toEqual(['héll', 'o 👋 ', 'wörl', 'd']);
    for (const event of events) {
      expect(event.candidates![0]!.content.role).toBe('model');
      expect(event.modelVersion).toBe('gemini-2.5-flash');
      expect(event.responseId).toBe(events[0]!.responseId);
    }
    expect(events.slice(0, -1).every((e) => e.candidates![0]!.finishReason === undefined)).toBe(true);
    expect(events.at(-1)!.candidates![0]!.finishReason).toBe('STOP');
    expect(events.at(-1)!.usageMetadata).toMatchObject({ promptTokenCount: 9, candidatesTokenCount: 5, totalTokenCount: 14 });
  });

  it('sends several function calls as parts of one event, args as objects, ids when scripted', async () => {
    fake.enqueue({ functionCalls: [{ name: 'get_weather', args: { city: 'Paris' }, id: 'fc-1' }, { name: 'hang_up' }], thoughtSignatures: true });
    const events = sseEvents((await readRaw(await post(base))).text);
    expect(events).toHaveLength(1);
    const parts = events[0]!.candidates![0]!.content.parts;
    expect(parts.map((p) => p.functionCall)).toEqual([{ id: 'fc-1', name: 'get_weather', args: { city: 'Paris' } }, { name: 'hang_up', args: {} }]);
    expect(parts.every((p) => typeof p.thoughtSignature === 'string')).toBe(true);
    expect(events[0]!.candidates![0]!.finishReason).toBe('STOP');
  });

  it('without alt=sse streams one JSON array; generateContent answers one response', async () => {
    fake.enqueue({ text: 'one two three', chunkSize: 5 }, { text: 'one two three', chunkSize: 5 });
    const array = JSON.parse((await readRaw(await post(base, { alt: null }))).text) as GenerateContentResponse[];
    expect(array.map((e) => e.candidates![0]!.content.parts[0]!.text).join('')).toBe('one two three');
    const single = (await (await post(base, { alt: null, method: 'generateContent' })).json()) as GenerateContentResponse;
    expect(single.candidates![0]!.content.parts.map((p) => p.text).join('')).toBe('one two three');
    expect(single.candidates![0]!.finishReason).toBe('STOP');
  });

  it('a blocked prompt is a 200 with promptFeedback and no candidates', async () => {
    fake.enqueue({ blockReason: 'SAFETY' });
    const events = sseEvents((await readRaw(await post(base))).text);
    expect(events).toHaveLength(1);
    expect(events[0]!.promptFeedback).toEqual({ blockReason: 'SAFETY', safetyRatings: [] });
    expect(events[0]!.candidates).toBeUndefined();
  });

  it('an in-stream error is an error object event; a drop cuts the body', async () => {
    fake.enqueue({ inStreamError: true, text: 'Hello there' }, { dropAfterChunks: 1 });
    const events = sseEvents((await readRaw(await post(base))).text) as unknown as Record<string, unknown>[];
    expect(events.at(-1)).toEqual({ error: { code: 500, message: expect.stringContaining('internal error') as unknown, status: 'INTERNAL' } });
    await expect(readRaw(await post(base))).rejects.toThrow();
  });
});

describe('fake Gemini: auth and errors', () => {
  it('takes the key from the header or ?key=, never records it; 403 without, 400 API_KEY_INVALID when wrong', async () => {
    fake.enqueue({ text: 'a' }, { text: 'b' });
    expect((await post(base)).status).toBe(200);
    expect((await post(base, { keyInQuery: true })).status).toBe(200);
    const missing = await rejection(await post(base, { key: null }));
    expect(missing).toMatchObject({ code: 403, status: 'PERMISSION_DENIED' });
    const wrong = await rejection(await post(base, { key: BAD_KEY }));
    expect(wrong).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT', message: 'API key not valid. Please pass a valid API key.' });
    expect(wrong.details![0]).toMatchObject({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' });
    expect(fake.requests.map((r) => r.auth)).toEqual([
      { present: true, valid: true, via: 'header' },
      { present: true, valid: true, via: 'query' },
      { present: false, valid: false },
      { present: true, valid: false, via: 'header' },
    ]);
    expect(fake.requests[1]!.query).toEqual({ alt: 'sse', key: '[redacted]' });
    expect(JSON.stringify(fake.requests)).not.toContain('SECRET');
    expect(JSON.stringify(fake.requests)).not.toContain('BAD-KEY');
  });

  it('429 carries RetryInfo; 503 is UNAVAILABLE; unknown models are 404 NOT_FOUND', async () => {
    fake.enqueue({ error: 429, retryDelaySecs: 12 }, { error: 503 });
    const limited = await rejection(await post(base));
    expect(limited.status).toBe('RESOURCE_EXHAUSTED');
    expect(limited.details).toContainEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '12s' });
    expect(await rejection(await post(base))).toMatchObject({ code: 503, status: 'UNAVAILABLE' });
    const strict = await startFakeGemini({ models: ['gemini-2.5-flash'] });
    try {
      const res = await fetch(`${strict.baseURL}/models/gemini-nope:streamGenerateContent?alt=sse`, {
        method: 'POST',
        headers: { 'x-goog-api-key': KEY },
        body: JSON.stringify(base),
      });
      expect((await rejection(res)).message).toMatch(/^models\/gemini-nope is not found for API version v1beta/);
    } finally {
      await strict.close();
    }
  });
});

describe('fake Gemini: request validation', () => {
  const call = { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] };
  const answer = { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp_c: 18 } } }] };
  const declare = (parameters: object) => [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather.', parameters }] }];

  const cases: [string, Record<string, unknown>, string][] = [
    ['no contents', { contents: [] }, '* GenerateContentRequest.contents: contents is not specified\n'],
    ['an OpenAI role', { contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] }, 'Please use a valid role: user, model.'],
    ['empty parts', { contents: [{ role: 'user', parts: [] }] }, '* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n'],
    ['an unknown body field', { ...base, messages: [] }, 'Invalid JSON payload received. Unknown name "messages": Cannot find field.'],
    [
      'additionalProperties in a function declaration',
      { ...base, tools: declare({ type: 'object', properties: { city: { type: 'string' } }, additionalProperties: false }) },
      'Invalid JSON payload received. Unknown name "additionalProperties" at \'tools[0].function_declarations[0].parameters\': Cannot find field.',
    ],
    [
      '$schema in a function declaration',
      { ...base, tools: declare({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { city: { type: 'string' } } }) },
      'Invalid JSON payload received. Unknown name "$schema" at \'tools[0].function_declarations[0].parameters\': Cannot find field.',
    ],
    [
      'a nested unknown keyword',
      { ...base, tools: declare({ type: 'object', properties: { when: { type: 'string' }, city: { type: 'string', const: 'Paris' } } }) },
      'Invalid JSON payload received. Unknown name "const" at \'tools[0].function_declarations[0].parameters.properties[1].value\': Cannot find field.',
    ],
    [
      'an object without properties',
      { ...base, tools: declare({ type: 'object', properties: {} }) },
      '* GenerateContentRequest.tools[0].function_declarations[0].parameters.properties: should be non-empty for OBJECT type\n',
    ],
    ['a function call first', { contents: [call, answer] }, 'Please ensure that function call turn comes immediately after a user turn or after a function response turn.'],
    [
      'a function response without a call before it',
      { contents: [user('Weather?'), { role: 'model', parts: [{ text: 'Hm.' }] }, answer] },
      'Please ensure that function response turn comes immediately after a function call turn.',
    ],
    [
      'fewer responses than calls',
      {
        contents: [
          user('Weather?'),
          { role: 'model', parts: [...call.parts, { functionCall: { name: 'get_weather', args: { city: 'Lyon' } } }] },
          answer,
        ],
      },
      'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.',
    ],
    [
      'a response that is not an object',
      { contents: [user('Weather?'), call, { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: '18C' } }] }] },
      'Invalid value at \'contents[2].parts[0].function_response.response\' (type.googleapis.com/google.protobuf.Struct), "18C"',
    ],
    ['a temperature above 2', { ...base, generationConfig: { temperature: 3 } }, '* GenerateContentRequest.generation_config.temperature: temperature must be in the range [0.0, 2.0]\n'],
  ];
  for (const [what, body, message] of cases) {
    it(`400 INVALID_ARGUMENT for ${what}`, async () => {
      expect(await rejection(await post(body))).toEqual({ code: 400, status: 'INVALID_ARGUMENT', message });
    });
  }

  it('accepts a function call turn answered by as many function responses, and snake_case fields', async () => {
    const res = await post({
      contents: [user('Weather?'), call, answer],
      system_instruction: { parts: [{ text: 'Be brief.' }] },
      tools: declare({ type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] }),
      tool_config: { function_calling_config: { mode: 'ANY', allowed_function_names: ['get_weather'] } },
    });
    expect(res.status).toBe(200);
    await readRaw(res);
  });
});
