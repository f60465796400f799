// OpenAILLMService: chat completions through the official `openai` SDK, streamed. Works with every
// OpenAI-compatible endpoint (see presets.ts); the differences between providers are data, not subclasses.
//
// The SDK client is built with `maxRetries: 0`: retrying is the framework's decision (it knows whether the
// caller is still waiting), not the HTTP client's.
import { AzureOpenAI, OpenAI } from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import type { LLMContextSnapshot, LLMToolCall } from '../../frames/index.js';
import { toOpenAIMessages, toOpenAITools } from '../../llm/adapters/openai.js';
import type { ClockTimer } from '../../runtime/clock.js';
import { LLMService, ServiceError, type LLMStreamEvent, type StreamCompletionOptions } from '../base/index.js';
import { requireApiKey } from '../base/vendor-errors.js';
import { toServiceError } from './errors.js';

export type OpenAIToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export interface OpenAILLMParams {
  temperature?: number;
  maxCompletionTokens?: number;
  topP?: number;
  seed?: number;
  /** Sent only when the context has tools (the API rejects it otherwise). */
  toolChoice?: OpenAIToolChoice;
  /** Sent only when the context has tools (the API rejects it otherwise). */
  parallelToolCalls?: boolean;
  /** More body fields, sent as given; they override the fields this service sets. */
  extra?: Record<string, unknown>;
}

export interface OpenAILLMServiceOptions {
  apiKey: string;
  model?: string;
  baseURL?: string;
  params?: OpenAILLMParams;
  /** The processor's name in logs and metrics. */
  name?: string;
  /** Longest wait for the response headers, and then between two stream chunks. Default 30 s. */
  timeoutMs?: number;
}

/** What tells one OpenAI-compatible provider from another. */
export interface OpenAICompatibleProvider {
  /** Names the vendor in errors. */
  readonly vendor: string;
  readonly baseURL: string;
  readonly defaultModel: string;
  /** The environment variable named when the key is missing. */
  readonly apiKeyEnv: string;
  /** Used when no key is given (local servers that ignore it); undefined means a key is required. */
  readonly defaultApiKey?: string;
  /** The body field for the output-token limit: providers that predate `max_completion_tokens` want `max_tokens`. */
  readonly maxTokensField: 'max_completion_tokens' | 'max_tokens';
  /**
   * Whether to ask for usage with `stream_options: { include_usage: true }`. Default true. False for a provider that
   * refuses the field (Mistral answers 422) and reports usage on the last chunk anyway.
   */
  readonly streamOptions?: boolean;
  /** Azure OpenAI: the deployment URL, the `api-key` header and the `api-version` query, through the SDK's AzureOpenAI. */
  readonly azure?: { readonly deployment: string; readonly apiVersion: string };
}

export const OPENAI_PROVIDER: OpenAICompatibleProvider = {
  vendor: 'OpenAI',
  baseURL: 'https://api.openai.com/v1',
  defaultModel: 'gpt-4o-mini',
  apiKeyEnv: 'OPENAI_API_KEY',
  maxTokensField: 'max_completion_tokens',
};

const DEFAULT_TIMEOUT_MS = 30_000;

interface PartialToolCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * Assembles streamed tool-call deltas keyed on `index`. Tolerates what compatible servers do differently: whole
 * calls in one delta, `id` and `name` repeated on later deltas, and parallel calls all sent with index 0 (told
 * apart by their different ids).
 */
class ToolCallAssembler {
  private readonly calls = new Map<number, PartialToolCall>();
  private nextFreeIndex = 0;

  add(delta: ChatCompletionChunk.Choice.Delta.ToolCall, position: number): void {
    let index = typeof delta.index === 'number' ? delta.index : position;
    let call = this.calls.get(index);
    if (call !== undefined && delta.id !== undefined && delta.id !== '' && call.id !== '' && delta.id !== call.id) {
      index = Math.max(this.nextFreeIndex, index + 1);
      call = undefined;
    }
    if (call === undefined) {
      call = { id: '', name: '', arguments: '' };
      this.calls.set(index, call);
      this.nextFreeIndex = Math.max(this.nextFreeIndex, index + 1);
    }
    if (delta.id !== undefined && delta.id !== '' && call.id === '') call.id = delta.id;
    const fn = delta.function;
    if (fn?.name !== undefined && fn.name !== '' && call.name === '') call.name = fn.name;
    if (fn?.arguments !== undefined) call.arguments += fn.arguments;
  }

  /** The complete calls in index order; a call without a name cannot be run and is dropped. */
  finish(): LLMToolCall[] {
    return [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .filter(([, call]) => call.name !== '')
      .map(([index, call]) => ({
        id: call.id === '' ? `call_${index}_${Date.now().toString(36)}` : call.id,
        name: call.name,
        arguments: call.arguments.trim() === '' ? '{}' : call.arguments,
      }));
  }
}

type UsageLike = {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
};

function usageEvent(usage: UsageLike): LLMStreamEvent {
  const cached = usage.prompt_tokens_details?.cached_tokens;
  return {
    type: 'usage',
    promptTokens: usage.prompt_tokens ?? 0,
    completionTokens: usage.completion_tokens ?? 0,
    ...(typeof cached === 'number' ? { cachedTokens: cached } : {}),
  };
}

export class OpenAILLMService extends LLMService {
  readonly provider: OpenAICompatibleProvider;
  readonly params: Readonly<OpenAILLMParams>;
  private readonly client: OpenAI;
  private readonly apiKey: string;
  private readonly timeoutMs: number;

