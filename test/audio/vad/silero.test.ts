import { beforeAll, describe, expect, it } from 'vitest';
import {
  SileroVADAnalyzer,
  type SileroSampleRate,
  type VADParams,
  type VADState,
} from '../../../src/audio/vad/index.js';
import { dbfs } from '../../../src/audio/index.js';
import { concatAudio, silence, synthesizeSpeech } from '../../../src/testing/speech.js';
import { ConfidenceProbe } from '../../support/silero-probe.js';
import { createSeededRandom } from '../../../src/testing/random.js';

const SENTENCE = 'I want to talk to a human please';
const RATES: readonly SileroSampleRate[] = [16000, 8000];

interface Transition {
  state: 'speaking' | 'quiet';
  /** Seconds from the start of the audio to the end of the window that decided it. */
  atSecs: number;
}

/** Feeds `audio` in 20 ms chunks, as a call's audio arrives, and lists the transitions to speaking and quiet. */
async function transitions(
  vad: SileroVADAnalyzer,
  audio: Int16Array,
): Promise<{ list: Transition[]; seen: Set<VADState> }> {
  const chunk = vad.sampleRate / 50;
  const list: Transition[] = [];
  const seen = new Set<VADState>();
  let previous = vad.state;
  for (let i = 0; i < audio.length; i += chunk) {
    const state = await vad.analyze(audio.subarray(i, i + chunk));
    seen.add(state);
    if (state !== previous && (state === 'speaking' || state === 'quiet')) {
      list.push({ state, atSecs: vad.lastTransitionSample! / vad.sampleRate });
    }
    previous = state;
  }
  return { list, seen };
}

/** Uniform white noise at an RMS level of `levelDbfs`. */
function whiteNoise(sampleRate: number, seconds: number, levelDbfs: number, seed: number): Int16Array {
  const random = createSeededRandom(seed);
  // A uniform distribution on [-a, a] has rms a / sqrt(3).
  const amplitude = 32768 * 10 ** (levelDbfs / 20) * Math.sqrt(3);
  const samples = new Int16Array(Math.round(sampleRate * seconds));
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(amplitude * (2 * random() - 1));
  return samples;
}

/** A sine whose RMS level is `levelDbfs`. */
function tone(frequency: number, sampleRate: number, seconds: number, levelDbfs: number): Int16Array {
  const amplitude = 32768 * Math.SQRT2 * 10 ** (levelDbfs / 20);
  const samples = new Int16Array(Math.round(sampleRate * seconds));
  for (let i = 0; i < samples.length; i++) {
    samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / sampleRate));
  }
  return samples;
}

