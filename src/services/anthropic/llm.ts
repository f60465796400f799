// AnthropicLLMService: Claude through the Messages API, streamed. It speaks the protocol directly (`fetch` and
// an SSE decoder): the stream is a handful of event types, and the official SDK would add its own retries and
// timeouts, which must stay the LLMService's decision on a live call, for no gain in what reaches the caller.
import type { LLMContextSnapshot, LLMToolCall } from '../../frames/index.js';
import { toAnthropicRequest, toAnthropicTools, type AnthropicMessageParam } from '../../llm/adapters/anthropic.js';
import {
  LLMService,
  ServiceError,
  type LLMServiceOptions,
  type LLMStreamEvent,
  type StreamCompletionOptions,
} from '../base/index.js';
import { ANTHROPIC_SERVICE, anthropicHttpError, anthropicStreamError } from './errors.js';
import { streamServerSentEvents } from '../base/http-stream.js';
import { isRecord, parseJSONText } from '../base/json.js';
import { redactSecrets, requireApiKey } from '../base/vendor-errors.js';

export type AnthropicToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export interface AnthropicLLMServiceOptions
  extends Partial<Pick<LLMServiceOptions, 'responseTimeoutMs' | 'maxAttempts' | 'apology' | 'maxToolRounds'>> {
  apiKey: string;
  /** Default `claude-haiku-4-5`: the fastest current Claude, which is what a phone turn needs. */
  model?: string;
  /** Required by the API. Default 1024 (a spoken answer is far shorter; tool arguments fit easily). */
  maxTokens?: number;
  /** 0 to 1 (Anthropic's range, not OpenAI's 0 to 2). */
  temperature?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  /** Sent only when the context has tools (the API rejects it otherwise). */
  toolChoice?: AnthropicToolChoice;
  /**
   * Marks the system prompt cacheable (`cache_control: ephemeral`): every turn of a call resends the same
   * instructions, and a cache hit shortens the time to first token. Default false.
   */
  cacheSystemPrompt?: boolean;
  /** `anthropic-beta` flags. */
  betas?: string[];
  /** Default `https://api.anthropic.com/v1`. */
  baseURL?: string;
  /** Default `2023-06-01`. */
  anthropicVersion?: string;
  /** Longest wait for the response headers, and then between two stream chunks. Default 30 s. */
  timeoutMs?: number;
  /**
   * The user turn put first when the conversation starts with the assistant (a greeting said before the caller
   * spoke) or has no turn yet: the API wants a user message first. Default `(call connected)`.
   */
  leadingUserTurn?: string;
  /** More body fields, sent as given; they override the fields this service sets. */
  extra?: Record<string, unknown>;
  /** The processor's name in logs and metrics. */
  name?: string;
}

export const ANTHROPIC_DEFAULT_MODEL = 'claude-haiku-4-5';
export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com/v1';
export const ANTHROPIC_API_VERSION = '2023-06-01';
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_LEADING_USER_TURN = '(call connected)';

/** A content block being streamed, by its `index`. */
type OpenBlock = { kind: 'text' } | { kind: 'tool'; id: string; name: string; json: string } | { kind: 'other' };

interface Usage {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
}

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Stop reasons with which the model said nothing useful on purpose: the caller should hear the apology. */
const REFUSING_STOP_REASONS = new Set(['refusal']);

export class AnthropicLLMService extends LLMService {
  readonly maxTokens: number;
  private readonly options: Readonly<AnthropicLLMServiceOptions>;
  private readonly apiKey: string;
  private readonly endpoint: string;
  private readonly timeoutMs: number;

