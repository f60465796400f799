// DtmfAggregator and the Conversation it reports to, frame by frame on a VirtualClock: a collector after it records
// the keypad entries it sends on (llm-context); the conversation's controls record the interruptions.
import { afterEach, describe, expect, it } from 'vitest';
import { Conversation } from '../../src/conversation/conversation.js';
import { DtmfAggregator, describeKeys, type DtmfOptions } from '../../src/conversation/dtmf-aggregator.js';
import { makeFrame, type DtmfDigit, type Frame } from '../../src/frames/index.js';
import { LLMContext } from '../../src/llm/context.js';
import { silentLogger } from '../../src/logging/index.js';
import { FrameCollector } from '../../src/testing/frame-collector.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

interface Harness {
  aggregator: DtmfAggregator;
  conversation: Conversation;
  clock: VirtualClock;
  down: FrameCollector;
  said: string[];
  press(keys: string): void;
  send(frame: Frame): void;
  interruptions(): number;
  userMessages(): string[];
  entries(): string[];
}

const running: { aggregator: DtmfAggregator; conversation: Conversation }[] = [];

afterEach(async () => {
  for (const { aggregator, conversation } of running.splice(0)) {
    await aggregator.cleanup();
    conversation.close();
  }
});

function start(options: DtmfOptions & { allowInterruptions?: boolean } = {}): Harness {
  const { allowInterruptions, ...dtmf } = options;
  const clock = new VirtualClock();
  const context = new LLMContext([{ role: 'system', content: 'You are a test.' }]);
  const said: string[] = [];
  let interruptions = 0;
  const conversation = new Conversation({ context, clock, logger: silentLogger, allowInterruptions, falseInterruptionMs: 1000 });
  conversation.bind({
    interrupt: () => {
      interruptions++;
      if (conversation.botSpeaking) conversation.heard('Our opening', 'hours are nine to five.');
    },
    say: (text) => said.push(text),
  });
  const aggregator = new DtmfAggregator({ ...dtmf, conversation });
  const down = new FrameCollector({ name: 'down' });
  aggregator.link(down);
  for (const p of [aggregator, down]) p.setup({ observers: [], logger: silentLogger, clock });
  running.push({ aggregator, conversation });
  const send = (frame: Frame): void => void aggregator.queueFrame(frame);
  send(makeFrame('start', { audioInSampleRate: 16000, audioOutSampleRate: 8000, allowInterruptions: true, enableMetrics: false }));
  const userMessages = (): string[] => context.messages.filter((m) => m.role === 'user').map((m) => m.content);
  return {
    aggregator,
    conversation,
    clock,
    down,
    said,
    send,
    press: (keys) => [...keys].forEach((digit) => send(makeFrame('input-dtmf', { digit: digit as DtmfDigit }))),
    interruptions: () => interruptions,
    userMessages,
    // Each llm-context asks the model to answer the entry that was just added: its last user message.
    entries: () => down.ofType('llm-context').map((f) => f.context.messages.at(-1)?.content ?? ''),
  };
}