  constructor(options: OpenAILLMServiceOptions, provider: OpenAICompatibleProvider = OPENAI_PROVIDER) {
    // A provider that needs no key (a local server) has a default; any other must be given one.
    const given = typeof options.apiKey === 'string' ? options.apiKey.trim() : '';
    const apiKey = given !== '' ? given : (provider.defaultApiKey ?? requireApiKey(options.apiKey, new.target.name, provider.apiKeyEnv));
    super({ name: options.name, model: options.model ?? provider.defaultModel });
    this.provider = provider;
    this.params = { ...options.params };
    this.apiKey = apiKey;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const isOpenAI = provider === OPENAI_PROVIDER;
    this.client =
      provider.azure === undefined
        ? new OpenAI({
            apiKey,
            baseURL: options.baseURL ?? provider.baseURL,
            maxRetries: 0,
            timeout: this.timeoutMs,
            // The SDK reads OPENAI_ORG_ID / OPENAI_PROJECT_ID from the environment; other vendors must not get them.
            ...(isOpenAI ? {} : { organization: null, project: null }),
          })
        : new AzureOpenAI({
            apiKey,
            endpoint: options.baseURL ?? provider.baseURL,
            deployment: provider.azure.deployment,
            apiVersion: provider.azure.apiVersion,
            maxRetries: 0,
            timeout: this.timeoutMs,
          });
  }

  private requestBody(context: LLMContextSnapshot): ChatCompletionCreateParamsStreaming {
    const p = this.params;
    const body: ChatCompletionCreateParamsStreaming & Record<string, unknown> = {
      model: this.model,
      messages: toOpenAIMessages(context.messages),
      stream: true,
      ...(this.provider.streamOptions === false ? {} : { stream_options: { include_usage: true } }),
    };
    if (p.temperature !== undefined) body.temperature = p.temperature;
    if (p.topP !== undefined) body.top_p = p.topP;
    if (p.seed !== undefined) body.seed = p.seed;
    if (p.maxCompletionTokens !== undefined) body[this.provider.maxTokensField] = p.maxCompletionTokens;
    if (context.tools.length > 0) {
      body.tools = toOpenAITools(context.tools);
      if (p.toolChoice !== undefined) body.tool_choice = p.toolChoice;
      if (p.parallelToolCalls !== undefined) body.parallel_tool_calls = p.parallelToolCalls;
    }
    return Object.assign(body, p.extra);
  }

  async *streamCompletion(context: LLMContextSnapshot, options: StreamCompletionOptions): AsyncGenerator<LLMStreamEvent> {
    const { signal } = options;
    if (signal.aborted) return;
    const vendor = this.provider.vendor;
    // Our own controller, so that a stream that stops sending can be cut like an abort from the caller.
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    signal.addEventListener('abort', abort, { once: true });
    let idleTimer: ClockTimer | undefined;
    let stalled = false;
    const clock = this.clock;
    const rearmIdleTimer = (): void => {
      clock.clearTimeout(idleTimer);
      idleTimer = clock.setTimeout(() => {
        stalled = true;
        controller.abort();
      }, this.timeoutMs);
      // The watchdog alone must not keep the process alive.
      idleTimer.unref();
    };
    const stallError = (): ServiceError =>
      new ServiceError(vendor, `no data for ${this.timeoutMs} ms`, { code: 'timeout' });

    const toolCalls = new ToolCallAssembler();
    let usage: LLMStreamEvent | undefined;
    try {
      const stream = await this.client.chat.completions.create(this.requestBody(context), { signal: controller.signal });
      rearmIdleTimer();
      for await (const chunk of stream) {
        rearmIdleTimer();
        // Groq reports usage in `x_groq.usage` on the last chunk instead.
        const chunkUsage = chunk.usage ?? (chunk as { x_groq?: { usage?: UsageLike } }).x_groq?.usage;
        if (chunkUsage) usage = usageEvent(chunkUsage);
        // `n` is never set, so only choice 0 exists; the usage chunk has no choices at all.
        const delta = chunk.choices[0]?.delta;
        if (delta === undefined) continue;
        if (typeof delta.content === 'string' && delta.content !== '') yield { type: 'text', text: delta.content };
        // A refusal is what the model says instead of answering: on a phone call it must still be spoken.
        if (typeof delta.refusal === 'string' && delta.refusal !== '') yield { type: 'text', text: delta.refusal };
        delta.tool_calls?.forEach((call, position) => toolCalls.add(call, position));
      }
    } catch (err) {
      if (signal.aborted) return;
      if (stalled) throw stallError();
      throw toServiceError(vendor, err, this.apiKey);
    } finally {
      clock.clearTimeout(idleTimer);
      signal.removeEventListener('abort', abort);
    }
    // The SDK ends the iteration quietly on abort, so how the loop ended is told apart here.
    if (signal.aborted) return;
    if (stalled) throw stallError();
    for (const toolCall of toolCalls.finish()) yield { type: 'tool-call', toolCall };
    if (usage !== undefined) yield usage;
  }
}
