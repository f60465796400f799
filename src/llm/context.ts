// LLMContext: the conversation of one call (system instructions, user and assistant turns, tool calls and
// results) and the tools the model may call. In a VoiceAgent it is written only by the call's Conversation
// (`src/conversation/`), in the order the caller heard things; models read immutable snapshots of it.
import type {
  LLMContextSnapshot,
  LLMMessage,
  LLMToolCall,
  LLMToolDefinition,
} from '../frames/index.js';

export class LLMContext implements LLMContextSnapshot {
  private readonly messageList: LLMMessage[];
  private toolList: LLMToolDefinition[];

  constructor(messages: readonly LLMMessage[] = [], tools: readonly LLMToolDefinition[] = []) {
    this.messageList = [...messages];
    this.toolList = [...tools];
  }

  /** A new context holding a copy of any snapshot's messages and tools. */
  static from(snapshot: LLMContextSnapshot): LLMContext {
    return new LLMContext(snapshot.messages, snapshot.tools);
  }

  get messages(): readonly LLMMessage[] {
    return this.messageList;
  }

  get tools(): readonly LLMToolDefinition[] {
    return this.toolList;
  }

  setTools(tools: readonly LLMToolDefinition[]): void {
    this.toolList = [...tools];
  }

  addMessage(message: LLMMessage): void {
    this.messageList.push(message);
  }

  /** Replaces the message at `index` (messages are immutable values: a change is a new message). */
  replaceMessage(index: number, message: LLMMessage): void {
    if (!(index >= 0 && index < this.messageList.length)) throw new RangeError(`LLMContext: no message at ${index}`);
    this.messageList[index] = message;
  }

  /** Inserts messages before the one at `index` (at the end when `index` is the length). */
  insertMessages(index: number, messages: readonly LLMMessage[]): void {
    if (!(index >= 0 && index <= this.messageList.length)) throw new RangeError(`LLMContext: cannot insert at ${index}`);
    this.messageList.splice(index, 0, ...messages);
  }

  addUserMessage(content: string): void {
    this.messageList.push({ role: 'user', content });
  }

  /** Adds what the assistant said. Consecutive assistant texts are merged into one message. */
  addAssistantMessage(content: string): void {
    const text = content.trim();
    if (text === '') return;
    const last = this.messageList.at(-1);
    if (last?.role === 'assistant' && last.toolCalls === undefined) {
      this.messageList[this.messageList.length - 1] = { role: 'assistant', content: `${last.content} ${text}` };
      return;
    }
    this.messageList.push({ role: 'assistant', content: text });
  }

  /**
   * Adds one model turn's tool calls and their results, adjacent as every provider requires (an assistant
   * message with tool calls must be followed directly by one result per call). `content` is what the model said
   * before the calls, if anything.
   */
  addToolExchange(
    toolCalls: readonly LLMToolCall[],
    results: readonly { toolCallId: string; content: string }[],
    content = '',
  ): void {
    this.messageList.push({ role: 'assistant', content, toolCalls: [...toolCalls] });
    for (const call of toolCalls) {
      const result = results.find((r) => r.toolCallId === call.id);
      this.messageList.push(
        toolResultMessage({
          toolCallId: call.id,
          name: call.name,
          content: result?.content ?? JSON.stringify({ error: 'no result' }),
        }),
      );
    }
  }

  /** An immutable copy, safe to hand to a provider request that outlives later changes. */
  snapshot(): LLMContextSnapshot {
    return { messages: [...this.messageList], tools: [...this.toolList] };
  }
}

/** A tool call's result as the message providers read right after the assistant message that made the call. */
export function toolResultMessage(result: { toolCallId: string; name: string; content: string }): LLMMessage {
  return { role: 'tool', toolCallId: result.toolCallId, name: result.name, content: result.content };
}
