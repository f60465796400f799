// A local stand-in for the Gemini API (`generativelanguage.googleapis.com/v1beta`), speaking its wire protocol
// over a real HTTP socket so that the production client is what gets tested. It checks requests as strictly as
// the real service: the key (`x-goog-api-key` header or `?key=`), `user`/`model` roles, non-empty parts, a
// function response turn right after its function call turn with as many parts, function declarations in
// Gemini's OpenAPI-flavoured schema subset (JSON Schema keywords such as `additionalProperties` or `$schema` are
// rejected as unknown fields, as the real API does), and answers with Google's `{"error":{code,message,status}}`
// bodies. It streams like the real service: with `alt=sse`, one `data:` line per GenerateContentResponse,
// CRLF line ends, no end marker (the body just ends), the finish reason and the final usage on the last event;
// without `alt=sse`, one JSON array written piece by piece. Every write is split at random byte offsets.
// Failures are scriptable: HTTP errors, blocked prompts, an in-stream error, a dropped connection, a stall.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { bearerCredentials, isAcceptedKey } from './auth.js';
import { isRecord, parseJSONBody, recordQuery, startFakeHttpServer, untilClosed } from './http.js';
import { ResponseScript, estimateTokens, textPieces } from './llm.js';
import { randomString, readBody, recordHeaders, sendJSON, SSEWriter } from './sse.js';
import { createSeededRandom } from '../random.js';

export interface FakeGeminiUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
}

export interface FakeFunctionCall {
  name: string;
  args?: object;
  /** Sent as `functionCall.id` (newer models send one). */
  id?: string;
}

export type FakeGeminiFinishReason = 'STOP' | 'MAX_TOKENS' | 'SAFETY' | 'RECITATION' | 'MALFORMED_FUNCTION_CALL' | 'OTHER';

export type FakeGeminiErrorStatus = 400 | 403 | 404 | 429 | 500 | 503;

export type FakeGeminiBlockReason = 'SAFETY' | 'OTHER' | 'BLOCKLIST' | 'PROHIBITED_CONTENT';

export type FakeGeminiResponse =
  /** A text answer in pieces of `chunkSize` characters (random 1-24 when absent). */
  | { text: string; chunkSize?: number; finishReason?: FakeGeminiFinishReason; usage?: FakeGeminiUsage }
  /** Function calls (several = several parts of one event), optionally after some text. */
  | { functionCalls: readonly FakeFunctionCall[]; text?: string; usage?: FakeGeminiUsage; thoughtSignatures?: boolean }
  /** An HTTP error with Google's body for that status; 429 carries a RetryInfo of `retryDelaySecs` (default 30). */
  | { error: FakeGeminiErrorStatus; message?: string; retryDelaySecs?: number }
  /** A 200 whose only event says the prompt was blocked. */
  | { blockReason: FakeGeminiBlockReason }
  /** Streams `text` (if any), then an `{"error": ...}` event, then ends. */
  | { inStreamError: true; text?: string; message?: string }
  /** Streams a text answer and destroys the socket after `dropAfterChunks` events (before the last one at the latest). */
  | { dropAfterChunks: number; text?: string }
  /** Sends the 200 and the headers, then nothing until the client goes away. */
  | { stall: true }
  /** Raw GenerateContentResponse objects, one per event. */
  | { chunks: readonly unknown[] };

/** What the fake recorded of one HTTP request. The API key itself is never stored. */
export interface FakeGeminiRequest {
  readonly method: string;
  readonly path: string;
  /** The query parameters, `key` replaced by `[redacted]`. */
  readonly query: Readonly<Record<string, string>>;
  /** Lower-case header names; `x-goog-api-key` is replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  /** Where the key came from, and whether it was accepted. */
  readonly auth: { readonly present: boolean; readonly valid: boolean; readonly via?: 'header' | 'query' | 'bearer' };
  /** Vertex AI requests: the project and location named in the path. */
  readonly vertex?: { readonly project: string; readonly location: string };
  /** The model named in the path. */
  readonly model?: string;
  /** The parsed JSON body, or undefined when it was not JSON. */
  readonly body: unknown;
  status?: number;
}

