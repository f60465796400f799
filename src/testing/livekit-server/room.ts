// A test-server room: who is in it, which tracks go to whom, and the messages everyone else must hear about
// (participant joined, published, left) — LiveKit's ParticipantUpdate.
import {
  ClientConfigSetting,
  ClientConfiguration,
  DataPacket,
  DataPacket_Kind,
  DisconnectReason,
  JoinResponse,
  ParticipantInfo_State,
  ParticipantUpdate,
  Room as RoomInfo,
  ServerInfo,
  ServerInfo_Edition,
  SipDTMF,
  type TrackInfo,
} from '@livekit/protocol';
import type { RtpPacket } from 'werift';
import { newSid, Participant, type ParticipantRoom, type SignalLink } from './participant.js';
import type { ForwardedTrack } from './peers.js';
import type { JoinGrant } from './tokens.js';

/** The protocol version this server speaks (the JoinResponse's serverInfo.protocol). */
export const TEST_SERVER_PROTOCOL = 16;
/** Seconds: how often the client pings and how long it waits for a pong (LiveKit's defaults). */
const PING_INTERVAL_SECS = 5;
const PING_TIMEOUT_SECS = 15;

export class TestRoom implements ParticipantRoom {
  readonly sid = newSid('RM_');
  readonly createdAtMs = Date.now();
  private readonly participants = new Map<string, Participant>();
  /** For each published track, where its RTP goes. */
  private readonly forwards = new Map<string, Map<Participant, ForwardedTrack>>();
  /** RTP packets received per published track sid (what tests and benchmarks read). */
  readonly rtpPacketsByTrack = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly onEmpty: (room: TestRoom) => void,
  ) {}

  get identities(): string[] {
    return [...this.participants.keys()];
  }

  participant(identity: string): Participant | undefined {
    return this.participants.get(identity);
  }

  /** Admits a participant: JoinResponse to it, ParticipantUpdate to the others, the existing tracks forwarded. */
  async join(grant: JoinGrant, signal: SignalLink): Promise<Participant> {
    const existing = this.participants.get(grant.identity);
    // LiveKit replaces a participant that joins again with the same identity.
    if (existing !== undefined) await this.removeParticipant(existing, DisconnectReason.DUPLICATE_IDENTITY);
    const participant = new Participant(grant, signal, this);
    const others = [...this.participants.values()];
    this.participants.set(grant.identity, participant);
    participant.send({
      case: 'join',
      value: new JoinResponse({
        room: new RoomInfo({
          sid: this.sid,
          name: this.name,
          creationTime: BigInt(Math.floor(this.createdAtMs / 1000)),
          creationTimeMs: BigInt(this.createdAtMs),
          numParticipants: this.participants.size,
        }),
        participant: participant.info(ParticipantInfo_State.JOINED),
        otherParticipants: others.map((other) => other.info()),
        serverVersion: '1.9.0',
        serverInfo: new ServerInfo({
          edition: ServerInfo_Edition.Standard,
          version: '1.9.0',
          protocol: TEST_SERVER_PROTOCOL,
          nodeId: 'piopiy-ai-test-server',
        }),
        // Loopback: host candidates suffice, no STUN/TURN.
        iceServers: [],
        // As LiveKit: the server offers the subscriber PC first; the client connects it before `connect` resolves.
        subscriberPrimary: true,
        // Resuming a dropped signal connection is not implemented: ask the client for a full rejoin instead.
        clientConfiguration: new ClientConfiguration({ resumeConnection: ClientConfigSetting.DISABLED }),
        pingInterval: PING_INTERVAL_SECS,
        pingTimeout: PING_TIMEOUT_SECS,
      }),
    });
    this.broadcastUpdate(participant, ParticipantInfo_State.ACTIVE);
    for (const other of others) {
      for (const track of other.publishedTracks()) this.addForward(participant, other.sid, track);
    }
    await participant.negotiateSubscriber();
    return participant;
  }

  trackPublished(publisher: Participant, track: TrackInfo): void {
    this.broadcastUpdate(publisher, ParticipantInfo_State.ACTIVE);
    for (const other of this.participants.values()) {
      if (other === publisher) continue;
      this.addForward(other, publisher.sid, track);
      void other.negotiateSubscriber().catch(() => {});
    }
  }

  forwardRtp(trackSid: string, packet: RtpPacket): void {
    this.rtpPacketsByTrack.set(trackSid, (this.rtpPacketsByTrack.get(trackSid) ?? 0) + 1);
    const targets = this.forwards.get(trackSid);
    if (targets === undefined) return;
    for (const target of targets.values()) target.write(packet);
  }

  forwardData(from: Participant, packet: DataPacket): void {
    const destinations = packet.destinationIdentities;
    const bytes = packet.toBinary();
    for (const other of this.participants.values()) {
      if (other === from) continue;
      if (destinations.length > 0 && !destinations.includes(other.identity)) continue;
      other.subscriber.sendData(bytes, packet.kind !== DataPacket_Kind.LOSSY);
    }
  }

  /**
   * Delivers a keypad key as LiveKit's SIP bridge does: a reliable DataPacket with `sipDtmf`, sent by the SIP
   * participant `fromIdentity` (who need not be an rtc participant of this room). Returns how many it went to.
   */
  sendSipDtmf(fromIdentity: string, code: number, digit: string, toIdentities: string[] = []): number {
    const sender = this.participants.get(fromIdentity);
    const packet = new DataPacket({
      kind: DataPacket_Kind.RELIABLE,
      participantIdentity: fromIdentity,
      participantSid: sender?.sid ?? '',
      destinationIdentities: toIdentities,
      value: { case: 'sipDtmf', value: new SipDTMF({ code, digit }) },
    });
    let delivered = 0;
    for (const other of this.participants.values()) {
      if (other === sender) continue;
      if (toIdentities.length > 0 && !toIdentities.includes(other.identity)) continue;
      other.subscriber.sendData(packet.toBinary(), true);
      delivered++;
    }
    return delivered;
  }

  leave(participant: Participant, reason: DisconnectReason): void {
    void this.removeParticipant(participant, reason, false);
  }

  /** Takes a participant out: it is told (Leave) unless it left itself, and the others see it go. */
  async removeParticipant(participant: Participant, reason: DisconnectReason, tellIt = true): Promise<void> {
    if (this.participants.get(participant.identity) !== participant) return;
    this.participants.delete(participant.identity);
    for (const track of participant.publishedTracks()) this.forwards.delete(track.sid);
    for (const targets of this.forwards.values()) targets.delete(participant);
    for (const other of this.participants.values()) {
      let changed = false;
      for (const track of participant.publishedTracks()) changed = other.subscriber.removeForward(track.sid) || changed;
      other.send({ case: 'update', value: new ParticipantUpdate({ participants: [participant.info(ParticipantInfo_State.DISCONNECTED)] }) });
      if (changed) void other.negotiateSubscriber().catch(() => {});
    }
    if (tellIt) await participant.remove(reason);
    else await participant.close();
    if (this.participants.size === 0) this.onEmpty(this);
  }

  /** Closes the room: everyone gets Leave (ROOM_DELETED) and is disconnected. */
  async close(): Promise<void> {
    const everyone = [...this.participants.values()];
    this.participants.clear();
    this.forwards.clear();
    await Promise.allSettled(everyone.map((p) => p.remove(DisconnectReason.ROOM_DELETED)));
  }

  private addForward(subscriber: Participant, publisherSid: string, track: TrackInfo): void {
    const forward = subscriber.subscribe(publisherSid, track);
    if (forward === undefined) return;
    let targets = this.forwards.get(track.sid);
    if (targets === undefined) this.forwards.set(track.sid, (targets = new Map<Participant, ForwardedTrack>()));
    targets.set(subscriber, forward);
  }

  private broadcastUpdate(participant: Participant, state: ParticipantInfo_State): void {
    const update = new ParticipantUpdate({ participants: [participant.info(state)] });
    for (const other of this.participants.values()) {
      if (other !== participant) other.send({ case: 'update', value: update });
    }
  }
}
