// UserTurnAggregator and the Conversation it reports to, driven frame by frame on a VirtualClock: a collector after
// the aggregator records the user turns it sends on (llm-context); the conversation's controls record the
// interruptions it makes and what it says to resume after a false one.
import { afterEach, describe, expect, it } from 'vitest';
import { Conversation, type ConversationOptions } from '../../src/conversation/conversation.js';
import { UserTurnAggregator, type UserTurnAggregatorOptions } from '../../src/conversation/user-turn-aggregator.js';
import { inputAudioFrame, makeFrame, type Frame } from '../../src/frames/index.js';
import { LLMContext } from '../../src/llm/context.js';
import { silentLogger } from '../../src/logging/index.js';
import { FrameCollector } from '../../src/testing/frame-collector.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { MinDurationInterruptionStrategy, MinWordsInterruptionStrategy } from '../../src/turns/index.js';

interface Harness {
  aggregator: UserTurnAggregator;
  conversation: Conversation;
  context: LLMContext;
  clock: VirtualClock;
  down: FrameCollector;
  turns: string[];
  /** What the conversation said to resume after a false interruption. */
  said: string[];
  send(frame: Frame): void;
  userStarts(): void;
  userStops(): void;
  final(text: string): void;
  interim(text: string): void;
  botStarts(): void;
  botStops(): void;
  /** `ms` of caller audio at 16 kHz. */
  audio(ms: number): void;
  interruptions(): number;
  userMessages(): string[];
}

type HarnessOptions = Partial<Omit<UserTurnAggregatorOptions, 'conversation'>> &
  Pick<ConversationOptions, 'allowInterruptions' | 'interruptionStrategy' | 'falseInterruptionMs'> & {
    /** What the output transport reports unheard when the bot is interrupted. */
    unheardText?: string;
  };

const running: { aggregator: UserTurnAggregator; conversation: Conversation }[] = [];

afterEach(async () => {
  for (const { aggregator, conversation } of running.splice(0)) {
    await aggregator.cleanup();
    conversation.close();
  }
});

function start(options: HarnessOptions = {}): Harness {
  const { allowInterruptions, interruptionStrategy, falseInterruptionMs, unheardText, ...aggregatorOptions } = options;
  const clock = new VirtualClock();
  const context = new LLMContext([{ role: 'system', content: 'You are a test.' }]);
  const turns: string[] = [];
  const said: string[] = [];
  let interruptions = 0;
  const conversation = new Conversation({
    context,
    clock,
    logger: silentLogger,
    allowInterruptions,
    interruptionStrategy,
    falseInterruptionMs,
    onUserTurn: (text) => turns.push(text),
  });
  conversation.bind({
    interrupt: () => {
      interruptions++;
      // What the output transport does at an interruption: it reports what was cut off unheard.
      if (conversation.botSpeaking) conversation.heard('', unheardText ?? '');
    },
    say: (text) => said.push(text),
  });
  const aggregator = new UserTurnAggregator({ conversation, ...aggregatorOptions });
  const down = new FrameCollector({ name: 'down' });
  aggregator.link(down);
  for (const p of [aggregator, down]) p.setup({ observers: [], logger: silentLogger, clock });
  running.push({ aggregator, conversation });
  const send = (frame: Frame): void => void aggregator.queueFrame(frame);
  send(makeFrame('start', { audioInSampleRate: 16000, audioOutSampleRate: 8000, allowInterruptions: true, enableMetrics: false }));
  return {
    aggregator,
    conversation,
    context,
    clock,
    down,
    turns,
    said,
    send,
    userStarts: () => send(makeFrame('user-started-speaking')),
    userStops: () => send(makeFrame('user-stopped-speaking')),
    final: (text) => send(makeFrame('transcription', { text, final: true, userId: 'caller' })),
    interim: (text) => send(makeFrame('transcription', { text, final: false, userId: 'caller' })),
    // The assistant aggregator reports the output transport's playback to the conversation.
    botStarts: () => conversation.setBotSpeaking(true),
    botStops: () => conversation.setBotSpeaking(false),
    audio: (ms) => send(inputAudioFrame(new Int16Array((ms * 16000) / 1000).fill(500), 16000)),
    interruptions: () => interruptions,
    userMessages: () => context.messages.filter((m) => m.role === 'user').map((m) => m.content),
  };
}

