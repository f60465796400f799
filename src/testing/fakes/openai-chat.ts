// A local stand-in for the OpenAI Chat Completions API (and the OpenAI-compatible providers), speaking its wire
// protocol over a real HTTP socket so that the production client, the official `openai` SDK included, is what
// gets tested. It checks requests as strictly as the real service (auth, required fields, tool-call ordering)
// and streams like it: role delta, content or tool-call argument fragments, finish chunk, optional usage chunk,
// `[DONE]`, every event cut at random byte offsets. Failures are scriptable: HTTP errors with the real bodies,
// dropped connections, stalls, in-band errors.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerKey, isAcceptedKey } from './auth.js';
import { isRecord, parseJSONBody, requestPath, startFakeHttpServer, untilClosed } from './http.js';
import { ResponseScript, estimateTokens, textPieces } from './llm.js';
import {
  OpenAIRequestError as RequestError,
  checkKey,
  commonError,
  incorrectKey,
  invalid,
  invalidURL,
  modelNotFound,
  modelNotFoundBody,
  openAIHeaders,
  scriptedErrorHeaders,
  sendFakeFailure,
  sendOpenAIError,
  typeName,
} from './openai-errors.js';
import { randomString, readBody, recordHeaders, sendJSON, SSEWriter } from './sse.js';
import { createSeededRandom } from '../random.js';

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

/**
 * How an OpenAI-compatible vendor departs from OpenAI on the wire, so one fake reproduces each preset's quirks. The
 * default is OpenAI's own behaviour.
 */
export interface FakeChatDialect {
  /** The API root's path. Default '/v1' (Perplexity: '', Fireworks: '/inference/v1', DashScope: '/compatible-mode/v1'). */
  pathPrefix?: string;
  /** Where the key travels: `Authorization: Bearer` (default), or Azure's `api-key` header. */
  keyHeader?: 'authorization' | 'api-key';
  /** Query parameters every request must carry (Azure's `api-version`); a request without them gets 404. */
  requiredQuery?: Readonly<Record<string, string>>;
  /** Body fields the vendor refuses with 422 `extra_forbidden` (Mistral: `stream_options`, `max_completion_tokens`). */
  forbiddenFields?: readonly string[];
  /** Usage on the last chunk even when `stream_options.include_usage` was not asked (Mistral does so). */
  alwaysUsage?: boolean;
}

export interface FakeOpenAIChatOptions {
  /** The vendor's departures from OpenAI's protocol. Default: none. */
  dialect?: FakeChatDialect;
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

function scriptedError(
  status: FakeErrorStatus,
  model: string,
  key: string,
  response: { retryAfter?: number; shouldRetry?: boolean; message?: string },
): RequestError {
  switch (status) {
    case 400: {
      const message =
        response.message ??
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.";
      const body = { error: { message, type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } };
      return new RequestError(status, body, scriptedErrorHeaders({}, response));
    }
    case 401:
      return incorrectKey(key);
    case 404:
      return new RequestError(status, modelNotFoundBody(model, response.message), scriptedErrorHeaders({}, response));
    default: {
      const { body, headers } = commonError(status, model, response);
      if (status === 429) {
        Object.assign(headers, { 'x-ratelimit-limit-tokens': '40000', 'x-ratelimit-remaining-tokens': '39000', 'x-ratelimit-reset-tokens': '1.5s' });
      }
      return new RequestError(status, body, scriptedErrorHeaders(headers, response));
    }
  }
}

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'];
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** A value as OpenAI quotes it in error messages. */
function shown(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined';
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
  if (models !== undefined && !models.includes(body.model)) throw modelNotFound(body.model);
  return body as FakeChatCompletionBody;
}

interface Completion {
  text: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason: FakeFinishReason;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details: object; completion_tokens_details: object };
}

class FakeServer {
  readonly requests: FakeOpenAIChatRequest[] = [];
  readonly script = new ResponseScript<FakeChatCompletionBody, FakeOpenAIChatRequest, FakeChatResponse>();
  readonly random: () => number;

