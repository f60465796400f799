// A local stand-in for the Anthropic Messages API, speaking its wire protocol over a real HTTP socket so that the
// production client is what gets tested. It checks requests as strictly as the real service (x-api-key,
// anthropic-version, max_tokens, user-first alternating turns, tool_result ids answering the previous tool_use
// blocks, tool schemas) and answers with Anthropic's own error bodies. It streams like the real service:
// `event:` + `data:` lines in the documented order (message_start, content blocks with a ping after the first
// block start, message_delta, message_stop), tool input as `input_json_delta` fragments cut mid-token, every
// event's bytes split across socket writes. Failures are scriptable: HTTP errors, an in-stream `error` event,
// a dropped connection, a stall.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { isAcceptedKey } from './auth.js';
import { isRecord, parseJSONBody, requestPath, startFakeHttpServer, untilClosed } from './http.js';
import { ResponseScript, estimateTokens, textPieces } from './llm.js';
import { randomString, readBody, recordHeaders, sendJSON, SSEWriter, type SSEEvent } from './sse.js';
import { createSeededRandom } from '../random.js';

export interface FakeAnthropicUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  cacheCreationInputTokens?: number;
}

export interface FakeToolUse {
  name: string;
  /** An object is sent as its JSON text; a string is sent as is (it may be invalid JSON, to test clients). */
  input: object | string;
  id?: string;
}

export type FakeAnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal';

export type FakeAnthropicErrorStatus = 400 | 401 | 403 | 404 | 413 | 429 | 500 | 529;

export type FakeAnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error';

export type FakeAnthropicResponse =
  /** A text answer streamed as `text_delta`s of `chunkSize` characters (random 1-8 when absent). */
  | { text: string; chunkSize?: number; stopReason?: FakeAnthropicStopReason; usage?: FakeAnthropicUsage; firstByteDelayMs?: number }
  /** `tool_use` blocks (parallel when several), optionally after a text block; input streamed as JSON fragments. */
  | { toolUses: readonly FakeToolUse[]; text?: string; stopReason?: FakeAnthropicStopReason; usage?: FakeAnthropicUsage }
  /** An HTTP error with Anthropic's body for that status; `shouldRetry` adds the `x-should-retry` header. */
  | { error: FakeAnthropicErrorStatus; retryAfter?: number; shouldRetry?: boolean; message?: string }
  /** Streams `text` (if any), then an `error` event (default `overloaded_error`), then ends: no message_stop. */
  | { streamError: FakeAnthropicErrorType; text?: string; message?: string }
  /** Streams a text answer and destroys the socket after `dropAfterEvents` events (before message_stop at the latest). */
  | { dropAfterEvents: number; text?: string }
  /** Sends the 200 and the headers, then nothing until the client goes away. */
  | { stall: true }
  /** Raw SSE events sent as given, for quirks. */
  | { events: readonly SSEEvent[] };

/** What the fake recorded of one HTTP request. The API key itself is never stored. */
export interface FakeAnthropicRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-case header names; `x-api-key` and `authorization` are replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: { readonly present: boolean; readonly valid: boolean };
  /** The parsed JSON body, or undefined when it was not JSON. */
  readonly body: unknown;
  /** The HTTP status the fake answered with (set once it answered). */
  status?: number;
}

/** A request body that passed validation. */
export interface FakeAnthropicMessagesBody {
  readonly model: string;
  readonly max_tokens: number;
  readonly messages: readonly { readonly role: 'user' | 'assistant'; readonly content: unknown }[];
  readonly system?: unknown;
  readonly stream?: boolean;
  readonly tools?: readonly Readonly<Record<string, unknown>>[];
  readonly [key: string]: unknown;
}

export type FakeAnthropicHandler = (
  body: FakeAnthropicMessagesBody,
  request: FakeAnthropicRequest,
) => FakeAnthropicResponse | Promise<FakeAnthropicResponse>;

export interface FakeAnthropicOptions {
  /** Answer 401 for this key (any other non-empty key is accepted). */
  rejectKey?: string;
  /** Accept only this key (401 for any other). */
  requireKey?: string;
  /** Answer when nothing is queued and no handler is set. Default: a short fixed text. */
  defaultResponse?: FakeAnthropicResponse;
  /** When set, other models get 404 `not_found_error`. */
  models?: readonly string[];
  /** Seed of the write splits, ids and fragment sizes. Default 1. */
  seed?: number;
  /** Pause between SSE events in ms. Default 0 (one event-loop turn). */
  eventDelayMs?: number;
  /** Also send a `ping` between random later events (the API may send one anywhere). Default false. */
  extraPings?: boolean;
}

