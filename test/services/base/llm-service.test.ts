// LLMService base: a scripted subclass (each call of `streamCompletion` plays the next step of a script) in a
// real pipeline task, between two frame collectors, so the frames it sends both ways are seen as a pipeline sees
// them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  makeFrame,
  type ErrorFrame,
  type Frame,
  type FrameDirection,
  type LLMContextSnapshot,
  type LLMToolCall,
  type MetricsData,
} from '../../../src/frames/index.js';
import { Conversation } from '../../../src/conversation/conversation.js';
import { LLMContext } from '../../../src/llm/context.js';
import { FunctionSchema } from '../../../src/llm/function-schema.js';
import { ToolRegistry, type ToolOptions } from '../../../src/llm/tools.js';
import { silentLogger } from '../../../src/logging/index.js';
import { Pipeline, PipelineTask } from '../../../src/pipeline/index.js';
import { LLMService, type LLMServiceOptions } from '../../../src/services/base/llm-service.js';
import type { LLMStreamEvent, StreamCompletionOptions } from '../../../src/services/base/llm-stream.js';
import { ServiceError } from '../../../src/services/base/service-error.js';
import { FrameCollector } from '../../../src/testing/frame-collector.js';
import { sleep } from '../../support/wait.js';

// ---- script steps ------------------------------------------------------------------------------------------------

type Step = (signal: AbortSignal) => AsyncIterable<LLMStreamEvent>;


/** Text pieces, `gapMs` apart (the wait ignores the signal, like bytes already on their way). */
function text(pieces: readonly string[], options: { gapMs?: number; firstMs?: number; usage?: boolean } = {}): Step {
  return async function* () {
    await sleep(options.firstMs ?? 0);
    for (const [i, piece] of pieces.entries()) {
      if (i > 0) await sleep(options.gapMs ?? 0);
      yield { type: 'text', text: piece };
    }
    if (options.usage === true) yield { type: 'usage', promptTokens: 12, completionTokens: 7, cachedTokens: 3 };
  };
}

function toolCalls(...calls: LLMToolCall[]): Step {
  return async function* () {
    await sleep(0);
    for (const toolCall of calls) yield { type: 'tool-call', toolCall };
  };
}

function fail(error: unknown, afterText?: string): Step {
  return async function* () {
    await sleep(0);
    if (afterText !== undefined) yield { type: 'text', text: afterText };
    await sleep(5);
    throw error;
  };
}

/** Never sends anything; ends only when its request is aborted (as a vendor client does). */
function stall(afterText?: string): Step {
  return async function* (signal) {
    if (afterText !== undefined) yield { type: 'text', text: afterText };
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    throw new Error('request aborted');
  };
}

interface CallRecord {
  context: LLMContextSnapshot;
  signal: AbortSignal;
  at: number;
}

class ScriptedTestLLM extends LLMService {
  readonly calls: CallRecord[] = [];

  constructor(
    private readonly script: readonly Step[],
    options: Partial<LLMServiceOptions> = {},
  ) {
    super({ model: 'test-model', name: 'test-llm', ...options });
  }

  streamCompletion(context: LLMContextSnapshot, options: StreamCompletionOptions): AsyncIterable<LLMStreamEvent> {
    const step = this.script[this.calls.length] ?? text(['(no more script)']);
    this.calls.push({ context, signal: options.signal, at: performance.now() });
    return step(options.signal);
  }
}

/** A collector that records arrival times and can send frames upstream (as the output transport does). */
class Probe extends FrameCollector {
  readonly arrivals = new Map<Frame, number>();

  sendUpstream(frame: Frame): void {
    void this.pushFrame(frame, 'upstream');
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    this.arrivals.set(frame, performance.now());
    return super.processFrame(frame, direction);
  }
}

// ---- harness -----------------------------------------------------------------------------------------------------

