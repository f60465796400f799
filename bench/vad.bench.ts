// Silero VAD cost per 32 ms window (512 samples at 16 kHz, 256 at 8 kHz) through SileroVADAnalyzer.analyze, one
// window per call, over about 30 s of Flite speech and pauses, as a call's audio arrives. Includes the
// analyzer's buffering and state machine and the hop to onnxruntime's worker thread; one inference thread.
import { emit, percentile, round } from './lib.js';
import { SileroVADAnalyzer, type SileroSampleRate } from '../src/audio/vad/index.js';
import { concatAudio, silence, synthesizeSpeech } from '../src/testing/speech.js';

const SENTENCES = [
  'Hello, I am calling about my order from last week.',
  'It has not arrived yet and the tracking page shows nothing.',
  'Can you tell me when it will be delivered?',
  'I want to talk to a human please.',
  'My account number is four five six seven eight nine.',
  'Thank you, that is all I needed today.',
];
const TARGET_SECONDS = 30;
const MEASURED_PASSES = 3;

async function callAudio(sampleRate: SileroSampleRate): Promise<Int16Array> {
  const parts: Int16Array[] = [];
  let samples = 0;
  for (let i = 0; samples < TARGET_SECONDS * sampleRate; i++) {
    const pause = silence(400 + 300 * (i % 4), sampleRate);
    const speech = await synthesizeSpeech(SENTENCES[i % SENTENCES.length]!, { sampleRate });
    parts.push(pause, speech);
    samples += pause.length + speech.length;
  }
  return concatAudio(...parts);
}

async function benchmark(name: string, sampleRate: SileroSampleRate): Promise<void> {
  const audio = await callAudio(sampleRate);
  const vad = await SileroVADAnalyzer.load({ sampleRate });
  const size = vad.windowSamples;
  const windows = Math.floor(audio.length / size);

  // One unmeasured pass warms up the JIT and onnxruntime's allocations.
  for (let i = 0; i < windows; i++) await vad.analyze(audio.subarray(i * size, (i + 1) * size));

  const times = new Float64Array(windows * MEASURED_PASSES);
  let speakingWindows = 0;
  for (let pass = 0; pass < MEASURED_PASSES; pass++) {
    vad.reset();
    for (let i = 0; i < windows; i++) {
      const window = audio.subarray(i * size, (i + 1) * size);
      const start = performance.now();
      const state = await vad.analyze(window);
      times[pass * windows + i] = (performance.now() - start) * 1000;
      if (pass === 0 && state === 'speaking') speakingWindows++;
    }
  }
  times.sort();
  const p50 = percentile(times, 50);
  emit({
    name,
    value: round(p50),
    unit: 'us',
    p50: round(p50),
    p99: round(percentile(times, 99)),
    sampleRate,
    windowSamples: size,
    windowMs: round((size / sampleRate) * 1000),
    windows: times.length,
    audioSeconds: round(audio.length / sampleRate, 1),
    speakingShare: round(speakingWindows / windows, 3),
    intraOpThreads: 1,
  });
}

await benchmark('vad_frame_us', 16000);
await benchmark('vad_frame_us_8k', 8000);
