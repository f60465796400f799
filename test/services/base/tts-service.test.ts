// TTSService base: FakeTTSService (instant or with latency) and a scripted subclass that yields its audio slowly,
// in a real pipeline task between two collectors.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  makeFrame,
  type ErrorFrame,
  type Frame,
  type FrameDirection,
  type MetricsData,
  type TTSAudioFrame,
} from '../../../src/frames/index.js';
import { silentLogger } from '../../../src/logging/index.js';
import { Pipeline, PipelineTask, type FrameProcessor } from '../../../src/pipeline/index.js';
import { ServiceError } from '../../../src/services/base/service-error.js';
import { TTSService, type SynthesizeOptions, type TTSChunk } from '../../../src/services/base/tts-service.js';
import { FakeTTSService } from '../../../src/testing/fake-services.js';
import { FrameCollector } from '../../../src/testing/frame-collector.js';
import { MemoryOutputTransport } from '../../../src/transports/memory/index.js';
import { sleep } from '../../support/wait.js';


/** Yields `chunks` chunks of `chunkMs` each, `gapMs` apart (the wait ignores the signal), recording each call. */
class SlowTTS extends TTSService {
  readonly calls: { text: string; signal: AbortSignal }[] = [];
  yielded = 0;

  constructor(
    private readonly options: { chunks: number; chunkMs: number; gapMs: number; failOn?: RegExp },
  ) {
    super({ sampleRate: 8000, name: 'slow-tts', model: 'slow' });
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    this.calls.push({ text, signal: options.signal });
    await sleep(0);
    if (this.options.failOn?.test(text) === true) throw new ServiceError('slow-tts', `cannot say ${JSON.stringify(text)}`);
    for (let i = 0; i < this.options.chunks; i++) {
      if (i > 0) await sleep(this.options.gapMs);
      this.yielded++;
      yield { type: 'audio', audio: new Int16Array((this.options.chunkMs * 8000) / 1000).fill(1000) };
    }
  }
}

class Probe extends FrameCollector {
  readonly arrivals = new Map<Frame, number>();

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    this.arrivals.set(frame, performance.now());
    return super.processFrame(frame, direction);
  }
}

interface Harness<T extends TTSService> {
  tts: T;
  up: FrameCollector;
  down: Probe;
  task: PipelineTask;
  done: Promise<void>;
  errors: ErrorFrame[];
  send(frame: Frame): void;
  /** Streams an LLM response: start, the pieces `gapMs` apart, end. */
  respond(pieces: readonly string[], gapMs?: number): Promise<void>;
  waitFor(predicate: (frame: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  /** Downstream frames, without start and metrics. */
  frames(): Frame[];
}

const running: Harness<TTSService>[] = [];
let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});

