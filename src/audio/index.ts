// Audio primitives: PCM16 conversions, G.711, resampling, WAV files, framing and level measurement.
export {
  bytesToInt16,
  concatInt16,
  durationMs,
  extractChannel,
  float32ToInt16,
  int16ToBytes,
  int16ToFloat32,
  interleaveStereo,
  samplesForMs,
  toMono,
} from './pcm.js';
export {
  alawToLinear,
  alawToPcm,
  linearToAlaw,
  linearToMulaw,
  mulawToLinear,
  mulawToPcm,
  pcmToAlaw,
  pcmToMulaw,
} from './g711.js';
export { StreamingResampler, resample } from './resampler.js';
export type { ResamplerQuality, StreamingResamplerOptions } from './resampler.js';
export { WavFormatError, readWav, readWavFile, writeWav, writeWavFile } from './wav.js';
export type { WavAudio } from './wav.js';
export { AudioChunker, chunkAudio } from './chunker.js';
export type { AudioChunkerOptions, ChunkerFlushOptions } from './chunker.js';
export { amplitudeToDbfs, dbfs, dbfsToAmplitude, peak, rms } from './volume.js';
export * from './vad/index.js';
