// VoiceAgent's own behaviour: setup errors, greeting on connect, idle reprompt and hang-up, VAD options taking
// effect, false interruptions, and the end of the call. The calls run on a VirtualClock, the caller's voice heard
// by an EnergyVAD; only the test of the VAD options runs real Silero on Flite speech, since Silero's settings are
// its subject.
import { describe, expect, it } from 'vitest';
import type { FramePushEvent } from '../../src/pipeline/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import { ConversationSimulation } from '../../src/testing/conversation-simulation.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { synthesizeSpeech } from '../../src/testing/speech.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { MemoryTransport } from '../../src/transports/index.js';
import { VADProcessor } from '../../src/turns/index.js';
import { VoiceAgent, type ActionOptions, type VoiceAgentOptions } from '../../src/voice-agent/index.js';
import { waitUntil } from '../support/wait.js';

const STORY =
  'Once upon a time there was a very long story that went on and on for a long while before it ended.';

const llm = (): ScriptedLLMService => new ScriptedLLMService({ rules: [{ match: /story/i, reply: STORY }], fallback: 'Sure.' });

function services(transcripts: string[] = [], tts = new FakeTTSService({ msPerCharacter: 20 })): ActionOptions {
  return {
    stt: new ScriptedSTTService({ transcripts, interimAfterMs: 200 }),
    llm: llm(),
    tts,
  };
}

function agent(options: Partial<VoiceAgentOptions> = {}): VoiceAgent {
  return new VoiceAgent({ instructions: 'Be brief.', logger: silentLogger, idleTimeoutSecs: 0, ...options });
}

