// The offline demo's agent hears a request for a person said as the caller's second line, however it is phrased:
// twenty phrasings held out from everything the agent's domain model was built from (bench/hearing/sentences.ts),
// each after "Hello there". The agent is the demo's (examples/transfer-agent.ts: Silero VAD, Pocketsphinx with the
// example's domain model, the scripted LLM, Flite) on the simulator the demo uses; the calls run five at a time
// against one agent process instead of twenty `piopiy-ai demo` processes, which spent most of their time loading
// the same models (test/examples runs the demo command itself). Each call must end in a transfer.
import { afterAll, describe, expect, it } from 'vitest';
import { HUMAN_REQUESTS } from '../../bench/hearing/sentences.js';
import { AgentVoice } from '../../src/cli/demo-script.js';
import { startPiopiySimulator, type PiopiySimulator } from '../../src/testing/simulator/index.js';
import { hasPocketsphinx } from '../examples/run-demo.js';

const AT_ONCE = 5;
const SUPPORT_NUMBER = '918000000002';
// Real-time speech on a shared 2-core machine: generous bounds.
const TURN_TIMEOUT_MS = 30_000;
const SILENCE_MS = 800;
const TRANSFER_TIMEOUT_MS = 30_000;

let sim: PiopiySimulator | undefined;
let shutdown: (() => Promise<void>) | undefined;

afterAll(async () => {
  await shutdown?.();
  await sim?.close();
});

/** One call: the greeting, "Hello there", the answer, then the request; resolves to what went wrong, if anything. */
async function askForAHuman(simulator: PiopiySimulator, agentId: string, phrase: string): Promise<string | undefined> {
  const call = simulator.placeCall({ agentId, from: '919876543210', to: '918012345678' });
  const voice = new AgentVoice(call);
  try {
    await call.answered;
    if (!(await voice.finished(0, SILENCE_MS, TURN_TIMEOUT_MS))) return 'no greeting';
    const hello = performance.now();
    await call.say('Hello there');
    if (!(await voice.finished(hello, SILENCE_MS, TURN_TIMEOUT_MS))) return 'no answer to "Hello there"';
    await call.say(phrase);
    await Promise.race([call.ended, new Promise((resolve) => setTimeout(resolve, TRANSFER_TIMEOUT_MS))]);
    if (call.transferredTo !== SUPPORT_NUMBER) return `not transferred (end: ${call.endReason ?? 'still up'})`;
    return undefined;
  } finally {
    voice.close();
    if (!call.isEnded) call.hangUp();
  }
}

describe('the offline demo agent and twenty ways of asking for a human', () => {
  it.skipIf(!hasPocketsphinx)('transfers on every one as the second line [needs pocketsphinx]', async () => {
    sim = await startPiopiySimulator();
    const environment = sim.agentEnvironment();
    Object.assign(process.env, environment, { PIOPIY_LOG_LEVEL: 'warn', SUPPORT_NUMBER });
    const example = (await import('../../examples/transfer-agent.js')) as { agent: { shutdown(options?: { drainMs?: number }): Promise<void> } };
    shutdown = () => example.agent.shutdown({ drainMs: 2000 });
    await sim.waitForAgent(environment.AGENT_ID, 30_000);

    const missed: string[] = [];
    const queue = [...HUMAN_REQUESTS];
    const caller = async (): Promise<void> => {
      for (let phrase = queue.shift(); phrase !== undefined; phrase = queue.shift()) {
        const problem = await askForAHuman(sim!, environment.AGENT_ID, phrase);
        if (problem !== undefined) missed.push(`${phrase}: ${problem}`);
      }
    };
    await Promise.all(Array.from({ length: AT_ONCE }, caller));
    expect(missed).toEqual([]);
  }, 600_000);
});
