// Re-frames audio arriving in arbitrary sizes (TTS output, file reads, network packets) into the fixed 10/20/40 ms
// frames telephony media streams and VAD/STT engines expect.

export interface AudioChunkerOptions {
  sampleRate: number;
  /** Frame length; must give a whole number of samples at `sampleRate`. Default 20. */
  frameMs?: number;
  /** Interleaved channels per frame. Default 1. */
  channels?: number;
}

export interface ChunkerFlushOptions {
  /** Zero-pad the last partial frame to full length (default) instead of emitting it short. */
  pad?: boolean;
}

/** Samples (all channels, interleaved) in one frame; throws when the settings give no whole number of samples. */
function frameLength(sampleRate: number, frameMs: number, channels: number): number {
  if (!Number.isInteger(channels) || channels < 1) {
    throw new RangeError(`channels must be a positive integer, got ${channels}`);
  }
  if (!(sampleRate > 0) || !Number.isFinite(sampleRate)) {
    throw new RangeError(`sampleRate must be a positive number, got ${sampleRate}`);
  }
  const perChannel = (sampleRate * frameMs) / 1000;
  // Rounding absorbs float noise such as 44100 * 0.01; anything farther from an integer is a real remainder.
  const whole = Math.round(perChannel);
  if (!(frameMs > 0) || whole < 1 || Math.abs(perChannel - whole) > 1e-9) {
    throw new RangeError(`a ${frameMs} ms frame at ${sampleRate} Hz is not a whole, positive number of samples`);
  }
  return whole * channels;
}

/**
 * Splits pushed audio into fixed-size frames. Each emitted frame is a new Int16Array the receiver may keep; a
 * partial frame waits in a preallocated buffer for the next push.
 */
export class AudioChunker {
  /** Samples per frame, all channels interleaved. */
  readonly frameSamples: number;
  private readonly pending: Int16Array;
  private pendingLength = 0;

  constructor(options: AudioChunkerOptions) {
    const { sampleRate, frameMs = 20, channels = 1 } = options;
    this.frameSamples = frameLength(sampleRate, frameMs, channels);
    this.pending = new Int16Array(this.frameSamples);
  }

  /** Samples held back waiting to complete a frame. */
  get pendingSamples(): number {
    return this.pendingLength;
  }

  push(samples: Int16Array, onFrame: (frame: Int16Array) => void): void {
    const frameSamples = this.frameSamples;
    let offset = 0;
    if (this.pendingLength > 0) {
      const take = Math.min(frameSamples - this.pendingLength, samples.length);
      this.pending.set(samples.subarray(0, take), this.pendingLength);
      this.pendingLength += take;
      offset = take;
      if (this.pendingLength < frameSamples) return;
      this.pendingLength = 0;
      onFrame(this.pending.slice());
    }
    for (; offset + frameSamples <= samples.length; offset += frameSamples) {
      onFrame(samples.slice(offset, offset + frameSamples));
    }
    if (offset < samples.length) {
      this.pending.set(samples.subarray(offset));
      this.pendingLength = samples.length - offset;
    }
  }

  /** Emits the pending partial frame, if any: zero-padded to a full frame unless `pad` is false. */
  flush(onFrame: (frame: Int16Array) => void, { pad = true }: ChunkerFlushOptions = {}): void {
    if (this.pendingLength === 0) return;
    const frame = pad ? new Int16Array(this.frameSamples) : new Int16Array(this.pendingLength);
    frame.set(this.pending.subarray(0, this.pendingLength));
    this.pendingLength = 0;
    onFrame(frame);
  }

  /** Drops the pending partial frame. */
  reset(): void {
    this.pendingLength = 0;
  }
}

/** Splits a whole signal into frames; the last partial frame is zero-padded to full length. */
export function chunkAudio(samples: Int16Array, sampleRate: number, frameMs = 20, channels = 1): Int16Array[] {
  const chunker = new AudioChunker({ sampleRate, frameMs, channels });
  const frames: Int16Array[] = [];
  const collect = (frame: Int16Array): void => {
    frames.push(frame);
  };
  chunker.push(samples, collect);
  chunker.flush(collect);
  return frames;
}
