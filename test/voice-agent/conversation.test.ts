// Whole conversations over the in-memory transport: real Silero VAD on real (Flite) speech fed in real time, a
// scripted STT that knows the caller's lines, the scripted LLM, and a fake TTS with zero latency.
import { afterEach, describe, expect, it } from 'vitest';
import { FunctionSchema } from '../../src/llm/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { ScriptedLLMService, type ScriptedRule } from '../../src/services/scripted/index.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { synthesizeSpeech } from '../../src/testing/speech.js';
import { MemoryTransport } from '../../src/transports/index.js';
import { MinWordsInterruptionStrategy } from '../../src/turns/index.js';
import { VoiceAgent, type ActionOptions } from '../../src/voice-agent/index.js';

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
  action?: Partial<ActionOptions>;
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

  it('a throwing tool yields a spoken apology and the call goes on', async () => {
    const h = await startCall({
      transcripts: ['What is the weather in Paris?', 'What are your opening hours?'],
      tools: (voice) =>
        voice.addTool(weather, () => {
          throw new Error('weather backend down');
        }),
    });
    await h.waitFor(() => h.assistantTurns.length >= 1);
    await h.transport.caller.say(await synthesizeSpeech('What is the weather in Paris?', { sampleRate: 16000 }));
    await h.waitFor(() => h.assistantTurns.some((t) => t.text.includes('something went wrong')));
    expect(h.toolCalls[0]?.error).toMatch(/failed: weather backend down/);
    const toolMessage = h.voice.context.messages.find((m) => m.role === 'tool');
    expect(toolMessage?.content).toContain('weather backend down');

    await h.transport.caller.say(await synthesizeSpeech('What are your opening hours?', { sampleRate: 16000 }));
    await h.waitFor(() => h.assistantTurns.some((t) => t.text.includes('nine to five')));
  }, 30_000);

  it('an interruption stops the audio within one chunk and trims the context to what was heard', async () => {
    let interruptedAt = 0;
    const h = await startCall({
      transcripts: ['Tell me a story', 'What are your opening hours?'],
      interimAfterMs: 250,
      msPerCharacter: 60,
      observers: [
        {
          onProcessFrame: (e) => {
            if (e.frame.type === 'interruption' && e.processor.name === 'memory-output') interruptedAt = e.timestamp;
          },
        },
      ],
    });
    await h.waitFor(() => h.assistantTurns.length >= 1);
    await h.transport.caller.say(await synthesizeSpeech('Tell me a story', { sampleRate: 16000 }));
    // Let the story play for a while, then barge in.
    await h.waitFor(() => h.tts.spoken.some((t) => t.startsWith('Once upon')));
    await new Promise((r) => setTimeout(r, 1500));
    await h.transport.caller.say(await synthesizeSpeech('What are your opening hours?', { sampleRate: 16000 }));
    await h.waitFor(() => h.assistantTurns.some((t) => t.text.includes('nine to five')));
    expect(h.userTurns).toEqual(['Tell me a story', 'What are your opening hours?']);

    // What the caller heard of the story is a prefix of it, and exactly that was committed.
    const storyTurn = h.assistantTurns.find((t) => t.interrupted)!;
    const story = rules[2]!.reply!;
    expect(storyTurn.text.length).toBeGreaterThan(10);
    expect(storyTurn.text.length).toBeLessThan(story.length / 2);
    expect(story.startsWith(storyTurn.text)).toBe(true);
    expect(h.voice.context.messages.find((m) => m.role === 'assistant' && m.content.startsWith('Once'))?.content).toBe(
      storyTurn.text,
    );

    // The story's audio stopped at the interruption: the next speech chunk is the new answer, which comes only
    // after the caller finished the question (so well over one chunk later).
    expect(interruptedAt).toBeGreaterThan(0);
    const speechBefore = h.transport.caller.received.filter((c) => c.at <= interruptedAt && isSpeech(c.audio));
    const speechAfter = h.transport.caller.received.filter((c) => c.at > interruptedAt && isSpeech(c.audio));
    expect(speechBefore.length).toBeGreaterThan(50); // 1.5 s of story at least
    expect(speechAfter[0]!.at - interruptedAt).toBeGreaterThan(300);
  }, 30_000);

  it('speech over the bot that does not satisfy the strategy does not interrupt it', async () => {
    const h = await startCall({
      transcripts: ['Tell me a story', 'uh huh'],
      interimAfterMs: 150,
      msPerCharacter: 40,
      action: { interruptionStrategy: new MinWordsInterruptionStrategy({ minWords: 3 }) },
    });
    await h.waitFor(() => h.assistantTurns.length >= 1);
    await h.transport.caller.say(await synthesizeSpeech('Tell me a story', { sampleRate: 16000 }));
    await h.waitFor(() => h.tts.spoken.some((t) => t.startsWith('Once upon')));
    await new Promise((r) => setTimeout(r, 800));
    await h.transport.caller.say(await synthesizeSpeech('uh huh', { sampleRate: 16000 }));
    await h.waitFor(() => h.assistantTurns.length >= 2, 15_000);
    expect(h.assistantTurns[1]).toMatchObject({ interrupted: false });
    expect(h.assistantTurns[1]!.text).toContain('And then some more.');
    // The backchannel was discarded: no user message for it, no reply to it.
    expect(h.userTurns).toEqual(['Tell me a story']);
  }, 30_000);
});
