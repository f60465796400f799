// BedrockLLMService: a model on Amazon Bedrock through ConverseStream
// (`POST https://bedrock-runtime.<region>.amazonaws.com/model/{modelId}/converse-stream`), signed with SigV4
// (sigv4.ts), its answer an event stream (event-stream.ts): messageStart, contentBlockStart (a toolUse's id and
// name), contentBlockDelta (text, or a piece of a toolUse's input JSON), contentBlockStop, messageStop (stopReason),
// then metadata (usage). Facts and sources: docs/vendors/aws.md.
//
// No AWS SDK (the issue asked for it): the request is one signed POST and the stream a binary framing of ~100 lines,
// while @aws-sdk/client-bedrock-runtime brings its own retries and timeouts (which must stay the LLMService's
// decision on a live call) and 10+ MB of packages. Converse is one API for every Bedrock chat model (Claude, Nova,
// Llama, Mistral...), so one class serves them all; the model is the `model` option.
import type { LLMContextSnapshot, LLMToolCall } from '../../frames/index.js';
import { LLMService, ServiceError, type LLMServiceOptions, type LLMStreamEvent, type StreamCompletionOptions } from '../base/index.js';
import { streamHttpBody } from '../base/http-stream.js';
import { isRecord, parseJSONText } from '../base/json.js';
import { redactSecrets } from '../base/vendor-errors.js';
import { BEDROCK, bedrockHttpError, bedrockStreamException } from './bedrock-errors.js';
import { bedrockConverseBody, type BedrockInferenceConfig, type BedrockToolChoice } from './bedrock-request.js';
import { awsSecrets, checkAwsOptions, resolveAwsCredentials, type AwsCredentialsOption } from './credentials.js';
import { EventStreamDecoder, stringHeader, type EventStreamMessage } from './event-stream.js';
import { signAwsRequest } from './sigv4.js';

export type { BedrockToolChoice } from './bedrock-request.js';

export interface BedrockLLMServiceOptions extends Partial<Pick<LLMServiceOptions, 'responseTimeoutMs' | 'maxAttempts' | 'apology' | 'maxToolRounds'>> {
  credentials: AwsCredentialsOption;
  /** e.g. 'ap-south-1' (Mumbai), 'us-east-1'. */
  region: string;
  /**
   * A model id, an inference profile id (`apac.…`, `us.…`) or an ARN. Default `BEDROCK_DEFAULT_MODEL`; which models
   * a region serves on demand, and which need an inference profile, is AWS's list (docs/vendors/aws.md).
   */
  model?: string;
  /** `inferenceConfig.maxTokens`. Default 1024 (a spoken answer is far shorter; tool arguments fit easily). */
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
  /** Sent only when the context has tools. */
  toolChoice?: BedrockToolChoice;
  /** `additionalModelRequestFields`: a model's own parameters (e.g. Claude's `top_k`), sent as given. */
  additionalModelRequestFields?: Record<string, unknown>;
  /** The user turn put first when the conversation starts with the bot. Default `(call connected)`. */
  leadingUserTurn?: string;
  /** Instead of the region's endpoint (a VPC endpoint, a test fake). */
  baseUrl?: string;
  /** Longest wait for the response headers, and then between two stream chunks. Default 30 s. */
  timeoutMs?: number;
  name?: string;
}

/** Claude 3 Haiku: on demand in most Bedrock regions, Mumbai included, and fast enough for a phone turn. */
export const BEDROCK_DEFAULT_MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const DEFAULT_TIMEOUT_MS = 30_000;

/** Stop reasons with which the model said nothing on purpose: the caller should hear the apology. */
const FILTERED_STOP_REASONS = new Set(['content_filtered', 'guardrail_intervened']);

type OpenBlock = { kind: 'text' } | { kind: 'tool'; id: string; name: string; json: string };

const count = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

export class BedrockLLMService extends LLMService {
  readonly region: string;
  readonly maxTokens: number;
  private readonly options: Readonly<BedrockLLMServiceOptions>;
  private readonly endpoint: string;
  private readonly timeoutMs: number;

