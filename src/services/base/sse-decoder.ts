// A Server-Sent Events decoder (the WHATWG `text/event-stream` rules) for HTTP bodies read chunk by chunk.
// Network chunks end anywhere: inside a line, between the `\r` and `\n` of a CRLF, inside a multi-byte UTF-8
// character. So bytes go through one streaming TextDecoder, and a line is only handled once its terminator is
// seen. Anthropic ends lines with `\n`, Gemini with `\r\n`; a lone `\r` is legal too.
//
// Shared by the Anthropic and Gemini clients (and fit for any SSE vendor); it lives here until it moves to a
// vendor-neutral place.

export interface ServerSentEvent {
  /** The `event:` field; `message` when the event had none. */
  readonly event: string;
  /** The `data:` lines joined with `\n`. */
  readonly data: string;
  /** The last `id:` seen so far, if any. */
  readonly id?: string;
}

export class SSEDecoder {
  private readonly utf8 = new TextDecoder('utf-8');
  private pending = '';
  /** The previous text ended with `\r`: a `\n` starting the next text belongs to that terminator. */
  private endedWithCR = false;
  private eventType = '';
  private dataLines: string[] = [];
  private lastId: string | undefined;

  /** Decodes one network chunk; returns the events it completed. */
  push(bytes: Uint8Array): ServerSentEvent[] {
    return this.feed(this.utf8.decode(bytes, { stream: true }));
  }

  /**
   * The body ended: flushes the decoder. An event without its closing blank line is dropped, as the standard
   * (and every vendor SDK) does: it may be a half-sent event of a connection that was cut.
   */
  end(): ServerSentEvent[] {
    const events = this.feed(this.utf8.decode());
    this.pending = '';
    this.eventType = '';
    this.dataLines = [];
    return events;
  }

  private feed(text: string): ServerSentEvent[] {
    // A chunk holding only part of a character decodes to nothing; it must not reset the CR state.
    if (text === '') return [];
    let start = 0;
    if (this.endedWithCR && text.startsWith('\n')) start = 1;
    this.endedWithCR = false;
    const buffer = this.pending === '' ? text.slice(start) : this.pending + text.slice(start);
    const events: ServerSentEvent[] = [];
    let lineStart = 0;
    // The pending text holds no terminator: scanning resumes where it ends (long lines stay linear).
    for (let i = this.pending.length; i < buffer.length; i++) {
      const ch = buffer.charCodeAt(i);
      if (ch !== 0x0a && ch !== 0x0d) continue;
      const event = this.line(buffer.slice(lineStart, i));
      if (event !== undefined) events.push(event);
      if (ch === 0x0d) {
        if (i + 1 === buffer.length) this.endedWithCR = true;
        else if (buffer.charCodeAt(i + 1) === 0x0a) i += 1;
      }
      lineStart = i + 1;
    }
    this.pending = buffer.slice(lineStart);
    return events;
  }

  /** Handles one complete line; returns the event a blank line dispatches. */
  private line(line: string): ServerSentEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined; // a comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.dataLines.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      default:
        break; // `retry` and unknown fields do not concern a one-shot request
    }
    return undefined;
  }

  private dispatch(): ServerSentEvent | undefined {
    const event =
      this.dataLines.length === 0
        ? undefined
        : {
            event: this.eventType === '' ? 'message' : this.eventType,
            data: this.dataLines.join('\n'),
            ...(this.lastId === undefined ? {} : { id: this.lastId }),
          };
    this.eventType = '';
    this.dataLines = [];
    return event;
  }
}
