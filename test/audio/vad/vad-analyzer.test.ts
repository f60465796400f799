import { describe, expect, it } from 'vitest';
import {
  DEFAULT_VAD_PARAMS,
  VADAnalyzer,
  resolveVADParams,
  windowLoudness,
  type VADParams,
  type VADState,
} from '../../../src/audio/vad/index.js';

// 100 Hz with 10-sample windows: one window is 0.1 s, so startSecs 0.3 means three windows.
const RATE = 100;
const WINDOW = 10;
/** rms 10000: loudness 0.99, well above any minVolume the tests use. */
const LOUD = 10_000;

/** Returns scripted confidences, one per window in stream order, and records what each window held. */
class ScriptedVAD extends VADAnalyzer {
  readonly windows: number[][] = [];
  /** The state before each window, i.e. after the previous one. */
  readonly statesBefore: VADState[] = [];

  constructor(
    private readonly script: (windowIndex: number) => number,
    params: Partial<VADParams> = {},
  ) {
    super({ sampleRate: RATE, windowSamples: WINDOW, params });
  }

  protected override async voiceConfidence(window: Float32Array): Promise<number> {
    this.statesBefore.push(this.state);
    const index = this.windows.length;
    this.windows.push(Array.from(window, (v) => Math.round(v * 32768)));
    return this.script(index);
  }
}

/** Confidences given as a string, one character per window: '1' speech (1.0), '0' not (0.0). */
function scripted(pattern: string): (windowIndex: number) => number {
  return (index) => (pattern[index] === '1' ? 1 : 0);
}

/** Feeds one window at a time and returns the state after each. */
async function statesPerWindow(vad: VADAnalyzer, windows: number, amplitude = LOUD): Promise<VADState[]> {
  const states: VADState[] = [];
  for (let i = 0; i < windows; i++) states.push(await vad.analyze(new Int16Array(WINDOW).fill(amplitude)));
  return states;
}

const NO_GATE = { minVolume: 0, confidence: 0.5 };

