// The ready-made call tools in whole conversations on a VirtualClock: the real VoiceAgent pipeline, the scripted
// LLM, and an in-memory Piopiy platform behind the RestClient's fetch (every request recorded with the simulated
// time it was made at).
import { describe, expect, it } from 'vitest';
import { piopiyCallTools } from '../../src/call-tools/index.js';
import { transferSummary } from '../../src/call-tools/summary.js';
import { silentLogger } from '../../src/logging/index.js';
import { RestClient } from '../../src/piopiy/index.js';
import { ScriptedLLMService, type ScriptedRule } from '../../src/services/scripted/index.js';
import { ConversationSimulation, FakeTTSService } from '../../src/testing/index.js';
import type { VirtualClock } from '../../src/testing/virtual-clock.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';

const CALL_ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const GOODBYE = 'Thank you for calling. Goodbye!';

interface PlatformRequest {
  method: string;
  path: string;
  body: unknown;
  atMs: number;
}

/** The platform's side in memory: transfers queue, `GET /transfers/{id}` walks through `statuses`. */
function fakePlatform(clock: VirtualClock, statuses: Record<string, unknown>[] = [{ status: 'queued' }]) {
  const requests: PlatformRequest[] = [];
  let polls = 0;
  const fetch = (async (url: string, init?: RequestInit) => {
    const path = new URL(url).pathname;
    const method = init?.method ?? 'GET';
    requests.push({ method, path, body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined, atMs: clock.now() });
    let body: Record<string, unknown> = { message: 'queued', call_id: CALL_ID, request_id: 'req-1' };
    if (path.startsWith('/v3/transfers/')) body = { request_id: 'req-1', call_id: CALL_ID, ...statuses[Math.min(polls++, statuses.length - 1)] };
    return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
  }) as typeof globalThis.fetch;
  const rest = new RestClient({ token: 'test-token', baseUrl: 'http://platform.test/v3', fetch, clock, logger: silentLogger });
  return { rest, requests };
}

const RULES: ScriptedRule[] = [
  {
    match: /human|person/i,
    toolCall: { name: 'transfer_call', arguments: { summary: 'Wants a refund' } },
    afterTool: (result) => {
      const r = result as { status: string; detail?: string };
      if (r.status === 'ringing') return 'I am calling a colleague now, please stay with me.';
      if (r.status === 'transferred') return 'Connecting you now.';
      return `Sorry, ${r.detail ?? 'that failed'}.`;
    },
  },
  { match: /goodbye|bye/i, reply: GOODBYE, toolCall: { name: 'end_call', arguments: { reason: 'caller is done' } } },
  { match: /order/i, reply: 'Your order ships tomorrow.' },
];

async function startCall(tools: Parameters<typeof piopiyCallTools>[0]['transfer'] | undefined, statuses?: Record<string, unknown>[]) {
  const sim = new ConversationSimulation();
  const platform = fakePlatform(sim.clock, statuses);
  const voice = new VoiceAgent({
    instructions: 'You are a helpful phone assistant.',
    greeting: 'Hello!',
    call: { callId: CALL_ID },
    logger: silentLogger,
  });
  piopiyCallTools({ rest: platform.rest, transfer: tools, clock: sim.clock, logger: silentLogger }).addTo(voice);
  const tts = new FakeTTSService({ msPerCharacter: 50, latencyMs: 120 });
  await voice.action({ ...sim.services, llm: new ScriptedLLMService({ rules: RULES, wordDelayMs: 20 }), tts });
  await sim.start(voice);
  await sim.waitForAgent('Hello!');
  return { sim, voice, tts, ...platform };
}

const toolResults = (sim: ConversationSimulation) => sim.events.filter((e) => e.kind === 'tool').map((e) => e.kind === 'tool' && e.result);

