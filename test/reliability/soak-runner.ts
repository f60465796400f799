// The soak: many whole calls, several at a time, through the real stack — the local Piopiy simulator, a real
// Agent over Socket.IO, a real VoiceAgent per call with real Silero VAD on real (Flite) caller speech, media
// over WebSocket — with instant fake services (scripted STT and LLM, fake TTS), so what is measured is the
// framework itself. Callers talk in turns; calls end by transfer, by the caller hanging up, by the agent
// hanging up (REST hangup from a tool), after a barge-in, after a tool that throws or hangs.
//
// It checks that nothing builds up over time:
// - memory: heap used, array buffers and RSS after forced GCs, when the warm-up calls have ended and again at
//   the end (both with the agent connected and no call in progress): growth must stay under the limit. The heap
//   is judged without its compiled code (V8's own count), which grows while the JIT optimises per-call code and
//   is bounded by the program; the whole heap is reported too;
// - resources that keep the process alive (`process.getActiveResourcesInfo()`, by type: timers, sockets,
//   servers, file requests, child processes), OS threads (worker threads, native pools), and listeners on
//   `process`: before the simulator and agent start vs after both have closed;
// - listeners on the long-lived emitters (the agent's signaling socket and its manager, the simulator's
//   servers) and the resources in use while the agent is idle: after warm-up vs at the end.
// Unref'd timers and handles do not appear in `getActiveResourcesInfo()`; one that piled up would show as heap
// growth (it holds its callback until it fires).
//
// Lives under test/ rather than src/testing: it needs a process of its own started with --expose-gc (forced GC,
// process-wide counts), and its callers and scripts are this project's, not a reusable API.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { getHeapCodeStatistics } from 'node:v8';
import { Agent } from '../../src/agent/index.js';
import { SileroVADAnalyzer } from '../../src/audio/vad/index.js';
import { FunctionSchema } from '../../src/llm/index.js';
import { TOOL_CANCELLED_CALL_ENDED } from '../../src/llm/tools.js';
import { getDefaultLogger, type Logger } from '../../src/logging/index.js';
import { RestClient } from '../../src/piopiy/index.js';
import { ScriptedLLMService, type ScriptedRule } from '../../src/services/scripted/index.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { startPiopiySimulator, type CallEndReason, type PiopiySimulator, type SimulatedCall } from '../../src/testing/simulator/index.js';
import { synthesizeSpeech } from '../../src/testing/speech.js';
import type { CallSession } from '../../src/transports/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';
import { sleep } from '../support/wait.js';

export interface SoakOptions {
  /** Least number of calls. */
  calls: number;
  /** Least total conversation time (sum over calls from answer to end), in minutes. */
  conversationMinutes: number;
  /** Calls in progress at once. */
  concurrency: number;
  /** Calls run before the memory baseline. Default: 10% of `calls`, at least `concurrency` (see below). */
  warmupCalls?: number;
  /** Memory is also measured every this many calls after warm-up (calls drain first). Default: only at the end. */
  checkpointEvery?: number;
  /** Largest memory growth allowed from warm-up to end, in percent. Default 5. */
  maxGrowthPercent?: number;
  /** Progress lines (to stderr in the CLI). */
  progress?: (line: string) => void;
}

