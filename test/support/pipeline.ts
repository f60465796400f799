// Helpers for the tests that run a service in a pipeline task: the service and a frame collector, errors gathered,
// frames sent in (an LLM response in pieces among them), and what came out picked apart.
import { concatInt16 } from '../../src/audio/index.js';
import { makeFrame, type ErrorFrame, type Frame, type MetricsData } from '../../src/frames/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { Pipeline, PipelineTask, type FrameProcessor } from '../../src/pipeline/index.js';
import { TTSService } from '../../src/services/base/tts-service.js';
import { FrameCollector } from '../../src/testing/frame-collector.js';

export interface PipelineRun {
  task: PipelineTask;
  collector: FrameCollector;
  errors: ErrorFrame[];
  /** Resolves when the task has stopped. */
  running: Promise<void>;
  /** Queues a frame, without waiting. */
  send: (frame: Frame) => void;
  /** An LLM response streamed in pieces. */
  respond: (pieces: readonly string[]) => void;
  /** Stops the task once the frames queued are done, and waits for it. */
  stop: () => Promise<void>;
}

/** Runs `service` in a task, a collector after it, with metrics on and errors gathered. */
/**
 * Runs `service` in a pipeline. A TTS is run at its own default rate unless `audioOutSampleRate` says otherwise (a TTS
 * adopts a call's output rate when its vendor can make it; these tests are about the vendor at its default).
 */
export function runPipeline(
  service: FrameProcessor,
  options: { audioInSampleRate?: number; audioOutSampleRate?: number } = {},
): PipelineRun {
  const audioOutSampleRate = options.audioOutSampleRate ?? (service instanceof TTSService ? service.sampleRate : undefined);
  const collector = new FrameCollector();
  const errors: ErrorFrame[] = [];
  const task = new PipelineTask(new Pipeline([service, collector]), {
    logger: silentLogger,
    ...(options.audioInSampleRate === undefined ? {} : { audioInSampleRate: options.audioInSampleRate }),
    ...(audioOutSampleRate === undefined ? {} : { audioOutSampleRate }),
    enableMetrics: true,
    onError: (frame) => errors.push(frame),
  });
  const running = task.run();
  const send = (frame: Frame): void => void task.queueFrame(frame);
  return {
    task,
    collector,
    errors,
    running,
    send,
    respond: (pieces) => {
      send(makeFrame('llm-response-start'));
      for (const text of pieces) send(makeFrame('llm-text', { text }));
      send(makeFrame('llm-response-end'));
    },
    stop: async () => {
      task.stopWhenDone();
      await running;
    },
  };
}

/** The audio of the `tts-audio` frames, joined. */
export const audioOf = (frames: readonly Frame[]): Int16Array => concatInt16(frames.flatMap((f) => (f.type === 'tts-audio' ? [f.audio] : [])));

/** The data of the `metrics` frames. */
export const metricsOf = (frames: readonly Frame[]): MetricsData[] => frames.flatMap((f) => (f.type === 'metrics' ? [...f.data] : []));
