// LiveKitTransport's logic behind a fake room driver. The real driver on @livekit/rtc-node is tested against the
// LiveKit test server in rtc-*.test.ts.
import { describe, expect, it } from 'vitest';
import { makeFrame, ttsAudioFrame } from '../../../src/frames/index.js';
import { createLogger, silentLogger, type Logger } from '../../../src/logging/index.js';
import { Pipeline, PipelineTask } from '../../../src/pipeline/index.js';
import { FrameCollector, VirtualClock } from '../../../src/testing/index.js';
import { LiveKitTransport, type LiveKitRoomDriver, type LiveKitRoomEvents } from '../../../src/transports/index.js';

class FakeRoom implements LiveKitRoomDriver {
  events: LiveKitRoomEvents | undefined;
  connects: { url: string; token: string; inputSampleRate: number }[] = [];
  published: number[] = [];
  written: { chunk: Int16Array; sampleRate: number; at: number }[] = [];
  cleared = 0;
  sent: string[] = [];
  disconnected = 0;
  failConnects = 0;
  dtmf: { code: number; digit: string; at: number }[] = [];
  failDtmf = false;
  clock: VirtualClock | undefined;

  constructor(private readonly present: string[] = []) {}

  async connect(url: string, token: string, events: LiveKitRoomEvents, options: { inputSampleRate: number }): Promise<string[]> {
    this.connects.push({ url, token, ...options });
    if (this.failConnects-- > 0) throw new Error('signal connection failed');
    this.events = events;
    return this.present;
  }
  async publishAudio(sampleRate: number): Promise<void> {
    this.published.push(sampleRate);
  }
  writeAudio(chunk: Int16Array, sampleRate: number): void {
    this.written.push({ chunk, sampleRate, at: performance.now() });
  }
  clearAudio(): void {
    this.cleared++;
  }
  async sendData(payload: Uint8Array): Promise<void> {
    this.sent.push(new TextDecoder().decode(payload));
  }
  async publishDtmf(code: number, digit: string): Promise<void> {
    if (this.failDtmf) throw new Error('publish failed');
    this.dtmf.push({ code, digit, at: this.clock?.now() ?? 0 });
  }
  async disconnect(): Promise<void> {
    this.disconnected++;
  }
}

async function started(room: FakeRoom, logger: Logger = silentLogger) {
  const transport = new LiveKitTransport({ url: 'wss://lk.example', token: 'jwt', roomName: 'tcmi_1', driver: room, logger });
  const collector = new FrameCollector();
  const task = new PipelineTask(new Pipeline([transport.input, collector, transport.output]), {
    logger: silentLogger,
    audioInSampleRate: 16000,
    audioOutSampleRate: 8000,
  });
  const running = task.run();
  const events: string[] = [];
  transport.events.on('caller-joined', () => events.push('joined'));
  transport.events.on('caller-left', (reason) => events.push(`left:${reason}`));
  transport.events.on('dtmf', (d) => events.push(`dtmf:${d}`));
  transport.events.on('message', (m) => events.push(`message:${JSON.stringify(m)}`));
  await transport.connect();
  return { transport, collector, task, running, events };
}

