// An MCP tool called during a Piopiy call on the local simulator, in real time: a real Agent takes the call, its
// VoiceAgent adds a shared MCP server (Streamable HTTP, in this process) or a per-call one (stdio, a child process
// closed with the call), the scripted LLM calls the server's tool and says its result.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../../src/agent/index.js';
import { McpToolSource, type McpServerStatus } from '../../../src/llm/mcp/index.js';
import { silentLogger } from '../../../src/logging/index.js';
import { recordingLogger, type LogRecord } from '../../pipeline/helpers.js';
import { ScriptedLLMService } from '../../../src/services/scripted/index.js';
import { EnergyVAD, speechTone } from '../../../src/testing/energy-vad.js';
import { FakeTTSService, ScriptedSTTService } from '../../../src/testing/fake-services.js';
import { startPiopiySimulator, type PiopiySimulator } from '../../../src/testing/simulator/index.js';
import type { CallSession } from '../../../src/transports/index.js';
import { VoiceAgent } from '../../../src/voice-agent/index.js';
import { startTestHttpServer, type TestHttpServer } from './fixtures/http-server.js';

const AGENT_ID = 'agent-mcp';
const AGENT_TOKEN = 'agent-mcp-token';
const STDIO_SERVER = fileURLToPath(new URL('./fixtures/stdio-server.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

let sim: PiopiySimulator;
let agent: Agent;
let http: TestHttpServer;
let shared: McpToolSource;
const said = new Map<string, string[]>();
const statuses = new Map<string, McpServerStatus>();
const serverLogs: LogRecord[] = [];

async function session(call: CallSession): Promise<void> {
  const perCall = (call.metadata as { perCall?: boolean }).perCall === true;
  const voice = new VoiceAgent({ instructions: 'Help the caller.', greeting: 'Hello.', idleTimeoutSecs: 0 });
  const turns: string[] = [];
  said.set(call.callId, turns);
  voice.events.on('assistant-turn', (text) => turns.push(text));
  const tool = perCall ? 'orders_lookup_order' : 'crm_lookup_order';
  const status = perCall
    ? await voice.addMcpServer({ name: 'orders', command: process.execPath, args: ['--import', 'tsx', STDIO_SERVER], cwd: REPO, connectTimeoutMs: 30_000, logger: recordingLogger(serverLogs) })
    : await voice.addMcpServer(shared);
  statuses.set(call.callId, status);
  await voice.action({
    stt: new ScriptedSTTService({ transcripts: ['where is my order A7', 'thanks bye'] }),
    llm: new ScriptedLLMService({
      rules: [
        { match: /order/i, toolCall: { name: tool, arguments: { order_id: 'A7' } }, afterTool: '{result}.' },
        { match: /bye/i, reply: 'Goodbye!' },
      ],
    }),
    tts: new FakeTTSService({ msPerCharacter: 10 }),
    vad: new EnergyVAD(),
  });
  await voice.start();
}

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  http = await startTestHttpServer();
  shared = new McpToolSource({ name: 'crm', url: http.url, logger: silentLogger });
  sim = await startPiopiySimulator();
  sim.addAgent({ agentId: AGENT_ID, token: AGENT_TOKEN });
  agent = new Agent({ agentId: AGENT_ID, agentToken: AGENT_TOKEN, signalingUrl: sim.signalingUrl, createSession: session, logger: silentLogger, handleSignals: false });
  await agent.connect();
});

afterAll(async () => {
  await agent.shutdown();
  await sim.close();
  await shared.close();
  await http.close();
});

describe('an MCP tool in a Piopiy call', () => {
  it('a shared server: two calls use it, it is listed once and stays open after them', async () => {
    for (const _ of [1, 2]) {
      const call = sim.placeCall({ agentId: AGENT_ID, metadata: {} });
      await call.answered;
      await until(() => (said.get(call.callId) ?? []).includes('Hello.'));
      await call.say(speechTone(500));
      await until(() => said.get(call.callId)!.includes('Order A7 ships tomorrow.'));
      const status = statuses.get(call.callId);
      expect(status?.ok === true && status.tools).toContain('crm_lookup_order');
      call.hangUp();
      await call.ended;
    }
    expect(http.log.calls.filter((c) => c === 'lookup_order')).toHaveLength(2);
    expect(shared.closed).toBe(false);
  }, 30_000);

  it('a per-call server (stdio): started for the call, its tool answers, closed when the call ends', async () => {
    const call = sim.placeCall({ agentId: AGENT_ID, metadata: { perCall: true } });
    await call.answered;
    await until(() => (said.get(call.callId) ?? []).includes('Hello.'), 30_000);
    expect(statuses.get(call.callId)).toMatchObject({ ok: true });
    await call.say(speechTone(500));
    await until(() => said.get(call.callId)!.includes('Order A7 ships tomorrow.'));
    call.hangUp();
    await call.ended;
    // The server process said its pid on stderr (logged at debug); it is gone once the call has ended.
    const ready = serverLogs.find((l) => /ready: pid/.test(String(l.fields.stderr)));
    const pid = Number(/pid (\d+)/.exec(String(ready?.fields.stderr))?.[1]);
    expect(pid).toBeGreaterThan(0);
    await until(() => !isRunning(pid));
  }, 40_000);
});
