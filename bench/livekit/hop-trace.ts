// Per-hop timing of the caller → agent direction (issue 15's growing inbound delay), for the calls bench's
// `--trace-hops`. It wraps two functions of the caller's process (a debug aid, not production code):
//   - rtc-node's AudioSource.captureFrame: when each burst's first loud sample was handed to the caller's source and
//     when that capture resolved, and how far ahead of real time the line had written into the source;
//   - the test server's TestRoom.forwardRtp: when the burst's first loud Opus packet reached the server (a packet
//     longer than QUIET_OPUS_BYTES: an Opus frame of silence is a few bytes, one of a tone tens).
// Each hop's onset is dated on the machine's monotonic clock (machineMs) like the bench's other stamps.
import type * as Rtc from '@livekit/rtc-node';
import type { RtpPacket } from 'werift';
import { TestRoom } from '../../src/testing/livekit-server/room.js';
import { machineMs, toneTag, type TaggedOnset } from './echo-timing.js';

/** An Opus packet longer than this carries sound (a 20 ms frame of silence encodes to a few bytes). */
const QUIET_OPUS_BYTES = 20;
const LOUD = 500;
/** At the server, a loud packet after this much quiet (RTP time) starts a burst (the callers pause 600 ms). */
const ONSET_QUIET_MS = 100;
/** A burst's packet reaches the server within this of its capture (the source's queue is at most 200 ms). */
const MAX_CAPTURE_TO_SERVER_MS = 500;

export interface CaptureOnset {
  /** The identity of the participant that published the source's track (the caller is `sip_…`). */
  identity: string;
  /** The burst's pitch (echo-timing's TAG_HZ index). */
  tag: number;
  /** machineMs the capture holding the onset was called, and when it resolved. */
  calledAt: number;
  resolvedAt: number;
  /** The source's queue when the onset was captured, as rtc-node reckons it (`queuedDuration`, ms). */
  queuedMs: number;
}

export interface ServerOnset {
  trackSid: string;
  /** The publisher's identity (the caller is `sip_…`). */
  identity: string;
  at: number;
  /** Arrival lag over the RTP clock: arrival − RTP time, relative to the track's first packet (ms). */
  rtpLagMs: number;
}

export interface HopTrace {
  captures: CaptureOnset[];
  server: ServerOnset[];
  /** Every call of the caller sources' captureFrame: how long it took to resolve (ms), for a distribution. */
  captureWaitMs: number[];
}

