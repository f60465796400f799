// The operations endpoints of a real Agent on the local Piopiy simulator: real HTTP on a free port, real calls.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent, type AgentOptions } from '../../src/agent/index.js';
import { operationsFromEnvironment } from '../../src/operations/index.js';
import type { EventLoopStall } from '../../src/operations/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { startPiopiySimulator, type PiopiySimulator } from '../../src/testing/simulator/index.js';
import { FunctionSchema } from '../../src/llm/index.js';
import type { CallSession } from '../../src/transports/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';
import { recordingLogger, type LogRecord } from '../pipeline/helpers.js';

const AGENT_ID = 'agent-ops';
const AGENT_TOKEN = 'agent-ops-token';

let sim: PiopiySimulator;
let agents: Agent[];
let logs: LogRecord[];

beforeEach(async () => {
  sim = await startPiopiySimulator();
  sim.addAgent({ agentId: AGENT_ID, token: AGENT_TOKEN });
  agents = [];
  logs = [];
});

afterEach(async () => {
  for (const agent of agents) await agent.shutdown({ drainMs: 0 });
  await sim.close();
});

function makeAgent(extra: Partial<AgentOptions> = {}): Agent {
  const agent = new Agent({
    agentId: AGENT_ID,
    agentToken: AGENT_TOKEN,
    signalingUrl: sim.signalingUrl,
    createSession: voiceSession,
    logger: recordingLogger(logs),
    handleSignals: false,
    prewarmVAD: false,
    operations: { port: 0 },
    ...extra,
  });
  agents.push(agent);
  return agent;
}

async function voiceSession(_call: CallSession): Promise<void> {
  const voice = new VoiceAgent({ instructions: 'Look orders up.', greeting: 'Hello.', idleTimeoutSecs: 0 });
  voice.addTool(new FunctionSchema({ name: 'lookup_order', description: 'Look an order up.', properties: {}, required: [] }), () => 'shipped');
  await voice.action({
    stt: new ScriptedSTTService({ transcripts: ['where is my order', 'thanks'] }),
    llm: new ScriptedLLMService({
      rules: [
        { match: /order/i, reply: 'Let me check.', toolCall: { name: 'lookup_order' }, afterTool: 'It has {result}.' },
        { match: /.*/, reply: 'You are welcome.' },
      ],
    }),
    tts: new FakeTTSService({ msPerCharacter: 5 }),
    vad: true,
  });
  await voice.start();
}