export interface FakeAnthropic {
  /** e.g. `http://127.0.0.1:54321/v1`, to pass as the client's base URL. */
  readonly baseURL: string;
  readonly port: number;
  /** Every request received, in order, including rejected ones. */
  readonly requests: readonly FakeAnthropicRequest[];
  /** Scripts every request not served from the queue. */
  respondWith(handler: FakeAnthropicHandler): void;
  /** Queues responses, used one per valid request, before the handler. */
  enqueue(...responses: FakeAnthropicResponse[]): void;
  close(): Promise<void>;
}

const DEFAULT_TEXT = 'Hello from the fake Anthropic server.';
const KNOWN_VERSIONS = new Set(['2023-06-01', '2023-01-01']);
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const ERROR_TYPES: Readonly<Record<FakeAnthropicErrorStatus, FakeAnthropicErrorType>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

const DEFAULT_MESSAGES: Readonly<Record<FakeAnthropicErrorStatus, string>> = {
  400: 'prompt is too long: 215000 tokens > 200000 maximum',
  401: 'invalid x-api-key',
  403: 'Your API key does not have permission to use the specified resource.',
  404: 'The requested resource could not be found.',
  413: 'Request exceeds the maximum allowed number of bytes.',
  429:
    'This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer ' +
    'to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage.',
  500: 'Internal server error',
  529: 'Overloaded',
};

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly type: FakeAnthropicErrorType,
    message: string,
    readonly headers: OutgoingHttpHeaders = {},
  ) {
    super(message);
  }
}

