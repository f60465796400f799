// The default VAD warm-up is lenient: an agent whose Silero model cannot load still connects, with a warning. In
// a file of its own, so no earlier test has put the model in this module graph's cache.
import { afterEach, expect, it, vi } from 'vitest';
import { Agent } from '../../src/agent/index.js';
import { sileroRuntime } from '../../src/audio/vad/silero-runtime.js';
import { startPiopiySimulator } from '../../src/testing/simulator/index.js';
import { recordingLogger, type LogRecord } from '../pipeline/helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

it('connects with a warning when the default Silero warm-up fails', async () => {
  vi.spyOn((await sileroRuntime()).InferenceSession, 'create').mockRejectedValue(new Error('corrupt model'));
  const sim = await startPiopiySimulator();
  sim.addAgent({ agentId: 'a', token: 't' });
  const logs: LogRecord[] = [];
  const agent = new Agent({
    agentId: 'a',
    agentToken: 't',
    signalingUrl: sim.signalingUrl,
    logger: recordingLogger(logs),
    handleSignals: false,
    createSession: () => undefined,
  });
  try {
    await agent.connect();
    expect(agent.connected).toBe(true);
    expect(agent.prewarmed).toBe(true);
    const warning = logs.find((l) => l.level === 'warn' && l.message.includes('Silero VAD'));
    expect(warning).toBeDefined();
  } finally {
    await agent.shutdown({ drainMs: 0 });
    await sim.close();
  }
});
