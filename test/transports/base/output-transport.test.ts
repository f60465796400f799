// BaseOutputTransport: real-time playback, frames released behind their audio, bot speaking state and what the
// caller heard at an interruption. Each test runs on a VirtualClock: a test subclass records every chunk written
// with the simulated time it was written, so pacing, grace periods and release times are asserted exactly.
import { afterEach, describe, expect, it } from 'vitest';
import { concatInt16, resample } from '../../../src/audio/index.js';
import { makeFrame, outputAudioFrame, ttsAudioFrame, type Frame, type FrameDirection } from '../../../src/frames/index.js';
import { silentLogger } from '../../../src/logging/index.js';
import { Pipeline, PipelineTask } from '../../../src/pipeline/index.js';
import { FrameCollector } from '../../../src/testing/frame-collector.js';
import { VirtualClock } from '../../../src/testing/virtual-clock.js';
import { BaseOutputTransport, type OutputTransportOptions } from '../../../src/transports/base/output-transport.js';

interface Write {
  chunk: Int16Array;
  sampleRate: number;
  at: number;
}

/**
 * A VirtualClock whose time can jump while code runs, as real time does when the event loop is blocked: `stall(ms)`
 * moves `now()` on by `ms` at once, without firing the timers that fall due meanwhile (they fire late, as after a
 * real stall).
 */
class StallingClock extends VirtualClock {
  private skewMs = 0;

  override now(): number {
    return super.now() + this.skewMs;
  }

  stall(ms: number): void {
    this.skewMs += ms;
  }
}

class RecordingOutput extends BaseOutputTransport {
  readonly writes: Write[] = [];
  /** Called synchronously after each write with the number of chunks written so far. */
  onWrite: ((count: number) => void) | undefined;

  constructor(options: OutputTransportOptions = {}) {
    super({ name: 'out', ...options });
  }

  protected override writeAudio(chunk: Int16Array, sampleRate: number): void {
    this.writes.push({ chunk: chunk.slice(), sampleRate, at: this.clock.now() });
    this.onWrite?.(this.writes.length);
  }
}

class Probe extends FrameCollector {
  readonly arrivals = new Map<Frame, number>();

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    this.arrivals.set(frame, this.clock.now());
    return super.processFrame(frame, direction);
  }
}

interface Harness {
  clock: VirtualClock;
  out: RecordingOutput;
  up: Probe;
  down: Probe;
  task: PipelineTask;
  done: Promise<void>;
  send(frame: Frame): void;
  /** `ms` of a tone at `rate` as one tts-audio frame. */
  audio(ms: number, contextId?: string, rate?: number): void;
  text(text: string, contextId?: string, offsetMs?: number): void;
  /** Runs the clock until a downstream frame matches (fails after `limitMs` simulated ms). */
  waitFor(predicate: (frame: Frame) => boolean, limitMs?: number): Promise<Frame>;
  waitForWrites(count: number, limitMs?: number): Promise<void>;
  /** Runs the clock until the task is done, and waits for its cleanup. */
  finish(): Promise<void>;
  /** Downstream frame types, without start and metrics. */
  types(): string[];
  at(frame: Frame | undefined): number;
}

const running: Harness[] = [];

afterEach(async () => {
  for (const h of running.splice(0)) {
    h.task.cancel('test over');
    await h.finish();
  }
});

function tone(samples: number, sampleRate: number, amplitude = 3000): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / sampleRate));
  return out;
}

