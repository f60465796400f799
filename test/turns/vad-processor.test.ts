// VADProcessor with a scripted detector: turn frames on state changes, caller audio passed through in order,
// audio resampled to the detector's rate. The detector's delay is simulated time on a VirtualClock.
import { describe, expect, it } from 'vitest';
import type { VADState } from '../../src/audio/vad/index.js';
import { inputAudioFrame, makeFrame, type Frame } from '../../src/frames/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { sleep, type Clock } from '../../src/runtime/clock.js';
import { FrameCollector } from '../../src/testing/frame-collector.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { VADProcessor, type VoiceActivityDetector } from '../../src/turns/index.js';

/** Answers each analyze() call with the next scripted state (then 'quiet'), after `slow.delayMs` on `slow.clock` if given. */
class ScriptedDetector implements VoiceActivityDetector {
  readonly analyzed: Int16Array[] = [];
  resets = 0;

  constructor(
    readonly sampleRate: number,
    private readonly states: readonly VADState[],
    private readonly slow?: { clock: Clock; delayMs: number },
  ) {}

  async analyze(samples: Int16Array): Promise<VADState> {
    const state = this.states[this.analyzed.length] ?? 'quiet';
    this.analyzed.push(samples);
    if (this.slow !== undefined) await sleep(this.slow.clock, this.slow.delayMs);
    return state;
  }

  reset(): void {
    this.resets++;
  }
}

function setup(
  detector: VoiceActivityDetector,
  clock = new VirtualClock(),
): { vad: VADProcessor; up: FrameCollector; down: FrameCollector; clock: VirtualClock } {
  const up = new FrameCollector({ name: 'up' });
  const vad = new VADProcessor(detector, { name: 'vad' });
  const down = new FrameCollector({ name: 'down' });
  up.link(vad).link(down);
  for (const p of [up, vad, down]) p.setup({ observers: [], logger: silentLogger, clock });
  void up.queueFrame(
    makeFrame('start', { audioInSampleRate: 16000, audioOutSampleRate: 8000, allowInterruptions: true, enableMetrics: false }),
  );
  return { vad, up, down, clock };
}

/** Frame labels: audio frames by their index (first sample), others by type. */
function labels(frames: readonly Frame[]): string[] {
  return frames.filter((f) => f.type !== 'start').map((f) => (f.type === 'input-audio' ? `a${f.audio[0]}` : f.type));
}

/** Runs the clock until `count` audio frames have passed. */
async function settle(clock: VirtualClock, collector: FrameCollector, count: number): Promise<void> {
  await clock.runUntil(() => collector.ofType('input-audio').length >= count, { description: `${count} audio frames` });
}

describe('VADProcessor', () => {
  it('announces user-started / user-stopped-speaking on state changes, ahead of the audio that caused them', async () => {
    const states: VADState[] = ['quiet', 'starting', 'speaking', 'speaking', 'stopping', 'quiet', 'quiet', 'speaking', 'quiet'];
    const detector = new ScriptedDetector(16000, states);
    const { vad, down, clock } = setup(detector);
    for (let i = 0; i < states.length; i++) void vad.queueFrame(inputAudioFrame(new Int16Array(320).fill(i), 16000));
    await settle(clock, down, states.length);
    expect(labels(down.downstream)).toEqual([
      'a0',
      'a1',
      'user-started-speaking',
      'a2',
      'a3',
      'a4', // 'stopping' is still speaking
      'user-stopped-speaking',
      'a5',
      'a6',
      'user-started-speaking',
      'a7',
      'user-stopped-speaking',
      'a8',
    ]);
    expect(vad.speaking).toBe(false);
  });

  it('keeps the order of frames while the detector is slow', async () => {
    const clock = new VirtualClock();
    const detector = new ScriptedDetector(16000, ['speaking', 'speaking', 'quiet'], { clock, delayMs: 5 });
    const { vad, down } = setup(detector, clock);
    for (let i = 0; i < 3; i++) void vad.queueFrame(inputAudioFrame(new Int16Array(320).fill(i), 16000));
    void vad.queueFrame(makeFrame('text', { text: 'after the audio' }));
    expect(vad.speaking).toBe(false);
    await settle(clock, down, 3);
    // One analysis at a time: the third frame passed after three 5 ms analyses.
    expect(clock.now()).toBe(15);
    await clock.advance(5);
    expect(labels(down.downstream)).toEqual(['user-started-speaking', 'a0', 'a1', 'user-stopped-speaking', 'a2', 'text']);
  });

  it('passes the audio on unchanged and feeds the detector at its own rate', async () => {
    const detector = new ScriptedDetector(16000, []);
    const { vad, down, clock } = setup(detector);
    const frames = Array.from({ length: 10 }, () => inputAudioFrame(new Int16Array(160).fill(1000), 8000));
    for (const f of frames) void vad.queueFrame(f);
    await settle(clock, down, 10);
    // Downstream gets the very same frames, at 8 kHz.
    expect(down.ofType('input-audio')).toEqual(frames);
    // The detector got 16 kHz audio: twice the samples, less the resampler's look-ahead.
    const analyzed = detector.analyzed.reduce((n, a) => n + a.length, 0);
    expect(analyzed).toBeGreaterThan(3200 - 64);
    expect(analyzed).toBeLessThanOrEqual(3200);
    expect(detector.analyzed.slice(-1)[0]!.every((s) => Math.abs(s - 1000) < 50)).toBe(true);
  });

  it('does not resample audio already at the detector rate', async () => {
    const detector = new ScriptedDetector(8000, []);
    const { vad, down, clock } = setup(detector);
    const frame = inputAudioFrame(new Int16Array(160).fill(7), 8000);
    void vad.queueFrame(frame);
    await settle(clock, down, 1);
    expect(detector.analyzed[0]).toBe(frame.audio);
  });

  it('passes other frames both ways without analysing them', async () => {
    const detector = new ScriptedDetector(16000, ['speaking']);
    const { vad, up, down, clock } = setup(detector);
    void vad.queueFrame(makeFrame('text', { text: 'hi' }));
    void vad.queueFrame(makeFrame('bot-started-speaking'), 'upstream');
    await clock.advance(5);
    expect(detector.analyzed).toEqual([]);
    expect(labels(down.downstream)).toEqual(['text']);
    expect(up.upstream.map((f) => f.type)).toEqual(['bot-started-speaking']);
  });
});
