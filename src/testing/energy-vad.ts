// EnergyVAD: a loudness-threshold voice detector for tests. It is cheap (Silero for twenty calls would make a test
// about CPU), exact (a tone is speech, digital silence is not) and runs in the caller's thread, so a VirtualClock can
// drive it. It follows the real analysers' states: quiet → speaking after `startMs` of loud audio, back to quiet
// after `stopMs` of quiet audio.
import type { VADState } from '../audio/vad/index.js';
import type { VoiceActivityDetector } from '../turns/index.js';

export interface EnergyVADOptions {
  sampleRate?: number;
  /** RMS above which a frame counts as voiced. Default 500. */
  threshold?: number;
  startMs?: number;
  stopMs?: number;
}

export class EnergyVAD implements VoiceActivityDetector {
  readonly sampleRate: number;
  private readonly threshold: number;
  private readonly startMs: number;
  private readonly stopMs: number;
  private state: VADState = 'quiet';
  private runMs = 0;

  constructor(options: EnergyVADOptions = {}) {
    this.sampleRate = options.sampleRate ?? 16000;
    this.threshold = options.threshold ?? 500;
    this.startMs = options.startMs ?? 60;
    this.stopMs = options.stopMs ?? 150;
  }

  analyze(samples: Int16Array): Promise<VADState> {
    let sum = 0;
    for (const s of samples) sum += s * s;
    const voiced = samples.length > 0 && Math.sqrt(sum / samples.length) > this.threshold;
    const ms = (samples.length * 1000) / this.sampleRate;
    const speakingNow = this.state === 'speaking' || this.state === 'stopping';
    if (voiced === speakingNow) {
      this.state = speakingNow ? 'speaking' : 'quiet';
      this.runMs = 0;
    } else {
      this.runMs += ms;
      if (speakingNow) this.state = this.runMs >= this.stopMs ? 'quiet' : 'stopping';
      else this.state = this.runMs >= this.startMs ? 'speaking' : 'starting';
      if (this.state === 'quiet' || this.state === 'speaking') this.runMs = 0;
    }
    return Promise.resolve(this.state);
  }

  reset(): void {
    this.state = 'quiet';
    this.runMs = 0;
  }
}

/** A loud tone standing for a caller's sentence (the scripted STT decides what it "said"). */
export function speechTone(ms: number, sampleRate = 16000, frequency = 330): Int16Array {
  const samples = new Int16Array(Math.round((ms * sampleRate) / 1000));
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * frequency * i) / sampleRate));
  return samples;
}
