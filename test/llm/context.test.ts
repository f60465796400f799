import { describe, expect, it } from 'vitest';
import type { LLMContextSnapshot, LLMMessage, LLMToolCall, LLMToolDefinition } from '../../src/frames/index.js';
import { LLMContext } from '../../src/llm/context.js';

const tool: LLMToolDefinition = { name: 'end_call', description: 'Hang up.', parameters: { type: 'object', properties: {} } };
const system: LLMMessage = { role: 'system', content: 'Be brief.' };

describe('LLMContext: construction', () => {
  it('starts empty by default', () => {
    const context = new LLMContext();
    expect(context.messages).toEqual([]);
    expect(context.tools).toEqual([]);
  });

  it('copies the arrays it is given', () => {
    const messages: LLMMessage[] = [system];
    const tools = [tool];
    const context = new LLMContext(messages, tools);
    messages.push({ role: 'user', content: 'hi' });
    tools.pop();
    expect(context.messages).toEqual([system]);
    expect(context.tools).toEqual([tool]);
  });

  it('setTools replaces the tools with a copy', () => {
    const context = new LLMContext([], [tool]);
    const tools: LLMToolDefinition[] = [];
    context.setTools(tools);
    tools.push(tool);
    expect(context.tools).toEqual([]);
  });

  it('addMessage and addUserMessage append in order', () => {
    const context = new LLMContext([system]);
    context.addUserMessage('Hello');
    context.addMessage({ role: 'assistant', content: 'Hi!' });
    context.addUserMessage('Hello');
    expect(context.messages).toEqual([
      system,
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi!' },
      { role: 'user', content: 'Hello' },
    ]);
  });
});

describe('LLMContext.addAssistantMessage', () => {
  it('trims, and ignores blank text', () => {
    const context = new LLMContext();
    context.addAssistantMessage('');
    context.addAssistantMessage('   \n ');
    expect(context.messages).toEqual([]);
    context.addAssistantMessage('  Hello there. ');
    expect(context.messages).toEqual([{ role: 'assistant', content: 'Hello there.' }]);
  });

  it('merges consecutive assistant texts into one message', () => {
    const context = new LLMContext();
    context.addUserMessage('Hi');
    context.addAssistantMessage('Hello.');
    context.addAssistantMessage('How can I help?');
    context.addAssistantMessage(' ');
    context.addAssistantMessage('I am here.');
    expect(context.messages).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello. How can I help? I am here.' },
    ]);
  });

  it('does not merge across a user message or into a tool-call message', () => {
    const context = new LLMContext();
    context.addAssistantMessage('One.');
    context.addUserMessage('Two.');
    context.addAssistantMessage('Three.');
    const call: LLMToolCall = { id: 'c1', name: 'end_call', arguments: '{}' };
    context.addMessage({ role: 'assistant', content: '', toolCalls: [call] });
    context.addAssistantMessage('Four.');
    expect(context.messages.map((m) => m.content)).toEqual(['One.', 'Two.', 'Three.', '', 'Four.']);
    expect(context.messages[3]).toEqual({ role: 'assistant', content: '', toolCalls: [call] });
  });

  it('merging replaces the message object: earlier snapshots keep the old text', () => {
    const context = new LLMContext();
    context.addAssistantMessage('Hello.');
    const before = context.snapshot();
    const first = context.messages[0];
    context.addAssistantMessage('More.');
    expect(before.messages).toEqual([{ role: 'assistant', content: 'Hello.' }]);
    expect(first).toEqual({ role: 'assistant', content: 'Hello.' });
    expect(context.messages[0]).toEqual({ role: 'assistant', content: 'Hello. More.' });
  });
});