describe('DtmfAggregator: entries', () => {
  it('an entry ends at #, which is not part of it; the model reads the keys spaced out', () => {
    const h = start();
    h.press('123');
    expect(h.entries()).toEqual([]);
    expect(h.aggregator.pendingDigits).toBe('123');
    h.press('#');
    expect(h.userMessages()).toEqual(['The caller pressed: 1 2 3']);
    expect(h.entries()).toEqual(['The caller pressed: 1 2 3']);
    expect(h.aggregator.pendingDigits).toBe('');
    // The keys themselves pass on (a processor after it may want them).
    expect(h.down.ofType('input-dtmf').map((f) => f.digit)).toEqual(['1', '2', '3', '#']);
  });

  it('ends 3 s after the last key by default: each key restarts the wait', async () => {
    const h = start();
    h.press('4');
    await h.clock.advance(2900);
    h.press('2');
    await h.clock.advance(2999);
    expect(h.entries()).toEqual([]);
    await h.clock.advance(1);
    expect(h.entries()).toEqual(['The caller pressed: 4 2']);
    expect(h.clock.now()).toBe(5900);
    await h.clock.advance(10_000);
    expect(h.entries()).toHaveLength(1); // no timer left behind
  });

  it('timeoutMs, maxDigits and the terminator are configurable; null means no terminator', async () => {
    const menu = start({ maxDigits: 1, terminator: null });
    menu.press('2');
    expect(menu.entries()).toEqual(['The caller pressed: 2']);
    menu.press('#');
    expect(menu.entries()).toEqual(['The caller pressed: 2', 'The caller pressed: #']);

    const pin = start({ terminator: '*', maxDigits: 4, timeoutMs: 500 });
    pin.press('12#');
    await pin.clock.advance(499);
    expect(pin.entries()).toEqual([]);
    await pin.clock.advance(1);
    expect(pin.entries()).toEqual(['The caller pressed: 1 2 #']);
    pin.press('98765');
    expect(pin.entries().slice(1)).toEqual(['The caller pressed: 9 8 7 6']);
    pin.press('*');
    expect(pin.entries().slice(2)).toEqual(['The caller pressed: 5']);
  });

  it('a terminator pressed alone is reported itself ("press hash to repeat")', () => {
    const h = start();
    h.press('#');
    expect(h.entries()).toEqual(['The caller pressed: #']);
  });

  it('the message is configurable; a format that throws or returns no string falls back to the default', () => {
    const h = start({ format: (digits) => `DTMF: ${digits}` });
    h.press('55#');
    expect(h.entries()).toEqual(['DTMF: 55']);
    const broken = start({
      format: () => {
        throw new Error('oops');
      },
    });
    broken.press('7#');
    const wrong = start({ format: (() => 42) as unknown as (digits: string) => string });
    wrong.press('8#');
    expect([...broken.entries(), ...wrong.entries()]).toEqual(['The caller pressed: 7', 'The caller pressed: 8']);
    expect(describeKeys('12*')).toBe('The caller pressed: 1 2 *');
  });

  it('the caller starting to speak ends the entry first, so the history keeps the order things happened', () => {
    const h = start();
    h.press('12');
    h.send(makeFrame('user-started-speaking'));
    expect(h.entries()).toEqual(['The caller pressed: 1 2']);
    h.send(makeFrame('user-started-speaking'));
    expect(h.entries()).toHaveLength(1); // speech alone makes no entry
  });

  it('an entry still open when the call ends is dropped', async () => {
    const h = start();
    h.press('9');
    h.send(makeFrame('end'));
    await h.clock.advance(5000);
    expect(h.entries()).toEqual([]);
  });

  it('refuses bad options with clear errors', () => {
    const conversation = new Conversation({ logger: silentLogger });
    const make = (options: DtmfOptions) => () => new DtmfAggregator({ ...options, conversation });
    expect(make({ terminator: 'x' as DtmfDigit })).toThrow(/dtmf.terminator must be one keypad key .* not "x"/);
    expect(make({ maxDigits: 0 })).toThrow(/dtmf.maxDigits must be a whole number from 1 to 64, not 0/);
    expect(make({ maxDigits: 2.5 })).toThrow(RangeError);
    expect(make({ timeoutMs: 0 })).toThrow(/dtmf.timeoutMs must be a positive number of milliseconds, not 0/);
    expect(make({ timeoutMs: Infinity })).toThrow(RangeError);
    expect(make({ format: 'x' as unknown as () => string })).toThrow(/dtmf.format must be a function/);
  });
});

describe('DtmfAggregator: interruptions', () => {
  it('the first key of an entry interrupts a speaking bot at once, and the bot does not resume as after a false one', async () => {
    const h = start();
    h.conversation.setBotSpeaking(true);
    h.press('1');
    expect(h.interruptions()).toBe(1);
    h.conversation.setBotSpeaking(false);
    h.press('2');
    expect(h.interruptions()).toBe(1); // once per entry
    await h.clock.advance(5000); // past the false-interruption window and the entry's timeout
    expect(h.said).toEqual([]);
    expect(h.entries()).toEqual(['The caller pressed: 1 2']);
  });

  it('a key while the bot is silent interrupts nothing; with interruptions off it never does', () => {
    const silent = start();
    silent.press('1#');
    expect(silent.interruptions()).toBe(0);
    const off = start({ allowInterruptions: false });
    off.conversation.setBotSpeaking(true);
    off.press('1#');
    expect(off.interruptions()).toBe(0);
    expect(off.entries()).toEqual(['The caller pressed: 1']);
  });
});
