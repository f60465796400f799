// examples/outbound-call.ts through `piopiy-ai demo`: the agent places the call itself with `ai.call`; the
// simulator rings the callee and invites the agent; the demo answers as the callee.
import { describe, expect, it } from 'vitest';
import { hasPocketsphinx, runExampleDemo, scriptedTurns } from './run-demo.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('examples/outbound-call.ts', () => {
  it.skipIf(!hasPocketsphinx)('places the call through REST, is invited to it, and confirms the appointment [needs pocketsphinx]', async () => {
    const { code, stderr, result } = await runExampleDemo('examples/outbound-call.ts');
    expect(code, stderr).toBe(0);
    expect(result.ok, stderr).toBe(true);
    // The call was placed through the REST API, to the customer, for this agent, with the variables.
    expect(result.restRequests).toHaveLength(1);
    const [request] = result.restRequests;
    expect(request).toMatchObject({
      method: 'POST',
      path: '/v3/voice/ai/call',
      body: {
        caller_id: '918000000001',
        to_number: '919876543210',
        variables: { customer_name: 'Priya', appointment: 'tomorrow at 10 AM' },
      },
    });
    expect((request!.body as { agent_id: string }).agent_id).toMatch(UUID);
    expect(stderr).toContain('the agent called 919876543210 from 918000000001');
    // Answered: the agent greeted the callee with the call's variables (its metadata) and took the answer.
    expect(scriptedTurns(result), stderr).toEqual([
      ['assistant', 'Hello Priya, this is City Dental calling to confirm your appointment tomorrow at 10 AM. Can you make it?'],
      ['user', 'Yes that works for me'],
      ['assistant', 'Wonderful, you are confirmed for tomorrow at 10 AM. See you then. Goodbye!'],
    ]);
    expect(result.toolCalls.map((t) => [t.name, t.arguments]), stderr).toEqual([['confirm_appointment', { confirmed: true }]]);
    expect(result.callId).toMatch(UUID);
  }, 60_000);
});