describe.each(RATES)('SileroVADAnalyzer at %i Hz', (rate) => {
  let speech: Int16Array;
  /** [1 s silence][sentence][1 s silence]. */
  let turn: Int16Array;
  let speechEndSecs: number;

  beforeAll(async () => {
    speech = await synthesizeSpeech(SENTENCE, { sampleRate: rate });
    turn = concatAudio(silence(1000, rate), speech, silence(1000, rate));
    speechEndSecs = 1 + speech.length / rate;
  });

  async function run(params: Partial<VADParams> = {}, audio: Int16Array = turn) {
    return transitions(await SileroVADAnalyzer.load({ sampleRate: rate, params }), audio);
  }

  it('starts speaking soon after the speech begins and goes quiet soon after it ends', async () => {
    const { list } = await run();
    expect(list.map((t) => t.state)).toEqual(['speaking', 'quiet']);
    const onsetDelay = list[0]!.atSecs - 1;
    const offsetDelay = list[1]!.atSecs - speechEndSecs;
    // Measured with the Flite kal16 voice: 0.344 s at both rates. Five windows (160 ms) for the smoothed loudness
    // to rise from silence past minVolume, then startSecs (six windows).
    expect(onsetDelay).toBeGreaterThan(0.15);
    expect(onsetDelay).toBeLessThanOrEqual(0.4);
    // Measured 0.19 s (16 kHz) and 0.22 s (8 kHz): the model's confidence and the loudness fall within a window or
    // two of the last sound, then stopSecs (0.2 s) runs.
    expect(offsetDelay).toBeGreaterThan(0);
    expect(offsetDelay).toBeLessThanOrEqual(0.2 + 0.3);
  });

  it('never speaks on digital silence or on white noise at -60 dBFS', async () => {
    const noise = whiteNoise(rate, 3, -60, 7);
    expect(dbfs(noise)).toBeCloseTo(-60, 0);
    for (const audio of [silence(3000, rate), noise]) {
      const { seen } = await run({}, audio);
      expect(seen.has('speaking')).toBe(false);
    }
  });

  it('does not take a loud 1 kHz tone for speech', async () => {
    const vad = new ConfidenceProbe({ sampleRate: rate });
    const { seen } = await transitions(vad, tone(1000, rate, 3, -10));
    expect([...seen]).toEqual(['quiet']);
    // Silero's probability for a pure tone stays below 1 % (the tone passes the loudness gate, so only the model
    // keeps it out).
    expect(Math.max(...vad.confidences)).toBeLessThan(0.05);
  });

  it('starts speaking later with a longer startSecs', async () => {
    const fast = (await run({ startSecs: 0.1 })).list[0]!;
    const slow = (await run({ startSecs: 0.6 })).list[0]!;
    expect(fast.state).toBe('speaking');
    expect(slow.state).toBe('speaking');
    // 19 windows against 3: 0.512 s apart.
    expect(slow.atSecs - fast.atSecs).toBeCloseTo(16 * 0.032, 5);
  });

  it('goes quiet later with a longer stopSecs', async () => {
    const longTail = concatAudio(silence(1000, rate), speech, silence(2000, rate));
    const short = (await run({}, longTail)).list;
    const long = (await run({ stopSecs: 1.0 }, longTail)).list;
    expect(short.map((t) => t.state)).toEqual(['speaking', 'quiet']);
    expect(long.map((t) => t.state)).toEqual(['speaking', 'quiet']);
    // round(1.0 / 0.032) = 31 windows against round(0.2 / 0.032) = 6.
    expect(long[1]!.atSecs - short[1]!.atSecs).toBeCloseTo(25 * 0.032, 5);
  });

  it('never speaks with minVolume 1 or confidence 1', async () => {
    // Loudness 1 needs an rms of 10,800 (-9.6 dBFS) held for many windows; the speech is at about -27 dBFS.
    expect((await run({ minVolume: 1 })).seen.has('speaking')).toBe(false);
    // The model's probability stays strictly below 1 (at most 0.99999 on this speech).
    expect((await run({ confidence: 1 })).seen.has('speaking')).toBe(false);
  });

  it('keeps analyzers independent: interleaved analyzers match each alone', async () => {
    const other = concatAudio(
      whiteNoise(rate, 0.5, -45, 3),
      speech.subarray(speech.length >> 1),
      silence(700, rate),
      speech,
    );
    const chunk = rate / 50;
    const alone = async (audio: Int16Array): Promise<VADState[]> => {
      const vad = new ConfidenceProbe({ sampleRate: rate });
      const states: VADState[] = [];
      for (let i = 0; i < audio.length; i += chunk) states.push(await vad.analyze(audio.subarray(i, i + chunk)));
      return states;
    };
    const expectedA = await alone(turn);
    const expectedB = await alone(other);

    const a = new ConfidenceProbe({ sampleRate: rate });
    const b = new ConfidenceProbe({ sampleRate: rate });
    const statesA: VADState[] = [];
    const statesB: VADState[] = [];
    for (let i = 0; i < Math.max(turn.length, other.length); i += chunk) {
      // Both inferences in flight at once on the shared session.
      const [stateA, stateB] = await Promise.all([
        a.analyze(turn.subarray(i, i + chunk)),
        b.analyze(other.subarray(i, i + chunk)),
      ]);
      if (i < turn.length) statesA.push(stateA);
      if (i < other.length) statesB.push(stateB);
    }
    expect(statesA).toEqual(expectedA);
    expect(statesB).toEqual(expectedB);
    expect(statesA).toContain('speaking');
    expect(statesB).toContain('speaking');
  });

  it('after reset behaves as a new analyzer', async () => {
    const vad = new ConfidenceProbe({ sampleRate: rate });
    await transitions(vad, concatAudio(silence(500, rate), speech.subarray(0, speech.length >> 1)));
    expect(vad.state).not.toBe('quiet');
    vad.reset();
    const fresh = new ConfidenceProbe({ sampleRate: rate });
    const before = vad.confidences.length;
    const again = await transitions(vad, turn);
    const reference = await transitions(fresh, turn);
    expect(again.list).toEqual(reference.list);
    expect(vad.confidences.slice(before)).toEqual(fresh.confidences);
  });
});

