// A Piopiy call through a speech-to-speech model, end to end on the local simulator in real time: a real Agent
// takes the call, its VoiceAgent's brain is OpenAIRealtimeService talking to the fake OpenAI Realtime server, with a
// local tool and the ready-made call tools. The call: greeting, a question answered with a tool call, a long
// answer the caller talks over (the model is told exactly how much of it the caller received), then a blind
// transfer that ends the call as transferred.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/index.js';
import { piopiyCallTools } from '../../src/call-tools/index.js';
import { FunctionSchema } from '../../src/llm/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { RestClient } from '../../src/piopiy/index.js';
import { OpenAIRealtimeService } from '../../src/services/openai/index.js';
import { speechTone } from '../../src/testing/energy-vad.js';
import { startFakeOpenAIRealtime, type FakeOpenAIRealtime } from '../../src/testing/fakes/openai-realtime.js';
import { startPiopiySimulator, type PiopiySimulator, type RestRequestEvent } from '../../src/testing/simulator/index.js';
import type { CallSession } from '../../src/transports/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';

const AGENT_ID = 'agent-realtime';
const AGENT_TOKEN = 'agent-realtime-token';
const HUMAN = '919876543210';
const GREETING = 'Welcome to the bank.';
const GOODBYE = 'Thank you for calling the bank. Goodbye!';
const LONG = 'Our branches open at nine and close at five on weekdays, open at ten and close at two on saturdays, and stay closed on sundays.';

let sim: PiopiySimulator;
let fake: FakeOpenAIRealtime;
let agent: Agent;
const turns = new Map<string, { user: string[]; assistant: { text: string; interrupted: boolean }[]; tools: string[] }>();

function session(call: CallSession): Promise<void> {
  const piopiy = new RestClient({ token: sim.restToken, baseUrl: sim.restBaseUrl, logger: silentLogger });
  const voice = new VoiceAgent({ instructions: 'You are a bank assistant.', greeting: GREETING, idleTimeoutSecs: 0 });
  const seen = { user: [] as string[], assistant: [] as { text: string; interrupted: boolean }[], tools: [] as string[] };
  turns.set(call.callId, seen);
  voice.events.on('user-turn', (text) => seen.user.push(text));
  voice.events.on('assistant-turn', (text, interrupted) => seen.assistant.push({ text, interrupted }));
  voice.events.on('tool-call', (c) => seen.tools.push(c.name));
  voice.addTool(new FunctionSchema({ name: 'get_balance', description: 'The caller balance', properties: {}, required: [] }), () => ({ amount: 500 }));
  piopiyCallTools({ rest: piopiy, transfer: { to: HUMAN, mode: 'blind', callerId: '918000000001' }, endCall: {} }).addTo(voice);
  return voice
    .action({ realtime: new OpenAIRealtimeService({ apiKey: 'sk-sim', url: fake.url }) })
    .then(() => voice.start());
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  fake = await startFakeOpenAIRealtime({
    // Connection 0 is the first call's, 1 the second's.
    transcripts: ({ connection, turn }) => (connection === 0 ? ['what is my balance', 'when are you open', 'I want a human'] : ['that is all, bye'])[turn] ?? '',
    rules: [
      { match: 'balance', toolCall: { name: 'get_balance' }, afterTool: (output) => `You have ${(JSON.parse(output) as { amount: number }).amount} rupees.` },
      { match: 'open', reply: LONG },
      { match: 'human', toolCall: { name: 'transfer_call' }, afterTool: 'Connecting you now.' },
      { match: 'bye', reply: GOODBYE, toolCall: { name: 'end_call', arguments: { reason: 'done' } } },
    ],
    msPerCharacter: 30,
    chunkDelayMs: 5,
  });
  sim = await startPiopiySimulator({ transferDelayMs: 1500 });
  sim.addAgent({ agentId: AGENT_ID, token: AGENT_TOKEN });
  agent = new Agent({ agentId: AGENT_ID, agentToken: AGENT_TOKEN, signalingUrl: sim.signalingUrl, createSession: session, logger: silentLogger, handleSignals: false });
  await agent.connect();
});

