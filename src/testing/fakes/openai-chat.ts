// A local stand-in for the OpenAI Chat Completions API (and the OpenAI-compatible providers), speaking its wire
// protocol over a real HTTP socket so that the production client, the official `openai` SDK included, is what
// gets tested. It checks requests as strictly as the real service (auth, required fields, tool-call ordering)
// and streams like it: role delta, content or tool-call argument fragments, finish chunk, optional usage chunk,
// `[DONE]`, every event cut at random byte offsets. Failures are scriptable: HTTP errors with the real bodies,
// dropped connections, stalls, in-band errors.
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSeededRandom, randomString, readBody, recordHeaders, sendJSON, SSEWriter } from './sse.js';

export interface FakeUsage {
  promptTokens?: number;
  completionTokens?: number;
  cachedTokens?: number;
}

export interface FakeToolCall {
  name: string;
  /** An object is sent as its JSON text; a string is sent as is (it may be invalid JSON, to test clients). */
  arguments: object | string;
  id?: string;
}

export type FakeFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export type FakeErrorStatus = 400 | 401 | 403 | 404 | 429 | 500 | 503;

export type FakeChatResponse =
  /** A text answer streamed as content deltas of `chunkSize` characters (random 1-8 when absent). */
  | { text: string; chunkSize?: number; finishReason?: FakeFinishReason; usage?: FakeUsage }
  /**
   * Tool calls (parallel ones get index 0, 1, ...), optionally after some text. `style: 'whole'` sends each call
   * in one delta as Groq and Ollama do; the default streams argument fragments as OpenAI does.
   */
  | {
      toolCalls: readonly FakeToolCall[];
      text?: string;
      style?: 'fragments' | 'whole';
      finishReason?: FakeFinishReason;
      usage?: FakeUsage;
    }
  /** An HTTP error with OpenAI's body for that status; `shouldRetry` adds the `x-should-retry` header. */
  | { error: FakeErrorStatus; retryAfter?: number; shouldRetry?: boolean; message?: string }
  /** Streams a text answer and destroys the socket after `dropAfterChunks` events (before `[DONE]` at the latest). */
  | { dropAfterChunks: number; text?: string }
  /** Sends the 200 and the headers, then nothing until the client goes away. */
  | { stall: true }
  /** Streams `text` (if any), then an in-band `{"error": ...}` event, then ends without `[DONE]`. */
  | { inBandError: true; text?: string; message?: string }
  /** Raw chunk objects, each sent as one `data:` event, for vendor quirks; `[DONE]` follows unless `done: false`. */
  | { chunks: readonly unknown[]; done?: boolean };

/** What the fake recorded of one HTTP request. The API key itself is never stored. */
export interface FakeOpenAIChatRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-case header names; `authorization` is replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: { readonly present: boolean; readonly valid: boolean };
  /** The parsed JSON body, or undefined when it was not JSON. */
  readonly body: unknown;
  /** The HTTP status the fake answered with (set once it answered). */
  status?: number;
}

/** A request body that passed validation. */
export interface FakeChatCompletionBody {
  readonly model: string;
  readonly messages: readonly Readonly<Record<string, unknown>>[];
  readonly stream?: boolean;
  readonly stream_options?: { readonly include_usage?: boolean; readonly include_obfuscation?: boolean };
  readonly tools?: readonly Readonly<Record<string, unknown>>[];
  readonly [key: string]: unknown;
}

export type FakeChatHandler = (
  body: FakeChatCompletionBody,
  request: FakeOpenAIChatRequest,
) => FakeChatResponse | Promise<FakeChatResponse>;

export interface FakeOpenAIChatOptions {
  /** Answer 401 `invalid_api_key` for this key (any other non-empty key is accepted). */
  rejectKey?: string;
  /** Accept only this key (401 for any other), like a server with one valid key. */
  requireKey?: string;
  /** Answer when nothing is queued and no handler is set. Default: a short fixed text. */
  defaultResponse?: FakeChatResponse;
  /** When set, other models get 404 `model_not_found`. */
  models?: readonly string[];
  /** Seed of the write splits, ids and fragment sizes. Default 1. */
  seed?: number;
  /** Pause between SSE events in ms. Default 0 (one event-loop turn). */
  eventDelayMs?: number;
  /** Send `: OPENROUTER PROCESSING` comment lines before and between events, as OpenRouter does. */
  keepAliveComments?: boolean;
}