interface Harness {
  llm: ScriptedTestLLM;
  conversation: Conversation;
  up: FrameCollector;
  down: Probe;
  task: PipelineTask;
  done: Promise<void>;
  errors: ErrorFrame[];
  context: LLMContext;
  ask(text?: string): void;
  waitFor(predicate: (frame: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  /** Waits until `count` responses have ended (llm-response-end frames seen downstream). */
  responses(count: number, timeoutMs?: number): Promise<void>;
  /** Downstream frames, without metrics and start. */
  frames(): Frame[];
}

const running: Harness[] = [];
let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});

afterEach(async () => {
  for (const h of running.splice(0)) {
    h.task.cancel('test over');
    await h.done;
  }
  // Let any stray rejection surface before checking.
  await sleep(10);
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

function start(script: readonly Step[], options: Partial<LLMServiceOptions> = {}, tools?: Parameters<LLMService['setTools']>[0]): Harness {
  const llm = new ScriptedTestLLM(script, options);
  const context = new LLMContext([{ role: 'system', content: 'You are a test.' }]);
  // The call's conversation: it records the tool calls and results the service reports, and says who is speaking.
  const conversation = new Conversation({ context, logger: silentLogger });
  if (tools !== undefined) llm.setTools({ conversation, ...tools });
  const up = new FrameCollector({ name: 'up' });
  const down = new Probe({ name: 'down' });
  const errors: ErrorFrame[] = [];
  const task = new PipelineTask(new Pipeline([up, llm, down]), {
    logger: silentLogger,
    onError: (frame) => errors.push(frame),
  });
  const h: Harness = {
    llm,
    conversation,
    up,
    down,
    task,
    done: task.run(),
    errors,
    context,
    ask(question = 'Hello?') {
      void task.queueFrame(makeFrame('llm-context', { context: conversation.commitUserTurn(question)! }));
    },
    async waitFor(predicate, timeoutMs = 3000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
      });
      try {
        return await Promise.race([down.waitFor(predicate), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async responses(count, timeoutMs = 3000) {
      const until = performance.now() + timeoutMs;
      while (down.ofType('llm-response-end').length < count) {
        if (performance.now() > until) throw new Error(`timed out waiting for ${count} responses`);
        await sleep(5);
      }
    },
    frames() {
      return down.downstream.filter((f) => f.type !== 'metrics' && f.type !== 'start');
    },
  };
  running.push(h);
  return h;
}

function metrics(h: Harness): MetricsData[] {
  return h.down.ofType('metrics').flatMap((f) => [...f.data]);
}

function spoken(h: Harness): string[] {
  return h.down.ofType('speak').map((f) => f.text);
}

function llmTexts(h: Harness): string[] {
  return h.down.ofType('llm-text').map((f) => f.text);
}

const weatherSchema = new FunctionSchema({
  name: 'get_weather',
  description: 'Weather in a city.',
  properties: { city: { type: 'string' } },
  required: ['city'],
});
const timeSchema = new FunctionSchema({ name: 'get_time', description: 'The time.', properties: {} });

function registryWith(
  handlers: { weather?: (signal: AbortSignal) => Promise<unknown>; time?: (signal: AbortSignal) => Promise<unknown> },
  options: ToolOptions = {},
): ToolRegistry {
  const registry = new ToolRegistry();
  if (handlers.weather !== undefined) {
    const handler = handlers.weather;
    registry.register(weatherSchema, (_args, ctx) => handler(ctx.signal), options);
  }
  if (handlers.time !== undefined) {
    const handler = handlers.time;
    registry.register(timeSchema, (_args, ctx) => handler(ctx.signal), options);
  }
  return registry;
}

/** Resolves with `value` after `ms`, or rejects when `signal` aborts first. */
function slowResult(ms: number, value: unknown, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(value), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    });
  });
}

const weatherCall: LLMToolCall = { id: 'call-1', name: 'get_weather', arguments: '{"city":"Paris"}' };
const timeCall: LLMToolCall = { id: 'call-2', name: 'get_time', arguments: '{}' };

