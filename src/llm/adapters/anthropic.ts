// Provider-neutral messages and tools in the Anthropic Messages request shape. Anthropic differs from OpenAI
// in three ways that matter here: the system prompt is a top-level field, not a message; tool results are
// `tool_result` blocks inside a user message; and user/assistant turns must alternate, so consecutive messages
// of one role (e.g. the results of parallel tool calls) are merged into one.
import type { JSONSchema, LLMMessage, LLMToolDefinition } from '../../frames/index.js';
import { parseToolArguments, type JSONObject } from './parse.js';

export interface AnthropicTextBlock {
  type: 'text';
  text: string;
}

export interface AnthropicToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: JSONObject;
}

export interface AnthropicToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content: string;
}

export type AnthropicContentBlock = AnthropicTextBlock | AnthropicToolUseBlock | AnthropicToolResultBlock;

export interface AnthropicMessageParam {
  role: 'user' | 'assistant';
  /** A plain string for a lone text turn; blocks otherwise. */
  content: string | AnthropicContentBlock[];
}

export interface AnthropicRequest {
  system?: string;
  messages: AnthropicMessageParam[];
}

export interface AnthropicToolParam {
  name: string;
  description: string;
  input_schema: JSONSchema;
}

function blocksOf(message: LLMMessage): AnthropicContentBlock[] {
  switch (message.role) {
    case 'system':
      return [];
    case 'user':
      // Anthropic rejects empty text blocks.
      return message.content === '' ? [] : [{ type: 'text', text: message.content }];
    case 'assistant': {
      const blocks: AnthropicContentBlock[] = message.content === '' ? [] : [{ type: 'text', text: message.content }];
      for (const call of message.toolCalls ?? []) {
        blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: parseToolArguments(call.arguments) });
      }
      return blocks;
    }
    case 'tool':
      return [{ type: 'tool_result', tool_use_id: message.toolCallId, content: message.content }];
  }
}

/** Anthropic wants tool results first in their user message, before any text the user added. */
function toolResultsFirst(blocks: AnthropicContentBlock[]): AnthropicContentBlock[] {
  return [...blocks.filter((b) => b.type === 'tool_result'), ...blocks.filter((b) => b.type !== 'tool_result')];
}

export function toAnthropicRequest(messages: readonly LLMMessage[]): AnthropicRequest {
  const system: string[] = [];
  const turns: { role: 'user' | 'assistant'; blocks: AnthropicContentBlock[] }[] = [];
  for (const message of messages) {
    if (message.role === 'system') {
      if (message.content !== '') system.push(message.content);
      continue;
    }
    const blocks = blocksOf(message);
    if (blocks.length === 0) continue;
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const last = turns.at(-1);
    if (last?.role === role) last.blocks.push(...blocks);
    else turns.push({ role, blocks });
  }
  const request: AnthropicRequest = {
    messages: turns.map(({ role, blocks }) => {
      const only = blocks[0];
      if (blocks.length === 1 && only?.type === 'text') return { role, content: only.text };
      return { role, content: role === 'user' ? toolResultsFirst(blocks) : blocks };
    }),
  };
  if (system.length > 0) request.system = system.join('\n\n');
  return request;
}

export function toAnthropicTools(tools: readonly LLMToolDefinition[]): AnthropicToolParam[] {
  return tools.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.parameters }));
}
