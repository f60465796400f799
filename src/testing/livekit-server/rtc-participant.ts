// A participant on the real @livekit/rtc-node client, for tests and the simulator: it joins a room, publishes one
// microphone track it can play audio into, records what it hears (all remote audio, mixed by arrival), and keeps
// what else arrives (participants, data, SIP DTMF, its own disconnection).
import type * as Rtc from '@livekit/rtc-node';

const SOURCE_QUEUE_MS = 40;

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
  private readonly playQueue: { samples: Int16Array; offset: number; done: () => void }[] = [];
  private sending: Promise<void> | undefined;
  private stopped = false;
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

  /**
   * Publishes the microphone track (once) and starts sending: like a phone, the track carries audio all the time,
   * silence when nothing is played, so the media path is up before the first word.
   */
  async publish(): Promise<void> {
    if (this.source !== undefined) return;
    const { AudioSource, LocalAudioTrack, TrackPublishOptions, TrackSource } = this.rtc;
    // A short source queue: `captureFrame` paces the sending loop in real time, and played audio waits in it.
    this.source = new AudioSource(this.playSampleRate, 1, SOURCE_QUEUE_MS);
    const track = LocalAudioTrack.createAudioTrack('microphone', this.source);
    const options = new TrackPublishOptions();
    options.source = TrackSource.SOURCE_MICROPHONE;
    await this.room.localParticipant?.publishTrack(track, options);
    this.sending = this.sendLoop(this.source);
  }

  /** Plays samples (at `playSampleRate`) after what is already queued; resolves when the last was sent. */
  async play(samples: Int16Array): Promise<void> {
    await this.publish();
    await new Promise<void>((resolve) => this.playQueue.push({ samples, offset: 0, done: resolve }));
  }

  /** When the audio queued now will have been sent, from now (ms). */
  get queuedMs(): number {
    return (this.playQueue.reduce((n, item) => n + item.samples.length - item.offset, 0) * 1000) / this.playSampleRate;
  }

  private async sendLoop(source: Rtc.AudioSource): Promise<void> {
    const frameSamples = this.playSampleRate / 100;
    while (!this.stopped) {
      // A fresh array per frame: rtc-node hands `data.buffer` to native code from its start, ignoring a view's offset.
      const frame = new Int16Array(frameSamples);
      let filled = 0;
      while (filled < frameSamples && this.playQueue.length > 0) {
        const item = this.playQueue[0]!;
        const take = Math.min(frameSamples - filled, item.samples.length - item.offset);
        frame.set(item.samples.subarray(item.offset, item.offset + take), filled);
        filled += take;
        item.offset += take;
        if (item.offset === item.samples.length) {
          this.playQueue.shift();
          item.done();
        }
      }
      try {
        await source.captureFrame(new this.rtc.AudioFrame(frame, this.playSampleRate, 1, frameSamples));
      } catch {
        return; // the source was closed
      }
    }
  }

  async publishData(text: string): Promise<void> {
    await this.room.localParticipant?.publishData(new TextEncoder().encode(text), { reliable: true });
  }

  async leave(): Promise<void> {
    this.stopped = true;
    for (const item of this.playQueue.splice(0)) item.done();
    await this.sending;
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