export const SCENARIOS = ['caller-hangup', 'transfer', 'barge-in', 'agent-hangup', 'tool-throws', 'tool-hangs'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The order calls cycle through: each ending twice per ten calls, one tool failure of each kind. */
const ROTATION: readonly Scenario[] = [
  'caller-hangup',
  'transfer',
  'barge-in',
  'agent-hangup',
  'tool-throws',
  'caller-hangup',
  'transfer',
  'barge-in',
  'agent-hangup',
  'tool-hangs',
];

/** How each scenario must end, as the caller experiences it. */
const EXPECTED_END: Readonly<Record<Scenario, CallEndReason>> = {
  'caller-hangup': 'caller-hangup',
  transfer: 'transferred',
  'barge-in': 'caller-hangup',
  'agent-hangup': 'hangup',
  'tool-throws': 'caller-hangup',
  'tool-hangs': 'caller-hangup',
};

export interface MemorySample {
  heapUsedMB: number;
  /** Compiled code and bytecode with their metadata (part of the heap): grows while the JIT optimises. */
  codeMB: number;
  arrayBuffersMB: number;
  rssMB: number;
}

export interface MemoryCheckpoint extends MemorySample {
  /** Calls completed when it was taken. */
  calls: number;
}

export type Counts = Record<string, number>;

export interface SoakReport {
  ok: boolean;
  /** Every criterion that failed, in words. */
  failures: string[];
  calls: number;
  conversationMinutes: number;
  wallSeconds: number;
  concurrency: number;
  warmupCalls: number;
  scenarios: Counts;
  endings: Counts;
  /** Assistant turns cut short by the caller (barge-ins). */
  interruptedTurns: number;
  toolCalls: number;
  toolErrors: number;
  /** Tool errors by the scenario of the call they happened in. */
  toolErrorsByScenario: Counts;
  memory: {
    warmup: MemorySample;
    end: MemorySample;
    /** Every measurement, from warm-up to end. */
    curve: MemoryCheckpoint[];
    heapGrowthPercent: number;
    /** Growth of the heap without compiled code (`codeMB`): what calls leave behind. */
    dataHeapGrowthPercent: number;
    /** Heap growth per call after warm-up, in KB. */
    heapGrowthPerCallKB: number;
    arrayBuffersGrowthPercent: number;
    rssGrowthPercent: number;
    maxGrowthPercent: number;
  };
  /** `process.getActiveResourcesInfo()` by type: before the simulator and agent started, after both closed. */
  resources: { before: Counts; after: Counts; leaked: Counts };
  /** The same while the agent is connected and idle: after warm-up and at the end. */
  idleResources: { warmup: Counts; end: Counts; grown: Counts };
  /** Listeners on `process` by event. */
  processListeners: { before: Counts; after: Counts; leaked: Counts };
  /** Listeners on the agent's and the simulator's long-lived emitters, by emitter. */
  emitterListeners: { warmup: Counts; end: Counts; grown: Counts };
  /** OS threads of the process (Linux: /proc/self/status), or null elsewhere. */
  threads: { before: number | null; after: number | null };
  logs: { warnings: number; errors: number; byMessage: Counts };
}

const MB = 1024 * 1024;
const round1 = (n: number): number => Math.round(n * 10) / 10;
const round2 = (n: number): number => Math.round(n * 100) / 100;

// ---------------------------------------------------------------------------------------------------------
// Measuring

type ForcedGC = () => void;

function forcedGC(): ForcedGC {
  const gc = (globalThis as { gc?: unknown }).gc;
  if (typeof gc !== 'function') throw new Error('the soak needs a forced GC: run node with --expose-gc');
  return gc as ForcedGC;
}

/** Memory after full collections, with turns of the event loop between them so finalizers and weak callbacks run. */
export async function measureMemory(): Promise<MemorySample> {
  const gc = forcedGC();
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const usage = process.memoryUsage();
  const code = getHeapCodeStatistics();
  return {
    heapUsedMB: round2(usage.heapUsed / MB),
    codeMB: round2((code.code_and_metadata_size + code.bytecode_and_metadata_size) / MB),
    arrayBuffersMB: round2(usage.arrayBuffers / MB),
    rssMB: round2(usage.rss / MB),
  };
}

function countBy(items: readonly string[]): Counts {
  const counts: Counts = {};
  for (const item of items) counts[item] = (counts[item] ?? 0) + 1;
  return counts;
}

/** Resources keeping the event loop alive, by type (Timeout, TCPSocketWrap, TCPServerWrap, FSReqCallback, ...). */
export function activeResources(): Counts {
  return countBy(process.getActiveResourcesInfo());
}

/** How much each count in `after` exceeds the one in `before` (only the ones that grew). */
export function growth(before: Counts, after: Counts): Counts {
  const grown: Counts = {};
  for (const [key, n] of Object.entries(after)) {
    const extra = n - (before[key] ?? 0);
    if (extra > 0) grown[key] = extra;
  }
  return grown;
}

export function processListeners(): Counts {
  const counts: Counts = {};
  for (const name of process.eventNames()) {
    const n = process.listenerCount(name);
    if (n > 0) counts[String(name)] = n;
  }
  return counts;
}

/**
 * Listeners on an emitter: a Node EventEmitter (eventNames) or a Socket.IO client object, whose emitter keeps
 * its listeners in `_callbacks`.
 */
export function listenerTotal(emitter: object): number {
  const node = emitter as { eventNames?: () => (string | symbol)[]; listenerCount?: (name: string | symbol) => number };
  if (typeof node.eventNames === 'function' && typeof node.listenerCount === 'function') {
    return node.eventNames().reduce((sum, name) => sum + node.listenerCount!(name), 0);
  }
  const callbacks = (emitter as { _callbacks?: Record<string, unknown[]> })._callbacks;
  if (callbacks !== undefined) return Object.values(callbacks).reduce((sum, list) => sum + list.length, 0);
  throw new TypeError('listenerTotal: not an event emitter');
}

/** OS threads of this process (worker threads, libuv and native pools); null where /proc is not available. */
export function threadCount(): number | null {
  try {
    const match = /^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}

/** A field the classes keep private, read for measurement only; fails loudly if it is renamed. */
function field(owner: object, name: string): object {
  const value = (owner as Record<string, unknown>)[name];
  if (typeof value !== 'object' || value === null) throw new Error(`soak: ${owner.constructor.name}.${name} not found`);
  return value;
}

/** The long-lived emitters: the agent's signaling socket (its invite source's), its manager and engine; the simulator's servers. */
function longLivedEmitters(agent: Agent, sim: PiopiySimulator): Record<string, object> {
  const socket = field(field(agent, 'inviteSource'), 'socket');
  const manager = field(socket, 'io');
  return {
    'agent.socket': socket,
    'agent.socket.io': manager,
    'agent.socket.io.engine': field(manager, 'engine'),
    'simulator.http': field(sim, 'http'),
    'simulator.io': field(sim, 'io'),
    'simulator.media': field(sim, 'media'),
  };
}

function emitterListeners(emitters: Record<string, object>): Counts {
  return Object.fromEntries(Object.entries(emitters).map(([name, emitter]) => [name, listenerTotal(emitter)]));
}

/** Waits (up to `timeoutMs`) for the active resources to come back to `baseline`, then returns them. */
async function settledResources(baseline: Counts, timeoutMs: number): Promise<Counts> {
  const deadline = performance.now() + timeoutMs;
  while (Object.keys(growth(baseline, activeResources())).length > 0 && performance.now() < deadline) await sleep(50);
  // Measured with no timer of ours pending.
  await new Promise((resolve) => setImmediate(resolve));
  return activeResources();
}

// ---------------------------------------------------------------------------------------------------------
// The conversation

const GREETING = 'Hello, thanks for calling. How can I help?';
const STORY =
  'We have three plans. The basic plan has a hundred minutes and one gigabyte of data every month. The standard ' +
  'plan has five hundred minutes and ten gigabytes. The premium plan has unlimited minutes and unlimited data.';

/** The caller's lines: what is said (Flite speech) and, since the STT is scripted, what it is heard as. */
const LINES = {
  balance: 'What is my account balance?',
  hours: 'What are your opening hours?',
  plans: 'Tell me about your plans.',
  order: 'Where is my order?',
  human: 'I want to talk to a human please.',
  bye: 'That is all, goodbye.',
} as const;
type Line = keyof typeof LINES;

const RULES: ScriptedRule[] = [
  {
    match: /balance/i,
    reply: 'Let me look that up.',
    toolCall: { name: 'get_balance' },
    afterTool: 'Your balance is {result.balance} rupees.',
  },
  { match: /opening hours/i, reply: 'We are open from nine to five, Monday to Friday.' },
  { match: /plans/i, reply: STORY },
  { match: /order/i, reply: 'One moment.', toolCall: { name: 'order_status' }, afterTool: 'Your order is {result.status}.' },
  { match: /human/i, toolCall: { name: 'transfer_to_human' }, afterTool: '{result}' },
  { match: /goodbye/i, toolCall: { name: 'end_call' }, afterTool: '{result}' },
];
const TOOL_ERROR_REPLY = 'Sorry, something went wrong with that.';

const noArguments = (name: string, description: string): FunctionSchema<Record<string, never>> =>
  new FunctionSchema({ name, description, properties: {}, required: [] });

interface AssistantTurn {
  text: string;
  interrupted: boolean;
}

/** One call as both sides see it: the caller's script state and what the agent's VoiceAgent reported. */
interface CallRecord {
  readonly index: number;
  readonly scenario: Scenario;
  /** What the caller is saying now: the scripted STT "hears" it (an ideal recogniser). */
  heard: string;
  readonly turns: AssistantTurn[];
  toolCalls: number;
  toolErrors: number;
  /** Resolves when the agent's session for this call has returned. */
  sessionEnded: Promise<void>;
  markSessionEnded: () => void;
  /** Called on every assistant turn (the caller waits on them). */
  onTurn: (() => void) | undefined;
}

class CallFailure extends Error {}

/** Counts log lines by level and message (bounded), so warnings and errors are in the report. */
function countingLogger(stats: { warnings: number; errors: number; byMessage: Counts }): Logger {
  const count = (level: 'warnings' | 'errors') => (objOrMsg: object | string, msg?: string): void => {
    stats[level]++;
    const message = `${level === 'errors' ? 'error' : 'warn'}: ${typeof objOrMsg === 'string' ? objOrMsg : (msg ?? '')}`;
    if (message in stats.byMessage || Object.keys(stats.byMessage).length < 50) {
      stats.byMessage[message] = (stats.byMessage[message] ?? 0) + 1;
    }
  };
  const noop = (): void => {};
  const logger: Logger = { debug: noop, info: noop, warn: count('warnings'), error: count('errors'), child: () => logger };
  return logger;
}

// ---------------------------------------------------------------------------------------------------------
// The run

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = performance.now();
  const progress = options.progress ?? ((): void => {});
  const maxGrowthPercent = options.maxGrowthPercent ?? 5;
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  // Two full rounds of overlapping calls, at least 20% of them: the baseline must have seen the peak concurrency
  // (V8's spaces and the allocator's arenas grow to it once and stay), and the JIT must have settled — code run
  // once per call or per turn (connecting, tools, REST requests) is only optimised after a few dozen calls, and
  // its compiled code lands in the heap (measured: over 90% of the growth after a 10-call warm-up was code).
  const warmupCalls = options.warmupCalls ?? Math.max(Math.ceil(options.calls / 5), 2 * concurrency);
  const targetConversationMs = options.conversationMinutes * 60_000;
  const perCallTargetMs = targetConversationMs / Math.max(1, options.calls);
  forcedGC();

  // Process-wide things loaded once (Flite's worker, the Silero model, onnxruntime) are loaded before the
  // baseline: they are caches, not leaks.
  progress('synthesising the caller lines and loading the VAD model ...');
  const speech = {} as Record<Line, Int16Array>;
  for (const [line, text] of Object.entries(LINES) as [Line, string][]) speech[line] = await synthesizeSpeech(text, { sampleRate: 16000 });
  await SileroVADAnalyzer.load({ sampleRate: 16000 });
  // The default logger (pino, created once per process on first use) registers its flush-on-exit listener.
  getDefaultLogger();
  await sleep(100);
  const processListenersBefore = processListeners();
  const threadsBefore = threadCount();
  const resourcesBefore = await settledResources({}, 0);

  const logStats = { warnings: 0, errors: 0, byMessage: {} as Counts };
  const logger = countingLogger(logStats);
  const sim = await startPiopiySimulator({ transferDelayMs: 1500, keepEndedCalls: false });
  const agentId = randomUUID();
  const agentToken = randomUUID();
  sim.addAgent({ agentId, token: agentToken });
  const piopiy = new RestClient({ token: sim.restToken, baseUrl: sim.restBaseUrl, logger });
  const records = new Map<string, CallRecord>();

  const createSession = async (call: CallSession): Promise<void> => {
    const record = records.get(call.callId);
    if (record === undefined) throw new Error(`soak: unknown call ${call.callId}`);
    try {
      const voice = new VoiceAgent({ instructions: 'You are a phone assistant for a telecom company.', greeting: GREETING });
      voice.addTool(noArguments('get_balance', 'The caller’s balance.'), async () => {
        await sleep(30);
        return { balance: 1234 };
      });
      voice.addTool(
        noArguments('order_status', 'Where the caller’s order is.'),
        (_args, ctx) => {
          if (record.scenario === 'tool-throws') throw new Error('order service unavailable');
          if (record.scenario === 'tool-hangs') {
            // Hangs until the registry's timeout aborts it.
            return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('late'), { once: true }));
          }
          return { status: 'on its way' };
        },
        { timeoutMs: 800 },
      );
      voice.addTool(noArguments('transfer_to_human', 'Transfer the call to a human.'), async () => {
        await piopiy.voice.transfer(
          call.callId,
          piopiy.voice.pipeline().connect({ callerId: '918000000001' }, [{ type: 'pstn', number: '918000000002' }]),
        );
        return 'Connecting you now.';
      });
      voice.addTool(noArguments('end_call', 'End the call.'), async () => {
        await piopiy.voice.hangup(call.callId);
        return 'Goodbye.';
      });
      voice.events.on('assistant-turn', (text, interrupted) => {
        record.turns.push({ text, interrupted });
        record.onTurn?.();
      });
      voice.events.on('tool-call', (outcome) => {
        record.toolCalls++;
        // end_call's hang-up ends the call, and the call's end cancels the tools still running: when the REST
        // answer comes after the teardown, end_call reads as cancelled although it did its job.
        const endedByItself = outcome.name === 'end_call' && outcome.error === TOOL_CANCELLED_CALL_ENDED;
        if (outcome.error !== undefined && !endedByItself) record.toolErrors++;
      });
      await voice.action({
        // Interims let a barge-in interrupt while the caller is still talking, as a streaming STT would.
        stt: new ScriptedSTTService({ transcripts: () => record.heard, interimAfterMs: 300 }),
        llm: new ScriptedLLMService({ rules: RULES, toolErrorReply: TOOL_ERROR_REPLY }),
        tts: new FakeTTSService({ msPerCharacter: 15 }),
        vad: true,
      });
      await voice.start();
    } finally {
      record.markSessionEnded();
    }
  };

  const agent = new Agent({ agentId, agentToken, signalingUrl: sim.signalingUrl, createSession, logger });
  await agent.connect();

  const failures: string[] = [];
  const scenarios: Counts = {};
  const endings: Counts = {};
  let placed = 0;
  let completed = 0;
  let conversationMs = 0;
  let inFlight = 0;
  let interruptedTurns = 0;
  let toolCalls = 0;
  let toolErrors = 0;
  const toolErrorsByScenario: Counts = {};

  const runCall = async (): Promise<void> => {
    const index = placed++;
    inFlight++;
    const scenario = ROTATION[index % ROTATION.length]!;
    scenarios[scenario] = (scenarios[scenario] ?? 0) + 1;
    const callId = randomUUID();
    let markSessionEnded!: () => void;
    const record: CallRecord = {
      index,
      scenario,
      heard: '',
      turns: [],
      toolCalls: 0,
      toolErrors: 0,
      sessionEnded: new Promise<void>((resolve) => (markSessionEnded = resolve)),
      markSessionEnded: () => markSessionEnded(),
      onTurn: undefined,
    };
    records.set(callId, record);
    const call = sim.placeCall({ agentId, callId });
    try {
      await converse(call, record, speech, perCallTargetMs);
      const end = await withTimeout(call.ended, 10_000, 'the call did not end');
      endings[end.reason] = (endings[end.reason] ?? 0) + 1;
      if (end.reason !== EXPECTED_END[scenario]) throw new CallFailure(`ended by ${end.reason}, expected ${EXPECTED_END[scenario]}`);
      if (!call.received.some((frame) => frame.audio.some((s) => Math.abs(s) > 1000))) throw new CallFailure('the caller heard no speech');
      await withTimeout(record.sessionEnded, 10_000, 'the agent session did not end after the call');
      conversationMs += end.at - (call.answeredAt ?? end.at);
    } catch (error) {
      failures.push(`call ${index} (${scenario}): ${error instanceof Error ? error.message : String(error)}`);
      if (!call.isEnded) call.hangUp();
      await Promise.race([record.sessionEnded, sleep(10_000)]);
    } finally {
      interruptedTurns += record.turns.filter((t) => t.interrupted).length;
      toolCalls += record.toolCalls;
      toolErrors += record.toolErrors;
      if (record.toolErrors > 0) toolErrorsByScenario[scenario] = (toolErrorsByScenario[scenario] ?? 0) + record.toolErrors;
      records.delete(callId);
      inFlight--;
      completed++;
      if (completed % 10 === 0) {
        progress(`${completed} calls, ${round1(conversationMs / 60_000)} min of conversation, ${round1((performance.now() - started) / 1000)} s`);
      }
    }
  };

  /** Runs calls `concurrency` at a time while `more()` says so. */
  const runCalls = async (more: () => boolean): Promise<void> => {
    const lane = async (): Promise<void> => {
      while (more()) await runCall();
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  };

  const quiescent = async (): Promise<void> => {
    const deadline = performance.now() + 10_000;
    while ((agent.activeSessions > 0 || sim.calls.size > 0) && performance.now() < deadline) await sleep(50);
    if (agent.activeSessions > 0) failures.push(`${agent.activeSessions} agent sessions still running after their calls ended`);
    if (sim.calls.size > 0) failures.push(`${sim.calls.size} simulated calls still open`);
    await sleep(300);
  };

  const emitters = longLivedEmitters(agent, sim);
  const curve: MemoryCheckpoint[] = [];
  const checkpoint = async (): Promise<MemorySample> => {
    await quiescent();
    const memory = await measureMemory();
    curve.push({ calls: completed, ...memory });
    return memory;
  };
  progress(`warm-up: ${warmupCalls} calls, ${concurrency} at a time`);
  await runCalls(() => placed < warmupCalls);
  const memoryWarmup = await checkpoint();
  const idleWarmup = activeResources();
  const listenersWarmup = emitterListeners(emitters);

  const plannedMs = (): number => conversationMs + inFlight * perCallTargetMs;
  const more = (): boolean => placed < options.calls || plannedMs() < targetConversationMs;
  progress(`soak: at least ${options.calls} calls and ${options.conversationMinutes} min of conversation`);
  // Memory is also sampled between rounds (calls drain, GC, measure): the curve shows whether it is flat.
  const every = options.checkpointEvery ?? Infinity;
  for (let next = warmupCalls + every; more(); next += every) {
    await runCalls(() => more() && placed < next);
    if (more()) await checkpoint();
  }
  const memoryEnd = await checkpoint();
  // The last calls' sockets may still be closing (more so on a busy machine): a leak is what is still there later.
  const idleEnd = await settledResources(idleWarmup, 3000);
  const listenersEnd = emitterListeners(emitters);

  await agent.shutdown({ drainMs: 0 });
  await sim.close();
  const resourcesAfter = await settledResources(resourcesBefore, 3000);
  const processListenersAfter = processListeners();
  let threadsAfter = threadCount();
  for (let i = 0; i < 20 && threadsBefore !== null && threadsAfter !== null && threadsAfter > threadsBefore; i++) {
    await sleep(100);
    threadsAfter = threadCount();
  }

  const percent = (from: number, to: number): number => round2(((to - from) / from) * 100);
  const report: SoakReport = {
    ok: false,
    failures,
    calls: completed,
    conversationMinutes: round2(conversationMs / 60_000),
    wallSeconds: round1((performance.now() - started) / 1000),
    concurrency,
    warmupCalls,
    scenarios,
    endings,
    interruptedTurns,
    toolCalls,
    toolErrors,
    toolErrorsByScenario,
    memory: {
      warmup: memoryWarmup,
      end: memoryEnd,
      curve,
      heapGrowthPercent: percent(memoryWarmup.heapUsedMB, memoryEnd.heapUsedMB),
      dataHeapGrowthPercent: percent(memoryWarmup.heapUsedMB - memoryWarmup.codeMB, memoryEnd.heapUsedMB - memoryEnd.codeMB),
      heapGrowthPerCallKB: round1(((memoryEnd.heapUsedMB - memoryWarmup.heapUsedMB) * 1024) / Math.max(1, completed - warmupCalls)),
      arrayBuffersGrowthPercent: percent(memoryWarmup.arrayBuffersMB, memoryEnd.arrayBuffersMB),
      rssGrowthPercent: percent(memoryWarmup.rssMB, memoryEnd.rssMB),
      maxGrowthPercent,
    },
    resources: { before: resourcesBefore, after: resourcesAfter, leaked: growth(resourcesBefore, resourcesAfter) },
    idleResources: { warmup: idleWarmup, end: idleEnd, grown: growth(idleWarmup, idleEnd) },
    processListeners: { before: processListenersBefore, after: processListenersAfter, leaked: growth(processListenersBefore, processListenersAfter) },
    emitterListeners: { warmup: listenersWarmup, end: listenersEnd, grown: growth(listenersWarmup, listenersEnd) },
    threads: { before: threadsBefore, after: threadsAfter },
    logs: logStats,
  };
  report.failures.push(...criteriaFailures(report, options));
  report.ok = report.failures.length === 0;
  return report;
}

