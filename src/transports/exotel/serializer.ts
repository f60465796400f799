// Exotel's Voicebot applet stream (AgentStream, bidirectional), as docs/carriers.md records it: JSON text frames
// with snake_case fields; caller audio in `media` events (base64 raw 16-bit little-endian PCM, 8 kHz unless the
// stream URL asks for 16 or 24 kHz, about 100 ms per message), ours in `media` events of the same format, `mark`
// echoed when the audio before it has played, `clear` to drop what Exotel holds.
import type { TransportAudioFormats } from '../base/transport.js';
import {
  MediaStreamProtocolError,
  type MediaStreamEvent,
  type MediaStreamSerializer,
  type MediaStreamStart,
  decodeCommonEvent,
  parseJsonMessage,
  stringEntries,
} from '../media-stream/serializer.js';
import { field } from '../media-stream/stream-sessions.js';

/** The rates the Voicebot applet streams at (its `sample-rate` URL parameter). */
export const EXOTEL_SAMPLE_RATES = [8000, 16000, 24000] as const;
export type ExotelSampleRate = (typeof EXOTEL_SAMPLE_RATES)[number];

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class ExotelSerializer implements MediaStreamSerializer {
  readonly carrier = 'exotel';
  readonly audioFormats: TransportAudioFormats;
  readonly acknowledgesPlayback = true;
  readonly startsImmediately = false;
  private readonly samplesPerMs: number;
  private streamSid: string | undefined;

  constructor(readonly sampleRate: ExotelSampleRate = 8000) {
    if (!EXOTEL_SAMPLE_RATES.includes(sampleRate)) throw new RangeError(`Exotel streams at 8000, 16000 or 24000 Hz, not ${String(sampleRate)}`);
    this.audioFormats = { input: { sampleRate, encoding: 'pcm16' }, output: { sampleRate, encoding: 'pcm16' } };
    this.samplesPerMs = sampleRate / 1000;
  }

  decode(data: Buffer, isBinary: boolean): readonly MediaStreamEvent[] {
    const message = parseJsonMessage(data, isBinary, 'Exotel');
    switch (message.event) {
      case 'start':
        return [{ type: 'start', start: this.decodeStart(message) }];
      case 'media':
        return this.decodeMedia(message);
      case 'stop': {
        const reason = field(message.stop, 'reason');
        return [{ type: 'stop', reason: `Exotel stopped the stream${typeof reason === 'string' ? ` (${reason})` : ''}` }];
      }
      default:
        return decodeCommonEvent(message);
    }
  }

  encodeAudio(chunk: Int16Array): string {
    const payload = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('base64');
    return JSON.stringify({ event: 'media', stream_sid: this.requireSid(), media: { payload } });
  }

  encodeMark(name: string): string {
    return JSON.stringify({ event: 'mark', stream_sid: this.requireSid(), mark: { name } });
  }

  encodeClear(): string {
    return JSON.stringify({ event: 'clear', stream_sid: this.requireSid() });
  }

  encodeEnd(): undefined {
    return undefined; // closing the socket ends the Voicebot applet: the call flow goes on to its next applet
  }

  private requireSid(): string {
    if (this.streamSid === undefined) throw new Error('exotel stream: no stream_sid yet (nothing may be sent before start)');
    return this.streamSid;
  }

  private decodeStart(message: Record<string, unknown>): MediaStreamStart {
    const start = message.start;
    const streamSid = field(start, 'stream_sid') ?? message.stream_sid;
    const callSid = field(start, 'call_sid');
    if (typeof streamSid !== 'string' || typeof callSid !== 'string') {
      throw new MediaStreamProtocolError('a start without stream_sid or call_sid');
    }
    const format = field(start, 'media_format');
    const rate = field(format, 'sample_rate');
    if (rate !== undefined && Number(rate) !== this.sampleRate) {
      // The rate comes from the URL the applet was given; a start that disagrees would play at the wrong speed.
      throw new MediaStreamProtocolError(`a stream at ${JSON.stringify(rate)} Hz where ${this.sampleRate} Hz was asked for`);
    }
    this.streamSid = streamSid;
    const customParameters = stringEntries(field(start, 'custom_parameters'));
    const from = field(start, 'from');
    const to = field(start, 'to');
    return {
      callId: callSid,
      streamId: streamSid,
      fromNumber: typeof from === 'string' ? from : undefined,
      toNumber: typeof to === 'string' ? to : undefined,
      customParameters,
    };
  }

  private decodeMedia(message: Record<string, unknown>): readonly MediaStreamEvent[] {
    const payload = field(message.media, 'payload');
    if (typeof payload !== 'string' || !BASE64.test(payload)) throw new MediaStreamProtocolError('a media event without a base64 payload');
    const bytes = Buffer.from(payload, 'base64');
    if (bytes.length % 2 !== 0) throw new MediaStreamProtocolError('a media payload of an odd number of bytes (16-bit PCM)');
    // A copy: the decoded buffer may not be 2-byte aligned, and the jitter buffer keeps the samples.
    const samples = new Int16Array(bytes.length / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
    // `timestamp` is in ms from the stream's start in Exotel's example (chunk "2" at "200" for 100 ms chunks);
    // only differences between packets matter to the jitter buffer, so its origin does not.
    const timestamp = Number(field(message.media, 'timestamp'));
    const position = Number.isFinite(timestamp) && timestamp >= 0 ? Math.round(timestamp * this.samplesPerMs) : undefined;
    return samples.length === 0 ? [] : [{ type: 'audio', samples, position }];
  }
}
