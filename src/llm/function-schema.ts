// FunctionSchema: a tool the LLM may call, described in JSON Schema — as `properties` and `required` (the piopiy-ai /
// Pipecat shape) or as one `parameters` object (the shape of the Python SDK's docs and of the providers) — or built
// from a zod object, in which case the handler's argument type is inferred from it.
import { z } from 'zod';
import type { JSONSchema, LLMToolDefinition } from '../frames/index.js';
import { validateJsonSchema } from './json-schema.js';

/** The arguments described one by one: `properties` and `required` (what `parameters` is made of). */
export interface FunctionSchemaPropertiesInit {
  name: string;
  description: string;
  /** JSON Schema of each argument, by name. */
  properties: { readonly [name: string]: JSONSchema };
  /** Names of the arguments the model must give. */
  required?: readonly string[];
  parameters?: never;
}

/** A tool's whole parameters object, as providers take it (and as the Python SDK's docs write it). */
export interface ObjectParametersSchema {
  readonly type: 'object';
  /** JSON Schema of each argument, by name. Default: none. */
  readonly properties?: { readonly [name: string]: JSONSchema };
  /** Names of the arguments the model must give. Default: none. */
  readonly required?: readonly string[];
  /** Other keywords (`additionalProperties`, ...) are kept, sent to the model and checked. */
  readonly [keyword: string]: unknown;
}

/** The arguments described by one JSON Schema object: `parameters: { type: 'object', properties, required }`. */
export interface FunctionSchemaParametersInit {
  name: string;
  description: string;
  parameters: ObjectParametersSchema;
  properties?: never;
  required?: never;
}

/** Either form: `{ name, description, properties, required }` or `{ name, description, parameters }`. */
export type FunctionSchemaInit = FunctionSchemaPropertiesInit | FunctionSchemaParametersInit;

export type ToolArgsValidation<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** Provider limits on tool names (OpenAI's are the strictest: letters, digits, _ and -, 64 at most). */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export class FunctionSchema<TArgs = Record<string, unknown>> {
  readonly name: string;
  readonly description: string;
  readonly properties: { readonly [name: string]: JSONSchema };
  readonly required: readonly string[];
  /** Keywords of a `parameters` object besides type, properties and required (e.g. `additionalProperties`). */
  private readonly keywords: JSONSchema;
  private readonly zodSchema: z.ZodType<TArgs> | undefined;

  constructor(init: FunctionSchemaInit, zodSchema?: z.ZodType<TArgs>) {
    if (typeof init.name !== 'string' || !TOOL_NAME.test(init.name)) {
      throw new TypeError(
        `FunctionSchema: invalid tool name ${JSON.stringify(init.name)}: use 1 to 64 letters, digits, _ or -`,
      );
    }
    if (typeof init.description !== 'string') throw new TypeError(`FunctionSchema ${init.name}: description must be a string`);
    const { properties, required, keywords } = argumentsOf(init);
    if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
      throw new TypeError(`FunctionSchema ${init.name}: properties must be an object of JSON Schemas`);
    }
    if (!Array.isArray(required) || !required.every((name) => typeof name === 'string')) {
      throw new TypeError(`FunctionSchema ${init.name}: required must be an array of argument names`);
    }
    for (const name of required) {
      // An own property: `in` would accept "toString" or "constructor" from Object.prototype.
      if (!Object.hasOwn(properties, name)) {
        throw new TypeError(`FunctionSchema ${init.name}: required argument ${JSON.stringify(name)} is not in properties`);
      }
    }
    this.name = init.name;
    this.description = init.description;
    this.properties = properties as { readonly [name: string]: JSONSchema };
    this.required = [...required];
    this.keywords = keywords;
    this.zodSchema = zodSchema;
  }

  /** A tool whose arguments are described (and validated, and typed) by a zod object. */
  static fromZod<S extends z.ZodObject>(init: { name: string; description: string; schema: S }): FunctionSchema<z.infer<S>> {
    // io 'input': the schema of what the model must send. The default ('output') lists fields with a
    // .default() as required and throws on a .transform(); the handler still gets zod's parsed output.
    const json = z.toJSONSchema(init.schema, { io: 'input' }) as { properties?: Record<string, JSONSchema>; required?: string[] };
    return new FunctionSchema<z.infer<S>>(
      { name: init.name, description: init.description, properties: json.properties ?? {}, required: json.required ?? [] },
      init.schema as unknown as z.ZodType<z.infer<S>>,
    );
  }

  /** The parameters object as providers expect it. */
  get parameters(): JSONSchema {
    return { ...this.keywords, type: 'object', properties: this.properties, required: this.required };
  }

  toDefinition(): LLMToolDefinition {
    return { name: this.name, description: this.description, parameters: this.parameters };
  }

  /** Checks parsed arguments against the schema; the errors are worded for the model to correct itself. */
  validate(args: unknown): ToolArgsValidation<TArgs> {
    if (this.zodSchema !== undefined) {
      const result = this.zodSchema.safeParse(args);
      if (result.success) return { ok: true, value: result.data };
      return {
        ok: false,
        // Paths written like validateJsonSchema's ("$.items[1].qty"), whichever validator the tool uses.
        errors: result.error.issues.map(
          (issue) => `$${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${issue.message}`,
        ),
      };
    }
    const errors = validateJsonSchema(this.parameters, args);
    return errors.length === 0 ? { ok: true, value: args as TArgs } : { ok: false, errors };
  }
}

/** The arguments' description from either form; checked by the constructor (JavaScript callers pass anything). */
function argumentsOf(init: FunctionSchemaInit): { properties: unknown; required: unknown; keywords: JSONSchema } {
  const { name, parameters } = init as { name: string; parameters?: unknown };
  if (parameters === undefined) return { properties: init.properties, required: init.required ?? [], keywords: {} };
  if (init.properties !== undefined || init.required !== undefined) {
    throw new TypeError(`FunctionSchema ${name}: give either parameters or properties and required, not both`);
  }
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    throw new TypeError(`FunctionSchema ${name}: parameters must be a JSON Schema object: { type: 'object', properties, required }`);
  }
  const { type, properties, required, ...keywords } = parameters as Record<string, unknown>;
  // Providers take only an object schema as a tool's parameters; a missing type would be read differently by each.
  if (type !== 'object') {
    throw new TypeError(`FunctionSchema ${name}: parameters.type must be "object", got ${JSON.stringify(type) ?? 'nothing'}`);
  }
  return { properties: properties ?? {}, required: required ?? [], keywords };
}
