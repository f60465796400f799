// Echo cancellation in a whole call, in simulated time: the caller is on a speakerphone (the agent's audio comes
// back into the line 30 ms later at -6 dB, with a reflection) and barge-in is immediate (`interruptionStrategy:
// null`: any voice the EnergyVAD detects over the agent interrupts it), so an echo that gets through is heard as
// a barge-in at once.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import { ConversationSimulation } from '../../src/testing/conversation-simulation.js';
import { FakeTTSService } from '../../src/testing/fake-services.js';
import { synthesizeSpeech } from '../../src/testing/speech.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';

const GREETING = 'Hello! How can I help you today?';
const rules = [
  { match: /story/i, reply: 'Once upon a time.' },
  { match: /opening hours/i, reply: 'We are open from nine to five.' },
];

async function speakerphoneCall(echoCancellation: boolean) {
  // Every line the agent says is this recording (real speech, so the echo has a voice's spectrum and pauses).
  const voiceAudio = await synthesizeSpeech('Once upon a time a ship sailed across the sea, and the sailors sang all night long.', { sampleRate: 16000 });
  const sim = new ConversationSimulation({ echo: { levelDb: -6, delayMs: 30 } });
  const voice = new VoiceAgent({ instructions: 'Tell stories.', greeting: GREETING, logger: silentLogger });
  await voice.action({
    ...sim.services,
    llm: new ScriptedLLMService({ rules }),
    tts: new FakeTTSService({ audio: voiceAudio, sampleRate: 16000 }),
    interruptionStrategy: null,
    echoCancellation,
  });
  await sim.start(voice);
  return sim;
}

describe('echo cancellation in a call', () => {
  it('without it, the agent hears its own voice on a speakerphone and interrupts itself', async () => {
    const sim = await speakerphoneCall(false);
    // The greeting's first words come back and cut it off; the agent resumes (a false interruption) and is cut off
    // again, over and over: in 8 s the caller hears less than half of the 5 s greeting, and it never ends.
    await sim.wait(8000);
    const heardMs = sim.transport.caller.received.length * 20;
    expect(heardMs).toBeLessThan(2500);
    expect(sim.events.filter((e) => e.kind === 'agent' && !e.interrupted)).toEqual([]);
    await sim.hangUp();
  });

  it('with it, the agent talks over its own echo, and the caller talking over the agent still interrupts it', async () => {
    const sim = await speakerphoneCall(true);
    await sim.waitForAgent(GREETING);
    await sim.say('Tell me a story');
    await sim.waitForAgentSpeech();
    await sim.wait(1500);
    // Double talk: the caller's voice over the agent's echo.
    await sim.say('What are your opening hours?');
    await sim.waitForAgent('nine to five');
    await sim.wait(500);
    const lines = sim.events.map((e) => (e.kind === 'agent' ? { agent: e.text, interrupted: e.interrupted } : e.kind === 'caller' ? { caller: e.text } : e));
    expect(lines).toEqual([
      { agent: GREETING, interrupted: false },
      { caller: 'Tell me a story' },
      { agent: expect.stringMatching(/^Once/) as string, interrupted: true },
      { caller: 'What are your opening hours?' },
      { agent: 'We are open from nine to five.', interrupted: false },
    ]);
    await sim.hangUp();
  });

  it('rejects an echoCancellation that is not a boolean', async () => {
    const voice = new VoiceAgent({ instructions: 'x', logger: silentLogger });
    const sim = new ConversationSimulation();
    await expect(
      voice.action({ ...sim.services, llm: new ScriptedLLMService({ rules }), tts: new FakeTTSService(), echoCancellation: 'speex' as unknown as boolean }),
    ).rejects.toThrow(/echoCancellation must be true or false, got "speex"/);
  });
});