describe('LLMContext.addToolExchange', () => {
  const calls: LLMToolCall[] = [
    { id: 'a', name: 'get_weather', arguments: '{"city":"Pune"}' },
    { id: 'b', name: 'get_time', arguments: '{}' },
    { id: 'c', name: 'end_call', arguments: '' },
  ];

  it('adds the calls then one result per call, adjacent and in call order whatever the result order', () => {
    const context = new LLMContext([system]);
    context.addUserMessage('Weather and time?');
    context.addToolExchange(calls, [
      { toolCallId: 'c', content: 'ended' },
      { toolCallId: 'a', content: '{"tempC":30}' },
      { toolCallId: 'b', content: '10:00' },
    ]);
    expect(context.messages.slice(2)).toEqual([
      { role: 'assistant', content: '', toolCalls: calls },
      { role: 'tool', toolCallId: 'a', name: 'get_weather', content: '{"tempC":30}' },
      { role: 'tool', toolCallId: 'b', name: 'get_time', content: '10:00' },
      { role: 'tool', toolCallId: 'c', name: 'end_call', content: 'ended' },
    ]);
  });

  it('a missing result gets an error placeholder (providers need one result per call)', () => {
    const context = new LLMContext();
    context.addToolExchange(calls, [{ toolCallId: 'b', content: 'ok' }, { toolCallId: 'zzz', content: 'stray' }]);
    expect(context.messages.slice(1)).toEqual([
      { role: 'tool', toolCallId: 'a', name: 'get_weather', content: '{"error":"no result"}' },
      { role: 'tool', toolCallId: 'b', name: 'get_time', content: 'ok' },
      { role: 'tool', toolCallId: 'c', name: 'end_call', content: '{"error":"no result"}' },
    ]);
    expect(context.messages.some((m) => m.content === 'stray')).toBe(false);
  });

  it('copies the calls array', () => {
    const context = new LLMContext();
    const mine = [...calls];
    context.addToolExchange(mine, []);
    mine.pop();
    const first = context.messages[0];
    expect(first?.role === 'assistant' ? first.toolCalls : undefined).toHaveLength(3);
  });

  it('an assistant text after a tool exchange starts a new message', () => {
    const context = new LLMContext();
    context.addToolExchange([calls[0]!], [{ toolCallId: 'a', content: 'sunny' }]);
    context.addAssistantMessage('It is sunny.');
    expect(context.messages.at(-1)).toEqual({ role: 'assistant', content: 'It is sunny.' });
    expect(context.messages).toHaveLength(3);
  });
});

describe('LLMContext.snapshot and from', () => {
  it('a snapshot does not change when the context does', () => {
    const context = new LLMContext([system], [tool]);
    context.addUserMessage('Hi');
    const snap = context.snapshot();
    context.addUserMessage('Again');
    context.addAssistantMessage('Reply');
    context.setTools([]);
    expect(snap.messages).toEqual([system, { role: 'user', content: 'Hi' }]);
    expect(snap.tools).toEqual([tool]);
    expect(snap).not.toBeInstanceOf(LLMContext);
  });

  it('from a plain snapshot copies it', () => {
    const plain: LLMContextSnapshot = { messages: [system], tools: [tool] };
    const context = LLMContext.from(plain);
    expect(context).toBeInstanceOf(LLMContext);
    expect(context.messages).toEqual([system]);
    expect(context.tools).toEqual([tool]);
    context.addUserMessage('Hi');
    expect(plain.messages).toEqual([system]);
  });

  it("from an LLMContext copies it too: nothing but the call's Conversation writes its context", () => {
    const context = new LLMContext([system]);
    const copy = LLMContext.from(context);
    expect(copy).not.toBe(context);
    copy.addUserMessage('only in the copy');
    expect(context.messages).toEqual([system]);
  });

  it('replaceMessage and insertMessages work by position and refuse positions outside the history', () => {
    const context = new LLMContext([system, { role: 'user', content: 'Hi' }]);
    context.replaceMessage(1, { role: 'user', content: 'Hello' });
    context.insertMessages(1, [{ role: 'assistant', content: 'Welcome.' }]);
    expect(context.messages.map((m) => m.content)).toEqual([system.content, 'Welcome.', 'Hello']);
    expect(() => context.replaceMessage(3, { role: 'user', content: 'x' })).toThrow(RangeError);
    expect(() => context.insertMessages(4, [])).toThrow(RangeError);
  });

  it('from a snapshot of a context gives an independent copy', () => {
    const context = new LLMContext([system]);
    const copy = LLMContext.from(context.snapshot());
    copy.addUserMessage('only in the copy');
    expect(context.messages).toEqual([system]);
    expect(copy.messages).toHaveLength(2);
  });
});
