import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JSONSchema } from '../../src/frames/index.js';
import { validateJsonSchema } from '../../src/llm/json-schema.js';

const v = validateJsonSchema;

describe('validateJsonSchema: type', () => {
  it('accepts each JSON type and reports a mismatch with the value it got', () => {
    expect(v({ type: 'string' }, 'a')).toEqual([]);
    expect(v({ type: 'boolean' }, false)).toEqual([]);
    expect(v({ type: 'null' }, null)).toEqual([]);
    expect(v({ type: 'object' }, {})).toEqual([]);
    expect(v({ type: 'array' }, [])).toEqual([]);
    expect(v({ type: 'string' }, 5)).toEqual(['$: expected string, got 5']);
    expect(v({ type: 'object' }, [1])).toEqual(['$: expected object, got [1]']);
    expect(v({ type: 'array' }, { a: 1 })).toEqual(['$: expected array, got {"a":1}']);
    expect(v({ type: 'null' }, 0)).toEqual(['$: expected null, got 0']);
    expect(v({ type: 'boolean' }, 'true')).toEqual(['$: expected boolean, got "true"']);
  });

  it('an integer is a number, a fraction is not an integer', () => {
    expect(v({ type: 'number' }, 3)).toEqual([]);
    expect(v({ type: 'number' }, 3.5)).toEqual([]);
    expect(v({ type: 'integer' }, 3)).toEqual([]);
    expect(v({ type: 'integer' }, 3.0)).toEqual([]);
    expect(v({ type: 'integer' }, 3.5)).toEqual(['$: expected integer, got 3.5']);
    expect(v({ type: 'integer' }, '3')).toEqual(['$: expected integer, got "3"']);
  });

  it('rejects NaN and the infinities as numbers, naming them as they are', () => {
    expect(v({ type: 'number' }, Number.NaN)).toEqual(['$: expected number, got NaN']);
    expect(v({ type: 'number' }, Number.POSITIVE_INFINITY)).toEqual(['$: expected number, got Infinity']);
    expect(v({ type: 'integer' }, Number.NEGATIVE_INFINITY)).toEqual(['$: expected integer, got -Infinity']);
  });

  it('a type array accepts any of its types', () => {
    const schema = { type: ['string', 'null'] };
    expect(v(schema, 'x')).toEqual([]);
    expect(v(schema, null)).toEqual([]);
    expect(v(schema, 1)).toEqual(['$: expected string or null, got 1']);
    expect(v({ type: ['integer', 'boolean'] }, 1.5)).toEqual(['$: expected integer or boolean, got 1.5']);
  });

  it('a missing value is reported as nothing', () => {
    expect(v({ type: 'string' }, undefined)).toEqual(['$: expected string, got nothing']);
  });

  it('stops at a type mismatch (no follow-up errors about the wrong-typed value)', () => {
    expect(v({ type: 'string', minLength: 3, enum: ['abc'] }, 7)).toEqual(['$: expected string, got 7']);
  });

  it('abbreviates long values in messages', () => {
    const [error] = v({ type: 'number' }, 'x'.repeat(200));
    expect(error).toBe(`$: expected number, got "${'x'.repeat(56)}...`);
  });

  it('an empty schema accepts anything; unknown keywords are ignored', () => {
    for (const value of [1, 'a', null, [], {}, true]) expect(v({}, value)).toEqual([]);
    expect(v({ format: 'email', 'x-custom': 1 }, 'not an email')).toEqual([]);
  });
});

describe('validateJsonSchema: enum and const', () => {
  it('enum accepts listed values only', () => {
    const schema = { enum: ['warm', 'blind'] };
    expect(v(schema, 'warm')).toEqual([]);
    expect(v(schema, 'cold')).toEqual(['$: must be one of "warm", "blind", got "cold"']);
    expect(v({ enum: [1, null] }, null)).toEqual([]);
    expect(v({ enum: [1, null] }, '1')).toEqual(['$: must be one of 1, null, got "1"']);
  });

  it('enum and const compare structures, whatever the key order', () => {
    expect(v({ enum: [{ a: 1, b: [1, 2] }] }, { b: [1, 2], a: 1 })).toEqual([]);
    expect(v({ const: { a: 1, b: 2 } }, { b: 2, a: 1 })).toEqual([]);
    expect(v({ const: { a: 1 } }, { a: 1, b: 2 })).toHaveLength(1);
    expect(v({ const: [1, 2] }, [2, 1])).toHaveLength(1);
    expect(v({ const: [1, 2] }, { 0: 1, 1: 2 })).toHaveLength(1);
  });

  it('const requires the exact value', () => {
    expect(v({ const: 'yes' }, 'yes')).toEqual([]);
    expect(v({ const: 'yes' }, 'no')).toEqual(['$: must be "yes", got "no"']);
    expect(v({ const: null }, null)).toEqual([]);
    expect(v({ const: 0 }, false)).toEqual(['$: must be 0, got false']);
  });

  it('NaN is not null (JSON.stringify would say it is)', () => {
    expect(v({ const: null }, Number.NaN)).toHaveLength(1);
    expect(v({ enum: [null] }, Number.NaN)).toHaveLength(1);
  });
});

