// PipelineTask: runs a pipeline for the length of one call. It puts a source before the pipeline (where
// `queueFrame` enters and upstream requests arrive) and a sink after it (where the end of the run is seen),
// sends the StartFrame, and resolves `run()` once an EndFrame or CancelFrame has passed through everything and
// every processor has cleaned up.
import {
  describeFrame,
  makeFrame,
  type ErrorFrame,
  type Frame,
  type FrameDirection,
  type StartFrame,
} from '../frames/index.js';
import { getDefaultLogger, type Logger } from '../logging/index.js';
import { systemClock, type Clock, type ClockTimer } from '../runtime/clock.js';
import { FrameProcessor } from './frame-processor.js';
import type { FrameObserver } from './observer.js';

export interface PipelineTaskOptions {
  /** Name in logs. Default: `task#<n>`. */
  name?: string;
  observers?: readonly FrameObserver[];
  logger?: Logger;
  /** Sample rate of audio entering the pipeline. Default 16000 (Piopiy rooms). */
  audioInSampleRate?: number;
  /** Sample rate the output transport plays. Default 8000 (Piopiy rooms). */
  audioOutSampleRate?: number;
  allowInterruptions?: boolean;
  enableMetrics?: boolean;
  /** How long a cancel may take to pass through the pipeline before `run()` gives up waiting. Default 2000. */
  cancelTimeoutMs?: number;
  /** The call's time, given to every processor. Default: the system clock; tests give a VirtualClock. */
  clock?: Clock;
  /** Called for every error frame that reaches the task (after logging). */
  onError?: (frame: ErrorFrame) => void;
}

export type PipelineTaskState = 'idle' | 'running' | 'ending' | 'cancelling' | 'done';

let lastTaskId = 0;

/** Where frames enter the pipeline, and where upstream requests (errors, end, cancel, interrupt) are handled. */
class TaskSource extends FrameProcessor {
  constructor(
    name: string,
    private readonly onUpstream: (frame: Frame) => void,
  ) {
    super({ name });
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === 'upstream') {
      this.onUpstream(frame);
      return;
    }
    return this.pushFrame(frame, 'downstream');
  }

  /** Pushes a frame downstream from the top of the pipeline (used for interruptions requested upstream). */
  inject(frame: Frame): void | Promise<void> {
    return this.pushFrame(frame, 'downstream');
  }
}

/** The end of the pipeline: notices the EndFrame or CancelFrame that completes the run. */
class TaskSink extends FrameProcessor {
  constructor(
    name: string,
    private readonly onFinished: (frame: Frame) => void,
  ) {
    super({ name });
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void {
    if (direction === 'downstream' && (frame.type === 'end' || frame.type === 'cancel')) this.onFinished(frame);
    // Upstream frames start at a processor above; nothing below the sink sends them.
  }
}

export class PipelineTask {
  readonly name: string;
  private readonly pipeline: FrameProcessor;
  private readonly source: TaskSource;
  private readonly sink: TaskSink;
  private readonly logger: Logger;
  private readonly options: PipelineTaskOptions;
  private currentState: PipelineTaskState = 'idle';
  private readonly queuedBeforeRun: Frame[] = [];
  private finish!: () => void;
  private readonly finished: Promise<void>;
  private cancelTimer: ClockTimer | undefined;
  private readonly clock: Clock;
  private endReason: string | undefined;

  constructor(pipeline: FrameProcessor, options: PipelineTaskOptions = {}) {
    this.name = options.name ?? `task#${++lastTaskId}`;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.pipeline = pipeline;
    this.logger = (options.logger ?? getDefaultLogger()).child({ task: this.name });
    this.source = new TaskSource(`${this.name}:source`, (frame) => this.handleUpstream(frame));
    this.sink = new TaskSink(`${this.name}:sink`, (frame) => this.handleFinished(frame));
    this.source.link(pipeline).link(this.sink);
    this.finished = new Promise<void>((resolve) => (this.finish = resolve));
  }

  get state(): PipelineTaskState {
    return this.currentState;
  }

  /** Why the task ended: the reason of its EndFrame/CancelFrame, or of the fatal error. */
  get reason(): string | undefined {
    return this.endReason;
  }

  /**
   * Queues a frame at the top of the pipeline. Frames queued before `run()` are sent right after the StartFrame;
   * frames queued after the task ended are ignored. Returns a promise when the pipeline is congested.
   */
  queueFrame(frame: Frame): void | Promise<void> {
    switch (this.currentState) {
      case 'idle':
        this.queuedBeforeRun.push(frame);
        return;
      case 'done':
      case 'cancelling':
        this.logger.debug({ frame: describeFrame(frame) }, 'frame queued after the task stopped; ignored');
        return;
      default:
        return this.source.queueFrame(frame, 'downstream');
    }
  }

