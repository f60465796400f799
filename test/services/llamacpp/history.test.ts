import { describe, expect, it } from 'vitest';
import { toChatHistory } from '../../../src/services/llamacpp/history.js';

describe('toChatHistory', () => {
  it('maps roles, and puts each tool result into the function call of its id', () => {
    expect(
      toChatHistory([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Lyon and Paris?' },
        {
          role: 'assistant',
          content: 'Checking.',
          toolCalls: [
            { id: 'a', name: 'get_weather', arguments: '{"city":"Lyon"}' },
            { id: 'b', name: 'get_weather', arguments: '{"city":"Paris"}' },
          ],
        },
        { role: 'tool', toolCallId: 'b', name: 'get_weather', content: '{"tempC":25}' },
        { role: 'tool', toolCallId: 'a', name: 'get_weather', content: 'sunny' },
        { role: 'assistant', content: 'Lyon is sunny, Paris 25.' },
      ]),
    ).toEqual([
      { type: 'system', text: 'Be brief.' },
      { type: 'user', text: 'Weather in Lyon and Paris?' },
      {
        type: 'model',
        response: [
          'Checking.',
          { type: 'functionCall', name: 'get_weather', params: { city: 'Lyon' }, result: 'sunny' },
          { type: 'functionCall', name: 'get_weather', params: { city: 'Paris' }, result: { tempC: 25 } },
        ],
      },
      { type: 'model', response: ['Lyon is sunny, Paris 25.'] },
    ]);
  });

  it('a result without its call becomes a user line; a call without a result returned null; bad JSON stays text', () => {
    expect(
      toChatHistory([
        { role: 'tool', toolCallId: 'gone', name: 'lookup', content: 'order 12 shipped' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'x', name: 'hang_up', arguments: 'not json' }] },
      ]),
    ).toEqual([
      { type: 'user', text: '(The tool lookup returned: order 12 shipped)' },
      { type: 'model', response: [{ type: 'functionCall', name: 'hang_up', params: 'not json', result: null }] },
    ]);
  });
});
