// Resampling throughput of StreamingResampler ('medium') against the Speex resampler compiled to WASM at quality 3,
// streaming 60 s of speech-like audio in 20 ms chunks as a call does. Each line also carries both resamplers'
// quality measured the same way in the same run, so the speed comparison is at a visible quality level.
import { emitSideBySide, measureMs, round, speechLike } from './lib.js';
import { StreamingResampler } from '../src/audio/index.js';

const SECONDS = 60;
const FRAME_MS = 20;
const SPEEX_QUALITY = 3;

/** The parts of the Emscripten module the benchmark calls; the package ships no type declarations. */
interface SpeexModule {
  _speex_resampler_init(channels: number, inRate: number, outRate: number, quality: number, errPtr: number): number;
  _speex_resampler_process_int(
    state: number,
    channel: number,
    inPtr: number,
    inLenPtr: number,
    outPtr: number,
    outLenPtr: number,
  ): number;
  _speex_resampler_skip_zeros(state: number): number;
  _speex_resampler_reset_mem(state: number): number;
  _speex_resampler_destroy(state: number): void;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  HEAP16: Int16Array;
  HEAPU32: Uint32Array;
}

// A variable specifier keeps TypeScript from looking for declarations the package does not have.
const speexPackage = '@echogarden/speex-resampler-wasm';
const speexFactory = ((await import(speexPackage)) as { default: () => Promise<SpeexModule> }).default;
const speex = await speexFactory();


function tone(frequency: number, sampleRate: number, seconds: number, amplitude: number): Int16Array {
  const samples = new Int16Array(Math.round(sampleRate * seconds));
  for (let i = 0; i < samples.length; i++) {
    samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / sampleRate));
  }
  return samples;
}

/** RMS of the middle 60 %, away from the filters' start-up and tail transients. */
function steadyRms(samples: Int16Array): number {
  const start = Math.floor(samples.length * 0.2);
  const end = Math.floor(samples.length * 0.8);
  let sum = 0;
  for (let i = start; i < end; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / (end - start));
}

type Resample = (input: Int16Array, inputRate: number, outputRate: number) => Int16Array;

/** Streams `input` through a fresh resampler in 20 ms chunks and returns all output. */
function streamOurs(input: Int16Array, inputRate: number, outputRate: number): Int16Array {
  const resampler = new StreamingResampler({ inputRate, outputRate, quality: 'medium' });
  const output = new Int16Array(resampler.maxOutputLength(input.length));
  let written = 0;
  const frame = (inputRate * FRAME_MS) / 1000;
  for (let i = 0; i < input.length; i += frame) {
    written += resampler.processInto(input.subarray(i, i + frame), output.subarray(written));
  }
  return output.subarray(0, written);
}

/** A Speex resampler with its WASM-side buffers for one 20 ms chunk, used the way a caller must: copy in, copy out. */
class SpeexStream {
  private readonly state: number;
  private readonly frame: number;
  private readonly capacity: number;
  private readonly inPtr: number;
  private readonly outPtr: number;
  private readonly inLenPtr: number;
  private readonly outLenPtr: number;
  private readonly errPtr: number;

  constructor(inputRate: number, outputRate: number) {
    this.frame = (inputRate * FRAME_MS) / 1000;
    this.capacity = Math.ceil((this.frame * outputRate) / inputRate) + 64;
    this.errPtr = speex._malloc(4);
    this.state = speex._speex_resampler_init(1, inputRate, outputRate, SPEEX_QUALITY, this.errPtr);
    this.inPtr = speex._malloc(this.frame * 2);
    this.outPtr = speex._malloc(this.capacity * 2);
    this.inLenPtr = speex._malloc(4);
    this.outLenPtr = speex._malloc(4);
    this.restart();
  }

  restart(): void {
    speex._speex_resampler_reset_mem(this.state);
    // Drops the filter's leading zeros so the output starts time-aligned, as ours does.
    speex._speex_resampler_skip_zeros(this.state);
  }

  /** Resamples one chunk of at most a frame into `output` at `offset`; returns the number of samples written. */
  process(chunk: Int16Array, output: Int16Array, offset: number): number {
    speex.HEAP16.set(chunk, this.inPtr >> 1);
    speex.HEAPU32[this.inLenPtr >> 2] = chunk.length;
    speex.HEAPU32[this.outLenPtr >> 2] = this.capacity;
    speex._speex_resampler_process_int(this.state, 0, this.inPtr, this.inLenPtr, this.outPtr, this.outLenPtr);
    const produced = speex.HEAPU32[this.outLenPtr >> 2]!;
    output.set(speex.HEAP16.subarray(this.outPtr >> 1, (this.outPtr >> 1) + produced), offset);
    return produced;
  }

  stream(input: Int16Array, output: Int16Array): number {
    let written = 0;
    for (let i = 0; i < input.length; i += this.frame) {
      written += this.process(input.subarray(i, i + this.frame), output, written);
    }
    return written;
  }

  destroy(): void {
    speex._speex_resampler_destroy(this.state);
    for (const ptr of [this.inPtr, this.outPtr, this.inLenPtr, this.outLenPtr, this.errPtr]) speex._free(ptr);
  }
}

