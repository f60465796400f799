// The serializer of every carrier whose stream is JSON text frames with base64 audio (Twilio, Exotel, Plivo,
// Telnyx): a carrier states only its message shapes (a JsonStreamShape); JsonStreamSerializer does the rest —
// parsing, base64 and the codec, the position of each packet, and the stream id our messages must carry.
import { mulawToPcm, pcmToMulaw } from '../../audio/index.js';
import type { TransportAudioFormats } from '../base/transport.js';
import {
  MediaStreamProtocolError,
  type MediaStreamEvent,
  type MediaStreamSerializer,
  type MediaStreamStart,
  parseJsonMessage,
} from './serializer.js';

/** What a carrier's media message holds, as its shape reads it. */
export interface JsonStreamMedia {
  readonly payload: unknown;
  /** Where the packet sits in the carrier's count, in ms (any origin: only differences matter). */
  readonly atMs?: unknown;
  /** False for a track that is not the caller's (a `both_tracks` stream). */
  readonly inbound: boolean;
}

/** A carrier's JSON stream protocol: names of its events and where their fields are. */
export interface JsonStreamShape {
  /** The carrier's name, as errors and logs say it ("Twilio"). */
  readonly name: string;
  readonly sampleRate: number;
  /** Of the payloads, both ways: μ-law bytes or 16-bit little-endian PCM. */
  readonly encoding: 'mulaw' | 'pcm16';
  /** Event names the carrier sends, by what they mean; `ignored` ones (`connected`, ...) carry nothing for us. */
  readonly events: {
    readonly start: string;
    readonly media: string;
    readonly dtmf?: string;
    readonly mark?: string;
    readonly stop?: string;
    readonly ignored?: readonly string[];
    /** Events the agent may want as they are (reported as a transport `message`: errors, ...). */
    readonly passed?: readonly string[];
  };
  /** The start's metadata; throws a MediaStreamProtocolError when it lacks what the protocol promises. */
  readStart(message: Record<string, unknown>): MediaStreamStart;
  readMedia(message: Record<string, unknown>): JsonStreamMedia;
  readDtmf?(message: Record<string, unknown>): unknown;
  readMark?(message: Record<string, unknown>): unknown;
  readStop?(message: Record<string, unknown>): string;
  /** Our messages; `streamId` is the start's. */
  writeMedia(payload: string, streamId: string): Record<string, unknown>;
  /** Absent: the carrier does not acknowledge playback. */
  writeMark?(name: string, streamId: string): Record<string, unknown>;
  writeClear?(streamId: string): Record<string, unknown>;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class JsonStreamSerializer implements MediaStreamSerializer {
  readonly carrier: string;
  readonly audioFormats: TransportAudioFormats;
  readonly acknowledgesPlayback: boolean;
  readonly startsImmediately = false;
  private readonly samplesPerMs: number;
  private streamId: string | undefined;

  constructor(private readonly shape: JsonStreamShape) {
    this.carrier = shape.name.toLowerCase();
    const format = { sampleRate: shape.sampleRate, encoding: shape.encoding } as const;
    this.audioFormats = { input: format, output: format };
    this.acknowledgesPlayback = shape.writeMark !== undefined;
    this.samplesPerMs = shape.sampleRate / 1000;
  }

  decode(data: Buffer, isBinary: boolean): readonly MediaStreamEvent[] {
    const message = parseJsonMessage(data, isBinary, this.shape.name);
    const { events } = this.shape;
    // A missing event name must not match an optional event the shape leaves undefined.
    const event = typeof message.event === 'string' ? message.event : '';
    switch (event) {
      case events.start: {
        const start = this.shape.readStart(message);
        this.streamId = start.streamId;
        return [{ type: 'start', start }];
      }
      case events.media:
        return this.decodeMedia(message);
      case events.stop:
        return [{ type: 'stop', reason: this.shape.readStop?.(message) ?? `${this.shape.name} stopped the stream` }];
      case events.dtmf: {
        const digit = this.shape.readDtmf?.(message);
        return typeof digit === 'string' ? [{ type: 'dtmf', digit }] : [];
      }
      case events.mark: {
        const name = this.shape.readMark?.(message);
        return typeof name === 'string' ? [{ type: 'mark', name }] : [];
      }
      default:
        if (events.ignored?.includes(event) === true) return [];
        if (events.passed?.includes(event) === true) return [{ type: 'message', message }];
        throw new MediaStreamProtocolError(`an unknown event ${JSON.stringify(String(message.event)).slice(0, 40)}`);
    }
  }

  encodeAudio(chunk: Int16Array): string {
    const bytes = this.shape.encoding === 'mulaw' ? Buffer.from(pcmToMulaw(chunk)) : pcm16Bytes(chunk);
    return JSON.stringify(this.shape.writeMedia(bytes.toString('base64'), this.requireStreamId()));
  }

  encodeMark(name: string): string | undefined {
    const mark = this.shape.writeMark?.(name, this.requireStreamId());
    return mark === undefined ? undefined : JSON.stringify(mark);
  }

  encodeClear(): string | undefined {
    const clear = this.shape.writeClear?.(this.requireStreamId());
    return clear === undefined ? undefined : JSON.stringify(clear);
  }

  encodeEnd(): undefined {
    return undefined; // none of these protocols has a goodbye message: closing the socket ends the stream
  }

  private requireStreamId(): string {
    // Nothing is sent before the start (the output starts with the pipeline, after it): a bug if it happens.
    if (this.streamId === undefined) throw new Error(`${this.carrier} stream: no stream id yet (nothing may be sent before start)`);
    return this.streamId;
  }

  private decodeMedia(message: Record<string, unknown>): readonly MediaStreamEvent[] {
    const media = this.shape.readMedia(message);
    if (typeof media.payload !== 'string' || !BASE64.test(media.payload)) {
      throw new MediaStreamProtocolError('a media event without a base64 payload');
    }
    if (!media.inbound) return []; // only the caller's track is ours to hear
    const bytes = Buffer.from(media.payload, 'base64');
    let samples: Int16Array;
    if (this.shape.encoding === 'mulaw') samples = mulawToPcm(new Uint8Array(bytes));
    else {
      if (bytes.length % 2 !== 0) throw new MediaStreamProtocolError('a media payload of an odd number of bytes (16-bit PCM)');
      // A copy: the decoded buffer may not be 2-byte aligned, and the jitter buffer keeps the samples.
      samples = new Int16Array(bytes.length / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
    }
    const atMs = Number(media.atMs);
    const position = media.atMs !== undefined && Number.isFinite(atMs) && atMs >= 0 ? Math.round(atMs * this.samplesPerMs) : undefined;
    return samples.length === 0 ? [] : [{ type: 'audio', samples, position }];
  }
}

/** 16-bit little-endian bytes of PCM samples. */
export function pcm16Bytes(samples: Int16Array): Buffer {
  const bytes = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(samples[i]!, i * 2);
  return bytes;
}