async function get(agent: Agent, path: string): Promise<{ status: number; body: string; type: string | null }> {
  const response = await fetch(`http://127.0.0.1:${agent.operations?.port}${path}`);
  return { status: response.status, body: await response.text(), type: response.headers.get('content-type') };
}

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The value of one sample line (`name{labels} value`) of a Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('operations endpoints', () => {
  it('serve health, readiness and Prometheus metrics of real calls', async () => {
    const agent = makeAgent();
    await agent.connect();
    expect(agent.operations?.port).toBeGreaterThan(0);
    const health = await get(agent, '/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', healthy: true });
    const ready = await get(agent, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: true, connected: true, draining: false, activeCalls: 0 });

    const call = sim.placeCall({ agentId: AGENT_ID });
    await call.answered;
    await call.nextAgentSpeech();
    const during = await get(agent, '/metrics');
    expect(during.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(during.body, 'piopiy_active_calls')).toBe(1);
    await call.say('where is my order');
    // The answer after the tool ("It has shipped.") starts a second bot turn; wait for it in the metrics.
    await until(async () => (sample((await get(agent, '/metrics')).body, 'piopiy_stage_latency_seconds_count{stage="llm_ttfb"}') ?? 0) >= 2, 15_000);
    call.hangUp();
    await until(() => agent.activeSessions === 0);

    const metrics = (await get(agent, '/metrics')).body;
    expect(sample(metrics, 'piopiy_active_calls')).toBe(0);
    expect(sample(metrics, 'piopiy_calls_total{reason="completed"}')).toBe(1);
    expect(sample(metrics, 'piopiy_tool_calls_total{tool="lookup_order",outcome="ok"}')).toBe(1);
    for (const stage of ['vad_end_of_speech', 'llm_ttfb', 'tts_first_byte', 'voice_to_voice']) {
      expect(sample(metrics, `piopiy_stage_latency_seconds_count{stage="${stage}"}`), stage).toBeGreaterThanOrEqual(1);
    }
    const voiceToVoice = sample(metrics, 'piopiy_stage_latency_seconds_sum{stage="voice_to_voice"}') ?? -1;
    expect(voiceToVoice).toBeGreaterThan(0);
    expect(voiceToVoice).toBeLessThan(5);
    for (const name of ['piopiy_interruptions_total', 'piopiy_event_loop_stalls_total', 'piopiy_ready', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
      expect(metrics, name).toContain(`\n${name} `);
    }
    expect(metrics).toContain('# TYPE piopiy_errors_total counter');
    expect((await get(agent, '/nothing')).status).toBe(404);
  }, 30_000);

  it('is not ready while disconnected from signaling, nor while draining; the endpoints close with the agent', async () => {
    const agent = makeAgent();
    await agent.connect();
    const port = agent.operations?.port;
    const outage = sim.dropSignaling(1500);
    await until(() => !agent.connected);
    const disconnected = await get(agent, '/readyz');
    expect(disconnected.status).toBe(503);
    expect(JSON.parse(disconnected.body)).toMatchObject({ ready: false, connected: false, draining: false });
    expect((await get(agent, '/healthz')).status).toBe(200); // alive all the same: no restart for a network blip
    await outage;
    await until(() => agent.connected, 15_000);
    expect((await get(agent, '/readyz')).status).toBe(200);

    const call = sim.placeCall({ agentId: AGENT_ID });
    await call.answered;
    const stopped = agent.shutdown({ drainMs: 20_000 });
    const draining = await get(agent, '/readyz');
    expect(draining.status).toBe(503);
    expect(JSON.parse(draining.body)).toMatchObject({ ready: false, draining: true, activeCalls: 1 });
    call.hangUp();
    await stopped;
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  }, 30_000);

  it('is not ready at capacity, and counts the refused invite', async () => {
    const agent = makeAgent({ maxSessions: 1 });
    await agent.connect();
    const first = sim.placeCall({ agentId: AGENT_ID });
    await first.answered;
    expect(JSON.parse((await get(agent, '/readyz')).body)).toMatchObject({ ready: false, activeCalls: 1, maxCalls: 1 });
    sim.placeCall({ agentId: AGENT_ID });
    await until(() => logs.some((l) => l.message.startsWith('join_room refused')));
    const metrics = (await get(agent, '/metrics')).body;
    expect(sample(metrics, 'piopiy_calls_refused_total{reason="capacity"}')).toBe(1);
    expect(sample(metrics, 'piopiy_max_calls')).toBe(1);
    first.hangUp();
  });

  it('detects a blocked event loop as a stall, with the calls that were active', async () => {
    const agent = makeAgent();
    await agent.connect();
    const stalls: EventLoopStall[] = [];
    agent.operations?.onStall((stall) => stalls.push(stall));
    const call = sim.placeCall({ agentId: AGENT_ID });
    await call.answered;
    const blockUntil = Date.now() + 300;
    while (Date.now() < blockUntil) {
      // a deliberate block of the event loop
    }
    // A loaded machine may stall the loop before this too (while the call was set up): the block is the long one.
    const ours = () => stalls.find((stall) => stall.durationMs >= 250);
    await until(() => ours() !== undefined, 2000);
    expect(ours()?.callIds).toEqual([call.callId]);
    const line = logs.find((l) => l.message.startsWith('event loop blocked for'));
    expect(line?.fields).toMatchObject({ callIds: [call.callId] });
    const metrics = (await get(agent, '/metrics')).body;
    expect(sample(metrics, 'piopiy_event_loop_stalls_total')).toBeGreaterThanOrEqual(1);
    expect(sample(metrics, 'piopiy_event_loop_stall_seconds_count')).toBeGreaterThanOrEqual(1);
    call.hangUp();
  });

  it('keeps two agents in one process apart: each has its own registry', async () => {
    sim.addAgent({ agentId: 'agent-2', token: 'token-2' });
    const first = makeAgent();
    const second = makeAgent({ agentId: 'agent-2', agentToken: 'token-2' });
    await Promise.all([first.connect(), second.connect()]);
    const call = sim.placeCall({ agentId: 'agent-2' });
    await call.answered;
    expect(sample((await get(first, '/metrics')).body, 'piopiy_active_calls')).toBe(0);
    expect(sample((await get(second, '/metrics')).body, 'piopiy_active_calls')).toBe(1);
    call.hangUp();
  });

  it('drains for PIOPIY_DRAIN_SECS on shutdown, then ends the calls left and counts them as shutdown', async () => {
    const agent = makeAgent();
    await agent.connect();
    const call = sim.placeCall({ agentId: AGENT_ID });
    await call.answered;
    process.env.PIOPIY_DRAIN_SECS = '0.3';
    try {
      const started = performance.now();
      await agent.shutdown();
      expect(performance.now() - started).toBeGreaterThanOrEqual(250);
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      delete process.env.PIOPIY_DRAIN_SECS;
    }
    expect(sample(await agent.operations!.metrics.text(), 'piopiy_calls_total{reason="shutdown"}')).toBe(1);
    expect(() => makeAgent({ drainMs: -1 })).toThrow(/drainMs/);
  });

  it('is off unless configured; PIOPIY_OPERATIONS_PORT configures it', () => {
    expect(makeAgent({ operations: undefined }).operations).toBeUndefined();
    expect(operationsFromEnvironment({})).toBeUndefined();
    expect(operationsFromEnvironment({ PIOPIY_OPERATIONS_PORT: 'off' })).toBeUndefined();
    expect(operationsFromEnvironment({ PIOPIY_OPERATIONS_PORT: '8081', PIOPIY_OPERATIONS_HOST: '0.0.0.0' })).toEqual({ port: 8081, host: '0.0.0.0' });
    expect(() => operationsFromEnvironment({ PIOPIY_OPERATIONS_PORT: 'eighty' })).toThrow(/PIOPIY_OPERATIONS_PORT.*port number.*"eighty"/s);
    expect(() => makeAgent({ operations: { port: 70_000 } })).toThrow(/operations\.port/);
  });
});
