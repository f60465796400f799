// FrameProcessor: the unit of a pipeline. Each processor handles one frame at a time in arrival order, except
// system frames, which are handled the moment they arrive, even while an earlier frame is still being processed
// asynchronously (that is how an interruption overtakes a reply in progress).
//
// Scheduling, without a task or timer per processor:
// - When the processor is idle and nothing is queued, a frame is processed synchronously in the caller's stack.
//   A 20 ms audio frame crossing ten pass-through processors is ten direct calls: no queue, no promise.
// - When `processFrame` returns a promise, the processor is busy until it settles; data and control frames
//   arriving meanwhile are queued and processed in order afterwards.
// - A frame pushed back into a processor while it is inside `processFrame` (re-entrancy) is queued and handled
//   right after, so data frames are never processed nested in one another.
// - An interruption drops the queued frames that are bot output (see `survivesInterruption`); a cancel drops
//   every queued frame. Both then propagate synchronously, so every processor's queue is drained in one pass.
//
// Backpressure: `queueFrame`/`pushFrame` return a promise once the queue holds `highWaterMark` frames; a producer
// that awaits it is slowed to the consumer's pace. Audio arriving at a queue already holding `maxQueuedFrames`
// is dropped (and counted in a warning), so a stalled processor cannot grow memory without bound.
//
// Errors: an exception thrown (or a promise rejected) by `processFrame` becomes an error frame pushed upstream;
// the pipeline task reports it. Nothing escapes as an unhandled rejection.
import {
  FRAME_KINDS,
  describeFrame,
  errorFrame,
  isAudioFrame,
  makeFrame,
  survivesInterruption,
  type Frame,
  type FrameDirection,
  type MetricsData,
  type StartFrame,
} from '../frames/index.js';
import { getDefaultLogger, type Logger } from '../logging/index.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { FrameQueue } from './frame-queue.js';
import type { FrameObserver } from './observer.js';

export interface FrameProcessorOptions {
  /** Shown in logs, metrics and observer events. Default: the class name with a process-wide number. */
  name?: string;
  /** Queue length at which pushes start returning a promise to await. Default 128 frames. */
  highWaterMark?: number;
  /** Queue length beyond which incoming audio frames are dropped. Default 4 × highWaterMark. */
  maxQueuedFrames?: number;
}

/** What a pipeline task hands every processor before starting. */
export interface ProcessorSetup {
  readonly observers: readonly FrameObserver[];
  readonly logger: Logger;
  /** The call's time: every timer a processor sets goes through it. Default: the system clock. */
  readonly clock?: Clock;
}

const NO_OBSERVERS: readonly FrameObserver[] = [];
let lastProcessorId = 0;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== undefined && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

export class FrameProcessor {
  readonly id: number;
  readonly name: string;
  protected logger: Logger;
  protected observers: readonly FrameObserver[] = NO_OBSERVERS;
  /** The pipeline's clock (from `setup`): use it for every timer and time reading, never the globals. */
  protected clock: Clock = systemClock;
  /** Parameters of the StartFrame this processor received; undefined until then. */
  protected startParams: StartFrame | undefined;
  /** True once a StartFrame has been processed (metrics follow the StartFrame's `enableMetrics`). */
  protected metricsEnabled = false;

  private prevProcessor: FrameProcessor | undefined;
  private nextProcessor: FrameProcessor | undefined;
  private readonly queue = new FrameQueue();
  private readonly highWaterMark: number;
  private readonly lowWaterMark: number;
  private readonly maxQueuedFrames: number;
  /** Number of asynchronous `processFrame` calls not settled yet. */
  private pending = 0;
  /** Depth of synchronous `processFrame` calls on the stack (re-entrancy guard). */
  private depth = 0;
  private draining = false;
  private drainWaiter: { promise: Promise<void>; resolve: () => void } | undefined;
  private droppedAudioFrames = 0;
  /** After a cancel frame, data and control frames are discarded: the processor is stopping. */
  private cancelled = false;
  private ttfbStartedAt = -1;
  private processingStartedAt = -1;

