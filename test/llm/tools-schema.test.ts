import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FunctionSchema } from '../../src/llm/function-schema.js';
import { ToolsSchema } from '../../src/llm/tools-schema.js';

const transfer = new FunctionSchema({
  name: 'transfer_to_human',
  description: 'Transfer the call to a human.',
  properties: { reason: { type: 'string', description: 'Why' } },
  required: [],
});
const lookup = FunctionSchema.fromZod({
  name: 'lookup_order',
  description: 'Find an order.',
  schema: z.object({ orderId: z.string() }),
});

describe('ToolsSchema', () => {
  const tools = new ToolsSchema([transfer, lookup]);

  it('keeps the schemas and gives provider-neutral definitions', () => {
    expect(tools.schemas.map((s) => s.name)).toEqual(['transfer_to_human', 'lookup_order']);
    expect(tools.toDefinitions()).toEqual([
      {
        name: 'transfer_to_human',
        description: 'Transfer the call to a human.',
        parameters: { type: 'object', properties: { reason: { type: 'string', description: 'Why' } }, required: [] },
      },
      {
        name: 'lookup_order',
        description: 'Find an order.',
        parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
      },
    ]);
  });

  it('converts to each provider format', () => {
    expect(tools.toOpenAI()).toEqual([
      {
        type: 'function',
        function: {
          name: 'transfer_to_human',
          description: 'Transfer the call to a human.',
          parameters: { type: 'object', properties: { reason: { type: 'string', description: 'Why' } }, required: [] },
        },
      },
      {
        type: 'function',
        function: {
          name: 'lookup_order',
          description: 'Find an order.',
          parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
        },
      },
    ]);
    expect(tools.toAnthropic()).toEqual([
      {
        name: 'transfer_to_human',
        description: 'Transfer the call to a human.',
        input_schema: { type: 'object', properties: { reason: { type: 'string', description: 'Why' } }, required: [] },
      },
      {
        name: 'lookup_order',
        description: 'Find an order.',
        input_schema: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
      },
    ]);
    expect(tools.toGemini()).toEqual([
      {
        functionDeclarations: [
          {
            name: 'transfer_to_human',
            description: 'Transfer the call to a human.',
            parameters: { type: 'object', properties: { reason: { type: 'string', description: 'Why' } }, required: [] },
          },
          {
            name: 'lookup_order',
            description: 'Find an order.',
            parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
          },
        ],
      },
    ]);
  });

  it('rejects duplicate names', () => {
    expect(() => new ToolsSchema([transfer, transfer])).toThrow(TypeError);
    expect(() => new ToolsSchema([transfer, transfer])).toThrow(/duplicate tool name "transfer_to_human"/);
  });

  it('copies its input', () => {
    const input = [transfer];
    const schema = new ToolsSchema(input);
    input.push(lookup);
    expect(schema.schemas).toHaveLength(1);
    expect(new ToolsSchema([]).toGemini()).toEqual([]);
  });
});
