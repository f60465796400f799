// Switching STT, LLM and TTS in the middle of a call, in simulated time: a tool moves the call to Hindi; a switch
// asked for while the caller speaks or while the bot answers waits for the turn's end; no caller audio is lost and
// the new model reads the whole conversation.
import { describe, expect, it } from 'vitest';
import type { LLMContextSnapshot } from '../../../src/frames/index.js';
import { FunctionSchema } from '../../../src/llm/index.js';
import type { StreamCompletionOptions } from '../../../src/services/base/llm-stream.js';
import { ScriptedLLMService, type ScriptedRule } from '../../../src/services/scripted/index.js';
import { LLMSwitcher, STTSwitcher, TTSSwitcher } from '../../../src/services/switcher/index.js';
import { ConversationSimulation } from '../../../src/testing/conversation-simulation.js';
import { FakeTTSService, ScriptedSTTService } from '../../../src/testing/fake-services.js';
import { VoiceAgent } from '../../../src/voice-agent/index.js';

/** A scripted STT that counts the caller audio it is given. */
class HearingSTT extends ScriptedSTTService {
  heardMs = 0;
  protected override processAudio(audio: Int16Array): void {
    this.heardMs += (audio.length * 1000) / this.sampleRate;
    super.processAudio(audio);
  }
}

/** A scripted LLM that keeps the contexts it was asked to answer. */
class RecordingLLM extends ScriptedLLMService {
  readonly contexts: LLMContextSnapshot[] = [];
  override async *streamCompletion(context: LLMContextSnapshot, options: StreamCompletionOptions) {
    this.contexts.push(context);
    yield* super.streamCompletion(context, options);
  }
}

const SWITCH = { match: /hindi/i, toolCall: { name: 'switch_language', arguments: { language: 'hindi' } } };
const ENGLISH_RULES: ScriptedRule[] = [
  { match: /balance/i, reply: 'Your balance is ten rupees.' },
  { ...SWITCH, afterTool: 'Switching now.' },
  { match: /story/i, reply: 'Once upon a time. There was a king. He had a phone.' },
];
const HINDI_RULES: ScriptedRule[] = [
  { match: /balance/i, reply: 'Aapka balance das rupaye hai.' },
  { ...SWITCH, afterTool: 'Ab main Hindi mein baat karunga.' },
  { match: /story/i, reply: 'Ek raja tha.' },
];

function setup() {
  const sim = new ConversationSimulation();
  const said: string[] = [];
  const englishStt = new HearingSTT({ name: 'stt-en', transcripts: () => said.at(-1) ?? '', interimAfterMs: 250 });
  const hindiStt = new HearingSTT({ name: 'stt-hi', transcripts: () => `[hi] ${said.at(-1) ?? ''}`, interimAfterMs: 250 });
  const englishLlm = new RecordingLLM({ name: 'llm-en', rules: ENGLISH_RULES });
  const hindiLlm = new RecordingLLM({ name: 'llm-hi', rules: HINDI_RULES });
  const englishTts = new FakeTTSService({ name: 'tts-en', msPerCharacter: 40, latencyMs: 300 });
  const hindiTts = new FakeTTSService({ name: 'tts-hi', msPerCharacter: 40, latencyMs: 300 });
  const stt = new STTSwitcher({ english: englishStt, hindi: hindiStt });
  const llm = new LLMSwitcher({ english: englishLlm, hindi: hindiLlm });
  const tts = new TTSSwitcher({ english: englishTts, hindi: hindiTts });
  const voice = new VoiceAgent({ instructions: 'Help the caller.', greeting: 'Hello.', idleTimeoutSecs: 0 });
  let switchedAtMs: number | undefined;
  voice.addTool(
    new FunctionSchema({ name: 'switch_language', description: 'Moves the call to a language.', properties: { language: { type: 'string', enum: ['english', 'hindi'] } }, required: ['language'] }),
    ({ language }) => {
      const choice = language as 'english' | 'hindi';
      switchedAtMs = sim.nowMs;
      stt.switchTo(choice);
      llm.switchTo(choice);
      tts.switchTo(choice);
      return { language: choice };
    },
  );
  const say = (text: string): Promise<void> => {
    said.push(text);
    return sim.say(text);
  };
  const callerTurns = (): string[] => sim.events.flatMap((e) => (e.kind === 'caller' ? [e.text] : []));
  return { sim, voice, stt, llm, tts, englishStt, hindiStt, englishLlm, hindiLlm, englishTts, hindiTts, say, callerTurns, switchedAt: () => switchedAtMs };
}

type Setup = ReturnType<typeof setup>;

