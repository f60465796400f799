// One simulated phone call to the agent, on this machine: the local Piopiy simulator plays the platform and the
// caller (spoken offline), the agent runs with the offline engines, and the call must end transferred to a human.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startPiopiySimulator } from 'piopiy-ai/testing';

test('a caller who asks for a human is transferred to SUPPORT_NUMBER', { timeout: 90_000 }, async () => {
  const sim = await startPiopiySimulator();
  sim.addAgent({ agentId: 'test-agent', token: 'test-token' });
  // agent.ts reads its settings from the environment; these win over .env (dotenv never overrides them).
  Object.assign(process.env, {
    AGENT_ID: 'test-agent',
    AGENT_TOKEN: 'test-token',
    PIOPIY_SIGNALING_URL: sim.signalingUrl,
    PIOPIY_API_URL: sim.restBaseUrl,
    PIOPIY_TOKEN: sim.restToken,
    PIOPIY_NUMBER: '918000000001',
    SUPPORT_NUMBER: '918000000002',
    PIOPIY_OFFLINE: '1', // the offline engines even when .env has vendor keys: no network, same result every run
    PIOPIY_LOG_LEVEL: 'warn',
  });
  const { agent } = await import('./agent.js'); // it connects when loaded
  try {
    await sim.waitForAgent('test-agent', 30_000); // the offline engines load first
    const call = sim.placeCall({ agentId: 'test-agent', from: '919876543210' });
    await call.answered;
    await call.nextAgentSpeech(); // the greeting
    await call.say('I want to talk to a human please');
    const end = await call.ended;
    assert.equal(end.reason, 'transferred');
    assert.equal(call.transferredTo, '918000000002');
    assert.deepEqual(
      sim.restRequests.map((r) => r.path),
      ['/v3/voice/pcmo/transfer'],
    );
  } finally {
    await agent.shutdown();
    await sim.close();
  }
});
