// BaseOutputTransport pressing the agent's keys: in playback order, spaced on the pipeline clock, kept through an
// interruption, waited for by the end, dropped by a cancel; a transport that cannot send tones says so.
import { afterEach, describe, expect, it } from 'vitest';
import { makeFrame, ttsAudioFrame, type DtmfDigit, type DtmfSendKey, type Frame } from '../../../src/frames/index.js';
import { silentLogger } from '../../../src/logging/index.js';
import { Pipeline, PipelineTask } from '../../../src/pipeline/index.js';
import { FrameCollector } from '../../../src/testing/frame-collector.js';
import { VirtualClock } from '../../../src/testing/virtual-clock.js';
import { BaseOutputTransport, type OutputTransportOptions } from '../../../src/transports/base/output-transport.js';

class KeyOutput extends BaseOutputTransport {
  readonly keys: { digit: DtmfDigit; at: number }[] = [];
  readonly audioAt: number[] = [];
  failOn: DtmfDigit | undefined;

  constructor(
    options: OutputTransportOptions,
    private readonly sendsTones = true,
  ) {
    super({ name: 'out', ...options });
  }

  override get canSendDTMF(): boolean {
    return this.sendsTones;
  }

  protected override writeAudio(): void {
    this.audioAt.push(this.clock.now());
  }

  protected override writeDTMF(digit: DtmfDigit): void | Promise<void> {
    if (!this.sendsTones) return super.writeDTMF(digit);
    if (digit === this.failOn) throw new Error('the far end hung up');
    this.keys.push({ digit, at: this.clock.now() });
  }
}

interface Harness {
  clock: VirtualClock;
  out: KeyOutput;
  up: FrameCollector;
  down: FrameCollector;
  task: PipelineTask;
  done: Promise<void>;
  send(frame: Frame): void;
  keys(...keys: DtmfSendKey[]): void;
  audioMs(ms: number): void;
}

const running: Harness[] = [];

afterEach(async () => {
  for (const h of running.splice(0)) {
    h.task.cancel('test over');
    await h.clock.runUntil(() => h.task.state === 'done');
    await h.done;
  }
});

function start(options: OutputTransportOptions = {}, sendsTones = true): Harness {
  const clock = new VirtualClock();
  const out = new KeyOutput(options, sendsTones);
  const up = new FrameCollector({ name: 'up' });
  const down = new FrameCollector({ name: 'down' });
  const task = new PipelineTask(new Pipeline([up, out, down]), { logger: silentLogger, audioOutSampleRate: 8000, clock });
  const h: Harness = {
    clock,
    out,
    up,
    down,
    task,
    done: task.run(),
    send: (frame) => void task.queueFrame(frame),
    keys: (...keys) => keys.forEach((digit) => h.send(makeFrame('output-dtmf', { digit }))),
    audioMs: (ms) => h.send(ttsAudioFrame(new Int16Array(ms * 8).fill(2000), 8000, 'ctx')),
  };
  running.push(h);
  return h;
}

describe('BaseOutputTransport: the agent pressing keys', () => {
  it('presses keys after the audio queued before them, 300 ms apart by default, a w pausing 500 ms', async () => {
    const h = start();
    h.audioMs(100);
    h.keys('1', '2', 'w', '#');
    await h.clock.runUntil(() => h.out.keys.length === 3);
    expect(h.out.audioAt).toEqual([0, 20, 40, 60, 80]);
    expect(h.out.keys).toEqual([
      { digit: '1', at: 100 },
      { digit: '2', at: 400 },
      { digit: '#', at: 1200 }, // 400 + 300 gap + 500 pause
    ]);
    expect(h.down.ofType('output-dtmf').map((f) => f.digit)).toEqual(['1', '2', 'w', '#']);
    expect(h.out.canSendDTMF).toBe(true);
  });

  it('the gap is configurable, and keys with nothing playing go at once', async () => {
    const h = start({ dtmfGapMs: 100 });
    h.keys('9', '8');
    await h.clock.runUntil(() => h.out.keys.length === 2);
    expect(h.out.keys).toEqual([
      { digit: '9', at: 0 },
      { digit: '8', at: 100 },
    ]);
  });

  it('an interruption drops the audio but presses the keys queued behind it at once, in order', async () => {
    const h = start();
    h.audioMs(1000);
    h.keys('4', '2');
    await h.clock.advance(200);
    expect(h.out.keys).toEqual([]);
    h.send(makeFrame('interruption'));
    await h.clock.runUntil(() => h.out.keys.length === 2);
    const writes = h.out.audioAt.length;
    expect(h.out.keys.map((k) => k.digit)).toEqual(['4', '2']);
    expect(h.out.keys[0]!.at).toBe(200);
    await h.clock.advance(500);
    expect(h.out.audioAt).toHaveLength(writes); // the rest of the audio is gone
  });

  it('an end queued behind audio survives an interruption too: the call still ends', async () => {
    const h = start();
    h.audioMs(1000);
    h.send(makeFrame('end', { reason: 'goodbye said' }));
    await h.clock.advance(100);
    h.send(makeFrame('interruption'));
    await h.clock.runUntil(() => h.task.state === 'done', { limitMs: 500 });
    expect(h.down.ofType('end').map((f) => f.reason)).toEqual(['goodbye said']);
  });

  it('the end passes on only once every key has been pressed', async () => {
    const h = start();
    h.keys('1', '2', '3');
    h.send(makeFrame('end'));
    await h.clock.runUntil(() => h.down.ofType('end').length === 1);
    expect(h.out.keys.map((k) => k.at)).toEqual([0, 300, 600]);
    expect(h.clock.now()).toBe(900); // the last key's gap is kept too: its tone must not be cut by the hang-up
    await h.clock.runUntil(() => h.task.state === 'done');
  });

  it('a cancel drops the keys not pressed yet', async () => {
    const h = start();
    h.keys('1', '2', '3');
    await h.clock.advance(10);
    h.task.cancel('caller hung up');
    await h.clock.runUntil(() => h.task.state === 'done');
    await h.clock.advance(2000);
    expect(h.out.keys.map((k) => k.digit)).toEqual(['1']);
  });

  it('a key that fails is reported as a non-fatal error and the next keys are still pressed', async () => {
    const h = start();
    h.out.failOn = '2';
    h.keys('1', '2', '3');
    await h.clock.runUntil(() => h.out.keys.length === 2);
    expect(h.out.keys.map((k) => k.digit)).toEqual(['1', '3']);
    const errors = h.up.upstream.filter((f) => f.type === 'error');
    expect(errors.map((f) => (f.type === 'error' ? [f.error.message, f.fatal] : []))).toEqual([['the far end hung up', false]]);
  });

  it('a transport that cannot send tones says so, as a non-fatal error', async () => {
    const h = start({}, false);
    expect(h.out.canSendDTMF).toBe(false);
    h.keys('5');
    await h.clock.runUntil(() => h.up.upstream.some((f) => f.type === 'error'));
    const error = h.up.upstream.find((f) => f.type === 'error');
    expect(error?.type === 'error' && error.error.message).toBe('out: sending DTMF tones is not supported by this transport');
    expect(error?.type === 'error' && error.fatal).toBe(false);
  });
});
