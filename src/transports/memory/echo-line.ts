// EchoLine: a speakerphone on the memory caller's line. The agent's audio the caller receives comes back into what
// the line sends, `delayMs` later and `levelDb` quieter (plus a weaker reflection at twice the delay, as a room
// gives), so tests can hear the agent interrupting itself and an echo canceller taking that away.
import { StreamingResampler } from '../../audio/index.js';

export interface EchoLineOptions {
  /** Level of the echo relative to the agent's audio, in dB (negative: -6 is half the amplitude). */
  levelDb: number;
  /** Delay from the agent's audio reaching the caller to its echo entering the caller's microphone. */
  delayMs: number;
}

const REFLECTION_GAIN = 0.4;

export class EchoLine {
  private readonly gain: number;
  private readonly delaySamples: number;
  /** The microphone's timeline of echo, indexed by sample time at the caller's rate (a ring of about 4 s). */
  private readonly timeline: Float32Array;
  private readonly mask: number;
  private end = 0;
  private resampler: StreamingResampler | undefined;

  constructor(
    options: EchoLineOptions,
    private readonly sampleRate: number,
  ) {
    if (!(options.delayMs >= 0) || !Number.isFinite(options.levelDb)) {
      throw new RangeError(`echo needs delayMs >= 0 and a finite levelDb, got ${JSON.stringify(options)}`);
    }
    this.gain = 10 ** (options.levelDb / 20);
    this.delaySamples = Math.round((options.delayMs * sampleRate) / 1000);
    const size = 2 ** Math.ceil(Math.log2(sampleRate * 4));
    this.timeline = new Float32Array(size);
    this.mask = size - 1;
  }

  /** Agent audio the caller received at `atMs`: its echo is added to the timeline. */
  heard(audio: Int16Array, sampleRate: number, atMs: number): void {
    let samples = audio;
    if (sampleRate !== this.sampleRate) {
      if (this.resampler === undefined || this.resampler.inputRate !== sampleRate) {
        this.resampler = new StreamingResampler({ inputRate: sampleRate, outputRate: this.sampleRate });
      }
      samples = this.resampler.process(audio);
    }
    let start = Math.round((atMs * this.sampleRate) / 1000) + this.delaySamples;
    if (Math.abs(start - this.end + this.delaySamples) <= this.sampleRate / 1000) start = this.end - this.delaySamples;
    const last = start + samples.length + this.delaySamples;
    for (let i = Math.max(this.end, last - this.timeline.length); i < last; i++) this.timeline[i & this.mask] = 0;
    for (let i = 0; i < samples.length; i++) {
      const v = this.gain * samples[i]!;
      this.timeline[(start + i) & this.mask]! += v;
      this.timeline[(start + i + this.delaySamples) & this.mask]! += REFLECTION_GAIN * v;
    }
    this.end = Math.max(this.end, last);
  }

  /** `frame` (sent at `nowMs`, ending then) with the echo of that moment added; a new array when there is echo. */
  addTo(frame: Int16Array, nowMs: number): Int16Array {
    const first = Math.round((nowMs * this.sampleRate) / 1000) - frame.length;
    if (first >= this.end || first + frame.length <= this.end - this.timeline.length) return frame;
    const out = new Int16Array(frame.length);
    for (let i = 0; i < frame.length; i++) {
      const at = first + i;
      const echo = at < this.end && at >= 0 && at >= this.end - this.timeline.length ? this.timeline[at & this.mask]! : 0;
      const v = Math.round(frame[i]! + echo);
      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    return out;
  }
}
