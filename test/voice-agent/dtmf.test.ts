// Keypad input and output in whole calls, in simulated time (ConversationSimulation): the caller's keys become
// messages any model can answer, a key interrupts the bot, the model presses keys with the ready-made send_dtmf
// tool, and VoiceAgent.sendDtmf presses keys from outside the model.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { makeFrame } from '../../src/frames/index.js';
import { sendDtmfTool } from '../../src/llm/dtmf-tool.js';
import { silentLogger } from '../../src/logging/index.js';
import { ScriptedLLMService, type ScriptedRule } from '../../src/services/scripted/index.js';
import { ConversationSimulation, FakeTTSService } from '../../src/testing/index.js';
import { BaseInputTransport, TransportEventEmitter, type CallTransport } from '../../src/transports/base/index.js';
import { MemoryOutputTransport } from '../../src/transports/memory/index.js';
import { PiopiyStreamTransport } from '../../src/transports/websocket/index.js';
import { VoiceAgent, type VoiceAgentOptions } from '../../src/voice-agent/index.js';

const MENU = 'Welcome to Acme. For sales press 1, for support press 2, or type your order number and then hash.';

const rules: ScriptedRule[] = [
  { match: /pressed: 1$/, reply: 'Connecting you to sales.' },
  { match: /pressed: 2$/, reply: 'Connecting you to support.' },
  { match: /pressed: ((?:\d ){2,}\d)$/, reply: 'Looking up your order.' },
  { match: /pressed: #$/, reply: MENU },
  { match: /check my voicemail/i, reply: 'Entering your code now.', toolCall: { name: 'send_dtmf', arguments: { digits: '1234#' } } },
  { match: /press star/i, reply: 'Pressing star.', toolCall: { name: 'send_dtmf', arguments: { digits: '*' } } },
];

async function call(options: Partial<VoiceAgentOptions> = {}, tools = true): Promise<{ sim: ConversationSimulation; voice: VoiceAgent }> {
  const sim = new ConversationSimulation();
  const voice = new VoiceAgent({ instructions: 'You answer a phone menu.', greeting: MENU, idleTimeoutSecs: 0, logger: silentLogger, ...options });
  if (tools) voice.addTool(sendDtmfTool());
  await voice.action({ ...sim.services, llm: new ScriptedLLMService({ rules }), tts: new FakeTTSService({ msPerCharacter: 30 }) });
  await sim.start(voice);
  return { sim, voice };
}

describe('VoiceAgent keypad input', () => {
  it('"press 1 for sales": the key becomes a message the model answers, after the menu was heard', async () => {
    const { sim } = await call();
    await sim.waitForAgent('Welcome to Acme');
    await sim.pressKeys('1');
    await sim.waitForAgent('Connecting you to sales.');
    expect(sim.events.filter((e) => e.kind !== 'tool').map((e) => e.text)).toEqual([MENU, 'The caller pressed: 1', 'Connecting you to sales.']);
    await sim.hangUp();
  });

  it('an order number typed and ended with # is one message; the 3 s timeout ends an entry without #', async () => {
    const { sim } = await call();
    await sim.waitForAgent('Welcome to Acme');
    await sim.pressKeys('4711#');
    await sim.waitForAgent('Looking up your order.');
    expect(sim.events.map((e) => e.kind === 'caller' && e.text).filter(Boolean)).toEqual(['The caller pressed: 4 7 1 1']);
    const before = sim.nowMs;
    await sim.pressKeys('88w9');
    await sim.waitForAgent('Looking up your order.');
    const entry = sim.events.filter((e) => e.kind === 'caller').at(-1)!;
    expect(entry.kind === 'caller' && entry.text).toBe('The caller pressed: 8 8 9');
    expect(entry.atMs - before).toBe(3500); // the pause, then 3 s after the last key
    await sim.hangUp();
  });

  it('a key while the bot speaks interrupts it at once; it answers the key instead of finishing the menu', async () => {
    const { sim } = await call();
    await sim.waitForAgentSpeech();
    await sim.wait(1000);
    await sim.pressKeys('2');
    await sim.waitForAgent('Connecting you to support.');
    const greeting = sim.events.find((e) => e.kind === 'agent');
    expect(greeting?.kind === 'agent' && greeting.interrupted).toBe(true);
    expect(greeting?.kind === 'agent' && MENU.startsWith(greeting.text) && greeting.text.length < MENU.length).toBe(true);
    await sim.hangUp();
  });

  it('bad dtmf options are refused when the agent is made, not when the call starts', () => {
    expect(() => new VoiceAgent({ instructions: 'x', dtmf: { timeoutMs: -1 } })).toThrow(/dtmf.timeoutMs must be a positive number/);
    expect(() => new VoiceAgent({ instructions: 'x', dtmf: false })).not.toThrow();
  });

  it('dtmf: false ignores keys', async () => {
    const { sim } = await call({ dtmf: false });
    await sim.waitForAgent('Welcome to Acme');
    await sim.pressKeys('1');
    await sim.wait(5000);
    expect(sim.events.filter((e) => e.kind === 'caller')).toEqual([]);
    await sim.hangUp();
  });

  it('dtmf options reach the aggregator: a one-key menu answers at once, with the message it is given', async () => {
    const { sim } = await call({ dtmf: { maxDigits: 1, format: (digits) => `Menu choice pressed: ${digits}` } });
    await sim.waitForAgent('Welcome to Acme');
    const before = sim.nowMs;
    await sim.pressKeys('1');
    await sim.waitForAgent('Connecting you to sales.');
    const entry = sim.events.find((e) => e.kind === 'caller');
    expect(entry).toEqual({ kind: 'caller', text: 'Menu choice pressed: 1', atMs: before });
    await sim.hangUp();
  });
});

describe('VoiceAgent pressing keys', () => {
  it('the ready-made send_dtmf tool presses the keys after what the bot says before them, and the model is not run again', async () => {
    const { sim } = await call();
    await sim.waitForAgent('Welcome to Acme');
    await sim.say('I want to check my voicemail');
    await sim.runUntil(() => sim.transport.caller.receivedDigits === '1234#');
    const tool = sim.events.find((e) => e.kind === 'tool');
    expect(tool).toMatchObject({ kind: 'tool', name: 'send_dtmf', arguments: { digits: '1234#' }, result: 'Pressed 1234#.' });
    // Keys follow the reply's audio: the first key arrives after the last chunk of "Entering your code now.".
    const reply = sim.events.find((e) => e.kind === 'agent' && e.text === 'Entering your code now.');
    expect(reply).toBeDefined();
    const keys = sim.transport.caller.receivedKeys;
    const lastReplyChunk = sim.transport.caller.received.filter((c) => c.at <= keys[0]!.at && c.audio.some((s) => s !== 0)).at(-1)!;
    expect(keys[0]!.at).toBeGreaterThanOrEqual(lastReplyChunk.at);
    expect(keys.map((k) => k.at - keys[0]!.at)).toEqual([0, 300, 600, 900, 1200]);
    await sim.wait(3000);
    expect(sim.events.filter((e) => e.kind === 'agent').map((e) => e.kind === 'agent' && e.text)).toEqual([MENU, 'Entering your code now.']);
    await sim.hangUp();
  });

  it('VoiceAgent.sendDtmf presses keys from outside the model; bad keys and a call not started are refused', async () => {
    const idle = new VoiceAgent({ instructions: 'x', logger: silentLogger });
    expect(() => idle.sendDtmf('1')).toThrow(/the call has not started/);
    const { sim, voice } = await call({ greeting: undefined });
    expect(() => voice.sendDtmf('12x')).toThrow(RangeError);
    voice.sendDtmf('9w#');
    await sim.runUntil(() => sim.transport.caller.receivedDigits === '9#');
    const [nine, hash] = sim.transport.caller.receivedKeys;
    expect(hash!.at - nine!.at).toBe(800); // 300 ms gap + 500 ms pause
    await sim.hangUp();
  });

  it('on a transport that cannot send tones: sendDtmf throws, and the tool tells the model', async () => {
    const sim = new ConversationSimulation();
    const transport: CallTransport = {
      input: new BaseInputTransport({ name: 'no-keys-input' }),
      output: new MemoryOutputTransport((chunk, rate) => sim.transport.caller.deliver(chunk, rate), { name: 'no-keys-output' }),
      events: new TransportEventEmitter(),
      callerConnected: true,
      close: async () => undefined,
    };
    const voice = new VoiceAgent({ instructions: 'x', idleTimeoutSecs: 0, logger: silentLogger });
    voice.addTool(sendDtmfTool());
    const llm = new ScriptedLLMService({ rules });
    await voice.action({ ...sim.services, transport, llm, tts: new FakeTTSService() });
    const tools: { error?: string }[] = [];
    voice.events.on('tool-call', (c) => tools.push(c));
    const done = voice.start();
    await sim.clock.settle();
    expect(() => voice.sendDtmf('1')).toThrow('VoiceAgent.sendDtmf(): sending DTMF tones is not supported by this transport (no-keys-output)');
    // The model asks for a key: the tool fails with the reason, which the model reads.
    void transport.input.queueFrame(makeFrame('transcription', { text: 'press star', final: true, userId: 'caller' }));
    await sim.runUntil(() => tools.length === 1);
    expect(tools[0]!.error).toBe("the tool send_dtmf failed: sending DTMF tones is not supported by this call's transport");
    let finished = false;
    void done.then(() => (finished = true));
    voice.cancel('test over');
    await sim.runUntil(() => finished);
  });

  it("Piopiy's stream transport has no documented way to send tones: it says so", () => {
    const socket = new EventEmitter() as unknown as WebSocket;
    const stream = new PiopiyStreamTransport(socket, { sampleRate: 8000, logger: silentLogger });
    expect(stream.output.canSendDTMF).toBe(false);
  });
});