  constructor(options: AnthropicLLMServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'ANTHROPIC_API_KEY');
    super({
      name: options.name,
      model: options.model ?? ANTHROPIC_DEFAULT_MODEL,
      responseTimeoutMs: options.responseTimeoutMs,
      maxAttempts: options.maxAttempts,
      apology: options.apology,
      maxToolRounds: options.maxToolRounds,
    });
    this.options = { ...options };
    this.apiKey = apiKey;
    this.maxTokens = options.maxTokens ?? 1024;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.endpoint = `${(options.baseURL ?? ANTHROPIC_DEFAULT_BASE_URL).replace(/\/+$/, '')}/messages`;
  }

  /** The Messages API body for `context` (exposed for tests and debugging; it holds no secret). */
  requestBody(context: LLMContextSnapshot): Record<string, unknown> {
    const o = this.options;
    const { system, messages } = toAnthropicRequest(context.messages);
    const body: Record<string, unknown> = {
      model: this.model,
      max_tokens: this.maxTokens,
      stream: true,
      messages: this.userFirst(messages),
    };
    if (system !== undefined) {
      body.system = o.cacheSystemPrompt === true ? [{ type: 'text', text: system, cache_control: { type: 'ephemeral' } }] : system;
    }
    if (o.temperature !== undefined) body.temperature = o.temperature;
    if (o.topP !== undefined) body.top_p = o.topP;
    if (o.topK !== undefined) body.top_k = o.topK;
    if (o.stopSequences !== undefined && o.stopSequences.length > 0) body.stop_sequences = o.stopSequences;
    if (context.tools.length > 0) {
      body.tools = toAnthropicTools(context.tools);
      if (o.toolChoice !== undefined) body.tool_choice = o.toolChoice;
    }
    return Object.assign(body, o.extra);
  }

  /** The API wants the first message from the user; a greeting said first gets a minimal user turn before it. */
  private userFirst(messages: AnthropicMessageParam[]): AnthropicMessageParam[] {
    if (messages[0]?.role === 'user') return messages;
    return [{ role: 'user', content: this.options.leadingUserTurn ?? DEFAULT_LEADING_USER_TURN }, ...messages];
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = {
      'x-api-key': this.apiKey,
      'anthropic-version': this.options.anthropicVersion ?? ANTHROPIC_API_VERSION,
      'content-type': 'application/json',
      accept: 'text/event-stream',
    };
    if (this.options.betas !== undefined && this.options.betas.length > 0) headers['anthropic-beta'] = this.options.betas.join(',');
    return headers;
  }

  async *streamCompletion(context: LLMContextSnapshot, options: StreamCompletionOptions): AsyncGenerator<LLMStreamEvent> {
    const { signal } = options;
    const secrets = [this.apiKey];
    const events = streamServerSentEvents({
      service: ANTHROPIC_SERVICE,
      url: this.endpoint,
      headers: this.headers(),
      body: this.requestBody(context),
      signal,
      timeoutMs: this.timeoutMs,
      clock: this.clock,
      secrets,
      httpError: (failure) => anthropicHttpError(failure, secrets),
    });
    const blocks = new Map<number, OpenBlock>();
    const usage: Usage = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 };
    let sawUsage = false;
    let stopped = false;
    let stopReason: string | undefined;
    let said = false;

    for await (const sse of events) {
      if (sse.event === 'ping') continue;
      const data = parseJSONText(sse.data);
      if (!isRecord(data)) {
        throw new ServiceError(ANTHROPIC_SERVICE, `unreadable ${sse.event} event: ${redactSecrets(sse.data.slice(0, 100), secrets)}`, {
          code: 'protocol',
        });
      }
      // `data.type` repeats the event name; it is the one the SDKs trust.
      const type = typeof data.type === 'string' ? data.type : sse.event;
      switch (type) {
        case 'message_start': {
          const message = isRecord(data.message) ? data.message : {};
          if (isRecord(message.usage)) sawUsage = readUsage(message.usage, usage) || sawUsage;
          break;
        }
        case 'content_block_start': {
          const index = count(data.index) ?? blocks.size;
          const block = isRecord(data.content_block) ? data.content_block : {};
          if (block.type === 'text') {
            blocks.set(index, { kind: 'text' });
            if (typeof block.text === 'string' && block.text !== '') {
              said = true;
              yield { type: 'text', text: block.text };
            }
          } else if (block.type === 'tool_use') {
            blocks.set(index, { kind: 'tool', id: stringOf(block.id), name: stringOf(block.name), json: '' });
          } else {
            // Thinking, server tools, citations: nothing the caller should hear.
            blocks.set(index, { kind: 'other' });
          }
          break;
        }
        case 'content_block_delta': {
          const block = blocks.get(count(data.index) ?? -1);
          const delta = isRecord(data.delta) ? data.delta : {};
          if (delta.type === 'text_delta' && typeof delta.text === 'string' && delta.text !== '' && block?.kind === 'text') {
            said = true;
            yield { type: 'text', text: delta.text };
          } else if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string' && block?.kind === 'tool') {
            block.json += delta.partial_json;
          }
          break;
        }
        case 'content_block_stop': {
          const index = count(data.index) ?? -1;
          const block = blocks.get(index);
          blocks.delete(index);
          if (block?.kind === 'tool' && block.name !== '') {
            said = true;
            yield { type: 'tool-call', toolCall: toolCallOf(block, index) };
          }
          break;
        }
        case 'message_delta': {
          const delta = isRecord(data.delta) ? data.delta : {};
          if (typeof delta.stop_reason === 'string') stopReason = delta.stop_reason;
          // Counts here are cumulative: they replace the earlier ones.
          if (isRecord(data.usage)) sawUsage = readUsage(data.usage, usage) || sawUsage;
          break;
        }
        case 'message_stop':
          stopped = true;
          break;
        case 'error':
          throw anthropicStreamError(data, secrets);
        default:
          break; // event types added later must not break a live call
      }
      if (stopped) break;
    }
    if (signal.aborted) return;
    if (!stopped) {
      // The body ended cleanly but short of `message_stop`: the answer (and any tool call in it) is incomplete.
      throw new ServiceError(ANTHROPIC_SERVICE, 'the stream ended before message_stop', { code: 'connection-lost' });
    }
    if (!said && stopReason !== undefined && REFUSING_STOP_REASONS.has(stopReason)) {
      throw new ServiceError(ANTHROPIC_SERVICE, `the model declined to answer (stop_reason ${stopReason})`, {
        code: 'content-filtered',
        vendorCode: stopReason,
      });
    }
    if (sawUsage) {
      // Anthropic counts cached input apart from `input_tokens`; the prompt total includes it, as OpenAI's does.
      yield {
        type: 'usage',
        promptTokens: usage.input + usage.cacheRead + usage.cacheCreation,
        completionTokens: usage.output,
        cachedTokens: usage.cacheRead,
      };
    }
  }
}

/** Copies the counts present in `source` into `usage`; true if there was any. */
function readUsage(source: Record<string, unknown>, usage: Usage): boolean {
  let any = false;
  const take = (field: string, key: keyof Usage): void => {
    const value = count(source[field]);
    if (value === undefined) return;
    usage[key] = value;
    any = true;
  };
  take('input_tokens', 'input');
  take('output_tokens', 'output');
  take('cache_read_input_tokens', 'cacheRead');
  take('cache_creation_input_tokens', 'cacheCreation');
  return any;
}

function toolCallOf(block: { id: string; name: string; json: string }, index: number): LLMToolCall {
  return {
    id: block.id === '' ? `toolu_missing_${index}_${Date.now().toString(36)}` : block.id,
    name: block.name,
    // A call without arguments may come with no delta at all.
    arguments: block.json.trim() === '' ? '{}' : block.json,
  };
}
