// End to end on the local Piopiy simulator, in real time: a real Agent takes the calls, each session a VoiceAgent
// with the scripted LLM and the ready-made call tools added in one line, talking to the simulator's REST API.
// Blind transfer ends the call as transferred; a warm transfer nobody answers is told to the model, the agent
// says so and the call goes on; end_call hangs up with its cause only after the goodbye's audio has reached the
// caller in full.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/index.js';
import { piopiyCallTools, type TransferToolOptions } from '../../src/call-tools/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { RestClient } from '../../src/piopiy/index.js';
import { ScriptedLLMService, type ScriptedRule } from '../../src/services/scripted/index.js';
import { EnergyVAD, speechTone } from '../../src/testing/energy-vad.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { startPiopiySimulator, type PiopiySimulator, type RestRequestEvent, type SimulatedCall } from '../../src/testing/simulator/index.js';
import type { CallSession } from '../../src/transports/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';

const AGENT_ID = 'agent-call-tools';
const AGENT_TOKEN = 'agent-call-tools-token';
const HUMAN = '919876543210';
const GOODBYE = 'Thank you for calling. Goodbye!';
const TONE = speechTone(500);

const RULES: ScriptedRule[] = [
  {
    match: /human/i,
    toolCall: { name: 'transfer_call' },
    afterTool: (result) => ((result as { status: string }).status === 'ringing' ? 'Please hold on, I am calling them.' : 'Connecting you now.'),
  },
  { match: /bye/i, reply: GOODBYE, toolCall: { name: 'end_call', arguments: { reason: 'done' } } },
  { match: /order/i, reply: 'Your order ships tomorrow.' },
];

interface Scenario {
  transcripts: string[];
  transfer?: TransferToolOptions;
}

const SCENARIOS: Record<string, Scenario> = {
  blind: { transcripts: ['I want a human'], transfer: { to: HUMAN, mode: 'blind', callerId: '918000000001' } },
  warm: { transcripts: ['I want a human', 'where is my order'], transfer: { to: HUMAN, mode: 'warm', pollIntervalMs: 100 } },
  goodbye: { transcripts: ['that is all bye'] },
};

let sim: PiopiySimulator;
let agent: Agent;
const turns = new Map<string, string[]>();
const fakeTts = new Map<string, FakeTTSService>();

function session(call: CallSession): Promise<void> {
  const scenario = SCENARIOS[(call.metadata as { scenario: string }).scenario]!;
  const piopiy = new RestClient({ token: sim.restToken, baseUrl: sim.restBaseUrl, logger: silentLogger });
  const voice = new VoiceAgent({ instructions: 'Help the caller.', greeting: 'Hello.', idleTimeoutSecs: 0 });
  const said: string[] = [];
  turns.set(call.callId, said);
  voice.events.on('assistant-turn', (text) => said.push(text));
  piopiyCallTools({ rest: piopiy, transfer: scenario.transfer }).addTo(voice);
  const tts = new FakeTTSService({ msPerCharacter: 25 });
  fakeTts.set(call.callId, tts);
  return voice
    .action({
      stt: new ScriptedSTTService({ transcripts: scenario.transcripts }),
      llm: new ScriptedLLMService({ rules: RULES }),
      tts,
      vad: new EnergyVAD(),
    })
    .then(() => voice.start());
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function answeredCall(scenario: string): Promise<SimulatedCall> {
  const call = sim.placeCall({ agentId: AGENT_ID, metadata: { scenario } });
  await call.answered;
  await until(() => (turns.get(call.callId) ?? []).includes('Hello.'));
  return call;
}

beforeAll(async () => {
  sim = await startPiopiySimulator({ transferDelayMs: 1000, transferRingMs: 600 });
  sim.addAgent({ agentId: AGENT_ID, token: AGENT_TOKEN });
  agent = new Agent({ agentId: AGENT_ID, agentToken: AGENT_TOKEN, signalingUrl: sim.signalingUrl, createSession: session, logger: silentLogger, handleSignals: false });
  await agent.connect();
});

afterAll(async () => {
  await agent.shutdown();
  await sim.close();
});

describe('ready-made call tools on the simulator', () => {
  it('blind transfer: the call ends as transferred to the number', async () => {
    const call = await answeredCall('blind');
    await call.say(TONE);
    expect(await call.ended).toMatchObject({ reason: 'transferred' });
    expect(call.transferredTo).toBe(HUMAN);
    expect(turns.get(call.callId)).toContain('Connecting you now.');
    expect(sim.transfersOf(call.callId)).toMatchObject([{ mode: 'blind', status: 'completed', target: HUMAN }]);
  }, 20_000);

  it("warm transfer with 'no-answer': the model is told, the agent says so, and the call goes on", async () => {
    sim.setTransferOutcome(HUMAN, 'no-answer');
    const call = await answeredCall('warm');
    await call.say(TONE);
    const said = turns.get(call.callId)!;
    await until(() => said.some((t) => t.includes('nobody is picking up')));
    expect(said).toContain('Please hold on, I am calling them.');
    expect(sim.transfersOf(call.callId)).toMatchObject([{ mode: 'warm', status: 'failed', reason: 'no_answer' }]);
    const warm = sim.transfersOf(call.callId)[0]!.request as Record<string, unknown>;
    expect(warm).toEqual({ to_number: HUMAN, transfer_summary: 'Caller said: "I want a human".' });
    expect(call.isEnded).toBe(false);
    await call.say(TONE);
    await until(() => said.includes('Your order ships tomorrow.'));
    expect(call.isEnded).toBe(false);
    call.hangUp();
  }, 20_000);

  it('end_call: the goodbye reaches the caller in full before the hangup, and the call ends with the cause', async () => {
    const call = await answeredCall('goodbye');
    const rest: RestRequestEvent[] = [];
    const off = sim.onRestRequest((request) => rest.push(request));
    const spokeAt = performance.now();
    await call.say(TONE);
    expect(await call.ended).toMatchObject({ reason: 'hangup' });
    off();
    expect(call.hangupCause).toEqual({ cause: 'NORMAL_CLEARING', reason: 'done' });
    const hangup = rest.find((r) => r.path === '/v3/voice/call/hangup')!;
    expect(hangup.body).toEqual({ call_id: call.callId, cause: 'NORMAL_CLEARING', reason: 'done' });
    const goodbye = call.received.filter((f) => f.at > spokeAt && f.audio.some((s) => Math.abs(s) > 100));
    // The request is answered after it was sent: every goodbye frame arrived before the answer went out...
    expect(goodbye.at(-1)!.at).toBeLessThanOrEqual(hangup.at);
    // ...and all of the goodbye's audio arrived (as many samples as the TTS made for it, at the agent's rate).
    const tts = fakeTts.get(call.callId)!;
    const goodbyeMs = tts.spoken.filter((text) => GOODBYE.includes(text)).reduce((ms, text) => ms + tts.durationMs(text), 0);
    const receivedMs = goodbye.reduce((ms, f) => ms + (f.audio.length * 1000) / call.agentSampleRate, 0);
    expect(receivedMs).toBeGreaterThanOrEqual(goodbyeMs - 20);
    expect(turns.get(call.callId)).toContain(GOODBYE);
  }, 20_000);
});
