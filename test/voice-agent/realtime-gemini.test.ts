// A Piopiy call through Gemini Live, end to end on the local simulator in real time: a real Agent takes the call,
// its VoiceAgent's brain is GeminiLiveService talking to the fake Gemini Live server, with a local tool and the
// ready-made call tools. The call: greeting, a question answered with a tool call, a long answer the caller talks
// over (playback stops, and the history keeps only the words the caller heard: Gemini has no truncation), then a
// blind transfer that ends the call as transferred.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/index.js';
import { piopiyCallTools } from '../../src/call-tools/index.js';
import { FunctionSchema } from '../../src/llm/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { RestClient } from '../../src/piopiy/index.js';
import { GeminiLiveService } from '../../src/services/google/index.js';
import { speechTone } from '../../src/testing/energy-vad.js';
import { startFakeGeminiLive, type FakeGeminiLive } from '../../src/testing/fakes/gemini-live.js';
import { startPiopiySimulator, type PiopiySimulator } from '../../src/testing/simulator/index.js';
import type { CallSession } from '../../src/transports/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';

const AGENT_ID = 'agent-gemini';
const AGENT_TOKEN = 'agent-gemini-token';
const HUMAN = '919876543210';
const GREETING = 'Welcome to the bank.';
const LONG = 'Our branches open at nine and close at five on weekdays, open at ten and close at two on saturdays, and stay closed on sundays.';
const MS_PER_CHARACTER = 30;

let sim: PiopiySimulator;
let fake: FakeGeminiLive;
let agent: Agent;
const seenByCall = new Map<string, { voice: VoiceAgent; user: string[]; assistant: { text: string; interrupted: boolean }[]; tools: string[] }>();

function session(call: CallSession): Promise<void> {
  const piopiy = new RestClient({ token: sim.restToken, baseUrl: sim.restBaseUrl, logger: silentLogger });
  const voice = new VoiceAgent({ instructions: 'You are a bank assistant.', greeting: GREETING, idleTimeoutSecs: 0 });
  const seen = { voice, user: [] as string[], assistant: [] as { text: string; interrupted: boolean }[], tools: [] as string[] };
  seenByCall.set(call.callId, seen);
  voice.events.on('user-turn', (text) => seen.user.push(text));
  voice.events.on('assistant-turn', (text, interrupted) => seen.assistant.push({ text, interrupted }));
  voice.events.on('tool-call', (c) => seen.tools.push(c.name));
  voice.addTool(new FunctionSchema({ name: 'get_balance', description: 'The caller balance', properties: {}, required: [] }), () => ({ amount: 500 }));
  piopiyCallTools({ rest: piopiy, transfer: { to: HUMAN, mode: 'blind', callerId: '918000000001' }, endCall: {} }).addTo(voice);
  return voice.action({ realtime: new GeminiLiveService({ apiKey: 'AIza-sim', url: fake.url }) }).then(() => voice.start());
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  fake = await startFakeGeminiLive({
    transcripts: ['what is my balance', 'when are you open', 'I want a human'],
    rules: [
      { match: 'balance', toolCall: { name: 'get_balance' }, afterTool: (r) => `You have ${String(r.amount)} rupees.` },
      { match: 'open', reply: LONG },
      { match: 'human', toolCall: { name: 'transfer_call' }, afterTool: 'Connecting you now.' },
    ],
    msPerCharacter: MS_PER_CHARACTER,
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

describe('a Piopiy call through Gemini Live (fake)', () => {
  it('greets, answers with a tool call, is barged in on (the history keeps what was heard), and transfers', async () => {
    const call = sim.placeCall({ agentId: AGENT_ID });
    await call.answered;
    const seen = (): NonNullable<ReturnType<typeof seenByCall.get>> => seenByCall.get(call.callId)!;
    await until(() => seenByCall.has(call.callId) && seen().assistant.some((a) => a.text === GREETING));
    // The Piopiy line's 16 kHz goes to Gemini as is; Gemini's 24 kHz comes back resampled to the line's rate.
    expect(fake.messages().some((m) => (m as { realtimeInput?: { audio?: { mimeType?: string } } }).realtimeInput?.audio?.mimeType === 'audio/pcm;rate=16000')).toBe(true);

    await call.say(speechTone(500));
    await until(() => seen().assistant.some((a) => a.text === 'You have 500 rupees.'));
    expect(seen().tools).toEqual(['get_balance']);
    expect(fake.connections[0]!.toolResponses).toMatchObject([{ name: 'get_balance', response: { amount: 500 } }]);

    const mark = call.received.length;
    await call.say(speechTone(500));
    await until(() => fake.connections[0]!.spoken.some((s) => s.text === LONG));
    await new Promise((r) => setTimeout(r, 1500));
    await call.say(speechTone(500));
    await until(() => seen().assistant.some((a) => a.interrupted));
    const cut = seen().assistant.find((a) => a.interrupted)!;
    expect(LONG.startsWith(cut.text) && cut.text.length > 0 && cut.text.length < LONG.length).toBe(true);
    // What the caller received of the long answer: from its first loud frame to the silence after the cut; the
    // words kept match it (the fake speaks MS_PER_CHARACTER per character, words sent ahead of their audio).
    const after = call.received.slice(mark);
    const loud = (i: number): boolean => after[i]!.audio.some((s) => Math.abs(s) > 200);
    const first = after.findIndex((_, i) => loud(i));
    let last = first;
    for (let i = first; i < after.length && after[i]!.at - after[last]!.at < 200; i++) if (loud(i)) last = i;
    const receivedMs = after.slice(first, last + 1).reduce((ms, f) => ms + (f.audio.length * 1000) / call.agentSampleRate, 0);
    const spokenMs = fake.connections[0]!.spoken.find((s) => s.text === LONG)!.audioMs;
    expect(receivedMs).toBeGreaterThan(1000);
    expect(receivedMs).toBeLessThan(spokenMs - 500);
    expect(cut.text.length * MS_PER_CHARACTER).toBeLessThanOrEqual(receivedMs + 400);
    const assistantMessages = seen().voice.context.messages.filter((m) => m.role === 'assistant').map((m) => m.content);
    expect(assistantMessages).toContain(cut.text);
    expect(assistantMessages).not.toContain(LONG);

    expect(await call.ended).toMatchObject({ reason: 'transferred' });
    expect(call.transferredTo).toBe(HUMAN);
    expect(seen().user).toEqual(['what is my balance', 'when are you open', 'I want a human']);
    expect(seen().tools).toEqual(['get_balance', 'transfer_call']);
    expect(seen().assistant.map((a) => a.text)).toContain('Connecting you now.');
  }, 30_000);
});
