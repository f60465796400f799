// G.711 μ-law and A-law encode+decode throughput against the `alawmulaw` package, on 60 s of 8 kHz speech-like audio
// processed in 20 ms frames (160 samples) as a call does. Ours writes into preallocated buffers (`out` arguments);
// alawmulaw's API allocates a new array per call, which is part of what a user of it pays.
import alawmulaw from 'alawmulaw';
import { emitSideBySide, measureMs, round } from './lib.js';
import { alawToPcm, mulawToPcm, pcmToAlaw, pcmToMulaw } from '../src/audio/index.js';

const SAMPLE_RATE = 8000;
const SECONDS = 60;
const FRAME_SAMPLES = 160;

/** Deterministic PRNG (mulberry32) so every run codes the same audio. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Voiced-speech stand-in: a gliding 90–220 Hz pitch with decaying harmonics, a syllable envelope and some noise. */
function speechLike(sampleRate: number, seconds: number, seed: number): Int16Array {
  const random = seededRandom(seed);
  const samples = new Int16Array(Math.round(sampleRate * seconds));
  let phase = 0;
  for (let i = 0; i < samples.length; i++) {
    const t = i / sampleRate;
    const pitch = 155 + 65 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * pitch) / sampleRate;
    let voiced = 0;
    for (let harmonic = 1; harmonic <= 12 && harmonic * pitch < sampleRate / 2; harmonic++) {
      voiced += Math.sin(harmonic * phase) / harmonic;
    }
    const envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
    samples[i] = Math.round(6000 * envelope * voiced + 800 * (random() - 0.5));
  }
  return samples;
}

interface Codec {
  name: string;
  ours: {
    encode: (samples: Int16Array, out: Uint8Array) => Uint8Array;
    decode: (codes: Uint8Array, out: Int16Array) => Int16Array;
  };
  peer: { encode: (samples: Int16Array) => Uint8Array; decode: (codes: Uint8Array) => Int16Array };
}

const codecs: Codec[] = [
  {
    name: 'g711_mulaw_encode_decode',
    ours: { encode: pcmToMulaw, decode: mulawToPcm },
    peer: { encode: (s) => alawmulaw.mulaw.encode(s), decode: (c) => alawmulaw.mulaw.decode(c) },
  },
  {
    name: 'g711_alaw_encode_decode',
    ours: { encode: pcmToAlaw, decode: alawToPcm },
    peer: { encode: (s) => alawmulaw.alaw.encode(s), decode: (c) => alawmulaw.alaw.decode(c) },
  },
];

const audio = speechLike(SAMPLE_RATE, SECONDS, 7);
const frames: Int16Array[] = [];
for (let i = 0; i < audio.length; i += FRAME_SAMPLES) frames.push(audio.subarray(i, i + FRAME_SAMPLES));
const audioMs = SECONDS * 1000;
/** Keeps results observable so the JIT cannot drop the work. */
let checksum = 0;

for (const { name, ours, peer } of codecs) {
  const codes = new Uint8Array(FRAME_SAMPLES);
  const decoded = new Int16Array(FRAME_SAMPLES);
  const oursFramesMs = measureMs(() => {
    for (const frame of frames) ours.decode(ours.encode(frame, codes), decoded);
    checksum += decoded[0]!;
  });
  const peerFramesMs = measureMs(() => {
    for (const frame of frames) checksum += peer.decode(peer.encode(frame))[0]!;
  });

  const wholeCodes = new Uint8Array(audio.length);
  const wholeDecoded = new Int16Array(audio.length);
  const oursWholeMs = measureMs(() => {
    ours.decode(ours.encode(audio, wholeCodes), wholeDecoded);
    checksum += wholeDecoded[0]!;
  });
  const peerWholeMs = measureMs(() => {
    checksum += peer.decode(peer.encode(audio))[0]!;
  });

  emitSideBySide(
    {
      name,
      value: round(audioMs / oursFramesMs),
      unit: 'x_realtime',
      frameMs: 20,
      wholeBufferValue: round(audioMs / oursWholeMs),
      peerWholeBufferValue: round(audioMs / peerWholeMs),
    },
    'alawmulaw',
    audioMs / peerFramesMs,
  );
}

if (checksum === Number.MIN_SAFE_INTEGER) process.stderr.write('unreachable\n');