describe('validateJsonSchema: objects', () => {
  const person: JSONSchema = {
    type: 'object',
    properties: { name: { type: 'string' }, age: { type: 'integer' } },
    required: ['name'],
  };

  it('validates each property and reports missing required ones', () => {
    expect(v(person, { name: 'Ann', age: 3 })).toEqual([]);
    expect(v(person, { age: 3 })).toEqual(['$.name: is required']);
    expect(v(person, { name: 1, age: 'x' })).toEqual(['$.name: expected string, got 1', '$.age: expected integer, got "x"']);
  });

  it('extra properties are allowed unless additionalProperties says otherwise', () => {
    expect(v(person, { name: 'Ann', extra: 1 })).toEqual([]);
    expect(v({ ...person, additionalProperties: false }, { name: 'Ann', extra: 1 })).toEqual([
      '$.extra: is not an allowed property',
    ]);
    const numbersOnly = { ...person, additionalProperties: { type: 'number' } };
    expect(v(numbersOnly, { name: 'Ann', x: 1, y: 'two' })).toEqual(['$.y: expected number, got "two"']);
  });

  it('a "__proto__" key is checked like any other key', () => {
    const strict = { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false };
    const value: unknown = JSON.parse('{"a":"x","__proto__":{"admin":true}}');
    expect(v(strict, value)).toEqual(['$.__proto__: is not an allowed property']);
  });

  it('required means an own property (not one inherited from Object.prototype)', () => {
    expect(v({ type: 'object', required: ['toString', 'constructor'] }, {})).toEqual([
      '$.toString: is required',
      '$.constructor: is required',
    ]);
  });

  it('properties that are absent are not validated', () => {
    expect(v(person, { name: 'Ann' })).toEqual([]);
  });
});

describe('validateJsonSchema: arrays', () => {
  it('validates every item with its index in the path', () => {
    const schema = { type: 'array', items: { type: 'string' } };
    expect(v(schema, ['a', 'b'])).toEqual([]);
    expect(v(schema, ['a', 2, 'c', null])).toEqual(['$[1]: expected string, got 2', '$[3]: expected string, got null']);
  });

  it('minItems and maxItems', () => {
    const schema = { type: 'array', minItems: 1, maxItems: 2 };
    expect(v(schema, [])).toEqual(['$: must have at least 1 items']);
    expect(v(schema, [1])).toEqual([]);
    expect(v(schema, [1, 2])).toEqual([]);
    expect(v(schema, [1, 2, 3])).toEqual(['$: must have at most 2 items']);
  });
});

describe('validateJsonSchema: strings', () => {
  it('minLength and maxLength count code points, not UTF-16 units', () => {
    const schema = { type: 'string', minLength: 2, maxLength: 3 };
    expect(v(schema, 'a')).toEqual(['$: must have at least 2 characters']);
    expect(v(schema, 'abcd')).toEqual(['$: must have at most 3 characters']);
    // Three emoji: six UTF-16 units, three characters.
    expect('😀😀😀'.length).toBe(6);
    expect(v(schema, '😀😀😀')).toEqual([]);
    expect(v(schema, '😀')).toEqual(['$: must have at least 2 characters']);
  });

  it('pattern is searched (not anchored unless the pattern says so)', () => {
    expect(v({ type: 'string', pattern: '\\d{3}' }, 'ab123cd')).toEqual([]);
    expect(v({ type: 'string', pattern: '^\\d{3}$' }, 'ab123cd')).toEqual(['$: must match the pattern ^\\d{3}$']);
    expect(v({ type: 'string', pattern: '^\\+?[0-9]{10,15}$' }, '+919876543210')).toEqual([]);
  });

  it('an invalid pattern in the schema does not blame the value', () => {
    expect(v({ type: 'string', pattern: '([a-z' }, 'anything')).toEqual([]);
  });

  it('a pattern valid without the unicode flag is still applied', () => {
    // "\-" outside a class is a syntax error with the u flag, yet a valid ECMA-262 pattern.
    const schema = { type: 'string', pattern: '^\\d{3}\\-\\d{4}$' };
    expect(v(schema, '555-1234')).toEqual([]);
    expect(v(schema, '5551234')).toEqual(['$: must match the pattern ^\\d{3}\\-\\d{4}$']);
  });

  it('string keywords do not apply to other types', () => {
    expect(v({ minLength: 3, pattern: '^a' }, 12)).toEqual([]);
  });
});

