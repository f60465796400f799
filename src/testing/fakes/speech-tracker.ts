// What the fake streaming-STT servers share (AssemblyAI, Speechmatics, ...): "recognition" of the audio actually
// received, without a model. An energy detector finds speech in 10 ms windows; each stretch of speech takes the
// next scripted utterance from a queue shared by every connection of the fake; its words are revealed one per
// `msPerWord` of speech while it goes on, and spread over the speech heard once it is complete. A stream that dies
// in the middle of an utterance gives its words not yet final back to the front of the queue, so a client that
// replays the audio on a new stream gets them. Each vendor's fake turns these facts into its own wire messages.

/** The scripted utterances of one fake, shared by its connections in order. */
export class UtteranceQueue {
  private readonly queue: string[] = [];

  push(...texts: string[]): void {
    this.queue.push(...texts);
  }

  next(): string | undefined {
    return this.queue.shift();
  }

  /** Words a dead stream did not finalise: the next stretch of speech (on any connection) takes them. */
  giveBack(text: string): void {
    if (text.trim() !== '') this.queue.unshift(text);
  }
}

export interface TrackedWord {
  /** As printed with punctuation and casing. */
  readonly text: string;
  /** Seconds from the start of this connection's audio. */
  readonly startSecs: number;
  readonly endSecs: number;
}

export interface SpeechTrackerOptions {
  readonly sampleRate: number;
  /** RMS (PCM16 units) above which a 10 ms window counts as speech. Default 500. */
  readonly speechThreshold?: number;
  /** Audio time per word while words are revealed. Default 300 ms. */
  readonly msPerWord?: number;
  /** Transcript of speech with no scripted utterance left. Default '' (nothing is recognised). */
  readonly defaultTranscript?: string;
}

interface Utterance {
  readonly tokens: string[];
  readonly start: number;
  lastVoicedEnd: number;
  /** Tokens already given out as final. */
  finalized: number;
  /** From the queue (not the default transcript): words a dead stream did not finalise go back to it. */
  readonly scripted: boolean;
}

const WINDOW_MS = 10;

export class SpeechTracker {
  private readonly windowSize: number;
  private windowSumSquares = 0;
  private windowCount = 0;
  /** Samples received. */
  private pos = 0;
  private utterance: Utterance | undefined;

  constructor(
    private readonly queue: UtteranceQueue,
    private readonly options: SpeechTrackerOptions,
  ) {
    this.windowSize = Math.max(1, Math.round((options.sampleRate * WINDOW_MS) / 1000));
  }

  /** Seconds of audio received. */
  get positionSecs(): number {
    return this.pos / this.options.sampleRate;
  }

  /** True while a stretch of speech is open (heard and not yet completed). */
  get inSpeech(): boolean {
    return this.utterance !== undefined;
  }

  /** Silence since the open utterance's last voiced window, in ms (0 when none is open). */
  get pauseMs(): number {
    const u = this.utterance;
    return u === undefined ? 0 : ((this.pos - u.lastVoicedEnd) * 1000) / this.options.sampleRate;
  }

  /** Speech heard so far in the open utterance, in ms. */
  get speechMs(): number {
    const u = this.utterance;
    return u === undefined ? 0 : ((this.pos - u.start) * 1000) / this.options.sampleRate;
  }

  /** Feeds PCM16 samples; `onWindow` runs after each 10 ms window (a vendor fake decides its messages there). */
  push(samples: Int16Array, onWindow: (voiced: boolean) => void): void {
    const threshold = this.options.speechThreshold ?? 500;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      this.windowSumSquares += s * s;
      this.pos++;
      if (++this.windowCount < this.windowSize) continue;
      const voiced = Math.sqrt(this.windowSumSquares / this.windowCount) >= threshold;
      this.windowSumSquares = 0;
      this.windowCount = 0;
      if (voiced) {
        this.utterance ??= this.begin(this.pos - this.windowSize);
        this.utterance.lastVoicedEnd = this.pos;
      }
      onWindow(voiced);
    }
  }

  /** The open utterance's words revealed so far and not yet final (one per `msPerWord` of speech). */
  revealed(): TrackedWord[] {
    const u = this.utterance;
    if (u === undefined) return [];
    const msPerWord = this.options.msPerWord ?? 300;
    const count = Math.min(u.tokens.length, Math.max(1, Math.ceil(this.speechMs / msPerWord)));
    const rate = this.options.sampleRate;
    const now = this.pos / rate;
    const words: TrackedWord[] = [];
    for (let i = u.finalized; i < count; i++) {
      const startSecs = Math.min(u.start / rate + (i * msPerWord) / 1000, now);
      words.push({ text: u.tokens[i]!, startSecs, endSecs: Math.min(startSecs + (0.9 * msPerWord) / 1000, now) });
    }
    return words;
  }

  /**
   * Completes the open utterance: every word not yet final, spread over the speech heard (empty when none is open
   * or it had no words). The next voiced window begins a new utterance.
   */
  complete(): TrackedWord[] {
    const u = this.utterance;
    this.utterance = undefined;
    if (u === undefined) return [];
    const rate = this.options.sampleRate;
    const from = u.finalized;
    const anchor = u.start / rate;
    const end = Math.max(u.lastVoicedEnd / rate, anchor + 0.01);
    const step = (end - anchor) / Math.max(1, u.tokens.length);
    const words: TrackedWord[] = [];
    for (let i = from; i < u.tokens.length; i++) words.push({ text: u.tokens[i]!, startSecs: anchor + i * step, endSecs: anchor + (i + 0.9) * step });
    return words;
  }

  /** Marks the first `count` revealed words of the open utterance as given out final. */
  finalizeRevealed(count: number): void {
    if (this.utterance !== undefined) this.utterance.finalized = Math.min(this.utterance.tokens.length, this.utterance.finalized + count);
  }

  /** The stream died: the open utterance's words not yet final go back to the queue. */
  abandon(): void {
    const u = this.utterance;
    this.utterance = undefined;
    if (u?.scripted === true) this.queue.giveBack(u.tokens.slice(u.finalized).join(' '));
  }

  private begin(start: number): Utterance {
    const scripted = this.queue.next();
    const text = scripted ?? this.options.defaultTranscript ?? '';
    return { tokens: text.split(/\s+/).filter((t) => t !== ''), start, lastVoicedEnd: start, finalized: 0, scripted: scripted !== undefined };
  }
}

/** A token as an unformatted recogniser prints it: lower case, without punctuation. */
export function bareWord(token: string): string {
  return token.toLowerCase().replace(/[^\p{L}\p{N}'-]/gu, '');
}
