// The fake TTS servers' voices and wire encodings. A fake voice is a deterministic tone whose pitch depends on the
// voice and the text (an FNV-1a hash), with a tremolo and a small sawtooth ramp: every byte of every sample
// matters, so a client that drops, reorders, misaligns or misdecodes bytes gets different samples. Each vendor's
// fake has its own timbre (the constants below), which keeps a test from passing on another fake's audio.
import { int16ToBytes, pcmToAlaw, pcmToMulaw } from '../../audio/index.js';

export interface FakeVoiceTimbre {
  /** The pitch is `baseHz + hash % hzSpread`. */
  readonly baseHz: number;
  readonly hzSpread: number;
  readonly amplitude: number;
  /** The tremolo: an envelope of `tremoloBase + tremoloDepth * sin(2π tremoloHz t)`. */
  readonly tremoloBase: number;
  readonly tremoloDepth: number;
  readonly tremoloHz: number;
  /** The ramp added to sample i: `(i * rampStep) % rampPeriod - rampOffset`. */
  readonly rampStep: number;
  readonly rampPeriod: number;
  readonly rampOffset: number;
}

/** `count` samples at `sampleRate` of the tone `timbre` gives `seed` (the voice and the text, as the fake joins them). */
export function fakeVoiceTone(seed: string, count: number, sampleRate: number, timbre: FakeVoiceTimbre): Int16Array {
  let hash = 0x811c9dc5;
  for (const ch of seed) hash = Math.imul(hash ^ (ch.codePointAt(0) ?? 0), 0x01000193) >>> 0;
  const hz = timbre.baseHz + (hash % timbre.hzSpread);
  const samples = new Int16Array(count);
  for (let i = 0; i < count; i++) {
    const t = i / sampleRate;
    const envelope = timbre.tremoloBase + timbre.tremoloDepth * Math.sin(2 * Math.PI * timbre.tremoloHz * t);
    samples[i] = Math.round(timbre.amplitude * envelope * Math.sin(2 * Math.PI * hz * t) + ((i * timbre.rampStep) % timbre.rampPeriod) - timbre.rampOffset);
  }
  return samples;
}

/** Little-endian PCM16, little-endian float32 (sample / 32768), G.711 μ-law or G.711 A-law. */
export type FakeWireEncoding = 's16le' | 'f32le' | 'mulaw' | 'alaw';

/** Wire bytes of `samples` in `encoding`, in a buffer of their own. */
export function encodeSamples(samples: Int16Array, encoding: FakeWireEncoding): Uint8Array {
  switch (encoding) {
    case 'mulaw':
      return pcmToMulaw(samples);
    case 'alaw':
      return pcmToAlaw(samples);
    case 'f32le': {
      const bytes = new Uint8Array(samples.length * 4);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < samples.length; i++) view.setFloat32(i * 4, samples[i]! / 32768, true);
      return bytes;
    }
    default:
      return Uint8Array.from(int16ToBytes(samples));
  }
}
