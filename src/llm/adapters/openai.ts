// Provider-neutral messages and tools in the OpenAI Chat Completions request shape (also spoken by Groq,
// Together, Ollama, OpenRouter, DeepSeek, vLLM). Plain object types, not the `openai` SDK's: this layer sits
// below the services, and the shapes are structurally what the SDK accepts.
import type { JSONSchema, LLMMessage, LLMToolDefinition } from '../../frames/index.js';

export interface OpenAIToolCallParam {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface OpenAISystemMessageParam {
  role: 'system';
  content: string;
}

export interface OpenAIUserMessageParam {
  role: 'user';
  content: string;
}

export interface OpenAIAssistantMessageParam {
  role: 'assistant';
  content: string | null;
  tool_calls?: OpenAIToolCallParam[];
}

export interface OpenAIToolMessageParam {
  role: 'tool';
  tool_call_id: string;
  content: string;
}

export type OpenAIMessageParam =
  | OpenAISystemMessageParam
  | OpenAIUserMessageParam
  | OpenAIAssistantMessageParam
  | OpenAIToolMessageParam;

export interface OpenAIToolParam {
  type: 'function';
  function: { name: string; description: string; parameters: JSONSchema };
}

export function toOpenAIMessages(messages: readonly LLMMessage[]): OpenAIMessageParam[] {
  return messages.map((message): OpenAIMessageParam => {
    switch (message.role) {
      case 'system':
        return { role: 'system', content: message.content };
      case 'user':
        return { role: 'user', content: message.content };
      case 'assistant': {
        // OpenAI rejects an empty `tool_calls` array, so an empty list means "no tool calls".
        if (message.toolCalls === undefined || message.toolCalls.length === 0) {
          return { role: 'assistant', content: message.content };
        }
        return {
          role: 'assistant',
          content: message.content === '' ? null : message.content,
          tool_calls: message.toolCalls.map((call) => ({
            id: call.id,
            type: 'function',
            function: { name: call.name, arguments: call.arguments },
          })),
        };
      }
      case 'tool':
        return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    }
  });
}

export function toOpenAITools(tools: readonly LLMToolDefinition[]): OpenAIToolParam[] {
  return tools.map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  }));
}
