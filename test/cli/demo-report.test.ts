// The demo's summary and plan without a call: which outcome a run expects, how caller lines are matched with
// what the agent heard, and the reason given when the outcome did not happen.
import { describe, expect, it } from 'vitest';
import { buildTurns, heardOf, outcomeFailure, type DemoTurn, type Outcome, type SaidLine } from '../../src/cli/demo-report.js';
import { asksForHuman, normalizeWords, planDemo, scriptLine } from '../../src/cli/demo-script.js';
import type { VoiceAgentDiagnostic } from '../../src/voice-agent/index.js';

const userTurn = (text: string, at: number): VoiceAgentDiagnostic => ({ callId: 'c', event: 'user-turn', text, at });
const assistantTurn = (text: string, at: number, interrupted = false): VoiceAgentDiagnostic => ({
  callId: 'c',
  event: 'assistant-turn',
  text,
  interrupted,
  at,
});
const line = (text: string, startedAt: number): SaidLine => ({ text, startedAt, speechStart: startedAt + 100, speechEnd: startedAt + 1500 });

describe('planDemo: the lines and what a run expects', () => {
  it('the default line asks for a human: a transfer is expected', () => {
    expect(planDemo(undefined, undefined, undefined)).toEqual({
      lines: [{ text: 'I want to talk to a human please', afterAgentSpeechMs: undefined }],
      expected: { transfer: true, interruption: false },
    });
  });

  it('--say lines expect a transfer when one asks for a person, and --(no-)expect-transfer overrides it', () => {
    expect(planDemo(['Hello there', 'I want to talk to a human please'], undefined, undefined).expected.transfer).toBe(true);
    expect(planDemo(['Hello there', 'What time is it'], undefined, undefined).expected.transfer).toBe(false);
    expect(planDemo(['Hello there'], undefined, true).expected.transfer).toBe(true);
    expect(planDemo(['Put me through to an operator'], undefined, false).expected.transfer).toBe(false);
  });

  it('--say lines replace the scenario and its expectations; without them the scenario decides', () => {
    const scenario = { say: ['Hi', { text: 'Stop', afterAgentSpeechMs: 1500 }], expectInterruption: true, expectTransfer: true };
    expect(planDemo(undefined, scenario, undefined)).toEqual({
      lines: [
        { text: 'Hi', afterAgentSpeechMs: undefined },
        { text: 'Stop', afterAgentSpeechMs: 1500 },
      ],
      expected: { transfer: true, interruption: true },
    });
    expect(planDemo(undefined, scenario, false).expected).toEqual({ transfer: false, interruption: true });
    expect(planDemo(['Hello'], scenario, undefined)).toEqual({
      lines: [{ text: 'Hello', afterAgentSpeechMs: undefined }],
      expected: { transfer: false, interruption: false },
    });
    expect(planDemo(undefined, { say: ['Hi'] }, undefined).expected).toEqual({ transfer: false, interruption: false });
  });

  it('refuses a scenario line without text or with a bad delay', () => {
    expect(() => scriptLine({ text: '' })).toThrow(/each line needs a text/);
    expect(() => scriptLine({ text: 'Hi', afterAgentSpeechMs: -1 })).toThrow(/afterAgentSpeechMs must be a number of milliseconds >= 0, got -1/);
    expect(() => scriptLine({ text: 'Hi', afterAgentSpeechMs: Number.NaN })).toThrow(/afterAgentSpeechMs/);
  });

  it('knows a request for a person, and compares transcripts by their words', () => {
    for (const text of ['I want to talk to a human please', 'Get me a real person', 'transfer me', 'An operator!']) expect(asksForHuman(text), text).toBe(true);
    for (const text of ['Hello there', 'What is the weather', 'humanity']) expect(asksForHuman(text), text).toBe(false);
    expect(normalizeWords("  Hello, there! It's   me. ")).toBe("hello there it's me");
  });
});

