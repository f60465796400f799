// The simulator keeps ended calls (their recordings are what tests read) unless told not to, for long runs.
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startPiopiySimulator, type PiopiySimulator } from '../../../src/testing/simulator/index.js';

let sim: PiopiySimulator | undefined;
let agentSocket: Socket | undefined;

afterEach(async () => {
  agentSocket?.disconnect();
  await sim?.close();
});

/** A simulator with one agent connected to signaling (enough for placeCall; nobody joins the media). */
async function simulatorWithAgent(keepEndedCalls: boolean | undefined): Promise<PiopiySimulator> {
  sim = await startPiopiySimulator(keepEndedCalls === undefined ? {} : { keepEndedCalls });
  sim.addAgent({ agentId: 'a1', token: 't1' });
  agentSocket = io(sim.signalingUrl, { auth: { agent_id: 'a1', token: 't1' }, reconnection: false });
  await sim.waitForAgent('a1');
  return sim;
}

describe('PiopiySimulator keepEndedCalls', () => {
  it('keeps ended calls by default', async () => {
    const simulator = await simulatorWithAgent(undefined);
    const call = simulator.placeCall({ agentId: 'a1' });
    call.hangUp();
    await call.ended;
    await new Promise((resolve) => setImmediate(resolve));
    expect(simulator.calls.get(call.callId)).toBe(call);
    expect(simulator.callDirection(call.callId)).toBe('inbound');
  });

  it('false: forgets a call once it ended, and only then', async () => {
    const simulator = await simulatorWithAgent(false);
    const first = simulator.placeCall({ agentId: 'a1' });
    const second = simulator.placeCall({ agentId: 'a1' });
    first.hangUp();
    await first.ended;
    await new Promise((resolve) => setImmediate(resolve));
    expect([...simulator.calls.keys()]).toEqual([second.callId]);
    expect(simulator.callDirection(first.callId)).toBeUndefined();
    expect(simulator.callDirection(second.callId)).toBe('inbound');
    second.hangUp();
    await second.ended;
    await new Promise((resolve) => setImmediate(resolve));
    expect(simulator.calls.size).toBe(0);
  });
});
