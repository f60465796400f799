// The caller audio a streaming STT keeps for replay: every chunk not yet covered by a final result (bounded), with
// which of them the current socket has been sent. One owner: StreamingSTTService. Chunks are sent as they are kept
// (no copy) unless the vendor wants larger ones (`minChunkSamples`, AssemblyAI's 50 ms), then consecutive chunks
// are joined into one frame of at least that size and at most `maxChunkSamples`; a shorter rest waits for more audio
// (at a VAD stop or the end of the call it is the silence after the speech, so nothing said waits on it).

export interface RetainedChunk {
  readonly bytes: Buffer;
  /** Position of the first sample on the call's audio clock (samples since the start). */
  readonly start: number;
  readonly samples: number;
}

export interface AudioSendLimits {
  /** Smallest frame the vendor accepts, in samples; smaller runs wait for more audio. 0: any. */
  readonly minChunkSamples: number;
  /** Largest frame the vendor accepts, in samples. */
  readonly maxChunkSamples: number;
}

export class RetainedAudio {
  private chunks: RetainedChunk[] = [];
  private samples = 0;
  /** Index of the first chunk not sent on the current socket. */
  private unsentFrom = 0;
  /** Samples forgotten before they were ever sent (the buffer overflowed during an outage), not yet reported. */
  private dropped = 0;

  constructor(private readonly limitSamples: () => number) {}

  /** Where the oldest kept chunk starts, or undefined when nothing is kept. */
  get firstStart(): number | undefined {
    return this.chunks[0]?.start;
  }

  get hasUnsent(): boolean {
    return this.unsentFrom < this.chunks.length;
  }

  /** Samples lost to the bound since the last call, and forgets them. */
  takeDropped(): number {
    const dropped = this.dropped;
    this.dropped = 0;
    return dropped;
  }

  push(chunk: RetainedChunk): void {
    this.chunks.push(chunk);
    this.samples += chunk.samples;
    const limit = this.limitSamples();
    while (this.chunks.length > 1 && this.samples - this.chunks[0]!.samples >= limit) {
      const oldest = this.chunks.shift()!;
      this.samples -= oldest.samples;
      if (this.unsentFrom > 0) this.unsentFrom--;
      else this.dropped += oldest.samples;
    }
  }

  /** A new socket: everything kept is to be sent again. */
  rewind(): void {
    this.unsentFrom = 0;
  }

  /** Forgets sent audio that ends by `untilSample` (a final result covers it). */
  release(untilSample: number): void {
    while (this.unsentFrom > 0 && this.chunks.length > 0 && this.chunks[0]!.start + this.chunks[0]!.samples <= untilSample) {
      this.samples -= this.chunks.shift()!.samples;
      this.unsentFrom--;
    }
  }

  clear(): void {
    this.chunks = [];
    this.samples = 0;
    this.unsentFrom = 0;
    this.dropped = 0;
  }

  /**
   * Hands the unsent chunks to `send` as frames within `limits` and marks them sent; returns the samples sent. A
   * run shorter than the minimum waits for more audio.
   */
  sendUnsent(limits: AudioSendLimits, send: (bytes: Buffer) => void): number {
    let sent = 0;
    while (this.unsentFrom < this.chunks.length) {
      const first = this.chunks[this.unsentFrom]!;
      if (limits.minChunkSamples <= first.samples) {
        send(first.bytes);
        sent += first.samples;
        this.unsentFrom++;
        continue;
      }
      let end = this.unsentFrom;
      let samples = 0;
      while (end < this.chunks.length && samples < limits.minChunkSamples && samples + this.chunks[end]!.samples <= limits.maxChunkSamples) {
        samples += this.chunks[end]!.samples;
        end++;
      }
      if (samples < limits.minChunkSamples || end === this.unsentFrom) break;
      const parts: Buffer[] = [];
      for (let i = this.unsentFrom; i < end; i++) parts.push(this.chunks[i]!.bytes);
      send(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
      sent += samples;
      this.unsentFrom = end;
    }
    return sent;
  }
}
