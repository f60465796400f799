// FrameCollector: a pass-through processor that records what crosses it, for tests of pipelines and agents.
import type { Frame, FrameDirection, FrameOfType, FrameType } from '../frames/index.js';
import { FrameProcessor, type FrameProcessorOptions } from '../pipeline/index.js';

export class FrameCollector extends FrameProcessor {
  readonly downstream: Frame[] = [];
  readonly upstream: Frame[] = [];
  private waiters: { predicate: (frame: Frame) => boolean; resolve: (frame: Frame) => void }[] = [];

  constructor(options: FrameProcessorOptions = {}) {
    super(options);
  }

  /** Recorded downstream frames of one type. */
  ofType<T extends FrameType>(type: T): FrameOfType<T>[] {
    return this.downstream.filter((f): f is FrameOfType<T> => f.type === type);
  }

  /** Types of the recorded downstream frames, in order. */
  types(): FrameType[] {
    return this.downstream.map((f) => f.type);
  }

  /** Resolves with the first downstream frame (already recorded or still to come) that matches. */
  waitFor(predicate: (frame: Frame) => boolean): Promise<Frame> {
    const seen = this.downstream.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ predicate, resolve }));
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === 'downstream') {
      this.downstream.push(frame);
      if (this.waiters.length !== 0) {
        this.waiters = this.waiters.filter((w) => {
          if (!w.predicate(frame)) return true;
          w.resolve(frame);
          return false;
        });
      }
    } else {
      this.upstream.push(frame);
    }
    return this.pushFrame(frame, direction);
  }
}