/** The soak's pass criteria, in words (empty when all hold). */
export function criteriaFailures(report: SoakReport, options: Pick<SoakOptions, 'calls' | 'conversationMinutes'>): string[] {
  const failures: string[] = [];
  const { memory } = report;
  if (report.calls < options.calls) failures.push(`only ${report.calls} of ${options.calls} calls ran`);
  if (report.conversationMinutes < options.conversationMinutes) {
    failures.push(`only ${report.conversationMinutes} of ${options.conversationMinutes} minutes of conversation`);
  }
  const grew = (what: string, value: number): void => {
    if (!(value < memory.maxGrowthPercent)) failures.push(`${what} grew ${value}% after warm-up (limit ${memory.maxGrowthPercent}%)`);
  };
  // The heap without compiled code: code is bounded by the program (the JIT keeps optimising per-call code for a
  // few dozen calls), while what calls leave behind is not. Stricter than the whole heap in bytes (5% of less).
  grew('heap used (without compiled code)', memory.dataHeapGrowthPercent);
  grew('RSS', memory.rssGrowthPercent);
  // Audio lives in array buffers, outside the heap; a few hundred KB either way is noise, not a leak.
  if (memory.end.arrayBuffersMB - memory.warmup.arrayBuffersMB > 1) grew('array buffers', memory.arrayBuffersGrowthPercent);
  const leaked = (what: string, counts: Counts): void => {
    const entries = Object.entries(counts);
    if (entries.length > 0) failures.push(`${what}: ${entries.map(([k, n]) => `${k} +${n}`).join(', ')}`);
  };
  leaked('resources left after the agent and simulator closed', report.resources.leaked);
  leaked('resources of the idle agent grew', report.idleResources.grown);
  leaked('listeners left on process', report.processListeners.leaked);
  leaked('listeners grew on long-lived emitters', report.emitterListeners.grown);
  const { before, after } = report.threads;
  if (before !== null && after !== null && after > before) failures.push(`threads: ${before} before, ${after} after`);
  return failures;
}