  constructor(options: FrameProcessorOptions = {}) {
    this.id = ++lastProcessorId;
    this.name = options.name ?? `${new.target.name}#${this.id}`;
    this.highWaterMark = Math.max(1, options.highWaterMark ?? 128);
    this.lowWaterMark = Math.floor(this.highWaterMark / 2);
    this.maxQueuedFrames = Math.max(this.highWaterMark, options.maxQueuedFrames ?? this.highWaterMark * 4);
    this.logger = getDefaultLogger().child({ processor: this.name });
  }

  /** Links this processor's output to `next`'s input (and `next`'s upstream output back here). Returns `next`. */
  link(next: FrameProcessor): FrameProcessor {
    this.nextProcessor = next;
    next.prevProcessor = this;
    return next;
  }

  get next(): FrameProcessor | undefined {
    return this.nextProcessor;
  }

  get previous(): FrameProcessor | undefined {
    return this.prevProcessor;
  }

  /** Frames waiting to be processed. */
  get queuedFrames(): number {
    return this.queue.length;
  }

  /** Called by the pipeline task before the StartFrame. Containers override it to reach their children. */
  setup(setup: ProcessorSetup): void {
    this.observers = setup.observers;
    this.logger = setup.logger.child({ processor: this.name });
    this.clock = setup.clock ?? systemClock;
  }

  /** Called once after the pipeline has ended or been cancelled: release sockets, timers, models. */
  async cleanup(): Promise<void> {}

  /**
   * Hands a frame to this processor. Never throws. Returns a promise only when the queue is past its high-water
   * mark: a producer that can wait should await it.
   */
  queueFrame(frame: Frame, direction: FrameDirection = 'downstream'): void | Promise<void> {
    if (FRAME_KINDS[frame.type] === 'system') {
      if (frame.type === 'interruption') this.queue.retain(survivesInterruption);
      else if (frame.type === 'cancel') {
        this.cancelled = true;
        this.queue.clear();
      }
      this.processOne(frame, direction);
      this.drain();
      return;
    }
    if (this.cancelled) return;
    if (this.pending === 0 && this.depth === 0 && this.queue.length === 0) {
      this.processOne(frame, direction);
      if (this.queue.length !== 0) this.drain();
      return;
    }
    if (this.queue.length >= this.maxQueuedFrames && isAudioFrame(frame)) {
      if (this.droppedAudioFrames++ === 0) {
        this.logger.warn(
          { queued: this.queue.length },
          `queue full: dropping audio frames until ${this.name} catches up`,
        );
      }
      return;
    }
    this.queue.push(frame, direction);
    if (this.queue.length >= this.highWaterMark) return this.waitForDrain();
  }

