// Tool execution. The model's tool calls are untrusted input: the name may be unknown (or an injected
// string), the arguments may be invalid JSON or not match the schema, the handler may throw, hang or return
// megabytes. Each of these becomes an error result the model reads and can recover from — never a crash,
// never a silent hang — and the handler only ever sees arguments that passed its schema.
import type { LLMToolCall, LLMToolDefinition } from '../frames/index.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import type { FunctionSchema } from './function-schema.js';

/** What a tool handler knows about the call it serves. Populated by the session (Agent); free-form extras allowed. */
export interface CallInfo {
  readonly callId: string;
  readonly [key: string]: unknown;
}

export interface ToolCallContext {
  readonly toolCallId: string;
  readonly functionName: string;
  /** The phone call this conversation belongs to, when it runs inside an Agent session. */
  readonly call: CallInfo | undefined;
  /** Fired when the caller interrupts (for tools that allow it) or the handler times out. */
  readonly signal: AbortSignal;
  /** Speaks a short text now, e.g. "One moment while I look that up." */
  say(text: string): void;
  /**
   * Presses keys on the call (DTMF), after what the bot is saying now: "1", "123#", "1w2" (`w`: half a second of
   * pause). Throws a RangeError for other characters, and an Error when the call's transport cannot send tones.
   */
  sendDtmf(digits: string): void;
}

export type ToolHandler<TArgs = Record<string, unknown>> = (args: TArgs, ctx: ToolCallContext) => unknown;

export interface ToolOptions {
  /** How long the handler may run before its result becomes a timeout error. Default 10 000 ms; Infinity for none. */
  timeoutMs?: number;
  /** Abort the handler (its `ctx.signal`) when the caller interrupts. Default true. */
  cancelOnInterruption?: boolean;
  /** Run the LLM again with the result (default true); false for tools whose result needs no spoken answer. */
  runLLM?: boolean;
}

export interface ToolOutcome {
  readonly toolCallId: string;
  readonly name: string;
  /** Parsed arguments when they parsed; otherwise the raw text. */
  readonly arguments: unknown;
  /** The handler's return value (undefined on error). */
  readonly result: unknown;
  /** Set when the call failed; the model sees it in `content`. */
  readonly error: string | undefined;
  /** The text appended to the context as the tool's result. */
  readonly content: string;
  readonly runLLM: boolean;
}

interface RegisteredTool {
  schema: FunctionSchema<unknown>;
  handler: ToolHandler<unknown>;
  options: Required<ToolOptions>;
}

export const DEFAULT_TOOL_TIMEOUT_MS = 10_000;
/** Results longer than this are cut: a huge result would blow the model's context and the call's latency. */
export const MAX_TOOL_RESULT_CHARS = 16_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The abort reason an LLM service gives its run when the call itself ends (a cancel), so that a tool cut short then
 * is not reported as interrupted by the caller.
 */
export const CALL_ENDED = 'call-ended';
/** The error of a tool cancelled because the call ended (a hang-up tool often outlives its own call). */
export const TOOL_CANCELLED_CALL_ENDED = 'cancelled: the call ended';

function cancellation(signal: AbortSignal): string {
  return signal.reason === CALL_ENDED ? TOOL_CANCELLED_CALL_ENDED : 'cancelled: the caller interrupted';
}

export class ToolRegistry {
  private readonly tools = new Map<string, RegisteredTool>();