  constructor(private readonly options: FakeOpenAIChatOptions) {
    this.random = createSeededRandom(options.seed ?? 1);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = requestPath(req);
    const dialect = this.options.dialect ?? {};
    const apiKeyHeader = req.headers['api-key'];
    const authorization = dialect.keyHeader === 'api-key' ? (typeof apiKeyHeader === 'string' ? apiKeyHeader : undefined) : req.headers.authorization;
    const key = dialect.keyHeader === 'api-key' ? (authorization ?? '') : bearerKey(authorization);
    const keyValid = isAcceptedKey(key, this.options);
    const raw = await readBody(req);
    const { body, parsed } = parseJSONBody(raw);
    const record: FakeOpenAIChatRequest = {
      method: req.method ?? 'GET',
      path,
      headers: recordHeaders(req, ['authorization', 'api-key']),
      auth: { present: authorization !== undefined, valid: keyValid },
      body,
    };
    this.requests.push(record);

    try {
      const query = new URL(req.url ?? '/', 'http://fake').searchParams;
      const queryMissing = Object.entries(dialect.requiredQuery ?? {}).some(([name, value]) => query.get(name) !== value);
      if (req.method !== 'POST' || path !== `${dialect.pathPrefix ?? '/v1'}/chat/completions` || queryMissing) {
        throw invalidURL(req.method, path);
      }
      checkKey(key, keyValid);
      const forbidden = (dialect.forbiddenFields ?? []).find((field) => isRecord(body) && body[field] !== undefined);
      if (forbidden !== undefined) throw new RequestError(422, { error: { message: `Extra inputs are not permitted: ${forbidden}`, type: 'invalid_request_error', param: forbidden, code: 'extra_forbidden' } });
      if (!parsed) {
        throw invalid(
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP " +
            'library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you ' +
            'have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)',
        );
      }
      const valid = validateBody(body, this.options.models);
      const response = await this.script.next(valid, record, this.options.defaultResponse ?? { text: DEFAULT_TEXT });
      record.status = 200;
      if ('error' in response) throw scriptedError(response.error, valid.model, key, response);
      await (valid.stream === true ? this.stream(valid, response, res) : this.complete(valid, response, res));
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      record.status = err.status;
      sendOpenAIError(res, err, this.random);
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
      await untilClosed(res);
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
      openAIHeaders(this.random),
    );
  }

  private async stream(body: FakeChatCompletionBody, response: FakeChatResponse, res: ServerResponse): Promise<void> {
    const writer = new SSEWriter(res, { random: this.random, eventDelayMs: this.options.eventDelayMs });
    writer.open(openAIHeaders(this.random), 'text/event-stream; charset=utf-8');
    if ('stall' in response) {
      await writer.waitForClose();
      return;
    }
    const includeUsage = body.stream_options?.include_usage === true || this.options.dialect?.alwaysUsage === true;
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
      for (const piece of textPieces(response.text ?? '', this.random)) if (!(await send(delta({ content: piece })))) return;
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
      for (const piece of textPieces(completion.text, this.random, chunkSize)) events.push(delta({ content: piece }));
    }
    completion.toolCalls.forEach((call, index) => {
      const first = { index, id: call.id, type: 'function', function: { name: call.name, arguments: whole ? call.arguments : '' } };
      // With no text before it, the first tool-call delta also carries the role.
      events.push(delta(events.length === 0 ? { role: 'assistant', content: null, tool_calls: [first], refusal: null } : { tool_calls: [first] }));
      if (whole) return;
      for (const fragment of textPieces(call.arguments, this.random)) events.push(delta({ tool_calls: [{ index, function: { arguments: fragment } }] }));
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
  const { port, close } = await startFakeHttpServer((req, res) => fake.handle(req, res), sendFakeFailure);
  return {
    baseURL: `http://127.0.0.1:${port}${options.dialect?.pathPrefix ?? '/v1'}`,
    port,
    requests: fake.requests,
    respondWith: (handler) => fake.script.respondWith(handler),
    enqueue: (...responses) => fake.script.enqueue(responses),
    close,
  };
}