// ---- tests -------------------------------------------------------------------------------------------------------

describe('LLMService: streaming a response', () => {
  it('brackets the streamed text with llm-response-start / llm-response-end, passing each piece on as it arrives', async () => {
    const h = start([text(['Hello', ' there.', ' How can', ' I help?'], { firstMs: 30, gapMs: 25, usage: true })]);
    h.ask();
    await h.responses(1);
    expect(h.frames().map((f) => f.type)).toEqual([
      'llm-response-start',
      'llm-text',
      'llm-text',
      'llm-text',
      'llm-text',
      'llm-response-end',
    ]);
    expect(llmTexts(h)).toEqual(['Hello', ' there.', ' How can', ' I help?']);
    // Streamed, not buffered: the pieces reached the next processor spread over the stream's own pace.
    const arrivals = h.down.ofType('llm-text').map((f) => h.down.arrivals.get(f)!);
    expect(arrivals[3]! - arrivals[0]!).toBeGreaterThanOrEqual(3 * 25 - 5);
    // The request saw the context with the user's message.
    expect(h.llm.calls).toHaveLength(1);
    expect(h.llm.calls[0]!.context.messages.map((m) => m.role)).toEqual(['system', 'user']);
  });

  it('reports TTFB, processing time and token usage as metrics', async () => {
    const h = start([text(['Hi', ' there.', ' Bye.'], { firstMs: 40, gapMs: 20, usage: true })]);
    h.ask();
    await h.responses(1);
    const data = metrics(h);
    const ttfb = data.filter((m) => m.kind === 'ttfb');
    const processing = data.filter((m) => m.kind === 'processing');
    expect(ttfb).toHaveLength(1);
    expect(processing).toHaveLength(1);
    expect(ttfb[0]!.processor).toBe('test-llm');
    expect(ttfb[0]!.kind === 'ttfb' && ttfb[0]!.valueMs).toBeGreaterThanOrEqual(35);
    const ttfbMs = ttfb[0]!.kind === 'ttfb' ? ttfb[0]!.valueMs : 0;
    const processingMs = processing[0]!.kind === 'processing' ? processing[0]!.valueMs : 0;
    expect(processingMs).toBeGreaterThanOrEqual(ttfbMs + 2 * 20 - 5);
    expect(data.filter((m) => m.kind === 'llm-usage')).toEqual([
      { kind: 'llm-usage', processor: 'test-llm', model: 'test-model', promptTokens: 12, completionTokens: 7, cachedTokens: 3 },
    ]);
  });

  it('answers successive contexts one after the other', async () => {
    const h = start([text(['One.']), text(['Two.'])]);
    h.ask('first');
    h.ask('second');
    await h.responses(2);
    expect(llmTexts(h)).toEqual(['One.', 'Two.']);
    expect(h.frames().map((f) => f.type)).toEqual([
      'llm-response-start',
      'llm-text',
      'llm-response-end',
      'llm-response-start',
      'llm-text',
      'llm-response-end',
    ]);
  });
});

