// Provider-neutral messages and tools in the Gemini `generateContent` request shape: roles `user` and `model`,
// the system prompt in `systemInstruction`, tool calls as `functionCall` parts with object arguments, tool
// results as `functionResponse` parts (whose `response` must be an object) in a user turn. Consecutive turns of
// one role are merged so that the results of parallel calls travel together, as Gemini expects.
import type { JSONSchema, LLMMessage, LLMToolDefinition } from '../../frames/index.js';
import { isJSONObject, parseJSON, parseToolArguments, type JSONObject } from './parse.js';

export interface GeminiTextPart {
  text: string;
}

export interface GeminiFunctionCallPart {
  functionCall: { name: string; args: JSONObject };
}

export interface GeminiFunctionResponsePart {
  functionResponse: { name: string; response: JSONObject };
}

export type GeminiPart = GeminiTextPart | GeminiFunctionCallPart | GeminiFunctionResponsePart;

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiRequest {
  systemInstruction?: { parts: [GeminiTextPart] };
  contents: GeminiContent[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  description: string;
  /** Absent when the tool takes no arguments: Gemini rejects an object schema with no properties. */
  parameters?: JSONSchema;
}

export interface GeminiToolParam {
  functionDeclarations: GeminiFunctionDeclaration[];
}

/** A tool result as the object Gemini requires: JSON objects as they are, anything else under `result`. */
function toResponseObject(content: string): JSONObject {
  const parsed = parseJSON(content);
  if (isJSONObject(parsed)) return parsed;
  return { result: parsed === undefined ? content : parsed };
}

function partsOf(message: LLMMessage): GeminiPart[] {
  switch (message.role) {
    case 'system':
      return [];
    case 'user':
      return message.content === '' ? [] : [{ text: message.content }];
    case 'assistant': {
      const parts: GeminiPart[] = message.content === '' ? [] : [{ text: message.content }];
      for (const call of message.toolCalls ?? []) {
        parts.push({ functionCall: { name: call.name, args: parseToolArguments(call.arguments) } });
      }
      return parts;
    }
    case 'tool':
      return [{ functionResponse: { name: message.name, response: toResponseObject(message.content) } }];
  }
}

export function toGeminiRequest(messages: readonly LLMMessage[]): GeminiRequest {
  const system: string[] = [];
  const contents: GeminiContent[] = [];
  for (const message of messages) {
    if (message.role === 'system') {
      if (message.content !== '') system.push(message.content);
      continue;
    }
    const parts = partsOf(message);
    if (parts.length === 0) continue;
    const role = message.role === 'assistant' ? 'model' : 'user';
    const last = contents.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  }
  const request: GeminiRequest = { contents };
  if (system.length > 0) request.systemInstruction = { parts: [{ text: system.join('\n\n') }] };
  return request;
}

/** JSON Schema keywords Gemini's schema subset (OpenAPI 3.0 flavoured) rejects in function parameters. */
const GEMINI_UNSUPPORTED_KEYWORDS = new Set([
  '$schema',
  '$id',
  '$comment',
  'additionalProperties',
  'unevaluatedProperties',
  'patternProperties',
  'examples',
]);

/** Keywords whose value is a map of name -> schema. */
const SCHEMA_MAP_KEYWORDS = new Set(['properties']);
/** Keywords with no Gemini equivalent: removed (see toGeminiSchema). */
const GEMINI_DROPPED_KEYWORDS = new Set(['not', '$ref', '$defs', 'definitions']);
/** Keywords whose value is a schema or a list of schemas. */
const SUBSCHEMA_KEYWORDS = new Set(['items']);

function cleanSubschema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cleanSubschema);
  return isJSONObject(value) ? toGeminiSchema(value) : value;
}

/**
 * A JSON Schema in the subset Gemini accepts, at every nesting level. Only schema positions are walked, so a
 * property that happens to be named `additionalProperties` survives. Rewrites rather than drops where the
 * meaning can be kept (zod emits these for `.nullable()` and unions, and Gemini answers 400 to them):
 * - `const` becomes a one-value `enum`;
 * - `type: [T, "null"]` becomes `type: T, nullable: true`; several types become `anyOf`;
 * - `anyOf`/`oneOf` members `{ type: "null" }` become `nullable: true` (a single remaining member is inlined);
 *   `oneOf` becomes `anyOf`; `allOf` members are merged into the schema;
 * - `not`, `$ref`, `$defs` and `definitions` have no Gemini equivalent and are removed.
 */
export function toGeminiSchema(schema: JSONSchema): JSONObject {
  let out: JSONObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (GEMINI_UNSUPPORTED_KEYWORDS.has(key) || GEMINI_DROPPED_KEYWORDS.has(key)) continue;
    if (key === 'const') {
      if (!('enum' in schema)) out.enum = [value];
    } else if (key === 'type' && Array.isArray(value)) {
      const types = value.filter((t): t is string => typeof t === 'string' && t !== 'null');
      if (value.includes('null')) out.nullable = true;
      if (types.length === 1) out.type = types[0]!;
      else if (types.length > 1) out.anyOf = types.map((t) => ({ type: t }));
    } else if ((key === 'anyOf' || key === 'oneOf') && Array.isArray(value)) {
      const members = value.filter((m) => !(isJSONObject(m) && m.type === 'null' && Object.keys(m).length === 1));
      if (members.length !== value.length) out.nullable = true;
      const cleaned = members.map(cleanSubschema);
      if (cleaned.length === 1 && isJSONObject(cleaned[0])) out = { ...cleaned[0], ...out };
      else if (cleaned.length > 1) out.anyOf = cleaned;
    } else if (key === 'allOf' && Array.isArray(value)) {
      for (const member of value.map(cleanSubschema)) {
        if (!isJSONObject(member)) continue;
        const properties = { ...(isJSONObject(out.properties) ? out.properties : {}), ...(isJSONObject(member.properties) ? member.properties : {}) };
        out = { ...out, ...member };
        if (Object.keys(properties).length > 0) out.properties = properties;
      }
    } else if (SCHEMA_MAP_KEYWORDS.has(key) && isJSONObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, cleanSubschema(sub)]));
    } else if (SUBSCHEMA_KEYWORDS.has(key)) {
      out[key] = cleanSubschema(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function hasNoProperties(schema: JSONSchema): boolean {
  const properties = schema.properties;
  return schema.type === 'object' && (!isJSONObject(properties) || Object.keys(properties).length === 0);
}

export function toGeminiTools(tools: readonly LLMToolDefinition[]): GeminiToolParam[] {
  if (tools.length === 0) return [];
  return [
    {
      functionDeclarations: tools.map((tool) =>
        hasNoProperties(tool.parameters)
          ? { name: tool.name, description: tool.description }
          : { name: tool.name, description: tool.description, parameters: toGeminiSchema(tool.parameters) },
      ),
    },
  ];
}