describe('VADAnalyzer state machine', () => {
  it('speaks after round(startSecs / windowSecs) speech windows and is quiet after the stop count', async () => {
    const vad = new ScriptedVAD(scripted('1111100000'), { ...NO_GATE, startSecs: 0.3, stopSecs: 0.4 });
    expect(vad.state).toBe('quiet');
    expect(vad.lastTransitionSample).toBeUndefined();
    const states = await statesPerWindow(vad, 10);
    expect(states).toEqual([
      'starting', 'starting', 'speaking', 'speaking', 'speaking',
      'stopping', 'stopping', 'stopping', 'quiet', 'quiet',
    ]);
    expect(vad.lastTransitionSample).toBe(9 * WINDOW);
    expect(vad.analyzedSamples).toBe(10 * WINDOW);
  });

  it('records the sample at which it started speaking', async () => {
    const vad = new ScriptedVAD(scripted('0011111'), { ...NO_GATE, startSecs: 0.3 });
    await statesPerWindow(vad, 7);
    // Speech from window 2; the third speech window (index 4) ends at sample 50.
    expect(vad.lastTransitionSample).toBe(5 * WINDOW);
  });

  it('goes back to quiet when speech drops out while starting, and counts again from the next speech', async () => {
    const vad = new ScriptedVAD(scripted('1101110111'), { ...NO_GATE, startSecs: 0.3 });
    expect(await statesPerWindow(vad, 10)).toEqual([
      'starting', 'starting', 'quiet', 'starting', 'starting', 'speaking',
      'stopping', 'speaking', 'speaking', 'speaking',
    ]);
  });

  it('returns to speaking when speech resumes while stopping, and needs the full stop count again', async () => {
    const vad = new ScriptedVAD(scripted('1' + '001' + '000'), { ...NO_GATE, startSecs: 0, stopSecs: 0.3 });
    expect(await statesPerWindow(vad, 7)).toEqual([
      'speaking', 'stopping', 'stopping', 'speaking', 'stopping', 'stopping', 'quiet',
    ]);
  });

  it('turns over on the first qualifying window when the counts round to zero', async () => {
    const vad = new ScriptedVAD(scripted('1010'), { ...NO_GATE, startSecs: 0, stopSecs: 0.04 });
    expect(await statesPerWindow(vad, 4)).toEqual(['speaking', 'quiet', 'speaking', 'quiet']);
  });

  it('counts a window whose confidence equals the threshold as speech', async () => {
    const vad = new ScriptedVAD(() => 0.7, { minVolume: 0, confidence: 0.7, startSecs: 0 });
    expect(await statesPerWindow(vad, 1)).toEqual(['speaking']);
    const below = new ScriptedVAD(() => 0.69, { minVolume: 0, confidence: 0.7, startSecs: 0 });
    expect(await statesPerWindow(below, 5)).toEqual(Array(5).fill('quiet'));
  });

  it('never speaks on confident but quiet audio (minVolume gate)', async () => {
    // rms 20 is loudness 0.45: below the default minVolume of 0.6.
    expect(windowLoudness(20)).toBeLessThan(DEFAULT_VAD_PARAMS.minVolume);
    const vad = new ScriptedVAD(() => 1, { startSecs: 0 });
    const states = await statesPerWindow(vad, 200, 20);
    expect(new Set(states)).toEqual(new Set(['quiet']));
  });

  it('waits for the smoothed loudness to rise from silence before counting speech', async () => {
    // Loudness 0.99 smoothed by 0.2 per window from 0: 0.20, 0.36, 0.49, 0.59, 0.67 -> the fifth window passes 0.6.
    const vad = new ScriptedVAD(() => 1, { startSecs: 0.3 });
    const states = await statesPerWindow(vad, 8);
    expect(states).toEqual(['quiet', 'quiet', 'quiet', 'quiet', 'starting', 'starting', 'speaking', 'speaking']);
  });

  it('maps loudness from -20..80 dB (int16 scale, K-weighting offset) onto 0..1', () => {
    expect(windowLoudness(0)).toBe(0);
    expect(windowLoudness(Number.NaN)).toBe(0);
    expect(windowLoudness(0.01)).toBe(0);
    expect(windowLoudness(32767)).toBe(1);
    expect(windowLoudness(1000)).toBeCloseTo((60 - 0.691 + 20) / 100, 10);
  });

  it('gives the same windows and states for any chunking of the same audio', async () => {
    const totalWindows = 60;
    const audio = new Int16Array(totalWindows * WINDOW + 7);
    for (let i = 0; i < audio.length; i++) audio[i] = ((i * 7919) % 20_000) - 10_000;
    const pattern = '0011111111110011000000111100111111111110000000001111111111111';
    const params = { ...NO_GATE, startSecs: 0.3, stopSecs: 0.3 };

    const aligned = new ScriptedVAD(scripted(pattern), params);
    for (let i = 0; i < audio.length; i += WINDOW) await aligned.analyze(audio.subarray(i, i + WINDOW));

    let seed = 12345;
    const nextChunk = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % 37; // 0..36 samples: empty chunks, partial windows and several windows per call
    };
    const chunked = new ScriptedVAD(scripted(pattern), params);
    for (let i = 0; i < audio.length; ) {
      const size = nextChunk();
      await chunked.analyze(audio.subarray(i, i + size));
      i += size;
    }
    const whole = new ScriptedVAD(scripted(pattern), params);
    await whole.analyze(audio);

    expect(aligned.windows).toHaveLength(totalWindows);
    expect(aligned.statesBefore).toContain('speaking');
    for (const other of [chunked, whole]) {
      expect(other.windows).toEqual(aligned.windows);
      expect(other.statesBefore).toEqual(aligned.statesBefore);
      expect(other.state).toBe(aligned.state);
      expect(other.lastTransitionSample).toBe(aligned.lastTransitionSample);
    }
  });

  it('processes calls that are not awaited in call order', async () => {
    const params = { ...NO_GATE, startSecs: 0.2 };
    const pattern = '1100111';
    const sequential = new ScriptedVAD(scripted(pattern), params);
    const seqStates = await statesPerWindow(sequential, 7);

    const overlapped = new ScriptedVAD(scripted(pattern), params);
    const pending: Promise<VADState>[] = [];
    for (let i = 0; i < 7; i++) pending.push(overlapped.analyze(new Int16Array(WINDOW).fill(LOUD)));
    expect(await Promise.all(pending)).toEqual(seqStates);
  });

  it('reset drops buffered audio and state', async () => {
    const vad = new ScriptedVAD(() => 1, { ...NO_GATE, startSecs: 0 });
    await vad.analyze(new Int16Array(WINDOW + 4).fill(LOUD));
    expect(vad.state).toBe('speaking');
    vad.reset();
    expect(vad.state).toBe('quiet');
    expect(vad.analyzedSamples).toBe(0);
    expect(vad.lastTransitionSample).toBeUndefined();
    // The 4 buffered samples were dropped: 6 more do not complete a window.
    await vad.analyze(new Int16Array(6).fill(LOUD));
    expect(vad.windows).toHaveLength(1);
  });

  it('reset also drops audio from calls made before it that have not run yet', async () => {
    const vad = new ScriptedVAD(() => 1, { ...NO_GATE, startSecs: 0 });
    const before = vad.analyze(new Int16Array(5 * WINDOW).fill(LOUD));
    vad.reset();
    expect(await before).toBe('quiet');
    expect(vad.windows).toHaveLength(0);
    expect(await vad.analyze(new Int16Array(WINDOW).fill(LOUD))).toBe('speaking');
  });

  it('rejects the call whose window the model fails on and carries on with later audio', async () => {
    const vad = new ScriptedVAD((index) => {
      if (index === 1) throw new Error('model failed');
      return 1;
    }, { ...NO_GATE, startSecs: 0.2 });
    expect(await vad.analyze(new Int16Array(WINDOW).fill(LOUD))).toBe('starting');
    await expect(vad.analyze(new Int16Array(WINDOW).fill(LOUD))).rejects.toThrow('model failed');
    expect(await vad.analyze(new Int16Array(WINDOW).fill(LOUD))).toBe('speaking');
    expect(vad.windows).toHaveLength(3);
  });

  it('setParams changes the counts and keeps the state', async () => {
    const vad = new ScriptedVAD(scripted('11' + '0000'), { ...NO_GATE, startSecs: 0.2, stopSecs: 0.1 });
    expect(await statesPerWindow(vad, 2)).toEqual(['starting', 'speaking']);
    vad.setParams({ stopSecs: 0.3 });
    expect(vad.params).toEqual({ ...NO_GATE, startSecs: 0.2, stopSecs: 0.3 });
    expect(vad.state).toBe('speaking');
    expect(await statesPerWindow(vad, 4)).toEqual(['stopping', 'stopping', 'quiet', 'quiet']);
  });
});

