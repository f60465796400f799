// LiveKitTransport's real room driver (@livekit/rtc-node) against the LiveKit test server: who is in the call and
// when it ends. The fake-driver tests (livekit-transport.test.ts) cover the transport's logic; these cover what
// only a real room shows.
import { afterEach, describe, expect, it } from 'vitest';
import { startLiveKitTestServer, type LiveKitTestServer } from '../../../src/testing/livekit-server/index.js';
import type { RtcTestParticipant } from '../../../src/testing/livekit-server/rtc-participant.js';
import { medianToneSnrDb, sineTone, steadyWindow } from '../../../src/testing/livekit-server/tone.js';
import { agentHeard, joinCaller, mediaUp, startAgent, until, type AgentSide } from './rtc-harness.js';

let server: LiveKitTestServer | undefined;
const agents: AgentSide[] = [];
const callers: RtcTestParticipant[] = [];
afterEach(async () => {
  await Promise.allSettled(callers.splice(0).map((c) => c.leave()));
  await Promise.allSettled(agents.splice(0).map((a) => a.stop()));
  await server?.close();
  server = undefined;
});

async function setUp(roomName = 'call-1'): Promise<{ agent: AgentSide }> {
  server ??= await startLiveKitTestServer();
  const agent = await startAgent(server, roomName);
  agents.push(agent);
  return { agent };
}

async function caller(roomName = 'call-1', identity = 'caller'): Promise<RtcTestParticipant> {
  const participant = await joinCaller(server!, roomName, identity);
  callers.push(participant);
  return participant;
}

describe('LiveKitTransport on @livekit/rtc-node, against the LiveKit test server', () => {
  it('waits for a caller who joins late, hears them, and ends the session when they leave', async () => {
    const { agent } = await setUp();
    expect(agent.events).toEqual([]);
    expect(agent.transport.callerConnected).toBe(false);
    const phone = await caller();
    await until(() => agent.events.includes('joined'), 5000, 'caller-joined');
    expect(phone.remoteIdentities.has('agent')).toBe(true);

    await mediaUp(agent, phone);
    await phone.play(sineTone(440, 48000, 24000));
    await until(() => steadyWindow(agentHeard(agent).samples, 16000, 60, 300) !== undefined, 5000, 'the caller’s tone');
    const heard = agentHeard(agent);
    expect(heard.sampleRate).toBe(16000);
    // Heard: the tone carries twice the power of all else. How well is rtc-audio.test.ts's subject (40 dB there on a
    // quiet machine); this one is about the lifecycle, and a loaded machine's gaps must not fail it (5 dB seen).
    expect(medianToneSnrDb(steadyWindow(heard.samples, 16000, 60, 300)!, 440, 16000)).toBeGreaterThan(3);

    await phone.leave();
    callers.length = 0;
    await until(() => agent.events.some((e) => e.startsWith('left:')), 5000, 'caller-left');
    expect(agent.events).toEqual(['joined', 'left:participant caller left']);
  }, 20_000);

  it('greets a caller already in the room, and turns their SIP DTMF packets into input-dtmf', async () => {
    server = await startLiveKitTestServer();
    await caller();
    const { agent } = await setUp();
    expect(agent.events).toEqual(['joined']);
    server.sendSipDtmf('call-1', { fromIdentity: 'caller', code: 9, digit: '9' });
    server.sendSipDtmf('call-1', { fromIdentity: 'caller', code: 11, digit: '#' });
    await until(() => agent.collector.ofType('input-dtmf').length === 2, 5000, 'two input-dtmf frames');
    expect(agent.collector.ofType('input-dtmf').map((f) => f.digit)).toEqual(['9', '#']);
    expect(agent.events).toEqual(['joined', 'dtmf:9', 'dtmf:#']);
  }, 20_000);

  it('ends the session when the server drops the agent’s connection, and does not come back', async () => {
    const { agent } = await setUp();
    await caller();
    await until(() => agent.events.includes('joined'), 5000, 'caller-joined');
    const droppedAt = performance.now();
    await server!.dropParticipant('call-1', 'agent');
    await until(() => agent.events.some((e) => e.startsWith('left:')), 10_000, 'the session to end');
    const endedAfterMs = performance.now() - droppedAt;
    console.log(`agent connection dropped: session ended after ${endedAfterMs.toFixed(0)} ms`);
    expect(agent.events[1]).toMatch(/^left:room disconnected: /);
    // No zombie: the agent is not back in the room a while later (rtc-node gave up reconnecting).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(server!.participants('call-1')).toEqual(['caller']);
    expect(agent.events.filter((e) => e.startsWith('left:'))).toHaveLength(1);
  }, 20_000);

  it('ends the session when the platform removes the agent (Leave from the server)', async () => {
    const { agent } = await setUp();
    await caller();
    await until(() => agent.events.includes('joined'), 5000, 'caller-joined');
    await server!.removeParticipant('call-1', 'agent');
    await until(() => agent.events.some((e) => e.startsWith('left:')), 5000, 'the session to end');
    expect(agent.events[1]).toMatch(/^left:room disconnected: /);
    expect(server!.participants('call-1')).toEqual(['caller']);
  }, 20_000);

  it('keeps the call through rtc-node’s full reconnect, and still sees the caller leave after it', async () => {
    const { agent } = await setUp();
    const phone = await caller();
    await until(() => agent.events.includes('joined'), 5000, 'caller-joined');
    await server!.dropParticipant('call-1', 'agent', { allowRejoin: true });
    // rtc-node rejoins with the same token; meanwhile it reports the caller gone, which is not the caller leaving.
    await until(() => server!.participants('call-1').includes('agent'), 10_000, 'the agent to rejoin');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(agent.events).toEqual(['joined']);
    await phone.leave();
    callers.length = 0;
    await until(() => agent.events.length === 2, 5000, 'caller-left');
    expect(agent.events).toEqual(['joined', 'left:participant caller left']);
  }, 20_000);
});
