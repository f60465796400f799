// G.711 μ-law and A-law encode+decode throughput against the `alawmulaw` package, on 60 s of 8 kHz speech-like audio
// processed in 20 ms frames (160 samples) as a call does. Ours writes into preallocated buffers (`out` arguments);
// alawmulaw's API allocates a new array per call, which is part of what a user of it pays.
import alawmulaw from 'alawmulaw';
import { emitSideBySide, measureMs, round, speechLike } from './lib.js';
import { alawToPcm, mulawToPcm, pcmToAlaw, pcmToMulaw } from '../src/audio/index.js';

const SAMPLE_RATE = 8000;
const SECONDS = 60;
const FRAME_SAMPLES = 160;


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
