// The speech of the calls benchmark, made the same way as the peer harness's: flite's `kal16` voice (16 kHz),
// near-silence (|x| <= 50) trimmed from both ends so the last frame of an utterance is the last one with speech,
// padded to whole 20 ms frames. The WAVs are cached in .bench/audio/ so every run uses the same audio.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWav } from '../../src/audio/index.js';

export const SAMPLE_RATE = 16000;
export const FRAME_MS = 20;
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;

/** What the callers say, in rotation (the peer's six lines). */
export const CALLER_LINES = [
  'Hi, I need help with my order.',
  'It was supposed to arrive yesterday.',
  'The order number is four five six.',
  'Can you check where it is now?',
  'Could you also update my address?',
  'Okay, thank you very much.',
] as const;

/** The agent's reply: the scripted LLM's text, and the speech the fake TTS plays for it. */
export const REPLY_LINE = 'Sure, let me check that for you.';

const TRIM_THRESHOLD = 50;

export interface BenchAudio {
  /** Each caller line cut into 20 ms frames (views of one array each, shared read-only by every call). */
  callerFrames: readonly (readonly Int16Array[])[];
  /** The reply speech, trimmed and padded like the caller's. */
  reply: Int16Array;
}

/** From the first to the last sample louder than |50|, padded with zeros to a whole number of frames. */
export function trimToFrames(samples: Int16Array, frameSamples = FRAME_SAMPLES): Int16Array {
  let first = 0;
  while (first < samples.length && Math.abs(samples[first]!) <= TRIM_THRESHOLD) first++;
  let last = samples.length - 1;
  while (last > first && Math.abs(samples[last]!) <= TRIM_THRESHOLD) last--;
  const length = Math.max(0, last - first + 1);
  const out = new Int16Array(Math.ceil(length / frameSamples) * frameSamples);
  out.set(samples.subarray(first, first + length));
  return out;
}

export function frames(samples: Int16Array, frameSamples = FRAME_SAMPLES): Int16Array[] {
  const out: Int16Array[] = [];
  for (let i = 0; i < samples.length; i += frameSamples) out.push(samples.subarray(i, i + frameSamples));
  return out;
}

function fliteWav(dir: string, name: string, text: string): Int16Array {
  const file = join(dir, `${name}.wav`);
  if (!existsSync(file)) {
    if (spawnSync('flite', ['--version'], { stdio: 'ignore' }).error !== undefined) {
      throw new Error('the calls benchmark makes its caller speech with the flite program: apt-get install -y flite');
    }
    execFileSync('flite', ['-voice', 'kal16', '-t', text, '-o', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const wav = readWav(readFileSync(file));
  if (wav.sampleRate !== SAMPLE_RATE || wav.channels !== 1) {
    throw new Error(`${file}: expected mono ${SAMPLE_RATE} Hz from flite -voice kal16, got ${wav.channels} ch ${wav.sampleRate} Hz`);
  }
  return trimToFrames(wav.samples);
}

/** Makes (once) and loads the benchmark's speech; `root` is the repository (the cache is root/.bench/audio). */
export function loadBenchAudio(root: string): BenchAudio {
  const dir = join(root, '.bench', 'audio');
  mkdirSync(dir, { recursive: true });
  return {
    callerFrames: CALLER_LINES.map((text, i) => frames(fliteWav(dir, `caller${i}`, text))),
    reply: fliteWav(dir, 'reply', REPLY_LINE),
  };
}
