// LLMService: the base of every LLM integration. A subclass only implements `streamCompletion` (one streamed
// request to its vendor); this class does the rest for every vendor alike:
// - an `llm-context` frame starts a response: `llm-response-start`, the text as `llm-text` frames while it
//   streams, `llm-response-end`; TTFB, processing time and token usage as metrics;
// - tool calls run concurrently through the ToolRegistry (results appended in call order), announced with
//   `function-call-in-progress` / `function-call-result` frames; then the model runs again with the results;
//   a filler is spoken once if the tools take long and the bot is silent;
// - an interruption aborts the stream and the tools that allow it;
// - a vendor error is retried while nothing has been said yet (retryable errors only, bounded), a stalled
//   stream times out; when the model cannot answer, the caller hears a short apology and the call goes on.
import {
  makeFrame,
  parseDtmfSequence,
  type Frame,
  type FrameDirection,
  type LLMContextSnapshot,
  type LLMToolCall,
} from '../../frames/index.js';
import type { Conversation } from '../../conversation/conversation.js';
import { LLMContext } from '../../llm/context.js';
import { CALL_ENDED, type CallInfo, type ToolOutcome, type ToolRegistry } from '../../llm/tools.js';
import { FrameProcessor, type FrameProcessorOptions } from '../../pipeline/index.js';
import { sleep, type ClockTimer } from '../../runtime/clock.js';
import type { LLMStreamEvent, StreamCompletionOptions } from './llm-stream.js';
import { ServiceError, retryDelayMs, type RetryBackoff } from './service-error.js';

export interface LLMServiceOptions extends Pick<FrameProcessorOptions, 'name'> {
  model: string;
  /** Longest wait for the first event of a response, and between two events. Default 8000 ms. */
  responseTimeoutMs?: number;
  /** Attempts per response for retryable errors, while nothing has been streamed yet. Default 3. */
  maxAttempts?: number;
  /** Said when the model cannot answer (errors, timeouts). */
  apology?: string;
  /** Tool rounds per user turn before giving up (a model looping on tools). Default 5. */
  maxToolRounds?: number;
}

export interface LLMToolSettings {
  registry: ToolRegistry;
  /**
   * The call's conversation: told of tool calls and results (it places them in the history) and asked whether the
   * bot is speaking (for the filler). Without one, the filler is said whenever tools run long.
   */
  conversation?: Conversation;
  call?: CallInfo;
  /** Spoken once when tools run longer than `fillerAfterMs` and the bot is silent; false for none. */
  filler?: string | false;
  fillerAfterMs?: number;
  /** Called with each tool call's outcome as soon as it is known. */
  onToolResult?: (outcome: ToolOutcome) => void;
  /** Whether the call's transport can press keys (`ctx.sendDtmf`). Default true; the VoiceAgent asks its transport. */
  canSendDtmf?: boolean;
}

/** One model response as streamed: the id of its `llm-response-start` frame, its text, its tool calls. */
interface ModelResponse {
  readonly id: number;
  text: string;
  readonly toolCalls: LLMToolCall[];
}

const DEFAULT_APOLOGY = "I'm sorry, I'm having trouble answering right now. Could you say that again?";
/** 250 ms, 1 s, then 2 s between attempts; a longer Retry-After is honoured up to 5 s (a caller is waiting). */
const RETRY_BACKOFF: RetryBackoff = { initialDelayMs: 250, factor: 4, maxDelayMs: 2000, limitMs: 5000 };

export abstract class LLMService extends FrameProcessor {
  readonly model: string;
  private readonly responseTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly apology: string;
  private readonly maxToolRounds: number;
  private toolSettings: LLMToolSettings | undefined;
  private currentRun: AbortController | undefined;

  constructor(options: LLMServiceOptions) {
    super({ name: options.name });
    this.model = options.model;
    this.responseTimeoutMs = options.responseTimeoutMs ?? 8000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.apology = options.apology ?? DEFAULT_APOLOGY;
    this.maxToolRounds = options.maxToolRounds ?? 5;
  }

  /** One streamed completion of `context`; throws ServiceError on vendor errors. */
  abstract streamCompletion(context: LLMContextSnapshot, options: StreamCompletionOptions): AsyncIterable<LLMStreamEvent>;

