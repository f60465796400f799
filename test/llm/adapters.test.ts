import { describe, expect, it } from 'vitest';
import type { LLMMessage, LLMToolDefinition } from '../../src/frames/index.js';
import {
  toAnthropicRequest,
  toAnthropicTools,
  toGeminiRequest,
  toGeminiSchema,
  toGeminiTools,
  toOpenAIMessages,
  toOpenAITools,
} from '../../src/llm/adapters/index.js';

// One call: a system prompt, a question answered with two parallel tool calls, their results, the reply,
// then a follow-up.
const conversation: LLMMessage[] = [
  { role: 'system', content: 'You are a phone assistant.' },
  { role: 'user', content: 'Weather in Paris and in Lyon?' },
  {
    role: 'assistant',
    content: '',
    toolCalls: [
      { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { id: 'call_2', name: 'get_weather', arguments: '{"city":"Lyon"}' },
    ],
  },
  { role: 'tool', toolCallId: 'call_1', name: 'get_weather', content: '{"temp_c":18}' },
  { role: 'tool', toolCallId: 'call_2', name: 'get_weather', content: 'sunny' },
  { role: 'assistant', content: 'Paris is 18 degrees, Lyon is sunny.' },
  { role: 'system', content: 'Keep answers short.' },
  { role: 'user', content: 'Thanks. Transfer me.' },
  { role: 'assistant', content: 'Transferring you now.', toolCalls: [{ id: 'call_3', name: 'transfer', arguments: 'not json' }] },
  { role: 'tool', toolCallId: 'call_3', name: 'transfer', content: '42' },
];

const weather: LLMToolDefinition = {
  name: 'get_weather',
  description: 'Current weather in a city.',
  parameters: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: {
      city: { type: 'string', description: 'City name' },
      options: {
        type: 'object',
        properties: { unit: { const: 'celsius' }, additionalProperties: { type: 'boolean' } },
        additionalProperties: false,
      },
      days: { type: 'array', items: { type: 'object', properties: { n: { type: 'integer' } }, additionalProperties: false } },
    },
    required: ['city'],
    additionalProperties: false,
  },
};
const hangUp: LLMToolDefinition = {
  name: 'hang_up',
  description: 'End the call.',
  parameters: { type: 'object', properties: {}, required: [] },
};

describe('OpenAI adapter', () => {
  it('maps the conversation to chat completions messages', () => {
    expect(toOpenAIMessages(conversation)).toEqual([
      { role: 'system', content: 'You are a phone assistant.' },
      { role: 'user', content: 'Weather in Paris and in Lyon?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c":18}' },
      { role: 'tool', tool_call_id: 'call_2', content: 'sunny' },
      { role: 'assistant', content: 'Paris is 18 degrees, Lyon is sunny.' },
      { role: 'system', content: 'Keep answers short.' },
      { role: 'user', content: 'Thanks. Transfer me.' },
      {
        role: 'assistant',
        content: 'Transferring you now.',
        tool_calls: [{ id: 'call_3', type: 'function', function: { name: 'transfer', arguments: 'not json' } }],
      },
      { role: 'tool', tool_call_id: 'call_3', content: '42' },
    ]);
  });

  it('treats an empty tool-call list as none (the API rejects an empty array)', () => {
    expect(toOpenAIMessages([{ role: 'assistant', content: '', toolCalls: [] }])).toEqual([{ role: 'assistant', content: '' }]);
  });

  it('maps tools', () => {
    expect(toOpenAITools([hangUp])).toEqual([
      {
        type: 'function',
        function: { name: 'hang_up', description: 'End the call.', parameters: { type: 'object', properties: {}, required: [] } },
      },
    ]);
    expect(toOpenAITools([])).toEqual([]);
  });
});

describe('Anthropic adapter', () => {
  it('lifts system prompts, nests tool calls and results, and merges consecutive turns', () => {
    expect(toAnthropicRequest(conversation)).toEqual({
      system: 'You are a phone assistant.\n\nKeep answers short.',
      messages: [
        { role: 'user', content: 'Weather in Paris and in Lyon?' },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Lyon' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: '{"temp_c":18}' },
            { type: 'tool_result', tool_use_id: 'call_2', content: 'sunny' },
          ],
        },
        { role: 'assistant', content: 'Paris is 18 degrees, Lyon is sunny.' },
        { role: 'user', content: 'Thanks. Transfer me.' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Transferring you now.' },
            { type: 'tool_use', id: 'call_3', name: 'transfer', input: {} },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_3', content: '42' }] },
      ],
    });
  });

  it('merges consecutive user messages, keeps tool results first, and omits an absent system prompt', () => {
    const request = toAnthropicRequest([
      { role: 'user', content: 'Hello' },
      { role: 'user', content: 'Anyone there?' },
      { role: 'assistant', content: '', toolCalls: [{ id: 't1', name: 'ping', arguments: '[1,2]' }] },
      { role: 'tool', toolCallId: 't1', name: 'ping', content: 'pong' },
      { role: 'user', content: 'And?' },
      { role: 'assistant', content: '' },
    ]);
    expect(request).toEqual({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Hello' }, { type: 'text', text: 'Anyone there?' }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'ping', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: 'pong' },
            { type: 'text', text: 'And?' },
          ],
        },
      ],
    });
    expect('system' in request).toBe(false);
  });

  it('maps tools', () => {
    expect(toAnthropicTools([hangUp])).toEqual([
      { name: 'hang_up', description: 'End the call.', input_schema: { type: 'object', properties: {}, required: [] } },
    ]);
  });
});

