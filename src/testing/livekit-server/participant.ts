// One participant of a test-server room: its signal connection, its two peer connections and its published tracks.
// It answers the client's signal requests; what concerns the other participants (updates, forwarding, data) goes
// through the room.
import { randomBytes } from 'node:crypto';
import {
  DataPacket,
  DisconnectReason,
  LeaveRequest,
  LeaveRequest_Action,
  ParticipantInfo,
  ParticipantInfo_Kind,
  ParticipantInfo_State,
  ParticipantPermission,
  Pong,
  SessionDescription,
  SignalTarget,
  TrackInfo,
  TrackPublishedResponse,
  TrackType,
  type AddTrackRequest,
  type SignalRequest,
  type SignalResponse,
  type TrickleRequest,
} from '@livekit/protocol';
import type { RtpPacket } from 'werift';
import { PublisherPeer, SubscriberPeer, type ForwardedTrack } from './peers.js';
import type { JoinGrant } from './tokens.js';

/** LiveKit's ids: a type prefix and random characters (the client checks the `PA_` / `TR_` prefixes). */
export function newSid(prefix: 'RM_' | 'PA_' | 'TR_'): string {
  return prefix + randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
}

/** The signal connection as a participant uses it. */
export interface SignalLink {
  send(message: SignalResponse['message']): void;
  close(): void;
}

/** What the participant asks of its room. */
export interface ParticipantRoom {
  trackPublished(participant: Participant, track: TrackInfo): void;
  forwardRtp(trackSid: string, packet: RtpPacket): void;
  forwardData(from: Participant, packet: DataPacket): void;
  leave(participant: Participant, reason: DisconnectReason): void;
}

export class Participant {
  readonly sid = newSid('PA_');
  readonly joinedAtMs = Date.now();
  readonly publisher: PublisherPeer;
  readonly subscriber: SubscriberPeer;
  /** Tracks asked for with AddTrackRequest, by client cid, until the offer carrying them is answered. */
  private readonly pendingTracks = new Map<string, TrackInfo>();
  /** Published tracks by client cid. */
  private readonly tracks = new Map<string, TrackInfo>();
  private version = 1;
  private subscriberNegotiating = false;
  private subscriberRenegotiate = false;
  private left = false;

  constructor(
    readonly grant: JoinGrant,
    private readonly signal: SignalLink,
    private readonly room: ParticipantRoom,
  ) {
    const trickle = (request: TrickleRequest): void =>
      this.send({ case: 'trickle', value: request });
    this.publisher = new PublisherPeer(trickle);
    this.subscriber = new SubscriberPeer(trickle);
    this.publisher.onRtp = (cid, packet) => {
      const track = this.tracks.get(cid);
      if (track !== undefined) this.room.forwardRtp(track.sid, packet);
    };
    this.publisher.onData = (payload) => this.onData(payload);
  }

  get identity(): string {
    return this.grant.identity;
  }

  get hasLeft(): boolean {
    return this.left;
  }

  info(state: ParticipantInfo_State = ParticipantInfo_State.ACTIVE): ParticipantInfo {
    return new ParticipantInfo({
      sid: this.sid,
      identity: this.identity,
      name: this.grant.name,
      state,
      tracks: [...this.tracks.values()],
      joinedAt: BigInt(Math.floor(this.joinedAtMs / 1000)),
      joinedAtMs: BigInt(this.joinedAtMs),
      version: this.version++,
      isPublisher: this.tracks.size > 0,
      kind: ParticipantInfo_Kind.STANDARD,
      permission: new ParticipantPermission({
        canPublish: this.grant.canPublish,
        canSubscribe: this.grant.canSubscribe,
        canPublishData: this.grant.canPublishData,
      }),
    });
  }

  send(message: SignalResponse['message']): void {
    if (!this.left) this.signal.send(message);
  }