function start(
  options: OutputTransportOptions = {},
  outRate = 8000,
  clock = new VirtualClock(),
  Output: new (options: OutputTransportOptions) => RecordingOutput = RecordingOutput,
): Harness {
  const out = new Output(options);
  const up = new Probe({ name: 'up' });
  const down = new Probe({ name: 'down' });
  const task = new PipelineTask(new Pipeline([up, out, down]), { logger: silentLogger, audioOutSampleRate: outRate, clock });
  const h: Harness = {
    clock,
    out,
    up,
    down,
    task,
    done: task.run(),
    send(frame) {
      void task.queueFrame(frame);
    },
    audio(ms, contextId = 'ctx', rate = outRate) {
      h.send(ttsAudioFrame(tone(Math.round((ms * rate) / 1000), rate), rate, contextId));
    },
    text(text, contextId = 'ctx', offsetMs) {
      h.send(makeFrame('tts-text', { text, contextId, offsetMs }));
    },
    async waitFor(predicate, limitMs = 3000) {
      let found: Frame | undefined;
      await clock.runUntil(() => (found = down.downstream.find(predicate)) !== undefined, { limitMs, description: 'the frame' });
      return found!;
    },
    async waitForWrites(count, limitMs = 3000) {
      await clock.runUntil(() => out.writes.length >= count, { limitMs, description: `${count} writes` });
    },
    async finish() {
      await clock.runUntil(() => task.state === 'done', { description: 'the end of the task' });
      await h.done;
    },
    types() {
      return down.downstream.filter((f) => f.type !== 'metrics' && f.type !== 'start').map((f) => f.type);
    },
    at(frame) {
      if (frame === undefined) throw new Error('no such frame');
      return down.arrivals.get(frame) ?? up.arrivals.get(frame)!;
    },
  };
  running.push(h);
  return h;
}

/** Timers and immediates alive in the process (a real timer leaked by the transport shows up as one more). */
function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;
}

/** `count` times, every `stepMs` from 0. */
const every = (stepMs: number, count: number): number[] => Array.from({ length: count }, (_, i) => i * stepMs);

describe('BaseOutputTransport: playback', () => {
  it('resamples to the StartFrame output rate and writes chunkMs chunks, the last one padded at tts-stopped', async () => {
    const h = start({ chunkMs: 20 }, 8000);
    const input = tone(4900, 24000); // 204.2 ms at 24 kHz -> 1634 samples at 8 kHz: 10 chunks of 160 + 34
    h.send(makeFrame('tts-started', { contextId: 'ctx' }));
    for (let i = 0; i < input.length; i += 1600) h.send(ttsAudioFrame(input.subarray(i, i + 1600), 24000, 'ctx'));
    h.send(makeFrame('tts-stopped', { contextId: 'ctx' }));
    await h.waitFor((f) => f.type === 'tts-stopped');
    await h.clock.advance(50);
    expect(h.out.writes).toHaveLength(11);
    expect(h.out.writes.every((w) => w.sampleRate === 8000 && w.chunk.length === 160)).toBe(true);
    const written = concatInt16(h.out.writes.map((w) => w.chunk));
    // Streaming resampling gives exactly what resampling the whole signal at once does; then zero padding.
    const expected = resample(input, 24000, 8000);
    expect(expected).toHaveLength(1634);
    expect(Array.from(written.subarray(0, 1634))).toEqual(Array.from(expected));
    expect(written.subarray(1634).every((s) => s === 0)).toBe(true);
  });

  it('holds a partial chunk until the utterance ends, then pads it with silence', async () => {
    const h = start({ chunkMs: 20 }, 8000);
    const input = Int16Array.from({ length: 250 }, (_, i) => i + 1);
    h.send(ttsAudioFrame(input, 8000, 'ctx'));
    await h.clock.advance(60);
    expect(h.out.writes).toHaveLength(1);
    expect(Array.from(h.out.writes[0]!.chunk)).toEqual(Array.from(input.subarray(0, 160)));
    h.send(makeFrame('tts-stopped', { contextId: 'ctx' }));
    await h.waitForWrites(2);
    const last = h.out.writes[1]!.chunk;
    expect(Array.from(last.subarray(0, 90))).toEqual(Array.from(input.subarray(160)));
    expect(last.subarray(90).every((s) => s === 0)).toBe(true);
  });

  it('plays in real time: N chunks take N x chunkMs and are never written ahead of time', async () => {
    const h = start({ chunkMs: 10 }, 8000);
    h.audio(300); // 30 chunks, all queued at once
    h.send(makeFrame('tts-stopped', { contextId: 'ctx' }));
    await h.waitForWrites(30);
    // One chunk every 10 ms from the first: the 30th 290 ms after it.
    expect(h.out.writes.map((w) => w.at)).toEqual(every(10, 30));
  });

  it('corrects drift: after the event loop stalled it catches up to real time, never beyond', async () => {
    const clock = new StallingClock();
    const h = start({ chunkMs: 10 }, 8000, clock);
    // The write of chunk 5 (at 50 ms) blocks the event loop for 100 ms.
    h.out.onWrite = (count) => {
      if (count === 6) clock.stall(100);
    };
    h.audio(300);
    h.send(makeFrame('tts-stopped', { contextId: 'ctx' }));
    await h.waitForWrites(30);
    // Chunks 6 to 15 were due during the stall: written at once when it ends (at 150 ms), then one every 10 ms
    // again, on the original schedule. A clock that only waited chunkMs after each write would end 100 ms late,
    // at 390 ms.
    const at = h.out.writes.map((w) => w.at);
    expect(at).toEqual([...every(10, 6), ...Array<number>(10).fill(150), ...every(10, 30).slice(16)]);
    for (const [i, t] of at.entries()) expect(t).toBeGreaterThanOrEqual(i * 10);
    expect(at[29]).toBe(290);
  });

  it('plays plain output-audio frames too, and passes upstream frames through', async () => {
    const h = start({ chunkMs: 20 }, 16000);
    h.send(outputAudioFrame(tone(640, 16000), 16000));
    await h.waitForWrites(2);
    expect(h.out.writes.map((w) => [w.sampleRate, w.chunk.length])).toEqual([
      [16000, 320],
      [16000, 320],
    ]);
    expect(h.out.sampleRate).toBe(16000);
  });
});