describe('LiveKitTransport', () => {
  it('joins with the invite url/token, publishes its track at the output rate, and greets a caller already there', async () => {
    const room = new FakeRoom(['caller']);
    const { transport, events, task, running } = await started(room);
    expect(room.connects).toEqual([{ url: 'wss://lk.example', token: 'jwt', inputSampleRate: 16000 }]);
    expect(room.published).toEqual([8000]);
    expect(events).toEqual(['joined']);
    expect(transport.callerConnected).toBe(true);
    task.cancel();
    await running;
  });

  it('reports the first participant once, and any participant leaving as the end of the call', async () => {
    const room = new FakeRoom();
    const { events, task, running } = await started(room);
    expect(events).toEqual([]);
    room.events!.participantJoined('caller');
    room.events!.participantJoined('supervisor');
    room.events!.participantLeft('caller');
    room.events!.participantLeft('supervisor');
    expect(events).toEqual(['joined', 'left:participant caller left']);
    task.cancel();
    await running;
  });

  it('ends the call when the agent loses the room (the Python SDK only logged it)', async () => {
    const room = new FakeRoom(['caller']);
    const { events, task, running } = await started(room);
    room.events!.disconnected('SIGNAL_CLOSE');
    expect(events).toEqual(['joined', 'left:room disconnected: SIGNAL_CLOSE']);
    task.cancel();
    await running;
  });

  it('warns of a lost room, and only informs when the platform closed it (after a transfer or a hang-up)', async () => {
    for (const [reason, level, message] of [
      ['SIGNAL_CLOSE', 40, 'disconnected from the LiveKit room; ending the call'],
      ['ROOM_DELETED', 30, 'the LiveKit room was closed; ending the call'],
    ] as const) {
      const lines: string[] = [];
      const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
      const room = new FakeRoom(['caller']);
      const { events, task, running } = await started(room, logger);
      room.events!.disconnected(reason);
      expect(events).toEqual(['joined', `left:room disconnected: ${reason}`]);
      expect(lines.map((line) => JSON.parse(line) as { level: number; msg: string; reason: string })).toContainEqual(expect.objectContaining({ level, msg: message, reason }));
      task.cancel();
      await running;
    }
  });

  it('brings caller audio, DTMF and data messages into the pipeline', async () => {
    const room = new FakeRoom(['caller']);
    const { collector, events, task, running } = await started(room);
    room.events!.audioFrame(new Int16Array(480).fill(100), 48000, 'caller');
    room.events!.audioFrame(new Int16Array(0), 48000, 'caller'); // empty frames are skipped
    room.events!.dtmf('5', 'caller');
    room.events!.data(new TextEncoder().encode('{"type":"transfer_status","status":"started"}'), 'platform');
    room.events!.data(new TextEncoder().encode('plain words'), 'caller');
    room.events!.data(new Uint8Array([0xff, 0xfe, 0xfd]), 'caller');
    await new Promise((r) => setTimeout(r, 20));
    const audio = collector.ofType('input-audio');
    expect(audio.map((f) => f.sampleRate)).toEqual(audio.map(() => 16000));
    expect(audio.reduce((n, f) => n + f.audio.length, 0)).toBeGreaterThan(100); // 10 ms at 48 kHz -> ~160 at 16 kHz, less the filter delay
    expect(collector.ofType('input-dtmf').map((f) => f.digit)).toEqual(['5']);
    expect(collector.ofType('input-transport-message').map((f) => f.message)).toEqual([
      { type: 'transfer_status', status: 'started' },
      'plain words',
    ]);
    expect(events).toEqual(['joined', 'dtmf:5', 'message:{"type":"transfer_status","status":"started"}', 'message:"plain words"']);
    task.cancel();
    await running;
  });

  it('takes only keypad keys from SIP DTMF packets; anything else is logged and dropped', async () => {
    const room = new FakeRoom(['caller']);
    const { collector, events, task, running } = await started(room);
    for (const digit of ['1', '#', '', '12', 'x', 'A']) room.events!.dtmf(digit, digit === '#' ? undefined : 'sip_caller');
    await new Promise((r) => setTimeout(r, 20));
    expect(collector.ofType('input-dtmf').map((f) => f.digit)).toEqual(['1', '#', 'A']);
    expect(events).toEqual(['joined', 'dtmf:1', 'dtmf:#', 'dtmf:A']);
    task.cancel();
    await running;
  });

  it('presses the agent\'s keys with publishDtmf and their RFC 4733 codes, spaced on the pipeline clock', async () => {
    const room = new FakeRoom(['caller']);
    const clock = new VirtualClock();
    room.clock = clock;
    const transport = new LiveKitTransport({ url: 'wss://lk', token: 't', roomName: 'tcmi_2', driver: room, logger: silentLogger, dtmfGapMs: 250 });
    const collector = new FrameCollector();
    const errors: string[] = [];
    const task = new PipelineTask(new Pipeline([transport.input, transport.output, collector]), {
      logger: silentLogger,
      clock,
      onError: (frame) => errors.push(frame.error.message),
    });
    const running = task.run();
    await transport.connect();
    expect(transport.output.canSendDTMF).toBe(true);
    for (const digit of ['1', '*', '#', 'D'] as const) void task.queueFrame(makeFrame('output-dtmf', { digit }));
    await clock.runUntil(() => room.dtmf.length === 4);
    expect(room.dtmf).toEqual([
      { code: 1, digit: '1', at: 0 },
      { code: 10, digit: '*', at: 250 },
      { code: 11, digit: '#', at: 500 },
      { code: 15, digit: 'D', at: 750 },
    ]);
    // A publish that fails is reported, not thrown.
    room.failDtmf = true;
    void task.queueFrame(makeFrame('output-dtmf', { digit: '2' }));
    await clock.runUntil(() => errors.length > 0);
    expect(errors).toEqual(['publish failed']);
    task.cancel();
    await clock.runUntil(() => task.state === 'done');
    await running;
  });

  it('plays agent audio in 20 ms chunks, 200 ms ahead of real time, and clears the source on interruption', async () => {
    const room = new FakeRoom(['caller']);
    const { transport, task, running } = await started(room);
    await task.queueFrame(makeFrame('tts-started', {}));
    const queuedAt = performance.now();
    await task.queueFrame(ttsAudioFrame(new Int16Array(24000).fill(1000), 24000)); // 1 s at 24 kHz
    await new Promise((r) => setTimeout(r, 200));
    // The lead (10 chunks) at once, then one chunk per 20 ms of real time, never more.
    const elapsedMs = performance.now() - queuedAt;
    expect(room.written.length).toBeGreaterThanOrEqual(10 + 5);
    expect(room.written.length).toBeLessThanOrEqual(10 + Math.ceil(elapsedMs / 20) + 1);
    expect(room.written.every((w) => w.chunk.length === 160 && w.sampleRate === 8000)).toBe(true);
    await task.queueFrame(makeFrame('interruption'));
    const writtenAtInterruption = room.written.length;
    expect(room.cleared).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(room.written.length).toBe(writtenAtInterruption);
    await transport.sendMessage({ hello: 'room' });
    expect(room.sent).toEqual(['{"hello":"room"}']);
    task.cancel();
    await running;
  });

  it('retries joining, then fails with a clear error naming the room', async () => {
    const flaky = new FakeRoom(['caller']);
    flaky.failConnects = 1;
    const ok = await started(flaky);
    expect(flaky.connects).toHaveLength(2);
    ok.task.cancel();
    await ok.running;

    const down = new FakeRoom();
    down.failConnects = 5;
    const transport = new LiveKitTransport({ url: 'wss://x', token: 't', roomName: 'tcmi_9', driver: down, connectAttempts: 2, logger: silentLogger });
    await expect(transport.connect()).rejects.toThrow(/could not join room tcmi_9: signal connection failed/);
  });

  it('close() leaves the room once and reports the end once', async () => {
    const room = new FakeRoom(['caller']);
    const { transport, events, task, running } = await started(room);
    await transport.close();
    await transport.close();
    room.events!.participantLeft('caller');
    expect(room.disconnected).toBe(1);
    expect(events).toEqual(['joined', 'left:the agent left the room']);
    task.cancel();
    await running;
  });
});
