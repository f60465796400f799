// SerialCapture against a fake rtc-node AudioSource whose captures resolve when the test says: chunks that waited
// go over together (so a slow FFI round trip cannot make the line fall behind real time), in order, a live
// line's backlog is bounded, and a line that fell behind catches up in its pauses.
import type * as Rtc from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import { SerialCapture } from '../../../src/transports/livekit/serial-capture.js';

class FakeFrame {
  constructor(
    readonly data: Int16Array,
    readonly sampleRate: number,
    readonly channels: number,
    readonly samplesPerChannel: number,
  ) {}
}

function fakeSource() {
  const captured: FakeFrame[] = [];
  const pending: (() => void)[] = [];
  let clears = 0;
  const source = {
    captureFrame: (frame: FakeFrame) => {
      captured.push(frame);
      return new Promise<void>((resolve) => pending.push(resolve));
    },
    clearQueue: () => void clears++,
    /** What rtc-node would reckon is in the native queue (ms); the test sets it. */
    queuedDuration: 0,
  };
  const rtc = { AudioFrame: FakeFrame } as unknown as typeof Rtc;
  return {
    rtc,
    source: source as unknown as Rtc.AudioSource,
    captured,
    clears: () => clears,
    setQueuedMs: (ms: number) => void (source.queuedDuration = ms),
    /** Resolves the capture in flight and lets the drain loop take the next batch. */
    async release(): Promise<void> {
      pending.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

/** A 20 ms chunk at 8 kHz whose samples all equal `value`. */
const chunk = (value: number): Int16Array => new Int16Array(160).fill(value);
const values = (frame: FakeFrame): number[] => [...new Set(frame.data)];

describe('SerialCapture', () => {
  it('hands chunks that waited to the source together, up to maxBatchMs, in order', async () => {
    const fake = fakeSource();
    const capture = new SerialCapture(fake.rtc, fake.source, 8000, () => {}, { maxBatchMs: 50 });
    for (let i = 1; i <= 6; i++) capture.write(chunk(i));
    expect(fake.captured.map(values)).toEqual([[1]]);
    await fake.release();
    // 50 ms holds two 20 ms chunks.
    expect(fake.captured.map(values)).toEqual([[1], [2, 3]]);
    expect(fake.captured[1]!.samplesPerChannel).toBe(320);
    await fake.release();
    await fake.release();
    expect(fake.captured.map(values)).toEqual([[1], [2, 3], [4, 5], [6]]);
    expect(capture.backlog).toBe(0);
  });

  it('bounds a live line’s backlog to maxBacklogMs, dropping the oldest audio', async () => {
    const fake = fakeSource();
    const capture = new SerialCapture(fake.rtc, fake.source, 8000, () => {}, { maxBacklogMs: 60 });
    for (let i = 1; i <= 8; i++) capture.write(chunk(i));
    // Chunk 1 is in flight; of 2..8 only the newest 60 ms (three chunks) wait.
    expect(capture.backlog).toBe(3);
    expect(capture.dropped).toBe(4);
    await fake.release();
    await fake.release();
    expect(fake.captured.map(values)).toEqual([[1], [6, 7], [8]]);
  });

  it('drops silent chunks while more than dropSilenceAheadMs waits, never speech', async () => {
    const fake = fakeSource();
    const capture = new SerialCapture(fake.rtc, fake.source, 8000, () => {}, { dropSilenceAheadMs: 60, minPauseMs: 0 });
    // A stall: eight chunks arrive at once (speech 1-4, then the pause: silence, then speech 5-6).
    for (const value of [1000, 2000, 3000, 4000, 0, 0, 5000, 6000]) capture.write(chunk(value));
    // Chunk 1 went to the source (the fake reckons nothing queued there); 2-4 wait: 60 ms, not more than the bound,
    // so the first silent chunk is kept; behind it 80 ms wait, so the second is dropped. Speech always waits.
    expect(capture.droppedSilent).toBe(1);
    expect(capture.backlog).toBe(6);
    // Noise below the silence level (about −54 dBFS) counts as silence; a quiet sound above it does not.
    capture.write(chunk(40));
    capture.write(chunk(300));
    expect(capture.droppedSilent).toBe(2);
    expect(capture.backlog).toBe(7);
    for (let i = 0; i < 4; i++) await fake.release();
    expect(fake.captured.flatMap(values)).toEqual([1000, 2000, 3000, 4000, 0, 5000, 6000, 300]);
    // Caught up: nothing waits here, but the source's own queue counts too.
    fake.setQueuedMs(80);
    capture.write(chunk(0));
    expect(capture.droppedSilent).toBe(3);
    fake.setQueuedMs(40);
    capture.write(chunk(0));
    expect(capture.droppedSilent).toBe(3);
    // Kept: it waits behind the capture still in flight, 20 ms more ahead.
    expect(capture.aheadMs).toBe(60);
  });

  it('keeps the first minPauseMs of each pause, so words stay apart', () => {
    const fake = fakeSource();
    const capture = new SerialCapture(fake.rtc, fake.source, 8000, () => {}, { dropSilenceAheadMs: 60, minPauseMs: 40 });
    // Far behind (the source reckons 500 ms queued): of each pause, two 20 ms chunks are kept, the rest dropped.
    fake.setQueuedMs(500);
    for (const value of [1000, 0, 0, 0, 0, 2000, 0, 0, 0]) capture.write(chunk(value));
    expect(capture.droppedSilent).toBe(3);
    expect(capture.backlog).toBe(5);
  });

  it('keeps silence as well when no dropSilenceAheadMs is given', () => {
    const fake = fakeSource();
    const capture = new SerialCapture(fake.rtc, fake.source, 8000, () => {});
    for (let i = 0; i < 20; i++) capture.write(chunk(0));
    expect(capture.droppedSilent).toBe(0);
    expect(capture.backlog).toBe(19);
  });

  it('keeps every chunk when no bound is given, and clear() drops what waits and the source’s queue', async () => {
    const fake = fakeSource();
    const capture = new SerialCapture(fake.rtc, fake.source, 8000, () => {});
    for (let i = 1; i <= 30; i++) capture.write(chunk(i));
    expect(capture.backlog).toBe(29);
    expect(capture.dropped).toBe(0);
    capture.clear();
    expect(capture.backlog).toBe(0);
    expect(fake.clears()).toBe(1);
    await fake.release();
    capture.write(chunk(99));
    expect(fake.captured.map(values)).toEqual([[1], [99]]);
  });
});