describe('BaseOutputTransport: frames behind audio', () => {
  it('releases tts-text once its audio has played, and llm-response-end after the whole reply', async () => {
    const h = start({ chunkMs: 20, botStopGraceMs: 40 });
    h.send(makeFrame('llm-response-start'));
    h.send(makeFrame('tts-started', { contextId: 'ctx' }));
    h.text('Hello world.');
    h.audio(100);
    h.text('Bye now.');
    h.audio(60);
    h.send(makeFrame('tts-stopped', { contextId: 'ctx' }));
    h.send(makeFrame('llm-response-end'));
    await h.waitFor((f) => f.type === 'bot-stopped-speaking');
    expect(h.out.writes.map((w) => w.at)).toEqual(every(20, 8));
    expect(h.types()).toEqual([
      'llm-response-start',
      'tts-started',
      'bot-started-speaking',
      'tts-text',
      'tts-text',
      'tts-stopped',
      'llm-response-end',
      'bot-stopped-speaking',
    ]);
    const [first, second] = h.down.ofType('tts-text');
    expect(first!.text).toBe('Hello world.');
    expect(first!.unheard).toBeUndefined();
    // "Hello world." (chunks 0-4) is released when its audio has played (at 100 ms), as "Bye now." starts playing.
    expect(h.at(first)).toBe(100);
    expect(h.at(first)).toBe(h.out.writes[5]!.at);
    // "Bye now." (chunks 5-7) once its last chunk has played.
    expect(h.at(second)).toBe(160);
    // The reply ends once its last chunk has played: 8 chunks of 20 ms after the first one started.
    const end = h.down.ofType('llm-response-end')[0];
    expect(h.at(end)).toBe(8 * 20);
    // Frames that had nothing to wait for went straight through.
    expect(h.at(h.down.ofType('llm-response-start')[0])).toBe(0);
    expect(h.at(h.down.ofType('tts-started')[0])).toBe(0);
    // The bot stopped speaking after 40 ms of silence.
    expect(h.at(h.down.ofType('bot-stopped-speaking')[0])).toBe(160 + 40);
  });

  it('a tts-text with no audio queued yet waits for the audio pushed right after it', async () => {
    const h = start({ chunkMs: 20, botStopGraceMs: 20 });
    h.text('Just this.');
    await Promise.resolve();
    h.audio(40);
    h.send(makeFrame('tts-stopped', { contextId: 'ctx' }));
    await h.waitFor((f) => f.type === 'tts-stopped');
    expect(h.out.writes.map((w) => w.at)).toEqual([0, 20]);
    // Released once both chunks have played.
    expect(h.at(h.down.ofType('tts-text')[0])).toBe(40);
  });
});