function invalid(message: string): RequestError {
  return new RequestError(400, 'invalid_request_error', message);
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

// ---- validation ----------------------------------------------------------------------------------------------

interface CheckedMessage {
  role: 'user' | 'assistant';
  blocks: Record<string, unknown>[];
}

function blocksOf(message: Record<string, unknown>, at: string): Record<string, unknown>[] {
  const content = message.content;
  if (content === undefined) throw invalid(`${at}.content: Field required`);
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalid(`${at}.content: Input should be a valid list`);
  return content.map((block, j) => {
    if (!isRecord(block)) throw invalid(`${at}.content.${j}: Input should be a valid dictionary or object to extract fields from`);
    return block;
  });
}

function validateBlock(block: Record<string, unknown>, role: 'user' | 'assistant', at: string): void {
  switch (block.type) {
    case 'text':
      if (typeof block.text !== 'string') throw invalid(`${at}.text: Field required`);
      if (block.text === '') throw invalid('messages: text content blocks must be non-empty');
      return;
    case 'tool_use':
      if (role !== 'assistant') throw invalid(`${at}: tool_use blocks can only be in assistant messages`);
      if (typeof block.id !== 'string' || !TOOL_NAME.test(block.id)) throw invalid(`${at}.id: String should match pattern '^[a-zA-Z0-9_-]+$'`);
      if (typeof block.name !== 'string' || !TOOL_NAME.test(block.name)) throw invalid(`${at}.name: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`);
      if (!isRecord(block.input)) throw invalid(`${at}.input: Input should be a valid dictionary`);
      return;
    case 'tool_result':
      if (role !== 'user') throw invalid(`${at}: tool_result blocks can only be in user messages`);
      if (typeof block.tool_use_id !== 'string') throw invalid(`${at}.tool_use_id: Field required`);
      if (block.content !== undefined && typeof block.content !== 'string' && !Array.isArray(block.content)) {
        throw invalid(`${at}.content: Input should be a valid string or list`);
      }
      if (block.is_error !== undefined && typeof block.is_error !== 'boolean') throw invalid(`${at}.is_error: Input should be a valid boolean`);
      return;
    case 'image':
    case 'document':
    case 'thinking':
    case 'redacted_thinking':
      return;
    default:
      throw invalid(
        `${at}: Input tag '${String(block.type)}' found using 'type' does not match any of the expected tags: 'text', 'image', 'document', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking'`,
      );
  }
}

function validateMessages(value: unknown): void {
  if (value === undefined) throw invalid('messages: Field required');
  if (!Array.isArray(value)) throw invalid('messages: Input should be a valid list');
  if (value.length === 0) throw invalid('messages: at least one message is required');
  const messages: CheckedMessage[] = value.map((message, i) => {
    const at = `messages.${i}`;
    if (!isRecord(message)) throw invalid(`${at}: Input should be a valid dictionary or object to extract fields from`);
    if (message.role !== 'user' && message.role !== 'assistant') throw invalid(`${at}.role: Input should be 'user' or 'assistant'`);
    const role = message.role;
    const blocks = blocksOf(message, at);
    const isFinalAssistant = i === value.length - 1 && role === 'assistant';
    if (blocks.length === 0 || (typeof message.content === 'string' && message.content === '' && !isFinalAssistant)) {
      throw invalid(`${at}: all messages must have non-empty content except for the optional final assistant message`);
    }
    blocks.forEach((block, j) => validateBlock(block, role, `${at}.content.${j}`));
    return { role, blocks };
  });
  if (messages[0]?.role !== 'user') throw invalid('messages: first message must use the "user" role');
  messages.forEach((message, i) => {
    const previous = messages[i - 1];
    if (previous?.role === message.role) {
      throw invalid(`messages: roles must alternate between "user" and "assistant", but found multiple "${message.role}" roles in a row`);
    }
    // Every tool_use of an assistant turn must be answered by a tool_result in the very next (user) message.
    const toolUseIds = message.blocks.filter((b) => b.type === 'tool_use').map((b) => b.id as string);
    if (toolUseIds.length > 0) {
      const next = messages[i + 1];
      const answered = new Set(next?.blocks.filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id as string) ?? []);
      const missing = toolUseIds.filter((id) => !answered.has(id));
      if (missing.length > 0) {
        throw invalid(
          `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. ` +
            'Each `tool_use` block must have a corresponding `tool_result` block in the next message.',
        );
      }
    }
    const expected = new Set(previous?.blocks.filter((b) => b.type === 'tool_use').map((b) => b.id as string) ?? []);
    let seenOther = false;
    message.blocks.forEach((block, j) => {
      if (block.type !== 'tool_result') {
        seenOther = true;
        return;
      }
      const id = block.tool_use_id as string;
      if (!expected.has(id)) {
        throw invalid(
          `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. ` +
            'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.',
        );
      }
      if (seenOther) throw invalid(`messages.${i}: \`tool_result\` blocks must come before any other content in the message.`);
    });
  });
  const last = messages.at(-1);
  const lastBlock = last?.blocks.at(-1);
  if (last?.role === 'assistant' && lastBlock?.type === 'text' && typeof lastBlock.text === 'string' && /\s$/.test(lastBlock.text)) {
    throw invalid('messages: final assistant content cannot end with trailing whitespace');
  }
}

function validateSystem(system: unknown): void {
  if (system === undefined || typeof system === 'string') return;
  if (!Array.isArray(system)) throw invalid('system: Input should be a valid string');
  system.forEach((block, i) => {
    if (!isRecord(block) || block.type !== 'text' || typeof block.text !== 'string') throw invalid(`system.${i}: Input should be a valid text block`);
    if (block.text === '') throw invalid('system: text content blocks must be non-empty');
  });
}

function validateTools(tools: unknown, toolChoice: unknown): void {
  if (tools === undefined) {
    if (toolChoice !== undefined) throw invalid('tool_choice: tool_choice may only be specified while providing tools');
    return;
  }
  if (!Array.isArray(tools)) throw invalid('tools: Input should be a valid list');
  const names = new Set<string>();
  tools.forEach((tool, i) => {
    const at = `tools.${i}.custom`;
    if (!isRecord(tool)) throw invalid(`tools.${i}: Input should be a valid dictionary or object to extract fields from`);
    if (typeof tool.name !== 'string' || !TOOL_NAME.test(tool.name)) throw invalid(`${at}.name: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`);
    if (names.has(tool.name)) throw invalid('tools: Tool names must be unique.');
    names.add(tool.name);
    if (tool.description !== undefined && typeof tool.description !== 'string') throw invalid(`${at}.description: Input should be a valid string`);
    if (!isRecord(tool.input_schema)) throw invalid(`${at}.input_schema: Field required`);
    if (tool.input_schema.type !== 'object') throw invalid(`${at}.input_schema.type: Input should be 'object'`);
  });
  if (toolChoice === undefined) return;
  if (!isRecord(toolChoice) || !['auto', 'any', 'tool', 'none'].includes(String(toolChoice.type))) {
    throw invalid("tool_choice.type: Input tag found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'");
  }
  if (toolChoice.type === 'tool' && (typeof toolChoice.name !== 'string' || !names.has(toolChoice.name))) {
    throw invalid(`tool_choice.name: tool ${JSON.stringify(toolChoice.name)} is not among the provided tools`);
  }
}

