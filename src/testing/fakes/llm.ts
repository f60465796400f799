// What the fake LLM servers (OpenAI chat, Anthropic, Gemini) share: the script of their answers (queued ones, then
// a handler, then a default) and the text they stream in pieces, with rough token counts.

/** The answers a test scripts for a fake: `B` a valid request body, `R` the request's record, `A` an answer. */
export class ResponseScript<B, R, A> {
  private readonly queue: A[] = [];
  private handler: ((body: B, request: R) => A | Promise<A>) | undefined;

  /** Scripts every request not served from the queue. */
  respondWith(handler: (body: B, request: R) => A | Promise<A>): void {
    this.handler = handler;
  }

  /** Queues answers, used one per valid request, before the handler. */
  enqueue(answers: readonly A[]): void {
    this.queue.push(...answers);
  }

  /** The answer to a valid request: the next queued one, else the handler's, else `fallback`. */
  async next(body: B, request: R, fallback: A): Promise<A> {
    return this.queue.shift() ?? (await this.handler?.(body, request)) ?? fallback;
  }
}

/** `text` cut into pieces of `size` code points (random `1..maxSize` when undefined); never splits a surrogate pair. */
export function textPieces(text: string, random: () => number, size?: number, maxSize = 8): string[] {
  const chars = [...text];
  const out: string[] = [];
  for (let i = 0; i < chars.length; ) {
    const n = size ?? 1 + Math.floor(random() * maxSize);
    out.push(chars.slice(i, i + n).join(''));
    i += n;
  }
  return out;
}

/** A rough token count: a token per four characters, at least one. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