/** Starts the agent; `ended()` says whether its start() has settled. */
function startAgent(voice: VoiceAgent): { done: Promise<void>; ended: () => boolean } {
  let ended = false;
  const done = voice.start();
  void done.then(
    () => (ended = true),
    () => (ended = true),
  );
  return { done, ended: () => ended };
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
    const clock = new VirtualClock();
    const transport = new MemoryTransport({ clock });
    const voice = agent({ greeting: 'Welcome to the bank.' });
    await voice.action({ ...services(), transport, clock });
    const turns: string[] = [];
    voice.events.on('assistant-turn', (text) => turns.push(text));
    const call = startAgent(voice);
    await clock.advance(200);
    expect(transport.caller.received).toHaveLength(0);
    expect(turns).toEqual([]);
    transport.caller.connect();
    await clock.runUntil(() => turns.length === 1, { description: 'the greeting' });
    expect(turns).toEqual(['Welcome to the bank.']);
    // Played from the moment the caller connected.
    expect(transport.caller.received[0]!.at).toBe(200);
    transport.caller.hangUp();
    await clock.runUntil(call.ended, { description: 'the end of the call' });
    await call.done;
  });

  it('reprompts a silent caller once, then says goodbye and ends the call', async () => {
    const clock = new VirtualClock();
    const transport = new MemoryTransport({ clock });
    const tts = new FakeTTSService({ msPerCharacter: 5 });
    const voice = agent({
      greeting: 'Hi.',
      idleTimeoutSecs: 0.4,
      idleReprompt: 'Are you there?',
      idleGoodbye: 'Goodbye.',
    });
    // When the bot starts and stops speaking, as the output transport announces it.
    const speaking: { speaking: boolean; at: number }[] = [];
    const onPushFrame = (e: FramePushEvent): void => {
      if (e.source !== transport.output || e.direction !== 'downstream') return;
      if (e.frame.type === 'bot-started-speaking' || e.frame.type === 'bot-stopped-speaking') {
        speaking.push({ speaking: e.frame.type === 'bot-started-speaking', at: e.timestamp });
      }
    };
    await voice.action({ ...services([], tts), transport, clock, observers: [{ onPushFrame }] });
    const turns: string[] = [];
    voice.events.on('assistant-turn', (text) => turns.push(text));
    const call = startAgent(voice);
    transport.caller.connect();
    await clock.runUntil(call.ended, { description: 'the end of the call' }); // ends by itself
    await call.done;
    expect(turns).toEqual(['Hi.', 'Are you there?', 'Goodbye.']);
    // greeting, 400 ms of silence, reprompt, 400 ms of silence, goodbye: each idle period counted from the moment
    // the bot stopped speaking.
    expect(speaking.map((s) => s.speaking)).toEqual([true, false, true, false, true]);
    const [, greetingEnd, reprompt, repromptEnd, goodbye] = speaking.map((s) => s.at);
    expect(reprompt! - greetingEnd!).toBe(400);
    expect(goodbye! - repromptEnd!).toBe(400);
    expect(clock.now()).toBeGreaterThan(800);
    // The goodbye was played to the end before the call ended.
    const goodbyeSamples = (tts.durationMs('Goodbye.') * 8000) / 1000;
    const goodbyeChunks = transport.caller.received.filter((c) => c.at >= goodbye!);
    expect(goodbyeChunks.length * 160).toBeGreaterThanOrEqual(goodbyeSamples);
  });

  it('applies the VAD options it is given (a longer stop time ends turns later)', async () => {
    // Real Silero on real (Flite) speech. The caller's line is driven frame by frame on a VirtualClock: each 20 ms
    // frame is sent once Silero (on its worker thread, in real time) has analysed the one before, then the clock
    // moves 20 ms. So the end of the turn is measured in simulated time, the same however busy the machine is.
    const speech = await synthesizeSpeech('What are your opening hours?', { sampleRate: 16000 });
    const frameSamples = 320; // 20 ms at 16 kHz
    const endOfTurnDelay = async (stopSecs: number): Promise<number> => {
      const clock = new VirtualClock();
      const transport = new MemoryTransport({ clock });
      const voice = agent();
      let stoppedAt = -1;
      let analysed = 0;
      await voice.action({
        ...services(['What are your opening hours?']),
        vad: { stopSecs },
        transport,
        clock,
        observers: [
          {
            onProcessFrame: (e) => {
              if (e.frame.type === 'user-stopped-speaking' && stoppedAt < 0) stoppedAt = e.timestamp;
            },
            onPushFrame: (e) => {
              if (e.source instanceof VADProcessor && e.frame.type === 'input-audio') analysed++;
            },
          },
        ],
      });
      const call = startAgent(voice);
      const caller = transport.caller;
      caller.connect({ autoSend: false });
      let sent = 0;
      const sendFrame = async (frame: Int16Array): Promise<void> => {
        expect(caller.send(frame)).toBe(true);
        sent++;
        await waitUntil(() => analysed === sent, 15_000, 1);
        await clock.advance(20);
      };
      for (let at = 0; at < speech.length; at += frameSamples) {
        const frame = new Int16Array(frameSamples);
        frame.set(speech.subarray(at, at + frameSamples));
        await sendFrame(frame);
      }
      const speechEnd = clock.now();
      expect(stoppedAt).toBe(-1);
      // Silence until the turn ends (at most 3 s).
      while (stoppedAt < 0 && clock.now() - speechEnd < 3000) await sendFrame(new Int16Array(frameSamples));
      expect(stoppedAt).toBeGreaterThan(speechEnd);
      caller.hangUp();
      await clock.runUntil(call.ended, { description: 'the end of the call' });
      await call.done;
      return stoppedAt - speechEnd;
    };
    const short = await endOfTurnDelay(0.2);
    const long = await endOfTurnDelay(0.8);
    expect(short).toBeLessThan(450);
    expect(long - short).toBeGreaterThan(400);
    // 0.6 s later, to within a Silero window (32 ms) and a frame (here: 160 and 760 ms).
    expect(Math.abs(long - short - 600)).toBeLessThanOrEqual(40);
  }, 30_000);

  it('resumes what it was saying after a false interruption (speech with no words)', async () => {
    const sim = new ConversationSimulation();
    const tts = new FakeTTSService({ msPerCharacter: 45 });
    const voice = agent();
    await voice.action({ ...sim.services, llm: llm(), tts, interruptionStrategy: null });
    const turns: { text: string; interrupted: boolean }[] = [];
    voice.events.on('assistant-turn', (text, interrupted) => turns.push({ text, interrupted }));
    await sim.start(voice);
    await sim.say('Tell me a story');
    await sim.runUntil(() => tts.spoken.includes(STORY), 'the story');
    await sim.wait(1200);
    // A noise: speech the STT hears no words in.
    await sim.say('');
    await sim.runUntil(() => turns.length >= 2, 'two assistant turns');
    const interrupted = turns[0]!;
    expect(interrupted.interrupted).toBe(true);
    expect(STORY.startsWith(interrupted.text)).toBe(true);
    // The rest of the sentence is said again after the false-interruption window.
    const rest = STORY.slice(interrupted.text.length).trim();
    expect(tts.spoken.at(-1)).toBe(rest);
    expect(turns[1]).toEqual({ text: rest, interrupted: false });
    await sim.hangUp();
  });
});