function validateBody(body: unknown, models: readonly string[] | undefined): FakeAnthropicMessagesBody {
  if (!isRecord(body)) throw invalid('Input should be a valid dictionary or object to extract fields from');
  if (body.model === undefined) throw invalid('model: Field required');
  if (typeof body.model !== 'string' || body.model === '') throw invalid('model: Input should be a valid string');
  if (body.max_tokens === undefined) throw invalid('max_tokens: Field required');
  if (!isInteger(body.max_tokens)) throw invalid('max_tokens: Input should be a valid integer');
  if (body.max_tokens < 1) throw invalid('max_tokens: Input should be greater than or equal to 1');
  validateMessages(body.messages);
  validateSystem(body.system);
  validateTools(body.tools, body.tool_choice);
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw invalid('stream: Input should be a valid boolean');
  for (const [field, max] of [['temperature', 1], ['top_p', 1]] as const) {
    const value = body[field];
    if (value === undefined) continue;
    if (typeof value !== 'number') throw invalid(`${field}: Input should be a valid number`);
    if (value < 0) throw invalid(`${field}: Input should be greater than or equal to 0`);
    if (value > max) throw invalid(`${field}: Input should be less than or equal to ${max}`);
  }
  if (body.top_k !== undefined && (!isInteger(body.top_k) || body.top_k < 0)) throw invalid('top_k: Input should be a valid integer');
  if (body.stop_sequences !== undefined && (!Array.isArray(body.stop_sequences) || !body.stop_sequences.every((s) => typeof s === 'string'))) {
    throw invalid('stop_sequences: Input should be a valid list of strings');
  }
  if (models !== undefined && !models.includes(body.model)) {
    throw new RequestError(404, 'not_found_error', `model: ${body.model}`);
  }
  return body as FakeAnthropicMessagesBody;
}

// ---- answers ---------------------------------------------------------------------------------------------------

/** A scripted tool input as the object the non-streaming answer carries (`{}` when the script gave invalid JSON). */
function parseObject(json: string): unknown {
  try {
    const value = JSON.parse(json) as unknown;
    return isRecord(value) ? value : {};
  } catch {
    return {};
  }
}

interface Answer {
  text: string;
  toolUses: { id: string; name: string; json: string }[];
  stopReason: FakeAnthropicStopReason;
  usage: { input_tokens: number; output_tokens: number; cache_read_input_tokens: number; cache_creation_input_tokens: number };
}

class FakeServer {
  readonly requests: FakeAnthropicRequest[] = [];
  readonly script = new ResponseScript<FakeAnthropicMessagesBody, FakeAnthropicRequest, FakeAnthropicResponse>();
  private readonly random: () => number;

  constructor(private readonly options: FakeAnthropicOptions) {
    this.random = createSeededRandom(options.seed ?? 1);
  }

  private id(prefix: string): string {
    return `${prefix}_01${randomString(this.random, 22)}`;
  }

