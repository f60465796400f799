// The Agent against the local Piopiy simulator: signaling, sessions, isolation between calls, malformed
// invites, signaling drops, shutdown.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as SocketIOServer } from 'socket.io';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/index.js';
import { currentSession, type CallSession } from '../../src/transports/index.js';
import { FunctionSchema } from '../../src/llm/index.js';
import { RestClient } from '../../src/piopiy/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { startPiopiySimulator, type PiopiySimulator } from '../../src/testing/simulator/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';
import { recordingLogger, type LogRecord } from '../pipeline/helpers.js';

const AGENT_ID = 'agent-1';
const AGENT_TOKEN = 'agent-token-1';

let sim: PiopiySimulator;
let agents: Agent[];
let logs: LogRecord[];

beforeEach(async () => {
  sim = await startPiopiySimulator();
  sim.addAgent({ agentId: AGENT_ID, token: AGENT_TOKEN });
  agents = [];
  logs = [];
});

afterEach(async () => {
  for (const agent of agents) await agent.shutdown({ drainMs: 0 });
  await sim.close();
});

function makeAgent(createSession: (call: CallSession) => Promise<void> | void, extra: Partial<ConstructorParameters<typeof Agent>[0]> = {}): Agent {
  const agent = new Agent({
    agentId: AGENT_ID,
    agentToken: AGENT_TOKEN,
    signalingUrl: sim.signalingUrl,
    createSession,
    logger: recordingLogger(logs),
    handleSignals: false,
    ...extra,
  });
  agents.push(agent);
  return agent;
}

/** A small but real voice session: greeting, scripted turns, a transfer tool using the REST API. */
function voiceSession(options: { transcripts?: string[]; greeting?: string; toolCalls?: string[] } = {}) {
  return async (call: CallSession): Promise<void> => {
    const piopiy = new RestClient({ token: sim.restToken, baseUrl: sim.restBaseUrl });
    const voice = new VoiceAgent({ instructions: 'Transfer when asked.', greeting: options.greeting ?? 'Hello.', idleTimeoutSecs: 0 });
    voice.addTool(
      new FunctionSchema({ name: 'transfer_to_human', description: 'Transfer the call.', properties: {}, required: [] }),
      async () => {
        // The session of the running code, not a global: each call's handler sees its own call.
        options.toolCalls?.push(`${call.callId}|${currentSession()?.callId}`);
        await piopiy.voice.transfer(
          call.callId,
          piopiy.voice.pipeline().connect({ callerId: '918000000001' }, [{ type: 'pstn', number: '918000000002' }]),
        );
        return 'Transferring you now.';
      },
    );
    await voice.action({
      stt: new ScriptedSTTService({ transcripts: options.transcripts ?? [] }),
      llm: new ScriptedLLMService({
        rules: [{ match: /human/i, reply: 'Sure.', toolCall: { name: 'transfer_to_human' }, afterTool: '{result}' }],
      }),
      tts: new FakeTTSService({ msPerCharacter: 10 }),
      vad: true,
    });
    await voice.start();
  };
}