describe('transfer_call', () => {
  it('blind: one connect through the PCMO transfer, and the model is told it is transferred', async () => {
    const { sim, requests } = await startCall({ to: '+91 98765 43210', mode: 'blind', callerId: '+91 80000 00001' });
    await sim.say('I want to talk to a person');
    await sim.waitForAgent('Connecting you now.');
    expect(requests.map(({ method, path, body }) => ({ method, path, body }))).toEqual([
      {
        method: 'POST',
        path: '/v3/voice/pcmo/transfer',
        body: {
          call_id: CALL_ID,
          pipeline: [{ action: 'connect', params: { caller_id: '918000000001' }, endpoints: [{ type: 'pstn', number: '919876543210' }] }],
        },
      },
    ]);
    expect(toolResults(sim)).toEqual([{ status: 'transferred', request_id: 'req-1', detail: expect.any(String) as string }]);
    await sim.hangUp();
  });

  it("warm, no answer: 'ringing' at once, the outcome polled on the clock, the agent says so and the call goes on", async () => {
    const { sim, voice, requests } = await startCall(
      { to: 'sip:desk@pbx.example.com', confirm: true, holdAudio: 'hold.mp3', pollIntervalMs: 1000 },
      [{ status: 'queued' }, { status: 'queued' }, { status: 'failed', reason: 'no_answer' }],
    );
    await sim.say('My order is late');
    await sim.waitForAgent('ships tomorrow');
    await sim.say('Let me talk to a person please');
    await sim.waitForAgent('calling a colleague');
    const [warm] = requests;
    expect(warm).toMatchObject({ method: 'POST', path: `/v3/calls/${CALL_ID}/actions/transfer` });
    expect(warm!.body).toEqual({
      sip_uri: 'sip:desk@pbx.example.com',
      confirm: true,
      hold_audio: 'hold.mp3',
      transfer_summary: 'Wants a refund. Caller said: "My order is late"; "Let me talk to a person please".',
    });
    expect(toolResults(sim)).toEqual([{ status: 'ringing', request_id: 'req-1', detail: expect.stringContaining('ringing') as string }]);
    await sim.waitForAgent('nobody is picking up');
    const polls = requests.filter((r) => r.method === 'GET');
    expect(polls.map((p) => p.path)).toEqual(Array(3).fill('/v3/transfers/req-1'));
    expect(polls[2]!.atMs - polls[0]!.atMs).toBe(2000);
    const note = voice.context.messages.find((m) => m.role === 'system' && m.content.startsWith('Transfer update'));
    expect(note?.content).toContain('the transfer failed (no answer)');
    // The call goes on, and the next transfer is allowed again.
    await sim.say('Where is my order');
    await sim.waitForAgent('ships tomorrow');
    expect(sim.callEnded).toBe(false);
    await sim.hangUp();
  });

  it('one transfer at a time: while one rings, another is refused and the model is told why', async () => {
    const { sim, requests } = await startCall({ to: '919876543210', pollIntervalMs: 60_000 });
    await sim.say('Get me a person');
    await sim.waitForAgent('calling a colleague');
    await sim.say('A human please');
    await sim.waitForAgent('already in progress');
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(toolResults(sim)[1]).toEqual({ status: 'error', detail: 'a transfer is already in progress; wait for its outcome' });
    await sim.hangUp();
  });

  it('misconfigurations fail when the tools are made', () => {
    const rest = new RestClient({ token: 't' });
    expect(() => piopiyCallTools({ rest, transfer: { to: '919876543210', mode: 'blind' } })).toThrow(/callerId/);
    expect(() => piopiyCallTools({ rest, transfer: { to: { agentId: 'a' }, mode: 'warm' } })).toThrow(/blind/);
    expect(() => piopiyCallTools({ rest, transfer: { to: ' ' } })).toThrow(/transfer.to/);
    expect(() => piopiyCallTools({ rest, endCall: false })).toThrow(/enable/);
    expect(piopiyCallTools({ rest, transfer: { to: { agentId: 'a' }, callerId: '918000000001' } }).schemas.map((s) => s.name)).toEqual([
      'transfer_call',
      'end_call',
    ]);
  });
});

describe('end_call', () => {
  it('hangs up with the cause only after the goodbye has been played to the caller in full, then ends the call', async () => {
    const { sim, tts, requests } = await startCall(undefined);
    await sim.say('Thanks, that is all, bye');
    await sim.waitForEnd();
    const hangup = requests.find((r) => r.path === '/v3/voice/call/hangup');
    expect(hangup?.body).toEqual({ call_id: CALL_ID, cause: 'NORMAL_CLEARING', reason: 'caller is done' });
    // Every chunk of the goodbye reached the caller before the hangup request, and all of it did.
    const goodbyeStart = sim.events.find((e) => e.kind === 'caller')!.atMs;
    const audio = sim.transport.caller.received.filter((c) => c.at > goodbyeStart && c.audio.some((s) => s !== 0));
    expect(audio.at(-1)!.at).toBeLessThanOrEqual(hangup!.atMs);
    const playedMs = audio.reduce((ms, c) => ms + (c.audio.length * 1000) / c.sampleRate, 0);
    const goodbyeMs = tts.spoken.filter((text) => GOODBYE.includes(text)).reduce((ms, text) => ms + tts.durationMs(text), 0);
    expect(goodbyeMs).toBe(1500); // "Thank you for calling." and "Goodbye!", said as two sentences
    expect(playedMs).toBeGreaterThanOrEqual(goodbyeMs);
    expect(sim.events.filter((e) => e.kind === 'agent').at(-1)).toMatchObject({ text: GOODBYE, interrupted: false });
    expect(toolResults(sim)).toEqual([{ status: 'ended' }]);
  });

  it('a caller who barges in on the goodbye keeps the call: no hangup', async () => {
    const { sim, requests } = await startCall(undefined);
    await sim.say('ok bye');
    await sim.waitForAgentSpeech();
    await sim.wait(300);
    await sim.say('wait, where is my order');
    await sim.waitForAgent('ships tomorrow');
    await sim.wait(2000);
    expect(requests.find((r) => r.path.endsWith('/hangup'))).toBeUndefined();
    expect(sim.callEnded).toBe(false);
    expect(sim.events.find((e) => e.kind === 'tool')).toMatchObject({ name: 'end_call', error: 'cancelled: the caller interrupted' });
    await sim.hangUp();
  });
});

describe('transferSummary', () => {
  it("the model's summary, then the caller's latest turns within the length", () => {
    const messages = [
      { role: 'system' as const, content: 'prompt' },
      { role: 'user' as const, content: 'first   turn\nwith spaces' },
      { role: 'assistant' as const, content: 'ok' },
      { role: 'user' as const, content: 'second turn' },
    ];
    expect(transferSummary({ messages, modelSummary: 'Refund request' })).toBe(
      'Refund request. Caller said: "first turn with spaces"; "second turn".',
    );
    expect(transferSummary({ messages, maxChars: 40 })).toBe('Caller said: "second turn".');
    expect(transferSummary({ messages: [] })).toBeUndefined();
    expect(transferSummary({ messages: [{ role: 'user', content: 'x'.repeat(900) }] })!.length).toBe(400);
  });
});
