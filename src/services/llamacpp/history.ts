// The provider-neutral conversation as node-llama-cpp's chat history. Its chat wrapper (picked from the model's
// chat template) then renders it in the model's own format, tool calls and results included.
import type { LLMMessage, LLMToolCall } from '../../frames/index.js';
import type { ChatFunctionCallItem, ChatHistoryItem } from './binding.js';

/** Arguments as an object for the history; text that is not JSON stays text (the model wrote it, it sees it again). */
function parseArguments(call: LLMToolCall): unknown {
  try {
    return JSON.parse(call.arguments) as unknown;
  } catch {
    return call.arguments;
  }
}

/** A tool's result as the model sees it: JSON results as values, anything else as text. */
function parseResult(content: string): unknown {
  try {
    return JSON.parse(content) as unknown;
  } catch {
    return content;
  }
}

/**
 * Messages to chat history. An assistant message's tool calls become function calls in its model response, each
 * carrying the result of the tool message with its id; a tool result whose call is not in the history (trimmed
 * away) is given to the model as a user line saying what the tool returned, rather than dropped.
 */
export function toChatHistory(messages: readonly LLMMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const pendingCalls = new Map<string, { item: ChatFunctionCallItem; index: number; response: Array<string | ChatFunctionCallItem> }>();
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        history.push({ type: 'system', text: message.content });
        break;
      case 'user':
        history.push({ type: 'user', text: message.content });
        break;
      case 'assistant': {
        const response: Array<string | ChatFunctionCallItem> = message.content === '' ? [] : [message.content];
        for (const call of message.toolCalls ?? []) {
          const item: ChatFunctionCallItem = { type: 'functionCall', name: call.name, params: parseArguments(call), result: undefined };
          pendingCalls.set(call.id, { item, index: response.length, response });
          response.push(item);
        }
        history.push({ type: 'model', response });
        break;
      }
      case 'tool': {
        const pending = pendingCalls.get(message.toolCallId);
        if (pending === undefined) {
          history.push({ type: 'user', text: `(The tool ${message.name} returned: ${message.content})` });
          break;
        }
        pendingCalls.delete(message.toolCallId);
        pending.response[pending.index] = { ...pending.item, result: parseResult(message.content) };
        break;
      }
    }
  }
  // A call with no result yet (should not happen: results follow their calls) is shown as having returned nothing.
  for (const { item, index, response } of pendingCalls.values()) response[index] = { ...item, result: null };
  return history;
}
