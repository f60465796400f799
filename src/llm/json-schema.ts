// A small JSON Schema validator for tool arguments. LLMs produce arguments that are usually right and
// sometimes not (a number as a string, a missing field, an invented enum value); the handler must only ever
// see arguments that match its schema, and the model must be told precisely what was wrong so it can retry.
// Covers the keywords tool schemas use: type, enum, const, properties, required, additionalProperties, items,
// min/max(Length|Items|imum), exclusive bounds, pattern, anyOf, oneOf, allOf. Unknown keywords are ignored,
// as JSON Schema prescribes.
import type { JSONSchema } from '../frames/index.js';

type JSONType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

function typeOf(value: unknown): JSONType | 'undefined' | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return Number.isFinite(value) ? (Number.isInteger(value) ? 'integer' : 'number') : 'other';
    case 'boolean':
      return 'boolean';
    case 'object':
      return 'object';
    case 'undefined':
      return 'undefined';
    default:
      return 'other';
  }
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

function isSchema(value: unknown): value is JSONSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  // JSON.stringify writes NaN and the infinities as "null": the model would be told it sent null.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * JSON equality for enum/const. Structural, not by JSON.stringify: that depends on key order ({"b":1,"a":2}
 * would not equal {"a":2,"b":1}) and writes NaN as null (NaN would pass `const: null`).
 */
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => Object.hasOwn(y, k) && deepEqual(x[k], y[k]));
}

/** Compiles a schema pattern: with the u flag (code points) when it allows, else as a plain ECMA-262 pattern. */
function compilePattern(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    // Patterns such as `\d{3}\-\d{4}` are valid ECMA-262 but a syntax error under the u flag; skipping them
    // would silently stop validating the value.
    try {
      return new RegExp(pattern);
    } catch {
      return undefined;
    }
  }
}

/** Returns the list of violations, each as "<path>: <problem>"; empty when the value is valid. */
export function validateJsonSchema(schema: JSONSchema, value: unknown, path = '$'): string[] {
  const errors: string[] = [];
  const types = schema.type;
  if (typeof types === 'string' || Array.isArray(types)) {
    const allowed = (Array.isArray(types) ? types : [types]).filter((t): t is string => typeof t === 'string');
    if (!allowed.some((t) => matchesType(value, t))) {
      errors.push(`${path}: expected ${allowed.join(' or ')}, got ${typeOf(value) === 'undefined' ? 'nothing' : show(value)}`);
      return errors;
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => deepEqual(option, value))) {
    errors.push(`${path}: must be one of ${schema.enum.map(show).join(', ')}, got ${show(value)}`);
  }
  if ('const' in schema && !deepEqual(schema.const, value)) {
    errors.push(`${path}: must be ${show(schema.const)}, got ${show(value)}`);
  }
  if (typeof value === 'string') checkString(schema, value, path, errors);
  if (typeof value === 'number') checkNumber(schema, value, path, errors);
  if (Array.isArray(value)) checkArray(schema, value, path, errors);
  else if (typeOf(value) === 'object') checkObject(schema, value as Record<string, unknown>, path, errors);
  checkCombinators(schema, value, path, errors);
  return errors;
}

function checkString(schema: JSONSchema, value: string, path: string, errors: string[]): void {
  const length = [...value].length;
  if (typeof schema.minLength === 'number' && length < schema.minLength) {
    errors.push(`${path}: must have at least ${schema.minLength} characters`);
  }
  if (typeof schema.maxLength === 'number' && length > schema.maxLength) {
    errors.push(`${path}: must have at most ${schema.maxLength} characters`);
  }
  if (typeof schema.pattern === 'string') {
    // An invalid pattern in the tool's own schema is the developer's bug; do not blame the model for it.
    const regex = compilePattern(schema.pattern);
    if (regex !== undefined && !regex.test(value)) errors.push(`${path}: must match the pattern ${schema.pattern}`);
  }
}

function checkNumber(schema: JSONSchema, value: number, path: string, errors: string[]): void {
  if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${path}: must be >= ${schema.minimum}`);
  if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(`${path}: must be <= ${schema.maximum}`);
  if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) {
    errors.push(`${path}: must be > ${schema.exclusiveMinimum}`);
  }
  if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum) {
    errors.push(`${path}: must be < ${schema.exclusiveMaximum}`);
  }
}

function checkArray(schema: JSONSchema, value: unknown[], path: string, errors: string[]): void {
  if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
    errors.push(`${path}: must have at least ${schema.minItems} items`);
  }
  if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
    errors.push(`${path}: must have at most ${schema.maxItems} items`);
  }
  if (isSchema(schema.items)) {
    const items = schema.items;
    value.forEach((item, i) => errors.push(...validateJsonSchema(items, item, `${path}[${i}]`)));
  }
}

function checkObject(schema: JSONSchema, value: Record<string, unknown>, path: string, errors: string[]): void {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  if (Array.isArray(schema.required)) {
    for (const name of schema.required) {
      // Own properties only: `value[name]` would find "toString" or "constructor" on Object.prototype.
      if (typeof name === 'string' && (!Object.hasOwn(value, name) || value[name] === undefined)) {
        errors.push(`${path}.${name}: is required`);
      }
    }
  }
  for (const [name, propertyValue] of Object.entries(value)) {
    // Own properties only: properties["__proto__"] is Object.prototype, which would pass as an empty schema and
    // let a "__proto__" key through additionalProperties: false.
    const propertySchema = Object.hasOwn(properties, name) ? properties[name] : undefined;
    if (isSchema(propertySchema)) {
      errors.push(...validateJsonSchema(propertySchema, propertyValue, `${path}.${name}`));
    } else if (schema.additionalProperties === false) {
      errors.push(`${path}.${name}: is not an allowed property`);
    } else if (isSchema(schema.additionalProperties)) {
      errors.push(...validateJsonSchema(schema.additionalProperties, propertyValue, `${path}.${name}`));
    }
  }
}

function checkCombinators(schema: JSONSchema, value: unknown, path: string, errors: string[]): void {
  if (Array.isArray(schema.allOf)) {
    for (const sub of schema.allOf) if (isSchema(sub)) errors.push(...validateJsonSchema(sub, value, path));
  }
  if (Array.isArray(schema.anyOf)) {
    const options = schema.anyOf.filter(isSchema);
    if (options.length > 0 && !options.some((sub) => validateJsonSchema(sub, value, path).length === 0)) {
      errors.push(`${path}: matches none of the allowed forms`);
    }
  }
  if (Array.isArray(schema.oneOf)) {
    const matching = schema.oneOf.filter(isSchema).filter((sub) => validateJsonSchema(sub, value, path).length === 0);
    if (matching.length !== 1) errors.push(`${path}: must match exactly one of the allowed forms, matched ${matching.length}`);
  }
}
