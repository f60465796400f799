// LLMContext: the conversation of one call (system instructions, user and assistant turns, tool calls and
// results) and the tools the model may call. One instance per call, owned by that call's VoiceAgent; the user
// aggregator, the LLM service and the assistant aggregator of the same call write to it.
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

  /**
   * A context holding the same messages and tools as any snapshot. A plain snapshot is copied; an LLMContext is
   * returned as it is, not copied: the call's aggregators and LLM service write to the one conversation.
   */
  static from(snapshot: LLMContextSnapshot): LLMContext {
    return snapshot instanceof LLMContext ? snapshot : new LLMContext(snapshot.messages, snapshot.tools);
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
   * message with tool calls must be followed directly by one result per call).
   */
  addToolExchange(toolCalls: readonly LLMToolCall[], results: readonly { toolCallId: string; content: string }[]): void {
    this.messageList.push({ role: 'assistant', content: '', toolCalls: [...toolCalls] });
    for (const call of toolCalls) {
      const result = results.find((r) => r.toolCallId === call.id);
      this.messageList.push({
        role: 'tool',
        toolCallId: call.id,
        name: call.name,
        content: result?.content ?? JSON.stringify({ error: 'no result' }),
      });
    }
  }

  /** An immutable copy, safe to hand to a provider request that outlives later changes. */
  snapshot(): LLMContextSnapshot {
    return { messages: [...this.messageList], tools: [...this.toolList] };
  }
}