describe('SileroVADAnalyzer setup', () => {
  it('supports only 8 and 16 kHz', () => {
    for (const rate of [24000, 44100, 0]) {
      expect(() => new SileroVADAnalyzer({ sampleRate: rate as SileroSampleRate })).toThrow(RangeError);
      expect(() => new SileroVADAnalyzer({ sampleRate: rate as SileroSampleRate })).toThrow(/8000 or 16000/);
    }
  });

  it('uses 32 ms windows', () => {
    expect(new SileroVADAnalyzer({ sampleRate: 16000 }).windowSamples).toBe(512);
    expect(new SileroVADAnalyzer({ sampleRate: 8000 }).windowSamples).toBe(256);
  });

  it('names the missing model file and the package that provides the default one', async () => {
    const modelPath = '/nonexistent/silero_vad.onnx';
    await expect(SileroVADAnalyzer.load({ sampleRate: 16000, modelPath })).rejects.toThrow(
      /Silero VAD model not found at \/nonexistent\/silero_vad\.onnx.*@ricky0123\/vad-web/,
    );
    // Through analyze too, without an unhandled rejection from the constructor's load.
    const vad = new SileroVADAnalyzer({ sampleRate: 16000, modelPath });
    await expect(vad.analyze(new Int16Array(512))).rejects.toThrow(/not found at/);
  });
});

describe('end of speech timed in audio', () => {
  const SENTENCES = ['I need help with my order please', 'Can you check where it is now', 'Okay, thank you very much'];

  /** Index after the last sample louder than -50 dBFS: where the voice ends. */
  function voiceEnd(audio: Int16Array): number {
    let end = audio.length;
    while (end > 0 && Math.abs(audio[end - 1]!) <= 100) end--;
    return end;
  }

  for (const rate of RATES) {
    it(`declares the end within one 20 ms frame of stopSecs after the voice ends (${rate} Hz)`, async () => {
      for (const sentence of SENTENCES) {
        const speech = await synthesizeSpeech(sentence, { sampleRate: rate });
        const end = voiceEnd(speech);
        const audio = concatAudio(silence(300, rate), speech.subarray(0, end), silence(1000, rate));
        const vad = await SileroVADAnalyzer.load({ sampleRate: rate, params: { confidence: 0.5, stopSecs: 0.5, minVolume: 0 } });
        const { list } = await transitions(vad, audio);
        expect(list.filter((t) => t.state === 'quiet')).toHaveLength(1);
        const quiet = list.at(-1)!;
        expect(quiet.state).toBe('quiet');
        const voiceEndSecs = (silence(300, rate).length + end) / rate;
        const lag = quiet.atSecs - voiceEndSecs - 0.5;
        // The decision falls on the 20 ms frame that completes 0.5 s of silence after the voice (it used to take
        // 40-100 ms more: whole 32 ms windows plus the model's tail). The voice may end a little before the last
        // sample above -50 dBFS: a fading final sound under a tenth of the speech level counts as silence.
        expect(lag).toBeGreaterThan(-0.08);
        expect(lag).toBeLessThan(0.02 + 1e-9);
      }
    });
  }

  it('a pause shorter than stopSecs inside speech does not end it, and speech after it goes on', async () => {
    const rate = 16000;
    const first = await synthesizeSpeech('I need help with my order', { sampleRate: rate });
    const second = await synthesizeSpeech('it was supposed to arrive yesterday', { sampleRate: rate });
    const audio = concatAudio(
      silence(300, rate),
      first.subarray(0, voiceEnd(first)),
      silence(350, rate),
      second.subarray(0, voiceEnd(second)),
      silence(1000, rate),
    );
    const vad = await SileroVADAnalyzer.load({ sampleRate: rate, params: { confidence: 0.5, stopSecs: 0.5, minVolume: 0 } });
    const { list } = await transitions(vad, audio);
    // speaking (again after each pause the model hears), and quiet only once, after the second sentence
    expect(list.filter((t) => t.state === 'quiet')).toHaveLength(1);
    expect(list.at(-1)!.state).toBe('quiet');
    expect(list.at(-1)!.atSecs).toBeGreaterThan(audio.length / rate - 1);
  });

  it('faint line noise after the voice keeps the window rule: quiet after stopSecs of non-speech windows', async () => {
    const rate = 16000;
    const speech = await synthesizeSpeech('I need help with my order please', { sampleRate: rate });
    const random = createSeededRandom(7);
    // White noise of rms ~600: loud enough to count as "voice" by level, but not speech to the model.
    const noise = Int16Array.from({ length: rate }, () => Math.round((random() - 0.5) * 2000));
    const audio = concatAudio(silence(300, rate), speech.subarray(0, voiceEnd(speech)), noise);
    const vad = await SileroVADAnalyzer.load({ sampleRate: rate, params: { confidence: 0.5, stopSecs: 0.5, minVolume: 0 } });
    const { list } = await transitions(vad, audio);
    expect(list.map((t) => t.state)).toEqual(['speaking', 'quiet']);
    // decided at a window boundary, as before
    expect((list[1]!.atSecs * rate) % vad.windowSamples).toBe(0);
  });
});
