// Interruption strategies decide whether the caller speaking over the bot is a real barge-in (stop talking and
// listen) or not (a cough, an "uh-huh"), in which case the bot goes on and that speech is discarded.
// Strategies accumulate one user turn's audio and text, and are reset at the start of every turn.

export interface InterruptionStrategy {
  /** Caller audio of the current turn. */
  appendAudio(samples: Int16Array, sampleRate: number): void;
  /** The turn's transcript so far (the latest full text, finals plus the current interim). */
  setText(text: string): void;
  shouldInterrupt(): boolean;
  reset(): void;
}

/** Interrupts once the caller has said at least `minWords` words. */
export class MinWordsInterruptionStrategy implements InterruptionStrategy {
  readonly minWords: number;
  private words = 0;

  constructor(options: { minWords?: number } = {}) {
    const minWords = options.minWords ?? 1;
    if (!Number.isInteger(minWords) || minWords < 1) {
      throw new RangeError(`MinWordsInterruptionStrategy: minWords must be a whole number >= 1, got ${minWords}`);
    }
    this.minWords = minWords;
  }

  appendAudio(): void {}

  setText(text: string): void {
    this.words = text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
  }

  shouldInterrupt(): boolean {
    return this.words >= this.minWords;
  }

  reset(): void {
    this.words = 0;
  }
}

/** Interrupts once the caller has spoken for at least `seconds` (measured in audio, not wall time). */
export class MinDurationInterruptionStrategy implements InterruptionStrategy {
  readonly seconds: number;
  private spokenSeconds = 0;

  constructor(options: { seconds?: number } = {}) {
    const seconds = options.seconds ?? 0.5;
    if (!(seconds >= 0) || !Number.isFinite(seconds)) {
      throw new RangeError(`MinDurationInterruptionStrategy: seconds must be >= 0, got ${seconds}`);
    }
    this.seconds = seconds;
  }

  appendAudio(samples: Int16Array, sampleRate: number): void {
    this.spokenSeconds += samples.length / sampleRate;
  }

  setText(): void {}

  shouldInterrupt(): boolean {
    return this.spokenSeconds >= this.seconds;
  }

  reset(): void {
    this.spokenSeconds = 0;
  }
}
