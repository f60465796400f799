// Voice activity detection: turns a model's per-window speech confidence into a debounced speaking state.
//
// Audio of any length is cut into the model's fixed windows. A window counts as speech when the model is confident
// enough AND the smoothed loudness is high enough (so confident-but-faint audio such as distant voices or line
// noise does not open a turn). The state only flips after `startSecs` of consecutive speech windows or `stopSecs`
// of silence, which filters out clicks and the short pauses inside a sentence.
//
// The end of speech is timed in audio, not in whole windows: the model's confidence stays high for a window or two
// after the voice stops, and a window only completes 32 ms after its first sample, which together made the turn end
// 40-100 ms after `stopSecs` of silence. So the silence is counted from the last sample that was loud relative to
// the speech itself (never more than four windows before the model's last speech window), and the decision is taken
// as soon as the samples fed reach `stopSecs` of it, also inside a window. Line noise loud enough to pass the level
// test keeps the old rule: `stopSecs` of consecutive non-speech windows.

export type VADState = 'quiet' | 'starting' | 'speaking' | 'stopping';

export interface VADParams {
  /** Minimum model confidence in [0, 1] for a window to count as speech. */
  confidence: number;
  /** Seconds of consecutive speech before the state becomes 'speaking'. */
  startSecs: number;
  /** Seconds of consecutive non-speech before a 'speaking' state becomes 'quiet'. */
  stopSecs: number;
  /** Minimum smoothed loudness in [0, 1] (see `windowLoudness`) for a window to count as speech. */
  minVolume: number;
}

export const DEFAULT_VAD_PARAMS: Readonly<VADParams> = Object.freeze({
  confidence: 0.7,
  startSecs: 0.2,
  stopSecs: 0.2,
  minVolume: 0.6,
});

const PARAM_NAMES: ReadonlyArray<keyof VADParams> = ['confidence', 'startSecs', 'stopSecs', 'minVolume'];

/**
 * Complete parameters from `partial` over `base`. Confidence and minVolume are clamped to [0, 1] and the durations
 * to >= 0; a value that is not a number, NaN, an infinite duration or an unknown field name is a RangeError.
 */
export function resolveVADParams(
  partial: Partial<VADParams> = {},
  base: Readonly<VADParams> = DEFAULT_VAD_PARAMS,
): VADParams {
  for (const key of Object.keys(partial)) {
    if (!(PARAM_NAMES as readonly string[]).includes(key)) {
      throw new RangeError(`unknown VAD parameter '${key}'; the parameters are ${PARAM_NAMES.join(', ')}`);
    }
  }
  const pick = (name: keyof VADParams): number => {
    // Only an absent (undefined) field takes the base value; null is a wrong type like any other.
    const value: unknown = partial[name] === undefined ? base[name] : partial[name];
    if (typeof value !== 'number' || Number.isNaN(value)) {
      const got = typeof value === 'number' ? 'NaN' : value === null ? 'null' : typeof value;
      throw new RangeError(`VAD parameter ${name} must be a number, got ${got}`);
    }
    return value;
  };
  const unit = (name: 'confidence' | 'minVolume'): number => Math.min(1, Math.max(0, pick(name)));
  const seconds = (name: 'startSecs' | 'stopSecs'): number => {
    const value = pick(name);
    if (!Number.isFinite(value)) throw new RangeError(`VAD parameter ${name} must be finite, got ${value}`);
    return Math.max(0, value);
  };
  return {
    confidence: unit('confidence'),
    startSecs: seconds('startSecs'),
    stopSecs: seconds('stopSecs'),
    minVolume: unit('minVolume'),
  };
}

/** A sample counts as voice when louder than this share of the loudest speech window's RMS in the turn (−20 dB)... */
const LOUD_SHARE_OF_SPEECH = 0.1;
/** ... and than this absolute level (int16; −50 dBFS), so a quiet line is not 'voice'. */
const LOUD_FLOOR = 100;
/** How far the energy may move the start of the silence before the model's last speech window (its tail). */
const MAX_TAIL_WINDOWS = 4;

/** Weight of the newest window in the exponentially smoothed loudness. */
const VOLUME_SMOOTHING = 0.2;

/**
 * Loudness of a window normalised to [0, 1]: its level in dB on int16-scaled samples (20·log10(rms) − 0.691, the
 * K-weighting offset of the loudness scale Pipecat uses) mapped linearly from −20 → 0 to 80 → 1. A window of rms
 * 108 (−49.6 dBFS) is at 0.6, the default threshold; normal speech is around 0.85–0.95.
 */
export function windowLoudness(rmsInt16: number): number {
  if (!(rmsInt16 > 0)) return 0;
  const loudness = 20 * Math.log10(rmsInt16) - 0.691;
  return Math.min(1, Math.max(0, (loudness + 20) / 100));
}