  /**
   * Override to handle frames. The default passes every frame on in its direction; an override must push on
   * the frames it does not consume (in particular system frames such as start, interruption, cancel, end).
   */
  protected processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    return this.pushFrame(frame, direction);
  }

  /** Sends a frame to the next processor (downstream) or the previous one (upstream). */
  protected pushFrame(frame: Frame, direction: FrameDirection = 'downstream'): void | Promise<void> {
    const target = direction === 'downstream' ? this.nextProcessor : this.prevProcessor;
    if (target === undefined) return;
    if (this.observers.length !== 0) this.notifyPush(target, frame, direction);
    return target.queueFrame(frame, direction);
  }

  /** Reports an error upstream as an error frame; fatal errors end the pipeline task. */
  protected pushError(error: unknown, fatal = false): void {
    void this.pushFrame(errorFrame(error, { fatal, processor: this.name }), 'upstream');
  }

  // ---- metrics ------------------------------------------------------------------------------------------------

  protected startTtfbMetrics(): void {
    if (this.metricsEnabled) this.ttfbStartedAt = this.clock.now();
  }

  /** Emits the time since `startTtfbMetrics()` once; later calls until the next start do nothing. */
  protected stopTtfbMetrics(): void {
    if (this.ttfbStartedAt < 0) return;
    const valueMs = this.clock.now() - this.ttfbStartedAt;
    this.ttfbStartedAt = -1;
    this.pushMetrics({ kind: 'ttfb', processor: this.name, valueMs });
  }

  protected startProcessingMetrics(): void {
    if (this.metricsEnabled) this.processingStartedAt = this.clock.now();
  }

  protected stopProcessingMetrics(): void {
    if (this.processingStartedAt < 0) return;
    const valueMs = this.clock.now() - this.processingStartedAt;
    this.processingStartedAt = -1;
    this.pushMetrics({ kind: 'processing', processor: this.name, valueMs });
  }

  /** Pushes a metrics frame downstream (when metrics are enabled). */
  protected pushMetrics(...data: MetricsData[]): void {
    if (this.metricsEnabled) void this.pushFrame(makeFrame('metrics', { data }), 'downstream');
  }

  // ---- scheduling ---------------------------------------------------------------------------------------------

  private processOne(frame: Frame, direction: FrameDirection): void {
    if (frame.type === 'start') {
      this.startParams = frame;
      this.metricsEnabled = frame.enableMetrics;
    }
    if (this.observers.length !== 0) this.notifyProcess(frame, direction);
    let result: void | Promise<void>;
    this.depth++;
    try {
      result = this.processFrame(frame, direction);
    } catch (error) {
      this.onProcessError(error, frame);
      return;
    } finally {
      this.depth--;
    }
    if (isPromiseLike(result)) {
      this.pending++;
      // The success handler is made once per processor: an asynchronous processor (the VAD, for one) settles a
      // promise per 20 ms frame of every call.
      result.then(this.settleHandler, (error: unknown) => {
        this.onProcessError(error, frame);
        this.settle();
      });
    }
  }

  private readonly settleHandler = (): void => this.settle();

  private settle(): void {
    this.pending--;
    this.drain();
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.pending === 0 && this.queue.length !== 0) {
        const direction = this.queue.peekDirection();
        this.processOne(this.queue.shift()!, direction);
      }
    } finally {
      this.draining = false;
    }
    if (this.queue.length <= this.lowWaterMark) {
      if (this.droppedAudioFrames !== 0) {
        this.logger.warn({ dropped: this.droppedAudioFrames }, `caught up after dropping audio frames`);
        this.droppedAudioFrames = 0;
      }
      if (this.drainWaiter !== undefined) {
        const waiter = this.drainWaiter;
        this.drainWaiter = undefined;
        waiter.resolve();
      }
    }
  }

  private waitForDrain(): Promise<void> {
    if (this.drainWaiter === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drainWaiter = { promise, resolve };
    }
    return this.drainWaiter.promise;
  }

  private onProcessError(error: unknown, frame: Frame): void {
    if (frame.type === 'error' || this.prevProcessor === undefined) {
      // Nowhere safe to report it: an error about an error would loop, and the first processor has no upstream.
      this.logger.error({ err: error, frame: describeFrame(frame) }, `error while processing a frame`);
      return;
    }
    this.pushError(error);
  }

  private notifyProcess(frame: Frame, direction: FrameDirection): void {
    const event = { processor: this, frame, direction, timestamp: this.clock.now() };
    for (const observer of this.observers) {
      try {
        observer.onProcessFrame?.(event);
      } catch (error) {
        this.logger.warn({ err: error }, 'frame observer threw; ignored');
      }
    }
  }

  private notifyPush(target: FrameProcessor, frame: Frame, direction: FrameDirection): void {
    const destination = target.entryPoint(direction);
    if (destination === undefined) return;
    const event = { source: this, destination, frame, direction, timestamp: this.clock.now() };
    for (const observer of this.observers) {
      try {
        observer.onPushFrame?.(event);
      } catch (error) {
        this.logger.warn({ err: error }, 'frame observer threw; ignored');
      }
    }
  }

  /**
   * The processor that really receives a frame queued here in `direction`. Containers that are transparent
   * (pipelines and their edges) override it so observers see the real destination.
   * @internal
   */
  entryPoint(_direction: FrameDirection): FrameProcessor | undefined {
    return this;
  }
}
