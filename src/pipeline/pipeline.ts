// Pipeline: processors chained in order, itself a processor, so pipelines nest. It is transparent: it has no
// queue of its own and does not appear in observer events; frames go straight to its first (downstream) or
// last (upstream) processor, and frames leaving its ends go straight to its neighbours.
import type { Frame, FrameDirection } from '../frames/index.js';
import { FrameProcessor, type FrameProcessorOptions, type ProcessorSetup } from './frame-processor.js';

/** One end of a pipeline: hands what reaches it to the pipeline's neighbour in the same direction. */
class PipelineEdge extends FrameProcessor {
  constructor(
    name: string,
    private readonly forward: (frame: Frame, direction: FrameDirection) => void | Promise<void>,
    private readonly resolve: (direction: FrameDirection) => FrameProcessor | undefined,
  ) {
    super({ name });
  }

  override queueFrame(frame: Frame, direction: FrameDirection = 'downstream'): void | Promise<void> {
    return this.forward(frame, direction);
  }

  override entryPoint(direction: FrameDirection): FrameProcessor | undefined {
    return this.resolve(direction);
  }
}

export class Pipeline extends FrameProcessor {
  readonly processors: readonly FrameProcessor[];
  private readonly head: FrameProcessor;
  private readonly tail: FrameProcessor;

  constructor(processors: readonly FrameProcessor[], options: Pick<FrameProcessorOptions, 'name'> = {}) {
    super(options);
    if (new Set(processors).size !== processors.length) {
      throw new Error(`${this.name}: the same processor appears twice; a processor can sit in one place only`);
    }
    this.processors = [...processors];
    const forward = (frame: Frame, direction: FrameDirection): void | Promise<void> => this.pushFrame(frame, direction);
    const outside = (direction: FrameDirection): FrameProcessor | undefined =>
      (direction === 'downstream' ? this.next : this.previous)?.entryPoint(direction);
    this.head = new PipelineEdge(`${this.name}:head`, forward, outside);
    this.tail = new PipelineEdge(`${this.name}:tail`, forward, outside);
    let last: FrameProcessor = this.head;
    for (const processor of this.processors) last = last.link(processor);
    last.link(this.tail);
  }

  override setup(setup: ProcessorSetup): void {
    // The pipeline itself reports nothing to observers: its children already report every hop.
    super.setup({ ...setup, observers: [] });
    this.head.setup(setup);
    this.tail.setup(setup);
    for (const processor of this.processors) processor.setup(setup);
  }

  /** Cleans every processor up, in order; one failing does not stop the others (all failures are reported). */
  override async cleanup(): Promise<void> {
    const errors: unknown[] = [];
    for (const processor of this.processors) {
      try {
        await processor.cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${this.name}: ${errors.length} processors failed to clean up`);
  }

  override queueFrame(frame: Frame, direction: FrameDirection = 'downstream'): void | Promise<void> {
    const target = direction === 'downstream' ? this.head.next : this.tail.previous;
    return target!.queueFrame(frame, direction);
  }

  override entryPoint(direction: FrameDirection): FrameProcessor | undefined {
    const target = direction === 'downstream' ? this.head.next : this.tail.previous;
    return target!.entryPoint(direction);
  }
}