export interface VADAnalyzerOptions {
  sampleRate: number;
  /** Samples per model window. */
  windowSamples: number;
  params?: Partial<VADParams>;
}

/**
 * The state machine shared by every VAD model. Subclasses provide `voiceConfidence` for one window.
 *
 * `analyze` calls are processed one after another in call order, even when not awaited; the samples passed must
 * not be modified until the returned promise settles.
 */
export abstract class VADAnalyzer {
  readonly sampleRate: number;
  readonly windowSamples: number;

  private vadParams: VADParams;
  private startWindows = 0;
  private stopWindows = 0;

  private currentState: VADState = 'quiet';
  private startingCount = 0;
  private stoppingCount = 0;
  private smoothedVolume = 0;

  /** The window being filled, as floats in [-1, 1); reused for every window. */
  private readonly window: Float32Array;
  private windowFill = 0;
  private samplesAnalyzed = 0;
  private transitionSample: number | undefined;

  /** Samples of silence that end speech (`stopSecs` in samples). */
  private stopSamples = 0;
  /** Stream position (samples) after the last sample louder than the voice threshold. */
  private lastLoudEnd = 0;
  /** Stream position at the end of the last window the model and level counted as speech. */
  private lastSpeechWindowEnd = 0;
  /** RMS of the loudest speech window of the current turn: the reference of the voice threshold. */
  private speechPeakRms = 0;
  /** |sample| above which a sample counts as voice (int16 units). */
  private loudThreshold = LOUD_FLOOR;

  /** Tail of the chain that serialises `analyze` calls. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Bumped by `reset`, so audio from `analyze` calls made before it does not leak into the fresh state. */
  private generation = 0;

