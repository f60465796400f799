// The caller's line when the simulator's calls take the production media path: the call is a room on the LiveKit
// test server, the agent joins it with the invite's ws:// url and token (LiveKitTransport on @livekit/rtc-node), and
// the caller is a second rtc-node participant — it publishes what the SimulatedCall sends (speech, silence) and
// hands what the agent plays back to it. Keys go as SIP DTMF data packets, messages as reliable data.
import type * as Rtc from '@livekit/rtc-node';
import { dtmfEventCode, dtmfDigitOfCode } from '../../frames/index.js';
import { SerialCapture } from '../../transports/livekit/serial-capture.js';
import type { LiveKitTestServer } from '../livekit-server/index.js';
import type { CallerMediaLine, CallEndReason, SimulatedCall } from './simulated-call.js';

/** The caller's AudioSource queue (rtc-node's `queueSizeMs`): captures resolve at once while it holds less. */
const CALLER_SOURCE_QUEUE_MS = 100;
/**
 * How far ahead of real time the caller's line may stay in its pauses: what it keeps against event-loop stalls in
 * its process (the source plays silence, a gap in the caller's words, when it runs dry), and what it adds to the
 * time the agent hears it.
 */
const CALLER_LEAD_MS = 100;

/** The caller's identity in the room (a SIP participant on the platform). */
export function callerIdentity(call: SimulatedCall): string {
  return `sip_${call.from}`;
}

/** The agent's identity in the room, as its invite token names it. */
export function agentIdentity(call: SimulatedCall): string {
  return `agent_${call.agentId}`;
}

/**
 * Joins the call's room as the caller; once the agent is in the room the call is answered and audio flows. The
 * agent leaving ends the call (`agent-left`).
 */
export async function joinCallerLine(server: LiveKitTestServer, call: SimulatedCall): Promise<void> {
  const rtc = await import('@livekit/rtc-node');
  const room = new rtc.Room();
  const agent = agentIdentity(call);
  const source = new rtc.AudioSource(call.sampleRate, 1, CALLER_SOURCE_QUEUE_MS);
  // No bound on the speech that waits (SerialCapture's maxBacklogMs): a bound drops the oldest audio, and at load
  // 21-23 on 2 cores the agent then heard lines with their start missing ("a human please") and the demo failed 3
  // times in 10. What a stall leaves waiting delays the caller's words, and the line catches up in its pauses by
  // dropping silence beyond their first 300 ms: without that, every stall added to the delay for the rest of the call (issue 15: the agent
  // heard the bench's callers 0.3 / 0.9 / 2.5 s late with 1 / 2 / 4 of them in one process).
  const capture = new SerialCapture(rtc, source, call.sampleRate, () => {}, { dropSilenceAheadMs: CALLER_LEAD_MS });
  let closed = false;
  const readers: Promise<void>[] = [];

  const line: CallerMediaLine = {
    sendAudio(frame) {
      if (!closed) capture.write(frame);
    },
    sendDtmf(digit) {
      void room.localParticipant?.publishDtmf(dtmfEventCode(digit), digit).catch(() => {});
    },
    sendMessage(data) {
      const text = typeof data === 'string' ? data : JSON.stringify(data);
      void room.localParticipant?.publishData(new TextEncoder().encode(text), { reliable: true }).catch(() => {});
    },
    close(reason: CallEndReason) {
      if (closed) return;
      closed = true;
      void leave(reason);
    },
  };

  async function leave(reason: CallEndReason): Promise<void> {
    // The platform ending the call (REST hangup or transfer, cancel) closes the room: the agent gets Leave.
    if (reason !== 'caller-hangup' && reason !== 'agent-left' && server.roomNames().includes(call.roomName)) {
      await server.deleteRoom(call.roomName).catch(() => {});
    }
    capture.clear();
    await room.disconnect().catch(() => {});
    await source.close().catch(() => {});
    await Promise.allSettled(readers);
  }

  // However the call ends (even before the agent came), the caller leaves the room.
  void call.ended.then((end) => line.close(end.reason));
  const agentArrived = (identity: string): void => {
    if (identity === agent) call.attachLine(line, call.sampleRate);
  };
  room.on(rtc.RoomEvent.ParticipantConnected, (p) => agentArrived(p.identity));
  room.on(rtc.RoomEvent.ParticipantDisconnected, (p) => {
    if (p.identity === agent) call.end('agent-left');
  });
  room.on(rtc.RoomEvent.DtmfReceived, (code: number, digit: string) => {
    const key = dtmfDigitOfCode(code);
    if (key !== undefined && (digit === '' || digit === key)) call.agentKey(key);
  });
  room.on(rtc.RoomEvent.TrackSubscribed, (track: Rtc.RemoteTrack, _publication, participant) => {
    if (track.kind !== rtc.TrackKind.KIND_AUDIO || participant.identity !== agent) return;
    const stream = new rtc.AudioStream(track, { sampleRate: call.sampleRate, numChannels: 1 });
    readers.push(
      (async () => {
        for await (const frame of stream) if (!closed) call.agentAudio(frame.data.slice());
      })().catch(() => {}),
    );
  });

  const token = await server.createToken({ identity: callerIdentity(call), roomName: call.roomName });
  await room.connect(server.url, token, { autoSubscribe: true, dynacast: false });
  const track = rtc.LocalAudioTrack.createAudioTrack('caller', source);
  const options = new rtc.TrackPublishOptions();
  options.source = rtc.TrackSource.SOURCE_MICROPHONE;
  await room.localParticipant?.publishTrack(track, options);
  if (call.isEnded) {
    line.close(call.endReason ?? 'cancelled');
    return;
  }
  for (const participant of room.remoteParticipants.values()) agentArrived(participant.identity);
}
