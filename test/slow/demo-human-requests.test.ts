// The offline demo hears a request for a person said as the caller's second line, however it is phrased: twenty
// phrasings held out from everything the agent's domain model was built from (bench/hearing/sentences.ts), each after
// "Hello there", through `piopiy-ai demo` with the transfer example (Flite caller, Silero VAD, Pocketsphinx with the
// example's domain model, the scripted LLM). Each must end in a transfer.
import { describe, expect, it } from 'vitest';
import { HUMAN_REQUESTS } from '../../bench/hearing/sentences.js';
import { hasPocketsphinx, runExampleDemo } from '../examples/run-demo.js';

describe('the offline demo and twenty ways of asking for a human', () => {
  it.skipIf(!hasPocketsphinx)('transfers on every one as the second line [needs pocketsphinx]', async () => {
    const missed: string[] = [];
    // Two demos at a time: each is mostly waiting for real-time speech, so the pair fits a shared 2-core machine.
    const queue = [...HUMAN_REQUESTS];
    const worker = async (): Promise<void> => {
      for (let phrase = queue.shift(); phrase !== undefined; phrase = queue.shift()) {
        const { result, stderr } = await runExampleDemo('examples/transfer-agent.ts', { args: ['--say', 'Hello there', '--say', phrase] });
        const heard = result.turns.filter((t) => t.role === 'user').map((t) => (t.role === 'user' ? t.heard : ''));
        if (!result.ok || result.transferredTo !== '918000000002') missed.push(`${phrase} -> heard ${JSON.stringify(heard)} (${result.reason ?? ''}) ${stderr.slice(-300)}`);
      }
    };
    await Promise.all([worker(), worker()]);
    expect(missed).toEqual([]);
  }, 900_000);
});
