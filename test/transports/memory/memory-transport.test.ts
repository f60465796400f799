// MemoryTransport: an in-process phone line. The caller side sends 20 ms frames in real time once connected
// (silence between utterances), and records the agent audio the output transport plays. The line, the pipeline
// and the output pacing all run on one VirtualClock, so the times each frame is sent and each chunk is played
// are exact.
import { afterEach, describe, expect, it } from 'vitest';
import { makeFrame, ttsAudioFrame } from '../../../src/frames/index.js';
import { silentLogger } from '../../../src/logging/index.js';
import { Pipeline, PipelineTask } from '../../../src/pipeline/index.js';
import { FrameCollector } from '../../../src/testing/frame-collector.js';
import { VirtualClock } from '../../../src/testing/virtual-clock.js';
import { MemoryTransport, type MemoryTransportOptions, type ReceivedChunk } from '../../../src/transports/memory/index.js';

interface Harness {
  clock: VirtualClock;
  transport: MemoryTransport;
  collector: FrameCollector;
  task: PipelineTask;
  done: Promise<void>;
  events: { name: string; args: unknown[] }[];
}

const running: Harness[] = [];

afterEach(async () => {
  for (const h of running.splice(0)) {
    h.transport.caller.hangUp();
    await h.transport.close();
    h.task.cancel('test over');
    await h.clock.runUntil(() => h.task.state === 'done');
    await h.done;
  }
});

async function start(options: MemoryTransportOptions = {}, audioInSampleRate = 16000): Promise<Harness> {
  const clock = new VirtualClock();
  const transport = new MemoryTransport({ ...options, clock });
  const collector = new FrameCollector({ name: 'collector' });
  const task = new PipelineTask(new Pipeline([transport.input, collector, transport.output]), {
    logger: silentLogger,
    audioInSampleRate,
    audioOutSampleRate: 8000,
    clock,
  });
  const events: Harness['events'] = [];
  transport.events.on('caller-joined', () => events.push({ name: 'caller-joined', args: [] }));
  transport.events.on('caller-left', (reason) => events.push({ name: 'caller-left', args: [reason] }));
  transport.events.on('dtmf', (digit) => events.push({ name: 'dtmf', args: [digit] }));
  const h: Harness = { clock, transport, collector, task, done: task.run(), events };
  running.push(h);
  await clock.settle();
  expect(transport.input.accepting).toBe(true); // the StartFrame has reached the input transport
  return h;
}

function speech(samples: number, value = 2000): Int16Array {
  return new Int16Array(samples).fill(value);
}

const isSilent = (audio: Int16Array): boolean => audio.every((s) => s === 0);

/** `count` times, every `stepMs` from `fromMs`. */
const every = (stepMs: number, count: number, fromMs = 0): number[] => Array.from({ length: count }, (_, i) => fromMs + i * stepMs);