export interface FakeGeminiPart {
  readonly text?: string;
  readonly functionCall?: { readonly name: string; readonly args?: Readonly<Record<string, unknown>>; readonly id?: string };
  readonly functionResponse?: { readonly name: string; readonly response: Readonly<Record<string, unknown>>; readonly id?: string };
  readonly [key: string]: unknown;
}

/** A request body that passed validation. */
export interface FakeGeminiBody {
  readonly contents: readonly { readonly role: 'user' | 'model'; readonly parts: readonly FakeGeminiPart[] }[];
  readonly systemInstruction?: unknown;
  readonly tools?: readonly Readonly<Record<string, unknown>>[];
  readonly generationConfig?: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

export type FakeGeminiHandler = (body: FakeGeminiBody, request: FakeGeminiRequest) => FakeGeminiResponse | Promise<FakeGeminiResponse>;

export interface FakeGeminiOptions {
  /** Answer 400 API_KEY_INVALID for this key (any other non-empty key is accepted). */
  rejectKey?: string;
  /** Accept only this key. */
  requireKey?: string;
  defaultResponse?: FakeGeminiResponse;
  /** When set, other models get 404 NOT_FOUND. */
  models?: readonly string[];
  /** Seed of the write splits and sizes. Default 1. */
  seed?: number;
  /** Pause between events in ms. Default 0 (one event-loop turn). */
  eventDelayMs?: number;
}

export interface FakeGemini {
  /** e.g. `http://127.0.0.1:54321/v1beta`, to pass as the client's base URL. */
  readonly baseURL: string;
  /** e.g. `http://127.0.0.1:54321`: Vertex AI's base URL (its path starts `/v1/projects/...`). */
  readonly origin: string;
  readonly port: number;
  readonly requests: readonly FakeGeminiRequest[];
  respondWith(handler: FakeGeminiHandler): void;
  enqueue(...responses: FakeGeminiResponse[]): void;
  close(): Promise<void>;
}

const DEFAULT_TEXT = 'Hello from the fake Gemini server.';
const GEMINI_PATH = /^\/v1beta\/models\/([^/:]+):(streamGenerateContent|generateContent)$/;
const VERTEX_PATH = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/:]+):(streamGenerateContent|generateContent)$/;
const MODEL_VERSION = 'gemini-2.5-flash';

const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

const DEFAULT_MESSAGES: Readonly<Record<FakeGeminiErrorStatus, string>> = {
  400: 'Request contains an invalid argument.',
  403: 'The caller does not have permission',
  404: 'Requested entity was not found.',
  429: 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
};

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: readonly object[] = [],
  ) {
    super(message);
  }

  body(): object {
    const error: Record<string, unknown> = { code: this.status, message: this.message, status: STATUS_NAMES[this.status] ?? 'UNKNOWN' };
    if (this.details.length > 0) error.details = this.details;
    return { error };
  }
}

function invalid(message: string): RequestError {
  return new RequestError(400, message);
}

function unknownField(name: string, at?: string): RequestError {
  return invalid(`Invalid JSON payload received. Unknown name "${name}"${at === undefined ? '' : ` at '${at}'`}: Cannot find field.`);
}

/** Proto JSON accepts both spellings of every field name. */
function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function field(record: Record<string, unknown>, name: string): unknown {
  return record[name] ?? record[name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
}

function checkFields(record: Record<string, unknown>, allowed: ReadonlySet<string>, at?: string): void {
  for (const key of Object.keys(record)) if (!allowed.has(camel(key))) throw unknownField(key, at);
}

// ---- validation ----------------------------------------------------------------------------------------------

const BODY_FIELDS = new Set(['contents', 'systemInstruction', 'tools', 'toolConfig', 'safetySettings', 'generationConfig', 'cachedContent', 'labels']);
const PART_FIELDS = new Set(['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult', 'thought', 'thoughtSignature', 'videoMetadata']);
const PART_DATA_FIELDS = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult'];
/** The fields of Gemini's Schema object: everything else in a function declaration is an unknown field. */
const SCHEMA_FIELDS = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties', 'required',
  'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'anyOf', 'propertyOrdering',
  'default', 'items', 'minimum', 'maximum',
]);
const SCHEMA_TYPES = new Set(['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL']);
const GENERATION_FIELDS = new Set([
  'stopSequences', 'responseMimeType', 'responseSchema', 'responseJsonSchema', 'responseModalities', 'candidateCount',
  'maxOutputTokens', 'temperature', 'topP', 'topK', 'seed', 'presencePenalty', 'frequencyPenalty', 'responseLogprobs',
  'logprobs', 'enableEnhancedCivicAnswers', 'speechConfig', 'thinkingConfig', 'mediaResolution',
]);
const FUNCTION_NAME = /^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$/;