export interface FakeOpenAIChat {
  /** e.g. `http://127.0.0.1:54321/v1`, to pass as the client's base URL. */
  readonly baseURL: string;
  readonly port: number;
  /** Every request received, in order, including rejected ones. */
  readonly requests: readonly FakeOpenAIChatRequest[];
  /** Scripts every completion not served from the queue. */
  respondWith(handler: FakeChatHandler): void;
  /** Queues responses, used one per valid completion request, before the handler. */
  enqueue(...responses: FakeChatResponse[]): void;
  close(): Promise<void>;
}

const DEFAULT_TEXT = 'Hello from the fake OpenAI server.';
const KEYS_URL = 'https://platform.openai.com/account/api-keys';

interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly body: OpenAIErrorBody,
    readonly headers: OutgoingHttpHeaders = {},
  ) {
    super(body.error.message);
  }
}

function invalid(message: string, param: string | null = null, code: string | null = null): RequestError {
  return new RequestError(400, { error: { message, type: 'invalid_request_error', param, code } });
}

/** How OpenAI echoes a wrong key: the first 8 and last 4 characters around asterisks; short keys in full. */
function maskKey(key: string): string {
  if (key.length <= 12) return key;
  return `${key.slice(0, 8)}${'*'.repeat(key.length - 12)}${key.slice(-4)}`;
}

function incorrectKey(key: string): RequestError {
  return new RequestError(401, {
    error: {
      message: `Incorrect API key provided: ${maskKey(key)}. You can find your API key at ${KEYS_URL}.`,
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    },
  });
}

function missingKey(): RequestError {
  return new RequestError(401, {
    error: {
      message:
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer " +
        "auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're " +
        'accessing the API from your browser and are prompted for a username and password. You can obtain an API ' +
        `key from ${KEYS_URL}.`,
      type: 'invalid_request_error',
      param: null,
      code: null,
    },
  });
}