describe('MemoryTransport: the caller line', () => {
  it('sends nothing before connect, then 20 ms frames of silence continuously in real time', async () => {
    const h = await start();
    const caller = h.transport.caller;
    await h.clock.advance(40);
    expect(caller.sent).toEqual([]);
    expect(h.transport.callerConnected).toBe(false);

    caller.connect();
    expect(caller.isConnected).toBe(true);
    expect(h.transport.callerConnected).toBe(true);
    expect(h.events).toEqual([{ name: 'caller-joined', args: [] }]);
    await h.clock.runUntil(() => caller.sent.length >= 11);
    for (const frame of caller.sent) {
      expect(frame.audio).toHaveLength(320); // 20 ms at 16 kHz
      expect(isSilent(frame.audio)).toBe(true);
    }
    // The first at once (connected at 40 ms), then one every 20 ms: never ahead of real time, never behind.
    expect(caller.sent.map((f) => f.at)).toEqual(every(20, 11, 40));
    // Every frame reached the pipeline as input audio at the pipeline's rate.
    const inputs = h.collector.ofType('input-audio');
    expect(inputs).toHaveLength(11);
    expect(inputs.every((f) => f.sampleRate === 16000 && f.audio.length === 320)).toBe(true);
  });

  it('resamples the caller audio to the pipeline input rate', async () => {
    const h = await start({ callerSampleRate: 8000 }, 16000);
    h.transport.caller.connect();
    await h.clock.runUntil(() => h.collector.ofType('input-audio').length >= 5);
    expect(h.transport.caller.sent[0]!.audio).toHaveLength(160);
    const inputs = h.collector.ofType('input-audio');
    expect(inputs.every((f) => f.sampleRate === 16000)).toBe(true);
    const total = inputs.reduce((n, f) => n + f.audio.length, 0);
    // Twice the samples, less the resampler's look-ahead still held back.
    expect(total).toBeGreaterThan(2 * 160 * inputs.length - 64);
    expect(total).toBeLessThanOrEqual(2 * 160 * inputs.length);
  });

  it('say() sends the speech in 20 ms frames (the last one padded) and resolves once it has all been sent', async () => {
    const h = await start();
    const caller = h.transport.caller;
    caller.connect();
    await h.clock.advance(30);
    const before = caller.sent.length;
    expect(before).toBe(2); // at 0 and 20 ms
    const said = caller.say(speech(1700)); // 106.25 ms: 6 frames, the last one partly silent
    expect(caller.speaking).toBe(true);
    let resolvedAt = -1;
    void said.then(() => (resolvedAt = h.clock.now()));
    await h.clock.runUntil(() => resolvedAt >= 0);
    expect(caller.speaking).toBe(false);
    const speechFrames = caller.sent.slice(before).filter((f) => !isSilent(f.audio));
    expect(speechFrames).toHaveLength(6);
    // Sent at the line's pace (frame i of the line at 20 x i ms), from the line's next frame (40 ms) on; resolved
    // as the last one went out, 100 ms after the first.
    expect(caller.sent.map((f) => f.at)).toEqual(every(20, 8));
    expect(speechFrames.map((f) => f.at)).toEqual(every(20, 6, 40));
    expect(resolvedAt).toBe(speechFrames[5]!.at);
    const last = speechFrames[5]!.audio;
    expect(last.subarray(0, 100).every((s) => s === 2000)).toBe(true);
    expect(isSilent(last.subarray(100))).toBe(true);
    // Then silence again.
    const count = caller.sent.length;
    await h.clock.runUntil(() => caller.sent.length >= count + 2);
    expect(caller.sent.slice(count).every((f) => isSilent(f.audio))).toBe(true);
  });

  it('queues successive utterances back to back', async () => {
    const h = await start();
    const caller = h.transport.caller;
    caller.connect();
    const first = caller.say(speech(640, 1000));
    const second = caller.say(speech(640, 2000));
    let both = false;
    void Promise.all([first, second]).then(() => (both = true));
    await h.clock.runUntil(() => both);
    const voiced = caller.sent.filter((f) => !isSilent(f.audio)).map((f) => f.audio[0]);
    expect(voiced).toEqual([1000, 1000, 2000, 2000]);
  });

  it('say() before connecting rejects', async () => {
    const h = await start();
    await expect(h.transport.caller.say(speech(320))).rejects.toThrow(/not connected/);
  });

  it('hangUp emits caller-left, stops the line and settles pending speech', async () => {
    const h = await start();
    const caller = h.transport.caller;
    caller.connect();
    const said = caller.say(speech(16000)); // a whole second
    await h.clock.advance(50);
    caller.hangUp('bye');
    await said; // resolves rather than hanging forever
    expect(h.events.map((e) => e.name)).toEqual(['caller-joined', 'caller-left']);
    expect(h.events[1]!.args).toEqual(['bye']);
    expect(h.transport.callerConnected).toBe(false);
    expect(caller.isConnected).toBe(false);
    const sent = caller.sent.length;
    expect(sent).toBe(3); // at 0, 20 and 40 ms
    await h.clock.advance(60);
    expect(caller.sent).toHaveLength(sent);
    caller.hangUp(); // idempotent
    expect(h.events).toHaveLength(2);
    await expect(caller.say(speech(320))).rejects.toThrow(/not connected/);
  });

  it('sendDTMF reaches the pipeline and the events', async () => {
    const h = await start();
    h.transport.caller.connect();
    h.transport.caller.sendDTMF('5');
    expect(h.collector.ofType('input-dtmf').map((f) => f.digit)).toEqual(['5']);
    expect(h.events.at(-1)).toEqual({ name: 'dtmf', args: ['5'] });
  });

  it('pressKeys presses a keypad string, w waiting half a second; bad keys are refused, not sent', async () => {
    const h = await start();
    h.transport.caller.connect();
    const pressing = h.transport.caller.pressKeys('12w#');
    await h.clock.settle();
    expect(h.collector.ofType('input-dtmf').map((f) => f.digit)).toEqual(['1', '2']);
    await h.clock.advance(500);
    await pressing;
    expect(h.collector.ofType('input-dtmf').map((f) => f.digit)).toEqual(['1', '2', '#']);
    expect(h.events.filter((e) => e.name === 'dtmf').map((e) => e.args[0])).toEqual(['1', '2', '#']);
    await expect(h.transport.caller.pressKeys('1x')).rejects.toThrow(/invalid DTMF key "x"/);
    h.transport.caller.sendDTMF('12'); // not one key: dropped, no event
    expect(h.collector.ofType('input-dtmf')).toHaveLength(3);
    expect(h.events.filter((e) => e.name === 'dtmf')).toHaveLength(3);
  });

  it('records the keys the agent presses, with the time each arrived', async () => {
    const h = await start({ dtmfGapMs: 100 });
    h.transport.caller.connect();
    expect(h.transport.output.canSendDTMF).toBe(true);
    void h.task.queueFrame(makeFrame('output-dtmf', { digit: '0' }));
    void h.task.queueFrame(makeFrame('output-dtmf', { digit: '#' }));
    await h.clock.runUntil(() => h.transport.caller.receivedKeys.length === 2);
    expect(h.transport.caller.receivedDigits).toBe('0#');
    expect(h.transport.caller.receivedKeys.map((k) => k.at)).toEqual([0, 100]);
  });
});

