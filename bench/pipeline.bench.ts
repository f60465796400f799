// Pipeline hop latency: one 20 ms audio frame (16 kHz) entering a task whose pipeline holds 10 pass-through
// processors, timed from queueFrame() to its arrival at the last processor. Frames are sent one per
// setImmediate turn, as a socket would deliver them, so each measurement includes a cold-ish call path
// rather than a tight loop the JIT can fold.
import { inputAudioFrame, type Frame, type FrameDirection } from '../src/frames/index.js';
import { silentLogger } from '../src/logging/index.js';
import { FrameProcessor, Pipeline, PipelineTask } from '../src/pipeline/index.js';
import { emit, percentile, round } from './lib.js';

const PROCESSORS = 10;
const FRAMES = 20_000;
const WARMUP = 2_000;

class ArrivalClock extends FrameProcessor {
  arrivedAt = 0;
  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (frame.type === 'input-audio') this.arrivedAt = performance.now();
    return this.pushFrame(frame, direction);
  }
}

async function measure(withObserver: boolean): Promise<Float64Array> {
  const processors = Array.from({ length: PROCESSORS - 1 }, () => new FrameProcessor());
  const clock = new ArrivalClock();
  let observed = 0;
  const task = new PipelineTask(new Pipeline([...processors, clock]), {
    logger: silentLogger,
    observers: withObserver ? [{ onProcessFrame: () => void observed++ }] : [],
  });
  const running = task.run();
  const samples = new Float64Array(FRAMES);
  const audio = new Int16Array(320);
  for (let i = 0; i < WARMUP + FRAMES; i++) {
    const frame = inputAudioFrame(audio, 16000);
    const start = performance.now();
    void task.queueFrame(frame);
    if (i >= WARMUP) samples[i - WARMUP] = (clock.arrivedAt - start) * 1000;
    if (i % 16 === 0) await new Promise((r) => setImmediate(r));
  }
  task.stopWhenDone();
  await running;
  return samples.sort();
}

for (const withObserver of [false, true]) {
  const sorted = await measure(withObserver);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  const suffix = withObserver ? '_observed' : '';
  emit({
    name: `pipeline_frame_${PROCESSORS}_processors_us${suffix}`,
    value: round(p50, 3),
    unit: 'us',
    p50: round(p50, 3),
    p99: round(p99, 3),
    frames: FRAMES,
  });
  emit({
    name: `pipeline_hop_us${suffix}`,
    value: round(p50 / PROCESSORS, 3),
    unit: 'us',
    p50: round(p50 / PROCESSORS, 3),
    p99: round(p99 / PROCESSORS, 3),
    processors: PROCESSORS,
  });
}
