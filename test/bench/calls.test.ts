// The calls benchmark's pieces: its audio preparation, statistics, and one simulated call measured end to end
// (real Silero VAD on Flite speech in real time; a few seconds).
import { describe, expect, it } from 'vitest';
import { FRAME_SAMPLES, frames, trimToFrames, type BenchAudio } from '../../bench/calls/audio.js';
import { SimulatedCall } from '../../bench/calls/call.js';
import { parseArgs, slope, stats } from '../../bench/calls/stats.js';
import { synthesizeSpeech } from '../../src/testing/speech.js';

describe('calls benchmark audio', () => {
  it('trims near-silence (|x| <= 50) from both ends and pads to whole 20 ms frames', () => {
    const samples = new Int16Array(1000);
    samples.set([30, -50, 51, 7, -400], 100);
    samples[700] = 60;
    samples[800] = 50;
    const trimmed = trimToFrames(samples);
    expect(trimmed).toHaveLength(FRAME_SAMPLES * 2); // 600 samples from 102 to 700, padded to 640
    expect(Array.from(trimmed.subarray(0, 3))).toEqual([51, 7, -400]);
    expect(trimmed[598]).toBe(60);
    expect(trimmed.subarray(599).every((s) => s === 0)).toBe(true);
    expect(trimToFrames(new Int16Array(500).fill(40))).toHaveLength(0);
    expect(frames(trimmed).map((f) => f.length)).toEqual([FRAME_SAMPLES, FRAME_SAMPLES]);
  });
});

describe('calls benchmark statistics', () => {
  it('summarises, fits a slope and reads --x=y flags', () => {
    expect(stats([3, 1, 2])).toEqual({ n: 3, p50: 2, p99: 3, mean: 2, min: 1, max: 3 });
    expect(stats([])).toEqual({ n: 0, p50: null, p99: null, mean: null, min: null, max: null });
    expect(slope([[15, 100], [20, 110], [25, 120]])).toBeCloseTo(2);
    expect(Number.isNaN(slope([[1, 1], [1, 2]]))).toBe(true);
    const args = parseArgs(['--ns=50,100', '--cpu-prof', 'stray', '--only=latency']);
    expect([...args]).toEqual([['ns', '50,100'], ['cpu-prof', 'true'], ['only', 'latency']]);
  });
});

describe('a simulated call', () => {
  it('speaks, hears the reply and measures voice-to-voice with its split', { timeout: 30_000 }, async () => {
    const [line, reply] = await Promise.all([
      synthesizeSpeech('Hi, I need help with my order.', { sampleRate: 16000 }),
      synthesizeSpeech('Sure.', { sampleRate: 16000 }),
    ]);
    const audio: BenchAudio = { callerFrames: [frames(trimToFrames(line))], reply: trimToFrames(reply) };
    const call = new SimulatedCall({ audio, measureFrom: 0, maxTurns: 1 });
    await call.start(100);
    const deadline = performance.now() + 20_000;
    while (!call.finished && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await call.stop();
    expect(call.finished).toBe(true);
    expect(call.stats.missed).toBe(0);
    expect(call.stats.replies).toBe(1);
    const [turn] = call.stats.turns;
    // The VAD waits for 500 ms of silence (16 windows of 32 ms) before it ends the turn.
    expect(turn!.voiceToVoice).toBeGreaterThan(480);
    expect(turn!.voiceToVoice).toBeLessThan(1500);
    expect(turn!.vadEndOfSpeech).toBeGreaterThan(480);
    expect(turn!.runtime).toBeGreaterThanOrEqual(0);
    expect(turn!.vadEndOfSpeech! + turn!.runtime!).toBeCloseTo(turn!.voiceToVoice, 6);
  });
});
