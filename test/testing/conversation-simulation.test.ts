// A whole conversation in simulated time: a minute of call — greeting, a question answered with a tool, a story
// the caller cuts off, an idle reprompt, a goodbye that ends the call — run through the real pipeline (output
// pacing, VAD, turns, interruptions, tools, idle timer) on a VirtualClock.
import { describe, expect, it } from 'vitest';
import type { LLMMessage } from '../../src/frames/index.js';
import { FunctionSchema } from '../../src/llm/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { ScriptedLLMService, type ScriptedRule } from '../../src/services/scripted/index.js';
import { ConversationSimulation, FakeTTSService, type SimulationEvent } from '../../src/testing/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';

const STORY =
  'Once upon a time there was a lighthouse keeper who counted ships. Every night he counted them twice. ' +
  'One night a ship did not come back, and he went out to look for it.';

const rules: ScriptedRule[] = [
  {
    match: /weather in (\w+)/i,
    reply: 'Let me check.',
    toolCall: { name: 'get_weather', arguments: (_text, m) => ({ city: m?.[1] ?? '' }) },
    afterTool: 'It is {result.temp_c} degrees and {result.conditions} in {result.city}.',
  },
  { match: /story/i, reply: STORY },
  { match: /opening hours/i, reply: 'We are open from nine to five, Monday to Friday.' },
  { match: /goodbye/i, reply: 'Thank you for calling. Goodbye!', toolCall: { name: 'end_call' } },
];

interface ConversationRun {
  events: SimulationEvent[];
  history: readonly LLMMessage[];
  simulatedMs: number;
  wallMs: number;
}

async function runConversation(): Promise<ConversationRun> {
  const wallStart = performance.now();
  const sim = new ConversationSimulation();
  const voice = new VoiceAgent({
    instructions: 'You are a helpful assistant.',
    greeting: 'Hello! How can I help you today?',
    idleTimeoutSecs: 25,
    idleReprompt: 'Are you still there?',
    logger: silentLogger,
  });
  voice.addTool(
    new FunctionSchema({
      name: 'get_weather',
      description: 'Current weather in a city.',
      properties: { city: { type: 'string' } },
      required: ['city'],
    }),
    async ({ city }) => ({ city, temp_c: 18, conditions: 'sunny' }),
  );
  voice.addTool(
    new FunctionSchema({ name: 'end_call', description: 'Ends the call after the goodbye.', properties: {} }),
    () => {
      voice.stop('caller said goodbye');
      return { ended: true };
    },
    { runLLM: false },
  );
  await voice.action({
    ...sim.services,
    llm: new ScriptedLLMService({ rules, wordDelayMs: 30 }),
    tts: new FakeTTSService({ msPerCharacter: 60, latencyMs: 150 }),
  });
  await sim.start(voice);
  await sim.waitForAgent('How can I help');
  await sim.wait(2000);

  await sim.say('What is the weather in Paris?');
  await sim.waitForAgent('degrees');
  await sim.wait(5000);

  await sim.say('Tell me a story');
  await sim.waitForAgentSpeech();
  await sim.wait(3000); // a few seconds of the story, then the caller cuts in
  await sim.say('What are your opening hours?');
  await sim.waitForAgent('nine to five');

  await sim.waitForAgent('Are you still there?'); // 25 s of silence

  await sim.wait(4000);
  await sim.say('No that is all, goodbye');
  expect(sim.callEnded).toBe(false);
  await sim.waitForEnd();
  expect(sim.callEnded).toBe(true);
  return { events: sim.events, history: voice.context.messages, simulatedMs: sim.nowMs, wallMs: performance.now() - wallStart };
}

function describeEvent(e: SimulationEvent): string {
  if (e.kind === 'tool') return `tool ${e.name}`;
  return e.kind === 'agent' ? `agent${e.interrupted ? ' (cut off)' : ''}: ${e.text}` : `caller: ${e.text}`;
}

describe('ConversationSimulation', () => {
  it('runs a minute-long conversation with a tool call, a barge-in and an idle reprompt far faster than real time', async () => {
    const { events, history, simulatedMs, wallMs } = await runConversation();
    expect(events.map(describeEvent)).toEqual([
      'agent: Hello! How can I help you today?',
      'caller: What is the weather in Paris?',
      'tool get_weather',
      'agent: Let me check.',
      'agent: It is 18 degrees and sunny in Paris.',
      'caller: Tell me a story',
      'agent (cut off): Once upon a time there was a lighthouse keeper who',
      'caller: What are your opening hours?',
      'agent: We are open from nine to five, Monday to Friday.',
      'agent: Are you still there?',
      'caller: No that is all, goodbye',
      'tool end_call',
      'agent: Thank you for calling. Goodbye!',
    ]);
    // The history, as the caller heard it: the story only up to the barge-in; tool calls with what was said before
    // them, their results right after.
    expect(history.map((m) => (m.role === 'tool' ? `tool ${m.name}` : `${m.role}: ${m.content}`))).toEqual([
      'system: You are a helpful assistant.',
      'assistant: Hello! How can I help you today?',
      'user: What is the weather in Paris?',
      'assistant: Let me check.',
      'tool get_weather',
      'assistant: It is 18 degrees and sunny in Paris.',
      'user: Tell me a story',
      'assistant: Once upon a time there was a lighthouse keeper who',
      'user: What are your opening hours?',
      'assistant: We are open from nine to five, Monday to Friday. Are you still there?',
      'user: No that is all, goodbye',
      'assistant: Thank you for calling. Goodbye!',
      'tool end_call',
    ]);
    // Three seconds of the story were heard before the caller cut in (60 ms a character).
    const story = events.find((e) => e.kind === 'agent' && e.interrupted);
    expect(STORY.startsWith((story as { text: string }).text)).toBe(true);
    // The reprompt came 25 s after the last words of either side.
    const reprompt = events.findIndex((e) => e.kind === 'agent' && e.text === 'Are you still there?');
    expect(events[reprompt]!.atMs - events[reprompt - 1]!.atMs).toBeGreaterThanOrEqual(25_000);
    expect(simulatedMs).toBeGreaterThan(55_000);
    expect(simulatedMs).toBeLessThan(75_000);
    // About 0.3 s here on a quiet machine; the bound only says "far faster than real time", so that a busy CI
    // machine cannot fail it.
    expect(wallMs).toBeLessThan(simulatedMs / 10);
  });

  it('gives the same conversation, to the millisecond, on 20 runs', async () => {
    const first = await runConversation();
    for (let run = 1; run < 20; run++) {
      const again = await runConversation();
      expect(again.events).toEqual(first.events);
      expect(again.history).toEqual(first.history);
      expect(again.simulatedMs).toBe(first.simulatedMs);
    }
  });
});
