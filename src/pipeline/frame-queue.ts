// A growable ring buffer of (frame, direction) pairs: O(1) push/shift with no per-item allocation, which an
// array's shift() cannot promise, and in-place filtering for interruptions.
import type { Frame, FrameDirection } from '../frames/index.js';

export class FrameQueue {
  private frames: (Frame | undefined)[];
  private upstream: Uint8Array;
  private head = 0;
  private size = 0;

  constructor(initialCapacity = 16) {
    let capacity = 1;
    while (capacity < initialCapacity) capacity <<= 1;
    this.frames = new Array<Frame | undefined>(capacity).fill(undefined);
    this.upstream = new Uint8Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(frame: Frame, direction: FrameDirection): void {
    if (this.size === this.frames.length) this.grow();
    const index = (this.head + this.size) & (this.frames.length - 1);
    this.frames[index] = frame;
    this.upstream[index] = direction === 'upstream' ? 1 : 0;
    this.size++;
  }

  /** Direction of the frame `shift()` would return next. Only valid when length > 0. */
  peekDirection(): FrameDirection {
    return this.upstream[this.head] === 1 ? 'upstream' : 'downstream';
  }

  shift(): Frame | undefined {
    if (this.size === 0) return undefined;
    const frame = this.frames[this.head];
    this.frames[this.head] = undefined;
    this.head = (this.head + 1) & (this.frames.length - 1);
    this.size--;
    return frame;
  }

  /** Keeps only the frames for which `keep` is true, in order. Returns how many were removed. */
  retain(keep: (frame: Frame) => boolean): number {
    const mask = this.frames.length - 1;
    let kept = 0;
    for (let i = 0; i < this.size; i++) {
      const from = (this.head + i) & mask;
      const frame = this.frames[from]!;
      if (keep(frame)) {
        const to = (this.head + kept) & mask;
        this.frames[to] = frame;
        this.upstream[to] = this.upstream[from]!;
        kept++;
      }
    }
    for (let i = kept; i < this.size; i++) this.frames[(this.head + i) & mask] = undefined;
    const removed = this.size - kept;
    this.size = kept;
    return removed;
  }

  clear(): number {
    return this.retain(() => false);
  }

  private grow(): void {
    const capacity = this.frames.length * 2;
    const frames = new Array<Frame | undefined>(capacity).fill(undefined);
    const upstream = new Uint8Array(capacity);
    const mask = this.frames.length - 1;
    for (let i = 0; i < this.size; i++) {
      frames[i] = this.frames[(this.head + i) & mask];
      upstream[i] = this.upstream[(this.head + i) & mask]!;
    }
    this.frames = frames;
    this.upstream = upstream;
    this.head = 0;
  }
}