afterEach(async () => {
  for (const h of running.splice(0)) {
    h.task.cancel('test over');
    await h.done;
  }
  await sleep(5);
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

function start<T extends TTSService>(tts: T, after: FrameProcessor[] = []): Harness<T> {
  const up = new FrameCollector({ name: 'up' });
  const down = new Probe({ name: 'down' });
  const errors: ErrorFrame[] = [];
  const task = new PipelineTask(new Pipeline([up, tts, ...after, down]), {
    logger: silentLogger,
    audioOutSampleRate: 8000,
    onError: (frame) => errors.push(frame),
  });
  const h: Harness<T> = {
    tts,
    up,
    down,
    task,
    done: task.run(),
    errors,
    send(frame) {
      void task.queueFrame(frame);
    },
    async respond(pieces, gapMs = 0) {
      h.send(makeFrame('llm-response-start'));
      for (const piece of pieces) {
        h.send(makeFrame('llm-text', { text: piece }));
        if (gapMs > 0) await sleep(gapMs);
      }
      h.send(makeFrame('llm-response-end'));
    },
    async waitFor(predicate, timeoutMs = 3000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
      });
      try {
        return await Promise.race([down.waitFor(predicate), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    frames() {
      return down.downstream.filter((f) => f.type !== 'metrics' && f.type !== 'start');
    },
  };
  running.push(h);
  return h;
}

/** Frame types with runs of tts-audio collapsed into one 'audio' entry, for readable order assertions. */
function shape(frames: readonly Frame[]): string[] {
  const out: string[] = [];
  for (const f of frames) {
    const label = f.type === 'tts-audio' ? 'audio' : f.type === 'tts-text' ? `text:${f.text}` : f.type;
    if (label === 'audio' && out.at(-1) === 'audio') continue;
    out.push(label);
  }
  return out;
}

const samples = (frames: readonly TTSAudioFrame[]): number => frames.reduce((n, f) => n + f.audio.length, 0);

describe('TTSService: LLM responses', () => {
  it('speaks each sentence as soon as it is complete, while the model is still streaming', async () => {
    const tts = new FakeTTSService({ sampleRate: 8000, msPerCharacter: 2, chunkMs: 20 });
    const h = start(tts);
    h.send(makeFrame('llm-response-start'));
    for (const piece of ['Hello', ' there.']) h.send(makeFrame('llm-text', { text: piece }));
    await sleep(20);
    // "there." might go on ("there.5"): a sentence ends only once the next character has arrived.
    expect(tts.spoken).toEqual([]);
    h.send(makeFrame('llm-text', { text: ' How are' }));
    await sleep(20);
    expect(tts.spoken).toEqual(['Hello there.']);
    // Its audio is out before the response has ended.
    expect(h.down.ofType('tts-audio').length).toBeGreaterThan(0);
    expect(h.down.ofType('llm-response-end')).toEqual([]);
    h.send(makeFrame('llm-text', { text: ' you? Fine' }));
    await sleep(20);
    expect(tts.spoken).toEqual(['Hello there.', 'How are you?']);
    h.send(makeFrame('llm-response-end'));
    await h.waitFor((f) => f.type === 'llm-response-end');
    expect(tts.spoken).toEqual(['Hello there.', 'How are you?', 'Fine']);

    expect(shape(h.frames())).toEqual([
      'llm-response-start',
      'tts-started',
      'text:Hello there.',
      'audio',
      'text:How are you?',
      'audio',
      'text:Fine',
      'audio',
      'tts-stopped',
      'llm-response-end',
    ]);
    // All of the audio, at the service's rate, with the utterance's context id on every frame.
    const audio = h.down.ofType('tts-audio');
    const expectedMs = ['Hello there.', 'How are you?', 'Fine'].reduce((ms, t) => ms + t.length * 2, 0);
    expect(samples(audio)).toBe((expectedMs * 8000) / 1000);
    expect(audio.every((f) => f.sampleRate === 8000)).toBe(true);
    const contextId = h.down.ofType('tts-started')[0]!.contextId;
    expect(contextId).toBeDefined();
    for (const f of [...audio, ...h.down.ofType('tts-text'), ...h.down.ofType('tts-stopped')]) expect(f.contextId).toBe(contextId);
  });

  it('starts a new context (tts-started / tts-stopped) for each response', async () => {
    const h = start(new FakeTTSService({ sampleRate: 8000, msPerCharacter: 1 }));
    await h.respond(['One.']);
    await h.waitFor((f) => f.type === 'llm-response-end');
    await h.respond(['Two.']);
    await h.waitFor((f) => f.type === 'llm-response-end' && h.down.ofType('llm-response-end').length === 2);
    const started = h.down.ofType('tts-started');
    expect(started).toHaveLength(2);
    expect(started[0]!.contextId).not.toBe(started[1]!.contextId);
    expect(h.down.ofType('tts-stopped').map((f) => f.contextId)).toEqual(started.map((f) => f.contextId));
  });

  it('keeps frames that follow a response behind its pending speech, even when the next response starts early', async () => {
    // 60 ms of synthesis latency per sentence: the second response arrives while the first is still being spoken.
    const h = start(new FakeTTSService({ sampleRate: 8000, msPerCharacter: 1, latencyMs: 60 }));
    await h.respond(['First one.']);
    h.send(makeFrame('function-call-result', { toolCallId: 't', name: 'x', arguments: {}, result: 1, runLLM: true }));
    await h.respond(['Second one.']);
    await h.waitFor((f) => f.type === 'llm-response-end' && h.down.ofType('llm-response-end').length === 2);
    expect(shape(h.frames())).toEqual([
      'llm-response-start',
      'tts-started',
      'text:First one.',
      'audio',
      'tts-stopped',
      'llm-response-end',
      'function-call-result',
      'llm-response-start',
      'tts-started',
      'text:Second one.',
      'audio',
      'tts-stopped',
      'llm-response-end',
    ]);
  });

  it('a response with no text passes its start and end through without tts frames', async () => {
    const tts = new FakeTTSService({ sampleRate: 8000 });
    const h = start(tts);
    await h.respond([]);
    await h.waitFor((f) => f.type === 'llm-response-end');
    expect(shape(h.frames())).toEqual(['llm-response-start', 'llm-response-end']);
    expect(tts.spoken).toEqual([]);
  });

  it('removes markdown before speaking', async () => {
    const tts = new FakeTTSService({ sampleRate: 8000, msPerCharacter: 1 });
    const h = start(tts);
    await h.respond(['**Great** news: ', 'it is `done`.']);
    await h.waitFor((f) => f.type === 'llm-response-end');
    expect(tts.spoken).toEqual(['Great news: it is done.']);
  });
});

describe('TTSService: word timestamps', () => {
  it('places each word just before the audio chunk that contains its start', async () => {
    // 10 ms per character, 20 ms chunks: "Hello there friend." -> words at 0, 60 and 120 ms of 190 ms of audio.
    const h = start(new FakeTTSService({ sampleRate: 8000, msPerCharacter: 10, chunkMs: 20, wordTimestamps: true }));
    await h.respond(['Hello there friend.']);
    await h.waitFor((f) => f.type === 'llm-response-end');
    const frames = h.frames();
    const words = frames.filter((f) => f.type === 'tts-text');
    expect(words.map((f) => [f.text, f.offsetMs])).toEqual([
      ['Hello', 0],
      ['there', 60],
      ['friend.', 120],
    ]);
    let audioMs = 0;
    for (const [i, f] of frames.entries()) {
      if (f.type === 'tts-audio') audioMs += (f.audio.length * 1000) / f.sampleRate;
      if (f.type !== 'tts-text') continue;
      // The audio before the word ends at or before its offset, and the next chunk contains the offset.
      expect(audioMs).toBeLessThanOrEqual(f.offsetMs!);
      const next = frames.slice(i + 1).find((g): g is TTSAudioFrame => g.type === 'tts-audio')!;
      expect(audioMs + (next.audio.length * 1000) / next.sampleRate).toBeGreaterThan(f.offsetMs!);
    }
    expect(audioMs).toBe(190);
    expect(shape(frames)).toEqual([
      'llm-response-start',
      'tts-started',
      'text:Hello',
      'audio',
      'text:there',
      'audio',
      'text:friend.',
      'audio',
      'tts-stopped',
      'llm-response-end',
    ]);
  });
});

describe('TTSService: speak and end', () => {
  it('says a speak frame verbatim, sentence by sentence, as one utterance', async () => {
    const tts = new FakeTTSService({ sampleRate: 8000, msPerCharacter: 1 });
    const h = start(tts);
    h.send(makeFrame('speak', { text: 'Hi there. How can I help?' }));
    await h.waitFor((f) => f.type === 'tts-stopped');
    expect(tts.spoken).toEqual(['Hi there.', 'How can I help?']);
    expect(shape(h.frames())).toEqual([
      'tts-started',
      'text:Hi there.',
      'audio',
      'text:How can I help?',
      'audio',
      'tts-stopped',
    ]);
    expect(h.down.ofType('speak')).toEqual([]); // consumed
  });

  it('an end frame waits for the speech before it', async () => {
    const tts = new FakeTTSService({ sampleRate: 8000, msPerCharacter: 1, latencyMs: 40 });
    const h = start(tts);
    h.send(makeFrame('speak', { text: 'Goodbye now. Take care.' }));
    h.task.stopWhenDone();
    await h.done;
    const types = shape(h.frames());
    expect(types).toEqual(['tts-started', 'text:Goodbye now.', 'audio', 'text:Take care.', 'audio', 'tts-stopped', 'end']);
    expect(tts.spoken).toEqual(['Goodbye now.', 'Take care.']);
  });
});

describe('TTSService: interruptions', () => {
  it('drops pending sentences, aborts the synthesis in progress and closes the utterance', async () => {
    const tts = new SlowTTS({ chunks: 10, chunkMs: 20, gapMs: 15 });
    const h = start(tts);
    h.send(makeFrame('speak', { text: 'First sentence here. Second one. Third one.' }));
    await h.waitFor((f) => f.type === 'tts-audio' && h.down.ofType('tts-audio').length === 3);
    expect(tts.calls.map((c) => c.text)).toEqual(['First sentence here.']);
    h.send(makeFrame('interruption'));
    expect(tts.calls[0]!.signal.aborted).toBe(true);
    const audioAtInterruption = h.down.ofType('tts-audio').length;
    await sleep(100);
    // No more audio, and the pending sentences were never synthesised.
    expect(h.down.ofType('tts-audio')).toHaveLength(audioAtInterruption);
    expect(tts.calls.map((c) => c.text)).toEqual(['First sentence here.']);
    const types = h.frames().map((f) => f.type);
    expect(types.slice(types.indexOf('interruption')).filter((t) => t === 'tts-audio')).toEqual([]);
    // The utterance is closed exactly once.
    expect(h.down.ofType('tts-stopped')).toHaveLength(1);
    expect(h.down.ofType('tts-stopped')[0]!.contextId).toBe(h.down.ofType('tts-started')[0]!.contextId);
    expect(h.errors).toEqual([]);

    // Speaking goes on normally afterwards.
    h.send(makeFrame('speak', { text: 'Yes?' }));
    await h.waitFor((f) => f.type === 'tts-stopped' && h.down.ofType('tts-stopped').length === 2);
    expect(tts.calls.map((c) => c.text)).toEqual(['First sentence here.', 'Yes?']);
    expect(h.down.ofType('tts-started')).toHaveLength(2);
  });

  it('an interruption in the middle of a streamed response drops the rest of that response', async () => {
    const tts = new SlowTTS({ chunks: 5, chunkMs: 20, gapMs: 15 });
    const h = start(tts);
    h.send(makeFrame('llm-response-start'));
    h.send(makeFrame('llm-text', { text: 'One two. Three' }));
    await h.waitFor((f) => f.type === 'tts-audio');
    h.send(makeFrame('interruption'));
    // The rest of the response still arrives from the LLM before it notices.
    h.send(makeFrame('llm-text', { text: ' four.' }));
    h.send(makeFrame('llm-response-end'));
    await h.waitFor((f) => f.type === 'llm-response-end');
    await sleep(60);
    expect(tts.calls.map((c) => c.text)).toEqual(['One two.']);
  });

  it('an interruption keeps a pending end frame: barging in on a goodbye still ends the call', async () => {
    const tts = new SlowTTS({ chunks: 10, chunkMs: 20, gapMs: 15 });
    const h = start(tts);
    h.send(makeFrame('speak', { text: 'Goodbye. Have a nice day.' }));
    h.task.stopWhenDone('goodbye');
    await h.waitFor((f) => f.type === 'tts-audio');
    h.send(makeFrame('interruption'));
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      h.done.then(() => 'ended'),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running'), 1000))),
    ]);
    clearTimeout(timer);
    expect(ended).toBe('ended');
    expect(h.task.reason).toBe('goodbye');
    expect(tts.calls.map((c) => c.text)).toEqual(['Goodbye.']);
    expect(h.frames().at(-1)?.type).toBe('end');
  });

  it('the tts-stopped of an interrupted utterance reaches past the output transport', async () => {
    // Sent before the interruption, the output transport would queue it behind the audio it is playing and the
    // interruption would then discard it with that audio.
    const tts = new SlowTTS({ chunks: 20, chunkMs: 20, gapMs: 5 });
    const output = new MemoryOutputTransport(() => undefined, { chunkMs: 20, botStopGraceMs: 20 });
    const h = start(tts, [output]);
    h.send(makeFrame('speak', { text: 'A long sentence.' }));
    await h.waitFor((f) => f.type === 'bot-started-speaking');
    await sleep(30);
    h.send(makeFrame('interruption'));
    await h.waitFor((f) => f.type === 'tts-stopped', 500);
    const types = h.frames().map((f) => f.type);
    expect(types.indexOf('tts-stopped')).toBeGreaterThan(types.indexOf('interruption'));
  });
});

describe('TTSService: the utterance-stopped hook', () => {
  /** Records each onUtteranceStopped call and how many tts-stopped frames had gone out by then. */
  class HookedTTS extends SlowTTS {
    readonly stopped: { contextId: string; stopsBefore: number }[] = [];
    probe: Probe | undefined;

    protected override onUtteranceStopped(contextId: string): void {
      this.stopped.push({ contextId, stopsBefore: this.probe?.ofType('tts-stopped').length ?? -1 });
    }
  }

  it('runs once per utterance, before its tts-stopped: at the end of a response, and on an interruption', async () => {
    const tts = new HookedTTS({ chunks: 10, chunkMs: 20, gapMs: 15 });
    const h = start(tts);
    tts.probe = h.down;
    await h.respond(['One.']);
    await h.waitFor((f) => f.type === 'tts-stopped');
    h.send(makeFrame('speak', { text: 'A longer sentence that is cut.' }));
    await h.waitFor((f) => f.type === 'tts-audio' && h.down.ofType('tts-started').length === 2);
    h.send(makeFrame('interruption'));
    await h.waitFor((f) => f.type === 'tts-stopped' && h.down.ofType('tts-stopped').length === 2);
    const stops = h.down.ofType('tts-stopped').map((f) => f.contextId);
    expect(tts.stopped).toEqual([
      { contextId: stops[0], stopsBefore: 0 },
      { contextId: stops[1], stopsBefore: 1 },
    ]);
  });
});

describe('TTSService: errors and metrics', () => {
  it('a failing synthesis is reported upstream and the next sentence is still spoken', async () => {
    const tts = new SlowTTS({ chunks: 2, chunkMs: 20, gapMs: 0, failOn: /Broken/ });
    const h = start(tts);
    h.send(makeFrame('speak', { text: 'Broken sentence. Fine sentence.' }));
    await h.waitFor((f) => f.type === 'tts-stopped');
    expect(tts.calls.map((c) => c.text)).toEqual(['Broken sentence.', 'Fine sentence.']);
    const errors = h.up.upstream.filter((f): f is ErrorFrame => f.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error).toBeInstanceOf(ServiceError);
    expect(errors[0]!.fatal).toBe(false);
    expect(errors[0]!.processor).toBe('slow-tts');
    expect(shape(h.frames())).toEqual(['tts-started', 'text:Fine sentence.', 'audio', 'tts-stopped']);
    expect(h.task.state).toBe('running');
  });

  it('reports TTFB, processing time and characters per sentence', async () => {
    const tts = new FakeTTSService({ sampleRate: 8000, msPerCharacter: 1, latencyMs: 30 });
    const h = start(tts);
    h.send(makeFrame('speak', { text: 'Hello there. Bye.' }));
    await h.waitFor((f) => f.type === 'tts-stopped');
    const data: MetricsData[] = h.down.ofType('metrics').flatMap((f) => [...f.data]);
    expect(data.filter((m) => m.kind === 'tts-usage')).toEqual([
      { kind: 'tts-usage', processor: 'fake-tts', model: 'fake', characters: 'Hello there.'.length },
      { kind: 'tts-usage', processor: 'fake-tts', model: 'fake', characters: 'Bye.'.length },
    ]);
    const ttfb = data.flatMap((m) => (m.kind === 'ttfb' ? [m.valueMs] : []));
    expect(ttfb).toHaveLength(2);
    for (const ms of ttfb) expect(ms).toBeGreaterThanOrEqual(25);
    expect(data.filter((m) => m.kind === 'processing')).toHaveLength(2);
  });
});
