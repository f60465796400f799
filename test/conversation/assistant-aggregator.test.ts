import { describe, expect, it } from 'vitest';
import { AssistantAggregator } from '../../src/conversation/assistant-aggregator.js';
import { Conversation } from '../../src/conversation/conversation.js';
import { makeFrame, type Frame } from '../../src/frames/index.js';
import { LLMContext } from '../../src/llm/context.js';
import { FrameCollector } from '../../src/testing/frame-collector.js';
import { recordingLogger, type LogRecord } from '../pipeline/helpers.js';

interface Turn {
  text: string;
  interrupted: boolean;
}

function setup(options: { throwInCallback?: boolean } = {}) {
  const context = new LLMContext([{ role: 'system', content: 'Be brief.' }]);
  context.addUserMessage('Hi');
  const turns: Turn[] = [];
  const logs: LogRecord[] = [];
  const conversation = new Conversation({
    context,
    logger: recordingLogger(logs),
    onAssistantTurn: (text, interrupted) => {
      turns.push({ text, interrupted });
      if (options.throwInCallback === true) throw new Error('callback failed');
    },
  });
  const aggregator = new AssistantAggregator({ conversation });
  aggregator.setup({ observers: [], logger: recordingLogger(logs) });
  const collector = new FrameCollector();
  aggregator.link(collector);
  const send = (...frames: Frame[]): void => {
    for (const frame of frames) void aggregator.queueFrame(frame);
  };
  const assistantMessages = (): string[] => context.messages.filter((m) => m.role === 'assistant').map((m) => m.content);
  return { context, conversation, turns, logs, aggregator, collector, send, assistantMessages };
}

const said = (text: string, unheard?: string): Frame =>
  makeFrame('tts-text', unheard === undefined ? { text } : { text, unheard });

describe('AssistantAggregator: committing what was heard', () => {
  it('commits the heard words at the end of the response, and passes every frame on', () => {
    const { send, turns, collector, context, assistantMessages } = setup();
    const frames = [makeFrame('llm-response-start'), said('Hello,'), said('how can'), said('I help?'), makeFrame('llm-response-end')];
    send(...frames);
    expect(assistantMessages()).toEqual(['Hello, how can I help?']);
    expect(context.messages.at(-1)).toEqual({ role: 'assistant', content: 'Hello, how can I help?' });
    expect(turns).toEqual([{ text: 'Hello, how can I help?', interrupted: false }]);
    expect(collector.downstream).toEqual(frames);
  });

  it('the history has each word as soon as it is heard; the assistant turn is reported when it ends', () => {
    const { send, turns, assistantMessages } = setup();
    send(said('Hello'));
    expect(assistantMessages()).toEqual(['Hello']);
    send(said('there'));
    expect(assistantMessages()).toEqual(['Hello there']);
    expect(turns).toEqual([]);
    send(makeFrame('llm-response-end'));
    expect(turns).toEqual([{ text: 'Hello there', interrupted: false }]);
  });

  it.each(['tts-stopped', 'bot-stopped-speaking', 'end', 'cancel'] as const)('commits on %s (not interrupted)', (type) => {
    const { send, turns, assistantMessages } = setup();
    send(said('One moment.'), type === 'tts-stopped' ? makeFrame('tts-stopped', {}) : makeFrame(type));
    expect(assistantMessages()).toEqual(['One moment.']);
    expect(turns).toEqual([{ text: 'One moment.', interrupted: false }]);
  });

  it('commits on an interruption, marked as interrupted', () => {
    const { send, turns, assistantMessages, collector } = setup();
    send(said('I was saying'), makeFrame('interruption'));
    expect(assistantMessages()).toEqual(['I was saying']);
    expect(turns).toEqual([{ text: 'I was saying', interrupted: true }]);
    expect(collector.types()).toEqual(['tts-text', 'interruption']);
  });

  it('each ending commits only what came since the last one', () => {
    const { send, turns, assistantMessages } = setup();
    send(said('First.'), makeFrame('tts-stopped', {}), makeFrame('bot-stopped-speaking'), makeFrame('llm-response-end'));
    send(said('Second.'), makeFrame('llm-response-end'));
    expect(turns).toEqual([
      { text: 'First.', interrupted: false },
      { text: 'Second.', interrupted: false },
    ]);
    // Consecutive assistant texts form one message in the context.
    expect(assistantMessages()).toEqual(['First. Second.']);
  });

  it('blank texts are ignored and texts are trimmed', () => {
    const { send, turns, assistantMessages } = setup();
    send(said('  '), said(''), makeFrame('llm-response-end'));
    expect(turns).toEqual([]);
    send(said('  Hi  '), said('\nthere\n'), makeFrame('llm-response-end'));
    expect(assistantMessages()).toEqual(['Hi there']);
  });

  it('an ending with nothing heard adds nothing', () => {
    const { send, turns, context } = setup();
    const before = context.messages.length;
    send(makeFrame('llm-response-start'), makeFrame('llm-response-end'), makeFrame('interruption'), makeFrame('bot-stopped-speaking'));
    expect(context.messages).toHaveLength(before);
    expect(turns).toEqual([]);
  });

  it('ignores upstream frames (and passes them upstream)', () => {
    const { aggregator, turns, assistantMessages } = setup();
    const before = new FrameCollector();
    before.link(aggregator);
    void aggregator.queueFrame(said('not heard downstream'), 'upstream');
    void aggregator.queueFrame(makeFrame('llm-response-end'), 'upstream');
    expect(assistantMessages()).toEqual([]);
    expect(turns).toEqual([]);
    expect(before.upstream.map((f) => f.type)).toEqual(['tts-text', 'llm-response-end']);
  });
});

