// The real LiveKit room driver, on @livekit/rtc-node (the Rust SDK under FFI). Tested against the LiveKit test
// server in piopiy-ai/testing (test/slow/livekit/rtc-*.test.ts).
import { dtmfDigitOfCode } from '../../frames/index.js';
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import type { LiveKitRoomDriver } from './livekit-transport.js';
import { SerialCapture } from './serial-capture.js';

/** The AudioSource queue's length (rtc-node's `queueSizeMs`): the transport's lead must fit in it. */
export const LIVEKIT_SOURCE_QUEUE_MS = 300;

/** The real room, on @livekit/rtc-node (loaded on first use: its native library is only needed for rooms). */
export async function rtcNodeRoomDriver(logger: Logger = getDefaultLogger()): Promise<LiveKitRoomDriver> {
  const rtc = await import('@livekit/rtc-node');
  const room = new rtc.Room();
  let source: InstanceType<typeof rtc.AudioSource> | undefined;
  let capture: SerialCapture | undefined;
  let readers: { cancel: () => Promise<void>; done: Promise<void> }[] = [];
  return {
    async connect(url, token, events, options) {
      const known = new Set<string>();
      room.on(rtc.RoomEvent.ParticipantConnected, (p) => {
        known.add(p.identity);
        events.participantJoined(p.identity);
      });
      room.on(rtc.RoomEvent.ParticipantDisconnected, (p) => {
        // While reconnecting, rtc-node's full reconnect lets go of every remote participant and finds them again in
        // the new session: that is not the caller hanging up (seen against the LiveKit test server).
        if (room.connectionState !== rtc.ConnectionState.CONN_CONNECTED) return;
        known.delete(p.identity);
        events.participantLeft(p.identity);
      });
      room.on(rtc.RoomEvent.Reconnected, () => {
        // Whoever left while the room was reconnecting is simply absent from the new session.
        const present = new Set([...room.remoteParticipants.values()].map((p) => p.identity));
        for (const identity of known) {
          if (present.has(identity)) continue;
          known.delete(identity);
          events.participantLeft(identity);
        }
      });
      room.on(rtc.RoomEvent.DataReceived, (payload, participant) => events.data(payload, participant?.identity));
      // rtc-node looks the sender up by identity and may find nobody (typed as always found); the digit is taken
      // from the code when the packet carries none.
      room.on(rtc.RoomEvent.DtmfReceived, (code, digit, participant: { identity: string } | undefined) =>
        events.dtmf(digit !== '' ? digit : (dtmfDigitOfCode(code) ?? ''), participant?.identity),
      );
      // By name (ROOM_DELETED, not 5): the transport tells the platform closing the room from a lost connection.
      room.on(rtc.RoomEvent.Disconnected, (reason) => events.disconnected(rtc.DisconnectReason[reason] ?? String(reason)));
      room.on(rtc.RoomEvent.TrackSubscribed, (track, _publication, participant) => {
        if (track.kind !== rtc.TrackKind.KIND_AUDIO) return;
        const reader = new rtc.AudioStream(track, { sampleRate: options.inputSampleRate, numChannels: 1 }).getReader();
        readers.push({
          // A stream whose room was closed by the server does not always end by itself (seen against the test
          // server: the agent's shutdown waited for it forever); disconnect() cancels it.
          cancel: () => reader.cancel().catch(() => {}),
          done: (async () => {
            try {
              for (let read = await reader.read(); !read.done; read = await reader.read()) {
                events.audioFrame(read.value.data, read.value.sampleRate, participant.identity);
              }
            } catch (error) {
              logger.warn({ err: error }, 'reading a LiveKit audio track failed');
            }
          })(),
        });
      });
      await room.connect(url, token, { autoSubscribe: true, dynacast: false });
      const present = [...room.remoteParticipants.values()].map((p) => p.identity);
      for (const identity of present) known.add(identity);
      return present;
    },
    async publishAudio(sampleRate) {
      // Audio is paced by our output transport, a lead ahead of real time; an interruption clears the queue.
      source = new rtc.AudioSource(sampleRate, 1, LIVEKIT_SOURCE_QUEUE_MS);
      const track = rtc.LocalAudioTrack.createAudioTrack('piopiy-audio', source);
      const options = new rtc.TrackPublishOptions();
      options.source = rtc.TrackSource.SOURCE_MICROPHONE;
      await room.localParticipant?.publishTrack(track, options);
      capture = new SerialCapture(rtc, source, sampleRate, (error) => logger.warn({ err: error }, 'LiveKit captureFrame failed'));
    },
    writeAudio(chunk) {
      capture?.write(chunk);
    },
    clearAudio() {
      capture?.clear();
    },
    async sendData(payload) {
      await room.localParticipant?.publishData(payload, { reliable: true });
    },
    async publishDtmf(code, digit) {
      const participant = room.localParticipant;
      if (participant === undefined) throw new Error('LiveKitTransport: not in the room; the key was not sent');
      await participant.publishDtmf(code, digit);
    },
    async disconnect() {
      capture?.clear();
      await room.disconnect();
      await source?.close();
      await Promise.allSettled(readers.map((reader) => reader.cancel()));
      await Promise.allSettled(readers.map((reader) => reader.done));
      readers = [];
    },
  };
}