  /** Queues frames in order, waiting whenever the pipeline is congested. */
  async queueFrames(frames: Iterable<Frame>): Promise<void> {
    for (const frame of frames) await this.queueFrame(frame);
  }

  /** Runs the pipeline until an EndFrame or CancelFrame has passed through it, then cleans every processor up. */
  async run(): Promise<void> {
    if (this.currentState !== 'idle') throw new Error(`${this.name}: run() may be called only once`);
    this.currentState = 'running';
    const setup = { observers: this.options.observers ?? [], logger: this.logger, clock: this.clock };
    this.source.setup(setup);
    this.pipeline.setup(setup);
    this.sink.setup(setup);
    const start: StartFrame = makeFrame('start', {
      audioInSampleRate: this.options.audioInSampleRate ?? 16000,
      audioOutSampleRate: this.options.audioOutSampleRate ?? 8000,
      allowInterruptions: this.options.allowInterruptions ?? true,
      enableMetrics: this.options.enableMetrics ?? true,
    });
    void this.source.queueFrame(start, 'downstream');
    for (const frame of this.queuedBeforeRun.splice(0)) {
      if (this.stopping()) break;
      await this.source.queueFrame(frame, 'downstream');
    }
    await this.finished;
    try {
      await this.pipeline.cleanup();
    } catch (error) {
      this.logger.error({ err: error }, 'cleanup failed');
    }
  }

  /** Ends gracefully: an EndFrame follows every frame queued so far. */
  stopWhenDone(reason?: string): void {
    if (this.currentState === 'idle') {
      this.queuedBeforeRun.push(makeFrame('end', { reason }));
      return;
    }
    if (this.currentState !== 'running') return;
    this.currentState = 'ending';
    void this.source.queueFrame(makeFrame('end', { reason }), 'downstream');
  }

  /** Stops now: queued frames are dropped, every processor gets a CancelFrame. */
  cancel(reason?: string): void {
    if (this.currentState === 'done' || this.currentState === 'cancelling') return;
    if (this.currentState === 'idle') {
      this.endReason = reason;
      this.currentState = 'done';
      this.finish();
      return;
    }
    this.currentState = 'cancelling';
    this.endReason ??= reason;
    const timeoutMs = this.options.cancelTimeoutMs ?? 2000;
    this.cancelTimer = this.clock.setTimeout(() => {
      this.logger.warn({ timeoutMs }, 'cancel did not pass through the pipeline in time; stopping anyway');
      this.handleFinished(undefined);
    }, timeoutMs);
    this.cancelTimer.unref();
    void this.source.queueFrame(makeFrame('cancel', { reason }), 'downstream');
  }

  /**
   * Interrupts the bot now: one `interruption` frame through the whole pipeline, from the top. Every processor
   * handles it on arrival (queued bot output is dropped, what is in flight is cancelled).
   */
  interrupt(): void {
    if (this.currentState === 'running' || this.currentState === 'ending') void this.source.inject(makeFrame('interruption'));
  }

  /** Cancelled or done: the state can change across awaits, so it is read through a method. */
  private stopping(): boolean {
    return this.currentState === 'done' || this.currentState === 'cancelling';
  }

  private handleFinished(frame: Frame | undefined): void {
    if (this.currentState === 'done') return;
    if (frame !== undefined && (frame.type === 'end' || frame.type === 'cancel')) this.endReason ??= frame.reason;
    this.currentState = 'done';
    this.clock.clearTimeout(this.cancelTimer);
    this.finish();
  }

  private handleUpstream(frame: Frame): void {
    switch (frame.type) {
      case 'error':
        this.handleError(frame);
        return;
      case 'end-task':
        this.stopWhenDone(frame.reason);
        return;
      case 'cancel-task':
        this.cancel(frame.reason);
        return;
      case 'interruption-task':
        this.interrupt();
        return;
      default:
        // Upstream frames that no processor consumed (e.g. bot-speaking notices) end here.
        return;
    }
  }

  private handleError(frame: ErrorFrame): void {
    const details = { err: frame.error, processor: frame.processor, fatal: frame.fatal };
    if (frame.fatal) this.logger.error(details, `fatal error: ${frame.error.message}`);
    else this.logger.warn(details, `error: ${frame.error.message}`);
    try {
      this.options.onError?.(frame);
    } catch (error) {
      this.logger.warn({ err: error }, 'onError callback threw; ignored');
    }
    if (frame.fatal) this.cancel(`fatal error in ${frame.processor ?? 'the pipeline'}: ${frame.error.message}`);
  }
}