  async handle(request: SignalRequest): Promise<void> {
    const message = request.message;
    switch (message.case) {
      case 'offer':
        return this.onPublisherOffer(message.value.sdp);
      case 'answer':
        await this.subscriber.acceptAnswer(message.value.sdp);
        this.subscriberNegotiating = false;
        if (this.subscriberRenegotiate) await this.negotiateSubscriber();
        return;
      case 'trickle': {
        const peer = message.value.target === SignalTarget.SUBSCRIBER ? this.subscriber : this.publisher;
        return peer.addRemoteCandidate(message.value.candidateInit);
      }
      case 'addTrack':
        return this.onAddTrack(message.value);
      case 'leave':
        this.room.leave(this, DisconnectReason.CLIENT_INITIATED);
        return;
      case 'ping':
        this.send({ case: 'pong', value: BigInt(Date.now()) });
        return;
      case 'pingReq':
        this.send({
          case: 'pongResp',
          value: new Pong({ lastPingTimestamp: message.value.timestamp, timestamp: BigInt(Date.now()) }),
        });
        return;
      // Accepted and ignored: every track is forwarded to everyone (auto-subscribe), quality and mute settings do
      // not apply to a loopback test room, and sync state is for resuming, which this server does not do.
      case 'subscription':
      case 'trackSetting':
      case 'mute':
      case 'updateLayers':
      case 'subscriptionPermission':
      case 'syncState':
      case 'updateAudioTrack':
      case 'updateMetadata':
        return;
      default:
        throw new Error(`the LiveKit test server does not implement the signal request '${message.case ?? 'empty'}'`);
    }
  }

  /** Offers the subscriber PC's current tracks; one offer at a time, a change meanwhile renegotiates after. */
  async negotiateSubscriber(): Promise<void> {
    if (this.left) return;
    if (this.subscriberNegotiating) {
      this.subscriberRenegotiate = true;
      return;
    }
    this.subscriberNegotiating = true;
    this.subscriberRenegotiate = false;
    const sdp = await this.subscriber.createOffer();
    this.send({ case: 'offer', value: new SessionDescription({ type: 'offer', sdp }) });
  }

  /** Starts forwarding another participant's track to this one (at the next subscriber offer). */
  subscribe(publisherSid: string, track: TrackInfo): ForwardedTrack | undefined {
    if (!this.grant.canSubscribe) return undefined;
    return this.subscriber.addForward(publisherSid, track.sid);
  }

  /** Tells the client it was removed, then closes everything. */
  async remove(reason: DisconnectReason): Promise<void> {
    this.send({
      case: 'leave',
      value: new LeaveRequest({ canReconnect: false, reason, action: LeaveRequest_Action.DISCONNECT }),
    });
    await this.close();
  }

  async close(): Promise<void> {
    if (this.left) return;
    this.left = true;
    this.signal.close();
    await Promise.allSettled([this.publisher.close(), this.subscriber.close()]);
  }

  publishedTracks(): TrackInfo[] {
    return [...this.tracks.values()];
  }

  private onAddTrack(request: AddTrackRequest): void {
    if (!this.grant.canPublish) throw new Error(`participant ${this.identity} may not publish (token grant)`);
    if (request.type !== TrackType.AUDIO) {
      throw new Error('the LiveKit test server forwards audio tracks only; a video or data track was refused');
    }
    const track = new TrackInfo({
      sid: newSid('TR_'),
      type: TrackType.AUDIO,
      name: request.name,
      source: request.source,
      muted: request.muted,
      mimeType: 'audio/opus',
      stereo: request.stereo,
      disableDtx: request.disableDtx,
      stream: request.stream,
    });
    this.pendingTracks.set(request.cid, track);
    this.send({ case: 'trackPublished', value: new TrackPublishedResponse({ cid: request.cid, track }) });
  }

  private async onPublisherOffer(sdp: string): Promise<void> {
    const answer = await this.publisher.answer(sdp);
    this.send({ case: 'answer', value: new SessionDescription({ type: 'answer', sdp: answer.sdp }) });
    for (const received of answer.tracks) {
      const track = this.pendingTracks.get(received.cid);
      if (track === undefined) continue;
      this.pendingTracks.delete(received.cid);
      track.mid = received.mid;
      this.tracks.set(received.cid, track);
      this.room.trackPublished(this, track);
    }
  }

  private onData(payload: Uint8Array): void {
    let packet: DataPacket;
    try {
      packet = DataPacket.fromBinary(payload);
    } catch {
      return; // not a DataPacket: LiveKit drops it too
    }
    if (!this.grant.canPublishData) return;
    // The server stamps the sender, whatever the client wrote (as LiveKit does).
    packet.participantIdentity = this.identity;
    packet.participantSid = this.sid;
    this.room.forwardData(this, packet);
  }
}
