// The Agent's warm-up: what `connect()` loads before registering, that the first call then finds it loaded (seen
// through the engines' own loading: ONNX sessions created, Flite workers started), and clear errors from connect()
// when the warm-up fails.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AGENT_CHANNEL, Agent, type AgentDiagnostic, type AgentOptions } from '../../src/agent/index.js';
import { sileroRuntime } from '../../src/audio/vad/silero-runtime.js';
import { FliteTTSService, FliteWorkerPool } from '../../src/services/local/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import { ScriptedSTTService } from '../../src/testing/fake-services.js';
import { startPiopiySimulator, type PiopiySimulator } from '../../src/testing/simulator/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';
import { recordingLogger, type LogRecord } from '../pipeline/helpers.js';

const AGENT_ID = 'agent-prewarm';
const AGENT_TOKEN = 'token-prewarm';

let sim: PiopiySimulator;
let agents: Agent[];
let logs: LogRecord[];
let pools: FliteWorkerPool[];

beforeEach(async () => {
  sim = await startPiopiySimulator();
  sim.addAgent({ agentId: AGENT_ID, token: AGENT_TOKEN });
  agents = [];
  logs = [];
  pools = [];
});

afterEach(async () => {
  vi.restoreAllMocks();
  for (const agent of agents) await agent.shutdown({ drainMs: 0 });
  for (const pool of pools) await pool.close();
  await sim.close();
});

function makeAgent(options: Partial<AgentOptions>): Agent {
  const agent = new Agent({
    agentId: AGENT_ID,
    agentToken: AGENT_TOKEN,
    signalingUrl: sim.signalingUrl,
    logger: recordingLogger(logs),
    handleSignals: false,
    createSession: () => undefined,
    ...options,
  });
  agents.push(agent);
  return agent;
}

/** A session that greets with Flite on `pool`, with Silero VAD, until the caller hangs up. */
function greetingSession(pool: FliteWorkerPool): AgentOptions['createSession'] {
  return async () => {
    const voice = new VoiceAgent({ instructions: 'test', greeting: 'Hello there.', idleTimeoutSecs: 0 });
    await voice.action({
      stt: new ScriptedSTTService({ transcripts: [] }),
      llm: new ScriptedLLMService({ rules: [] }),
      tts: new FliteTTSService({ pool }),
      vad: true,
    });
    await voice.start();
  };
}

async function firstAgentAudio(agentId: string): Promise<void> {
  const call = sim.placeCall({ agentId });
  await new Promise<void>((resolve) => {
    const off = call.onAgentAudio(() => {
      off();
      resolve();
    });
  });
  call.hangUp();
}

describe('Agent prewarm', () => {
  it('loads Silero and the prewarm function before connect() resolves; the first call loads neither again', async () => {
    const createSession = vi.spyOn((await sileroRuntime()).InferenceSession, 'create');
    const pool = new FliteWorkerPool();
    pools.push(pool);
    let registeredDuringPrewarm: boolean | undefined;
    const agent = makeAgent({
      createSession: greetingSession(pool),
      prewarm: async () => {
        registeredDuringPrewarm = sim.connectedAgents().includes(AGENT_ID);
        await FliteTTSService.prewarm({ pool });
      },
    });
    expect(agent.prewarmed).toBe(false);
    await agent.connect();
    expect(registeredDuringPrewarm).toBe(false);
    expect(agent.prewarmed).toBe(true);
    // The first model load of this test file (each file has its own module graph, so its own Silero cache).
    const sessionsAtConnect = createSession.mock.calls.length;
    expect(sessionsAtConnect).toBeGreaterThanOrEqual(1);
    expect(pool.workersStarted).toBe(1);

    await firstAgentAudio(AGENT_ID);
    // The greeting was synthesised and the caller's audio analysed, with what connect() loaded.
    expect(createSession.mock.calls.length).toBe(sessionsAtConnect);
    expect(pool.workersStarted).toBe(1);
  });

  it('without prewarm, the first call is the one that loads Flite', async () => {
    const pool = new FliteWorkerPool();
    pools.push(pool);
    const agent = makeAgent({ createSession: greetingSession(pool), prewarmVAD: false });
    await agent.connect();
    expect(pool.workersStarted).toBe(0);
    await firstAgentAudio(AGENT_ID);
    expect(pool.workersStarted).toBe(1);
  });

  it('runs the warm-up once, even when prewarm() is called again or concurrently', async () => {
    let runs = 0;
    const agent = makeAgent({ prewarmVAD: false, prewarm: () => void runs++ });
    await Promise.all([agent.prewarm(), agent.prewarm()]);
    await agent.connect();
    await agent.prewarm();
    expect(runs).toBe(1);
  });

  it('rejects connect() with a clear error when the prewarm function fails, and does not register', async () => {
    const agent = makeAgent({
      prewarmVAD: false,
      prewarm: () => Promise.reject(new Error('model file missing')),
    });
    const failure = agent.connect();
    await expect(failure).rejects.toThrow('Agent: prewarm failed: model file missing');
    await expect(failure).rejects.toHaveProperty('cause.message', 'model file missing');
    expect(agent.connected).toBe(false);
    expect(sim.connectedAgents()).toEqual([]);
  });

  it('retries a failed warm-up on the next connect()', async () => {
    let attempts = 0;
    const agent = makeAgent({
      prewarmVAD: false,
      prewarm: () => {
        if (++attempts === 1) throw new Error('not yet');
      },
    });
    await expect(agent.connect()).rejects.toThrow('Agent: prewarm failed: not yet');
    await agent.connect();
    expect(attempts).toBe(2);
    expect(agent.connected).toBe(true);
  });

  it('names Silero when a required VAD warm-up cannot load the model', async () => {
    const agent = makeAgent({ prewarmVAD: { modelPath: '/nonexistent/silero_vad.onnx' } });
    await expect(agent.connect()).rejects.toThrow(
      'Agent: prewarm failed: Silero VAD: Silero VAD model not found at /nonexistent/silero_vad.onnx',
    );
    expect(agent.connected).toBe(false);
  });

  it('publishes join-room (stamped on receipt) and call-ended on its diagnostics channel', async () => {
    const events: AgentDiagnostic[] = [];
    const listener = (message: unknown): void => void events.push(message as AgentDiagnostic);
    subscribe(AGENT_CHANNEL, listener);
    try {
      const agent = makeAgent({ prewarmVAD: false, createSession: () => new Promise((r) => setTimeout(r, 50)) });
      await agent.connect();
      const before = performance.now();
      const call = sim.placeCall({ agentId: AGENT_ID, callId: 'call-diag' });
      const deadline = performance.now() + 5000;
      while (!events.some((e) => e.event === 'call-ended') && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(events.map((e) => [e.event, e.callId, e.roomName])).toEqual([
        ['join-room', 'call-diag', call.roomName],
        ['call-ended', 'call-diag', call.roomName],
      ]);
      expect(events[0]!.at).toBeGreaterThanOrEqual(before);
      expect(events[1]!.at).toBeGreaterThanOrEqual(events[0]!.at + 40);
    } finally {
      unsubscribe(AGENT_CHANNEL, listener);
    }
  });
});