  constructor(options: BedrockLLMServiceOptions) {
    checkAwsOptions(new.target.name, options.credentials, options.region);
    super({
      name: options.name,
      model: options.model ?? BEDROCK_DEFAULT_MODEL,
      responseTimeoutMs: options.responseTimeoutMs,
      maxAttempts: options.maxAttempts,
      apology: options.apology,
      maxToolRounds: options.maxToolRounds,
    });
    if (this.model.trim() === '') throw new TypeError(`${new.target.name}: model must not be empty`);
    this.options = { ...options };
    this.region = options.region;
    this.maxTokens = options.maxTokens ?? 1024;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const base = (options.baseUrl ?? `https://bedrock-runtime.${options.region}.amazonaws.com`).replace(/\/+$/, '');
    // An ARN's `/` and a model id's `:` are escaped in the path (and signed escaped once more: sigv4.ts).
    this.endpoint = `${base}/model/${encodeURIComponent(this.model)}/converse-stream`;
  }

  /** The Converse body for `context` (exposed for tests and debugging; it holds no secret). */
  requestBody(context: LLMContextSnapshot): Record<string, unknown> {
    const o = this.options;
    const inferenceConfig: BedrockInferenceConfig = { maxTokens: this.maxTokens };
    if (o.temperature !== undefined) inferenceConfig.temperature = o.temperature;
    if (o.topP !== undefined) inferenceConfig.topP = o.topP;
    if (o.stopSequences !== undefined && o.stopSequences.length > 0) inferenceConfig.stopSequences = o.stopSequences;
    return bedrockConverseBody(context, {
      inferenceConfig,
      leadingUserTurn: o.leadingUserTurn ?? '(call connected)',
      ...(o.toolChoice === undefined ? {} : { toolChoice: o.toolChoice }),
      ...(o.additionalModelRequestFields === undefined ? {} : { additionalModelRequestFields: o.additionalModelRequestFields }),
    });
  }

  async *streamCompletion(context: LLMContextSnapshot, options: StreamCompletionOptions): AsyncGenerator<LLMStreamEvent> {
    const { signal } = options;
    const credentials = await resolveAwsCredentials(this.options.credentials);
    const secrets = awsSecrets(credentials);
    const bodyText = JSON.stringify(this.requestBody(context));
    const headers = signAwsRequest({
      method: 'POST',
      url: this.endpoint,
      headers: { 'content-type': 'application/json', accept: 'application/vnd.amazon.eventstream' },
      body: bodyText,
      region: this.region,
      service: 'bedrock',
      credentials,
      doubleEncodePath: true,
    });
    const body = streamHttpBody({
      service: BEDROCK,
      url: this.endpoint,
      headers,
      bodyText,
      signal,
      timeoutMs: this.timeoutMs,
      clock: this.clock,
      secrets,
      httpError: (failure) => bedrockHttpError(failure, secrets),
    });
    const decoder = new EventStreamDecoder();
    const reader = new ConverseStreamReader(secrets);
    for await (const chunk of body) {
      let messages: EventStreamMessage[];
      try {
        messages = decoder.push(chunk);
      } catch (error) {
        throw new ServiceError(BEDROCK, `unreadable event stream: ${(error as Error).message}`, { code: 'protocol' });
      }
      for (const message of messages) {
        yield* reader.read(message);
        if (signal.aborted) return;
      }
    }
    if (signal.aborted) return;
    yield* reader.finish();
  }
}

/** One answer's events, read in order; it owns the blocks being streamed and what the end must check. */
class ConverseStreamReader {
  private readonly blocks = new Map<number, OpenBlock>();
  private stopReason: string | undefined;
  private said = false;
  private usage: { promptTokens: number; completionTokens: number; cachedTokens?: number } | undefined;

  constructor(private readonly secrets: readonly string[]) {}

