// The simulator plays the platform's side of spec §7.6 through the real RestClient: warm transfers ring, then hand
// over or fail by the outcome chosen per number or per call, one at a time (409), with their status readable;
// hangups carry their cause; ai.call's failover, options and variables reach the call; agents can be managed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logging/index.js';
import { PiopiyApiError, RestClient } from '../../../src/piopiy/rest/index.js';
import { startPiopiySimulator, type PiopiySimulator, type SimulatedCall } from '../../../src/testing/simulator/index.js';
import { AGENT_ID, AGENT_ID_2 } from '../../piopiy/rest/helpers.js';

const HUMAN = '919876543210';
let sim: PiopiySimulator;
let piopiy: RestClient;

beforeEach(async () => {
  sim = await startPiopiySimulator({ transferRingMs: 150, transferDelayMs: 50 });
  piopiy = new RestClient({ token: sim.restToken, baseUrl: sim.restBaseUrl, managementBaseUrl: sim.managementBaseUrl, logger: silentLogger });
});

afterEach(async () => {
  await sim.close();
});

/** A live call, placed the way an agent places one (no agent needs to be connected for the platform side). */
async function liveCall(options: { variables?: Record<string, string>; record?: boolean } = {}): Promise<SimulatedCall> {
  const response = await piopiy.ai.call({
    callerId: '918000000001',
    toNumber: '919000000009',
    agentId: AGENT_ID,
    ...(options.variables === undefined ? {} : { variables: options.variables }),
    ...(options.record === undefined ? {} : { options: { record: options.record } }),
  });
  return sim.calls.get(response.call_id as string)!;
}