function validateSchema(schema: unknown, at: string): void {
  if (!isRecord(schema)) throw invalid(`Invalid value at '${at}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Schema), ${JSON.stringify(schema)}`);
  checkFields(schema, SCHEMA_FIELDS, at);
  const type = schema.type;
  if (Array.isArray(type)) throw invalid(`Invalid JSON payload received. Proto field is not repeating, cannot start list. at '${at}.type'`);
  if (type !== undefined && (typeof type !== 'string' || !SCHEMA_TYPES.has(type.toUpperCase()))) {
    throw invalid(`Invalid value at '${at}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), ${JSON.stringify(type)}`);
  }
  const properties = schema.properties;
  if (typeof type === 'string' && type.toUpperCase() === 'OBJECT' && (!isRecord(properties) || Object.keys(properties).length === 0)) {
    throw invalid(`* GenerateContentRequest.${at}.properties: should be non-empty for OBJECT type\n`);
  }
  if (isRecord(properties)) Object.values(properties).forEach((sub, i) => validateSchema(sub, `${at}.properties[${i}].value`));
  if (Array.isArray(schema.required)) {
    schema.required.forEach((name, i) => {
      if (typeof name !== 'string' || !isRecord(properties) || !(name in properties)) {
        throw invalid(`* GenerateContentRequest.${at}.required[${i}]: property is not defined\n`);
      }
    });
  }
  if (schema.items !== undefined) validateSchema(schema.items, `${at}.items`);
  const anyOf = field(schema, 'anyOf');
  if (Array.isArray(anyOf)) anyOf.forEach((sub, i) => validateSchema(sub, `${at}.any_of[${i}]`));
}

function validateTools(tools: unknown): Set<string> {
  const names = new Set<string>();
  if (tools === undefined) return names;
  if (!Array.isArray(tools)) throw invalid(`Invalid value at 'tools' (type.googleapis.com/google.ai.generativelanguage.v1beta.Tool), ${JSON.stringify(tools)}`);
  tools.forEach((tool, t) => {
    if (!isRecord(tool)) throw invalid(`Invalid value at 'tools[${t}]'`);
    checkFields(tool, new Set(['functionDeclarations', 'googleSearch', 'googleSearchRetrieval', 'codeExecution', 'urlContext']), `tools[${t}]`);
    const declarations = field(tool, 'functionDeclarations');
    if (declarations === undefined) return;
    if (!Array.isArray(declarations)) throw invalid(`Invalid value at 'tools[${t}].function_declarations'`);
    declarations.forEach((declaration, d) => {
      const at = `tools[${t}].function_declarations[${d}]`;
      if (!isRecord(declaration)) throw invalid(`Invalid value at '${at}'`);
      checkFields(declaration, new Set(['name', 'description', 'parameters', 'parametersJsonSchema', 'response', 'responseJsonSchema', 'behavior']), at);
      if (typeof declaration.name !== 'string' || !FUNCTION_NAME.test(declaration.name)) {
        throw invalid(
          `* GenerateContentRequest.${at}.name: Invalid function name. Must start with a letter or an underscore. Must be alphameric ` +
            '(a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 64.\n',
        );
      }
      names.add(declaration.name);
      if (declaration.parameters !== undefined) validateSchema(declaration.parameters, `${at}.parameters`);
    });
  });
  return names;
}