function llmContexts(h: Harness): Frame[] {
  return h.down.ofType('llm-context');
}

describe('UserTurnAggregator: turns', () => {
  it('the final transcripts between VAD start and stop form one user message and one llm-context', () => {
    const h = start();
    h.userStarts();
    h.interim('Hello');
    h.final('Hello there.');
    h.interim('How are');
    h.final('How are you?');
    expect(llmContexts(h)).toEqual([]); // nothing before the turn ends
    h.userStops();
    expect(h.userMessages()).toEqual(['Hello there. How are you?']);
    expect(h.turns).toEqual(['Hello there. How are you?']);
    const frames = h.down.ofType('llm-context');
    expect(frames).toHaveLength(1);
    // The LLM gets an immutable snapshot of the history, not the conversation's own context.
    expect(frames[0]!.context).not.toBe(h.context);
    expect(frames[0]!.context.messages).toEqual(h.context.messages);
    // The VAD frames pass on; transcripts and caller audio stop here.
    expect(h.down.downstream.map((f) => f.type).sort()).toEqual(
      ['llm-context', 'start', 'user-started-speaking', 'user-stopped-speaking'],
    );
  });

  it('caller audio and transcripts are consumed', () => {
    const h = start();
    h.userStarts();
    h.audio(20);
    h.final('hi');
    expect(h.down.ofType('input-audio')).toEqual([]);
    expect(h.down.ofType('transcription')).toEqual([]);
  });

  it('a final arriving after VAD stop completes the turn', async () => {
    const h = start({ finalTranscriptTimeoutMs: 200 });
    h.userStarts();
    h.interim('what is the');
    h.userStops();
    await h.clock.advance(30);
    expect(llmContexts(h)).toEqual([]);
    h.final('What is the time?');
    expect(h.userMessages()).toEqual(['What is the time?']);
    expect(llmContexts(h)).toHaveLength(1);
    await h.clock.advance(220); // the wait's timer is gone: no second commit
    expect(llmContexts(h)).toHaveLength(1);
    expect(h.userMessages()).toEqual(['What is the time?']);
  });

  it('a turn with no transcript at VAD stop waits for the final', async () => {
    const h = start({ finalTranscriptTimeoutMs: 200 });
    h.userStarts();
    h.userStops();
    await h.clock.advance(20);
    h.final('Late words.');
    expect(h.userMessages()).toEqual(['Late words.']);
  });

  it('when no final comes within finalTranscriptTimeoutMs, the latest interim is used', async () => {
    const h = start({ finalTranscriptTimeoutMs: 50 });
    h.userStarts();
    h.final('First part.');
    h.interim('and the second');
    h.userStops();
    await h.clock.advance(49);
    expect(llmContexts(h)).toEqual([]);
    await h.clock.advance(1);
    expect(h.userMessages()).toEqual(['First part. and the second']);
  });

  it('a turn with no words at all adds nothing', async () => {
    const h = start({ finalTranscriptTimeoutMs: 30 });
    h.userStarts();
    h.final('   ');
    h.userStops();
    await h.clock.advance(60);
    expect(h.userMessages()).toEqual([]);
    expect(llmContexts(h)).toEqual([]);
  });

  it('a final with no VAD turn is a turn by itself', () => {
    const h = start();
    h.final('Just text.');
    expect(h.userMessages()).toEqual(['Just text.']);
    h.final('More text.');
    expect(h.userMessages()).toEqual(['Just text.', 'More text.']);
    expect(llmContexts(h)).toHaveLength(2);
  });

  it('a new turn starting while the last one waits for its final commits the last one first', () => {
    const h = start({ finalTranscriptTimeoutMs: 1000 });
    h.userStarts();
    h.final('One.');
    h.interim('and');
    h.userStops();
    h.userStarts();
    expect(h.userMessages()).toEqual(['One.']);
    h.final('Two.');
    h.userStops();
    expect(h.userMessages()).toEqual(['One.', 'Two.']);
  });
});

