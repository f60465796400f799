// The Bedrock Converse request body for a context. Converse's turn rules are Anthropic's (system prompt apart,
// tool results in a user turn, roles alternating, a user turn first), so the Anthropic adapter shapes the turns
// and this file only renames its blocks into Converse's: `{text}`, `{toolUse: {toolUseId, name, input}}`,
// `{toolResult: {toolUseId, content: [{text}]}}`. Facts and sources: docs/vendors/aws.md.
import type { LLMContextSnapshot } from '../../frames/index.js';
import { toAnthropicRequest, type AnthropicContentBlock } from '../../llm/adapters/anthropic.js';

export type BedrockContentBlock =
  | { text: string }
  | { toolUse: { toolUseId: string; name: string; input: Record<string, unknown> } }
  | { toolResult: { toolUseId: string; content: { text: string }[] } };

export interface BedrockMessage {
  role: 'user' | 'assistant';
  content: BedrockContentBlock[];
}

/** `toolConfig.toolChoice`: let the model decide, make it call some tool, or one named tool. */
export type BedrockToolChoice = { auto: Record<string, never> } | { any: Record<string, never> } | { tool: { name: string } };

export interface BedrockInferenceConfig {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
}

export interface BedrockRequestOptions {
  inferenceConfig: BedrockInferenceConfig;
  toolChoice?: BedrockToolChoice;
  /** The user turn put first when the history starts with the bot (a greeting): Converse wants a user turn first. */
  leadingUserTurn: string;
  /** Model-specific fields (`additionalModelRequestFields`), sent as given. */
  additionalModelRequestFields?: Record<string, unknown>;
}

function converseBlock(block: AnthropicContentBlock): BedrockContentBlock {
  switch (block.type) {
    case 'text':
      return { text: block.text };
    case 'tool_use':
      return { toolUse: { toolUseId: block.id, name: block.name, input: block.input } };
    case 'tool_result':
      // Converse refuses an empty text block: a tool that returned nothing says so.
      return { toolResult: { toolUseId: block.tool_use_id, content: [{ text: block.content === '' ? '(no result)' : block.content }] } };
  }
}

/** The JSON body of `POST /model/{modelId}/converse-stream` (the model is in the path, not the body). */
export function bedrockConverseBody(context: LLMContextSnapshot, options: BedrockRequestOptions): Record<string, unknown> {
  const { system, messages } = toAnthropicRequest(context.messages);
  const converse: BedrockMessage[] = messages.map((message) => ({
    role: message.role,
    content: typeof message.content === 'string' ? [{ text: message.content }] : message.content.map(converseBlock),
  }));
  if (converse[0]?.role !== 'user') converse.unshift({ role: 'user', content: [{ text: options.leadingUserTurn }] });
  const body: Record<string, unknown> = { messages: converse };
  if (system !== undefined) body.system = [{ text: system }];
  if (Object.keys(options.inferenceConfig).length > 0) body.inferenceConfig = options.inferenceConfig;
  // Converse refuses toolUse / toolResult blocks without a toolConfig; a context that lost its tools but kept their
  // history is rare, and then the request is refused with Bedrock's own ValidationException.
  if (context.tools.length > 0) {
    body.toolConfig = {
      // An empty description is refused (its minimum length is 1): left out instead.
      tools: context.tools.map((tool) => ({
        toolSpec: { name: tool.name, ...(tool.description === '' ? {} : { description: tool.description }), inputSchema: { json: tool.parameters } },
      })),
      ...(options.toolChoice === undefined ? {} : { toolChoice: options.toolChoice }),
    };
  }
  if (options.additionalModelRequestFields !== undefined) body.additionalModelRequestFields = options.additionalModelRequestFields;
  return body;
}
