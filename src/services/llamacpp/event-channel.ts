// A one-consumer queue from callbacks to an async iterator: node-llama-cpp reports tokens through a callback while
// the LLM service reads an async stream. Pushes never wait (a token costs milliseconds; the reader keeps up).
export class EventChannel<T> {
  private readonly items: T[] = [];
  private error: unknown;
  private failed = false;
  private ended = false;
  private wake: (() => void) | undefined;

  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    this.notify();
  }

  /** Ends the stream with an error, thrown to the reader after the items already pushed. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.error = error;
    this.failed = true;
    this.end();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    while (true) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.ended) {
        if (this.failed) throw this.error;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
