// The call's history in the order the caller lived it: what the model said before a tool call, the filler said
// while it ran, the results and the answer after them — whatever order the LLM side and the playback side report
// them in.
import { describe, expect, it } from 'vitest';
import { Conversation } from '../../src/conversation/conversation.js';
import type { LLMToolCall } from '../../src/frames/index.js';
import { LLMContext } from '../../src/llm/context.js';

const weatherCall: LLMToolCall = { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' };
const weatherResult = { toolCallId: 'call_1', name: 'get_weather', content: '{"temp_c":18}' };

function start(): { conversation: Conversation; context: LLMContext } {
  const context = new LLMContext([{ role: 'system', content: 'Be brief.' }]);
  const conversation = new Conversation({ context });
  conversation.commitUserTurn('What is the weather in Paris?');
  return { conversation, context };
}

describe('Conversation history order', () => {
  it('words said before a tool call and a filler said while it ran come before its results, the answer after them', () => {
    const { conversation, context } = start();
    // The LLM side runs ahead of playback: the call and its result are known before a word of the reply is heard.
    conversation.toolCallsMade(101, [weatherCall]);
    conversation.toolResultsReady(101, [weatherResult]);
    // Playback: response 101's words, the filler said while the tool ran, then response 102 (after the results).
    conversation.responseHeard(101);
    conversation.heard('Let me check.');
    conversation.heard('One moment, please.');
    conversation.responseHeard(102);
    conversation.heard('It is 18 degrees.');
    expect(context.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is the weather in Paris?' },
      { role: 'assistant', content: 'Let me check. One moment, please.', toolCalls: [weatherCall] },
      { role: 'tool', toolCallId: 'call_1', name: 'get_weather', content: '{"temp_c":18}' },
      { role: 'assistant', content: 'It is 18 degrees.' },
    ]);
  });

  it('words heard before the tools were recorded get the calls added to their message', () => {
    const { conversation, context } = start();
    conversation.responseHeard(7);
    conversation.heard('Let me check.');
    conversation.toolCallsMade(7, [weatherCall]);
    conversation.toolResultsReady(7, [weatherResult]);
    expect(context.messages.slice(2)).toEqual([
      { role: 'assistant', content: 'Let me check.', toolCalls: [weatherCall] },
      { role: 'tool', toolCallId: 'call_1', name: 'get_weather', content: '{"temp_c":18}' },
    ]);
  });

  it('results that come after the next user turn still follow their call directly (providers require it)', () => {
    const { conversation, context } = start();
    conversation.toolCallsMade(5, [weatherCall]);
    conversation.commitUserTurn('Actually, never mind.');
    conversation.toolResultsReady(5, [weatherResult]);
    expect(context.messages.slice(2).map((m) => m.role)).toEqual(['assistant', 'tool', 'user']);
  });

  it('parallel calls of one response: results in call order after the one message', () => {
    const { conversation, context } = start();
    const second: LLMToolCall = { id: 'call_2', name: 'get_time', arguments: '{}' };
    conversation.toolCallsMade(9, [weatherCall, second]);
    conversation.toolResultsReady(9, [weatherResult, { toolCallId: 'call_2', name: 'get_time', content: '"noon"' }]);
    expect(context.messages.slice(2).map((m) => (m.role === 'tool' ? m.toolCallId : m.role))).toEqual([
      'assistant',
      'call_1',
      'call_2',
    ]);
  });

  it('text said outside a model response (greeting, say()) forms one message until the caller speaks', () => {
    const context = new LLMContext();
    const conversation = new Conversation({ context });
    conversation.heard('Hello!');
    conversation.heard('How can I help?');
    conversation.commitUserTurn('Hi.');
    conversation.heard('Are you still there?');
    expect(context.messages).toEqual([
      { role: 'assistant', content: 'Hello! How can I help?' },
      { role: 'user', content: 'Hi.' },
      { role: 'assistant', content: 'Are you still there?' },
    ]);
  });

  it('snapshots are immutable: later words do not change a snapshot already handed to a model', () => {
    const { conversation } = start();
    const snapshot = conversation.snapshot();
    conversation.responseHeard(1);
    conversation.heard('Sure.');
    expect(snapshot.messages).toHaveLength(2);
    expect(conversation.snapshot().messages).toHaveLength(3);
  });
});

describe('Conversation speaking state', () => {
  it('holds who is speaking once and tells listeners of each change', () => {
    const conversation = new Conversation();
    const changes: string[] = [];
    const off = conversation.onSpeakingChange((c) => changes.push(`${c.who}:${c.speaking}`));
    conversation.setBotSpeaking(true);
    conversation.setBotSpeaking(true); // no change, no event
    conversation.setUserSpeaking(true);
    conversation.setBotSpeaking(false);
    off();
    conversation.setUserSpeaking(false);
    expect(changes).toEqual(['bot:true', 'user:true', 'bot:false']);
    expect(conversation.userSpeaking).toBe(false);
  });
});