describe('UserTurnAggregator: a turn ends when the STT has transcribed it (waitForTranscriptionComplete)', () => {
  function startWaiting(options: HarnessOptions = {}) {
    const h = start({ waitForTranscriptionComplete: true, finalTranscriptTimeoutMs: 600, ...options });
    return {
      ...h,
      /** VAD stop; returns the frame's id, which the STT's transcription-complete names. */
      stop(): number {
        const frame = makeFrame('user-stopped-speaking');
        h.send(frame);
        return frame.id;
      },
      complete: (stopFrameId: number) => h.send(makeFrame('transcription-complete', { stopFrameId })),
    };
  }

  it('a final before VAD stop does not end the turn; the STT saying the audio up to the stop is transcribed does', async () => {
    const h = startWaiting();
    h.userStarts();
    h.final('I would like');
    const stop = h.stop();
    expect(llmContexts(h)).toEqual([]);
    h.final('to check my order.'); // Deepgram's answer to Finalize: the rest of the sentence
    expect(llmContexts(h)).toEqual([]);
    h.complete(stop);
    expect(h.userMessages()).toEqual(['I would like to check my order.']);
    expect(llmContexts(h)).toHaveLength(1);
    await h.clock.advance(1000); // the bounded wait is gone with the commit
    expect(llmContexts(h)).toHaveLength(1);
  });

  it('a completion that overtook the VAD stop (the STT had nothing left to finalise) ends the turn at the stop', () => {
    const h = startWaiting();
    h.userStarts();
    h.final('Hello there.');
    const stopFrame = makeFrame('user-stopped-speaking');
    h.complete(stopFrame.id);
    expect(llmContexts(h)).toEqual([]);
    h.send(stopFrame);
    expect(h.userMessages()).toEqual(['Hello there.']);
  });

  it('a completion for an earlier stop does not end a later turn', () => {
    const h = startWaiting();
    h.userStarts();
    h.final('One.');
    const first = h.stop();
    h.complete(first);
    h.userStarts();
    h.final('Two');
    h.stop();
    h.complete(first);
    expect(h.userMessages()).toEqual(['One.']);
  });

  it('the caller going on before the STT has finished the words before the pause continues the same turn', () => {
    const h = startWaiting();
    h.userStarts();
    h.final('My account number is');
    h.stop();
    h.userStarts();
    h.final('four five six.');
    const stop = h.stop();
    h.complete(stop);
    expect(h.userMessages()).toEqual(['My account number is four five six.']);
    expect(llmContexts(h)).toHaveLength(1);
  });

  it('when the STT never says, the turn ends finalTranscriptTimeoutMs after the stop, with the latest interim', async () => {
    const h = startWaiting({ finalTranscriptTimeoutMs: 600 });
    h.userStarts();
    h.final('First part.');
    h.interim('and the second');
    h.stop();
    await h.clock.advance(599);
    expect(llmContexts(h)).toEqual([]);
    await h.clock.advance(1);
    expect(h.userMessages()).toEqual(['First part. and the second']);
  });

  it('speech over the bot: the words of a sentence finalised in two pieces count once toward the strategy', () => {
    const h = startWaiting({ interruptionStrategy: new MinWordsInterruptionStrategy({ minWords: 4 }) });
    h.botStarts();
    h.userStarts();
    h.final('wait a');
    expect(h.interruptions()).toBe(0);
    h.interim('second');
    expect(h.interruptions()).toBe(0);
    h.final('second');
    expect(h.interruptions()).toBe(0);
    h.interim('please');
    expect(h.interruptions()).toBe(1);
  });
});

