import { describe, expect, it } from 'vitest';
import { inputAudioFrame, makeFrame, type Frame, type FrameDirection } from '../../src/frames/index.js';
import {
  FrameProcessor,
  Pipeline,
  PipelineTask,
  type FrameObserver,
  type FrameProcessEvent,
  type FramePushEvent,
} from '../../src/pipeline/index.js';
import { sleep } from '../../src/runtime/clock.js';
import { FrameCollector } from '../../src/testing/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { GateProcessor, recordingLogger, textFrames, type LogRecord } from './helpers.js';

const quiet = { logger: recordingLogger() };

describe('PipelineTask', () => {
  it('sends the StartFrame first, then frames queued before run(), and resolves after the EndFrame', async () => {
    const collector = new FrameCollector();
    const task = new PipelineTask(new Pipeline([collector]), {
      ...quiet,
      audioInSampleRate: 16000,
      audioOutSampleRate: 8000,
    });
    const frames = textFrames(3);
    for (const f of frames) void task.queueFrame(f);
    task.stopWhenDone('bye');
    await task.run();
    expect(collector.types()).toEqual(['start', 'text', 'text', 'text', 'end']);
    expect(collector.downstream[0]).toMatchObject({
      audioInSampleRate: 16000,
      audioOutSampleRate: 8000,
      allowInterruptions: true,
      enableMetrics: true,
    });
    expect(task.state).toBe('done');
    expect(task.reason).toBe('bye');
  });

  it('the EndFrame waits for frames queued before it, even behind a slow processor', async () => {
    const gate = new GateProcessor(new Set(['text']));
    const collector = new FrameCollector();
    const task = new PipelineTask(new Pipeline([gate, collector]), quiet);
    const running = task.run();
    for (const f of textFrames(3)) void task.queueFrame(f);
    task.stopWhenDone();
    let done = false;
    void running.then(() => (done = true));
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      expect(done).toBe(false);
      gate.step();
    }
    await running;
    expect(collector.types()).toEqual(['start', 'text', 'text', 'text', 'end']);
  });

  it('cancel() drops queued frames, reaches every processor and resolves run()', async () => {
    const gate = new GateProcessor(new Set(['text']));
    const collector = new FrameCollector();
    const task = new PipelineTask(new Pipeline([gate, collector]), quiet);
    const running = task.run();
    for (const f of textFrames(5)) void task.queueFrame(f);
    task.cancel('caller hung up');
    await running;
    expect(collector.types()).toEqual(['start', 'cancel']);
    expect(gate.queuedFrames).toBe(0);
    expect(task.reason).toBe('caller hung up');
    // Frames after the end are ignored, not an error.
    expect(() => task.queueFrame(makeFrame('text', { text: 'late' }))).not.toThrow();
  });

  it('gives up waiting for a processor that swallows the CancelFrame after cancelTimeoutMs', async () => {
    const records: LogRecord[] = [];
    class Swallow extends FrameProcessor {
      protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
        if (frame.type !== 'cancel') return this.pushFrame(frame, direction);
      }
    }
    const clock = new VirtualClock();
    const task = new PipelineTask(new Pipeline([new Swallow()]), {
      logger: recordingLogger(records),
      cancelTimeoutMs: 30,
      clock,
    });
    const running = task.run();
    task.cancel();
    await clock.advance(29);
    expect(task.state).toBe('cancelling');
    await clock.advance(1);
    expect(task.state).toBe('done');
    await running;
    expect(clock.now()).toBe(30);
    expect(clock.pendingTimers).toBe(0);
    expect(records.some((r) => r.level === 'warn' && r.message.includes('cancel did not pass'))).toBe(true);
  });

  it('run() twice is an error; cancel before run() ends it without running', async () => {
    const task = new PipelineTask(new Pipeline([]), quiet);
    task.cancel('never mind');
    expect(task.state).toBe('done');
    const running = task.run();
    await expect(running).rejects.toThrow(/run\(\) may be called only once/);
  });

  it('honours end-task and cancel-task requests pushed upstream by a processor', async () => {
    class Hangup extends FrameProcessor {
      protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
        if (frame.type === 'text' && frame.text === 'goodbye') {
          void this.pushFrame(makeFrame('end-task', { reason: 'said goodbye' }), 'upstream');
        }
        if (frame.type === 'text' && frame.text === 'abort') {
          void this.pushFrame(makeFrame('cancel-task', { reason: 'aborted' }), 'upstream');
        }
        return this.pushFrame(frame, direction);
      }
    }
    const collector = new FrameCollector();
    const task = new PipelineTask(new Pipeline([new Hangup(), collector]), quiet);
    const running = task.run();
    void task.queueFrame(makeFrame('text', { text: 'goodbye' }));
    await running;
    expect(collector.types()).toEqual(['start', 'text', 'end']);
    expect(task.reason).toBe('said goodbye');

    const collector2 = new FrameCollector();
    const task2 = new PipelineTask(new Pipeline([new Hangup(), collector2]), quiet);
    const running2 = task2.run();
    void task2.queueFrame(makeFrame('text', { text: 'abort' }));
    await running2;
    expect(collector2.types()).toContain('cancel');
    expect(task2.reason).toBe('aborted');
  });

  it('an interruption requested upstream from the middle is injected at the top and reaches everyone', async () => {
    const above = new FrameCollector({ name: 'above' });
    class Interrupter extends FrameProcessor {
      protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
        if (frame.type === 'user-started-speaking') {
          void this.pushFrame(makeFrame('interruption-task'), 'upstream');
        }
        return this.pushFrame(frame, direction);
      }
    }
    const below = new FrameCollector({ name: 'below' });
    const task = new PipelineTask(new Pipeline([above, new Interrupter(), below]), quiet);
    const running = task.run();
    void task.queueFrame(makeFrame('user-started-speaking'));
    task.stopWhenDone();
    await running;
    expect(above.types()).toContain('interruption');
    expect(below.types()).toContain('interruption');
  });

  it('cleans every processor up after the run, also in nested pipelines, and logs a failing cleanup', async () => {
    const cleaned: string[] = [];
    class Resource extends FrameProcessor {
      override async cleanup(): Promise<void> {
        cleaned.push(this.name);
        if (this.name === 'broken') throw new Error('close failed');
      }
    }
    const records: LogRecord[] = [];
    const task = new PipelineTask(
      new Pipeline([new Resource({ name: 'a' }), new Pipeline([new Resource({ name: 'broken' })]), new Resource({ name: 'c' })]),
      { logger: recordingLogger(records) },
    );
    task.stopWhenDone();
    await task.run();
    expect(cleaned).toEqual(['a', 'broken', 'c']);
    expect(records.some((r) => r.level === 'error' && r.message === 'cleanup failed')).toBe(true);
  });
});

