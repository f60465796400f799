// examples/seed-transfer.ts through `piopiy-ai demo`: the seed as written — a `parameters` schema, a handler outside
// createSession, an unannotated raw pipeline with `from` and + numbers, a transfer that is not awaited — transfers
// the simulated caller to the support number.
import { describe, expect, it } from 'vitest';
import { hasPocketsphinx, runExampleDemo } from './run-demo.js';

describe('examples/seed-transfer.ts', () => {
  it.skipIf(!hasPocketsphinx)('transfers the caller who asks for a human, as the seed does [needs pocketsphinx]', async () => {
    const { code, stdout, stderr, result } = await runExampleDemo('examples/seed-transfer.ts');
    expect(code, stderr).toBe(0);
    expect(result.ok, stderr).toBe(true);
    expect(stdout.trim().split('\n'), 'stdout carries only the summary').toHaveLength(1);
    expect(result.toolCalls, stderr).toEqual([
      {
        name: 'transfer_to_human',
        arguments: { reason: 'The caller asked for a human.' },
        result: 'Of course. I am connecting you to a human representative now.',
      },
    ]);
    // The seed's raw array went out in wire form: `from` as caller_id, the + dropped.
    expect(result.restRequests).toEqual([
      {
        method: 'POST',
        path: '/v3/voice/pcmo/transfer',
        body: {
          call_id: result.callId,
          pipeline: [{ action: 'connect', params: { caller_id: '918000000001' }, endpoints: [{ type: 'pstn', number: '918000000002' }] }],
        },
      },
    ]);
    expect(result.transferredTo).toBe('918000000002');
    expect(result.turns.slice(0, 2).map((t) => [t.role, t.role === 'user' ? t.said : t.text])).toEqual([
      ['assistant', 'Hello! How can I help you today?'],
      ['user', 'I want to talk to a human please'],
    ]);
    // The handler found its call in its context, not in a global.
    expect(stderr).toContain(`Transferring call ${result.callId} due to: The caller asked for a human.`);
  }, 60_000);
});