describe('BaseOutputTransport: bot speaking', () => {
  it('sends bot-started / bot-stopped-speaking both ways, stopped only after botStopGraceMs of silence', async () => {
    const h = start({ chunkMs: 10, botStopGraceMs: 60 });
    h.audio(50);
    h.send(makeFrame('tts-stopped', { contextId: 'ctx' }));
    await h.waitFor((f) => f.type === 'bot-stopped-speaking');
    const kinds = (frames: Frame[]): string[] => frames.filter((f) => f.type.startsWith('bot-')).map((f) => f.type);
    expect(kinds(h.down.downstream)).toEqual(['bot-started-speaking', 'bot-stopped-speaking']);
    expect(kinds(h.up.upstream)).toEqual(['bot-started-speaking', 'bot-stopped-speaking']);
    const started = h.down.ofType('bot-started-speaking')[0];
    expect(h.out.writes.map((w) => w.at)).toEqual(every(10, 5));
    expect(h.at(started)).toBe(h.out.writes[0]!.at);
    // The 5 chunks play for 50 ms, then 60 ms of grace.
    const stoppedAt = h.at(h.down.ofType('bot-stopped-speaking')[0]);
    expect(stoppedAt).toBe(50 + 60);
    expect(stoppedAt - h.out.writes.at(-1)!.at).toBe(10 + 60);
    expect(h.out.botSpeaking).toBe(false);
  });

  it('a gap between sentences shorter than the grace does not toggle the state', async () => {
    const h = start({ chunkMs: 10, botStopGraceMs: 150 });
    let speakingInGap: boolean | undefined;
    h.out.onWrite = (count) => {
      if (count !== 4) return;
      // 30 ms after the last chunk of the first sentence was written (20 ms after it finished playing).
      h.clock.setTimeout(() => {
        speakingInGap = h.out.botSpeaking;
        h.audio(40);
        h.send(makeFrame('tts-stopped', { contextId: 'ctx' }));
      }, 30);
    };
    h.audio(40);
    h.send(makeFrame('tts-stopped', { contextId: 'ctx' }));
    await h.waitFor((f) => f.type === 'bot-stopped-speaking');
    expect(speakingInGap).toBe(true);
    expect(h.down.ofType('bot-started-speaking')).toHaveLength(1);
    expect(h.down.ofType('bot-stopped-speaking')).toHaveLength(1);
    expect(h.up.upstream.filter((f) => f.type === 'bot-started-speaking')).toHaveLength(1);
    expect(h.out.writes.map((w) => w.at)).toEqual([0, 10, 20, 30, 60, 70, 80, 90]);
    // Stopped 150 ms after the second sentence finished playing.
    expect(h.at(h.down.ofType('bot-stopped-speaking')[0])).toBe(100 + 150);
  });

  it('a gap longer than the grace makes two speaking turns', async () => {
    const h = start({ chunkMs: 10, botStopGraceMs: 30 });
    h.audio(30);
    h.send(makeFrame('tts-stopped', { contextId: 'ctx' }));
    await h.waitFor((f) => f.type === 'bot-stopped-speaking');
    await h.clock.advance(20);
    h.audio(30);
    h.send(makeFrame('tts-stopped', { contextId: 'ctx' }));
    await h.waitFor((f) => f.type === 'bot-stopped-speaking' && h.down.ofType('bot-stopped-speaking').length === 2);
    expect(h.types().filter((t) => t.startsWith('bot-'))).toEqual([
      'bot-started-speaking',
      'bot-stopped-speaking',
      'bot-started-speaking',
      'bot-stopped-speaking',
    ]);
    // 30 ms of audio and 30 ms of grace, 20 ms of gap, then the same again.
    expect(h.down.downstream.filter((f) => f.type.startsWith('bot-')).map((f) => h.at(f))).toEqual([0, 60, 80, 140]);
  });
});

