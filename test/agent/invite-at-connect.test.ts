// No invite is lost at connect: the platform may send `join_room` right after it accepts the agent's connection, in
// the same network read as the acknowledgement. The Agent's handlers must already be listening then. Each of the
// 100 rounds connects a fresh Agent to one simulator, which places a call the instant it accepts the connection;
// every round must get its session and its call answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/index.js';
import { startPiopiySimulator, type PiopiySimulator, type SimulatedCall } from '../../src/testing/simulator/index.js';
import type { CallSession } from '../../src/transports/index.js';
import { recordingLogger, type LogRecord } from '../pipeline/helpers.js';

const AGENT_ID = 'agent-at-connect';
const AGENT_TOKEN = 'agent-at-connect-token';
const ROUNDS = 100;

let sim: PiopiySimulator;

beforeAll(async () => {
  sim = await startPiopiySimulator({ keepEndedCalls: false });
  sim.addAgent({ agentId: AGENT_ID, token: AGENT_TOKEN });
});

afterAll(async () => {
  await sim.close();
});

/** A session that only answers: joins the call's media, says so, and stays until the call is cancelled. */
async function answerOnly(call: CallSession, joined: () => void): Promise<void> {
  await call.transport.connect?.();
  joined();
  if (!call.signal.aborted) await new Promise((resolve) => call.signal.addEventListener('abort', resolve, { once: true }));
}

function withinMs<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('Agent: an invite sent as the agent connects', () => {
  it(`reaches the agent, ${ROUNDS} times out of ${ROUNDS}`, async () => {
    let sessions = 0;
    const missed: number[] = [];
    const logs: LogRecord[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      let call: SimulatedCall | undefined;
      let joined!: () => void;
      const agentJoined = new Promise<void>((resolve) => (joined = resolve));
      const off = sim.onAgentConnected((agentId) => {
        if (agentId === AGENT_ID) call ??= sim.placeCall({ agentId });
      });
      const agent = new Agent({
        agentId: AGENT_ID,
        agentToken: AGENT_TOKEN,
        signalingUrl: sim.signalingUrl,
        createSession: async (session) => {
          sessions++;
          await answerOnly(session, joined);
        },
        logger: recordingLogger(logs),
        handleSignals: false,
        prewarmVAD: false,
      });
      try {
        await agent.connect();
        off();
        expect(call, `round ${round}: the simulator placed no call`).toBeDefined();
        // Answered at both ends: the simulator saw the agent's media, and the agent's media is open.
        await withinMs(Promise.all([call!.answered, agentJoined]), 2000, 'answered').catch(() => missed.push(round));
      } finally {
        off();
        await agent.shutdown({ drainMs: 0 });
      }
      if (missed.length >= 3) break; // lost invites cost 2 s each: enough to know
    }
    expect(missed, `rounds whose invite was lost: ${missed.join(', ')}`).toEqual([]);
    expect(sessions).toBe(ROUNDS);
    expect(logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  }, 120_000);
});
