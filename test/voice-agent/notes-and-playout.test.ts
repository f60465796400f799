// VoiceAgent.addNote (a note the model reads and the caller does not hear, answered now with respond: true) and
// VoiceAgent.speechPlayed (resolves when what the bot was given to say has been played), in simulated time.
import { describe, expect, it } from 'vitest';
import type { LLMContextSnapshot } from '../../src/frames/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { LLMService } from '../../src/services/base/llm-service.js';
import type { LLMStreamEvent } from '../../src/services/base/llm-stream.js';
import { ConversationSimulation, FakeTTSService } from '../../src/testing/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';

/** Answers every request with the last message's first word, and keeps the requests. */
class EchoLLM extends LLMService {
  readonly requests: LLMContextSnapshot[] = [];
  constructor() {
    super({ model: 'echo' });
  }
  async *streamCompletion(context: LLMContextSnapshot): AsyncGenerator<LLMStreamEvent> {
    this.requests.push(context);
    yield { type: 'text', text: `Noted ${context.messages.at(-1)!.content.split(' ')[0]}.` };
  }
}

async function start() {
  const sim = new ConversationSimulation();
  const voice = new VoiceAgent({ instructions: 'prompt', greeting: 'Hello there, welcome!', logger: silentLogger });
  const llm = new EchoLLM();
  await voice.action({ ...sim.services, llm, tts: new FakeTTSService({ msPerCharacter: 50 }) });
  return { sim, voice, llm };
}

describe('VoiceAgent.addNote', () => {
  it('joins the history as a system message; with respond the model answers it at once', async () => {
    const { sim, voice, llm } = await start();
    voice.addNote('Before the call.');
    await sim.start(voice);
    await sim.waitForAgent('welcome');
    voice.addNote('Quietly noted.');
    await sim.wait(1000);
    expect(llm.requests).toHaveLength(0);
    voice.addNote('Update: the transfer failed.', { respond: true });
    await sim.waitForAgent('Noted Update');
    expect(llm.requests[0]!.messages.map((m) => `${m.role}: ${m.content}`)).toEqual([
      'system: prompt',
      'system: Before the call.',
      'assistant: Hello there, welcome!',
      'system: Quietly noted.',
      'system: Update: the transfer failed.',
    ]);
    await sim.hangUp();
  });
});

describe('VoiceAgent.speechPlayed', () => {
  it("resolves 'played' once the greeting has been heard, 'ended' before the start and after the end", async () => {
    const { sim, voice } = await start();
    expect(await voice.speechPlayed()).toBe('ended');
    await sim.start(voice);
    let playout: string | undefined;
    void voice.speechPlayed().then((p) => (playout = p));
    await sim.waitForAgentSpeech();
    expect(playout).toBeUndefined();
    await sim.runUntil(() => playout !== undefined);
    expect(playout).toBe('played');
    // The whole greeting (21 characters at 50 ms) has reached the caller by then.
    const heardMs = sim.transport.caller.received.filter((c) => c.audio.some((s) => s !== 0)).length * 20;
    expect(heardMs).toBeGreaterThanOrEqual(21 * 50);
    expect(voice.signal.aborted).toBe(false);
    await sim.hangUp();
    expect(voice.signal.aborted).toBe(true);
    expect(await voice.speechPlayed()).toBe('ended');
  });

  it("resolves 'interrupted' when the caller barges in first", async () => {
    const { sim, voice } = await start();
    await sim.start(voice);
    let playout: string | undefined;
    void voice.speechPlayed().then((p) => (playout = p));
    await sim.waitForAgentSpeech();
    await sim.say('stop please');
    await sim.runUntil(() => playout !== undefined);
    expect(playout).toBe('interrupted');
    await sim.hangUp();
  });
});