describe('BaseOutputTransport: interruptions', () => {
  const words = 'one two three four five six seven eight nine ten';

  it('clears the queue at once and reports the heard share of the text and what was not heard', async () => {
    const timersBefore = activeTimers();
    const h = start({ chunkMs: 10, botStopGraceMs: 50 });
    let interruptedAt = -1;
    h.out.onWrite = (count) => {
      if (count === 8) {
        queueMicrotask(() => {
          interruptedAt = h.clock.now();
          h.send(makeFrame('interruption'));
        });
      }
    };
    h.send(makeFrame('tts-started', { contextId: 'c1' }));
    h.text(words, 'c1');
    h.audio(200, 'c1'); // 20 chunks
    h.text('Next sentence here.', 'c1');
    h.audio(100, 'c1');
    h.send(makeFrame('tts-stopped', { contextId: 'c1' }));
    h.text('Other utterance.', 'c2');
    h.audio(50, 'c2');
    await h.waitFor((f) => f.type === 'interruption');
    expect(h.out.writes).toHaveLength(8);
    expect(interruptedAt).toBe(70);
    await h.clock.advance(60);
    expect(h.out.writes).toHaveLength(8); // nothing written after the interruption
    expect(h.out.queuedAudioMs).toBe(0);

    // 8 of the 20 chunks of the first text were played: 4 of its 10 words.
    const texts = h.down.ofType('tts-text');
    expect(texts).toHaveLength(1);
    expect(texts[0]).toMatchObject({
      text: 'one two three four',
      unheard: 'five six seven eight nine ten Next sentence here.',
      contextId: 'c1',
    });
    // Reported before the interruption passes on, with the bot stopped at once (both ways).
    expect(h.types()).toEqual(['tts-started', 'bot-started-speaking', 'tts-text', 'bot-stopped-speaking', 'interruption']);
    expect(h.up.upstream.map((f) => f.type)).toEqual(['bot-started-speaking', 'bot-stopped-speaking']);
    expect(h.at(h.down.ofType('bot-stopped-speaking')[0])).toBe(interruptedAt);
    expect(h.out.botSpeaking).toBe(false);

    // Playback goes on normally with the next utterance.
    h.text('Yes?', 'c3');
    h.audio(30, 'c3');
    h.send(makeFrame('tts-stopped', { contextId: 'c3' }));
    await h.waitFor((f) => f.type === 'tts-stopped' && f.contextId === 'c3');
    expect(h.out.writes).toHaveLength(11);
    expect(h.down.ofType('tts-text').at(-1)?.text).toBe('Yes?');
    expect(h.down.ofType('tts-text').at(-1)?.unheard).toBeUndefined();

    h.task.stopWhenDone();
    await h.finish();
    expect(h.clock.pendingTimers).toBe(0);
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
  });

  it('with word-level texts, the word being played counts as unheard and the later words are listed', async () => {
    const h = start({ chunkMs: 10, botStopGraceMs: 50 });
    h.out.onWrite = (count) => {
      if (count === 6) queueMicrotask(() => h.send(makeFrame('interruption')));
    };
    h.text('alpha', 'c1', 0);
    h.audio(40, 'c1');
    h.text('beta', 'c1', 40);
    h.audio(40, 'c1');
    h.text('gamma', 'c1', 80);
    h.audio(40, 'c1');
    h.send(makeFrame('tts-stopped', { contextId: 'c1' }));
    await h.waitFor((f) => f.type === 'interruption');
    const texts = h.down.ofType('tts-text');
    expect(texts.map((f) => ({ text: f.text, unheard: f.unheard, offsetMs: f.offsetMs }))).toEqual([
      { text: 'alpha', unheard: undefined, offsetMs: 0 },
      { text: '', unheard: 'beta gamma', offsetMs: 40 },
    ]);
  });

  it('an interruption while nothing plays only passes on', async () => {
    const h = start({ chunkMs: 10 });
    h.send(makeFrame('interruption'));
    await h.waitFor((f) => f.type === 'interruption');
    expect(h.types()).toEqual(['interruption']);
  });
});

