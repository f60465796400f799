// Whole conversations. The first runs in real time over the in-memory transport: real Silero VAD on real (Flite)
// speech, a scripted STT that knows the caller's lines, the scripted LLM, and a fake TTS with zero latency. The
// others run in simulated time (ConversationSimulation): their subject is the agent's behaviour, not the engines.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { FunctionSchema } from '../../src/llm/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { ScriptedLLMService, type ScriptedRule } from '../../src/services/scripted/index.js';
import { ConversationSimulation } from '../../src/testing/conversation-simulation.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { synthesizeSpeech } from '../../src/testing/speech.js';
import { MemoryTransport } from '../../src/transports/index.js';
import { MinWordsInterruptionStrategy } from '../../src/turns/index.js';
import { VOICE_AGENT_CHANNEL, VoiceAgent, type ActionOptions, type CascadeActionOptions, type VoiceAgentDiagnostic } from '../../src/voice-agent/index.js';

const GREETING = 'Hello! How can I help you today?';

const weather = new FunctionSchema({
  name: 'get_weather',
  description: 'Current weather in a city.',
  properties: { city: { type: 'string', description: 'The city' } },
  required: ['city'],
});

const rules: ScriptedRule[] = [
  {
    match: /weather in (\w+)/i,
    reply: 'Let me check.',
    toolCall: { name: 'get_weather', arguments: (_text, m) => ({ city: m?.[1] ?? '' }) },
    afterTool: 'It is {result.temp_c} degrees and {result.conditions}.',
  },
  { match: /opening hours|open/i, reply: 'We are open from nine to five, Monday to Friday. Is there anything else?' },
  { match: /tell me a story/i, reply: 'Once upon a time there was a very long story that went on and on and on for a long while. It had many sentences. And then some more.' },
];

interface Harness {
  transport: MemoryTransport;
  voice: VoiceAgent;
  tts: FakeTTSService;
  done: Promise<void>;
  userTurns: string[];
  assistantTurns: { text: string; interrupted: boolean }[];
  toolCalls: { name: string; arguments: unknown; result: unknown; error?: string }[];
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
}

const running: Harness[] = [];

afterEach(async () => {
  for (const h of running.splice(0)) {
    h.transport.caller.hangUp();
    await h.done;
  }
});

