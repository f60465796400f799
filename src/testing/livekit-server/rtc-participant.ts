// A participant on the real @livekit/rtc-node client, for tests and the simulator: it joins a room, publishes one
// microphone track it can play audio into, records what it hears (all remote audio, mixed by arrival), and keeps
// what else arrives (participants, data, SIP DTMF, its own disconnection).
import type * as Rtc from '@livekit/rtc-node';

export interface RtcParticipantOptions {
  /** The rate it records remote audio at (rtc-node resamples from Opus' 48 kHz). Default 48000. */
  recordSampleRate?: number;
  /** The rate of the audio it plays. Default 48000. */
  playSampleRate?: number;
}

export interface ReceivedDtmf {
  code: number;
  digit: string;
  from: string | undefined;
}

export class RtcTestParticipant {
  readonly remoteIdentities = new Set<string>();
  readonly left: string[] = [];
  readonly data: { payload: Uint8Array; from: string | undefined }[] = [];
  readonly dtmf: ReceivedDtmf[] = [];
  /** Why the room connection ended, once it has. */
  disconnectReason: string | undefined;
  /** Remote audio heard, in arrival order, and when its first sample arrived (performance.now()). */
  readonly heard: { identity: string; samples: Int16Array; atMs: number }[] = [];
  private source: Rtc.AudioSource | undefined;
  private readers: Promise<void>[] = [];

  private constructor(
    private readonly rtc: typeof Rtc,
    readonly room: Rtc.Room,
    readonly recordSampleRate: number,
    readonly playSampleRate: number,
  ) {}

  static async join(url: string, token: string, options: RtcParticipantOptions = {}): Promise<RtcTestParticipant> {
    const rtc = await import('@livekit/rtc-node');
    const participant = new RtcTestParticipant(rtc, new rtc.Room(), options.recordSampleRate ?? 48000, options.playSampleRate ?? 48000);
    participant.listen();
    await participant.room.connect(url, token, { autoSubscribe: true, dynacast: false });
    for (const remote of participant.room.remoteParticipants.values()) participant.remoteIdentities.add(remote.identity);
    return participant;
  }

  get identity(): string {
    return this.room.localParticipant?.identity ?? '';
  }

  /** All remote audio heard so far, concatenated. */
  heardSamples(identity?: string): Int16Array {
    const chunks = this.heard.filter((chunk) => identity === undefined || chunk.identity === identity);
    const out = new Int16Array(chunks.reduce((sum, chunk) => sum + chunk.samples.length, 0));
    let offset = 0;
    for (const chunk of chunks) {
      out.set(chunk.samples, offset);
      offset += chunk.samples.length;
    }
    return out;
  }

  /** Publishes the microphone track (once). */
  async publish(): Promise<void> {
    if (this.source !== undefined) return;
    const { AudioSource, LocalAudioTrack, TrackPublishOptions, TrackSource } = this.rtc;
    this.source = new AudioSource(this.playSampleRate, 1, 100);
    const track = LocalAudioTrack.createAudioTrack('microphone', this.source);
    const options = new TrackPublishOptions();
    options.source = TrackSource.SOURCE_MICROPHONE;
    await this.room.localParticipant?.publishTrack(track, options);
  }

  /** Plays samples into the track in 10 ms frames, in real time (rtc-node's queue paces `captureFrame`). */
  async play(samples: Int16Array): Promise<void> {
    await this.publish();
    const frameSamples = this.playSampleRate / 100;
    for (let offset = 0; offset < samples.length; offset += frameSamples) {
      // A fresh array per frame: rtc-node hands `data.buffer` to native code from its start, ignoring a view's offset.
      const frame = new Int16Array(frameSamples);
      frame.set(samples.subarray(offset, Math.min(samples.length, offset + frameSamples)));
      await this.source!.captureFrame(new this.rtc.AudioFrame(frame, this.playSampleRate, 1, frameSamples));
    }
  }

  async publishData(text: string): Promise<void> {
    await this.room.localParticipant?.publishData(new TextEncoder().encode(text), { reliable: true });
  }

  async leave(): Promise<void> {
    await this.room.disconnect();
    await this.source?.close();
    await Promise.allSettled(this.readers);
  }

  private listen(): void {
    const { RoomEvent, TrackKind, AudioStream } = this.rtc;
    this.room.on(RoomEvent.ParticipantConnected, (p) => this.remoteIdentities.add(p.identity));
    this.room.on(RoomEvent.ParticipantDisconnected, (p) => {
      this.remoteIdentities.delete(p.identity);
      this.left.push(p.identity);
    });
    this.room.on(RoomEvent.DataReceived, (payload, p) => this.data.push({ payload, from: p?.identity }));
    this.room.on(RoomEvent.DtmfReceived, (code, digit, p: { identity: string } | undefined) =>
      this.dtmf.push({ code, digit, from: p?.identity }),
    );
    this.room.on(RoomEvent.Disconnected, (reason) => {
      this.disconnectReason = String(reason);
    });
    this.room.on(RoomEvent.TrackSubscribed, (track, _publication, participant) => {
      if (track.kind !== TrackKind.KIND_AUDIO) return;
      const stream = new AudioStream(track, { sampleRate: this.recordSampleRate, numChannels: 1 });
      this.readers.push(
        (async () => {
          for await (const frame of stream) {
            this.heard.push({ identity: participant.identity, samples: frame.data.slice(), atMs: performance.now() });
          }
        })().catch(() => {}),
      );
    });
  }
}