describe('Pipeline', () => {
  it('nests: frames flow through inner pipelines both ways', async () => {
    const top = new FrameCollector({ name: 'top' });
    const innerA = new FrameCollector({ name: 'innerA' });
    const innerB = new FrameCollector({ name: 'innerB' });
    class UpstreamOnSpeak extends FrameProcessor {
      protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
        if (frame.type === 'speak') void this.pushFrame(makeFrame('bot-started-speaking'), 'upstream');
        return this.pushFrame(frame, direction);
      }
    }
    const bottom = new FrameCollector({ name: 'bottom' });
    const pipeline = new Pipeline([top, new Pipeline([innerA, new Pipeline([innerB])]), new UpstreamOnSpeak(), bottom]);
    const task = new PipelineTask(pipeline, quiet);
    const running = task.run();
    void task.queueFrame(makeFrame('speak', { text: 'hi' }));
    task.stopWhenDone();
    await running;
    for (const c of [top, innerA, innerB, bottom]) expect(c.types()).toEqual(['start', 'speak', 'end']);
    for (const c of [top, innerA, innerB]) expect(c.upstream.map((f) => f.type)).toEqual(['bot-started-speaking']);
  });

  it('refuses the same processor twice', () => {
    const p = new FrameProcessor();
    expect(() => new Pipeline([p, p])).toThrow(/appears twice/);
  });
});