describe('Conversation: interruption strategies (reported by the UserTurnAggregator)', () => {
  it('with no strategy (null), the caller starting to speak interrupts at once', () => {
    const h = start({ interruptionStrategy: null });
    h.userStarts();
    expect(h.interruptions()).toBe(1);
    h.final('hi');
    h.userStops();
    h.botStarts();
    h.userStarts();
    expect(h.interruptions()).toBe(2);
    // Speech over the bot is never discarded then.
    h.final('stop');
    h.userStops();
    expect(h.userMessages()).toEqual(['hi', 'stop']);
  });

  it('MinWords(2) while the bot speaks: one word does not interrupt, two words do (once)', () => {
    const h = start({ interruptionStrategy: new MinWordsInterruptionStrategy({ minWords: 2 }) });
    h.botStarts();
    h.userStarts();
    expect(h.interruptions()).toBe(0);
    h.interim('wait');
    expect(h.interruptions()).toBe(0);
    h.interim('wait a');
    expect(h.interruptions()).toBe(1);
    h.interim('wait a moment');
    h.final('Wait a moment.');
    expect(h.interruptions()).toBe(1);
    h.botStops(); // the output transport stops at the interruption
    h.userStops();
    expect(h.userMessages()).toEqual(['Wait a moment.']);
  });

  it('the words of finals and interim together count', () => {
    const h = start({ interruptionStrategy: new MinWordsInterruptionStrategy({ minWords: 3 }) });
    h.botStarts();
    h.userStarts();
    h.final('No,');
    h.interim('not');
    expect(h.interruptions()).toBe(0);
    h.interim('not that');
    expect(h.interruptions()).toBe(1);
  });

  it('MinDuration counts the caller audio of the turn', () => {
    const h = start({ interruptionStrategy: new MinDurationInterruptionStrategy({ seconds: 0.1 }) });
    h.botStarts();
    h.audio(60); // before the turn: not counted
    h.userStarts();
    h.audio(40);
    h.audio(40);
    expect(h.interruptions()).toBe(0);
    h.audio(20);
    expect(h.interruptions()).toBe(1);
  });

  it('a turn spoken over the bot that never satisfied the strategy is discarded', () => {
    const h = start({ interruptionStrategy: new MinWordsInterruptionStrategy({ minWords: 2 }) });
    h.botStarts();
    h.userStarts();
    h.final('Yeah.');
    h.userStops();
    expect(h.interruptions()).toBe(0);
    expect(h.userMessages()).toEqual([]);
    expect(llmContexts(h)).toEqual([]);
    expect(h.turns).toEqual([]);
    // The next turn, over a silent bot, is taken whatever its length.
    h.botStops();
    h.userStarts();
    h.final('Okay.');
    h.userStops();
    expect(h.userMessages()).toEqual(['Okay.']);
    expect(h.interruptions()).toBe(0);
  });

  it('a VAD-less final over the bot that does not satisfy the strategy is discarded too', () => {
    const h = start({ interruptionStrategy: new MinWordsInterruptionStrategy({ minWords: 2 }) });
    h.botStarts();
    h.final('Uh-huh.');
    expect(h.userMessages()).toEqual([]);
    expect(llmContexts(h)).toEqual([]);
    h.final('Stop please.');
    expect(h.interruptions()).toBe(1);
    expect(h.userMessages()).toEqual(['Stop please.']);
  });

  it('a turn that began over the bot may still interrupt after the bot went quiet', () => {
    const h = start({ interruptionStrategy: new MinWordsInterruptionStrategy({ minWords: 2 }) });
    h.botStarts();
    h.userStarts();
    h.botStops();
    h.interim('hold on');
    expect(h.interruptions()).toBe(1);
    h.final('Hold on.');
    h.userStops();
    expect(h.userMessages()).toEqual(['Hold on.']);
  });

  it('over a silent bot, speech never interrupts and is always taken', () => {
    const h = start({ interruptionStrategy: new MinWordsInterruptionStrategy({ minWords: 2 }) });
    h.userStarts();
    h.final('Hi.');
    h.interim('how are you');
    h.final('How are you?');
    h.userStops();
    expect(h.interruptions()).toBe(0);
    expect(h.userMessages()).toEqual(['Hi. How are you?']);
  });

  it('allowInterruptions false never interrupts and keeps the speech', () => {
    for (const interruptionStrategy of [null, new MinWordsInterruptionStrategy({ minWords: 1 })]) {
      const h = start({ allowInterruptions: false, interruptionStrategy });
      h.botStarts();
      h.userStarts();
      h.audio(200);
      h.final('Stop talking please.');
      h.userStops();
      expect(h.interruptions()).toBe(0);
      expect(h.userMessages()).toEqual(['Stop talking please.']);
    }
  });
});