async function started(s: Setup): Promise<void> {
  await s.voice.action({ ...s.sim.services, stt: s.stt, llm: s.llm, tts: s.tts });
  await s.sim.start(s.voice);
  await s.sim.waitForAgent('Hello.');
}

describe('switching services mid-call', () => {
  it('a tool moves the call to Hindi: STT, LLM and TTS switch, no caller audio is lost, the context is kept', async () => {
    const s = setup();
    await started(s);
    await s.say('what is my balance');
    await s.sim.waitForAgent('Your balance is ten rupees.');
    await s.say('please speak hindi');
    // The answer after the tool is already the new model's, in the new voice.
    await s.sim.waitForAgent('Ab main Hindi mein baat karunga.');
    expect(s.hindiTts.spoken).toEqual(['Ab main Hindi mein baat karunga.']);
    expect(s.englishTts.spoken).not.toContain('Ab main Hindi mein baat karunga.');
    expect([s.stt.choice, s.llm.choice, s.tts.choice]).toEqual(['hindi', 'hindi', 'hindi']);
    const englishHeardAtSwitch = s.englishStt.heardMs;

    await s.say('what is my balance now');
    await s.sim.waitForAgent('Aapka balance das rupaye hai.');
    expect(s.callerTurns()).toEqual(['what is my balance', 'please speak hindi', '[hi] what is my balance now']);
    // Every frame of caller audio sent since the switch reached the new STT; the old one heard none of it.
    const sentSinceSwitchMs = s.sim.transport.caller.sent
      .filter((f) => f.at >= s.switchedAt()!)
      .reduce((ms, f) => ms + (f.audio.length * 1000) / 16000, 0);
    expect(s.hindiStt.heardMs).toBeGreaterThanOrEqual(sentSinceSwitchMs - 40);
    expect(s.englishStt.heardMs).toBe(englishHeardAtSwitch);
    // The new model read the whole conversation, the English part included.
    const context = s.hindiLlm.contexts.at(-1)!.messages.map((m) => m.content);
    expect(context).toEqual(expect.arrayContaining(['what is my balance', 'Your balance is ten rupees.', '[hi] what is my balance now']));
    expect(s.hindiTts.spoken).toContain('Aapka balance das rupaye hai.');
    await s.sim.hangUp();
  });

  it('a switch asked for while the caller speaks waits for the end of the turn; the new STT takes the next one', async () => {
    const s = setup();
    await started(s);
    const speaking = s.say('what is my balance today please');
    await s.sim.wait(800);
    s.stt.switchTo('hindi');
    expect(s.stt.current?.name).toBe('stt-en');
    await speaking;
    await s.sim.waitForAgent('Your balance is ten rupees.');
    expect(s.callerTurns()).toEqual(['what is my balance today please']);
    expect(s.stt.current?.name).toBe('stt-hi');
    await s.say('what is my balance');
    await s.sim.runUntil(() => s.callerTurns().length === 2);
    expect(s.callerTurns()[1]).toBe('[hi] what is my balance');
    expect(s.englishStt.turns).toBe(1);
    await s.sim.hangUp();
  });

  it('a model and voice switch during a reply waits for the reply to end; the next reply is the new ones’', async () => {
    const s = setup();
    await started(s);
    await s.say('tell me a story');
    await s.sim.waitForAgentSpeech();
    s.llm.switchTo('hindi');
    s.tts.switchTo('hindi');
    await s.sim.waitForAgent('He had a phone.');
    expect(s.englishTts.spoken).toEqual(['Hello.', 'Once upon a time.', 'There was a king.', 'He had a phone.']);
    expect(s.hindiTts.spoken).toEqual([]);
    expect(s.hindiLlm.contexts).toEqual([]);
    await s.say('what is my balance');
    await s.sim.waitForAgent('Aapka balance das rupaye hai.');
    expect(s.hindiTts.spoken).toEqual(['Aapka balance das rupaye hai.']);
    expect(s.englishLlm.contexts).toHaveLength(1);
    await s.sim.hangUp();
  });

  it('rejects unknown names and shared instances with clear errors', () => {
    const one = new FakeTTSService();
    expect(() => new TTSSwitcher({})).toThrow(/at least one service/);
    expect(() => new TTSSwitcher({ a: one, b: one })).toThrow(/b is the same service as a/);
    expect(() => new TTSSwitcher({ a: one }, { initial: 'c' as 'a' })).toThrow(/initial "c" is not one of a/);
    const tts = new TTSSwitcher({ slow: new FakeTTSService(), fast: new FakeTTSService() }, { initial: 'fast' });
    expect(tts.choice).toBe('fast');
    expect(() => tts.switchTo('medium' as 'slow')).toThrow(/"medium" is not one of slow, fast/);
  });
});