function scriptedError(
  status: FakeErrorStatus,
  model: string,
  key: string,
  response: { retryAfter?: number; shouldRetry?: boolean; message?: string },
): RequestError {
  const headers: OutgoingHttpHeaders = {};
  let body: OpenAIErrorBody;
  switch (status) {
    case 400:
      body = {
        error: {
          message:
            response.message ??
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
          type: 'invalid_request_error',
          param: 'messages',
          code: 'context_length_exceeded',
        },
      };
      break;
    case 401:
      return incorrectKey(key);
    case 403:
      body = {
        error: {
          message: response.message ?? 'Country, region, or territory not supported',
          type: 'request_forbidden',
          param: null,
          code: 'unsupported_country_region_territory',
        },
      };
      break;
    case 404:
      body = {
        error: {
          message: response.message ?? `The model \`${model}\` does not exist or you do not have access to it.`,
          type: 'invalid_request_error',
          param: null,
          code: 'model_not_found',
        },
      };
      break;
    case 429: {
      const wait = response.retryAfter ?? 20;
      body = {
        error: {
          message:
            response.message ??
            `Rate limit reached for ${model} in organization org-fake on requests per min (RPM): Limit 3, Used 3, ` +
              `Requested 1. Please try again in ${wait}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
          type: 'requests',
          param: null,
          code: 'rate_limit_exceeded',
        },
      };
      Object.assign(headers, {
        'x-ratelimit-limit-requests': '3',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': `${wait}s`,
        'x-ratelimit-limit-tokens': '40000',
        'x-ratelimit-remaining-tokens': '39000',
        'x-ratelimit-reset-tokens': '1.5s',
      });
      break;
    }
    case 500:
      body = {
        error: {
          message:
            response.message ??
            'The server had an error while processing your request. Sorry about that! You can retry your request, ' +
              'or contact us through our help center at help.openai.com if the error persists.',
          type: 'server_error',
          param: null,
          code: null,
        },
      };
      break;
    case 503:
      body = {
        error: {
          message: response.message ?? 'The engine is currently overloaded, please try again later.',
          type: 'server_error',
          param: null,
          code: null,
        },
      };
      break;
  }
  if (response.retryAfter !== undefined) headers['retry-after'] = String(response.retryAfter);
  if (response.shouldRetry !== undefined) headers['x-should-retry'] = String(response.shouldRetry);
  return new RequestError(status, body, headers);
}

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'];
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
}

/** A value as OpenAI quotes it in error messages. */
function shown(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validateToolCalls(calls: unknown, at: string): string[] {
  if (!Array.isArray(calls)) {
    throw invalid(`Invalid type for '${at}': expected an array of objects, but got ${typeName(calls)} instead.`, at, 'invalid_type');
  }
  if (calls.length === 0) {
    throw invalid(`Invalid '${at}': empty array. Expected an array with minimum length 1, but got an empty array instead.`, at, 'empty_array');
  }
  return calls.map((call, j) => {
    const callAt = `${at}[${j}]`;
    if (!isRecord(call)) throw invalid(`Invalid type for '${callAt}': expected an object, but got ${typeName(call)} instead.`, callAt, 'invalid_type');
    if (typeof call.id !== 'string') throw invalid(`Missing required parameter: '${callAt}.id'.`, `${callAt}.id`, 'missing_required_parameter');
    if (call.type !== 'function') {
      throw invalid(`Invalid value: '${shown(call.type)}'. Supported values are: 'function' and 'custom'.`, `${callAt}.type`, 'invalid_value');
    }
    const fn = call.function;
    if (!isRecord(fn)) throw invalid(`Missing required parameter: '${callAt}.function'.`, `${callAt}.function`, 'missing_required_parameter');
    if (typeof fn.name !== 'string') {
      throw invalid(`Missing required parameter: '${callAt}.function.name'.`, `${callAt}.function.name`, 'missing_required_parameter');
    }
    if (typeof fn.arguments !== 'string') {
      const param = `${callAt}.function.arguments`;
      throw fn.arguments === undefined
        ? invalid(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter')
        : invalid(`Invalid type for '${param}': expected a string, but got ${typeName(fn.arguments)} instead.`, param, 'invalid_type');
    }
    return call.id;
  });
}

function unansweredToolCalls(pending: ReadonlySet<string>, index: number): RequestError {
  return invalid(
    "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. " +
      `The following tool_call_ids did not have response messages: ${[...pending].join(', ')}`,
    `messages.[${index}].role`,
  );
}

function validateMessages(messages: unknown): void {
  if (messages === undefined) throw invalid("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (!Array.isArray(messages)) {
    throw invalid(`Invalid type for 'messages': expected an array of objects, but got ${typeName(messages)} instead.`, 'messages', 'invalid_type');
  }
  if (messages.length === 0) {
    throw invalid("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages', 'empty_array');
  }
  // Ids of the latest assistant tool calls not answered yet; every one must be answered before anything else.
  let pending = new Set<string>();
  messages.forEach((message, i) => {
    const at = `messages[${i}]`;
    if (!isRecord(message)) throw invalid(`Invalid type for '${at}': expected an object, but got ${typeName(message)} instead.`, at, 'invalid_type');
    const role = message.role;
    if (role === undefined) throw invalid(`Missing required parameter: '${at}.role'.`, `${at}.role`, 'missing_required_parameter');
    if (typeof role !== 'string' || !ROLES.includes(role)) {
      throw invalid(
        `Invalid value: '${shown(role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
        `${at}.role`,
        'invalid_value',
      );
    }
    const content = message.content;
    const hasToolCalls = role === 'assistant' && message.tool_calls !== undefined && message.tool_calls !== null;
    if (content === undefined || content === null) {
      if (!(role === 'assistant' && hasToolCalls)) {
        throw invalid(`Missing required parameter: '${at}.content'.`, `${at}.content`, 'missing_required_parameter');
      }
    } else if (typeof content !== 'string' && !Array.isArray(content)) {
      throw invalid(`Invalid type for '${at}.content': expected one of a string or array of objects, but got ${typeName(content)} instead.`, `${at}.content`, 'invalid_type');
    }
    if (role === 'tool') {
      const id = message.tool_call_id;
      if (typeof id !== 'string') throw invalid(`Missing required parameter: '${at}.tool_call_id'.`, `${at}.tool_call_id`, 'missing_required_parameter');
      if (!pending.has(id)) {
        throw invalid(
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          `messages.[${i}].role`,
        );
      }
      pending.delete(id);
      return;
    }
    if (pending.size > 0) throw unansweredToolCalls(pending, i);
    if (hasToolCalls) pending = new Set(validateToolCalls(message.tool_calls, `${at}.tool_calls`));
  });
  if (pending.size > 0) throw unansweredToolCalls(pending, messages.length);
}