  protected constructor(options: VADAnalyzerOptions) {
    const { sampleRate, windowSamples } = options;
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
      throw new RangeError(`sampleRate must be a positive integer, got ${sampleRate}`);
    }
    if (!Number.isInteger(windowSamples) || windowSamples <= 0) {
      throw new RangeError(`windowSamples must be a positive integer, got ${windowSamples}`);
    }
    this.sampleRate = sampleRate;
    this.windowSamples = windowSamples;
    this.window = new Float32Array(windowSamples);
    this.vadParams = resolveVADParams(options.params ?? {});
    this.updateWindowCounts();
  }

  /**
   * Speech probability in [0, 1] for one window of `windowSamples` samples in [-1, 1]. Windows arrive in stream
   * order; the array is reused for the next window, so it must not be kept.
   */
  protected abstract voiceConfidence(window: Float32Array): Promise<number>;

  /** Called by `reset`: clears whatever the model carries from window to window. */
  protected resetModel(): void {}

  get state(): VADState {
    return this.currentState;
  }

  get params(): Readonly<VADParams> {
    return this.vadParams;
  }

  /** Duration of one model window in seconds. */
  get windowSecs(): number {
    return this.windowSamples / this.sampleRate;
  }

  /** Samples analysed since construction or `reset` (complete windows only). */
  get analyzedSamples(): number {
    return this.samplesAnalyzed;
  }

  /**
   * Stream position (samples fed since construction or `reset`) at which the state last turned to 'speaking' or
   * 'quiet': the end of the deciding window, or, for an end of speech decided inside a window, the end of the audio
   * fed so far (a partial window included). Undefined before the first such transition. Comparing it with where
   * speech starts or ends in the audio gives the VAD's delay.
   */
  get lastTransitionSample(): number | undefined {
    return this.transitionSample;
  }

  /** Changes some parameters, keeping the others and the current state. */
  setParams(partial: Partial<VADParams>): void {
    this.vadParams = resolveVADParams(partial, this.vadParams);
    this.updateWindowCounts();
  }

  /** Back to 'quiet' with no buffered audio and a fresh model state (e.g. for a new call). */
  reset(): void {
    this.generation++;
    this.currentState = 'quiet';
    this.startingCount = 0;
    this.stoppingCount = 0;
    this.smoothedVolume = 0;
    this.windowFill = 0;
    this.samplesAnalyzed = 0;
    this.transitionSample = undefined;
    this.lastLoudEnd = 0;
    this.lastSpeechWindowEnd = 0;
    this.speechPeakRms = 0;
    this.loudThreshold = LOUD_FLOOR;
    this.resetModel();
  }

  /** Feeds PCM16 mono audio of any length; resolves with the state after every complete window in it. */
  analyze(samples: Int16Array): Promise<VADState> {
    const generation = this.generation;
    const run = this.queue.then(() => this.consume(samples, generation));
    // The chain must survive a failed call; the failure is reported to this call's caller.
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async consume(samples: Int16Array, generation: number): Promise<VADState> {
    const window = this.window;
    const size = this.windowSamples;
    let offset = 0;
    // Audio given before a reset belongs to the old stream: dropped, even if it was still queued.
    while (offset < samples.length && generation === this.generation) {
      const take = Math.min(size - this.windowFill, samples.length - offset);
      const threshold = this.loudThreshold;
      const position = this.samplesAnalyzed + this.windowFill;
      for (let i = 0; i < take; i++) {
        const sample = samples[offset + i]!;
        window[this.windowFill + i] = sample / 32768;
        if (sample > threshold || sample < -threshold) this.lastLoudEnd = position + i + 1;
      }
      this.windowFill += take;
      offset += take;
      if (this.windowFill < size) {
        // Silence can complete inside a window: decide now rather than up to a window later.
        this.endSpeechIfSilentSince(this.samplesAnalyzed + this.windowFill);
        break;
      }

      // The window is consumed before the model runs, so one the model fails on is dropped, not retried.
      const windowRms = this.windowRms();
      this.windowFill = 0;
      const confidence = await this.voiceConfidence(window);
      if (generation !== this.generation) break;
      this.samplesAnalyzed += size;
      this.advance(confidence, windowRms);
    }
    return this.currentState;
  }

  /** RMS of the current window in int16 units (the floats are exact int16 / 32768). */
  private windowRms(): number {
    let sum = 0;
    for (let i = 0; i < this.windowSamples; i++) {
      const v = this.window[i]! * 32768;
      sum += v * v;
    }
    return Math.sqrt(sum / this.windowSamples);
  }

  private advance(confidence: number, rmsInt16: number): void {
    this.smoothedVolume = VOLUME_SMOOTHING * windowLoudness(rmsInt16) + (1 - VOLUME_SMOOTHING) * this.smoothedVolume;
    const speaking = confidence >= this.vadParams.confidence && this.smoothedVolume >= this.vadParams.minVolume;
    if (speaking) {
      this.lastSpeechWindowEnd = this.samplesAnalyzed;
      if (rmsInt16 > this.speechPeakRms) {
        this.speechPeakRms = rmsInt16;
        this.loudThreshold = Math.max(LOUD_FLOOR, rmsInt16 * LOUD_SHARE_OF_SPEECH);
      }
    }

    if (speaking) {
      if (this.currentState === 'quiet') {
        this.currentState = 'starting';
        this.startingCount = 1;
      } else if (this.currentState === 'starting') {
        this.startingCount++;
      } else if (this.currentState === 'stopping') {
        this.currentState = 'speaking';
        this.stoppingCount = 0;
      }
    } else if (this.currentState === 'starting') {
      this.currentState = 'quiet';
      this.startingCount = 0;
    } else if (this.currentState === 'speaking') {
      this.currentState = 'stopping';
      this.stoppingCount = 1;
    } else if (this.currentState === 'stopping') {
      this.stoppingCount++;
    }

    // A count of 0 or 1 windows turns the state over on the first window that qualifies.
    if (this.currentState === 'starting' && this.startingCount >= this.startWindows) {
      this.currentState = 'speaking';
      this.startingCount = 0;
      this.transitionSample = this.samplesAnalyzed;
    } else if (this.currentState === 'stopping' && this.stoppingCount >= this.stopWindows) {
      this.becomeQuiet(this.samplesAnalyzed);
    } else {
      this.endSpeechIfSilentSince(this.samplesAnalyzed);
    }
  }

  /**
   * While 'stopping' (the model no longer hears speech): quiet once `stopSecs` of audio has been fed since the voice
   * ended — the last loud sample, but no earlier than `MAX_TAIL_WINDOWS` windows before the model's last speech window, so
   * soft speech the model hears is never cut short by more than its usual tail.
   */
  private endSpeechIfSilentSince(position: number): void {
    if (this.currentState !== 'stopping') return;
    const silenceStart = Math.max(this.lastLoudEnd, this.lastSpeechWindowEnd - MAX_TAIL_WINDOWS * this.windowSamples);
    if (position - silenceStart >= this.stopSamples) this.becomeQuiet(position);
  }

  private becomeQuiet(position: number): void {
    this.currentState = 'quiet';
    this.stoppingCount = 0;
    this.transitionSample = position;
    // The next turn sets its own voice threshold (a caller may speak up or down).
    this.speechPeakRms = 0;
    this.loudThreshold = LOUD_FLOOR;
  }

  private updateWindowCounts(): void {
    this.startWindows = Math.round(this.vadParams.startSecs / this.windowSecs);
    this.stopWindows = Math.round(this.vadParams.stopSecs / this.windowSecs);
    this.stopSamples = Math.round(this.vadParams.stopSecs * this.sampleRate);
  }
}
