// examples/crm-lookup-agent.ts through `piopiy-ai demo`: the slow CRM tool (2.5 s) finds the caller by the number
// the call comes from (no argument from the model), and the filler is heard while it runs.
import { describe, expect, it } from 'vitest';
import { hasPocketsphinx, runExampleDemo, scriptedTurns } from './run-demo.js';

describe('examples/crm-lookup-agent.ts', () => {
  it.skipIf(!hasPocketsphinx)('looks the caller up by their number, saying the filler while the CRM is slow [needs pocketsphinx]', async () => {
    const { code, stderr, result } = await runExampleDemo('examples/crm-lookup-agent.ts');
    expect(code, stderr).toBe(0);
    expect(result.ok, stderr).toBe(true);
    // The model passed no phone: the handler used the call's fromNumber (the demo calls from 919876543210).
    expect(result.toolCalls, stderr).toEqual([
      {
        name: 'lookup_customer',
        arguments: {},
        result: { found: true, accountId: 'AC-1001', name: 'Priya', plan: 'Gold', balance: '250 rupees', openTicket: null },
      },
    ]);
    const turns = scriptedTurns(result);
    expect(turns, stderr).toEqual([
      ['assistant', 'Hello, this is Acme Broadband support. How can I help?'],
      ['user', 'Can you check my account please'],
      ['assistant', 'One moment while I look that up.'],
      ['assistant', 'Thanks, Priya. You are on the Gold plan and your balance is 250 rupees. You have no open tickets.'],
    ]);
    // The filler started while the lookup was still running, well before the answer.
    const [, , filler, answer] = result.turns;
    expect(answer!.startMs - filler!.startMs).toBeGreaterThan(1000);
    expect(stderr).toContain('agent:  One moment while I look that up.');
  }, 60_000);
});
