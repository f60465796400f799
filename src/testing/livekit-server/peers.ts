// The server's ends of a participant's two peer connections (LiveKit's "dual PC" mode, signal path /rtc):
// - the publisher PC: the client offers its tracks and its `_reliable`/`_lossy` data channels; the server answers
//   and hands each received Opus RTP packet to the room for forwarding;
// - the subscriber PC: the server offers the other participants' tracks (stream id `PA_…|TR_…`, track id `TR_…`,
//   which is how the client finds the publication) and its own `_reliable`/`_lossy` data channels, the path data
//   packets take to the client.
// Both on werift (a WebRTC stack in TypeScript) with Opus 48 kHz stereo as the only codec: the only one a Piopiy
// call uses.
import {
  MediaStream,
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  type RTCDataChannel,
  type RtpPacket,
} from 'werift';
import { SignalTarget, TrickleRequest } from '@livekit/protocol';

const OPUS_PAYLOAD_TYPE = 111;

function newPeerConnection(): RTCPeerConnection {
  return new RTCPeerConnection({
    codecs: {
      audio: [
        new RTCRtpCodecParameters({
          mimeType: 'audio/opus',
          clockRate: 48000,
          channels: 2,
          payloadType: OPUS_PAYLOAD_TYPE,
          parameters: 'minptime=10;useinbandfec=1',
        }),
      ],
      // Never forwarded: only so that an offer's video sections (rtc-node offers receive-only ones in advance) can
      // be answered, as inactive.
      video: [new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, payloadType: 96 })],
    },
    // Loopback only: a test server's clients are on this machine, and fewer candidates connect sooner.
    iceUseIpv6: false,
  });
}

/** What a peer connection sends to the client over the signal connection. */
export type TrickleSink = (trickle: TrickleRequest) => void;

/** The RTCIceCandidateInit JSON LiveKit carries in `TrickleRequest.candidateInit`. */
interface CandidateInit {
  candidate: string;
  sdpMid?: string;
  sdpMLineIndex?: number;
  usernameFragment?: string;
}

abstract class ServerPeer {
  readonly pc = newPeerConnection();
  private closed = false;

  constructor(
    protected readonly target: SignalTarget,
    sendTrickle: TrickleSink,
  ) {
    this.pc.onIceCandidate.subscribe((candidate) => {
      if (candidate === undefined || this.closed) return;
      const init = candidate.toJSON();
      sendTrickle(new TrickleRequest({ candidateInit: JSON.stringify(init), target: this.target }));
    });
  }

  get connectionState(): string {
    return this.pc.connectionState;
  }

  async addRemoteCandidate(candidateInit: string): Promise<void> {
    const parsed = JSON.parse(candidateInit) as CandidateInit;
    if (parsed.candidate === '') return; // end of candidates
    await this.pc.addIceCandidate(parsed);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pc.close();
  }
}

/** One audio track the client publishes, as the offer's `a=msid` names it (the track id is AddTrackRequest.cid). */
export interface ReceivedTrack {
  cid: string;
  mid: string;
}

export class PublisherPeer extends ServerPeer {
  /** Called for each Opus RTP packet of a published track, by the client track id (`cid`). */
  onRtp: (cid: string, packet: RtpPacket) => void = () => {};
  /** Called for each message on the client's data channels. */
  onData: (payload: Uint8Array, channel: string) => void = () => {};
  private readonly cidByMid = new Map<string, string>();

  constructor(sendTrickle: TrickleSink) {
    super(SignalTarget.PUBLISHER, sendTrickle);
    this.pc.onDataChannel.subscribe((channel: RTCDataChannel) => {
      channel.onMessage.subscribe((message) => {
        if (typeof message !== 'string') this.onData(new Uint8Array(message), channel.label);
      });
    });
    this.pc.onRemoteTransceiverAdded.subscribe((transceiver) => {
      transceiver.onTrack.subscribe((track) => {
        track.onReceiveRtp.subscribe((packet) => {
          const cid = this.cidByMid.get(transceiver.mid ?? '');
          if (cid !== undefined) this.onRtp(cid, packet);
        });
      });
    });
  }