afterAll(async () => {
  await agent.shutdown();
  await sim.close();
  await fake.close();
});

describe('a Piopiy call through OpenAI Realtime (fake)', () => {
  it('greets, answers with a tool call, is barged in on with the right truncation, and transfers', async () => {
    const call = sim.placeCall({ agentId: AGENT_ID });
    await call.answered;
    const seen = (): NonNullable<ReturnType<typeof turns.get>> => turns.get(call.callId)!;
    await until(() => turns.has(call.callId) && seen().assistant.some((a) => a.text === GREETING));

    await call.say(speechTone(500));
    await until(() => seen().assistant.some((a) => a.text === 'You have 500 rupees.'));
    expect(seen().tools).toEqual(['get_balance']);

    const mark = call.received.length;
    await call.say(speechTone(500));
    await until(() => fake.connections[0]!.spoken.some((s) => s.text === LONG));
    await new Promise((r) => setTimeout(r, 1500));
    await call.say(speechTone(500));
    await until(() => fake.connections[0]!.truncations.length > 0);
    const truncation = fake.connections[0]!.truncations[0]!;
    expect(truncation.text).toBe(LONG);
    // The audio of the long answer the caller received: from its first loud frame to the silence after the cut.
    const after = call.received.slice(mark);
    const loud = (i: number): boolean => after[i]!.audio.some((s) => Math.abs(s) > 200);
    const first = after.findIndex((_, i) => loud(i));
    let last = first;
    for (let i = first; i < after.length && after[i]!.at - after[last]!.at < 200; i++) if (loud(i)) last = i;
    const receivedMs = after.slice(first, last + 1).reduce((ms, f) => ms + (f.audio.length * 1000) / call.agentSampleRate, 0);
    expect(truncation.audioEndMs).toBeGreaterThan(1000);
    expect(Math.abs(truncation.audioEndMs - receivedMs)).toBeLessThanOrEqual(40);
    expect(truncation.itemAudioMs).toBeGreaterThan(truncation.audioEndMs);

    expect(await call.ended).toMatchObject({ reason: 'transferred' });
    expect(call.transferredTo).toBe(HUMAN);
    expect(seen().user).toEqual(['what is my balance', 'when are you open', 'I want a human']);
    expect(seen().tools).toEqual(['get_balance', 'transfer_call']);
    const cut = seen().assistant.find((a) => a.interrupted)!;
    expect(LONG.startsWith(cut.text) && cut.text.length < LONG.length).toBe(true);
    expect(seen().assistant.map((a) => a.text)).toContain('Connecting you now.');
  }, 30_000);

  it('end_call: the goodbye the model said reaches the caller in full before the hangup', async () => {
    const call = sim.placeCall({ agentId: AGENT_ID });
    await call.answered;
    await until(() => turns.get(call.callId)?.assistant.some((a) => a.text === GREETING) === true);
    const rest: RestRequestEvent[] = [];
    const off = sim.onRestRequest((request) => rest.push(request));
    const spokeAt = performance.now();
    await call.say(speechTone(500));
    expect(await call.ended).toMatchObject({ reason: 'hangup' });
    off();
    const hangup = rest.find((r) => r.path === '/v3/voice/call/hangup')!;
    expect(hangup.body).toMatchObject({ call_id: call.callId, reason: 'done' });
    const goodbye = call.received.filter((f) => f.at > spokeAt && f.audio.some((s) => Math.abs(s) > 200));
    expect(goodbye.at(-1)!.at).toBeLessThanOrEqual(hangup.at);
    const spoken = fake.connections[1]!.spoken.find((s) => s.text === GOODBYE)!;
    const receivedMs = goodbye.reduce((ms, f) => ms + (f.audio.length * 1000) / call.agentSampleRate, 0);
    expect(receivedMs).toBeGreaterThanOrEqual(spoken.audioMs - 40);
    expect(turns.get(call.callId)!.assistant.map((a) => a.text)).toContain(GOODBYE);
  }, 30_000);
});