  *read(message: EventStreamMessage): Generator<LLMStreamEvent> {
    const messageType = stringHeader(message, ':message-type');
    const payloadText = Buffer.from(message.payload).toString('utf8');
    if (messageType === 'exception') throw bedrockStreamException(stringHeader(message, ':exception-type') ?? '', payloadText, this.secrets);
    if (messageType === 'error') {
      const detail = `${stringHeader(message, ':error-code') ?? 'error'}: ${stringHeader(message, ':error-message') ?? ''}`;
      throw new ServiceError(BEDROCK, redactSecrets(detail, this.secrets), { code: 'server', vendorCode: stringHeader(message, ':error-code') });
    }
    if (messageType !== 'event') return;
    const data = parseJSONText(payloadText);
    if (!isRecord(data)) throw new ServiceError(BEDROCK, `unreadable ${stringHeader(message, ':event-type') ?? ''} event`, { code: 'protocol' });
    switch (stringHeader(message, ':event-type')) {
      case 'contentBlockStart': {
        const start = isRecord(data.start) ? data.start : {};
        const toolUse = isRecord(start.toolUse) ? start.toolUse : undefined;
        if (toolUse !== undefined) this.blocks.set(count(data.contentBlockIndex) ?? this.blocks.size, { kind: 'tool', id: text(toolUse.toolUseId), name: text(toolUse.name), json: '' });
        break;
      }
      case 'contentBlockDelta': {
        const index = count(data.contentBlockIndex) ?? 0;
        const delta = isRecord(data.delta) ? data.delta : {};
        const block = this.blocks.get(index);
        if (typeof delta.text === 'string' && delta.text !== '') {
          // A text block has no start event: its first delta opens it.
          if (block === undefined) this.blocks.set(index, { kind: 'text' });
          this.said = true;
          yield { type: 'text', text: delta.text };
        } else if (isRecord(delta.toolUse) && typeof delta.toolUse.input === 'string' && block?.kind === 'tool') {
          block.json += delta.toolUse.input;
        }
        // Reasoning, citations: nothing the caller should hear.
        break;
      }
      case 'contentBlockStop': {
        const index = count(data.contentBlockIndex) ?? -1;
        const block = this.blocks.get(index);
        this.blocks.delete(index);
        if (block?.kind === 'tool' && block.name !== '') {
          this.said = true;
          yield { type: 'tool-call', toolCall: toolCallOf(block, index) };
        }
        break;
      }
      case 'messageStop':
        this.stopReason = text(data.stopReason) || 'unknown';
        break;
      case 'metadata': {
        const usage = isRecord(data.usage) ? data.usage : {};
        const input = count(usage.inputTokens);
        const output = count(usage.outputTokens);
        const cacheRead = count(usage.cacheReadInputTokens) ?? 0;
        const cacheWrite = count(usage.cacheWriteInputTokens) ?? 0;
        // Bedrock counts cached input apart from `inputTokens`; the prompt total includes it, as OpenAI's does.
        if (input !== undefined && output !== undefined) {
          this.usage = { promptTokens: input + cacheRead + cacheWrite, completionTokens: output, ...(cacheRead > 0 ? { cachedTokens: cacheRead } : {}) };
        }
        break;
      }
      default:
        break; // messageStart, and event types added later, must not break a live call
    }
  }

  *finish(): Generator<LLMStreamEvent> {
    if (this.stopReason === undefined) {
      // The body ended cleanly but short of messageStop: the answer (and any tool call in it) is incomplete.
      throw new ServiceError(BEDROCK, 'the stream ended before messageStop', { code: 'connection-lost' });
    }
    if (!this.said && FILTERED_STOP_REASONS.has(this.stopReason)) {
      throw new ServiceError(BEDROCK, `the model declined to answer (stopReason ${this.stopReason})`, { code: 'content-filtered', vendorCode: this.stopReason });
    }
    if (this.usage !== undefined) yield { type: 'usage', ...this.usage };
  }
}

function toolCallOf(block: { id: string; name: string; json: string }, index: number): LLMToolCall {
  return {
    id: block.id === '' ? `tooluse_missing_${index}_${Date.now().toString(36)}` : block.id,
    name: block.name,
    // A call without arguments may come with no delta at all.
    arguments: block.json.trim() === '' ? '{}' : block.json,
  };
}