describe('LLMService: tools', () => {
  it('runs the tool calls concurrently, reports results in call order, and runs the model again with them', async () => {
    const finished: string[] = [];
    const registry = registryWith({
      weather: async (signal) => {
        const result = await slowResult(200, { city: 'Paris', tempC: 18 }, signal);
        finished.push('weather');
        return result;
      },
      time: async (signal) => {
        const result = await slowResult(150, '10:30', signal);
        finished.push('time');
        return result;
      },
    });
    const h = start([toolCalls(weatherCall, timeCall), text(['It is 18 degrees', ' at 10:30.'])], {}, { registry });
    h.ask('Weather and time?');
    await h.responses(2);

    expect(h.frames().map((f) => f.type)).toEqual([
      'llm-response-start',
      'llm-response-end',
      'function-call-in-progress',
      'function-call-in-progress',
      'function-call-result',
      'function-call-result',
      'llm-response-start',
      'llm-text',
      'llm-text',
      'llm-response-end',
    ]);
    expect(h.down.ofType('function-call-in-progress').map((f) => [f.toolCallId, f.name, f.arguments])).toEqual([
      ['call-1', 'get_weather', '{"city":"Paris"}'],
      ['call-2', 'get_time', '{}'],
    ]);
    // The fast tool finished first, yet the results are in call order.
    expect(finished).toEqual(['time', 'weather']);
    const results = h.down.ofType('function-call-result');
    expect(results.map((f) => ({ id: f.toolCallId, result: f.result, error: f.error, runLLM: f.runLLM }))).toEqual([
      { id: 'call-1', result: { city: 'Paris', tempC: 18 }, error: undefined, runLLM: true },
      { id: 'call-2', result: '10:30', error: undefined, runLLM: true },
    ]);
    expect(results[0]!.arguments).toEqual({ city: 'Paris' });
    // Concurrent: the tools took about as long as the slowest one (200 ms), not the sum (350 ms).
    const started = h.down.arrivals.get(h.down.ofType('function-call-in-progress')[0]!)!;
    const ended = h.down.arrivals.get(results[1]!)!;
    expect(ended - started).toBeGreaterThanOrEqual(195);
    expect(ended - started).toBeLessThan(320);

    // The context holds the exchange in call order, and the second request saw it.
    expect(h.context.messages.slice(2)).toEqual([
      { role: 'assistant', content: '', toolCalls: [weatherCall, timeCall] },
      { role: 'tool', toolCallId: 'call-1', name: 'get_weather', content: '{"city":"Paris","tempC":18}' },
      { role: 'tool', toolCallId: 'call-2', name: 'get_time', content: '10:30' },
    ]);
    expect(h.llm.calls).toHaveLength(2);
    expect(h.llm.calls[1]!.context.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool']);
    expect(llmTexts(h).join('')).toBe('It is 18 degrees at 10:30.');
    expect(spoken(h)).toEqual([]); // quicker than the filler delay
  });

  it('does not run the model again when no result asks for it (runLLM false)', async () => {
    const registry = registryWith({ time: async () => 'noon' }, { runLLM: false });
    const h = start([toolCalls(timeCall), text(['should not be said'])], {}, { registry });
    h.ask();
    await h.waitFor((f) => f.type === 'function-call-result');
    await sleep(60);
    expect(h.llm.calls).toHaveLength(1);
    expect(h.down.ofType('function-call-result')[0]).toMatchObject({ toolCallId: 'call-2', result: 'noon', runLLM: false });
    expect(h.context.messages.at(-1)).toEqual({ role: 'tool', toolCallId: 'call-2', name: 'get_time', content: 'noon' });
    expect(llmTexts(h)).toEqual([]);
    expect(h.down.ofType('llm-response-start')).toHaveLength(1);
  });

  it('gives up with an apology when the model keeps calling tools (maxToolRounds)', async () => {
    const registry = registryWith({ time: async () => 'noon' });
    const loop = toolCalls(timeCall);
    const h = start([loop, loop, loop, loop], { maxToolRounds: 2, apology: 'Sorry, I am stuck.' }, { registry });
    h.ask();
    await h.waitFor((f) => f.type === 'speak');
    await sleep(40);
    expect(h.llm.calls).toHaveLength(2);
    expect(spoken(h)).toEqual(['Sorry, I am stuck.']);
    expect(h.down.ofType('function-call-result')).toHaveLength(2);
  });

  it('an unknown tool becomes an error result the model answers from', async () => {
    const h = start(
      [toolCalls({ id: 'x', name: 'launch_rockets', arguments: '{}' }), text(['I cannot do that.'])],
      {},
      { registry: registryWith({ time: async () => 'noon' }) },
    );
    h.ask();
    await h.responses(2);
    const result = h.down.ofType('function-call-result')[0]!;
    expect(result.error).toMatch(/unknown tool "launch_rockets"/);
    expect(h.context.messages.find((m) => m.role === 'tool')?.content).toMatch(/unknown tool/);
    expect(llmTexts(h)).toEqual(['I cannot do that.']);
  });
});

describe('LLMService: filler while tools run', () => {
  const slowTool = (): ToolRegistry => registryWith({ time: (signal) => slowResult(150, 'noon', signal) });

  it('says the filler once when the tools outlast fillerAfterMs and the bot is silent', async () => {
    const h = start([toolCalls(timeCall), text(['It is noon.'])], {}, { registry: slowTool(), filler: 'Hold on.', fillerAfterMs: 40 });
    h.ask();
    await h.responses(2);
    expect(spoken(h)).toEqual(['Hold on.']);
    const speak = h.down.ofType('speak')[0]!;
    const inProgress = h.down.arrivals.get(h.down.ofType('function-call-in-progress')[0]!)!;
    const delay = h.down.arrivals.get(speak)! - inProgress;
    expect(delay).toBeGreaterThanOrEqual(35);
    expect(delay).toBeLessThan(140);
    // Between the announcement and the result.
    const types = h.frames().map((f) => f.type);
    expect(types.indexOf('speak')).toBeGreaterThan(types.indexOf('function-call-in-progress'));
    expect(types.indexOf('speak')).toBeLessThan(types.indexOf('function-call-result'));
  });

  it('the default filler is "One moment, please."', async () => {
    const h = start([toolCalls(timeCall), text(['It is noon.'])], {}, { registry: slowTool(), fillerAfterMs: 30 });
    h.ask();
    await h.responses(2);
    expect(spoken(h)).toEqual(['One moment, please.']);
  });

  it('says no filler while the bot is speaking', async () => {
    const h = start([toolCalls(timeCall), text(['It is noon.'])], {}, { registry: slowTool(), filler: 'Hold on.', fillerAfterMs: 40 });
    h.conversation.setBotSpeaking(true);
    h.ask();
    await h.responses(2);
    expect(spoken(h)).toEqual([]);
  });

  it('says the filler again once the bot has stopped speaking', async () => {
    const h = start([toolCalls(timeCall), text(['It is noon.'])], {}, { registry: slowTool(), filler: 'Hold on.', fillerAfterMs: 40 });
    h.conversation.setBotSpeaking(true);
    h.conversation.setBotSpeaking(false);
    h.ask();
    await h.responses(2);
    expect(spoken(h)).toEqual(['Hold on.']);
  });

  it('says nothing with filler: false', async () => {
    const h = start([toolCalls(timeCall), text(['It is noon.'])], {}, { registry: slowTool(), filler: false, fillerAfterMs: 20 });
    h.ask();
    await h.responses(2);
    expect(spoken(h)).toEqual([]);
  });
});

describe('LLMService: failures', () => {
  it('retries a retryable error that came before any text, honouring Retry-After', async () => {
    const rateLimited = new ServiceError('vendor', 'rate limited', { status: 429, retryAfterSecs: 0.3 });
    const h = start([fail(rateLimited), text(['Here you go.'])]);
    h.ask();
    await h.responses(1);
    expect(h.llm.calls).toHaveLength(2);
    const waited = h.llm.calls[1]!.at - h.llm.calls[0]!.at;
    expect(waited).toBeGreaterThanOrEqual(295);
    expect(waited).toBeLessThan(600);
    expect(h.frames().map((f) => f.type)).toEqual(['llm-response-start', 'llm-text', 'llm-response-end']);
    expect(llmTexts(h)).toEqual(['Here you go.']);
    expect(h.errors).toEqual([]);
    expect(spoken(h)).toEqual([]);
  });

  it('a non-retryable error: an error frame upstream, an apology, and the call goes on', async () => {
    const denied = new ServiceError('vendor', 'bad request', { status: 400 });
    const h = start([fail(denied), text(['Second answer.'])], { apology: 'Sorry about that.' });
    h.ask('first');
    await h.responses(1);
    expect(h.llm.calls).toHaveLength(1);
    const errors = h.up.upstream.filter((f): f is ErrorFrame => f.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error).toBe(denied);
    expect(errors[0]!.fatal).toBe(false);
    expect(errors[0]!.processor).toBe('test-llm');
    expect(h.errors.map((f) => f.error)).toEqual([denied]);
    expect(spoken(h)).toEqual(['Sorry about that.']);
    // The apology is part of that response, before its end.
    expect(h.frames().map((f) => f.type)).toEqual(['llm-response-start', 'speak', 'llm-response-end']);

    h.ask('second');
    await h.responses(2);
    expect(llmTexts(h)).toEqual(['Second answer.']);
    expect(h.task.state).toBe('running');
  });

  it('gives up after maxAttempts retryable errors, with an apology', async () => {
    const unavailable = new ServiceError('vendor', 'overloaded', { status: 503 });
    const h = start([fail(unavailable), fail(unavailable), text(['never'])], { maxAttempts: 2, apology: 'Sorry.' });
    h.ask();
    await h.responses(1, 4000);
    expect(h.llm.calls).toHaveLength(2);
    expect(h.errors).toHaveLength(1);
    expect(spoken(h)).toEqual(['Sorry.']);
    expect(llmTexts(h)).toEqual([]);
  });

  it('an error after text was streamed is not retried and gets no apology', async () => {
    const dropped = new ServiceError('vendor', 'connection reset', { retryable: true });
    const h = start([fail(dropped, 'Let me think'), text(['again'])]);
    h.ask();
    await h.responses(1);
    await sleep(300); // longer than the first retry delay
    expect(h.llm.calls).toHaveLength(1);
    expect(llmTexts(h)).toEqual(['Let me think']);
    expect(h.errors.map((f) => f.error)).toEqual([dropped]);
    expect(spoken(h)).toEqual([]);
  });

  it('a stalled stream times out after responseTimeoutMs, is retried, then apologised for', async () => {
    const h = start([stall(), stall(), text(['never'])], { responseTimeoutMs: 60, maxAttempts: 2, apology: 'Sorry, too slow.' });
    h.ask();
    await h.responses(1, 4000);
    expect(h.llm.calls).toHaveLength(2);
    // Each attempt's request was aborted when it timed out.
    expect(h.llm.calls.every((c) => c.signal.aborted)).toBe(true);
    const start0 = h.llm.calls[0]!.at;
    // 60 ms timeout, the first retry delay (250 ms), 60 ms timeout.
    expect(h.llm.calls[1]!.at - start0).toBeGreaterThanOrEqual(60 + 250 - 5);
    const apology = h.down.ofType('speak')[0]!;
    expect(h.down.arrivals.get(apology)! - start0).toBeGreaterThanOrEqual(60 + 250 + 60 - 5);
    expect(spoken(h)).toEqual(['Sorry, too slow.']);
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0]!.error.message).toMatch(/no response within 60 ms/);
  });

  it('a stream that stalls after some text times out without retry or apology', async () => {
    const h = start([stall('Well'), text(['never'])], { responseTimeoutMs: 60 });
    h.ask();
    await h.responses(1);
    await sleep(300);
    expect(h.llm.calls).toHaveLength(1);
    expect(llmTexts(h)).toEqual(['Well']);
    expect(h.errors).toHaveLength(1);
    expect(spoken(h)).toEqual([]);
  });

  it('a plain Error (not a ServiceError) is not retried', async () => {
    const h = start([fail(new Error('bug in the client')), text(['never'])], { apology: 'Sorry.' });
    h.ask();
    await h.responses(1);
    expect(h.llm.calls).toHaveLength(1);
    expect(spoken(h)).toEqual(['Sorry.']);
  });
});