/** Audio made of runs of [samples, amplitude]: every sample of a run at that constant amplitude. */
function runs(...parts: Array<[samples: number, amplitude: number]>): Int16Array {
  const out = new Int16Array(parts.reduce((n, [length]) => n + length, 0));
  let at = 0;
  for (const [length, amplitude] of parts) {
    out.fill(amplitude, at, at + length);
    at += length;
  }
  return out;
}

/** Feeds `audio` in chunks of `chunk` samples; returns the stream position after each chunk and the state there. */
async function statesPerChunk(vad: VADAnalyzer, audio: Int16Array, chunk: number): Promise<Array<[number, VADState]>> {
  const out: Array<[number, VADState]> = [];
  for (let i = 0; i < audio.length; i += chunk) {
    const part = audio.subarray(i, i + chunk);
    out.push([i + part.length, await vad.analyze(part)]);
  }
  return out;
}

/** From the first 'speaking': the positions at which the state turns to 'speaking' or 'quiet'. */
function turnovers(states: Array<[number, VADState]>): Array<[number, 'speaking' | 'quiet']> {
  const out: Array<[number, 'speaking' | 'quiet']> = [];
  let previous: VADState = 'quiet';
  for (const [at, state] of states) {
    if (state !== previous && (state === 'speaking' || (state === 'quiet' && out.length > 0))) out.push([at, state]);
    previous = state;
  }
  return out;
}

