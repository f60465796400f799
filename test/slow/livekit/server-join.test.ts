import { afterEach, describe, expect, it } from 'vitest';
import { AudioFrame, AudioSource, LocalAudioTrack, Room, TrackPublishOptions, TrackSource } from '@livekit/rtc-node';
import { startLiveKitTestServer, type LiveKitTestServer } from '../../../src/testing/livekit-server/index.js';

let server: LiveKitTestServer | undefined;
const rooms: Room[] = [];
afterEach(async () => {
  await Promise.allSettled(rooms.splice(0).map((room) => room.disconnect()));
  await server?.close();
  server = undefined;
});

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the LiveKit test server with the real @livekit/rtc-node', () => {
  it('admits a participant that publishes an audio track, and receives its RTP', async () => {
    const errors: Error[] = [];
    server = await startLiveKitTestServer({ onProtocolError: (error) => errors.push(error) });
    const token = await server.createToken({ identity: 'agent', roomName: 'call-1' });
    const room = new Room();
    rooms.push(room);
    await room.connect(server.url, token, { autoSubscribe: true, dynacast: false });
    expect(server.participants('call-1')).toEqual(['agent']);
    const source = new AudioSource(48000, 1, 100);
    const track = LocalAudioTrack.createAudioTrack('mic', source);
    const options = new TrackPublishOptions();
    options.source = TrackSource.SOURCE_MICROPHONE;
    await room.localParticipant!.publishTrack(track, options);
    const tone = new Int16Array(480);
    for (let i = 0; i < tone.length; i++) tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48000));
    for (let i = 0; i < 50; i++) await source.captureFrame(new AudioFrame(tone, 48000, 1, tone.length));
    await until(() => server!.rtpPacketsFrom('call-1', 'agent') >= 10, 10_000);
    expect(errors).toEqual([]);
  }, 20_000);
});