function streamSpeex(input: Int16Array, inputRate: number, outputRate: number): Int16Array {
  const stream = new SpeexStream(inputRate, outputRate);
  const output = new Int16Array(Math.ceil((input.length * outputRate) / inputRate) + 64);
  const written = stream.stream(input, output);
  stream.destroy();
  return output.subarray(0, written);
}

/** Level change of a −6 dBFS tone, in dB (0 is perfect). */
function levelChangeDb(run: Resample, inputRate: number, outputRate: number, frequency: number): number {
  const input = tone(frequency, inputRate, 2, 16384);
  return 20 * Math.log10(steadyRms(run(input, inputRate, outputRate)) / steadyRms(input));
}

/**
 * Amplitude of the `frequency` component of the steady middle part: a single-bin DFT with a Hann window, whose
 * sidelobes fall off fast enough that the strong test tone does not leak into the weak alias/image being measured.
 */
function toneAmplitude(samples: Int16Array, frequency: number, sampleRate: number): number {
  const start = Math.floor(samples.length * 0.2);
  const end = Math.floor(samples.length * 0.8);
  let re = 0;
  let im = 0;
  let windowSum = 0;
  for (let i = start; i < end; i++) {
    const weight = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i - start)) / (end - start - 1));
    const angle = (2 * Math.PI * frequency * i) / sampleRate;
    re += weight * samples[i]! * Math.cos(angle);
    im += weight * samples[i]! * Math.sin(angle);
    windowSum += weight;
  }
  return (2 * Math.hypot(re, im)) / windowSum;
}

/**
 * How far below a −6 dBFS tone at `frequency` the unwanted copy at `unwantedFrequency` (its alias when decimating,
 * its image when interpolating) comes out, in dB.
 */
function rejectionDb(
  run: Resample,
  inputRate: number,
  outputRate: number,
  frequency: number,
  unwantedFrequency: number,
): number {
  const amplitude = 16384;
  const output = run(tone(frequency, inputRate, 2, amplitude), inputRate, outputRate);
  return 20 * Math.log10(amplitude / toneAmplitude(output, unwantedFrequency, outputRate));
}

/**
 * Both sides' quality for one rate pair. Test tones sit 7 Hz off round frequencies so that the int16 rounding error
 * of the input is not periodic: on the sample grid (6000 Hz at 16 kHz repeats every 8 samples) that error has a
 * spectral line exactly where the alias lands and caps every resampler at the same figure.
 */
function qualityFields(inputRate: number, outputRate: number): Record<string, number> {
  const fields: Record<string, number> = {
    passbandError1kDb: round(levelChangeDb(streamOurs, inputRate, outputRate, 1007), 3),
    peerPassbandError1kDb: round(levelChangeDb(streamSpeex, inputRate, outputRate, 1007), 3),
    // The top of the telephone band: how much of it survives.
    level3k4Db: round(levelChangeDb(streamOurs, inputRate, outputRate, 3407), 2),
    peerLevel3k4Db: round(levelChangeDb(streamSpeex, inputRate, outputRate, 3407), 2),
  };
  const rejections: [string, number, number][] =
    outputRate < inputRate
      ? [
          // 6 kHz folds to 2 kHz at 8 kHz output; 4.4 kHz folds to 3.6 kHz, the hard case just past Nyquist.
          ['aliasAttenuation6k', 6007, outputRate - 6007],
          ['aliasAttenuation4k4', 4407, outputRate - 4407],
        ]
      : [
          ['imageAttenuation1k', 1007, inputRate - 1007],
          ['imageAttenuation3k4', 3407, inputRate - 3407],
        ];
  for (const [label, frequency, unwanted] of rejections) {
    fields[`${label}Db`] = round(rejectionDb(streamOurs, inputRate, outputRate, frequency, unwanted), 1);
    const peerLabel = `peer${label[0]!.toUpperCase()}${label.slice(1)}Db`;
    fields[peerLabel] = round(rejectionDb(streamSpeex, inputRate, outputRate, frequency, unwanted), 1);
  }
  return fields;
}

function benchmarkPair(name: string, inputRate: number, outputRate: number): void {
  const input = speechLike(inputRate, SECONDS, 42);
  const frame = (inputRate * FRAME_MS) / 1000;

  const ours = new StreamingResampler({ inputRate, outputRate, quality: 'medium' });
  const ourOutput = new Int16Array(ours.maxOutputLength(frame));
  const oursMs = measureMs(() => {
    ours.reset();
    for (let i = 0; i < input.length; i += frame) ours.processInto(input.subarray(i, i + frame), ourOutput);
  });

  const peer = new SpeexStream(inputRate, outputRate);
  const peerOutput = new Int16Array(Math.ceil((input.length * outputRate) / inputRate) + 64);
  const peerMs = measureMs(() => {
    peer.restart();
    peer.stream(input, peerOutput);
  });
  peer.destroy();

  const audioMs = SECONDS * 1000;
  emitSideBySide(
    {
      name,
      value: round(audioMs / oursMs),
      unit: 'x_realtime',
      frameMs: FRAME_MS,
      quality: 'medium',
      peerQuality: SPEEX_QUALITY,
      ...qualityFields(inputRate, outputRate),
    },
    '@echogarden/speex-resampler-wasm',
    audioMs / peerMs,
  );
}

benchmarkPair('resampler_8k_16k', 8000, 16000);
benchmarkPair('resampler_16k_8k', 16000, 8000);
benchmarkPair('resampler_24k_8k', 24000, 8000);