describe('VADAnalyzer end of speech in audio time', () => {
  // stopSecs 0.5 = 50 samples = 5 windows. Loud speech (amplitude 10000) sets the voice threshold to 1000.
  const PARAMS = { ...NO_GATE, startSecs: 0, stopSecs: 0.5 };
  const CHUNK = 3; // chunks that are not windows: a decision can fall between window boundaries

  it('counts stopSecs from the last loud sample, past the model\'s faint tail, and decides inside a window', async () => {
    // Voice until sample 33; the model still hears speech in window 4 (faint: 500 < 1000) — its tail.
    const audio = runs([33, LOUD], [7, 0], [10, 500], [100, 0]);
    const vad = new ScriptedVAD(scripted('11111' + '0'.repeat(10)), PARAMS);
    const states = await statesPerChunk(vad, audio, CHUNK);
    // 33 + 50 = 83: decided at the end of the chunk that reaches it (84), inside window 8 (80-90). Whole windows
    // after the tail would give 100.
    expect(turnovers(states)).toEqual([[12, 'speaking'], [84, 'quiet']]);
    expect(vad.lastTransitionSample).toBe(84);
    expect(vad.analyzedSamples).toBe(15 * WINDOW);
  });

  it('does not end early when loud audio arrives while stopping: the window rule decides', async () => {
    // Voice until 33, then a loud burst in window 6 (60-69) that the model does not take for speech.
    const audio = runs([33, LOUD], [27, 0], [10, LOUD], [80, 0]);
    const vad = new ScriptedVAD(scripted('1111' + '0'.repeat(11)), PARAMS);
    const states = await statesPerChunk(vad, audio, CHUNK);
    // Not at 84 (silence since the burst only): five non-speech windows after window 3, at the boundary 90.
    expect(turnovers(states)).toEqual([[12, 'speaking'], [90, 'quiet']]);
    expect(vad.lastTransitionSample).toBe(90);
  });

  it('counts from at most four windows before the model\'s last speech window when it hears faint speech', async () => {
    // Soft voice (under the loud threshold) the model hears until sample 100; stopSecs 0.55 = 55 samples.
    const audio = runs([30, LOUD], [70, 500], [100, 0]);
    const vad = new ScriptedVAD(scripted('1'.repeat(10) + '0'.repeat(10)), { ...PARAMS, stopSecs: 0.55 });
    const states = await statesPerChunk(vad, audio, CHUNK);
    // Silence counted from 100 - 4 windows = 60, not from the last loud sample (30): 60 + 55 = 115 -> chunk end 117.
    expect(turnovers(states)).toEqual([[12, 'speaking'], [117, 'quiet']]);
    expect(vad.lastTransitionSample).toBe(117);
  });

  it('a pause shorter than stopSecs does not end speech, and speech after it is speaking again', async () => {
    // A 37-sample pause (< 50) between two stretches of voice; the model hears the pause as non-speech.
    const audio = runs([33, LOUD], [37, 0], [33, LOUD], [100, 0]);
    const vad = new ScriptedVAD(scripted('1111' + '000' + '1111' + '0'.repeat(10)), PARAMS);
    const states = await statesPerChunk(vad, audio, CHUNK);
    expect(states.find(([at]) => at === 60)?.[1]).toBe('stopping');
    // Back to speaking at the end of window 7 (in the chunk 78-81); the voice ends at 103: quiet at 153.
    expect(turnovers(states)).toEqual([[12, 'speaking'], [81, 'speaking'], [153, 'quiet']]);
    expect(vad.lastTransitionSample).toBe(153);
  });
});

describe('resolveVADParams', () => {
  it('fills in the defaults', () => {
    expect(resolveVADParams()).toEqual({ confidence: 0.7, startSecs: 0.2, stopSecs: 0.2, minVolume: 0.6 });
    expect(resolveVADParams({ stopSecs: 0.8, confidence: undefined })).toEqual({
      ...DEFAULT_VAD_PARAMS,
      stopSecs: 0.8,
    });
  });

  it('clamps confidence and minVolume to [0, 1] and durations to >= 0', () => {
    expect(resolveVADParams({ confidence: 1.5, minVolume: -0.2, startSecs: -1, stopSecs: -0.1 })).toEqual({
      confidence: 1,
      minVolume: 0,
      startSecs: 0,
      stopSecs: 0,
    });
  });

  it('rejects NaN, non-numbers, infinite durations and unknown fields, naming the field', () => {
    expect(() => resolveVADParams({ confidence: Number.NaN })).toThrow(/confidence/);
    expect(() => resolveVADParams({ startSecs: '0.2' as unknown as number })).toThrow(RangeError);
    expect(() => resolveVADParams({ startSecs: '0.2' as unknown as number })).toThrow(/startSecs/);
    expect(() => resolveVADParams({ stopSecs: Number.POSITIVE_INFINITY })).toThrow(/stopSecs/);
    expect(() => resolveVADParams({ minVolume: null as unknown as number })).toThrow(/minVolume/);
    expect(() => resolveVADParams({ stopSec: 1 } as unknown as Partial<VADParams>)).toThrow(/stopSec'/);
  });

  it('validates parameters given to an analyzer and to setParams', () => {
    expect(() => new ScriptedVAD(() => 0, { confidence: Number.NaN })).toThrow(RangeError);
    const vad = new ScriptedVAD(() => 0);
    expect(() => vad.setParams({ minVolume: Number.NaN })).toThrow(/minVolume/);
    expect(vad.params).toEqual(DEFAULT_VAD_PARAMS);
  });
});
