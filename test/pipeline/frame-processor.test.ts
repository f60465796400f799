import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  inputAudioFrame,
  makeFrame,
  ttsAudioFrame,
  type Frame,
  type FrameDirection,
} from '../../src/frames/index.js';
import { FrameProcessor, Pipeline, PipelineTask } from '../../src/pipeline/index.js';
import { FrameCollector } from '../../src/testing/index.js';
import { GateProcessor, ThrowingProcessor, recordingLogger, textFrames, type LogRecord } from './helpers.js';

const silence = new Int16Array(320);

/** Flushes pending promise callbacks (several rounds: settled chains take a few microtasks). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('FrameProcessor scheduling', () => {
  it('passes frames through in order, synchronously when nothing is queued', () => {
    const a = new FrameProcessor();
    const collector = new FrameCollector();
    a.link(collector);
    const frames = textFrames(5);
    for (const f of frames) void a.queueFrame(f);
    expect(collector.downstream).toEqual(frames);
  });

  it('processes system frames ahead of queued data frames', async () => {
    const gate = new GateProcessor(new Set(['text']));
    const collector = new FrameCollector();
    gate.link(collector);
    const [a, b, c] = textFrames(3);
    void gate.queueFrame(a!);
    void gate.queueFrame(b!);
    void gate.queueFrame(c!);
    expect(gate.queuedFrames).toBe(2); // a is in progress, b and c wait
    const userStarted = makeFrame('user-started-speaking');
    void gate.queueFrame(userStarted);
    expect(collector.downstream).toEqual([userStarted]);
    for (let i = 0; i < 3; i++) {
      gate.step();
      await settle();
    }
    expect(collector.downstream).toEqual([userStarted, a, b, c]);
  });

  it('an interruption drops queued bot output but keeps caller audio, transcripts, tool results and end', () => {
    const gate = new GateProcessor(new Set(['text']));
    gate.link(new FrameCollector());
    void gate.queueFrame(makeFrame('text', { text: 'in progress' }));
    const kept: Frame[] = [
      inputAudioFrame(silence, 16000),
      makeFrame('transcription', { text: 'hello', final: true, userId: 'caller' }),
      makeFrame('function-call-result', { toolCallId: '1', name: 'f', arguments: {}, result: 'ok', runLLM: true }),
      makeFrame('end'),
    ];
    const dropped: Frame[] = [
      ttsAudioFrame(silence, 8000),
      makeFrame('llm-text', { text: 'reply' }),
      makeFrame('tts-stopped', {}),
      makeFrame('speak', { text: 'hi' }),
    ];
    for (let i = 0; i < kept.length; i++) {
      void gate.queueFrame(dropped[i]!);
      void gate.queueFrame(kept[i]!);
    }
    expect(gate.queuedFrames).toBe(8);
    void gate.queueFrame(makeFrame('interruption'));
    expect(gate.queuedFrames).toBe(4);
  });

  it('an interruption drains the queues of every processor in one step', async () => {
    const first = new GateProcessor(new Set(['tts-audio']), { name: 'first' });
    const second = new GateProcessor(new Set(['tts-audio']), { name: 'second' });
    const collector = new FrameCollector();
    const task = new PipelineTask(new Pipeline([first, second, collector]), { logger: recordingLogger() });
    const running = task.run();
    await settle();
    // Both processors are busy with one frame and hold others queued.
    for (let i = 0; i < 4; i++) void task.queueFrame(ttsAudioFrame(silence, 8000));
    first.step();
    await settle();
    expect(first.queuedFrames).toBe(2);
    expect(second.queuedFrames).toBe(0);
    expect(second.waiting).toBe(1);
    first.step();
    await settle();
    expect(first.queuedFrames + second.queuedFrames).toBeGreaterThan(0);

    void task.queueFrame(makeFrame('interruption'));
    // Synchronously, before any promise callback ran:
    expect(first.queuedFrames).toBe(0);
    expect(second.queuedFrames).toBe(0);
    expect(collector.types()).toContain('interruption');

    task.cancel();
    await running;
  });

  it('queues data frames pushed back into a processor while it is processing (no nesting)', () => {
    const events: string[] = [];
    class Echo extends FrameProcessor {
      protected override processFrame(frame: Frame, direction: FrameDirection): void {
        if (frame.type !== 'text') {
          void this.pushFrame(frame, direction);
          return;
        }
        events.push(`enter ${frame.text} ${direction}`);
        void this.pushFrame(frame, direction);
        events.push(`exit ${frame.text} ${direction}`);
      }
    }
    class Bounce extends FrameProcessor {
      protected override processFrame(frame: Frame, direction: FrameDirection): void {
        // Turns the first downstream text into a new downstream text sent back through Echo via upstream.
        if (frame.type === 'text' && direction === 'downstream' && frame.text === 'one') {
          void this.pushFrame(makeFrame('text', { text: 'bounced' }), 'upstream');
        }
      }
    }
    class Reflect extends FrameProcessor {
      protected override processFrame(frame: Frame, direction: FrameDirection): void {
        if (direction === 'upstream') void this.pushFrame(frame, 'downstream');
        else void this.pushFrame(frame, direction);
      }
    }
    const reflect = new Reflect();
    const echo = new Echo();
    reflect.link(echo).link(new Bounce());
    void reflect.queueFrame(makeFrame('text', { text: 'one' }));
    // 'bounced' reaches Echo twice (upstream, then reflected downstream); each time it waits its turn.
    expect(events).toEqual([
      'enter one downstream',
      'exit one downstream',
      'enter bounced upstream',
      'exit bounced upstream',
      'enter bounced downstream',
      'exit bounced downstream',
    ]);
  });

  it('drops nothing when nothing is slow, and returns no promise', () => {
    const p = new FrameProcessor();
    const collector = new FrameCollector();
    p.link(collector);
    for (let i = 0; i < 1000; i++) expect(p.queueFrame(inputAudioFrame(silence, 16000))).toBeUndefined();
    expect(collector.downstream).toHaveLength(1000);
  });
});

describe('backpressure', () => {
  it('returns a promise at the high-water mark that resolves once the queue drained', async () => {
    const gate = new GateProcessor(new Set(['text']), { highWaterMark: 4 });
    gate.link(new FrameCollector());
    const results = textFrames(6).map((f) => gate.queueFrame(f));
    // 1 in progress, 5 queued: pushes 5 and 6 found the queue at >= 4.
    expect(results.slice(0, 4).every((r) => r === undefined)).toBe(true);
    expect(results[4]).toBeInstanceOf(Promise);
    let released = false;
    void results[4]!.then(() => (released = true));
    gate.step();
    await settle();
    gate.step();
    await settle();
    expect(released).toBe(false); // still 3 queued > low-water mark 2
    gate.step();
    await settle();
    expect(released).toBe(true);
  });

  it('a producer that awaits is held to the consumer pace: the queue stays bounded', async () => {
    const gate = new GateProcessor(new Set(['text']), { highWaterMark: 8 });
    gate.link(new FrameCollector());
    let maxQueued = 0;
    const producer = (async () => {
      for (const frame of textFrames(200)) {
        await gate.queueFrame(frame);
        maxQueued = Math.max(maxQueued, gate.queuedFrames);
      }
    })();
    for (let i = 0; i < 200; i++) {
      gate.step();
      await settle();
    }
    await producer;
    expect(maxQueued).toBeLessThanOrEqual(8);
    expect(gate.processed).toHaveLength(200);
  });

  it('propagates through pass-through processors up to the producer', async () => {
    const gate = new GateProcessor(new Set(['text']), { highWaterMark: 4, name: 'slow' });
    const passThrough = new FrameProcessor({ highWaterMark: 4, name: 'pass' });
    passThrough.link(gate).link(new FrameCollector());
    const pushes = textFrames(12).map((f) => passThrough.queueFrame(f));
    // The pass-through becomes busy waiting on the slow processor, so its own queue fills and pushes back.
    expect(pushes.some((p) => p instanceof Promise)).toBe(true);
    expect(gate.queuedFrames).toBeLessThanOrEqual(4);
    for (let i = 0; i < 12; i++) {
      gate.step();
      await settle();
    }
    expect(gate.processed).toHaveLength(12);
  });

  it('drops audio past maxQueuedFrames so a stalled processor cannot grow memory without bound', async () => {
    const records: LogRecord[] = [];
    const gate = new GateProcessor(new Set(['input-audio']), { highWaterMark: 8, maxQueuedFrames: 32 });
    gate.setup({ observers: [], logger: recordingLogger(records) });
    gate.link(new FrameCollector());
    for (let i = 0; i < 10_000; i++) void gate.queueFrame(inputAudioFrame(silence, 16000));
    expect(gate.queuedFrames).toBe(32);
    // Control frames are never dropped.
    void gate.queueFrame(makeFrame('end'));
    expect(gate.queuedFrames).toBe(33);
    const warnings = records.filter((r) => r.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/dropping audio/);
    for (let i = 0; i < 34; i++) {
      gate.step();
      await settle();
    }
    expect(gate.processed.at(-1)?.type).toBe('end');
    expect(records.some((r) => r.message.includes('caught up') && r.fields.dropped === 10_000 - 33)).toBe(true);
  });
});

describe('errors', () => {
  let unhandled: unknown[];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  beforeEach(() => {
    unhandled = [];
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  for (const mode of ['sync', 'async'] as const) {
    it(`a ${mode} exception becomes an error frame upstream and the call goes on`, async () => {
      const errors: Frame[] = [];
      const collector = new FrameCollector();
      const thrower = new ThrowingProcessor('speak', mode);
      const task = new PipelineTask(new Pipeline([thrower, collector]), {
        logger: recordingLogger(),
        onError: (frame) => errors.push(frame),
      });
      const running = task.run();
      void task.queueFrame(makeFrame('speak', { text: 'boom' }));
      void task.queueFrame(makeFrame('text', { text: 'still alive' }));
      task.stopWhenDone();
      await running;
      await settle();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ type: 'error', fatal: false, processor: `thrower-${mode}` });
      expect((errors[0] as Extract<Frame, { type: 'error' }>).error.message).toBe(`${mode} failure on speak`);
      expect(collector.ofType('text').map((f) => f.text)).toEqual(['still alive']);
      expect(task.state).toBe('done');
      expect(unhandled).toEqual([]);
    });
  }

  it('a fatal error cancels the task with the reason', async () => {
    const collector = new FrameCollector();
    const task = new PipelineTask(new Pipeline([new ThrowingProcessor('speak', 'sync', true), collector]), {
      logger: recordingLogger(),
    });
    const running = task.run();
    void task.queueFrame(makeFrame('speak', { text: 'boom' }));
    await running;
    expect(task.reason).toMatch(/fatal error in thrower-sync: fatal failure/);
    expect(collector.types()).toContain('cancel');
  });

  it('an error in the first processor, with nowhere upstream to go, is logged', () => {
    const records: LogRecord[] = [];
    const thrower = new ThrowingProcessor('speak', 'sync');
    thrower.setup({ observers: [], logger: recordingLogger(records) });
    const frame = makeFrame('speak', { text: 'x' });
    expect(() => thrower.queueFrame(frame)).not.toThrow();
    const errors = records.filter((r) => r.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.fields.frame).toBe(`speak#${frame.id}("x")`);
    expect((errors[0]!.fields.err as Error).message).toBe('sync failure on speak');
  });
});