  /** Answers the client's offer; returns the answer SDP and the audio tracks the offer carries. */
  async answer(offerSdp: string): Promise<{ sdp: string; tracks: ReceivedTrack[] }> {
    const tracks = audioTracksOf(offerSdp);
    for (const track of tracks) this.cidByMid.set(track.mid, track.cid);
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    return { sdp: keepInactiveSectionsBundled(this.pc.localDescription?.sdp ?? answer.sdp), tracks };
  }
}

/** A track forwarded to one subscriber: write the publisher's RTP into it. */
export interface ForwardedTrack {
  readonly trackSid: string;
  write(packet: RtpPacket): void;
}

export class SubscriberPeer extends ServerPeer {
  private readonly channels: RTCDataChannel[];
  private readonly waitingReliable: Buffer[] = [];
  private readonly forwards = new Map<string, { track: MediaStreamTrack; stop(): void }>();

  constructor(sendTrickle: TrickleSink) {
    super(SignalTarget.SUBSCRIBER, sendTrickle);
    const reliable = this.pc.createDataChannel('_reliable', { ordered: true });
    this.channels = [reliable, this.pc.createDataChannel('_lossy', { ordered: false, maxRetransmits: 0 })];
    reliable.stateChanged.subscribe((state) => {
      if (state !== 'open') return;
      for (const payload of this.waitingReliable.splice(0)) reliable.send(payload);
    });
  }

  /** Adds a sendonly audio transceiver for another participant's track; takes effect at the next offer. */
  addForward(participantSid: string, trackSid: string): ForwardedTrack {
    const track = new MediaStreamTrack({ kind: 'audio', id: trackSid });
    const stream = new MediaStream({ id: `${participantSid}|${trackSid}` });
    const sender = this.pc.addTrack(track, stream);
    this.forwards.set(trackSid, {
      track,
      stop: () => {
        this.pc.removeTrack(sender);
        track.stop();
      },
    });
    return { trackSid, write: (packet) => track.writeRtp(packet) };
  }

  removeForward(trackSid: string): boolean {
    const forward = this.forwards.get(trackSid);
    if (forward === undefined) return false;
    this.forwards.delete(trackSid);
    forward.stop();
    return true;
  }

  async createOffer(): Promise<string> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    return this.pc.localDescription?.sdp ?? offer.sdp;
  }

  async acceptAnswer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
  }

  /**
   * Sends a serialized DataPacket on `_reliable` (or `_lossy`). Until the channel opens (the client has answered
   * and SCTP is up), reliable packets wait, as they would in a LiveKit server's send queue; lossy ones are dropped.
   */
  sendData(payload: Uint8Array, reliable: boolean): void {
    const channel = this.channels[reliable ? 0 : 1]!;
    if (channel.readyState === 'open') channel.send(Buffer.from(payload));
    else if (reliable && channel.readyState === 'connecting') this.waitingReliable.push(Buffer.from(payload));
  }
}

/** The audio m-sections of an SDP offer: mid and the msid track id (the client's track cid). */
export function audioTracksOf(sdp: string): ReceivedTrack[] {
  const tracks: ReceivedTrack[] = [];
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    if (!section.startsWith('audio')) continue;
    const mid = /\r?\na=mid:(\S+)/.exec(section)?.[1];
    const msid = /\r?\na=msid:\S+ (\S+)/.exec(section)?.[1];
    const inactive = /\r?\na=(inactive|recvonly)\b/.test(section);
    if (mid !== undefined && msid !== undefined && !inactive) tracks.push({ cid: msid, mid });
  }
  return tracks;
}

/**
 * werift answers an m-section it will neither send nor receive on with port 0 (rejected). rtc-node offers receive-only
 * sections in advance, the first of which is the BUNDLE tag; rejecting the tag leaves the client without the
 * transport the bundle rides on, and ICE never connects. Such a section is answered inactive on the discard port
 * instead, which JSEP allows and keeps it in the bundle.
 */
export function keepInactiveSectionsBundled(sdp: string): string {
  return sdp
    .split(/(?=\r\nm=)/)
    .map((section) => (/\r\na=inactive\b/.test(section) ? section.replace(/^(\r\nm=\w+) 0 /, '$1 9 ') : section))
    .join('');
}
