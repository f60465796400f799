// ToolsSchema: the set of tools offered to the model, convertible to each provider's tool format.
import type { LLMToolDefinition } from '../frames/index.js';
import { toAnthropicTools, type AnthropicToolParam } from './adapters/anthropic.js';
import { toGeminiTools, type GeminiToolParam } from './adapters/gemini.js';
import { toOpenAITools, type OpenAIToolParam } from './adapters/openai.js';
import type { FunctionSchema } from './function-schema.js';

export class ToolsSchema {
  readonly schemas: readonly FunctionSchema<unknown>[];

  constructor(schemas: readonly FunctionSchema<unknown>[]) {
    const seen = new Set<string>();
    for (const schema of schemas) {
      // Every provider identifies a tool call by name alone, so two tools with one name could not be told apart.
      if (seen.has(schema.name)) throw new TypeError(`ToolsSchema: duplicate tool name ${JSON.stringify(schema.name)}`);
      seen.add(schema.name);
    }
    this.schemas = [...schemas];
  }

  toDefinitions(): LLMToolDefinition[] {
    return this.schemas.map((schema) => schema.toDefinition());
  }

  toOpenAI(): OpenAIToolParam[] {
    return toOpenAITools(this.toDefinitions());
  }

  toAnthropic(): AnthropicToolParam[] {
    return toAnthropicTools(this.toDefinitions());
  }

  toGemini(): GeminiToolParam[] {
    return toGeminiTools(this.toDefinitions());
  }
}
