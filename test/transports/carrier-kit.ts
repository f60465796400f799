// What the carrier tests (test/transports/<carrier>/) share: the agents each carrier's calls run (the seed call
// with its transfer, keys, an interruption), recording their turns, cleaning up after each test, waiting on real
// time, and the check that an interrupted greeting keeps only the words the carrier acknowledged as played.
import { afterEach, expect } from 'vitest';
import { FunctionSchema } from '../../src/llm/function-schema.js';
import { silentLogger } from '../../src/logging/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import type { FakeStreamCall } from '../../src/testing/carriers/fake-stream-call.js';
import { EnergyVAD } from '../../src/testing/energy-vad.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import type { MediaStreamSessionBase } from '../../src/transports/media-stream/stream-sessions.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';

export async function until(predicate: () => boolean, timeoutMs = 10_000, what = 'the condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves with what `promise` resolved to, or 'timeout' after `ms`. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([promise, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);
}

/** Closers run (newest first) after each test of the file that calls this. */
export function useClosers(): (close: () => Promise<void>) => void {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  return (close) => void closers.push(close);
}

export const GREETING = 'Hello! How can I help you today?';
export const HUMAN_LINE = 'I want to talk to a human please';

/** What a carrier server's calls did: their sessions and the agents' turns. */
export interface CallLog<S extends MediaStreamSessionBase> {
  sessions: S[];
  turns: { text: string; interrupted: boolean }[];
  userTurns: string[];
}

export function newCallLog<S extends MediaStreamSessionBase>(): CallLog<S> {
  return { sessions: [], turns: [], userTurns: [] };
}

/** An `onCall` that records the session, runs `setup`'s agent and logs its turns. */
export function runAgent<S extends MediaStreamSessionBase>(log: CallLog<S>, setup: (call: S) => Promise<VoiceAgent>): (call: S) => Promise<void> {
  return async (call) => {
    log.sessions.push(call);
    const voice = await setup(call);
    voice.events.on('assistant-turn', (text, interrupted) => log.turns.push({ text, interrupted }));
    voice.events.on('user-turn', (text) => log.userTurns.push(text));
    await voice.start();
  };
}

export function newVoice(greeting = GREETING): VoiceAgent {
  return new VoiceAgent({ instructions: 'Be brief.', greeting, logger: silentLogger, idleTimeoutSecs: 0 });
}

/** The seed call's agent: asked for a human, it says so, waits until that was heard, and calls `transfer`. */
export async function seedAgent(transfer: () => Promise<void>, sampleRate = 8000): Promise<VoiceAgent> {
  const voice = newVoice();
  const schema = new FunctionSchema({ name: 'transfer_to_human', description: 'Transfer the call to a human.', properties: {}, required: [] });
  voice.addTool(schema, async (_args, ctx) => {
    ctx.say('Of course. I am connecting you to a human representative now.');
    await voice.speechPlayed();
    await transfer();
    return 'transferred';
  });
  await voice.action({
    stt: new ScriptedSTTService({ transcripts: [HUMAN_LINE] }),
    llm: new ScriptedLLMService({ rules: [{ match: /human/, toolCall: { name: 'transfer_to_human', arguments: {} } }] }),
    tts: new FakeTTSService({ sampleRate, msPerCharacter: 20 }),
    vad: new EnergyVAD({ sampleRate }),
  });
  return voice;
}

/** An agent that answers the keys 4, 2, # with "Order forty-two is on its way." */
export async function keysAgent(sampleRate = 8000): Promise<VoiceAgent> {
  const voice = newVoice();
  await voice.action({
    stt: new ScriptedSTTService({ transcripts: [] }),
    llm: new ScriptedLLMService({ rules: [{ match: /pressed: 4 2/, reply: 'Order forty-two is on its way.' }] }),
    tts: new FakeTTSService({ sampleRate, msPerCharacter: 10 }),
    vad: new EnergyVAD({ sampleRate }),
  });
  return voice;
}

/** An agent greeting with LONG_GREETING (~5.5 s) and no interruption strategy: any speech interrupts it. */
export async function interruptibleAgent(sampleRate = 8000): Promise<VoiceAgent> {
  const voice = newVoice(LONG_GREETING);
  await voice.action({
    stt: new ScriptedSTTService({ transcripts: ['wait', 'ok'] }),
    llm: new ScriptedLLMService({ rules: [{ match: /wait/, reply: 'Yes?' }] }),
    tts: new FakeTTSService({ sampleRate, msPerCharacter: 60 }),
    vad: new EnergyVAD({ sampleRate }),
    interruptionStrategy: null,
  });
  return voice;
}

/** Every mark our side sent was acknowledged (the last words were heard) and the carrier refused nothing. */
export function expectAllMarksAcknowledged(call: FakeStreamCall, markEvent: string, atLeast: number): void {
  const marksSent = call.received.filter((m) => m.event === markEvent).length;
  expect(marksSent).toBeGreaterThan(atLeast);
  expect(call.marksAcknowledged).toBe(marksSent);
  expect(call.protocolErrors).toEqual([]);
}

/** 40 one-letter words: at 60 ms a character, 120 ms a word. */
export const LONG_GREETING = Array.from({ length: 40 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(' ');

/**
 * The kept text of the interrupted LONG_GREETING against what the caller heard (`heardMs` of it, played by the
 * fake before the clear): acknowledged is what was played a round trip (400 ms, 3-4 words) ago, so the history
 * keeps fewer words than were heard by about that, never more. Counting what was sent would keep more.
 */
export function expectKeptOnlyAcknowledged(kept: { text: string; interrupted: boolean }, heardMs: number, msPerCharacter = 60): void {
  expect(kept.interrupted).toBe(true);
  expect(LONG_GREETING.startsWith(kept.text)).toBe(true);
  const words = LONG_GREETING.split(' ');
  const keptWords = kept.text.split(' ').filter((w) => w !== '');
  const greetingMs = LONG_GREETING.length * msPerCharacter;
  const heardShare = Math.floor((words.length * Math.min(heardMs, greetingMs)) / greetingMs);
  expect(keptWords.length).toBeLessThanOrEqual(heardShare - 2);
  expect(keptWords.length).toBeGreaterThanOrEqual(heardShare - 6);
}
