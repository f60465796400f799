// Answering-machine detection on a VoiceAgent's call, in simulated time (ConversationSimulation): a machine's
// greeting and beep (Flite speech and a tone) get the voicemail event and the message after the beep, then the
// hang-up; a person's "Hello?" gets the human event and then the greeting; the carrier's verdict and the
// transcript's words decide at once.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import { ConversationSimulation } from '../../src/testing/conversation-simulation.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { concatAudio, silence, synthesizeSpeech } from '../../src/testing/speech.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';
import type { AnsweringDecision, VoicemailDetectionOptions, VoicemailEvent } from '../../src/voicemail/index.js';

const RATE = 16000;
const GREETING = 'Hello! This is Acme calling about your order.';
const MESSAGE = 'Hi, this is Acme. Your order is ready. Please call us back.';

function tone(frequencyHz: number, ms: number): Int16Array {
  const out = new Int16Array((ms * RATE) / 1000);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(8000 * Math.sin((2 * Math.PI * frequencyHz * i) / RATE));
  return out;
}

async function startCall(detection: Omit<VoicemailDetectionOptions, 'hangUp'>, metadata?: Record<string, string>, transcripts?: string[]) {
  const sim = new ConversationSimulation({ callerSampleRate: RATE });
  const hangUps: number[] = [];
  const voice = new VoiceAgent({
    instructions: 'You call customers about their orders.',
    greeting: GREETING,
    logger: silentLogger,
    ...(metadata === undefined ? {} : { call: { callId: 'c1', metadata } }),
    voicemailDetection: { ...detection, hangUp: () => void hangUps.push(sim.nowMs) },
  });
  const humans: AnsweringDecision[] = [];
  const voicemails: VoicemailEvent[] = [];
  voice.events.on('human', (d) => humans.push(d));
  voice.events.on('voicemail', (e) => voicemails.push(e));
  const llm = new ScriptedLLMService({ rules: [{ match: /.*/, reply: 'Sure.' }] });
  const stt = transcripts === undefined ? sim.stt : new ScriptedSTTService({ transcripts: (turn) => transcripts[turn] ?? '', interimAfterMs: 250 });
  await voice.action({ ...sim.services, stt, llm, tts: new FakeTTSService() });
  await sim.start(voice);
  return { sim, voice, humans, voicemails, hangUps };
}