  private requestId(): string {
    return this.id('req');
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = requestPath(req);
    const header = req.headers['x-api-key'];
    const key = typeof header === 'string' ? header.trim() : '';
    const keyValid = isAcceptedKey(key, this.options);
    const raw = await readBody(req);
    const { body, parsed } = parseJSONBody(raw);
    const record: FakeAnthropicRequest = {
      method: req.method ?? 'GET',
      path,
      headers: recordHeaders(req, ['x-api-key', 'authorization']),
      auth: { present: header !== undefined, valid: keyValid },
      body,
    };
    this.requests.push(record);
    const requestId = this.requestId();

    try {
      if (req.method !== 'POST' || path !== '/v1/messages') throw new RequestError(404, 'not_found_error', 'Not Found');
      if (key === '') throw new RequestError(401, 'authentication_error', 'x-api-key header is required');
      if (!keyValid) throw new RequestError(401, 'authentication_error', 'invalid x-api-key');
      const version = req.headers['anthropic-version'];
      if (version === undefined) throw invalid('anthropic-version: header is required');
      if (typeof version !== 'string' || !KNOWN_VERSIONS.has(version)) throw invalid(`anthropic-version: invalid version ${String(version)}`);
      if (raw.length > MAX_BODY_BYTES) throw new RequestError(413, 'request_too_large', DEFAULT_MESSAGES[413]);
      if (!parsed) throw invalid('There was an error parsing the body of your request. Please check that it is valid JSON.');
      const valid = validateBody(body, this.options.models);
      const response = await this.script.next(valid, record, this.options.defaultResponse ?? { text: DEFAULT_TEXT });
      if ('error' in response) throw this.scriptedError(response);
      record.status = 200;
      await (valid.stream === true ? this.stream(valid, response, res, requestId) : this.complete(valid, response, res, requestId));
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      record.status = err.status;
      sendJSON(
        res,
        err.status,
        { type: 'error', error: { type: err.type, message: err.message }, request_id: requestId },
        { 'request-id': requestId, ...err.headers },
      );
    }
  }

  private scriptedError(response: { error: FakeAnthropicErrorStatus; retryAfter?: number; shouldRetry?: boolean; message?: string }): RequestError {
    const headers: OutgoingHttpHeaders = {};
    if (response.retryAfter !== undefined) headers['retry-after'] = String(response.retryAfter);
    if (response.shouldRetry !== undefined) headers['x-should-retry'] = String(response.shouldRetry);
    if (response.error === 429) {
      headers['anthropic-ratelimit-requests-limit'] = '50';
      headers['anthropic-ratelimit-requests-remaining'] = '0';
      headers['anthropic-ratelimit-requests-reset'] = new Date(Date.now() + (response.retryAfter ?? 1) * 1000).toISOString();
    }
    return new RequestError(response.error, ERROR_TYPES[response.error], response.message ?? DEFAULT_MESSAGES[response.error], headers);
  }

  private answerOf(body: FakeAnthropicMessagesBody, response: FakeAnthropicResponse): Answer {
    let text = '';
    let toolUses: Answer['toolUses'] = [];
    let stopReason: FakeAnthropicStopReason = 'end_turn';
    let usage: FakeAnthropicUsage | undefined;
    if ('toolUses' in response) {
      text = response.text ?? '';
      toolUses = response.toolUses.map((use) => ({
        id: use.id ?? this.id('toolu'),
        name: use.name,
        json: typeof use.input === 'string' ? use.input : JSON.stringify(use.input),
      }));
      stopReason = response.stopReason ?? 'tool_use';
      usage = response.usage;
    } else if ('text' in response && typeof response.text === 'string') {
      text = response.text;
      if ('stopReason' in response && response.stopReason !== undefined) stopReason = response.stopReason;
      if ('usage' in response) usage = response.usage;
    }
    const inputTokens = usage?.inputTokens ?? estimateTokens(JSON.stringify(body.messages) + JSON.stringify(body.system ?? ''));
    return {
      text,
      toolUses,
      stopReason,
      usage: {
        input_tokens: inputTokens,
        output_tokens: usage?.outputTokens ?? estimateTokens(text + toolUses.map((u) => u.name + u.json).join('')),
        cache_read_input_tokens: usage?.cacheReadInputTokens ?? 0,
        cache_creation_input_tokens: usage?.cacheCreationInputTokens ?? 0,
      },
    };
  }

  private async complete(body: FakeAnthropicMessagesBody, response: FakeAnthropicResponse, res: ServerResponse, requestId: string): Promise<void> {
    if ('stall' in response) {
      await untilClosed(res);
      return;
    }
    if ('dropAfterEvents' in response) {
      res.socket?.destroy();
      return;
    }
    if ('streamError' in response || 'events' in response) {
      throw new RequestError(529, 'overloaded_error', 'Overloaded');
    }
    const answer = this.answerOf(body, response);
    const content: object[] = [];
    if (answer.text !== '') content.push({ type: 'text', text: answer.text });
    for (const use of answer.toolUses) content.push({ type: 'tool_use', id: use.id, name: use.name, input: parseObject(use.json) });
    sendJSON(
      res,
      200,
      {
        id: this.id('msg'),
        type: 'message',
        role: 'assistant',
        model: body.model,
        content,
        stop_reason: answer.stopReason,
        stop_sequence: null,
        usage: answer.usage,
      },
      { 'request-id': requestId },
    );
  }