describe('BaseOutputTransport: end, cancel, cleanup', () => {
  it('an end frame passes after the audio before it has played, then stops the clock', async () => {
    const timersBefore = activeTimers();
    const h = start({ chunkMs: 10, botStopGraceMs: 30 });
    h.text('Goodbye.');
    h.audio(100);
    h.task.stopWhenDone('bye');
    await h.finish();
    expect(h.out.writes).toHaveLength(10);
    // After the 10 chunks have played.
    const end = h.down.ofType('end')[0];
    expect(h.at(end)).toBe(100);
    // The text was heard before the end.
    expect(h.types().slice(-2)).toEqual(['tts-text', 'end']);
    expect(h.clock.pendingTimers).toBe(0);
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
    // Audio arriving after the end is not played.
    await h.out.queueFrame(ttsAudioFrame(tone(800, 8000), 8000));
    await h.clock.advance(30);
    expect(h.out.writes).toHaveLength(10);
    expect(h.clock.pendingTimers).toBe(0);
  });

  it('cancel stops playback at once and leaves no timer behind', async () => {
    const timersBefore = activeTimers();
    const h = start({ chunkMs: 10 });
    h.out.onWrite = (count) => {
      if (count === 5) queueMicrotask(() => h.task.cancel('hang up'));
    };
    h.audio(500);
    await h.finish();
    expect(h.clock.now()).toBe(40);
    await h.clock.advance(40);
    expect(h.out.writes).toHaveLength(5);
    expect(h.clock.pendingTimers).toBe(0);
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
  });

  it('a cancel reports the words of the playing text already played as heard (no unheard: nothing resumes)', async () => {
    const h = start({ chunkMs: 10, botStopGraceMs: 200 });
    h.text('Of course.');
    h.audio(50);
    h.text('I am connecting you to a human now.');
    h.audio(80);
    h.text('Goodbye.');
    h.audio(50);
    // Cancel (a transfer ends the call) after the first sentence and half of the second have played.
    h.out.onWrite = (count) => {
      if (count === 9) queueMicrotask(() => h.task.cancel('transferred'));
    };
    await h.finish();
    const heard = h.down.ofType('tts-text').map((f) => [f.text, f.unheard]);
    expect(heard).toEqual([
      ['Of course.', undefined],
      ['I am connecting you', undefined], // 40 of its 80 ms played: 4 of its 8 words
    ]);
    expect(h.types().slice(-1)).toEqual(['cancel']);
  });

  it('a cancel within the stop grace reports the fully played last text whole', async () => {
    const h = start({ chunkMs: 10, botStopGraceMs: 200 });
    h.text('I am connecting you to a human now.');
    h.audio(50);
    await h.waitForWrites(5);
    await h.clock.advance(50); // played, but the grace has not passed: not yet released
    expect(h.down.ofType('tts-text')).toEqual([]);
    h.task.cancel('transferred');
    await h.finish();
    expect(h.down.ofType('tts-text').map((f) => [f.text, f.unheard])).toEqual([['I am connecting you to a human now.', undefined]]);
  });

  it('cleanup after an idle run leaves no timer behind', async () => {
    const timersBefore = activeTimers();
    const h = start({ chunkMs: 10 });
    h.text('queued text only');
    h.task.stopWhenDone();
    await h.finish();
    expect(h.clock.pendingTimers).toBe(0);
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
    expect(h.types()).toEqual(['tts-text', 'end']);
  });
});

/** A sink that buffers: it reports as unplayed the chunks its far end has not acknowledged. */
class BufferingOutput extends RecordingOutput {
  acknowledged = 0;

  protected override unplayedMs(): number {
    return (this.writes.length - this.acknowledged) * this.chunkMs;
  }
}