describe('AssistantAggregator: interruptions and unheard text', () => {
  it('a tts-text carrying `unheard` commits the heard part at once, as interrupted', () => {
    const { conversation, send, turns, assistantMessages } = setup();
    send(said('Your order'), said('will arrive', 'on Monday at noon.'));
    expect(assistantMessages()).toEqual(['Your order will arrive']);
    expect(turns).toEqual([{ text: 'Your order will arrive', interrupted: true }]);
    expect(conversation.unheardText).toBe('on Monday at noon.');
    // The frames the transport sends next add nothing.
    send(makeFrame('bot-stopped-speaking'), makeFrame('interruption'), makeFrame('llm-response-end'));
    expect(turns).toHaveLength(1);
    expect(assistantMessages()).toEqual(['Your order will arrive']);
  });

  it('interrupted before a word was heard: nothing committed, the unheard text kept', () => {
    const { conversation, send, turns, assistantMessages } = setup();
    send(said('', 'Hello there, how are you?'), makeFrame('interruption'));
    expect(assistantMessages()).toEqual([]);
    expect(turns).toEqual([]);
    expect(conversation.unheardText).toBe('Hello there, how are you?');
  });

  it('unheardText is undefined until an interruption, and cleared once the bot speaks again', () => {
    const { conversation, send } = setup();
    expect(conversation.unheardText).toBeUndefined();
    send(said('Hello'), makeFrame('llm-response-end'));
    expect(conversation.unheardText).toBeUndefined();
    send(said('The weather', 'is sunny today.'));
    expect(conversation.unheardText).toBe('is sunny today.');
    send(makeFrame('interruption'), makeFrame('bot-stopped-speaking'));
    expect(conversation.unheardText).toBe('is sunny today.');
    send(said('Sure.'));
    expect(conversation.unheardText).toBeUndefined();
  });

  it('a later interruption replaces the unheard text', () => {
    const { conversation, send, turns } = setup();
    send(said('A', 'b c'));
    send(said('D', 'e f'));
    expect(conversation.unheardText).toBe('e f');
    expect(turns).toEqual([
      { text: 'A', interrupted: true },
      { text: 'D', interrupted: true },
    ]);
  });
});

describe('AssistantAggregator: robustness', () => {
  it('an onAssistantTurn that throws is logged; the message is kept and frames flow on', () => {
    const { send, logs, assistantMessages, collector } = setup({ throwInCallback: true });
    send(said('Hello.'), makeFrame('llm-response-end'), said('Again.'), makeFrame('llm-response-end'));
    expect(assistantMessages()).toEqual(['Hello. Again.']);
    expect(logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      'onAssistantTurn callback threw; ignored',
      'onAssistantTurn callback threw; ignored',
    ]);
    expect(collector.types()).toEqual(['tts-text', 'llm-response-end', 'tts-text', 'llm-response-end']);
  });

  it('works without a callback', () => {
    const context = new LLMContext();
    const aggregator = new AssistantAggregator({ conversation: new Conversation({ context }) });
    void aggregator.queueFrame(said('Hi.'));
    void aggregator.queueFrame(makeFrame('llm-response-end'));
    expect(context.messages).toEqual([{ role: 'assistant', content: 'Hi.' }]);
    expect(aggregator.name).toBe('assistant-turns');
  });
});
