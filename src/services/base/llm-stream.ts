// What a provider's streaming completion yields, provider-neutral. Each LLM service turns its vendor's stream
// (OpenAI chunks, Anthropic events, Gemini candidates) into these.
import type { LLMToolCall } from '../../frames/index.js';

export type LLMStreamEvent =
  /** A piece of the spoken reply, in order. */
  | { readonly type: 'text'; readonly text: string }
  /** One complete tool call: id, name and the full JSON arguments text (assembled from the vendor's deltas). */
  | { readonly type: 'tool-call'; readonly toolCall: LLMToolCall }
  /** Token usage of the request, when the vendor reports it. */
  | {
      readonly type: 'usage';
      readonly promptTokens: number;
      readonly completionTokens: number;
      readonly cachedTokens?: number;
    };

export interface StreamCompletionOptions {
  /** Aborting it must stop the request promptly (close the HTTP stream / socket) and end the iteration. */
  readonly signal: AbortSignal;
}