// ---------------------------------------------------------------------------------------------------------
// One caller

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new CallFailure(message)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with the first assistant turn from `from` on that matches; fails after `timeoutMs`. */
function assistantTurn(record: CallRecord, from: number, matches: (turn: AssistantTurn) => boolean, what: string, timeoutMs = 15_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const found = record.turns.findIndex((turn, i) => i >= from && matches(turn));
      if (found < 0) return false;
      clearTimeout(timer);
      record.onTurn = undefined;
      resolve(found);
      return true;
    };
    const timer = setTimeout(() => {
      record.onTurn = undefined;
      const said = record.turns.slice(from).map((t) => JSON.stringify(t.text)).join(', ') || 'nothing';
      reject(new CallFailure(`no ${what} (the agent said ${said})`));
    }, timeoutMs);
    record.onTurn = check;
    check();
  });
}

const includes = (fragment: string) => (turn: AssistantTurn): boolean => turn.text.includes(fragment);

/** Says a line and waits for the assistant turn that answers it. */
async function ask(call: SimulatedCall, record: CallRecord, speech: Record<Line, Int16Array>, line: Line, answer: string): Promise<void> {
  const from = record.turns.length;
  record.heard = LINES[line];
  await call.say(speech[line]);
  await assistantTurn(record, from, includes(answer), `answer "${answer}" to "${LINES[line]}"`);
}

