// Provider-neutral LLM conversation data carried by frames. It lives in the frames layer because frames carry
// it; the conversation layer (src/llm/) builds the context, aggregators and provider adapters on top of it.

/** A JSON Schema object describing a tool's parameters (kept structural: providers accept plain JSON Schema). */
export type JSONSchema = { readonly [key: string]: unknown };

/** One tool call requested by the LLM. `arguments` is the raw JSON text the model produced, not yet parsed. */
export interface LLMToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

export interface LLMSystemMessage {
  readonly role: 'system';
  readonly content: string;
}

export interface LLMUserMessage {
  readonly role: 'user';
  readonly content: string;
}

export interface LLMAssistantMessage {
  readonly role: 'assistant';
  readonly content: string;
  readonly toolCalls?: readonly LLMToolCall[];
}

export interface LLMToolResultMessage {
  readonly role: 'tool';
  readonly toolCallId: string;
  readonly name: string;
  /** The tool's result serialised as text (JSON for structured results). */
  readonly content: string;
}

export type LLMMessage = LLMSystemMessage | LLMUserMessage | LLMAssistantMessage | LLMToolResultMessage;

export interface LLMToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly parameters: JSONSchema;
}

/** What an LLM service needs to run one inference: the conversation so far and the tools it may call. */
export interface LLMContextSnapshot {
  readonly messages: readonly LLMMessage[];
  readonly tools: readonly LLMToolDefinition[];
}