  /** Gives this service the tools it may run (the VoiceAgent does this with the tools added to it). */
  setTools(settings: LLMToolSettings): void {
    this.toolSettings = settings;
  }

  protected override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    switch (frame.type) {
      case 'llm-context':
        await this.respond(frame.context);
        return;
      case 'interruption':
        this.currentRun?.abort();
        break;
      case 'cancel':
        this.currentRun?.abort(CALL_ENDED);
        break;
      default:
        break;
    }
    await this.pushFrame(frame, direction);
  }

  override async cleanup(): Promise<void> {
    this.currentRun?.abort(CALL_ENDED);
  }

  /**
   * Runs the model on the context until it answers without tools (or is interrupted). The context is an immutable
   * snapshot; each tool round's request adds what the model said and called, and the results, to a new one. The
   * conversation is told of the calls and results and places them in the call's history itself.
   */
  private async respond(context: LLMContextSnapshot): Promise<void> {
    this.currentRun?.abort();
    const run = new AbortController();
    this.currentRun = run;
    const conversation = this.toolSettings?.conversation;
    let request = context;
    try {
      for (let round = 0; round < this.maxToolRounds; round++) {
        const response = await this.streamResponse(request, run.signal);
        const { toolCalls } = response;
        if (run.signal.aborted || toolCalls.length === 0) return;
        conversation?.toolCallsMade(response.id, toolCalls);
        const outcomes = await this.runTools(toolCalls, run.signal);
        const results = outcomes.map((o) => ({ toolCallId: o.toolCallId, name: o.name, content: o.content }));
        // Recorded even when interrupted: the results stay in the history for the caller's next turn.
        conversation?.toolResultsReady(response.id, results);
        if (run.signal.aborted || !outcomes.some((o) => o.runLLM)) return;
        const next = LLMContext.from(request);
        next.addToolExchange(toolCalls, results, response.text);
        request = next.snapshot();
      }
      this.logger.warn({ rounds: this.maxToolRounds }, 'the model kept calling tools; stopping this turn');
      this.speak(this.apology);
    } finally {
      if (this.currentRun === run) this.currentRun = undefined;
    }
  }

  /**
   * One model response, retried on retryable errors while nothing was streamed. Returns its id (that of its
   * `llm-response-start` frame), its text and its tool calls.
   */
  private async streamResponse(context: LLMContextSnapshot, signal: AbortSignal): Promise<ModelResponse> {
    const start = makeFrame('llm-response-start');
    await this.pushFrame(start);
    this.startProcessingMetrics();
    const toolCalls: LLMToolCall[] = [];
    const response: ModelResponse = { id: start.id, text: '', toolCalls };
    let streamed = false;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          this.startTtfbMetrics();
          for await (const event of this.withTimeout(context, signal)) {
            this.stopTtfbMetrics();
            if (event.type === 'text') {
              if (event.text === '') continue;
              streamed = true;
              response.text += event.text;
              await this.pushFrame(makeFrame('llm-text', { text: event.text }));
            } else if (event.type === 'tool-call') {
              streamed = true;
              toolCalls.push(event.toolCall);
            } else {
              this.pushMetrics({
                kind: 'llm-usage',
                processor: this.name,
                model: this.model,
                promptTokens: event.promptTokens,
                completionTokens: event.completionTokens,
                cachedTokens: event.cachedTokens,
              });
            }
          }
          return response;
        } catch (error) {
          if (signal.aborted) return { ...response, toolCalls: [] };
          const delayMs = retryDelayMs(error, attempt, RETRY_BACKOFF);
          if (streamed || delayMs === undefined || attempt >= this.maxAttempts) {
            this.pushError(error);
            // The caller must hear something rather than silence; a partial answer was already heard.
            if (!streamed) this.speak(this.apology);
            return { ...response, toolCalls: [] };
          }
          this.logger.warn({ err: error, attempt, delayMs }, 'LLM request failed; retrying');
          if (!(await sleep(this.clock, delayMs, signal))) return { ...response, toolCalls: [] };
        }
      }
    } finally {
      this.stopProcessingMetrics();
      await this.pushFrame(makeFrame('llm-response-end'));
    }
  }

  /** The vendor stream, failing with a retryable ServiceError when it stalls. */
  private async *withTimeout(context: LLMContextSnapshot, signal: AbortSignal): AsyncGenerator<LLMStreamEvent> {
    const attempt = new AbortController();
    // An interruption ends the iteration at once, whatever the vendor stream still has on its way: without this,
    // events it yields after the abort (chunks already received) were passed on as llm-text after the
    // interruption, and a stream slow to honour the abort held up the next user turn.
    let resolveAborted!: (value: 'aborted') => void;
    const aborted = new Promise<'aborted'>((resolve) => (resolveAborted = resolve));
    const onAbort = (): void => {
      attempt.abort();
      resolveAborted('aborted');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const iterator = this.streamCompletion(context, { signal: attempt.signal })[Symbol.asyncIterator]();
    try {
      while (true) {
        if (signal.aborted) return;
        let timer: ClockTimer | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = this.clock.setTimeout(() => resolve('timeout'), this.responseTimeoutMs);
        });
        const next = iterator.next();
        const result = await Promise.race([next, timeout, aborted]).finally(() => this.clock.clearTimeout(timer));
        if (result === 'aborted' || signal.aborted) {
          next.catch(() => undefined); // the aborted request's rejection is expected; do not leave it unhandled
          return;
        }
        if (result === 'timeout') {
          attempt.abort();
          next.catch(() => undefined); // the aborted request's rejection is expected; do not leave it unhandled
          throw new ServiceError(this.name, `no response within ${this.responseTimeoutMs} ms`, { code: 'timeout' });
        }
        if (result.done === true) return;
        yield result.value;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (!attempt.signal.aborted) attempt.abort();
      void iterator.return?.()?.catch?.(() => undefined);
    }
  }

  private async runTools(toolCalls: readonly LLMToolCall[], signal: AbortSignal): Promise<ToolOutcome[]> {
    const settings = this.toolSettings;
    for (const call of toolCalls) {
      await this.pushFrame(
        makeFrame('function-call-in-progress', { toolCallId: call.id, name: call.name, arguments: call.arguments }),
      );
    }
    const filler = settings?.filler === undefined ? 'One moment, please.' : settings.filler;
    const fillerTimer =
      filler === false
        ? undefined
        : this.clock.setTimeout(() => {
            if (settings?.conversation?.botSpeaking !== true && !signal.aborted) this.speak(filler);
          }, settings?.fillerAfterMs ?? 1500);
    try {
      const outcomes = await Promise.all(
        toolCalls.map(async (call): Promise<ToolOutcome> => {
          if (settings === undefined) {
            const error = `unknown tool ${JSON.stringify(call.name)}; no tools are available`;
            return {
              toolCallId: call.id,
              name: call.name,
              arguments: call.arguments,
              result: undefined,
              error,
              content: JSON.stringify({ error }),
              runLLM: true,
            } satisfies ToolOutcome;
          }
          return settings.registry.execute(call, {
            call: settings.call,
            interruption: signal,
            say: (text) => this.speak(text),
            sendDtmf: (digits) => this.pressKeys(digits),
            clock: this.clock,
          });
        }),
      );
      for (const outcome of outcomes) {
        try {
          settings?.onToolResult?.(outcome);
        } catch (error) {
          this.logger.warn({ err: error }, 'onToolResult callback threw; ignored');
        }
        if (outcome.error !== undefined) {
          this.logger.warn({ tool: outcome.name, toolCallId: outcome.toolCallId }, `tool call failed: ${outcome.error}`);
        }
        await this.pushFrame(
          makeFrame('function-call-result', {
            toolCallId: outcome.toolCallId,
            name: outcome.name,
            arguments: outcome.arguments,
            result: outcome.result,
            error: outcome.error,
            runLLM: outcome.runLLM,
          }),
        );
      }
      return outcomes;
    } finally {
      this.clock.clearTimeout(fillerTimer);
    }
  }

  private speak(text: string): void {
    void this.pushFrame(makeFrame('speak', { text }));
  }

  /** A tool's keys, pushed like its speech: they play after what the bot says before them. */
  private pressKeys(digits: string): void {
    const keys = parseDtmfSequence(digits, { allowPauses: true });
    if (this.toolSettings?.canSendDtmf === false) throw new Error("sending DTMF tones is not supported by this call's transport");
    for (const digit of keys) void this.pushFrame(makeFrame('output-dtmf', { digit }));
  }
}