  private async stream(body: FakeAnthropicMessagesBody, response: FakeAnthropicResponse, res: ServerResponse, requestId: string): Promise<void> {
    if ('firstByteDelayMs' in response && response.firstByteDelayMs !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, response.firstByteDelayMs));
    }
    const writer = new SSEWriter(res, { random: this.random, eventDelayMs: this.options.eventDelayMs });
    writer.open({ 'request-id': requestId }, 'text/event-stream; charset=utf-8');
    if ('stall' in response) {
      await writer.waitForClose();
      return;
    }
    let sent = 0;
    const dropAfter = 'dropAfterEvents' in response ? response.dropAfterEvents : Infinity;
    const send = async (type: string, data: object): Promise<boolean> => {
      if (sent >= dropAfter) {
        writer.destroy();
        return false;
      }
      if (this.options.extraPings === true && sent > 1 && this.random() < 0.2 && !(await writer.send({ event: 'ping', data: { type: 'ping' } }))) {
        return false;
      }
      sent += 1;
      return writer.send({ event: type, data: { type, ...data } });
    };

    if ('events' in response) {
      for (const event of response.events) if (!(await writer.send(event))) return;
      writer.end();
      return;
    }

    const script: FakeAnthropicResponse =
      'dropAfterEvents' in response
        ? { text: response.text ?? DEFAULT_TEXT }
        : 'streamError' in response
          ? { text: response.text ?? '' }
          : response;
    const answer = this.answerOf(body, script);
    const message = {
      id: this.id('msg'),
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...answer.usage, output_tokens: 1 },
    };
    if (!(await send('message_start', { message }))) return;
    let index = 0;
    let pinged = false;
    // The real API sends one ping right after the first content block starts.
    const pingOnce = async (): Promise<boolean> => {
      if (pinged) return true;
      pinged = true;
      return send('ping', {});
    };
    if (answer.text !== '' || answer.toolUses.length === 0) {
      if (!(await send('content_block_start', { index, content_block: { type: 'text', text: '' } }))) return;
      if (!(await pingOnce())) return;
      const chunkSize = 'chunkSize' in response ? response.chunkSize : undefined;
      for (const piece of textPieces(answer.text, this.random, chunkSize)) {
        if (!(await send('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }))) return;
      }
      if ('streamError' in response) {
        const error = { type: response.streamError, message: response.message ?? DEFAULT_MESSAGES[529] };
        if (!(await writer.send({ event: 'error', data: { type: 'error', error } }))) return;
        writer.end();
        return;
      }
      if (!(await send('content_block_stop', { index }))) return;
      index += 1;
    }
    for (const use of answer.toolUses) {
      if (!(await send('content_block_start', { index, content_block: { type: 'tool_use', id: use.id, name: use.name, input: {} } }))) return;
      if (!(await pingOnce())) return;
      // Input as fragments cut anywhere (inside keys, strings, escapes), the first one often empty; a call
      // without arguments sends no fragment at all.
      if (use.json !== '{}') {
        const fragments = this.random() < 0.5 ? ['', ...textPieces(use.json, this.random, undefined, 12)] : textPieces(use.json, this.random, undefined, 12);
        for (const partial_json of fragments) {
          if (!(await send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } }))) return;
        }
      }
      if (!(await send('content_block_stop', { index }))) return;
      index += 1;
    }
    const usage = { output_tokens: answer.usage.output_tokens };
    if (!(await send('message_delta', { delta: { stop_reason: answer.stopReason, stop_sequence: null }, usage }))) return;
    if (!(await send('message_stop', {}))) return;
    // A scripted drop happens even when the answer had fewer events than asked: the stream never completes.
    if (dropAfter !== Infinity) {
      writer.destroy();
      return;
    }
    writer.end();
  }
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const fake = new FakeServer(options);
  const { port, close } = await startFakeHttpServer(
    (req, res) => fake.handle(req, res),
    (res) => sendJSON(res, 500, { type: 'error', error: { type: 'api_error', message: 'fake server failure' } }),
  );
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    port,
    requests: fake.requests,
    respondWith: (handler) => fake.script.respondWith(handler),
    enqueue: (...responses) => fake.script.enqueue(responses),
    close,
  };
}