function validateContents(value: unknown): void {
  if (!Array.isArray(value) || value.length === 0) throw invalid('* GenerateContentRequest.contents: contents is not specified\n');
  const turns = value.map((content, i) => {
    const at = `contents[${i}]`;
    if (!isRecord(content)) throw invalid(`Invalid value at '${at}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content)`);
    checkFields(content, new Set(['role', 'parts']), at);
    if (content.role !== 'user' && content.role !== 'model') throw invalid('Please use a valid role: user, model.');
    if (!Array.isArray(content.parts) || content.parts.length === 0) {
      throw invalid(`* GenerateContentRequest.${at}.parts: contents.parts must not be empty.\n`);
    }
    let calls = 0;
    let responses = 0;
    content.parts.forEach((part, j) => {
      const partAt = `${at}.parts[${j}]`;
      if (!isRecord(part)) throw invalid(`Invalid value at '${partAt}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Part)`);
      checkFields(part, PART_FIELDS, partAt);
      const data = PART_DATA_FIELDS.filter((name) => field(part, name) !== undefined);
      if (data.length !== 1) {
        throw invalid(`* GenerateContentRequest.${partAt}.data: required oneof field 'data' must have one initialized field\n`);
      }
      const call = field(part, 'functionCall');
      if (call !== undefined) {
        if (!isRecord(call) || typeof call.name !== 'string' || call.name === '') throw invalid(`* GenerateContentRequest.${partAt}.function_call.name: Name cannot be empty.\n`);
        if (call.args !== undefined && !isRecord(call.args)) {
          throw invalid(`Invalid value at '${partAt}.function_call.args' (type.googleapis.com/google.protobuf.Struct), ${JSON.stringify(call.args)}`);
        }
        calls += 1;
      }
      const response = field(part, 'functionResponse');
      if (response !== undefined) {
        if (!isRecord(response) || typeof response.name !== 'string' || response.name === '') {
          throw invalid(`* GenerateContentRequest.${partAt}.function_response.name: Name cannot be empty.\n`);
        }
        if (!isRecord(response.response)) {
          throw invalid(`Invalid value at '${partAt}.function_response.response' (type.googleapis.com/google.protobuf.Struct), ${JSON.stringify(response.response)}`);
        }
        responses += 1;
      }
      const text = part.text;
      if (text !== undefined && typeof text !== 'string') throw invalid(`Invalid value at '${partAt}.text' (TYPE_STRING), ${JSON.stringify(text)}`);
    });
    return { role: content.role, calls, responses };
  });
  turns.forEach((turn, i) => {
    const previous = turns[i - 1];
    if (turn.calls > 0 && (turn.role !== 'model' || previous === undefined || previous.role !== 'user')) {
      throw invalid('Please ensure that function call turn comes immediately after a user turn or after a function response turn.');
    }
    if (turn.responses > 0) {
      if (previous === undefined || previous.calls === 0) {
        throw invalid('Please ensure that function response turn comes immediately after a function call turn.');
      }
      if (previous.calls !== turn.responses) {
        throw invalid('Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.');
      }
    }
  });
}

function validateGenerationConfig(config: unknown): void {
  if (config === undefined) return;
  if (!isRecord(config)) throw invalid("Invalid value at 'generation_config'");
  checkFields(config, GENERATION_FIELDS, 'generation_config');
  const temperature = config.temperature;
  if (temperature !== undefined && (typeof temperature !== 'number' || temperature < 0 || temperature > 2)) {
    throw invalid('* GenerateContentRequest.generation_config.temperature: temperature must be in the range [0.0, 2.0]\n');
  }
  const maxOutputTokens = field(config, 'maxOutputTokens');
  if (maxOutputTokens !== undefined && (typeof maxOutputTokens !== 'number' || !Number.isInteger(maxOutputTokens) || maxOutputTokens < 1)) {
    throw invalid(`Invalid value at 'generation_config.max_output_tokens' (TYPE_INT32), ${JSON.stringify(maxOutputTokens)}`);
  }
  const thinking = field(config, 'thinkingConfig');
  if (thinking !== undefined) {
    if (!isRecord(thinking)) throw invalid("Invalid value at 'generation_config.thinking_config'");
    checkFields(thinking, new Set(['thinkingBudget', 'includeThoughts', 'thinkingLevel']), 'generation_config.thinking_config');
  }
}