describe('Conversation: false interruptions', () => {
  it('with no words after an interruption within falseInterruptionMs, the bot says what it had left', async () => {
    const h = start({
      interruptionStrategy: new MinDurationInterruptionStrategy({ seconds: 0.04 }),
      falseInterruptionMs: 60,
      finalTranscriptTimeoutMs: 20,
      unheardText: 'the rest of my sentence.',
    });
    h.botStarts();
    h.userStarts();
    h.audio(60); // a cough: long enough to interrupt
    expect(h.interruptions()).toBe(1);
    h.botStops();
    h.userStops();
    await h.clock.advance(59);
    expect(h.said).toEqual([]);
    await h.clock.advance(1);
    expect(h.said).toEqual(['the rest of my sentence.']);
    expect(h.userMessages()).toEqual([]);
    await h.clock.advance(80);
    expect(h.said).toHaveLength(1); // once
  });

  it('with no strategy, a VAD turn without words over the bot is a false interruption', async () => {
    const h = start({ interruptionStrategy: null, falseInterruptionMs: 40, unheardText: 'as I was saying.' });
    h.botStarts();
    h.userStarts();
    expect(h.interruptions()).toBe(1);
    h.botStops();
    h.userStops();
    await h.clock.advance(90);
    expect(h.said).toEqual(['as I was saying.']);
  });

  it('a transcript after the interruption means it was real: the bot does not resume', async () => {
    const h = start({
      interruptionStrategy: new MinDurationInterruptionStrategy({ seconds: 0.04 }),
      falseInterruptionMs: 60,
      unheardText: 'the rest of my sentence.',
    });
    h.botStarts();
    h.userStarts();
    h.audio(60);
    h.botStops();
    h.final('Wait.');
    h.userStops();
    await h.clock.advance(120);
    expect(h.said).toEqual([]);
    expect(h.userMessages()).toEqual(['Wait.']);
  });

  it('the transcript that caused the interruption counts: a real barge-in is not resumed', async () => {
    // MinWords interrupts on a transcript; when that transcript is a final, no other one may follow.
    const h = start({ falseInterruptionMs: 50, unheardText: 'the rest of my sentence.' });
    h.botStarts();
    h.userStarts();
    h.final('Stop.');
    expect(h.interruptions()).toBe(1);
    h.botStops();
    h.userStops();
    expect(h.userMessages()).toEqual(['Stop.']);
    await h.clock.advance(100);
    expect(h.said).toEqual([]);
  });

  it('no resume when the caller is still speaking, nor when there is nothing left to say', async () => {
    const speaking = start({ interruptionStrategy: null, falseInterruptionMs: 30, unheardText: 'more.' });
    speaking.botStarts();
    speaking.userStarts();
    speaking.botStops();
    await speaking.clock.advance(70);
    expect(speaking.said).toEqual([]);

    const nothing = start({ interruptionStrategy: null, falseInterruptionMs: 30, unheardText: '  ' });
    nothing.botStarts();
    nothing.userStarts();
    nothing.botStops();
    nothing.userStops();
    await nothing.clock.advance(70);
    expect(nothing.said).toEqual([]);
  });

  it('an interruption while the bot is silent sets no false-interruption watch', async () => {
    const h = start({ interruptionStrategy: null, falseInterruptionMs: 30, unheardText: 'more.' });
    h.userStarts();
    h.userStops();
    await h.clock.advance(70);
    expect(h.interruptions()).toBe(1);
    expect(h.said).toEqual([]);
  });

  it("end clears the aggregator's timer and close() the conversation's", async () => {
    const h = start({ interruptionStrategy: null, falseInterruptionMs: 30, finalTranscriptTimeoutMs: 30, unheardText: 'more.' });
    h.botStarts();
    h.userStarts();
    h.interim('some words');
    h.botStops();
    h.userStops();
    h.send(makeFrame('end'));
    h.conversation.close();
    await h.clock.advance(70);
    expect(h.said).toEqual([]);
    expect(h.userMessages()).toEqual([]);
  });
});
