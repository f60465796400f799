// VoiceAgent's own behaviour: setup errors, greeting on connect, idle reprompt and hang-up, VAD options taking
// effect, false interruptions, and the end of the call.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { synthesizeSpeech } from '../../src/testing/speech.js';
import { MemoryTransport } from '../../src/transports/index.js';
import { VoiceAgent, type ActionOptions, type VoiceAgentOptions } from '../../src/voice-agent/index.js';

const STORY =
  'Once upon a time there was a very long story that went on and on for a long while before it ended.';

function services(transcripts: string[] = [], tts = new FakeTTSService({ msPerCharacter: 20 })): ActionOptions {
  return {
    stt: new ScriptedSTTService({ transcripts, interimAfterMs: 200 }),
    llm: new ScriptedLLMService({ rules: [{ match: /story/i, reply: STORY }], fallback: 'Sure.' }),
    tts,
  };
}

function agent(options: Partial<VoiceAgentOptions> = {}): VoiceAgent {
  return new VoiceAgent({ instructions: 'Be brief.', logger: silentLogger, idleTimeoutSecs: 0, ...options });
}

async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('VoiceAgent', () => {
  it('refuses to start before action(), and action() without a service', async () => {
    const voice = agent();
    await expect(voice.start()).rejects.toThrow(/start\(\) was called before action\(\)/);
    await expect(voice.action({ ...services(), llm: undefined } as unknown as ActionOptions)).rejects.toThrow(
      /llm is required/,
    );
  });

  it('refuses to start without a transport', async () => {
    const voice = agent();
    await voice.action(services());
    await expect(voice.start()).rejects.toThrow(/no transport/);
  });

  it('puts the instructions first in the context and advertises added tools', async () => {
    const { FunctionSchema } = await import('../../src/llm/index.js');
    const voice = agent({ instructions: 'You are a bank assistant.' });
    voice.addTool(
      new FunctionSchema({ name: 'balance', description: 'Account balance', properties: {}, required: [] }),
      () => ({ balance: 10 }),
    );
    expect(voice.context.messages).toEqual([{ role: 'system', content: 'You are a bank assistant.' }]);
    expect(voice.context.tools.map((t) => t.name)).toEqual(['balance']);
  });

  it('greets only once the caller is connected, and ends when the caller hangs up', async () => {
    const transport = new MemoryTransport();
    const voice = agent({ greeting: 'Welcome to the bank.' });
    await voice.action({ ...services(), transport });
    const turns: string[] = [];
    voice.events.on('assistant-turn', (text) => turns.push(text));
    const done = voice.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(transport.caller.received).toHaveLength(0);
    transport.caller.connect();
    await until(() => turns.length === 1);
    expect(turns).toEqual(['Welcome to the bank.']);
    transport.caller.hangUp();
    await done;
  });

  it('reprompts a silent caller once, then says goodbye and ends the call', async () => {
    const transport = new MemoryTransport();
    const tts = new FakeTTSService({ msPerCharacter: 5 });
    const voice = agent({
      greeting: 'Hi.',
      idleTimeoutSecs: 0.4,
      idleReprompt: 'Are you there?',
      idleGoodbye: 'Goodbye.',
    });
    await voice.action({ ...services([], tts), transport });
    const turns: string[] = [];
    voice.events.on('assistant-turn', (text) => turns.push(text));
    const started = performance.now();
    const done = voice.start();
    transport.caller.connect();
    await done; // ends by itself
    expect(turns).toEqual(['Hi.', 'Are you there?', 'Goodbye.']);
    // greeting + idle + reprompt + idle + goodbye: at least two idle periods
    expect(performance.now() - started).toBeGreaterThan(800);
    // The goodbye was played to the end before the call ended.
    const goodbyeSamples = (tts.durationMs('Goodbye.') * 8000) / 1000;
    expect(transport.caller.received.length * 160).toBeGreaterThan(goodbyeSamples);
  });

  it('applies the VAD options it is given (a longer stop time ends turns later)', async () => {
    const speech = await synthesizeSpeech('What are your opening hours?', { sampleRate: 16000 });
    const endOfTurnDelay = async (stopSecs: number): Promise<number> => {
      const transport = new MemoryTransport();
      const voice = agent();
      let stoppedAt = 0;
      await voice.action({
        ...services(['What are your opening hours?']),
        vad: { stopSecs },
        transport,
        observers: [
          {
            onProcessFrame: (e) => {
              if (e.frame.type === 'user-stopped-speaking' && stoppedAt === 0) stoppedAt = e.timestamp;
            },
          },
        ],
      });
      const done = voice.start();
      transport.caller.connect();
      await transport.caller.say(speech);
      const speechEnd = performance.now();
      await until(() => stoppedAt > 0);
      transport.caller.hangUp();
      await done;
      return stoppedAt - speechEnd;
    };
    const short = await endOfTurnDelay(0.2);
    const long = await endOfTurnDelay(0.8);
    expect(short).toBeLessThan(450);
    expect(long - short).toBeGreaterThan(400);
  }, 20_000);

  it('resumes what it was saying after a false interruption (speech with no words)', async () => {
    const transport = new MemoryTransport();
    const tts = new FakeTTSService({ msPerCharacter: 45 });
    const voice = agent();
    // Turn 0 asks for the story; turn 1 is a noise the STT hears no words in.
    await voice.action({ ...services(['Tell me a story', ''], tts), vad: true, transport, interruptionStrategy: null });
    const turns: { text: string; interrupted: boolean }[] = [];
    voice.events.on('assistant-turn', (text, interrupted) => turns.push({ text, interrupted }));
    const done = voice.start();
    transport.caller.connect();
    await transport.caller.say(await synthesizeSpeech('Tell me a story', { sampleRate: 16000 }));
    await until(() => tts.spoken.includes(STORY));
    await new Promise((r) => setTimeout(r, 1200));
    await transport.caller.say(await synthesizeSpeech('hmm', { sampleRate: 16000 }));
    await until(() => turns.length >= 2, 15_000);
    const interrupted = turns[0]!;
    expect(interrupted.interrupted).toBe(true);
    expect(STORY.startsWith(interrupted.text)).toBe(true);
    // The rest of the sentence is said again after the false-interruption window.
    const rest = STORY.slice(interrupted.text.length).trim();
    expect(tts.spoken.at(-1)).toBe(rest);
    expect(turns[1]).toEqual({ text: rest, interrupted: false });
    transport.caller.hangUp();
    await done;
  }, 25_000);
});