function validateToolConfig(config: unknown, names: ReadonlySet<string>): void {
  if (config === undefined) return;
  if (!isRecord(config)) throw invalid("Invalid value at 'tool_config'");
  const calling = field(config, 'functionCallingConfig');
  if (!isRecord(calling)) return;
  const mode = calling.mode;
  if (mode !== undefined && (typeof mode !== 'string' || !['AUTO', 'ANY', 'NONE', 'VALIDATED', 'MODE_UNSPECIFIED'].includes(mode))) {
    throw invalid(`Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), ${JSON.stringify(mode)}`);
  }
  const allowed = field(calling, 'allowedFunctionNames');
  if (Array.isArray(allowed)) {
    for (const name of allowed) {
      if (typeof name !== 'string' || !names.has(name)) throw invalid(`* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: function ${JSON.stringify(name)} is not declared\n`);
    }
  }
}

function validateBody(body: unknown): FakeGeminiBody {
  if (!isRecord(body)) throw invalid('Invalid JSON payload received. Unexpected token.');
  checkFields(body, BODY_FIELDS);
  validateContents(body.contents);
  const system = field(body, 'systemInstruction');
  if (system !== undefined && (!isRecord(system) || !Array.isArray(system.parts))) {
    throw invalid("Invalid value at 'system_instruction' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content)");
  }
  const names = validateTools(body.tools);
  validateToolConfig(field(body, 'toolConfig'), names);
  validateGenerationConfig(field(body, 'generationConfig'));
  return body as FakeGeminiBody;
}

// ---- answers ---------------------------------------------------------------------------------------------------

type Mode = 'sse' | 'array' | 'single';

class FakeServer {
  readonly requests: FakeGeminiRequest[] = [];
  readonly script = new ResponseScript<FakeGeminiBody, FakeGeminiRequest, FakeGeminiResponse>();
  private readonly random: () => number;

  constructor(private readonly options: FakeGeminiOptions) {
    this.random = createSeededRandom(options.seed ?? 1);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    // The Gemini API path takes an API key; Vertex AI's takes an OAuth bearer token (docs/vendors/google-vertex.md).
    const vertex = VERTEX_PATH.exec(url.pathname);
    const headerKey = req.headers['x-goog-api-key'];
    const queryKey = url.searchParams.get('key');
    const key =
      vertex !== null
        ? (bearerCredentials(req.headers.authorization ?? '') ?? '').trim()
        : (typeof headerKey === 'string' ? headerKey : (queryKey ?? '')).trim();
    const keyValid = isAcceptedKey(key, this.options);
    const match = vertex === null ? GEMINI_PATH.exec(url.pathname) : [vertex[0], vertex[3], vertex[4]];
    const raw = await readBody(req);
    const { body, parsed } = parseJSONBody(raw);
    const query = recordQuery(url.searchParams, ['key']);
    const record: FakeGeminiRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      headers: recordHeaders(req, ['x-goog-api-key', 'authorization']),
      auth: { present: key !== '', valid: keyValid, ...(key === '' ? {} : { via: vertex !== null ? 'bearer' : typeof headerKey === 'string' ? 'header' : 'query' }) },
      ...(match?.[1] === undefined ? {} : { model: decodeURIComponent(match[1]) }),
      ...(vertex === null ? {} : { vertex: { project: decodeURIComponent(vertex[1]!), location: decodeURIComponent(vertex[2]!) } }),
      body,
    };
    this.requests.push(record);

    try {
      if (req.method !== 'POST' || match === null) throw new RequestError(404, `Method not found: ${req.method ?? 'GET'} ${url.pathname}`);
      if (vertex !== null && !keyValid) {
        throw new RequestError(
          401,
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        );
      }
      if (key === '') {
        throw new RequestError(
          403,
          "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        );
      }
      if (!keyValid) {
        throw new RequestError(400, 'API key not valid. Please pass a valid API key.', [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
            metadata: { service: 'generativelanguage.googleapis.com' },
          },
          { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' },
        ]);
      }
      const model = decodeURIComponent(match[1] ?? '');
      if (this.options.models !== undefined && !this.options.models.includes(model)) {
        throw new RequestError(
          404,
          `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`,
        );
      }
      if (!parsed) throw invalid(`Invalid JSON payload received. Unexpected token.\n${raw.toString('utf8').slice(0, 40)}\n^`);
      const valid = validateBody(body);
      const response = await this.script.next(valid, record, this.options.defaultResponse ?? { text: DEFAULT_TEXT });
      if ('error' in response) throw scriptedError(response);
      record.status = 200;
      const mode: Mode = match[2] === 'generateContent' ? 'single' : url.searchParams.get('alt') === 'sse' ? 'sse' : 'array';
      await this.answer(valid, model, response, res, mode);
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      record.status = err.status;
      sendJSON(res, err.status, err.body(), { 'Content-Type': 'application/json; charset=UTF-8' });
    }
  }