describe('MemoryTransport: agent audio', () => {
  it('records the played audio with the time each chunk was written; nextAudio and onAudio', async () => {
    const h = await start({ chunkMs: 20 });
    const caller = h.transport.caller;
    caller.connect();
    const next = caller.nextAudio();
    const seen: number[] = [];
    const off = caller.onAudio((chunk) => seen.push(chunk.at));
    await h.clock.advance(10);
    const sentAt = h.clock.now();
    void h.task.queueFrame(ttsAudioFrame(new Int16Array(800).fill(1234), 8000, 'ctx')); // 100 ms
    void h.task.queueFrame(makeFrame('tts-stopped', { contextId: 'ctx' }));
    let first: ReceivedChunk | undefined;
    void next.then((chunk) => (first = chunk));
    await h.clock.runUntil(() => first !== undefined);
    expect(first!.sampleRate).toBe(8000);
    expect(first!.audio).toHaveLength(160);
    expect(first!.at).toBe(sentAt); // played at once
    await h.clock.runUntil(() => caller.received.length >= 5);
    expect(seen).toHaveLength(5);
    off();
    expect(caller.received.map((c) => c.audio.length)).toEqual([160, 160, 160, 160, 160]);
    // Then one chunk every 20 ms, stamped with the transport clock's time.
    expect(caller.received.map((c) => c.at)).toEqual(every(20, 5, sentAt));
    expect(seen).toEqual(every(20, 5, sentAt));
    const all = caller.receivedAudio();
    expect(all).toHaveLength(800);
    expect(all.every((s) => s === 1234)).toBe(true);

    void h.task.queueFrame(ttsAudioFrame(new Int16Array(160), 8000, 'ctx'));
    await h.clock.runUntil(() => caller.received.length >= 6);
    expect(seen).toHaveLength(5); // unsubscribed
  });

  it('close() stops the line without a caller-left event', async () => {
    const h = await start();
    h.transport.caller.connect();
    await h.transport.close();
    const sent = h.transport.caller.sent.length;
    await h.clock.advance(50);
    expect(h.transport.caller.sent).toHaveLength(sent);
    expect(h.events.map((e) => e.name)).toEqual(['caller-joined']);
    expect(h.transport.callerConnected).toBe(false);
  });

  it('audio sent by the caller before the pipeline starts is dropped', async () => {
    const clock = new VirtualClock();
    const transport = new MemoryTransport({ clock });
    transport.caller.connect();
    await clock.advance(30);
    expect(transport.caller.sent.map((f) => f.at)).toEqual([0, 20]);
    expect(transport.input.pushAudio(new Int16Array(320), 16000)).toBe(false);
    transport.caller.hangUp();
  });
});

describe('MemoryTransport: a caller on its own clock, without history', () => {
  it('connect({ autoSend: false }) sends nothing by itself; send() pushes one frame at once', async () => {
    const h = await start();
    const caller = h.transport.caller;
    caller.connect({ autoSend: false });
    expect(h.events).toEqual([{ name: 'caller-joined', args: [] }]);
    await h.clock.advance(60);
    expect(caller.sent).toEqual([]);
    expect(h.collector.ofType('input-audio')).toHaveLength(0);

    const frame = speech(320, 777);
    expect(caller.send(frame)).toBe(true);
    const inputs = h.collector.ofType('input-audio');
    expect(inputs).toHaveLength(1);
    expect(inputs[0]!.audio).toBe(frame); // same rate: passed on without a copy
    expect(caller.sent.map((f) => f.audio)).toEqual([frame]);
    await expect(caller.say(speech(320))).rejects.toThrow(/autoSend: false/);

    caller.hangUp();
    expect(caller.send(frame)).toBe(false);
    expect(h.collector.ofType('input-audio')).toHaveLength(1);
  });

  it('send() on a line that sends by itself is a mistake, reported clearly', async () => {
    const h = await start();
    h.transport.caller.connect();
    expect(() => h.transport.caller.send(speech(320))).toThrow(/connect\(\{ autoSend: false \}\)/);
  });

  it('keepHistory: false records neither sent frames nor received chunks, but listeners still hear the agent', async () => {
    const h = await start({ keepHistory: false, chunkMs: 20 });
    const caller = h.transport.caller;
    caller.connect();
    const heard: number[] = [];
    caller.onAudio((chunk) => heard.push(chunk.audio.length));
    void h.task.queueFrame(ttsAudioFrame(new Int16Array(480).fill(99), 8000, 'ctx')); // 60 ms
    void h.task.queueFrame(makeFrame('tts-stopped', { contextId: 'ctx' }));
    await h.clock.runUntil(() => heard.length >= 3);
    expect(heard).toEqual([160, 160, 160]);
    await h.clock.runUntil(() => h.collector.ofType('input-audio').length >= 3); // the line did send
    expect(caller.sent).toEqual([]);
    expect(caller.received).toEqual([]);
  });
});