async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Agent', () => {
  it('connects, receives a call with its details, and the VoiceAgent finds its transport by itself', async () => {
    const sessions: CallSession[] = [];
    const agent = makeAgent(async (call) => {
      sessions.push(call);
      await voiceSession({ greeting: 'Welcome.' })(call);
    });
    await agent.connect();
    expect(agent.connected).toBe(true);
    const call = sim.placeCall({ agentId: AGENT_ID, from: '919000000001', to: '918000000009', metadata: { plan: 'gold', tier: 2 } });
    await call.answered;
    const greeting = await call.nextAgentSpeech();
    expect(greeting.audio.length).toBe(160); // 20 ms at the default 8 kHz output
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      callId: call.callId,
      agentId: AGENT_ID,
      fromNumber: '919000000001',
      toNumber: '918000000009',
      metadata: { plan: 'gold', tier: 2 },
      roomName: call.roomName,
    });
    call.hangUp();
    await until(() => agent.activeSessions === 0);
  });

  it('rejects bad credentials and an unreachable server with clear errors', async () => {
    const bad = makeAgent(() => undefined, { agentToken: 'wrong' });
    await expect(bad.connect()).rejects.toThrow(/refused agent agent-1: invalid agent credentials/);
    const unreachable = makeAgent(() => undefined, { signalingUrl: 'http://127.0.0.1:1', connectTimeoutMs: 2000 });
    await expect(unreachable.connect()).rejects.toThrow(/could not reach Piopiy signaling at http:\/\/127.0.0.1:1/);
  });

  it('keeps overlapping calls apart: each tool handler transfers its own call', async () => {
    const toolCalls: string[] = [];
    const agent = makeAgent(voiceSession({ transcripts: ['I want to talk to a human please'], toolCalls }));
    await agent.connect();
    const first = sim.placeCall({ agentId: AGENT_ID });
    const second = sim.placeCall({ agentId: AGENT_ID });
    await Promise.all([first.answered, second.answered]);
    await Promise.all([first.say('I want to talk to a human please'), second.say('I want to talk to a human please')]);
    const ends = await Promise.all([first.ended, second.ended]);
    expect(ends.map((e) => e.reason)).toEqual(['transferred', 'transferred']);
    expect(first.transferredTo).toBe('918000000002');
    const transfers = sim.restRequests.filter((r) => r.path.endsWith('/voice/pcmo/transfer'));
    expect(transfers.map((r) => (r.body as { call_id: string }).call_id).sort()).toEqual([first.callId, second.callId].sort());
    expect(toolCalls.sort()).toEqual([`${first.callId}|${first.callId}`, `${second.callId}|${second.callId}`].sort());
    await until(() => agent.activeSessions === 0);
  }, 30_000);

  it('ends a call on cancel_room', async () => {
    let ended = false;
    const agent = makeAgent(async (call) => {
      await voiceSession()(call);
      ended = true;
    });
    await agent.connect();
    const call = sim.placeCall({ agentId: AGENT_ID });
    await call.answered;
    sim.cancelCall(call.callId);
    expect((await call.ended).reason).toBe('agent-left');
    await until(() => ended && agent.activeSessions === 0);
  });

  it('ignores malformed invites with a log line, and still serves the next call', async () => {
    let sessions = 0;
    const agent = makeAgent(async (call) => {
      sessions++;
      await voiceSession()(call);
    });
    await agent.connect();
    const bad: unknown[] = [
      null,
      'join',
      42,
      [],
      {},
      { room_name: '', token: 't', url: 'piopiy-sim://x' },
      { room_name: 'r', url: 'piopiy-sim://x' },
      { room_name: 'r', token: 't' },
      { room_name: 'r', token: 't', url: 'not a url' },
      { room_name: { nested: true }, token: 't', url: 'wss://x' },
      { room_name: 'r'.repeat(1000), token: 't', url: 'wss://x' },
    ];
    for (const payload of bad) sim.emitToAgent(AGENT_ID, 'join_room', payload);
    sim.emitToAgent(AGENT_ID, 'cancel_room', { nothing: true });
    sim.emitToAgent(AGENT_ID, 'cancel_room', null);
    await until(() => logs.filter((l) => l.message.startsWith('join_room ignored')).length === bad.length);
    expect(logs.some((l) => l.message === 'join_room ignored: url is missing' && l.fields.field === 'url')).toBe(true);
    expect(logs.some((l) => l.message === 'cancel_room ignored: room_name is missing')).toBe(true);
    expect(sessions).toBe(0);
    const call = sim.placeCall({ agentId: AGENT_ID, metadata: 'x'.repeat(70_000) });
    await call.answered;
    expect(sessions).toBe(1);
    expect(logs.some((l) => l.message === 'join_room metadata too large; dropped' && l.fields.callId === call.callId)).toBe(true);
    call.hangUp();
  });

  it('handles an invite sent the moment it connects (it arrives with the connection acknowledgement)', async () => {
    // A platform with a call waiting invites the agent as soon as it registers; socket.io then delivers the
    // acknowledgement and the invite together, so the agent must be listening before its connect() resolves.
    const http = createServer();
    const io = new SocketIOServer(http);
    io.on('connection', (socket) => socket.emit('join_room', { room_name: 'waiting-call' }));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const agent = makeAgent(() => undefined, { signalingUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}` });
      await agent.connect();
      await until(() => logs.some((l) => l.message.startsWith('join_room ignored')), 2000);
      expect(logs.find((l) => l.message.startsWith('join_room ignored'))?.fields.room).toBe('waiting-call');
    } finally {
      await io.close(); // and its HTTP server
    }
  });

  it('parses double-encoded metadata and escaped braces', async () => {
    const seen: unknown[] = [];
    const agent = makeAgent((call) => {
      seen.push(call.metadata);
    });
    await agent.connect();
    const base = { token: 't', url: 'piopiy-sim://127.0.0.1:1/media', call_id: 'c' };
    sim.emitToAgent(AGENT_ID, 'join_room', { ...base, room_name: 'r1', metadata: JSON.stringify(JSON.stringify({ a: 1 })) });
    sim.emitToAgent(AGENT_ID, 'join_room', { ...base, room_name: 'r2', metadata: '{"b":{"c":2\\}}' });
    sim.emitToAgent(AGENT_ID, 'join_room', { ...base, room_name: 'r3', metadata: 'plain text' });
    sim.emitToAgent(AGENT_ID, 'join_room', { ...base, room_name: 'r4', metadata: { already: 'object' } });
    await until(() => seen.length === 4);
    expect(seen).toEqual([{ a: 1 }, { b: { c: 2 } }, 'plain text', { already: 'object' }]);
  });

  it('an exception in createSession ends that call only', async () => {
    let n = 0;
    const agent = makeAgent(async (call) => {
      if (++n === 1) throw new Error('bad session code');
      await voiceSession()(call);
    });
    await agent.connect();
    const failing = sim.placeCall({ agentId: AGENT_ID });
    await until(() => logs.some((l) => l.message === 'createSession failed; this call ends'));
    const failure = logs.find((l) => l.message === 'createSession failed; this call ends')!;
    expect(failure.fields.callId).toBe(failing.callId);
    const good = sim.placeCall({ agentId: AGENT_ID });
    await good.answered;
    await good.nextAgentSpeech();
    good.hangUp();
  });

  it('refuses calls beyond maxSessions', async () => {
    const agent = makeAgent(voiceSession(), { maxSessions: 1 });
    await agent.connect();
    const first = sim.placeCall({ agentId: AGENT_ID });
    await first.answered;
    sim.placeCall({ agentId: AGENT_ID });
    await until(() => logs.some((l) => l.message.includes('maxSessions')));
    expect(agent.activeSessions).toBe(1);
    first.hangUp();
  });

  it('survives a signaling outage: the call goes on, the agent reconnects, a re-sent invite is ignored', async () => {
    let sessions = 0;
    const agent = makeAgent(async (call) => {
      sessions++;
      await voiceSession()(call);
    });
    await agent.connect();
    const call = sim.placeCall({ agentId: AGENT_ID });
    await call.answered;
    await call.nextAgentSpeech();
    await sim.dropSignaling(1500);
    expect(call.isEnded).toBe(false);
    await sim.waitForAgent(AGENT_ID, 10_000);
    sim.sendInvite(call); // the platform re-sends the invite after the reconnect
    await new Promise((r) => setTimeout(r, 200));
    expect(sessions).toBe(1);
    expect(agent.activeSessions).toBe(1);
    // Media still flows both ways.
    const before = call.received.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(call.isEnded).toBe(false);
    expect(call.sent.length).toBeGreaterThan(0);
    expect(call.received.length).toBeGreaterThanOrEqual(before);
    call.hangUp();
  }, 20_000);

  it('shuts down gracefully: waits for calls up to drainMs, then ends them', async () => {
    let finished = 0;
    const agent = makeAgent(async (call) => {
      await voiceSession()(call);
      finished++;
    });
    await agent.connect();
    const call = sim.placeCall({ agentId: AGENT_ID });
    await call.answered;
    const started = performance.now();
    await agent.shutdown({ drainMs: 300 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(finished).toBe(1);
    expect(agent.activeSessions).toBe(0);
    expect(agent.connected).toBe(false);
    expect((await call.ended).reason).toBe('agent-left');
    expect(sim.connectedAgents()).toEqual([]);
  });
});
