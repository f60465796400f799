import { describe, expect, it } from 'vitest';
import { dropOmittedOptionals, requiredCallSchema, toChatFunctions, toGrammarSchema } from '../../../src/services/llamacpp/tool-schema.js';

describe('tool schemas for the grammar', () => {
  it('keeps the grammar subset, drops other keywords, makes optional properties nullable', () => {
    expect(
      toGrammarSchema({
        type: 'object',
        properties: {
          city: { type: 'string', description: 'City', pattern: '^[A-Z]', maxLength: 20 },
          days: { type: 'integer', minimum: 1 },
          unit: { type: 'string', enum: ['c', 'f'] },
          tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
          either: { anyOf: [{ type: 'string' }, { type: 'number' }] },
          anything: {},
          mixed: { type: ['string', 'object'] },
        },
        required: ['city', 'tags', 'either', 'anything', 'mixed'],
      }),
    ).toEqual({
      type: 'object',
      properties: {
        city: { type: 'string', description: 'City', maxLength: 20 },
        days: { oneOf: [{ type: 'integer' }, { type: 'null' }] },
        unit: { oneOf: [{ enum: ['c', 'f'] }, { type: 'null' }] },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
        either: { oneOf: [{ type: 'string' }, { type: 'number' }] },
        anything: { type: ['string', 'number', 'boolean', 'null'] },
        mixed: { type: ['string'] },
      },
    });
  });

  it('removes the nulls of optional properties, nested too, and keeps required nulls', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: ['string', 'null'] }, o: { type: 'object', properties: { x: { type: 'string' } } } },
      required: ['b', 'o'],
    };
    expect(dropOmittedOptionals({ a: null, b: null, o: { x: null } }, schema)).toEqual({ b: null, o: {} });
    expect(dropOmittedOptionals('text', schema)).toBe('text');
  });

  it('functions: no params for a tool without properties; the forced call pairs each name with its arguments', () => {
    const weather = { name: 'get_weather', description: 'Weather.', parameters: { type: 'object', properties: { city: { enum: ['Paris'] } }, required: ['city'] } };
    const hangUp = { name: 'hang_up', description: 'End.', parameters: { type: 'object', properties: {} } };
    expect(toChatFunctions([weather, hangUp])).toEqual({
      get_weather: { description: 'Weather.', params: { type: 'object', properties: { city: { enum: ['Paris'] } } } },
      hang_up: { description: 'End.' },
    });
    expect(requiredCallSchema([weather, hangUp])).toEqual({
      oneOf: [
        { type: 'object', properties: { name: { const: 'get_weather' }, arguments: { type: 'object', properties: { city: { enum: ['Paris'] } } } } },
        { type: 'object', properties: { name: { const: 'hang_up' }, arguments: { type: 'object', properties: {} } } },
      ],
    });
  });
});