/** The caller's side of one call; returns once the caller has done its part (the call may still be ending). */
async function converse(call: SimulatedCall, record: CallRecord, speech: Record<Line, Int16Array>, targetMs: number): Promise<void> {
  await withTimeout(call.answered, 10_000, 'the agent did not join the call');
  await assistantTurn(record, 0, includes('thanks for calling'), 'greeting');
  const answeredAt = call.answeredAt ?? performance.now();
  /** The caller's silences stretch the call to its share of the total conversation time. */
  const pad = async (): Promise<void> => {
    const left = targetMs - (performance.now() - answeredAt);
    if (left > 0) await sleep(left);
  };
  const pause = (): Promise<void> => sleep(300 + (record.index % 4) * 100);
  switch (record.scenario) {
    case 'caller-hangup':
      await pause();
      await ask(call, record, speech, 'balance', 'rupees');
      await pause();
      await ask(call, record, speech, 'hours', 'nine to five');
      await pad();
      call.hangUp();
      return;
    case 'transfer':
      await pause();
      await ask(call, record, speech, 'hours', 'nine to five');
      await pad();
      await ask(call, record, speech, 'human', 'Connecting you now');
      return;
    case 'agent-hangup':
      await pause();
      await ask(call, record, speech, 'balance', 'rupees');
      await pad();
      record.heard = LINES.bye;
      await call.say(speech.bye);
      return;
    case 'barge-in': {
      await pause();
      const from = record.turns.length;
      record.heard = LINES.plans;
      await call.say(speech.plans);
      // Talk over the long answer once it has been playing for a moment.
      await withTimeout(call.nextAgentSpeech(), 10_000, 'the long answer never started');
      await sleep(700);
      await ask(call, record, speech, 'hours', 'nine to five');
      const cut = record.turns.slice(from).find((t) => t.interrupted && STORY.startsWith(t.text));
      if (cut === undefined) throw new CallFailure('the long answer was not cut short by the barge-in');
      await pad();
      call.hangUp();
      return;
    }
    case 'tool-throws':
    case 'tool-hangs':
      await pause();
      await ask(call, record, speech, 'order', TOOL_ERROR_REPLY);
      await pause();
      // The conversation goes on after the failed tool.
      await ask(call, record, speech, 'hours', 'nine to five');
      await pad();
      call.hangUp();
      return;
  }
}