describe('buildTurns: what each side heard', () => {
  it('pairs each caller line with the turns the agent took while it was the latest, in time order', () => {
    const lines = [line('Hello there', 3000), line('I want to talk to a human please', 9000)];
    const events = [
      assistantTurn('Hello! How can I help you today?', 2800),
      userTurn('whoa there', 5500),
      assistantTurn('I can connect you to a human agent. Just ask.', 8500),
      userTurn('i want to talk to you', 12000),
      userTurn('but please', 12500),
    ];
    const speech = [500, 6000, 13000];
    const turns = buildTurns(events, lines, 0, (at) => speech.find((t) => t > at));
    expect(turns).toEqual<DemoTurn[]>([
      { role: 'assistant', text: 'Hello! How can I help you today?', interrupted: false, startMs: 500, endMs: 2800 },
      { role: 'user', said: 'Hello there', heard: 'whoa there', heardAsSaid: false, startMs: 3100, endMs: 4500 },
      { role: 'assistant', text: 'I can connect you to a human agent. Just ask.', interrupted: false, startMs: 6000, endMs: 8500 },
      { role: 'user', said: 'I want to talk to a human please', heard: 'i want to talk to you but please', heardAsSaid: false, startMs: 9100, endMs: 10500 },
    ]);
  });

  it('a line the agent took no turn from was not heard (null); speech it took before any line had no speaker', () => {
    const lines = [line('Okay', 3000), line('Thanks, bye.', 6000)];
    const events = [userTurn('uh', 1000), userTurn('thanks bye', 7000)];
    expect(heardOf(events, lines, 0)).toBeNull();
    const turns = buildTurns(events, lines, 0, () => undefined);
    expect(turns).toEqual([
      { role: 'user', said: null, heard: 'uh', heardAsSaid: false, startMs: 1000, endMs: 1000 },
      { role: 'user', said: 'Okay', heard: null, heardAsSaid: false, startMs: 3100, endMs: 4500 },
      { role: 'user', said: 'Thanks, bye.', heard: 'thanks bye', heardAsSaid: true, startMs: 6100, endMs: 7500 },
    ]);
  });

  it('keeps an interrupted assistant turn as heard, marked interrupted', () => {
    const turns = buildTurns([assistantTurn('Sure. It works in three steps.', 5000, true)], [], 1000, () => 2000);
    expect(turns).toEqual([{ role: 'assistant', text: 'Sure. It works in three steps.', interrupted: true, startMs: 1000, endMs: 4000 }]);
  });
});

describe('outcomeFailure: the reason a run is not ok', () => {
  const turns: DemoTurn[] = [
    { role: 'user', said: 'Hello there', heard: 'whoa there', heardAsSaid: false, startMs: 0, endMs: 1 },
    { role: 'user', said: 'I want to talk to a human please', heard: 'i want to talk to you but please', heardAsSaid: false, startMs: 2, endMs: 3 },
    { role: 'assistant', text: 'I can connect you to a human agent. Just ask.', interrupted: false, startMs: 4, endMs: 5 },
  ];
  const base: Outcome = {
    expected: { transfer: false, interruption: false },
    endReason: undefined,
    transferredTo: null,
    transferWaitSecs: 10,
    turns,
    answered: true,
  };

  it('a missing transfer, with how the call ended and what the agent heard', () => {
    expect(outcomeFailure({ ...base, expected: { transfer: true, interruption: false } })).toBe(
      'expected a transfer, but no transfer within 10 s of the caller\'s last line; the agent heard: "whoa there", "i want to talk to you but please"',
    );
    expect(outcomeFailure({ ...base, expected: { transfer: true, interruption: false }, endReason: 'hangup' })).toMatch(
      /^expected a transfer, but the call ended with a hangup by the agent; the agent heard: /,
    );
  });

  it('a transfer nobody expected, a missing interruption, an agent that never answered', () => {
    expect(outcomeFailure({ ...base, transferredTo: '918000000002', endReason: 'transferred' })).toMatch(
      /^the call was transferred to 918000000002, but no transfer was expected; the agent heard: "whoa there"/,
    );
    expect(outcomeFailure({ ...base, expected: { transfer: false, interruption: true } })).toMatch(
      /^expected the caller to interrupt the agent, but every assistant turn was said in full/,
    );
    expect(outcomeFailure({ ...base, answered: false, turns: [] })).toBe('the agent never answered the caller; the agent heard: (nothing)');
  });

  it('none when the expected outcome happened', () => {
    expect(outcomeFailure(base)).toBeUndefined();
    expect(outcomeFailure({ ...base, expected: { transfer: true, interruption: false }, transferredTo: '918000000002', endReason: 'transferred' })).toBeUndefined();
    const interrupted: DemoTurn[] = [{ role: 'assistant', text: 'Sure.', interrupted: true, startMs: 0, endMs: 1 }];
    expect(outcomeFailure({ ...base, expected: { transfer: false, interruption: true }, turns: interrupted })).toBeUndefined();
  });
});
