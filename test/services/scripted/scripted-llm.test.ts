import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { LLMToolCall } from '../../../src/frames/index.js';
import { LLMContext } from '../../../src/llm/context.js';
import type { LLMStreamEvent } from '../../../src/services/base/llm-stream.js';
import { ScriptedLLMService, fillTemplate, type ScriptedRule } from '../../../src/services/scripted/scripted-llm.js';

function userSays(...texts: string[]): LLMContext {
  const context = new LLMContext([{ role: 'system', content: 'You are a test.' }]);
  for (const text of texts) context.addUserMessage(text);
  return context;
}

async function collect(llm: ScriptedLLMService, context: LLMContext, signal = new AbortController().signal): Promise<LLMStreamEvent[]> {
  const events: LLMStreamEvent[] = [];
  for await (const event of llm.streamCompletion(context.snapshot(), { signal })) events.push(event);
  return events;
}

const textOf = (events: readonly LLMStreamEvent[]): string =>
  events.map((e) => (e.type === 'text' ? e.text : '')).join('');
const toolCallsOf = (events: readonly LLMStreamEvent[]): LLMToolCall[] =>
  events.flatMap((e) => (e.type === 'tool-call' ? [e.toolCall] : []));

/** The context after the scripted model called tools: its tool calls and their results appended. */
function afterTools(context: LLMContext, results: { call: LLMToolCall; content: string }[]): LLMContext {
  context.addToolExchange(
    results.map((r) => r.call),
    results.map((r) => ({ toolCallId: r.call.id, content: r.content })),
  );
  return context;
}

describe('ScriptedLLMService: matching rules', () => {
  const rules: ScriptedRule[] = [
    { match: /\b(hi|hello)\b/i, reply: 'Hello! How can I help?' },
    { match: 'Transfer', reply: 'Connecting you now.' },
    { match: (text) => text.trim().endsWith('?'), reply: 'Good question.' },
    { match: /hello/i, reply: 'Never said: the first rule matches first.' },
  ];
  const llm = new ScriptedLLMService({ rules });

  it('a RegExp rule', async () => {
    expect(textOf(await collect(llm, userSays('hello there')))).toBe('Hello! How can I help?');
  });

  it('a substring rule, case-insensitive', async () => {
    expect(textOf(await collect(llm, userSays('please TRANSFER me to a human')))).toBe('Connecting you now.');
  });

  it('a predicate rule', async () => {
    expect(textOf(await collect(llm, userSays('what time is it?')))).toBe('Good question.');
  });

  it('the first matching rule wins', async () => {
    // Matches rules 0, 2 and 3.
    expect(textOf(await collect(llm, userSays('Hello, can you transfer me?')))).toBe('Hello! How can I help?');
    // Rules 1 and 2.
    expect(textOf(await collect(llm, userSays('can you transfer me?')))).toBe('Connecting you now.');
  });

  it('answers the last user message', async () => {
    expect(textOf(await collect(llm, userSays('hello', 'transfer please')))).toBe('Connecting you now.');
  });

  it('no rule matches: the fallback, default or given', async () => {
    expect(textOf(await collect(llm, userSays('blue elephants')))).toBe(
      "I'm sorry, I didn't quite catch that. Could you say it again?",
    );
    const custom = new ScriptedLLMService({ rules, fallback: 'Say again?' });
    expect(textOf(await collect(custom, userSays('blue elephants')))).toBe('Say again?');
    expect(textOf(await collect(custom, new LLMContext()))).toBe('Say again?');
  });

  it('a RegExp with the g or y flag still matches every turn and gives its groups', async () => {
    const sticky = new ScriptedLLMService({
      rules: [{ match: /order (\d+)/gy, toolCall: { name: 'lookup', arguments: (_t, m) => ({ id: m?.[1] }) } }],
    });
    for (let i = 0; i < 2; i++) {
      const [call] = toolCallsOf(await collect(sticky, userSays('order 123 please')));
      expect(call?.arguments).toBe('{"id":"123"}');
    }
    const global = new ScriptedLLMService({
      rules: [{ match: /order (\d+)/g, toolCall: { name: 'lookup', arguments: (_t, m) => ({ id: m?.[1], at: m?.index }) } }],
    });
    const [call] = toolCallsOf(await collect(global, userSays('my order 77 and order 88')));
    expect(call?.arguments).toBe('{"id":"77","at":3}');
  });
});