describe('observers', () => {
  it('see every frame at every processor, with real sources and destinations across nesting', async () => {
    const processed: FrameProcessEvent[] = [];
    const pushed: FramePushEvent[] = [];
    const observer: FrameObserver = {
      onProcessFrame: (e) => processed.push(e),
      onPushFrame: (e) => pushed.push(e),
    };
    const a = new FrameProcessor({ name: 'a' });
    const b = new FrameProcessor({ name: 'b' });
    const c = new FrameProcessor({ name: 'c' });
    const task = new PipelineTask(new Pipeline([a, new Pipeline([b]), c]), { ...quiet, observers: [observer] });
    const running = task.run();
    const audio = inputAudioFrame(new Int16Array(160), 8000);
    void task.queueFrame(audio);
    task.stopWhenDone();
    await running;
    const audioAt = processed.filter((e) => e.frame === audio).map((e) => e.processor.name);
    expect(audioAt).toEqual([`${task.name}:source`, 'a', 'b', 'c', `${task.name}:sink`]);
    const hops = pushed.filter((e) => e.frame === audio).map((e) => `${e.source.name}->${e.destination.name}`);
    expect(hops).toEqual([`${task.name}:source->a`, 'a->b', 'b->c', `c->${task.name}:sink`]);
  });

  it('a throwing observer is ignored and the frame still arrives', async () => {
    const records: LogRecord[] = [];
    const collector = new FrameCollector();
    const task = new PipelineTask(new Pipeline([collector]), {
      logger: recordingLogger(records),
      observers: [
        {
          onProcessFrame: () => {
            throw new Error('observer bug');
          },
        },
      ],
    });
    const running = task.run();
    void task.queueFrame(makeFrame('text', { text: 'x' }));
    task.stopWhenDone();
    await running;
    expect(collector.types()).toEqual(['start', 'text', 'end']);
    expect(records.some((r) => r.message.includes('observer threw'))).toBe(true);
  });
});

describe('metrics', () => {
  class Timed extends FrameProcessor {
    protected override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
      if (frame.type === 'text') {
        this.startTtfbMetrics();
        this.startProcessingMetrics();
        await sleep(this.clock, 5);
        this.stopTtfbMetrics();
        this.stopTtfbMetrics(); // a second stop must not emit twice
        await sleep(this.clock, 5);
        this.stopProcessingMetrics();
        this.pushMetrics({ kind: 'llm-usage', processor: this.name, promptTokens: 10, completionTokens: 3 });
      }
      await this.pushFrame(frame, direction);
    }
  }

  it('metrics frames carry per-processor TTFB, processing time and usage', async () => {
    const collector = new FrameCollector();
    const clock = new VirtualClock();
    const task = new PipelineTask(new Pipeline([new Timed({ name: 'llm' }), collector]), { ...quiet, clock });
    const running = task.run();
    void task.queueFrame(makeFrame('text', { text: 'x' }));
    task.stopWhenDone();
    await clock.runUntil(() => task.state === 'done');
    await running;
    const data = collector.ofType('metrics').flatMap((f) => f.data);
    expect(data.map((d) => d.kind)).toEqual(['ttfb', 'processing', 'llm-usage']);
    expect(data.every((d) => d.processor === 'llm')).toBe(true);
    // Measured on the task's clock: 5 ms to the first byte, 10 ms in all.
    const [ttfb, processing] = data as unknown as [{ valueMs: number }, { valueMs: number }];
    expect(ttfb.valueMs).toBe(5);
    expect(processing.valueMs).toBe(10);
  });

  it('are not emitted when the task disables metrics', async () => {
    const collector = new FrameCollector();
    const clock = new VirtualClock();
    const task = new PipelineTask(new Pipeline([new Timed(), collector]), { ...quiet, enableMetrics: false, clock });
    const running = task.run();
    void task.queueFrame(makeFrame('text', { text: 'x' }));
    task.stopWhenDone();
    await clock.runUntil(() => task.state === 'done');
    await running;
    expect(collector.types()).toEqual(['start', 'text', 'end']);
    expect(collector.ofType('metrics')).toEqual([]);
  });
});