  /** The GenerateContentResponse events of an answer, in order. */
  private chunksOf(body: FakeGeminiBody, model: string, response: FakeGeminiResponse): object[] {
    if ('chunks' in response) return response.chunks as object[];
    const promptTokens = estimateTokens(JSON.stringify(body.contents) + JSON.stringify(body.systemInstruction ?? ''));
    const responseId = randomString(this.random, 22);
    const envelope = (extra: object, candidatesTokens: number | undefined, usage?: FakeGeminiUsage): object => {
      const prompt = usage?.promptTokenCount ?? promptTokens;
      const usageMetadata: Record<string, unknown> = {
        promptTokenCount: prompt,
        totalTokenCount: prompt + (candidatesTokens ?? 0) + (usage?.thoughtsTokenCount ?? 0),
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }],
      };
      if (candidatesTokens !== undefined) usageMetadata.candidatesTokenCount = candidatesTokens;
      if (usage?.cachedContentTokenCount !== undefined) usageMetadata.cachedContentTokenCount = usage.cachedContentTokenCount;
      if (usage?.thoughtsTokenCount !== undefined) usageMetadata.thoughtsTokenCount = usage.thoughtsTokenCount;
      return { ...extra, usageMetadata, modelVersion: model.startsWith('gemini') ? model : MODEL_VERSION, responseId };
    };
    const candidate = (parts: object[], finishReason?: string): object => ({
      candidates: [{ content: { parts, role: 'model' }, ...(finishReason === undefined ? {} : { finishReason }), index: 0 }],
    });

    if ('blockReason' in response) {
      return [envelope({ promptFeedback: { blockReason: response.blockReason, safetyRatings: [] } }, undefined)];
    }
    let text = '';
    let calls: FakeFunctionCall[] = [];
    let finishReason: FakeGeminiFinishReason = 'STOP';
    let usage: FakeGeminiUsage | undefined;
    let chunkSize: number | undefined;
    let signatures = false;
    if ('functionCalls' in response) {
      text = response.text ?? '';
      calls = [...response.functionCalls];
      usage = response.usage;
      signatures = response.thoughtSignatures === true;
    } else if ('text' in response && typeof response.text === 'string') {
      text = response.text;
      if ('finishReason' in response && response.finishReason !== undefined) finishReason = response.finishReason;
      if ('usage' in response) usage = response.usage;
      if ('chunkSize' in response) chunkSize = response.chunkSize;
    }
    const pieces = textPieces(text, this.random, chunkSize, 24);
    const totalTokens = usage?.candidatesTokenCount ?? estimateTokens(text + calls.map((c) => c.name + JSON.stringify(c.args ?? {})).join(''));
    const chunks: object[] = [];
    let sentChars = 0;
    pieces.forEach((piece, i) => {
      sentChars += piece.length;
      const last = i === pieces.length - 1 && calls.length === 0;
      const soFar = last ? totalTokens : Math.min(totalTokens, estimateTokens(text.slice(0, sentChars)));
      chunks.push(envelope(candidate([{ text: piece }], last ? finishReason : undefined), soFar, usage));
    });
    if (calls.length > 0) {
      const parts = calls.map((call) => ({
        functionCall: { ...(call.id === undefined ? {} : { id: call.id }), name: call.name, args: call.args ?? {} },
        ...(signatures ? { thoughtSignature: Buffer.from(randomString(this.random, 24)).toString('base64') } : {}),
      }));
      chunks.push(envelope(candidate(parts, finishReason), totalTokens, usage));
    }
    if (chunks.length === 0) chunks.push(envelope(candidate([{ text: '' }], finishReason), totalTokens, usage));
    return chunks;
  }

  private async answer(body: FakeGeminiBody, model: string, response: FakeGeminiResponse, res: ServerResponse, mode: Mode): Promise<void> {
    if (mode === 'single') {
      if ('stall' in response) {
        await untilClosed(res);
        return;
      }
      if ('dropAfterChunks' in response) {
        res.socket?.destroy();
        return;
      }
      if ('inStreamError' in response) throw new RequestError(500, DEFAULT_MESSAGES[500]);
      sendJSON(res, 200, mergeChunks(this.chunksOf(body, model, response)), { 'Content-Type': 'application/json; charset=UTF-8' });
      return;
    }
    const writer = new SSEWriter(res, { random: this.random, eventDelayMs: this.options.eventDelayMs });
    const headers: OutgoingHttpHeaders = { 'x-goog-request-id': randomString(this.random, 16), 'server-timing': 'gfet4t7; dur=412' };
    writer.open(headers, mode === 'sse' ? 'text/event-stream' : 'application/json; charset=UTF-8');
    if ('stall' in response) {
      await writer.waitForClose();
      return;
    }
    let chunks: object[];
    let dropAfter = Infinity;
    if ('dropAfterChunks' in response) {
      chunks = this.chunksOf(body, model, { text: response.text ?? DEFAULT_TEXT, chunkSize: 4 });
      dropAfter = Math.min(response.dropAfterChunks, chunks.length - 1);
    } else if ('inStreamError' in response) {
      chunks = response.text === undefined ? [] : this.chunksOf(body, model, { text: response.text }).slice(0, -1);
      chunks.push({ error: { code: 500, message: response.message ?? DEFAULT_MESSAGES[500], status: 'INTERNAL' } });
    } else {
      chunks = this.chunksOf(body, model, response);
    }
    let first = true;
    for (const [i, chunk] of chunks.entries()) {
      if (i >= dropAfter) {
        writer.destroy();
        return;
      }
      const json = JSON.stringify(chunk);
      // Gemini ends SSE lines with CRLF; the array form puts one element per line.
      const text = mode === 'sse' ? `data: ${json}\r\n\r\n` : `${first ? '[' : ',\r\n'}${json}`;
      first = false;
      if (!(await writer.writeRaw(text))) return;
    }
    if (mode === 'array' && !(await writer.writeRaw(first ? '[]' : ']'))) return;
    writer.end();
  }
}