async function startCall(options: {
  transcripts: string[];
  interimAfterMs?: number;
  action?: Partial<CascadeActionOptions>;
  tools?: (voice: VoiceAgent) => void;
  msPerCharacter?: number;
  observers?: ActionOptions['observers'];
}): Promise<Harness> {
  const transport = new MemoryTransport({ callerSampleRate: 16000 });
  const voice = new VoiceAgent({ instructions: 'You are a helpful assistant.', greeting: GREETING, logger: silentLogger });
  options.tools?.(voice);
  const tts = new FakeTTSService({ msPerCharacter: options.msPerCharacter ?? 20 });
  await voice.action({
    stt: new ScriptedSTTService({ transcripts: options.transcripts, interimAfterMs: options.interimAfterMs }),
    llm: new ScriptedLLMService({ rules }),
    tts,
    vad: true,
    transport,
    observers: options.observers,
    ...options.action,
  });
  const h: Harness = {
    transport,
    voice,
    tts,
    done: voice.start(),
    userTurns: [],
    assistantTurns: [],
    toolCalls: [],
    waitFor: async (predicate, timeoutMs = 10_000) => {
      const until = performance.now() + timeoutMs;
      while (!predicate()) {
        if (performance.now() > until) throw new Error('timed out waiting for the conversation');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
  voice.events.on('user-turn', (text) => h.userTurns.push(text));
  voice.events.on('assistant-turn', (text, interrupted) => h.assistantTurns.push({ text, interrupted }));
  voice.events.on('tool-call', (call) => h.toolCalls.push(call));
  running.push(h);
  transport.caller.connect();
  return h;
}

/** Whether a received chunk carries the fake TTS tone (not silence). */
function isSpeech(chunk: Int16Array): boolean {
  let peak = 0;
  for (const s of chunk) peak = Math.max(peak, Math.abs(s));
  return peak > 1000;
}

describe('VoiceAgent conversation (real VAD, scripted STT/LLM, fake TTS)', () => {
  it('greets, answers a question with a tool call, and keeps the context in order', async () => {
    const h = await startCall({
      transcripts: ['What is the weather in Paris?'],
      tools: (voice) =>
        voice.addTool(weather, async ({ city }) => ({ city, temp_c: 18, conditions: 'sunny' })),
    });
    // The greeting is heard as soon as the caller is connected.
    const first = await h.transport.caller.nextAudio();
    expect(first.sampleRate).toBe(8000);
    await h.waitFor(() => h.assistantTurns.length >= 1);
    expect(h.assistantTurns[0]).toEqual({ text: GREETING, interrupted: false });

    await h.transport.caller.say(await synthesizeSpeech('What is the weather in Paris?', { sampleRate: 16000 }));
    await h.waitFor(() => h.assistantTurns.some((t) => t.text.includes('degrees')));

    expect(h.userTurns).toEqual(['What is the weather in Paris?']);
    expect(h.toolCalls).toEqual([
      {
        toolCallId: expect.any(String) as string,
        name: 'get_weather',
        arguments: { city: 'Paris' },
        result: { city: 'Paris', temp_c: 18, conditions: 'sunny' },
        error: undefined,
      },
    ]);
    expect(h.tts.spoken).toContain('It is 18 degrees and sunny.');
    // The history in the order the caller lived it: "Let me check." was said before the tool ran, so it is the
    // content of the message that called it; the results follow that message; the answer comes after them.
    const messages = h.voice.context.messages;
    expect(messages.map((m) => m.role)).toEqual(['system', 'assistant', 'user', 'assistant', 'tool', 'assistant']);
    expect(messages[3]).toMatchObject({ role: 'assistant', content: 'Let me check.', toolCalls: [{ name: 'get_weather' }] });
    expect(messages[4]).toMatchObject({ role: 'tool', name: 'get_weather' });
    expect(messages[5]).toEqual({ role: 'assistant', content: 'It is 18 degrees and sunny.' });
    const received = h.transport.caller.received;
    expect(received.filter((c) => isSpeech(c.audio)).length).toBeGreaterThan(10);
  }, 30_000);
});

// The same behaviours on a VirtualClock: EnergyVAD on the caller's line and a scripted STT that hears what the
// simulated caller says, so each scenario runs in milliseconds and the same way every time.
describe('VoiceAgent conversation in simulated time', () => {
  async function simulate(options: { tools?: (voice: VoiceAgent) => void; action?: Partial<CascadeActionOptions>; msPerCharacter?: number } = {}) {
    const sim = new ConversationSimulation();
    const voice = new VoiceAgent({ instructions: 'You are a helpful assistant.', greeting: GREETING, logger: silentLogger });
    options.tools?.(voice);
    const tts = new FakeTTSService({ msPerCharacter: options.msPerCharacter ?? 20 });
    await voice.action({ ...sim.services, llm: new ScriptedLLMService({ rules }), tts, ...options.action });
    await sim.start(voice);
    await sim.waitForAgent(GREETING);
    return { sim, voice, tts };
  }

  it('a throwing tool yields a spoken apology and the call goes on', async () => {
    const { sim, voice } = await simulate({
      tools: (v) =>
        v.addTool(weather, () => {
          throw new Error('weather backend down');
        }),
    });
    await sim.say('What is the weather in Paris?');
    await sim.waitForAgent('something went wrong');
    const tool = sim.events.find((e) => e.kind === 'tool');
    expect(tool).toMatchObject({ name: 'get_weather', error: expect.stringMatching(/failed: weather backend down/) as string });
    expect(voice.context.messages.find((m) => m.role === 'tool')?.content).toContain('weather backend down');
    await sim.say('What are your opening hours?');
    await sim.waitForAgent('nine to five');
    await sim.hangUp();
  });

  it('the tool-call diagnostic says when the tool was called as well as when it returned', async () => {
    const diagnostics: VoiceAgentDiagnostic[] = [];
    const listen = (message: unknown): void => void diagnostics.push(message as VoiceAgentDiagnostic);
    subscribe(VOICE_AGENT_CHANNEL, listen);
    try {
      const sim = new ConversationSimulation();
      const voice = new VoiceAgent({ instructions: 'You are a helpful assistant.', greeting: GREETING, logger: silentLogger });
      voice.addTool(weather, () => new Promise((resolve) => sim.clock.setTimeout(() => resolve({ temp_c: 21, conditions: 'sunny' }), 300)));
      await voice.action({ ...sim.services, llm: new ScriptedLLMService({ rules }), tts: new FakeTTSService({ msPerCharacter: 20 }) });
      await sim.start(voice);
      await sim.waitForAgent(GREETING);
      await sim.say('What is the weather in Paris?');
      await sim.waitForAgent('21 degrees');
      const tool = diagnostics.find((d) => d.event === 'tool-call');
      expect(tool).toMatchObject({ event: 'tool-call', name: 'get_weather', result: { temp_c: 21, conditions: 'sunny' } });
      if (tool?.event !== 'tool-call') throw new Error('no tool-call diagnostic');
      expect(tool.at - tool.startedAt).toBe(300);
      await sim.hangUp();
    } finally {
      unsubscribe(VOICE_AGENT_CHANNEL, listen);
    }
  });

  it('an interruption stops the audio at once and trims the history to what was heard', async () => {
    const { sim, voice } = await simulate({ msPerCharacter: 60 });
    await sim.say('Tell me a story');
    await sim.waitForAgentSpeech();
    await sim.wait(1500);
    const before = sim.transport.caller.received.length;
    const sayDone = sim.say('What are your opening hours?');
    // The caller's first words interrupt: from then on no story audio is written (the EnergyVAD needs 60 ms of
    // speech to start a turn, the scripted STT an interim after 250 ms).
    await sim.runUntil(() => sim.events.some((e) => e.kind === 'agent' && e.interrupted), 'the story to be cut off');
    const cutAt = sim.transport.caller.received.length;
    await sayDone;
    await sim.waitForAgent('nine to five');
    const story = sim.events.find((e) => e.kind === 'agent' && e.interrupted) as { text: string };
    const full = rules[2]!.reply!;
    expect(full.startsWith(story.text)).toBe(true);
    expect(story.text.length).toBeGreaterThan(10);
    expect(story.text.length).toBeLessThan(full.length / 2);
    expect(voice.context.messages.find((m) => m.role === 'assistant' && m.content.startsWith('Once'))?.content).toBe(story.text);
    // Between the cut and the answer only silence reached the caller.
    const answerStart = sim.transport.caller.received.findIndex((c, i) => i >= cutAt && isSpeech(c.audio));
    expect(sim.transport.caller.received.slice(cutAt, answerStart).every((c) => !isSpeech(c.audio))).toBe(true);
    expect(cutAt).toBeGreaterThan(before);
    await sim.hangUp();
  });

  it('by default a backchannel over the bot does not interrupt it, and "wait" does', async () => {
    const { sim } = await simulate({ msPerCharacter: 40 });
    await sim.say('Tell me a story');
    await sim.waitForAgentSpeech();
    await sim.wait(800);
    await sim.say('mm-hmm');
    await sim.wait(800);
    expect(sim.events.filter((e) => e.kind === 'agent' && e.interrupted)).toEqual([]);
    await sim.say('wait');
    await sim.wait(1500);
    expect(sim.events.filter((e) => e.kind === 'agent' && e.interrupted)).toHaveLength(1);
    expect(sim.events.filter((e) => e.kind === 'caller').map((e) => (e as { text: string }).text)).toEqual(['Tell me a story', 'wait']);
    await sim.hangUp();
  });

  it('speech over the bot that does not satisfy the strategy does not interrupt it', async () => {
    const { sim } = await simulate({
      msPerCharacter: 40,
      action: { interruptionStrategy: new MinWordsInterruptionStrategy({ minWords: 3 }) },
    });
    await sim.say('Tell me a story');
    await sim.waitForAgentSpeech();
    await sim.wait(800);
    await sim.say('uh huh');
    const told = await sim.waitForAgent('And then some more.');
    expect(told.startsWith('Once upon')).toBe(true);
    expect(sim.events.filter((e) => e.kind === 'agent' && e.interrupted)).toEqual([]);
    // The backchannel was discarded: no user turn for it, no reply to it.
    expect(sim.events.filter((e) => e.kind === 'caller').map((e) => (e as { text: string }).text)).toEqual(['Tell me a story']);
    await sim.hangUp();
  });
});
