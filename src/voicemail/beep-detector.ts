// The beep a voicemail plays before it records: one steady tone (commonly somewhere between 400 and 2000 Hz, held
// for a fifth of a second to a second). Speech is never one frequency for long: a voice spreads its energy over many
// harmonics and glides between them. So a window is "tonal" when one narrow band holds nearly all of its energy,
// and a beep is a run of tonal windows at the same frequency.
//
// Each 20 ms window is measured with a bank of Goertzel filters (one per candidate frequency, 25 Hz apart: a tone
// between two of them still puts ≥ 80 % of its energy in the nearer one), run only when the window is loud enough.

/** A tone the detector found, in the detector's audio time (ms since the first sample it was given). */
export interface Beep {
  readonly frequencyHz: number;
  readonly startMs: number;
  /** Set once the tone has stopped. */
  readonly endMs?: number;
}

export interface BeepDetectorOptions {
  /** The rate of the audio given to `push`. */
  sampleRate: number;
  /** Shortest tone that counts as a beep. Default 120 ms. */
  minBeepMs?: number;
  /** Share of a window's energy one frequency must hold. Default 0.7 (a pure tone scores 0.8 to 1). */
  minTonality?: number;
  /** Quietest window measured, in dBFS (RMS). Default -45. */
  minLevelDbfs?: number;
  /** Lowest and highest frequencies looked for. Default 300 and 2500 Hz. */
  minFrequencyHz?: number;
  maxFrequencyHz?: number;
}

const WINDOW_MS = 20;
const BIN_SPACING_HZ = 25;
/** How far (Hz) a tone's frequency may move between windows and still be the same tone. */
const SAME_TONE_HZ = 60;

export class BeepDetector {
  private readonly windowSamples: number;
  private readonly coefficients: Float64Array;
  private readonly frequencies: Float64Array;
  private readonly minWindows: number;
  private readonly minTonality: number;
  private readonly minEnergy: number;
  private readonly window: Float64Array;
  private filled = 0;
  private windowsSeen = 0;
  /** The tone running now: its frequency, first window and length in windows. */
  private run: { frequencyHz: number; startWindow: number; windows: number } | undefined;
  private current: Beep | undefined;

  constructor(options: BeepDetectorOptions) {
    const { sampleRate } = options;
    if (!Number.isInteger(sampleRate) || sampleRate < 8000) throw new RangeError(`BeepDetector: sampleRate must be an integer >= 8000, got ${sampleRate}`);
    const minHz = options.minFrequencyHz ?? 300;
    const maxHz = Math.min(options.maxFrequencyHz ?? 2500, sampleRate / 2 - BIN_SPACING_HZ);
    if (!(minHz > 0 && maxHz > minHz)) throw new RangeError(`BeepDetector: need 0 < minFrequencyHz < maxFrequencyHz, got ${minHz} and ${maxHz}`);
    this.windowSamples = Math.round((sampleRate * WINDOW_MS) / 1000);
    const count = Math.floor((maxHz - minHz) / BIN_SPACING_HZ) + 1;
    this.frequencies = new Float64Array(count);
    this.coefficients = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      this.frequencies[i] = minHz + i * BIN_SPACING_HZ;
      this.coefficients[i] = 2 * Math.cos((2 * Math.PI * this.frequencies[i]!) / sampleRate);
    }
    this.minWindows = Math.max(1, Math.ceil((options.minBeepMs ?? 120) / WINDOW_MS));
    this.minTonality = options.minTonality ?? 0.7;
    const rms = 32768 * 10 ** ((options.minLevelDbfs ?? -45) / 20);
    this.minEnergy = rms * rms * this.windowSamples;
    this.window = new Float64Array(this.windowSamples);
  }

  /** The beep found last (in progress, or ended), if any. */
  get beep(): Beep | undefined {
    return this.current;
  }

  /** Feeds audio; returns the beep when one is found or ends in it (undefined otherwise). */
  push(samples: Int16Array): Beep | undefined {
    let news: Beep | undefined;
    for (let i = 0; i < samples.length; i++) {
      this.window[this.filled++] = samples[i]!;
      if (this.filled < this.windowSamples) continue;
      this.filled = 0;
      news = this.analyseWindow() ?? news;
    }
    return news;
  }

  reset(): void {
    this.filled = 0;
    this.windowsSeen = 0;
    this.run = undefined;
    this.current = undefined;
  }

  private analyseWindow(): Beep | undefined {
    const index = this.windowsSeen++;
    const frequency = this.tone();
    const run = this.run;
    if (frequency !== undefined && run !== undefined && Math.abs(frequency - run.frequencyHz) <= SAME_TONE_HZ) {
      run.windows++;
      if (run.windows === this.minWindows) {
        this.current = { frequencyHz: run.frequencyHz, startMs: run.startWindow * WINDOW_MS };
        return this.current;
      }
      return undefined;
    }
    // The tone (if any) stopped or changed frequency.
    let ended: Beep | undefined;
    if (run !== undefined && run.windows >= this.minWindows) {
      ended = { frequencyHz: run.frequencyHz, startMs: run.startWindow * WINDOW_MS, endMs: index * WINDOW_MS };
      this.current = ended;
    }
    this.run = frequency === undefined ? undefined : { frequencyHz: frequency, startWindow: index, windows: 1 };
    return ended;
  }

  /** The frequency holding nearly all of the window's energy, or undefined when none does (or it is too quiet). */
  private tone(): number | undefined {
    const x = this.window;
    const n = x.length;
    let energy = 0;
    for (let i = 0; i < n; i++) energy += x[i]! * x[i]!;
    if (energy < this.minEnergy) return undefined;
    let bestPower = 0;
    let best = -1;
    for (let k = 0; k < this.coefficients.length; k++) {
      const c = this.coefficients[k]!;
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const s0 = x[i]! + c * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      const power = s1 * s1 + s2 * s2 - c * s1 * s2;
      if (power > bestPower) {
        bestPower = power;
        best = k;
      }
    }
    // A pure tone at a filter's frequency has power (A·n/2)² and energy A²·n/2: the ratio below is then 1.
    const tonality = (2 * bestPower) / (n * energy);
    return tonality >= this.minTonality ? this.frequencies[best] : undefined;
  }
}