function validateTools(tools: unknown): void {
  if (!Array.isArray(tools)) throw invalid(`Invalid type for 'tools': expected an array of objects, but got ${typeName(tools)} instead.`, 'tools', 'invalid_type');
  if (tools.length === 0) {
    throw invalid("Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'tools', 'empty_array');
  }
  tools.forEach((tool, i) => {
    const at = `tools[${i}]`;
    if (!isRecord(tool)) throw invalid(`Invalid type for '${at}': expected an object, but got ${typeName(tool)} instead.`, at, 'invalid_type');
    if (tool.type !== 'function') {
      throw invalid(`Invalid value: '${shown(tool.type)}'. Supported values are: 'function' and 'custom'.`, `${at}.type`, 'invalid_value');
    }
    const fn = tool.function;
    if (!isRecord(fn)) throw invalid(`Missing required parameter: '${at}.function'.`, `${at}.function`, 'missing_required_parameter');
    if (typeof fn.name !== 'string' || !TOOL_NAME.test(fn.name)) {
      throw invalid(
        `Invalid '${at}.function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
        `${at}.function.name`,
        'invalid_value',
      );
    }
    if (fn.parameters !== undefined && !isRecord(fn.parameters)) {
      throw invalid(`Invalid type for '${at}.function.parameters': expected an object, but got ${typeName(fn.parameters)} instead.`, `${at}.function.parameters`, 'invalid_type');
    }
  });
}

function validateBody(body: unknown, models: readonly string[] | undefined): FakeChatCompletionBody {
  if (!isRecord(body)) throw invalid(`Invalid type for body: expected an object, but got ${typeName(body)} instead.`);
  if (typeof body.model !== 'string' || body.model === '') throw invalid('you must provide a model parameter');
  validateMessages(body.messages);
  if (body.tools !== undefined) validateTools(body.tools);
  for (const param of ['tool_choice', 'parallel_tool_calls']) {
    if (body[param] !== undefined && body.tools === undefined) {
      throw invalid(`Invalid value for '${param}': '${param}' is only allowed when 'tools' are specified.`, param);
    }
  }
  if (body.stream_options !== undefined && body.stream_options !== null && body.stream !== true) {
    throw invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
  }
  if (models !== undefined && !models.includes(body.model)) {
    throw new RequestError(404, {
      error: {
        message: `The model \`${body.model}\` does not exist or you do not have access to it.`,
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      },
    });
  }
  return body as FakeChatCompletionBody;
}

/** `text` cut into pieces of `size` code points (random 1-8 when undefined); never splits a surrogate pair. */
function pieces(text: string, random: () => number, size?: number): string[] {
  const chars = [...text];
  const out: string[] = [];
  for (let i = 0; i < chars.length; ) {
    const n = size ?? 1 + Math.floor(random() * 8);
    out.push(chars.slice(i, i + n).join(''));
    i += n;
  }
  return out;
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

interface Completion {
  text: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason: FakeFinishReason;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details: object; completion_tokens_details: object };
}

class FakeServer {
  readonly requests: FakeOpenAIChatRequest[] = [];
  private readonly queue: FakeChatResponse[] = [];
  private handler: FakeChatHandler | undefined;
  private readonly random: () => number;

  constructor(private readonly options: FakeOpenAIChatOptions) {
    this.random = createSeededRandom(options.seed ?? 1);
  }

  respondWith(handler: FakeChatHandler): void {
    this.handler = handler;
  }

  enqueue(responses: FakeChatResponse[]): void {
    this.queue.push(...responses);
  }

  private baseHeaders(): OutgoingHttpHeaders {
    return {
      'x-request-id': `req_${randomString(this.random, 32, '0123456789abcdef')}`,
      'openai-processing-ms': String(50 + Math.floor(this.random() * 400)),
      'openai-version': '2020-10-01',
    };
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const authorization = req.headers.authorization;
    const key = authorization?.startsWith('Bearer ') === true ? authorization.slice('Bearer '.length).trim() : '';
    const keyValid =
      key !== '' && key !== this.options.rejectKey && (this.options.requireKey === undefined || key === this.options.requireKey);
    const raw = await readBody(req);
    let body: unknown;
    let parsed = true;
    try {
      body = raw.length === 0 ? undefined : (JSON.parse(raw.toString('utf8')) as unknown);
    } catch {
      parsed = false;
    }
    const record: FakeOpenAIChatRequest = {
      method: req.method ?? 'GET',
      path,
      headers: recordHeaders(req),
      auth: { present: authorization !== undefined, valid: keyValid },
      body,
    };
    this.requests.push(record);

    try {
      if (req.method !== 'POST' || path !== '/v1/chat/completions') {
        throw new RequestError(404, {
          error: { message: `Invalid URL (${req.method ?? 'GET'} ${path})`, type: 'invalid_request_error', param: null, code: null },
        });
      }
      if (key === '') throw missingKey();
      if (!keyValid) throw incorrectKey(key);
      if (!parsed) {
        throw invalid(
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP " +
            'library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you ' +
            'have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)',
        );
      }
      const valid = validateBody(body, this.options.models);
      const response = this.queue.shift() ?? (await this.handler?.(valid, record)) ?? this.options.defaultResponse ?? { text: DEFAULT_TEXT };
      record.status = 200;
      if ('error' in response) throw scriptedError(response.error, valid.model, key, response);
      await (valid.stream === true ? this.stream(valid, response, res) : this.complete(valid, response, res));
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      record.status = err.status;
      sendJSON(res, err.status, err.body, { ...this.baseHeaders(), ...err.headers });
    }
  }

  private completionOf(body: FakeChatCompletionBody, response: FakeChatResponse): Completion {
    let text = '';
    let toolCalls: Completion['toolCalls'] = [];
    let finishReason: FakeFinishReason = 'stop';
    let usage: FakeUsage | undefined;
    if ('toolCalls' in response) {
      text = response.text ?? '';
      toolCalls = response.toolCalls.map((call) => ({
        id: call.id ?? `call_${randomString(this.random, 24)}`,
        name: call.name,
        arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
      }));
      finishReason = response.finishReason ?? 'tool_calls';
      usage = response.usage;
    } else if ('text' in response && typeof response.text === 'string') {
      text = response.text;
      if ('finishReason' in response && response.finishReason !== undefined) finishReason = response.finishReason;
      if ('usage' in response) usage = response.usage;
    }
    const promptTokens = usage?.promptTokens ?? body.messages.reduce((n, m) => n + 4 + estimateTokens(JSON.stringify(m.content ?? '')), 3);
    const completionTokens =
      usage?.completionTokens ?? estimateTokens(text + toolCalls.map((c) => c.name + c.arguments).join(''));
    return {
      text,
      toolCalls,
      finishReason,
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
        prompt_tokens_details: { cached_tokens: usage?.cachedTokens ?? 0, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      },
    };
  }

  private identity(model: string): { id: string; created: number; model: string; system_fingerprint: string } {
    return {
      id: `chatcmpl-${randomString(this.random, 29)}`,
      created: Math.floor(Date.now() / 1000),
      model,
      system_fingerprint: `fp_${randomString(this.random, 10, '0123456789abcdef')}`,
    };
  }

  private async complete(body: FakeChatCompletionBody, response: FakeChatResponse, res: ServerResponse): Promise<void> {
    if ('stall' in response) {
      await new Promise((resolve) => res.once('close', resolve));
      return;
    }
    if ('dropAfterChunks' in response) {
      res.socket?.destroy();
      return;
    }
    if ('inBandError' in response || 'chunks' in response) {
      throw scriptedError(500, body.model, '', {});
    }
    const completion = this.completionOf(body, response);
    const { id, created, model, system_fingerprint } = this.identity(body.model);
    const message: Record<string, unknown> = {
      role: 'assistant',
      content: completion.text === '' && completion.toolCalls.length > 0 ? null : completion.text,
      refusal: null,
      annotations: [],
    };
    if (completion.toolCalls.length > 0) {
      message.tool_calls = completion.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
    }
    sendJSON(
      res,
      200,
      {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: completion.finishReason }],
        usage: completion.usage,
        service_tier: 'default',
        system_fingerprint,
      },
      this.baseHeaders(),
    );
  }

  private async stream(body: FakeChatCompletionBody, response: FakeChatResponse, res: ServerResponse): Promise<void> {
    const writer = new SSEWriter(res, { random: this.random, eventDelayMs: this.options.eventDelayMs });
    writer.open(this.baseHeaders(), 'text/event-stream; charset=utf-8');
    if ('stall' in response) {
      await writer.waitForClose();
      return;
    }
    const includeUsage = body.stream_options?.include_usage === true;
    const obfuscate = body.stream_options?.include_obfuscation !== false;
    const { id, created, model, system_fingerprint } = this.identity(body.model);
    const chunk = (choices: unknown[], usage?: object): Record<string, unknown> => {
      const out: Record<string, unknown> = { id, object: 'chat.completion.chunk', created, model, service_tier: 'default', system_fingerprint, choices };
      if (includeUsage) out.usage = usage ?? null;
      // Random padding so chunk sizes do not leak token lengths; clients must ignore it.
      if (obfuscate && choices.length > 0) out.obfuscation = randomString(this.random, 1 + Math.floor(this.random() * 12));
      return out;
    };
    const delta = (d: object, finishReason: string | null = null): Record<string, unknown> =>
      chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finishReason }]);

    let sent = 0;
    const dropAfter = 'dropAfterChunks' in response ? response.dropAfterChunks : Infinity;
    const send = async (data: unknown): Promise<boolean> => {
      if (sent >= dropAfter) {
        writer.destroy();
        return false;
      }
      if (this.options.keepAliveComments === true && this.random() < 0.3 && !(await writer.comment('OPENROUTER PROCESSING'))) return false;
      sent += 1;
      return writer.send({ data });
    };

    if ('chunks' in response) {
      for (const data of response.chunks) if (!(await send(data))) return;
      if (response.done !== false && !(await send('[DONE]'))) return;
      writer.end();
      return;
    }
    if ('inBandError' in response) {
      if (!(await send(delta({ role: 'assistant', content: '', refusal: null })))) return;
      for (const piece of pieces(response.text ?? '', this.random)) if (!(await send(delta({ content: piece })))) return;
      const error = {
        message: response.message ?? 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        param: null,
        code: null,
      };
      if (!(await send({ error }))) return;
      writer.end();
      return;
    }

    const completion = this.completionOf(body, 'dropAfterChunks' in response ? { text: response.text ?? DEFAULT_TEXT } : response);
    const chunkSize = 'chunkSize' in response ? response.chunkSize : undefined;
    const whole = 'style' in response && response.style === 'whole';
    const events: object[] = [];
    if (completion.text !== '' || completion.toolCalls.length === 0) {
      events.push(delta({ role: 'assistant', content: '', refusal: null }));
      for (const piece of pieces(completion.text, this.random, chunkSize)) events.push(delta({ content: piece }));
    }
    completion.toolCalls.forEach((call, index) => {
      const first = { index, id: call.id, type: 'function', function: { name: call.name, arguments: whole ? call.arguments : '' } };
      // With no text before it, the first tool-call delta also carries the role.
      events.push(delta(events.length === 0 ? { role: 'assistant', content: null, tool_calls: [first], refusal: null } : { tool_calls: [first] }));
      if (whole) return;
      for (const fragment of pieces(call.arguments, this.random)) events.push(delta({ tool_calls: [{ index, function: { arguments: fragment } }] }));
    });
    events.push(delta({}, completion.finishReason));
    if (includeUsage) events.push(chunk([], completion.usage));
    for (const event of events) if (!(await send(event))) return;
    // A scripted drop happens even when the answer had fewer events than asked: the stream never completes.
    if (dropAfter !== Infinity) {
      writer.destroy();
      return;
    }
    if (!(await send('[DONE]'))) return;
    writer.end();
  }
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeOpenAIChat(options: FakeOpenAIChatOptions = {}): Promise<FakeOpenAIChat> {
  const fake = new FakeServer(options);
  const server = createServer((req, res) => {
    fake.handle(req, res).catch(() => {
      // A bug in the fake must fail the client's request, not the test process.
      if (!res.headersSent) sendJSON(res, 500, { error: { message: 'fake server failure', type: 'server_error', param: null, code: null } });
      else res.socket?.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    port,
    requests: fake.requests,
    respondWith: (handler) => fake.respondWith(handler),
    enqueue: (...responses) => fake.enqueue(responses),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