describe('BaseOutputTransport: a lead over real time, and audio written but not played', () => {
  it('writes leadMs ahead at the start, then one chunk per chunkMs, and starts a new lead after running dry', async () => {
    const h = start({ chunkMs: 20, leadMs: 80 });
    h.audio(200); // 10 chunks
    h.send(makeFrame('tts-stopped', { contextId: 'ctx' }));
    await h.waitForWrites(10);
    // Four chunks at once (80 ms ahead), then real time: the sink always holds 80 ms more than was played.
    expect(h.out.writes.map((w) => w.at)).toEqual([0, 0, 0, 0, 20, 40, 60, 80, 100, 120]);
    await h.clock.advance(1000);
    h.audio(60, 'ctx2');
    h.send(makeFrame('tts-stopped', { contextId: 'ctx2' }));
    await h.waitForWrites(13);
    const at = h.clock.now();
    expect(h.out.writes.slice(10).map((w) => w.at)).toEqual([at, at, at]);
  });

  it('at an interruption, counts what the sink has not played as unheard', async () => {
    const h = start({ chunkMs: 10, botStopGraceMs: 50 }, 8000, new VirtualClock(), BufferingOutput);
    const out = h.out as BufferingOutput;
    out.onWrite = (count) => {
      out.acknowledged = Math.max(0, count - 4); // the far end is 4 chunks behind
      if (count === 8) queueMicrotask(() => h.send(makeFrame('interruption')));
    };
    h.text('one two three four five six seven eight nine ten', 'c1');
    h.audio(200, 'c1'); // 20 chunks
    h.send(makeFrame('tts-stopped', { contextId: 'c1' }));
    await h.waitFor((f) => f.type === 'interruption');
    // 8 chunks written, 4 acknowledged: 4 of 20 played, so 2 of 10 words heard.
    expect(h.down.ofType('tts-text')[0]).toMatchObject({ text: 'one two', unheard: 'three four five six seven eight nine ten' });
  });
});

describe('BaseOutputTransport: chunks longer than the TTS’s pieces', () => {
  it('a word whose audio is still being gathered into a chunk is not released ahead of it', async () => {
    const h = start({ chunkMs: 200, leadMs: 400, botStopGraceMs: 50 }, 8000, new VirtualClock(), BufferingOutput);
    const out = h.out as BufferingOutput;
    out.onWrite = (count) => {
      out.acknowledged = Math.max(0, count - 2); // the far end is 2 chunks (the lead) behind
      if (count === 4) queueMicrotask(() => h.send(makeFrame('interruption')));
    };
    const words = 'a b c d e f g h i j k l m n o p q r s t'.split(' ');
    words.forEach((word, i) => {
      h.text(word, 'c1', i * 40);
      h.audio(40, 'c1');
    });
    h.send(makeFrame('tts-stopped', { contextId: 'c1' }));
    await h.waitFor((f) => f.type === 'interruption');
    const texts = h.down.ofType('tts-text');
    // 4 chunks of 200 ms written, 2 played: 400 ms, the first 10 words (and maybe the 11th, cut with the chunk).
    const heard = texts.filter((f) => f.unheard === undefined).map((f) => f.text);
    expect(heard.length).toBeGreaterThanOrEqual(9);
    expect(heard.length).toBeLessThanOrEqual(11);
    expect(texts.at(-1)!.unheard).toMatch(/ t$/);
  });

  it('a sentence whose first audio piece is shorter than a chunk waits for its audio, and an interruption cuts it', async () => {
    const h = start({ chunkMs: 200, botStopGraceMs: 50 });
    h.out.onWrite = (count) => {
      if (count === 2) queueMicrotask(() => h.send(makeFrame('interruption')));
    };
    h.text('one two three four five six seven eight nine ten', 'c1');
    h.audio(40, 'c1'); // less than a chunk: the chunker holds it
    await h.clock.advance(100);
    for (let i = 0; i < 24; i++) h.audio(40, 'c1'); // 1 s in all: five chunks
    h.send(makeFrame('tts-stopped', { contextId: 'c1' }));
    await h.waitFor((f) => f.type === 'interruption');
    // Two of five chunks written when the cut came: four words of ten heard, the rest not.
    expect(h.down.ofType('tts-text')).toMatchObject([{ text: 'one two three four', unheard: 'five six seven eight nine ten' }]);
  });
});
