// MediaStreamTransport with the Twilio serializer on a stand-in socket, in simulated time: a mark after each chunk,
// acknowledgements in order, clear forgetting the pending marks, playedOut, and bad messages that do not end the call.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { pcmToMulaw } from '../../../src/audio/index.js';
import { makeFrame, ttsAudioFrame } from '../../../src/frames/index.js';
import { silentLogger, type Logger } from '../../../src/logging/index.js';
import { Pipeline, PipelineTask } from '../../../src/pipeline/index.js';
import { FrameCollector } from '../../../src/testing/frame-collector.js';
import { VirtualClock } from '../../../src/testing/virtual-clock.js';
import { MediaStreamTransport } from '../../../src/transports/media-stream/media-stream-transport.js';
import { TwilioSerializer } from '../../../src/transports/twilio/serializer.js';

function standInSocket() {
  const sent: Record<string, unknown>[] = [];
  const socket = Object.assign(new EventEmitter(), {
    readyState: WebSocket.OPEN,
    send: (data: string) => void sent.push(JSON.parse(data) as Record<string, unknown>),
    close: () => undefined,
  });
  const receive = (message: unknown): void => void socket.emit('message', Buffer.from(typeof message === 'string' ? message : JSON.stringify(message)), false);
  return { socket, sent, receive };
}

async function started(options: { logger?: Logger } = {}) {
  const clock = new VirtualClock();
  const { socket, sent, receive } = standInSocket();
  const transport = new MediaStreamTransport(socket as unknown as WebSocket, new TwilioSerializer(), { logger: options.logger ?? silentLogger });
  receive({ event: 'connected', protocol: 'Call', version: '1.0.0' });
  receive({ event: 'start', sequenceNumber: '1', streamSid: 'MZ1', start: { streamSid: 'MZ1', callSid: 'CA1', customParameters: { From: '+1555' } } });
  const collector = new FrameCollector();
  const task = new PipelineTask(new Pipeline([transport.input, collector, transport.output]), {
    logger: silentLogger,
    clock,
    audioInSampleRate: 8000,
    audioOutSampleRate: 8000,
  });
  const done = task.run();
  await clock.advance(1);
  return { clock, sent, receive, transport, task, collector, done };
}

describe('MediaStreamTransport (Twilio serializer)', () => {
  it('starts on the start message, with its metadata', async () => {
    const { transport, task, clock, done } = await started();
    expect(transport.callerConnected).toBe(true);
    expect(transport.start).toMatchObject({ callId: 'CA1', streamId: 'MZ1', fromNumber: '+1555' });
    task.cancel('over');
    await clock.runUntil(() => task.state === 'done');
    await done;
  });

  it('marks each chunk, counts acknowledgements in order, forgets pending marks at clear, and resolves playedOut', async () => {
    const { transport, task, clock, sent, receive, done } = await started();
    await task.queueFrame(ttsAudioFrame(new Int16Array(1600).fill(1000), 8000, 'c')); // 200 ms: 10 chunks
    await task.queueFrame(makeFrame('tts-stopped', { contextId: 'c' }));
    await clock.advance(100);
    const media = sent.filter((m) => m.event === 'media');
    const marks = sent.filter((m) => m.event === 'mark').map((m) => (m.mark as { name: string }).name);
    // 80 ms lead: 4 chunks at once, then one per 20 ms.
    expect(media.length).toBe(9);
    expect(marks).toHaveLength(media.length);
    expect(media[0]).toMatchObject({ streamSid: 'MZ1', media: { payload: expect.any(String) as unknown } });
    expect(transport.unacknowledgedChunks).toBe(9);
    receive({ event: 'mark', sequenceNumber: '5', streamSid: 'MZ1', mark: { name: marks[2] } }); // acks 1-3
    expect(transport.unacknowledgedChunks).toBe(6);
    receive({ event: 'mark', sequenceNumber: '6', streamSid: 'MZ1', mark: { name: 'unknown' } });
    expect(transport.unacknowledgedChunks).toBe(6);
    await clock.advance(100);
    const played = transport.playedOut(5000);
    let settled: boolean | undefined;
    void played.then((v) => (settled = v));
    await clock.advance(10);
    expect(settled).toBeUndefined();
    const last = sent.filter((m) => m.event === 'mark').at(-1)!.mark as { name: string };
    receive({ event: 'mark', streamSid: 'MZ1', mark: { name: last.name } });
    await clock.advance(1);
    expect(settled).toBe(true);

    await task.queueFrame(ttsAudioFrame(new Int16Array(1600).fill(1000), 8000, 'd'));
    await clock.advance(50);
    expect(transport.unacknowledgedChunks).toBeGreaterThan(0);
    await task.queueFrame(makeFrame('interruption'));
    await clock.advance(1);
    expect(sent.at(-1)).toEqual({ event: 'clear', streamSid: 'MZ1' });
    expect(transport.unacknowledgedChunks).toBe(0);
    task.cancel('over');
    await clock.runUntil(() => task.state === 'done');
    await done;
  });

  it('caller audio and keys: through the jitter buffer into the pipeline; a bad message is logged once and ignored', async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (_o: unknown, msg?: string) => void warnings.push(String(msg)), child: () => logger } as unknown as Logger;
    const { task, clock, receive, collector, done, transport } = await started({ logger });
    const payload = Buffer.from(pcmToMulaw(new Int16Array(160).fill(2000))).toString('base64');
    for (let chunk = 0; chunk < 5; chunk++) {
      receive({ event: 'media', sequenceNumber: String(chunk + 3), streamSid: 'MZ1', media: { track: 'inbound', chunk: String(chunk + 1), timestamp: String(chunk * 20), payload } });
    }
    receive('{not json');
    receive({ event: 'surprise', streamSid: 'MZ1' });
    receive({ event: 'dtmf', streamSid: 'MZ1', dtmf: { track: 'inbound_track', digit: '7' } });
    receive({ event: 'dtmf', streamSid: 'MZ1', dtmf: { track: 'inbound_track', digit: 'x' } });
    await clock.advance(200);
    const audio = collector.ofType('input-audio');
    expect(audio.length).toBeGreaterThanOrEqual(5);
    expect(audio.every((f) => f.audio.length === 160 && f.sampleRate === 8000)).toBe(true);
    expect(collector.ofType('input-dtmf').map((f) => f.digit)).toEqual(['7']);
    expect(warnings).toHaveLength(2);
    expect(transport.callerConnected).toBe(true);
    expect(transport.jitterStats).toMatchObject({ receivedPackets: 5, latePackets: 0 });
    receive({ event: 'stop', streamSid: 'MZ1', stop: { callSid: 'CA1' } });
    expect(transport.callerConnected).toBe(false);
    task.cancel('over');
    await clock.runUntil(() => task.state === 'done');
    await done;
  });
});