describe('voicemail detection on a call', () => {
  it('a machine: no greeting, the voicemail event, the message after the beep, then the hang-up', async () => {
    const greeting = await synthesizeSpeech("Hi, you've reached Sarah. I can't come to the phone right now, please leave a message after the tone.", { sampleRate: RATE });
    const { sim, voicemails, humans, hangUps } = await startCall({ onMachine: { leaveMessage: MESSAGE } });
    const beepAtMs = 300 + (greeting.length * 1000) / RATE + 500;
    void sim.transport.caller.say(concatAudio(silence(300, RATE), greeting, silence(500, RATE), tone(1000, 400), silence(3000, RATE)));
    await sim.runUntil(() => sim.callEnded, 'the call to end');
    expect(humans).toEqual([]);
    expect(voicemails).toHaveLength(1);
    expect(voicemails[0]).toMatchObject({ answeredBy: 'machine', reason: 'long-greeting', action: 'leave-message' });
    expect(voicemails[0]!.decidedAtMs).toBeLessThan(4000);
    const said = sim.events.filter((e) => e.kind === 'agent');
    expect(said.map((e) => e.kind === 'agent' && e.text)).toEqual([MESSAGE]); // never the greeting, never a reply
    expect(sim.events.some((e) => e.kind === 'caller')).toBe(false); // the greeting never became a turn
    expect(hangUps).toHaveLength(1);
    // The message was heard whole after the beep (it is ~60 chars of fake speech), and the hang-up came after it.
    expect(hangUps[0]!).toBeGreaterThan(beepAtMs + 400);
  }, 30_000);

  it('a person: the human event after "Hello?" and a pause, then the greeting; their next words are a turn', async () => {
    const hello = await synthesizeSpeech('Hello?', { sampleRate: RATE });
    const { sim, voicemails, humans, hangUps } = await startCall({ onMachine: 'hang-up' }, undefined, ['hello', 'what order is it']);
    void sim.transport.caller.say(concatAudio(silence(400, RATE), hello));
    await sim.waitForAgent(GREETING);
    expect(voicemails).toEqual([]);
    expect(humans).toHaveLength(1);
    expect(humans[0]).toMatchObject({ answeredBy: 'human', reason: 'short-greeting' });
    expect(humans[0]!.decidedAtMs).toBeGreaterThan(400 + (hello.length * 1000) / RATE + 900);
    expect(humans[0]!.decidedAtMs).toBeLessThan(400 + (hello.length * 1000) / RATE + 1500);
    await sim.say('what order is it');
    await sim.waitForAgent('Sure.');
    expect(sim.events.filter((e) => e.kind === 'caller').map((e) => e.kind === 'caller' && e.text)).toEqual(['what order is it']);
    expect(hangUps).toEqual([]);
  }, 30_000);

  it("hangs up at once on the carrier's verdict (Twilio AnsweredBy=machine_start), before any audio", async () => {
    const { sim, voicemails, hangUps } = await startCall({ onMachine: 'hang-up' }, { AnsweredBy: 'machine_start' });
    await sim.runUntil(() => sim.callEnded, 'the call to end');
    expect(voicemails).toEqual([expect.objectContaining({ reason: 'carrier', detail: 'machine_start', decidedAtMs: 0, action: 'hang-up' })]);
    expect(hangUps).toHaveLength(1);
    expect(sim.events.filter((e) => e.kind === 'agent')).toEqual([]);
  });

  it('leaves the message at once when the carrier heard the greeting end (machine_end_beep)', async () => {
    const { sim, voicemails } = await startCall({ onMachine: { leaveMessage: MESSAGE } }, { AnsweredBy: 'machine_end_beep' });
    await sim.runUntil(() => sim.callEnded, 'the call to end');
    expect(voicemails[0]).toMatchObject({ reason: 'carrier', action: 'leave-message' });
    expect(sim.events.filter((e) => e.kind === 'agent').map((e) => e.kind === 'agent' && e.text)).toEqual([MESSAGE]);
  });

  it('decides from the transcript when the words give the machine away before its length does', async () => {
    // Flite speech: the simulation's own caller speaks a steady tone, which the beep detector would take for a beep.
    const words = await synthesizeSpeech('Please leave a message.', { sampleRate: RATE });
    const { sim, voicemails } = await startCall({ onMachine: 'hang-up' }, undefined, ['please leave a message']);
    void sim.transport.caller.say(concatAudio(silence(200, RATE), words, silence(3000, RATE)));
    await sim.runUntil(() => sim.callEnded, 'the call to end');
    expect(voicemails[0]).toMatchObject({ reason: 'transcript', detail: 'leave a message' });
    expect(voicemails[0]!.decidedAtMs).toBeLessThan(1500);
  });

  it('a silent answer is taken for a person (the safe side): the greeting after silenceTimeoutMs', async () => {
    const { sim, humans } = await startCall({ onMachine: 'hang-up', silenceTimeoutMs: 3000 });
    await sim.waitForAgent(GREETING);
    expect(humans[0]).toMatchObject({ reason: 'silence' });
  });

  it('refuses options that cannot work', async () => {
    expect(() => new VoiceAgent({ instructions: 'x', voicemailDetection: { onMachine: { leaveMessage: ' ' } } })).toThrow(/leaveMessage/);
    const voice = new VoiceAgent({ instructions: 'x', voicemailDetection: { onMachine: 'hang-up' } });
    const sim = new ConversationSimulation();
    await expect(voice.action({ stt: sim.stt, llm: new ScriptedLLMService({ rules: [] }), tts: new FakeTTSService() })).rejects.toThrow(/needs `vad`/);
  });
});
