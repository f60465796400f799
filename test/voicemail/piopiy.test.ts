// Voicemail detection on Piopiy, end to end and in real time through the local simulator: the agent places an AI
// call (REST `ai.call`), a voicemail answers with a greeting and a beep, and the agent leaves its message after the
// beep and hangs up through the REST API; a person's "Hello?" gets the greeting instead.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { RestClient } from '../../src/piopiy/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import { EnergyVAD } from '../../src/testing/energy-vad.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { startPiopiySimulator, type PiopiySimulator } from '../../src/testing/simulator/index.js';
import { concatAudio, silence, synthesizeSpeech } from '../../src/testing/speech.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';
import type { AnsweringDecision, VoicemailEvent } from '../../src/voicemail/index.js';

const AGENT_ID = '6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const MESSAGE = 'Hi, this is Acme. Your order is ready.';
const GREETING = 'Hello! This is Acme about your order.';

let sim: PiopiySimulator;
let agent: Agent | undefined;

beforeEach(async () => {
  sim = await startPiopiySimulator();
  sim.addAgent({ agentId: AGENT_ID, token: 'token-outbound' });
});

afterEach(async () => {
  await agent?.shutdown({ drainMs: 0 });
  await sim.close();
});

async function startOutboundAgent(log: { voicemails: VoicemailEvent[]; humans: AnsweringDecision[]; said: string[] }): Promise<RestClient> {
  const piopiy = new RestClient({ token: sim.restToken, baseUrl: sim.restBaseUrl, logger: silentLogger });
  agent = new Agent({
    agentId: AGENT_ID,
    agentToken: 'token-outbound',
    signalingUrl: sim.signalingUrl,
    logger: silentLogger,
    handleSignals: false,
    async createSession(call) {
      const voice = new VoiceAgent({
        instructions: 'You call customers about their orders.',
        greeting: GREETING,
        idleTimeoutSecs: 0,
        voicemailDetection: { onMachine: { leaveMessage: MESSAGE }, hangUp: async () => void (await piopiy.voice.hangup(call.callId)) },
      });
      voice.events.on('voicemail', (event) => log.voicemails.push(event));
      voice.events.on('human', (decision) => log.humans.push(decision));
      voice.events.on('assistant-turn', (text) => log.said.push(text));
      await voice.action({
        stt: new ScriptedSTTService({ transcripts: [] }),
        llm: new ScriptedLLMService({ rules: [{ match: /.*/, reply: 'Sure.' }] }),
        tts: new FakeTTSService({ msPerCharacter: 20 }),
        vad: new EnergyVAD({ sampleRate: 16000 }),
      });
      await voice.start();
    },
  });
  await agent.connect();
  await piopiy.ai.call({ callerId: '918000000001', toNumber: '919876543210', agentId: AGENT_ID });
  return piopiy;
}

describe('voicemail detection on a Piopiy outbound call', () => {
  it('a voicemail: the message after the beep, then the REST hangup', async () => {
    const log = { voicemails: [] as VoicemailEvent[], humans: [] as AnsweringDecision[], said: [] as string[] };
    await startOutboundAgent(log);
    const call = await sim.waitForCall({ agentId: AGENT_ID });
    await call.answered;
    const rate = call.sampleRate;
    const greeting = await synthesizeSpeech('Hi, you have reached Sarah. I cannot take your call. Please leave a message after the tone.', { sampleRate: rate });
    const beep = new Int16Array(rate * 0.4).map((_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 1000 * i) / rate)));
    await call.say(concatAudio(silence(300, rate), greeting, silence(500, rate), beep));
    expect(log.said).toEqual([]); // nothing said over the greeting
    void call.say(silence(5000, rate)).catch(() => undefined);
    const end = await Promise.race([call.ended, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
    expect(end).not.toBe('timeout');
    expect(call.endReason).toBe('hangup');
    expect(log.voicemails).toEqual([expect.objectContaining({ answeredBy: 'machine', reason: 'long-greeting', action: 'leave-message' })]);
    expect(log.said).toEqual([MESSAGE]);
    expect(log.humans).toEqual([]);
  }, 30_000);

  it('a person: "Hello?", then the greeting', async () => {
    const log = { voicemails: [] as VoicemailEvent[], humans: [] as AnsweringDecision[], said: [] as string[] };
    await startOutboundAgent(log);
    const call = await sim.waitForCall({ agentId: AGENT_ID });
    await call.answered;
    await call.say(concatAudio(silence(300, call.sampleRate), await synthesizeSpeech('Hello?', { sampleRate: call.sampleRate })));
    void call.say(silence(3000, call.sampleRate)).catch(() => undefined);
    const deadline = performance.now() + 10_000;
    while (!log.said.includes(GREETING) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(log.said).toEqual([GREETING]);
    expect(log.humans).toEqual([expect.objectContaining({ answeredBy: 'human', reason: 'short-greeting' })]);
    expect(log.voicemails).toEqual([]);
    call.hangUp();
  }, 30_000);
});