describe('Gemini adapter', () => {
  it('maps roles to user/model, tool calls to functionCall and results to object functionResponses', () => {
    expect(toGeminiRequest(conversation)).toEqual({
      systemInstruction: { parts: [{ text: 'You are a phone assistant.\n\nKeep answers short.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Paris and in Lyon?' }] },
        {
          role: 'model',
          parts: [
            { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
            { functionCall: { name: 'get_weather', args: { city: 'Lyon' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'get_weather', response: { temp_c: 18 } } },
            { functionResponse: { name: 'get_weather', response: { result: 'sunny' } } },
          ],
        },
        { role: 'model', parts: [{ text: 'Paris is 18 degrees, Lyon is sunny.' }] },
        { role: 'user', parts: [{ text: 'Thanks. Transfer me.' }] },
        {
          role: 'model',
          parts: [{ text: 'Transferring you now.' }, { functionCall: { name: 'transfer', args: {} } }],
        },
        { role: 'user', parts: [{ functionResponse: { name: 'transfer', response: { result: 42 } } }] },
      ],
    });
  });

  it('wraps array and null results, and omits systemInstruction when there is none', () => {
    const request = toGeminiRequest([
      { role: 'user', content: 'list' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'a', name: 'list', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'a', name: 'list', content: '[1,2]' },
      { role: 'user', content: 'and?' },
    ]);
    expect(request).toEqual({
      contents: [
        { role: 'user', parts: [{ text: 'list' }] },
        { role: 'model', parts: [{ functionCall: { name: 'list', args: {} } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'list', response: { result: [1, 2] } } }, { text: 'and?' }] },
      ],
    });
  });

  it('strips keywords Gemini rejects at every level, but not properties with those names', () => {
    expect(toGeminiTools([weather, hangUp])).toEqual([
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            description: 'Current weather in a city.',
            parameters: {
              type: 'object',
              properties: {
                city: { type: 'string', description: 'City name' },
                options: {
                  type: 'object',
                  properties: { unit: { enum: ['celsius'] }, additionalProperties: { type: 'boolean' } },
                },
                days: { type: 'array', items: { type: 'object', properties: { n: { type: 'integer' } } } },
              },
              required: ['city'],
            },
          },
          { name: 'hang_up', description: 'End the call.' },
        ],
      },
    ]);
    expect(toGeminiTools([])).toEqual([]);
  });

  it('turns a nullable anyOf (zod .nullable()) into nullable, cleaning the branch', () => {
    expect(toGeminiSchema({ anyOf: [{ type: 'string', $id: 'x' }, { type: 'null' }], examples: ['a'] })).toEqual({
      type: 'string',
      nullable: true,
    });
    expect(toGeminiSchema({ oneOf: [{ type: 'string' }, { type: 'integer' }] })).toEqual({
      anyOf: [{ type: 'string' }, { type: 'integer' }],
    });
  });

  it('rewrites type lists, merges allOf and removes what Gemini has no equivalent for', () => {
    expect(toGeminiSchema({ type: ['string', 'null'], description: 'd' })).toEqual({ type: 'string', nullable: true, description: 'd' });
    expect(toGeminiSchema({ type: ['string', 'number'] })).toEqual({ anyOf: [{ type: 'string' }, { type: 'number' }] });
    expect(
      toGeminiSchema({
        allOf: [
          { type: 'object', properties: { a: { type: 'string' } } },
          { properties: { b: { type: ['integer', 'null'] } }, required: ['b'] },
        ],
      }),
    ).toEqual({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer', nullable: true } }, required: ['b'] });
    expect(toGeminiSchema({ type: 'object', $defs: { x: {} }, not: { type: 'null' }, properties: { r: { $ref: '#/$defs/x' } } })).toEqual({
      type: 'object',
      properties: { r: {} },
    });
  });
});