  /** Registers a tool; a later registration under the same name replaces the earlier one. */
  register<TArgs>(schema: FunctionSchema<TArgs>, handler: ToolHandler<TArgs>, options: ToolOptions = {}): void {
    if (typeof handler !== 'function') throw new TypeError(`tool ${schema.name}: the handler must be a function`);
    // 0, a negative number or NaN would time every call out at once (setTimeout treats them as 1 ms).
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
      throw new RangeError(`tool ${schema.name}: timeoutMs must be a positive number of milliseconds (Infinity for none)`);
    }
    this.tools.set(schema.name, {
      schema,
      handler: handler as ToolHandler<unknown>,
      options: {
        timeoutMs: options.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS,
        cancelOnInterruption: options.cancelOnInterruption ?? true,
        runLLM: options.runLLM ?? true,
      },
    });
  }

  /** Removes a tool (an MCP server's tool it no longer lists); calls to it become unknown-tool errors. */
  unregister(name: string): boolean {
    return this.tools.delete(name);
  }

  has(name: string): boolean {
    return this.tools.has(name);
  }

  get size(): number {
    return this.tools.size;
  }

  definitions(): LLMToolDefinition[] {
    return [...this.tools.values()].map((t) => t.schema.toDefinition());
  }

  /**
   * Runs one tool call to an outcome. Never throws and always settles: by the handler's result, its error, its
   * timeout, or (for tools that allow it) the interruption signal.
   */
  async execute(
    call: LLMToolCall,
    context: {
      call: CallInfo | undefined;
      interruption: AbortSignal;
      say: (text: string) => void;
      sendDtmf?: (digits: string) => void;
      clock?: Clock;
    },
  ): Promise<ToolOutcome> {
    const clock = context.clock ?? systemClock;
    const fail = (error: string, args: unknown): ToolOutcome => ({
      toolCallId: call.id,
      name: call.name,
      arguments: args,
      result: undefined,
      error,
      content: JSON.stringify({ error }),
      runLLM: true,
    });

    const tool = this.tools.get(call.name);
    if (tool === undefined) {
      const available = [...this.tools.keys()].join(', ') || 'none';
      return fail(`unknown tool ${quote(call.name)}; the available tools are: ${available}`, call.arguments);
    }
    let parsed: unknown;
    try {
      parsed = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
    } catch (error) {
      return fail(`the arguments are not valid JSON (${(error as Error).message}); send a JSON object`, call.arguments);
    }
    const validation = tool.schema.validate(parsed);
    if (!validation.ok) return fail(`invalid arguments: ${validation.errors.join('; ')}`, parsed);

    const { timeoutMs, cancelOnInterruption, runLLM } = tool.options;
    // The caller interrupted before the call could start: do not start it (its side effects, a transfer for
    // instance, would happen while the model is told it was cancelled).
    if (cancelOnInterruption && context.interruption.aborted) return fail(cancellation(context.interruption), parsed);
    const controller = new AbortController();
    let settle!: (outcome: ToolOutcome) => void;
    const settled = new Promise<ToolOutcome>((resolve) => (settle = resolve));
    // setTimeout fires at once for delays over 2^31-1 ms (with a warning), so Infinity would time out every call:
    // no timer at all for Infinity, the longest possible delay for other huge values.
    const timer = Number.isFinite(timeoutMs)
      ? clock.setTimeout(
          () => {
            controller.abort(new Error(`tool ${call.name} timed out`));
            settle(fail(`the tool ${call.name} did not answer within ${timeoutMs / 1000} s`, parsed));
          },
          Math.min(timeoutMs, MAX_TIMER_MS),
        )
      : undefined;
    const onInterrupt = (): void => {
      const callEnded = context.interruption.reason === CALL_ENDED;
      controller.abort(new Error(callEnded ? 'the call ended' : 'interrupted by the caller'));
      settle(fail(cancellation(context.interruption), parsed));
    };
    if (cancelOnInterruption) context.interruption.addEventListener('abort', onInterrupt, { once: true });
    const ctx: ToolCallContext = {
      toolCallId: call.id,
      functionName: call.name,
      call: context.call,
      signal: controller.signal,
      say: context.say,
      sendDtmf: context.sendDtmf ?? noDtmf,
    };
    Promise.resolve()
      .then(() => tool.handler(validation.value, ctx))
      .then(
        (result) =>
          settle({
            toolCallId: call.id,
            name: call.name,
            arguments: parsed,
            result,
            error: undefined,
            content: serializeResult(result),
            runLLM,
          }),
        (error: unknown) => settle(fail(`the tool ${call.name} failed: ${describeError(error)}`, parsed)),
      );
    try {
      return await settled;
    } finally {
      clock.clearTimeout(timer);
      context.interruption.removeEventListener('abort', onInterrupt);
    }
  }
}

function noDtmf(): never {
  throw new Error('sending DTMF tones is not available here: the tool is not running in a call');
}

function quote(name: string): string {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}...` : name);
}

function describeError(error: unknown): string {
  let message: string;
  try {
    message = error instanceof Error ? String(error.message) : typeof error === 'string' ? error : String(error);
  } catch {
    // String(Object.create(null)) throws: this runs in a rejection handler, where a throw would be an unhandled
    // rejection (a crashed process) and a call that only settles at its timeout.
    message = 'an error that cannot be printed';
  }
  return message.length > 300 ? `${message.slice(0, 300)}...` : message;
}

/** The text the model reads: strings as they are, anything else as JSON, cut at MAX_TOOL_RESULT_CHARS. */
export function serializeResult(result: unknown): string {
  let text: string;
  if (result === undefined || result === null) text = JSON.stringify({ status: 'done' });
  else if (typeof result === 'string') text = result;
  else {
    try {
      // JSON.stringify gives undefined for functions and symbols: say what the tool returned instead.
      text = JSON.stringify(result) ?? JSON.stringify({ result: typeof result });
    } catch (error) {
      text = JSON.stringify({ error: `the result could not be serialised: ${describeError(error)}` });
    }
  }
  if (text.length <= MAX_TOOL_RESULT_CHARS) return text;
  // Never cut between the two halves of a surrogate pair (an emoji): a lone surrogate is invalid Unicode that
  // some providers' JSON parsers reject, failing the whole request.
  const cut = isHighSurrogate(text.charCodeAt(MAX_TOOL_RESULT_CHARS - 1)) ? MAX_TOOL_RESULT_CHARS - 1 : MAX_TOOL_RESULT_CHARS;
  return `${text.slice(0, cut)}... [truncated: the result was ${text.length} characters]`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