/** Starts tracing; `take()` returns what was seen since the last take. */
export function traceHops(rtc: typeof Rtc): { take: () => HopTrace } {
  let trace: HopTrace = { captures: [], server: [], captureWaitMs: [] };
  const identities = new WeakMap<object, string>();
  // eslint-disable-next-line @typescript-eslint/unbound-method -- wrapped, and called with its own `this`
  const publish = rtc.LocalParticipant.prototype.publishTrack;
  rtc.LocalParticipant.prototype.publishTrack = function (this: Rtc.LocalParticipant, track, options) {
    // rtc-node's LocalAudioTrack keeps its source (not typed as public).
    const source = (track as unknown as { source?: object }).source;
    if (source !== undefined) identities.set(source, this.identity);
    return publish.call(this, track, options);
  };
  const perSource = new WeakMap<object, { lastTag: number }>();
  // eslint-disable-next-line @typescript-eslint/unbound-method -- wrapped, and called with its own `this`
  const capture = rtc.AudioSource.prototype.captureFrame;
  rtc.AudioSource.prototype.captureFrame = async function (this: Rtc.AudioSource, frame: Rtc.AudioFrame): Promise<void> {
    const now = performance.now();
    let state = perSource.get(this);
    if (state === undefined) perSource.set(this, (state = { lastTag: -1 }));
    const queuedMs = this.queuedDuration;
    // An onset: a loud capture after a silent one, or of another pitch (a line catching up drops the silence between
    // bursts, so they can come back to back). Read from the capture's loud part.
    const first = frame.data.findIndex((s) => s > LOUD || s < -LOUD);
    const tag = first < 0 ? -1 : toneTag(frame.data.subarray(first), frame.sampleRate);
    const onset = tag >= 0 && tag !== state.lastTag;
    state.lastTag = tag;
    try {
      await capture.call(this, frame);
    } finally {
      const resolved = performance.now();
      trace.captureWaitMs.push(resolved - now);
      if (onset) trace.captures.push({ identity: identities.get(this) ?? '?', tag, calledAt: machineMs(now), resolvedAt: machineMs(resolved), queuedMs });
    }
  };

  const tracks = new Map<string, { lastLoudAt: number; firstAt: number; firstTs: number; identity: string }>();
  // eslint-disable-next-line @typescript-eslint/unbound-method -- wrapped, and called with its own `this`
  const forward = TestRoom.prototype.forwardRtp;
  TestRoom.prototype.forwardRtp = function (this: TestRoom, trackSid: string, packet: RtpPacket): void {
    const now = performance.now();
    let track = tracks.get(trackSid);
    if (track === undefined) {
      const identity = this.identities.find((id) => this.participant(id)?.publishedTracks().some((t) => t.sid === trackSid)) ?? '?';
      tracks.set(trackSid, (track = { lastLoudAt: -Infinity, firstAt: now, firstTs: packet.header.timestamp, identity }));
    }
    if (packet.payload.length > QUIET_OPUS_BYTES) {
      // Quiet is counted in the sender's time (RTP), not in arrival time: a stall here delivers packets in bursts.
      const rtpMs = (((packet.header.timestamp - track.firstTs) >>> 0) / 48000) * 1000;
      if (rtpMs - track.lastLoudAt >= ONSET_QUIET_MS) {
        trace.server.push({ trackSid, identity: track.identity, at: machineMs(now), rtpLagMs: now - track.firstAt - rtpMs });
      }
      track.lastLoudAt = rtpMs;
    }
    forward.call(this, trackSid, packet);
  };
  return {
    take() {
      const taken = trace;
      trace = { captures: [], server: [], captureWaitMs: [] };
      return taken;
    },
  };
}

/** Per hop, the delays of the bursts sent in the measured window (ms), keyed by hop. */
export type HopDelays = Record<'lineToCapture' | 'captureWait' | 'captureToServer' | 'serverToAgent' | 'queuedAtOnset', number[]>;

/**
 * Pairs each burst the callers sent in the window with its onset at each hop: the capture of the same pitch next on
 * its line, the server's next loud packet on its track within MAX_CAPTURE_TO_SERVER_MS of that capture (a burst the
 * server saw back to back with the one before is skipped), and the agent's onset of the same pitch.
 */
export function hopDelays(
  trace: HopTrace,
  sentInWindow: Record<string, TaggedOnset[]>,
  heard: Record<string, TaggedOnset[]>,
): HopDelays {
  const out: HopDelays = { lineToCapture: [], captureWait: [], captureToServer: [], serverToAgent: [], queuedAtOnset: [] };
  for (const [from, sent] of Object.entries(sentInWindow)) {
    const identity = `sip_${from}`;
    const captures = trace.captures.filter((c) => c.identity === identity);
    const server = trace.server.filter((s) => s.identity === identity);
    const agent = [...(heard[from] ?? [])];
    for (const s of sent) {
      const c = captures.findIndex((x) => x.tag === s.tag && x.calledAt >= s.at - 20);
      if (c < 0) continue;
      const capture = captures[c]!;
      captures.splice(0, c + 1);
      out.lineToCapture.push(capture.calledAt - s.at);
      out.captureWait.push(capture.resolvedAt - capture.calledAt);
      out.queuedAtOnset.push(capture.queuedMs);
      const v = server.findIndex((x) => x.at >= capture.calledAt);
      const atServer = server[v];
      if (atServer === undefined || atServer.at - capture.calledAt > MAX_CAPTURE_TO_SERVER_MS) continue;
      server.splice(0, v + 1);
      out.captureToServer.push(atServer.at - capture.calledAt);
      const a = agent.findIndex((h) => h.tag === s.tag && h.at >= s.at - 20);
      if (a < 0) continue;
      out.serverToAgent.push(agent[a]!.at - atServer.at);
      agent.splice(0, a + 1);
    }
  }
  return out;
}
