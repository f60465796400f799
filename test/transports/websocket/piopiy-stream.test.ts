// The Piopiy WebSocket stream server with a `ws` client playing the platform.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { makeFrame, ttsAudioFrame, type Frame } from '../../../src/frames/index.js';
import { silentLogger } from '../../../src/logging/index.js';
import { Pipeline, PipelineTask } from '../../../src/pipeline/index.js';
import { FrameCollector } from '../../../src/testing/index.js';
import { PiopiyStreamServer, type CallSession, type PiopiyStreamTransport } from '../../../src/transports/index.js';

const TOKEN = 'stream-secret-0123456789';
let server: PiopiyStreamServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Platform {
  socket: WebSocket;
  messages: unknown[];
}

async function platformConnects(url: string): Promise<Platform> {
  const socket = new WebSocket(url);
  const messages: unknown[] = [];
  socket.on('message', (data, isBinary) => {
    if (!isBinary) messages.push(JSON.parse((data as Buffer).toString('utf8')));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { socket, messages };
}

/** A server whose sessions run a small pipeline (input -> collector -> output) until the stream ends. */
async function startServer(sampleRate: 8000 | 16000 = 8000) {
  const sessions: { call: CallSession; collector: FrameCollector; task: PipelineTask; transport: PiopiyStreamTransport }[] = [];
  server = new PiopiyStreamServer({
    authToken: TOKEN,
    sampleRate,
    logger: silentLogger,
    onCall: async (call) => {
      const transport = call.transport as PiopiyStreamTransport;
      const collector = new FrameCollector();
      const task = new PipelineTask(new Pipeline([transport.input, collector, transport.output]), {
        logger: silentLogger,
        audioInSampleRate: 16000,
        audioOutSampleRate: sampleRate,
      });
      transport.events.on('caller-left', () => task.cancel('stream closed'));
      sessions.push({ call, collector, task, transport });
      await task.run();
    },
  });
  const url = await server.listen();
  return { url, sessions };
}

async function until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('PiopiyStreamServer / PiopiyStreamTransport', () => {
  it('refuses connections without the secret token', async () => {
    const { url } = await startServer();
    const wrong = url.replace(/token=[^&]+/, 'token=guess');
    for (const target of [wrong, url.replace(/\?.*$/, ''), url.replace('/stream', '/other')]) {
      const socket = new WebSocket(target);
      const status = await new Promise<number>((resolve) => {
        socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.once('open', () => resolve(101));
      });
      expect(status).toBe(401);
    }
    expect(() => new PiopiyStreamServer({ authToken: 'short', onCall: () => undefined })).toThrow(/at least 16/);
  });

  it('turns the platform’s binary PCM (odd byte counts included) into caller audio at the pipeline rate', async () => {
    const { url, sessions } = await startServer(8000);
    const platform = await platformConnects(`${url}&call_id=call-42&from=919000000001`);
    await until(() => sessions.length === 1);
    expect(sessions[0]!.call).toMatchObject({ callId: 'call-42', fromNumber: '919000000001' });
    // 40 ms of 8 kHz PCM (640 bytes) split 321 + 319 bytes: the odd byte is carried over, nothing is lost.
    const pcm = new Int16Array(320).map((_, i) => (i % 50) * 100 - 2500);
    const bytes = Buffer.from(pcm.buffer);
    platform.socket.send(bytes.subarray(0, 321));
    platform.socket.send(bytes.subarray(321));
    platform.socket.send('{not json');
    platform.socket.send(JSON.stringify({ event: 'dtmf', digit: '7' }));
    platform.socket.send(JSON.stringify({ event: 'stream_started', meta: 1 }));
    const collector = sessions[0]!.collector;
    // The audio comes out of the jitter buffer 40 ms after it arrived, as 20 ms frames.
    const received = () => collector.ofType('input-audio').reduce((n, f) => n + f.audio.length, 0);
    await until(() => collector.ofType('input-dtmf').length === 1 && collector.ofType('input-transport-message').length === 1);
    await until(() => received() > 560);
    // Two 20 ms frames of caller audio were received and played. A busy machine may also have played the gap after
    // them by the time this looks (the last frame fading, then silence), which is not caller audio: count the two.
    const stats = sessions[0]!.transport.jitterStats!;
    expect(stats.playedFrames - stats.lostFrames).toBe(2);
    expect(stats.latePackets).toBe(0);
    const audio = collector.ofType('input-audio').slice(0, 2);
    expect(audio.every((f) => f.sampleRate === 16000)).toBe(true);
    const total = audio.reduce((n, f) => n + f.audio.length, 0);
    expect(total).toBeGreaterThan(560); // 640 samples at 16 kHz, less the resampler's lookahead
    expect(total).toBeLessThanOrEqual(640);
    expect(collector.ofType('input-dtmf')[0]!.digit).toBe('7');
    expect(collector.ofType('input-transport-message')[0]!.message).toEqual({ event: 'stream_started', meta: 1 });
    platform.socket.close();
  });

  it('sends agent audio as real-time streamAudio messages and `break` on interruption', async () => {
    const { url, sessions } = await startServer(8000);
    const platform = await platformConnects(url);
    await until(() => sessions.length === 1);
    const { task } = sessions[0]!;
    await task.queueFrame(ttsAudioFrame(new Int16Array(16000).fill(1234), 16000)); // 1 s
    await until(() => platform.messages.length >= 5);
    const audioMessages = platform.messages as { type: string; data: { audioDataType: string; sampleRate: number; audioData: string } }[];
    const first = audioMessages[0]!;
    expect(first.type).toBe('streamAudio');
    expect(first.data.audioDataType).toBe('raw');
    expect(first.data.sampleRate).toBe(8000);
    const decoded = Buffer.from(first.data.audioData, 'base64');
    expect(decoded.length).toBe(320); // 20 ms at 8 kHz
    await task.queueFrame(makeFrame('interruption'));
    await until(() => platform.messages.some((m) => (m as { action?: string }).action === 'break'));
    const afterBreak = platform.messages.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(platform.messages.length).toBe(afterBreak);
    platform.socket.close();
  });

  it('ends the session when the platform closes the stream, and sends stop when the agent ends first', async () => {
    const { url, sessions } = await startServer();
    const platform = await platformConnects(url);
    await until(() => sessions.length === 1);
    const ended: Frame[] = [];
    sessions[0]!.collector.waitFor((f) => f.type === 'cancel').then((f) => ended.push(f), () => undefined);
    platform.socket.close();
    await until(() => ended.length === 1);

    const second = await platformConnects(url);
    await until(() => sessions.length === 2);
    const closed = new Promise<void>((resolve) => second.socket.once('close', () => resolve()));
    sessions[1]!.transport.changeCallFlow([{ action: 'bridge', from: '918000000001', connect: [{ type: 'pstn', number: '918000000002' }] }]);
    sessions[1]!.task.cancel('done');
    await closed;
    expect(second.messages).toEqual([
      [{ action: 'bridge', from: '918000000001', connect: [{ type: 'pstn', number: '918000000002' }] }],
      { action: 'stop' },
    ]);
  });
});
