// The OpenTelemetry span tree of one simulated call, through the in-memory exporter.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Agent } from '../../src/agent/index.js';
import { AgentTracing } from '../../src/operations/index.js';
import { FunctionSchema } from '../../src/llm/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { startPiopiySimulator, type PiopiySimulator } from '../../src/testing/simulator/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';
import { recordingLogger } from '../pipeline/helpers.js';

const AGENT_ID = 'agent-trace';
const AGENT_TOKEN = 'agent-trace-token';
const SECRET = 'sk-secret-key-never-in-a-span';

let sim: PiopiySimulator;
let agent: Agent | undefined;

beforeEach(async () => {
  sim = await startPiopiySimulator();
  sim.addAgent({ agentId: AGENT_ID, token: AGENT_TOKEN });
});

afterEach(async () => {
  await agent?.shutdown({ drainMs: 0 });
  await sim.close();
});

async function until(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs one call (greeting, one turn with a tool, hang-up) and returns its finished spans. */
async function traceOneCall(recordContent: boolean): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  agent = new Agent({
    agentId: AGENT_ID,
    agentToken: AGENT_TOKEN,
    signalingUrl: sim.signalingUrl,
    handleSignals: false,
    prewarmVAD: false,
    logger: recordingLogger([]),
    tracing: { tracerProvider, recordContent },
    async createSession() {
      const voice = new VoiceAgent({ instructions: `Key ${SECRET} is not for spans.`, greeting: 'Hello.', idleTimeoutSecs: 0 });
      voice.addTool(
        new FunctionSchema({ name: 'lookup_order', description: 'Look an order up.', properties: { id: { type: 'string' } }, required: [] }),
        () => 'shipped',
      );
      await voice.action({
        stt: new ScriptedSTTService({ transcripts: ['where is my order'] }),
        llm: new ScriptedLLMService({
          rules: [{ match: /order/i, reply: 'Let me check.', toolCall: { name: 'lookup_order', arguments: { id: 'A7' } }, afterTool: 'It has {result}.' }],
        }),
        tts: new FakeTTSService({ msPerCharacter: 5 }),
        vad: true,
      });
      await voice.start();
    },
  });
  await agent.connect();
  const call = sim.placeCall({ agentId: AGENT_ID });
  await call.answered;
  await call.nextAgentSpeech();
  await call.say('where is my order');
  await until(() => exporter.getFinishedSpans().filter((s) => s.name.startsWith('chat ')).length >= 2);
  await until(() => exporter.getFinishedSpans().some((s) => s.name === 'turn'));
  call.hangUp();
  await until(() => exporter.getFinishedSpans().some((s) => s.name === 'call'));
  return exporter.getFinishedSpans();
}

function parentOf(span: ReadableSpan, spans: ReadableSpan[]): ReadableSpan | undefined {
  return spans.find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId);
}

describe('call traces', () => {
  it('make one tree per call: call > turn > stt, chat (GenAI conventions), execute_tool, tts', async () => {
    const spans = await traceOneCall(false);
    const call = spans.find((s) => s.name === 'call');
    expect(call?.parentSpanContext).toBeUndefined();
    expect(call?.attributes).toMatchObject({ 'piopiy.agent.id': AGENT_ID, 'piopiy.call.end_reason': 'completed' });
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);

    const turn = spans.find((s) => s.name === 'turn');
    expect(parentOf(turn!, spans)).toBe(call);
    expect(turn?.attributes['piopiy.turn.index']).toBe(1);
    const stt = spans.find((s) => s.name === 'stt');
    expect(parentOf(stt!, spans)).toBe(turn);

    const chats = spans.filter((s) => s.name.startsWith('chat '));
    expect(chats).toHaveLength(2); // the response that calls the tool, and the one after its result
    for (const chat of chats) {
      expect(parentOf(chat, spans)).toBe(turn);
      expect(chat.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.system': 'scripted', 'gen_ai.provider.name': 'scripted' });
      expect(chat.attributes['gen_ai.request.model']).toBe(chat.name.slice('chat '.length));
    }
    const tool = spans.find((s) => s.name === 'execute_tool lookup_order');
    expect(parentOf(tool!, spans)).toBe(turn);
    expect(tool?.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup_order' });
    expect(tool?.attributes['gen_ai.tool.call.arguments']).toBeUndefined();

    const tts = spans.filter((s) => s.name === 'tts');
    expect(tts.some((s) => parentOf(s, spans) === call)).toBe(true); // the greeting, before any turn
    expect(tts.some((s) => parentOf(s, spans) === turn)).toBe(true);

    // Children lie within their parents, and nothing personal or secret is in any attribute by default.
    for (const span of spans) {
      const parent = parentOf(span, spans);
      if (parent !== undefined) expect(toMs(span.startTime)).toBeGreaterThanOrEqual(toMs(parent.startTime) - 1);
      const text = JSON.stringify(span.attributes);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('where is my order');
      expect(span.attributes['piopiy.transcript']).toBeUndefined();
    }
  }, 40_000);

  it('cost a call nothing when no SDK records them: no observer joins its pipeline', () => {
    const unrecorded = new AgentTracing({}, AGENT_ID).callStarted({ callId: 'c1', roomName: 'r1' });
    expect(unrecorded.observer).toBeUndefined();
    unrecorded.end('completed');
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
    expect(new AgentTracing({ tracerProvider }, AGENT_ID).callStarted({ callId: 'c2', roomName: 'r2' }).observer).toBeDefined();
  });

  it('record transcripts and tool arguments only when asked', async () => {
    const spans = await traceOneCall(true);
    expect(spans.find((s) => s.name === 'stt')?.attributes['piopiy.transcript']).toBe('where is my order');
    const tool = spans.find((s) => s.name === 'execute_tool lookup_order');
    expect(tool?.attributes).toMatchObject({ 'gen_ai.tool.call.arguments': '{"id":"A7"}', 'gen_ai.tool.call.result': 'shipped' });
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain(SECRET);
  }, 40_000);
});

function toMs([secs, nanos]: [number, number]): number {
  return secs * 1000 + nanos / 1e6;
}