/** The events of a streamed answer as the one response `generateContent` returns. */
function mergeChunks(chunks: object[]): object {
  const last = (chunks.at(-1) ?? {}) as Record<string, unknown>;
  const parts: unknown[] = [];
  let finishReason: unknown;
  for (const chunk of chunks as { candidates?: { content?: { parts?: unknown[] }; finishReason?: unknown }[] }[]) {
    const candidate = chunk.candidates?.[0];
    parts.push(...(candidate?.content?.parts ?? []));
    if (candidate?.finishReason !== undefined) finishReason = candidate.finishReason;
  }
  if (last.promptFeedback !== undefined) return last;
  return { ...last, candidates: [{ content: { parts, role: 'model' }, finishReason, index: 0 }] };
}

function scriptedError(response: { error: FakeGeminiErrorStatus; message?: string; retryDelaySecs?: number }): RequestError {
  const details: object[] = [];
  if (response.error === 429) {
    details.push(
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier' }],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${response.retryDelaySecs ?? 30}s` },
    );
  }
  return new RequestError(response.error, response.message ?? DEFAULT_MESSAGES[response.error], details);
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeGemini(options: FakeGeminiOptions = {}): Promise<FakeGemini> {
  const fake = new FakeServer(options);
  const { port, close } = await startFakeHttpServer(
    (req, res) => fake.handle(req, res),
    (res) => sendJSON(res, 500, { error: { code: 500, message: 'fake server failure', status: 'INTERNAL' } }),
  );
  return {
    baseURL: `http://127.0.0.1:${port}/v1beta`,
    origin: `http://127.0.0.1:${port}`,
    port,
    requests: fake.requests,
    respondWith: (handler) => fake.script.respondWith(handler),
    enqueue: (...responses) => fake.script.enqueue(responses),
    close,
  };
}