const until = async (condition: () => boolean, timeoutMs = 3000): Promise<void> => {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('warm transfer', () => {
  it('rings while the call goes on, then hands the caller over (the call ends as transferred)', async () => {
    const call = await liveCall();
    const queued = await piopiy.calls.warmTransfer(call.callId, { toNumber: HUMAN, transferSummary: 'refund' });
    expect(queued.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await piopiy.calls.transferStatus(queued.requestId!)).status).toBe('queued');
    expect(call.isEnded).toBe(false);
    expect(await piopiy.calls.get(call.callId)).toMatchObject({ call_id: call.callId, transfer: { request_id: queued.requestId, status: 'queued' } });
    const settled = await piopiy.calls.waitForTransfer(queued.requestId!, { pollIntervalMs: 25 });
    expect(settled).toMatchObject({ status: 'completed', callId: call.callId, settled: true });
    expect(await call.ended).toMatchObject({ reason: 'transferred' });
    expect(call.transferredTo).toBe(HUMAN);
    await expect(piopiy.calls.get(call.callId)).rejects.toMatchObject({ status: 404, code: 'CALL_NOT_FOUND' });
  });

  it("'no-answer' for a number: the transfer fails with no_answer after the ring, the call goes on, and may transfer again", async () => {
    sim.setTransferOutcome(HUMAN, 'no-answer');
    const call = await liveCall();
    const first = await piopiy.calls.warmTransfer(call.callId, { toNumber: `+${HUMAN}` });
    const status = await piopiy.calls.waitForTransfer(first.requestId!, { pollIntervalMs: 25 });
    expect(status).toMatchObject({ status: 'failed', reason: 'no_answer' });
    expect(call.isEnded).toBe(false);
    expect(call.transferredTo).toBeNull();
    // Another destination (its outcome: the default, answer) takes the call.
    const second = await piopiy.calls.warmTransfer(call.callId, { sipUri: 'sip:desk@pbx.example.com' });
    expect((await piopiy.calls.waitForTransfer(second.requestId!, { pollIntervalMs: 25 })).status).toBe('completed');
    expect(call.transferredTo).toBe('sip:desk@pbx.example.com');
    expect(sim.transfersOf(call.callId).map((t) => [t.mode, t.status, t.reason])).toEqual([
      ['warm', 'failed', 'no_answer'],
      ['warm', 'completed', undefined],
    ]);
  });

  it("'busy' for a call wins over the number's outcome; timeout_sec shorter than the ring means no answer", async () => {
    sim.setTransferOutcome(HUMAN, 'answer');
    const busyCall = await liveCall();
    sim.setTransferOutcome({ callId: busyCall.callId }, 'busy');
    const busy = await piopiy.calls.warmTransfer(busyCall.callId, { toNumber: HUMAN });
    expect(await piopiy.calls.waitForTransfer(busy.requestId!, { pollIntervalMs: 25 })).toMatchObject({ status: 'failed', reason: 'busy' });

    await sim.close();
    sim = await startPiopiySimulator({ transferRingMs: 2000 });
    piopiy = new RestClient({ token: sim.restToken, baseUrl: sim.restBaseUrl, logger: silentLogger });
    const call = await liveCall();
    const started = performance.now();
    const quick = await piopiy.calls.warmTransfer(call.callId, { toNumber: HUMAN, timeoutSec: 1 });
    expect(await piopiy.calls.waitForTransfer(quick.requestId!, { pollIntervalMs: 50 })).toMatchObject({ status: 'failed', reason: 'no_answer' });
    expect(performance.now() - started).toBeLessThan(1900);
  });

  it('one transfer at a time: 409 transfer_in_progress naming the running one, blind or warm', async () => {
    const call = await liveCall();
    const running = await piopiy.calls.warmTransfer(call.callId, { toNumber: HUMAN });
    const refused = await piopiy.calls.warmTransfer(call.callId, { toNumber: '919999999999' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PiopiyApiError);
    expect(refused).toMatchObject({ status: 409, code: 'transfer_in_progress', requestId: running.requestId });
    const blind = piopiy.voice.transfer(call.callId, piopiy.voice.pipeline().connect({ callerId: '918000000001' }, [{ type: 'pstn', number: HUMAN }]));
    await expect(blind).rejects.toMatchObject({ status: 409, requestId: running.requestId });
  });

  it('the caller hanging up while it rings fails the transfer (call_ended); unknown transfers are 404', async () => {
    const call = await liveCall();
    const queued = await piopiy.calls.warmTransfer(call.callId, { toNumber: HUMAN });
    call.hangUp();
    await until(() => sim.transfersOf(call.callId)[0]?.status === 'failed');
    expect(await piopiy.calls.transferStatus(queued.requestId!)).toMatchObject({ status: 'failed', reason: 'call_ended' });
    await expect(piopiy.calls.transferStatus('nope')).rejects.toMatchObject({ status: 404 });
    await expect(piopiy.calls.warmTransfer(call.callId, { toNumber: HUMAN })).rejects.toMatchObject({ status: 404, code: 'CALL_NOT_FOUND' });
  });
});

describe('hangup, outbound calls, agents, balance', () => {
  it('a hangup records its cause and ends the call (v3 and the actions API)', async () => {
    const first = await liveCall();
    await piopiy.voice.hangup(first.callId, 'USER_BUSY', 'caller asked');
    expect(await first.ended).toMatchObject({ reason: 'hangup' });
    expect(first.hangupCause).toEqual({ cause: 'USER_BUSY', reason: 'caller asked' });
    const second = await liveCall();
    await piopiy.calls.hangup(second.callId);
    await second.ended;
    expect(second.hangupCause).toEqual({ cause: 'normal' });
  });

  it('ai.call: variables become the invite metadata, options.record is kept; with failover the connected agent takes the call', async () => {
    const call = await liveCall({ variables: { order: 'A-1042' }, record: true });
    expect(call.metadata).toEqual({ order: 'A-1042' });
    expect(sim.callRequest(call.callId)).toMatchObject({ options: { record: true }, variables: { order: 'A-1042' } });

    const response = await piopiy.ai.call({
      callerId: '918000000001',
      toNumber: '919000000009',
      agentId: AGENT_ID,
      appId: 'app-1',
      failover: { agentId: AGENT_ID_2, strategy: 'sequential' },
    });
    const failoverCall = sim.calls.get(response.call_id as string)!;
    // No agent is connected: the primary, first in the failover order, is invited.
    expect(failoverCall.agentId).toBe(AGENT_ID);
    expect(sim.callDirection(failoverCall.callId)).toBe('outbound');
    expect(sim.restRequests.at(-1)?.path).toBe('/v3/voice/pcmo/call');
  });

  it('agents made through the management API get signaling credentials; numbers route to them; delete removes both', async () => {
    const created = await piopiy.agents.create({ name: 'Support Agent', language: 'en-US' });
    expect(created).toMatchObject({ name: 'Support Agent', language: 'en-US', status: 'active' });
    const id = created.id as string;
    expect(sim.authorizeAgent({ agent_id: id, token: created.agent_token })).toBe(id);
    expect(await piopiy.agents.list()).toEqual({ agents: [{ id, name: 'Support Agent', language: 'en-US', status: 'active' }] });
    expect(await piopiy.agents.routeNumber({ phoneNumber: '+1 949 980 0001', agentId: id })).toMatchObject({ status: 'connected' });
    expect(sim.numberRoutes.get('+19499800001')).toBe(id);
    await expect(piopiy.agents.routeNumber({ phoneNumber: '+19499800002', agentId: 'ghost' })).rejects.toMatchObject({ status: 404 });
    await piopiy.agents.delete(id);
    expect(sim.authorizeAgent({ agent_id: id, token: created.agent_token })).toBeUndefined();
    expect(sim.numberRoutes.size).toBe(0);
    await expect(piopiy.agents.delete(id)).rejects.toMatchObject({ status: 404 });
    expect(await piopiy.getBalance()).toEqual({ balance: 1000 });
  });
});