describe('LLMService: interruptions', () => {
  it('an interruption stops the text at once and aborts the request', async () => {
    const pieces = Array.from({ length: 20 }, (_, i) => ` w${i}`);
    const h = start([text(pieces, { gapMs: 15 }), text(['Next answer.'])]);
    h.ask();
    await h.waitFor((f) => f.type === 'llm-text' && f.text === ' w2');
    const signal = h.llm.calls[0]!.signal;
    expect(signal.aborted).toBe(false);
    void h.task.queueFrame(makeFrame('interruption'));
    expect(signal.aborted).toBe(true); // synchronously, as the interruption passes
    const textsAtInterruption = llmTexts(h).length;
    // The stream here keeps yielding what was already on its way: none of it may be passed on.
    await sleep(80);
    expect(llmTexts(h)).toHaveLength(textsAtInterruption);
    const types = h.frames().map((f) => f.type);
    expect(types.slice(types.indexOf('interruption')).filter((t) => t === 'llm-text')).toEqual([]);

    // The next context is answered at once, without waiting for the old stream to wind down.
    const asked = performance.now();
    h.ask('again');
    await h.waitFor((f) => f.type === 'llm-text' && f.text === 'Next answer.');
    expect(performance.now() - asked).toBeLessThan(150);
  });

  it('an interruption during a retry delay ends the response without retrying', async () => {
    const h = start([fail(new ServiceError('vendor', 'overloaded', { status: 503 })), text(['never'])]);
    h.ask();
    await sleep(60); // inside the 250 ms retry delay
    void h.task.queueFrame(makeFrame('interruption'));
    await h.responses(1);
    await sleep(300);
    expect(h.llm.calls).toHaveLength(1);
    expect(spoken(h)).toEqual([]);
    expect(h.errors).toEqual([]);
  });

  it('an interruption during a cancellable tool aborts it: cancelled result in the context, no new response', async () => {
    let toolSignal: AbortSignal | undefined;
    const registry = registryWith({
      weather: (signal) => {
        toolSignal = signal;
        return slowResult(1000, 'sunny', signal);
      },
    });
    const h = start([toolCalls(weatherCall), text(['should not run'])], {}, { registry, filler: false });
    h.ask();
    await h.waitFor((f) => f.type === 'function-call-in-progress');
    await sleep(20);
    void h.task.queueFrame(makeFrame('interruption'));
    expect(toolSignal?.aborted).toBe(true);
    const result = (await h.waitFor((f) => f.type === 'function-call-result', 500)) as Extract<Frame, { type: 'function-call-result' }>;
    expect(result.error).toBe('cancelled: the caller interrupted');
    await sleep(60);
    expect(h.llm.calls).toHaveLength(1);
    expect(h.context.messages.at(-1)).toEqual({
      role: 'tool',
      toolCallId: 'call-1',
      name: 'get_weather',
      content: JSON.stringify({ error: 'cancelled: the caller interrupted' }),
    });
  });

  it('a tool that does not allow cancelling finishes, its result is kept, but the model is not run again', async () => {
    const registry = registryWith({ weather: async () => (await sleep(80), 'sunny') }, { cancelOnInterruption: false });
    const h = start([toolCalls(weatherCall), text(['should not run'])], {}, { registry, filler: false });
    h.ask();
    await h.waitFor((f) => f.type === 'function-call-in-progress');
    void h.task.queueFrame(makeFrame('interruption'));
    const result = (await h.waitFor((f) => f.type === 'function-call-result', 500)) as Extract<Frame, { type: 'function-call-result' }>;
    expect(result.result).toBe('sunny');
    await sleep(40);
    expect(h.llm.calls).toHaveLength(1);
    expect(h.context.messages.at(-1)).toMatchObject({ role: 'tool', content: 'sunny' });
  });

  it('a cancel aborts the request in flight and the task ends', async () => {
    const h = start([stall()], { responseTimeoutMs: 5000 });
    h.ask();
    await sleep(20);
    h.task.cancel('bye');
    await h.done;
    expect(h.llm.calls[0]!.signal.aborted).toBe(true);
  });
});