describe('ScriptedLLMService: streaming', () => {
  const reply = 'Your order ships today,  and arrives   on Monday.';
  const llm = new ScriptedLLMService({ rules: [{ match: /order/, reply }] });

  it('streams the reply word by word, reassembling to the exact reply', async () => {
    const events = await collect(llm, userSays('where is my order'));
    const texts = events.filter((e) => e.type === 'text').map((e) => (e.type === 'text' ? e.text : ''));
    expect(texts).toEqual(['Your ', 'order ', 'ships ', 'today,  ', 'and ', 'arrives   ', 'on ', 'Monday.']);
    expect(texts.join('')).toBe(reply);
  });

  it('ends with a usage event: words as completion tokens, about 4 characters a prompt token', async () => {
    const context = userSays('where is my order');
    const events = await collect(llm, context);
    const chars = context.messages.reduce((n, m) => n + m.content.length, 0);
    expect(events.at(-1)).toEqual({ type: 'usage', promptTokens: Math.ceil(chars / 4), completionTokens: 8 });
    expect(events.filter((e) => e.type === 'usage')).toHaveLength(1);
  });

  it('paces the words with wordDelayMs', async () => {
    const slow = new ScriptedLLMService({ rules: [{ match: /./, reply: 'one two three four' }], wordDelayMs: 15 });
    const started = performance.now();
    expect(textOf(await collect(slow, userSays('x')))).toBe('one two three four');
    expect(performance.now() - started).toBeGreaterThanOrEqual(50);
  });

  it('leaves no abort listener behind, however long the reply', async () => {
    const words = Array.from({ length: 15 }, (_, i) => `w${i}`).join(' ');
    const slow = new ScriptedLLMService({ rules: [{ match: /./, reply: words }], wordDelayMs: 1 });
    const controller = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      expect(textOf(await collect(slow, userSays('x'), controller.signal))).toBe(words);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});

describe('ScriptedLLMService: abort', () => {
  const rule: ScriptedRule = {
    match: /./,
    reply: 'one two three four five six',
    toolCall: { name: 'end_call', arguments: {} },
  };

  it('aborting stops the stream: no more words, no tool call, no usage', async () => {
    const llm = new ScriptedLLMService({ rules: [rule], wordDelayMs: 2 });
    const controller = new AbortController();
    const events: LLMStreamEvent[] = [];
    for await (const event of llm.streamCompletion(userSays('x').snapshot(), { signal: controller.signal })) {
      events.push(event);
      if (events.length === 2) controller.abort();
    }
    expect(events).toEqual([
      { type: 'text', text: 'one ' },
      { type: 'text', text: 'two ' },
    ]);
  });

  it('aborted during the pause before a word: that word does not come', async () => {
    const llm = new ScriptedLLMService({ rules: [rule], wordDelayMs: 200 });
    const controller = new AbortController();
    const iterator = llm.streamCompletion(userSays('x').snapshot(), { signal: controller.signal })[Symbol.asyncIterator]();
    const started = performance.now();
    setTimeout(() => controller.abort(), 10);
    const next = await iterator.next();
    expect(next).toEqual({ done: true, value: undefined });
    expect(performance.now() - started).toBeLessThan(150);
  });

  it('already aborted: nothing at all', async () => {
    const llm = new ScriptedLLMService({ rules: [rule] });
    const controller = new AbortController();
    controller.abort();
    expect(await collect(llm, userSays('x'), controller.signal)).toEqual([]);
  });

  it('without a word delay, an abort between words is seen at the next word', async () => {
    const llm = new ScriptedLLMService({ rules: [rule] });
    const controller = new AbortController();
    const events: LLMStreamEvent[] = [];
    for await (const event of llm.streamCompletion(userSays('x').snapshot(), { signal: controller.signal })) {
      events.push(event);
      controller.abort();
    }
    expect(events).toEqual([{ type: 'text', text: 'one ' }]);
  });
});

describe('ScriptedLLMService: tool calls', () => {
  it('a rule with a reply and static arguments: the words, then the call', async () => {
    const llm = new ScriptedLLMService({
      rules: [{ match: 'human', reply: 'Let me connect you.', toolCall: { name: 'transfer_call', arguments: { mode: 'warm' } } }],
    });
    const events = await collect(llm, userSays('a human please'));
    expect(events.map((e) => e.type)).toEqual(['text', 'text', 'text', 'text', 'tool-call', 'usage']);
    const [call] = toolCallsOf(events);
    expect(call).toEqual({ id: expect.stringMatching(/^call_0_\d+$/) as unknown, name: 'transfer_call', arguments: '{"mode":"warm"}' });
  });

  it('a tool call without a reply or arguments', async () => {
    const llm = new ScriptedLLMService({ rules: [{ match: 'bye', toolCall: { name: 'end_call' } }] });
    const events = await collect(llm, userSays('bye'));
    expect(textOf(events)).toBe('');
    expect(toolCallsOf(events)).toEqual([{ id: expect.any(String) as unknown, name: 'end_call', arguments: '{}' }]);
    expect(events.at(-1)).toMatchObject({ type: 'usage', completionTokens: 0 });
  });

  it('arguments from a function of the words and the RegExp match', async () => {
    const seen: [string, RegExpMatchArray | null][] = [];
    const llm = new ScriptedLLMService({
      rules: [
        {
          match: /order (?<id>[A-Z]\d+) to (\w+)/i,
          toolCall: {
            name: 'redirect',
            arguments: (text, match) => {
              seen.push([text, match]);
              return { orderId: match?.groups?.id, city: match?.[2] };
            },
          },
        },
        { match: 'weather', toolCall: { name: 'weather', arguments: (text, match) => ({ text, match }) } },
      ],
    });
    const [call] = toolCallsOf(await collect(llm, userSays('send order B42 to Chennai please')));
    expect(JSON.parse(call!.arguments)).toEqual({ orderId: 'B42', city: 'Chennai' });
    expect(seen[0]![0]).toBe('send order B42 to Chennai please');
    const [weather] = toolCallsOf(await collect(llm, userSays('weather?')));
    expect(JSON.parse(weather!.arguments)).toEqual({ text: 'weather?', match: null });
  });

  it('each call gets a new id carrying its rule index', async () => {
    const llm = new ScriptedLLMService({
      rules: [
        { match: 'a', reply: 'no tool' },
        { match: 'b', toolCall: { name: 't' } },
      ],
    });
    const [first] = toolCallsOf(await collect(llm, userSays('b')));
    const [second] = toolCallsOf(await collect(llm, userSays('b')));
    expect(first!.id).toMatch(/^call_1_\d+$/);
    expect(second!.id).toMatch(/^call_1_\d+$/);
    expect(second!.id).not.toBe(first!.id);
  });
});

describe('ScriptedLLMService: answering after tools', () => {
  const rules: ScriptedRule[] = [
    {
      match: 'order',
      reply: 'Let me check.',
      toolCall: { name: 'lookup_order', arguments: { id: 'A1' } },
      afterTool: 'Your order is {result.status} and arrives on {result.eta.day}.',
    },
    { match: 'time', toolCall: { name: 'get_time' }, afterTool: 'It is {result}.' },
    { match: 'count', toolCall: { name: 'count' }, afterTool: (result) => `Counted ${JSON.stringify(result)}.` },
    { match: 'silent', toolCall: { name: 'silent' } },
  ];
  const llm = new ScriptedLLMService({ rules });

  /** Runs one user turn: the scripted model's tool call, then the context with the given result. */
  async function callThenResult(service: ScriptedLLMService, text: string, content: string): Promise<string> {
    const context = userSays(text);
    const [call] = toolCallsOf(await collect(service, context));
    return textOf(await collect(service, afterTools(context, [{ call: call!, content }])));
  }

  it('fills {result.a.b} from a JSON result', async () => {
    const content = JSON.stringify({ status: 'shipped', eta: { day: 'Monday' } });
    expect(await callThenResult(llm, 'my order', content)).toBe('Your order is shipped and arrives on Monday.');
  });

  it('fills {result} with a text result as it is', async () => {
    expect(await callThenResult(llm, 'what time', '10:30')).toBe('It is 10:30.');
  });

  it('a function afterTool gets the parsed result', async () => {
    expect(await callThenResult(llm, 'count', '[1,2,3]')).toBe('Counted [1,2,3].');
  });

  it('no afterTool: "Done."', async () => {
    expect(await callThenResult(llm, 'silent', '{"status":"done"}')).toBe('Done.');
  });

  it('several results: one reply each, in call order', async () => {
    const context = userSays('order and time');
    const calls: LLMToolCall[] = [
      { id: 'call_1_901', name: 'get_time', arguments: '{}' },
      { id: 'call_3_902', name: 'silent', arguments: '{}' },
      { id: 'call_0_903', name: 'lookup_order', arguments: '{}' },
    ];
    afterTools(context, [
      { call: calls[0]!, content: 'noon' },
      { call: calls[1]!, content: 'ok' },
      { call: calls[2]!, content: '{"status":"packed","eta":{"day":"Friday"}}' },
    ]);
    expect(textOf(await collect(llm, context))).toBe('It is noon. Your order is packed and arrives on Friday.');
  });

  it('an error result: the tool error reply, default or given', async () => {
    const error = JSON.stringify({ error: 'the tool lookup_order did not answer within 10 s' });
    expect(await callThenResult(llm, 'my order', error)).toBe(
      "I'm sorry, something went wrong while I was doing that. Is there anything else I can help with?",
    );
    const custom = new ScriptedLLMService({ rules, toolErrorReply: 'That did not work.' });
    expect(await callThenResult(custom, 'my order', error)).toBe('That did not work.');
  });

  it('a result that merely has an error field among others is not an error', async () => {
    const content = JSON.stringify({ status: 'delayed', eta: { day: 'Tuesday' }, error: null });
    expect(await callThenResult(llm, 'my order', content)).toBe('Your order is delayed and arrives on Tuesday.');
  });

  it('results of calls it did not make (unknown ids) are skipped', async () => {
    const context = afterTools(userSays('hi'), [{ call: { id: 'abc', name: 'x', arguments: '{}' }, content: 'r' }]);
    expect(textOf(await collect(llm, context))).toBe('Done.');
  });
});

describe('ScriptedLLMService: parallel tool calls (toolCalls)', () => {
  const rules: ScriptedRule[] = [
    { match: 'time', toolCall: { name: 'get_time' }, afterTool: 'It is {result}.' },
    {
      match: /weather and forecast in (\w+)/i,
      reply: 'Let me check.',
      toolCalls: [
        { name: 'get_weather', arguments: (_text, match) => ({ city: match?.[1] }) },
        { name: 'get_forecast', arguments: (_text, match) => ({ city: match?.[1], days: 3 }) },
      ],
      afterTool: '{result.0.summary} {result.1.summary}',
    },
    {
      match: 'both',
      toolCalls: [{ name: 'a', arguments: { n: 1 } }, { name: 'b' }],
      afterTool: (results) => `Got ${JSON.stringify(results)}.`,
    },
    { match: 'quiet', toolCalls: [{ name: 'a' }, { name: 'b' }] },
  ];
  const llm = new ScriptedLLMService({ rules });

  it('one response carries every call, in order, after the words; ids share the response and give the position', async () => {
    const events = await collect(llm, userSays('the weather and forecast in Paris'));
    expect(events.map((e) => e.type)).toEqual(['text', 'text', 'text', 'tool-call', 'tool-call', 'usage']);
    expect(textOf(events)).toBe('Let me check.');
    const calls = toolCallsOf(events);
    expect(calls.map((c) => [c.name, JSON.parse(c.arguments) as unknown])).toEqual([
      ['get_weather', { city: 'Paris' }],
      ['get_forecast', { city: 'Paris', days: 3 }],
    ]);
    const [first, second] = calls.map((c) => /^call_1_(\d+)_(\d)$/.exec(c.id));
    expect(first?.[2]).toBe('0');
    expect(second?.[2]).toBe('1');
    expect(first?.[1]).toBe(second?.[1]);
    const [next] = toolCallsOf(await collect(llm, userSays('the weather and forecast in Paris')));
    expect(next!.id).not.toBe(calls[0]!.id);
  });

  /** One user turn: the scripted model's calls, then the context with their results (given by tool name). */
  async function callsThenResults(text: string, contentOf: (call: LLMToolCall) => string, order?: (calls: LLMToolCall[]) => LLMToolCall[]): Promise<string> {
    const context = userSays(text);
    const calls = toolCallsOf(await collect(llm, context));
    const answered = order === undefined ? calls : order(calls);
    return textOf(await collect(llm, afterTools(context, answered.map((call) => ({ call, content: contentOf(call) })))));
  }

  const weatherResults = (call: LLMToolCall): string =>
    JSON.stringify({ summary: call.name === 'get_weather' ? 'It is sunny in Paris.' : 'Rain is due on Friday.' });

  it('afterTool is said once, with the list of results in the order of the calls', async () => {
    expect(await callsThenResults('weather and forecast in Paris', weatherResults)).toBe('It is sunny in Paris. Rain is due on Friday.');
  });

  it('results appended in another order still fill their own positions', async () => {
    expect(await callsThenResults('weather and forecast in Paris', weatherResults, (calls) => [...calls].reverse())).toBe(
      'It is sunny in Paris. Rain is due on Friday.',
    );
  });

  it('a function afterTool gets the list of parsed results', async () => {
    expect(await callsThenResults('both', (call) => (call.name === 'a' ? '{"x":1}' : 'plain'))).toBe('Got [{"x":1},"plain"].');
  });

  it('no afterTool: "Done."', async () => {
    expect(await callsThenResults('quiet', () => 'ok')).toBe('Done.');
  });

  it('one failed call: the tool error reply', async () => {
    expect(await callsThenResults('both', (call) => (call.name === 'a' ? '{"error":"down"}' : 'fine'))).toBe(
      "I'm sorry, something went wrong while I was doing that. Is there anything else I can help with?",
    );
  });

  it('alongside single calls in the same exchange: one reply per single call, one for the group, in order', async () => {
    const context = userSays('time and both');
    const calls: LLMToolCall[] = [
      { id: 'call_0_900', name: 'get_time', arguments: '{}' },
      { id: 'call_2_901_0', name: 'a', arguments: '{}' },
      { id: 'call_2_901_1', name: 'b', arguments: '{}' },
    ];
    afterTools(context, [
      { call: calls[0]!, content: 'noon' },
      { call: calls[1]!, content: '1' },
      { call: calls[2]!, content: '2' },
    ]);
    expect(textOf(await collect(llm, context))).toBe('It is noon. Got [1,2].');
  });

  it('ids past the rule\'s calls are not its calls', async () => {
    const context = afterTools(userSays('both'), [
      { call: { id: 'call_2_950_0', name: 'a', arguments: '{}' }, content: '1' },
      { call: { id: 'call_2_950_7', name: 'z', arguments: '{}' }, content: '9' },
    ]);
    expect(textOf(await collect(llm, context))).toBe('Got [1,null].');
  });
});

describe('fillTemplate', () => {
  it('replaces {result} and {result.path}', () => {
    const result = { a: { b: 'deep', n: 3, list: ['x', 'y'] }, flag: false, none: null };
    expect(fillTemplate('{result.a.b}', result)).toBe('deep');
    expect(fillTemplate('{result.a.n} items', result)).toBe('3 items');
    expect(fillTemplate('{result.a.list.1}', result)).toBe('y');
    expect(fillTemplate('{result.a.list}', result)).toBe('["x","y"]');
    expect(fillTemplate('{result.flag}/{result.none}', result)).toBe('false/null');
    expect(fillTemplate('{result}', 'plain')).toBe('plain');
    expect(fillTemplate('{result}', { k: 1 })).toBe('{"k":1}');
    expect(fillTemplate('{result.k-1}', { 'k-1': 'dash' })).toBe('dash');
  });

  it('a missing field, or a path into a non-object, is empty', () => {
    expect(fillTemplate('[{result.missing}]', { a: 1 })).toBe('[]');
    expect(fillTemplate('[{result.a.b.c}]', { a: 1 })).toBe('[]');
    expect(fillTemplate('[{result.a}]', 'text')).toBe('[]');
    expect(fillTemplate('[{result}]', undefined)).toBe('[]');
  });

  it('never reaches inherited properties', () => {
    expect(fillTemplate('[{result.constructor}] [{result.toString}] [{result.__proto__}]', {})).toBe('[] [] []');
  });

  it('leaves other braces alone', () => {
    expect(fillTemplate('{results} {other} {result.}', { a: 1 })).toBe('{results} {other} {result.}');
  });
});

describe('ScriptedLLMService: construction', () => {
  it('refuses a rule with neither a reply nor a tool call', () => {
    expect(
      () => new ScriptedLLMService({ rules: [{ match: 'a', reply: 'ok' }, { match: 'b', afterTool: 'x' }] }),
    ).toThrow(new TypeError('ScriptedLLMService: rule 1 has neither a reply nor a tool call'));
  });

  it('refuses a rule with both toolCall and toolCalls, and counts an empty toolCalls as no tool call', () => {
    expect(
      () => new ScriptedLLMService({ rules: [{ match: 'a', toolCall: { name: 'x' }, toolCalls: [{ name: 'y' }] }] }),
    ).toThrow(new TypeError('ScriptedLLMService: rule 0 has both toolCall and toolCalls; use one'));
    expect(() => new ScriptedLLMService({ rules: [{ match: 'a', toolCalls: [] }] })).toThrow(
      new TypeError('ScriptedLLMService: rule 0 has neither a reply nor a tool call'),
    );
  });

  it('is labelled as scripted', () => {
    const llm = new ScriptedLLMService({ rules: [] });
    expect(llm.model).toBe('scripted');
    expect(llm.name).toBe('scripted-llm');
    expect(new ScriptedLLMService({ rules: [], model: 'rules-v2', name: 'brain' }).model).toBe('rules-v2');
  });
});
