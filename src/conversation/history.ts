// ConversationHistory: writes a call's LLMContext in the order the caller lived it. Three things arrive out of
// that order and are put back in it here:
// - what the assistant said is known word by word as the caller hears it, seconds after the model wrote it;
// - a response's tool calls and results are known when the tools run and finish, usually before the words the
//   model said ahead of them ("Let me check.") have been heard;
// - a filler said while tools run is heard between the calls and their results.
// So each model response owns one assistant message, created when its first word is heard or its tools are called,
// whichever comes first; words heard while that response is the one playing (fillers included) are added to it,
// and its tool results are inserted right after it (providers want an assistant message with tool calls followed
// directly by their results), even when a user turn was added in the meantime.
import type { LLMContextSnapshot, LLMMessage, LLMToolCall } from '../frames/index.js';
import { toolResultMessage, type LLMContext } from '../llm/context.js';

/** Identifies one model response: the id of its `llm-response-start` frame. */
export type ResponseId = number;

export interface ToolResultEntry {
  readonly toolCallId: string;
  readonly name: string;
  readonly content: string;
}

type AssistantMessage = Extract<LLMMessage, { role: 'assistant' }>;

/** One model response's assistant message, while it may still grow or still awaits its tool results. */
interface ResponseEntry {
  message: AssistantMessage;
  /** Words heard of this response are added to it (until the next user turn). */
  takesWords: boolean;
  /** Its tool calls have no results yet. */
  awaitsResults: boolean;
}

export class ConversationHistory {
  private readonly responses = new Map<ResponseId, ResponseEntry>();
  /** The response whose words the caller is hearing now (undefined: spoken text outside any response). */
  private playing: ResponseId | undefined;
  /** The assistant message collecting words said outside a response (greeting, `say()`), if the last one. */
  private loose: AssistantMessage | undefined;

  constructor(readonly context: LLMContext) {}

  snapshot(): LLMContextSnapshot {
    return this.context.snapshot();
  }

  /** A user turn: the assistant messages before it take no more words (later words start new ones). */
  addUserMessage(text: string): void {
    this.closeResponses();
    this.context.addUserMessage(text);
  }

  /**
   * A note for the model that the caller does not hear (a transfer's outcome): a system message at the end. Like
   * a user turn, it closes the assistant messages before it, so words heard after it follow it.
   */
  addNote(text: string): void {
    this.closeResponses();
    this.context.addMessage({ role: 'system', content: text });
  }

  /** The caller starts hearing a response (its start frame has played through). */
  responseStarted(response: ResponseId): void {
    this.playing = response;
    this.loose = undefined;
  }

  /** Words the caller heard. */
  addHeard(text: string): void {
    const words = text.trim();
    if (words === '') return;
    const response = this.playing;
    if (response === undefined) {
      this.loose = this.loose === undefined ? this.append(words) : this.extend(this.loose, words);
      return;
    }
    const entry = this.responses.get(response);
    if (entry?.takesWords === true) entry.message = this.extend(entry.message, words);
    else this.responses.set(response, { message: this.append(words), takesWords: true, awaitsResults: false });
  }

  /** The model called tools in `response`: the calls join that response's message (made now if it has none). */
  addToolCalls(response: ResponseId, toolCalls: readonly LLMToolCall[]): void {
    const entry = this.responses.get(response);
    if (entry === undefined) {
      const message: AssistantMessage = { role: 'assistant', content: '', toolCalls: [...toolCalls] };
      this.context.addMessage(message);
      this.responses.set(response, { message, takesWords: true, awaitsResults: true });
      return;
    }
    const updated: AssistantMessage = { ...entry.message, toolCalls: [...(entry.message.toolCalls ?? []), ...toolCalls] };
    this.replace(entry.message, updated);
    entry.message = updated;
    entry.awaitsResults = true;
  }

  /** The results of `response`'s tool calls: right after its message and the results already there. */
  addToolResults(response: ResponseId, results: readonly ToolResultEntry[]): void {
    const entry = this.responses.get(response);
    let index = entry === undefined ? -1 : this.context.messages.lastIndexOf(entry.message);
    // Without its message (a user rewrote the context) a result cannot be placed, and an orphan would be refused.
    if (entry === undefined || index < 0) return;
    entry.awaitsResults = false;
    if (!entry.takesWords) this.responses.delete(response);
    const messages = this.context.messages;
    while (messages[index + 1]?.role === 'tool') index++;
    this.context.insertMessages(
      index + 1,
      results.map(toolResultMessage),
    );
  }

  /** The assistant messages so far take no more words (later words start new ones). */
  private closeResponses(): void {
    for (const [response, entry] of this.responses) {
      if (entry.awaitsResults) entry.takesWords = false;
      else this.responses.delete(response);
    }
    this.playing = undefined;
    this.loose = undefined;
  }

  private append(text: string): AssistantMessage {
    const last = this.context.messages.at(-1);
    // Consecutive plain assistant text reads as one message (as the previous assistant aggregator merged it).
    if (last?.role === 'assistant' && last.toolCalls === undefined && !this.isOwned(last)) return this.extend(last, text);
    const message: AssistantMessage = { role: 'assistant', content: text };
    this.context.addMessage(message);
    return message;
  }

  private extend(message: AssistantMessage, text: string): AssistantMessage {
    const updated: AssistantMessage = { ...message, content: message.content === '' ? text : `${message.content} ${text}` };
    this.replace(message, updated);
    return updated;
  }

  private replace(message: AssistantMessage, updated: AssistantMessage): void {
    const index = this.context.messages.lastIndexOf(message);
    if (index >= 0) this.context.replaceMessage(index, updated);
    else this.context.addMessage(updated);
  }

  private isOwned(message: LLMMessage): boolean {
    for (const entry of this.responses.values()) if (entry.message === message) return true;
    return false;
  }
}
