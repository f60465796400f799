// One service in a pipeline on simulated time: the socket work happens in real time against the fake, while every
// timer of the service (timeouts, retry back-off, keepalive) waits for the test to move the clock. A check that a
// retry waits for Retry-After therefore does not depend on how busy the machine is.
import { makeFrame, type ErrorFrame, type Frame, type MetricsData } from '../../../src/frames/index.js';
import { silentLogger, type Logger } from '../../../src/logging/index.js';
import { Pipeline, PipelineTask, type FrameProcessor } from '../../../src/pipeline/index.js';
import { ServiceError } from '../../../src/services/base/index.js';
import { FrameCollector } from '../../../src/testing/frame-collector.js';
import { VirtualClock } from '../../../src/testing/virtual-clock.js';
import { sleep, waitUntil } from '../../support/wait.js';

export interface ConformanceRun {
  readonly clock: VirtualClock;
  readonly collector: FrameCollector;
  readonly errors: ErrorFrame[];
  readonly task: PipelineTask;
  send(frame: Frame): void;
  /** Stops the task once the queued frames are done, and waits for it. */
  stop(): Promise<void>;
  /** Cancels the task at once, and waits for it. */
  cancel(): Promise<void>;
}

export function runOnVirtualClock(
  service: FrameProcessor,
  options: { logger?: Logger; audioInSampleRate?: number; audioOutSampleRate?: number } = {},
): ConformanceRun {
  const clock = new VirtualClock();
  const collector = new FrameCollector();
  const errors: ErrorFrame[] = [];
  const task = new PipelineTask(new Pipeline([service, collector]), {
    logger: options.logger ?? silentLogger,
    clock,
    enableMetrics: true,
    ...(options.audioInSampleRate === undefined ? {} : { audioInSampleRate: options.audioInSampleRate }),
    ...(options.audioOutSampleRate === undefined ? {} : { audioOutSampleRate: options.audioOutSampleRate }),
    onError: (frame) => errors.push(frame),
  });
  const running = task.run();
  return {
    clock,
    collector,
    errors,
    task,
    send: (frame) => void task.queueFrame(frame),
    stop: async () => {
      task.stopWhenDone();
      await running;
    },
    cancel: async () => {
      task.cancel('conformance check over');
      await running;
    },
  };
}

export const metricsOf = (frames: readonly Frame[]): MetricsData[] => frames.flatMap((f) => (f.type === 'metrics' ? [...f.data] : []));

/** The ServiceError of the first error frame. */
export function firstServiceError(errors: readonly ErrorFrame[]): ServiceError {
  const error = errors[0]?.error;
  if (!(error instanceof ServiceError)) throw new Error(`expected a ServiceError, got ${String(error)}`);
  return error;
}

/** Real time for socket work to settle: long enough for a request to reach a local fake on a busy machine. */
export const settleSockets = (): Promise<void> => sleep(60);

export { makeFrame, waitUntil };
