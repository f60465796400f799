// Observers watch frames move without being processors: they cannot change, delay or drop a frame. An
// observer that throws is logged and ignored, so a faulty metrics hook never breaks a call.
import type { Frame, FrameDirection } from '../frames/index.js';
import type { FrameProcessor } from './frame-processor.js';

export interface FrameProcessEvent {
  readonly processor: FrameProcessor;
  readonly frame: Frame;
  readonly direction: FrameDirection;
  /** The pipeline clock's `now()` when processing began. */
  readonly timestamp: number;
}

export interface FramePushEvent {
  readonly source: FrameProcessor;
  readonly destination: FrameProcessor;
  readonly frame: Frame;
  readonly direction: FrameDirection;
  readonly timestamp: number;
}

export interface FrameObserver {
  /** A processor is about to process a frame. */
  onProcessFrame?(event: FrameProcessEvent): void;
  /** A processor pushed a frame to its neighbour. */
  onPushFrame?(event: FramePushEvent): void;
}
