// Tool parameter schemas for llama.cpp's grammar-constrained generation. node-llama-cpp turns a JSON schema into a
// GBNF grammar, so the model can only write arguments of the right shape; it understands a subset of JSON Schema
// (type, const, enum, oneOf, properties, items, min/maxLength, min/maxItems, additionalProperties) and, unlike JSON
// Schema, makes every listed property required. So:
// - keywords outside the subset (pattern, minimum, format, ...) are dropped: the grammar is looser than the schema,
//   and the ToolRegistry still validates the arguments against the full schema before the handler runs;
// - an optional property becomes "its schema or null", and the nulls are removed from the arguments afterwards, so
//   the model can leave it out;
// - `anyOf` becomes `oneOf` (the grammar accepts either; it does not check exclusivity).
import type { JSONSchema, LLMToolDefinition } from '../../frames/index.js';
import type { ChatFunctions, GrammarJsonSchema } from './binding.js';

type Schema = { readonly [key: string]: unknown };

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);
/** A value of any JSON type but object and array: what the grammar can offer for "anything". */
const ANY_SCALAR: GrammarJsonSchema = { type: ['string', 'number', 'boolean', 'null'] };
const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);
const KEPT = ['description', 'minLength', 'maxLength', 'minItems', 'maxItems'] as const;

/** The grammar subset of one JSON schema. */
export function toGrammarSchema(schema: JSONSchema): GrammarJsonSchema {
  const out: Record<string, unknown> = {};
  for (const key of KEPT) if (schema[key] !== undefined) out[key] = schema[key];
  if (schema.const !== undefined) return { ...out, const: schema.const };
  if (Array.isArray(schema.enum)) return { ...out, enum: schema.enum };
  const alternatives = Array.isArray(schema.oneOf) ? schema.oneOf : Array.isArray(schema.anyOf) ? schema.anyOf : undefined;
  if (alternatives !== undefined) return { ...out, oneOf: alternatives.filter(isSchema).map(toGrammarSchema) };
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1 && isSchema(schema.allOf[0])) return toGrammarSchema(schema.allOf[0]);
  const type = schema.type;
  if (type === 'object' || (type === undefined && isSchema(schema.properties))) return { ...out, ...objectSchema(schema) };
  if (type === 'array') {
    return { ...out, type: 'array', ...(isSchema(schema.items) ? { items: toGrammarSchema(schema.items) } : { items: ANY_SCALAR }) };
  }
  if (typeof type === 'string' && SCALAR_TYPES.has(type)) return { ...out, type };
  if (Array.isArray(type)) {
    // A union with object or array has no grammar here; its scalar members stay.
    const scalars = type.filter((t): t is string => typeof t === 'string' && SCALAR_TYPES.has(t));
    if (scalars.length > 0) return { ...out, type: scalars };
  }
  return { ...ANY_SCALAR, ...out };
}

function objectSchema(schema: Schema): GrammarJsonSchema {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const out: Record<string, GrammarJsonSchema> = {};
  for (const [name, property] of Object.entries(properties)) {
    if (!isSchema(property)) continue;
    const converted = toGrammarSchema(property);
    out[name] = required.has(name) ? converted : { oneOf: [converted, { type: 'null' }] };
  }
  return { type: 'object', properties: out };
}

/** Removes the nulls the grammar let the model write for optional properties it did not want to set. */
export function dropOmittedOptionals(value: unknown, schema: JSONSchema): unknown {
  if (!isSchema(value) || !isSchema(schema.properties)) return value;
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const out: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) {
    const property = schema.properties[name];
    if (item === null && !required.has(name)) continue;
    out[name] = isSchema(property) ? dropOmittedOptionals(item, property) : item;
  }
  return out;
}

const hasParameters = (tool: LLMToolDefinition): boolean =>
  isSchema(tool.parameters.properties) && Object.keys(tool.parameters.properties).length > 0;

/** The tools as node-llama-cpp functions: the model calls them in its chat template's own syntax. */
export function toChatFunctions(tools: readonly LLMToolDefinition[]): ChatFunctions {
  const functions: Record<string, { description?: string; params?: GrammarJsonSchema }> = {};
  for (const tool of tools) {
    functions[tool.name] = {
      description: tool.description,
      ...(hasParameters(tool) ? { params: toGrammarSchema(tool.parameters) } : {}),
    };
  }
  return functions;
}

/**
 * The schema of a forced tool call (`toolChoice: 'required'`): `{"name": <a tool>, "arguments": {...}}`, one
 * alternative per tool, so the name and its arguments always match.
 */
export function requiredCallSchema(tools: readonly LLMToolDefinition[]): GrammarJsonSchema {
  return {
    oneOf: tools.map((tool) => ({
      type: 'object',
      properties: {
        name: { const: tool.name },
        arguments: hasParameters(tool) ? toGrammarSchema(tool.parameters) : { type: 'object', properties: {} },
      },
    })),
  };
}
