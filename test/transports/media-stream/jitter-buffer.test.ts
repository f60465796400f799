// The jitter buffer under the delivery a carrier's network gives: bursts after stalls, reordering, losses, late
// packets. Simulated time: every frame's exact playout time is checked.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/testing/virtual-clock.js';
import { JitterBuffer } from '../../../src/transports/media-stream/jitter-buffer.js';

const RATE = 8000;
const FRAME = 160; // 20 ms at 8 kHz

/** Packet n of the caller's audio: every sample carries n + 1, so a played frame names its packet. */
function packet(n: number): Int16Array {
  return new Int16Array(FRAME).fill(n + 1);
}

interface Played {
  atMs: number;
  value: number;
}

function makeBuffer(clock: VirtualClock, options: { startDelayMs?: number; maxDelayMs?: number } = {}) {
  const played: Played[] = [];
  const buffer = new JitterBuffer({
    sampleRate: RATE,
    clock: () => clock,
    onFrame: (frame) => {
      expect(frame.length).toBe(FRAME);
      played.push({ atMs: clock.now(), value: frame[0]! });
    },
    ...options,
  });
  return { buffer, played };
}

describe('JitterBuffer', () => {
  it('plays bursty, reordered and gappy delivery as a steady 20 ms stream in order, concealing the gaps', async () => {
    const clock = new VirtualClock();
    const { buffer, played } = makeBuffer(clock);
    // 100 packets of 20 ms (2 s). The network: packets 10-14 stall and arrive in one burst at 290 ms (packet 10 was due at 200); 30 and 31
    // swap places; 50 and 51 are lost; 70 arrives 100 ms late (after its turn); the rest on time with +-8 ms jitter.
    const arrivals: { n: number; atMs: number }[] = [];
    for (let n = 0; n < 100; n++) {
      if (n === 50 || n === 51) continue;
      let atMs = n * 20 + ((n * 7) % 17) - 8;
      if (n >= 10 && n <= 14) atMs = 290;
      if (n === 30) atMs = 31 * 20 + 5;
      if (n === 31) atMs = 31 * 20 - 5;
      if (n === 70) atMs = 70 * 20 + 100;
      arrivals.push({ n, atMs: Math.max(0, atMs) });
    }
    arrivals.sort((a, b) => a.atMs - b.atMs || a.n - b.n);
    const start = arrivals[0]!.atMs;
    for (const { n, atMs } of arrivals) {
      await clock.advance(atMs - clock.now());
      buffer.push(packet(n), n * FRAME);
    }
    await clock.advance(500);

    // Steady: one frame every 20 ms from 40 ms (the start delay) after the first packet.
    // After the last packet, 180 ms more (fading, then silence) until the buffer pauses for want of packets.
    expect(played.length).toBe(109);
    expect(played.slice(100).every((f) => f.value < 100)).toBe(true);
    played.forEach((frame, i) => expect(frame.atMs).toBe(start + 40 + i * 20));
    // In order: the swap is undone.
    const values = played.map((f) => f.value);
    expect(values.slice(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(values.slice(29, 33)).toEqual([30, 31, 32, 33]);
    expect(values[69]).toBeLessThan(71); // 70 was late: concealed from 69's audio
    expect(values.slice(71, 100)).toEqual(Array.from({ length: 29 }, (_, i) => 72 + i));
    // Lost 50 and 51: the previous frame fading (3/4, then 2/4 of packet 49's 50), then 52 again.
    expect(values.slice(49, 53)).toEqual([50, 38, 25, 53]);
    const stats = buffer.stats;
    expect(stats.receivedPackets).toBe(98);
    expect(stats.playedFrames).toBe(109);
    // The burst arrived after frames 10-12 had played (concealed from packet 9's 10: 3/4, 2/4, 1/4), in time for 13
    // and 14: three late packets.
    expect(values.slice(9, 16)).toEqual([10, 8, 5, 3, 14, 15, 16]);
    expect(stats.latePackets).toBe(3 + 1); // 10, 11, 12 and 70
    expect(stats.lostFrames).toBe(3 + 2 + 1 + 9); // the burst, 50-51, 70, the tail
    expect(stats.catchUpFrames).toBe(0);
    buffer.close();
  });

  it('plays a positionless stream in arrival order and bounds the delay after a burst without dropping audio', async () => {
    const clock = new VirtualClock();
    const { buffer, played } = makeBuffer(clock, { maxDelayMs: 100 });
    // 300 ms of nothing, then 15 packets at once (a stalled socket), then on time again.
    for (let n = 0; n < 15; n++) buffer.push(packet(n));
    for (let n = 15; n < 30; n++) {
      await clock.advance(20);
      buffer.push(packet(n));
    }
    await clock.advance(400);
    const values = played.map((f) => f.value);
    expect(values.slice(0, 30)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const stats = buffer.stats;
    expect(stats.latePackets).toBe(0);
    expect(stats.catchUpFrames).toBeGreaterThan(0);
    // Once caught up, the buffered audio stays within the start delay.
    expect(buffer.bufferedMs).toBe(0);
    buffer.close();
  });

  it('pauses when packets stop and resumes at the next one; flush plays what is buffered', async () => {
    const clock = new VirtualClock();
    const { buffer, played } = makeBuffer(clock);
    buffer.push(packet(0), 0);
    await clock.advance(1000);
    const afterPause = played.length;
    expect(afterPause).toBeLessThanOrEqual(12); // one frame and at most 200 ms of concealment before the pause
    expect(clock.pendingTimers).toBe(0);
    buffer.push(packet(100), 100 * FRAME); // 2 s later in the carrier's count
    buffer.push(packet(101), 101 * FRAME);
    buffer.flush();
    expect(played.slice(afterPause).map((f) => f.value)).toEqual([101, 102]);
  });
});