describe('validateJsonSchema: numbers', () => {
  it('minimum and maximum are inclusive', () => {
    const schema = { type: 'number', minimum: 1, maximum: 10 };
    expect(v(schema, 1)).toEqual([]);
    expect(v(schema, 10)).toEqual([]);
    expect(v(schema, 0.5)).toEqual(['$: must be >= 1']);
    expect(v(schema, 10.5)).toEqual(['$: must be <= 10']);
  });

  it('exclusiveMinimum and exclusiveMaximum are exclusive', () => {
    const schema = { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 };
    expect(v(schema, 0.5)).toEqual([]);
    expect(v(schema, 0)).toEqual(['$: must be > 0']);
    expect(v(schema, 1)).toEqual(['$: must be < 1']);
  });

  it('number keywords do not apply to other types', () => {
    expect(v({ minimum: 5 }, 'abc')).toEqual([]);
  });
});

describe('validateJsonSchema: combinators', () => {
  it('anyOf needs at least one match', () => {
    const schema = { anyOf: [{ type: 'string' }, { type: 'integer', minimum: 0 }] };
    expect(v(schema, 'a')).toEqual([]);
    expect(v(schema, 3)).toEqual([]);
    expect(v(schema, -3)).toEqual(['$: matches none of the allowed forms']);
    expect(v(schema, null)).toEqual(['$: matches none of the allowed forms']);
  });

  it('oneOf needs exactly one match', () => {
    const schema = { oneOf: [{ type: 'number' }, { type: 'integer' }, { type: 'string' }] };
    expect(v(schema, 'a')).toEqual([]);
    expect(v(schema, 1.5)).toEqual([]);
    expect(v(schema, 2)).toEqual(['$: must match exactly one of the allowed forms, matched 2']);
    expect(v(schema, true)).toEqual(['$: must match exactly one of the allowed forms, matched 0']);
  });

  it('allOf reports every failing part', () => {
    const schema = { allOf: [{ type: 'string' }, { minLength: 3 }, { pattern: '^a' }] };
    expect(v(schema, 'abc')).toEqual([]);
    expect(v(schema, 'b')).toEqual(['$: must have at least 3 characters', '$: must match the pattern ^a']);
  });
});

describe('validateJsonSchema: nested paths', () => {
  it('names the exact place of each error', () => {
    const schema: JSONSchema = {
      type: 'object',
      properties: {
        a: {
          type: 'object',
          properties: { b: { type: 'array', items: { type: 'object', properties: { c: { enum: ['x'] } }, required: ['c'] } } },
        },
      },
    };
    const value = { a: { b: [{ c: 'x' }, { c: 'x' }, { c: 'y' }, {}] } };
    expect(v(schema, value)).toEqual(['$.a.b[2].c: must be one of "x", got "y"', '$.a.b[3].c: is required']);
    expect(v({ type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'array', items: { type: 'integer' } } } } } }, { a: { b: [1, 2, 'z'] } })).toEqual([
      '$.a.b[2]: expected integer, got "z"',
    ]);
  });

  it('uses the given root path', () => {
    expect(v({ type: 'string' }, 1, 'args')).toEqual(['args: expected string, got 1']);
  });
});

describe('validateJsonSchema: property', () => {
  // A tool-like schema, and values generated to match it.
  const schema: JSONSchema = {
    type: 'object',
    properties: {
      city: { type: 'string', minLength: 1, maxLength: 40 },
      count: { type: 'integer', minimum: 0, maximum: 100 },
      ratio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
      mode: { enum: ['warm', 'blind'] },
      code: { type: 'string', pattern: '^[A-Z]{3}$' },
      tags: { type: 'array', items: { type: 'string' }, maxItems: 5 },
      note: { type: ['string', 'null'] },
    },
    required: ['city', 'count', 'mode'],
    additionalProperties: false,
  };
  const matching = fc.record(
    {
      city: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
      count: fc.integer({ min: 0, max: 100 }),
      ratio: fc.double({ min: 0, max: 1, minExcluded: true, maxExcluded: true, noNaN: true }),
      mode: fc.constantFrom('warm', 'blind'),
      code: fc.stringMatching(/^[A-Z]{3}$/),
      tags: fc.array(fc.string(), { maxLength: 5 }),
      note: fc.option(fc.string(), { nil: null }),
    },
    { requiredKeys: ['city', 'count', 'mode'] },
  );

  it('values generated to match the schema validate without errors', () => {
    fc.assert(
      fc.property(matching, (value) => {
        expect(v(schema, value)).toEqual([]);
        // And they survive the JSON round trip the model's arguments take.
        expect(v(schema, JSON.parse(JSON.stringify(value)))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('breaking one required field always yields an error naming it', () => {
    fc.assert(
      fc.property(matching, fc.constantFrom('city', 'count', 'mode'), (value, field) => {
        const broken = { ...value, [field]: field === 'city' ? 42 : 'not valid' };
        const errors = v(schema, broken);
        expect(errors.length).toBeGreaterThan(0);
        expect(errors.every((e) => e.startsWith(`$.${field}:`))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
