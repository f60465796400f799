// Vonage's WebSocket audio (an NCCO `connect` to a `websocket` endpoint), as docs/carriers.md records it: caller
// audio in binary frames of 16-bit little-endian PCM (20 ms each, 640 bytes at 16 kHz), ours in binary frames of the
// same format; text frames carry events (`websocket:connected` first, `websocket:dtmf`). No playback
// acknowledgement is used (see docs/carriers.md): what was written ahead of real time counts as unheard, and no
// buffer is cleared at an interruption, so the small lead (80 ms by default) bounds what the caller hears after it.
import type { TransportAudioFormats } from '../base/transport.js';
import { pcm16Bytes } from '../media-stream/json-serializer.js';
import { MediaStreamProtocolError, parseJsonMessage, type MediaStreamEvent, type MediaStreamSerializer } from '../media-stream/serializer.js';

export const VONAGE_SAMPLE_RATES = [8000, 16000] as const;
export type VonageSampleRate = (typeof VONAGE_SAMPLE_RATES)[number];

export class VonageSerializer implements MediaStreamSerializer {
  readonly carrier = 'vonage';
  readonly audioFormats: TransportAudioFormats;
  readonly acknowledgesPlayback = false;
  /** The call's metadata comes from the stream URL our signed answer made, not from a start message. */
  readonly startsImmediately = true;

  constructor(readonly sampleRate: VonageSampleRate = 16000) {
    if (!VONAGE_SAMPLE_RATES.includes(sampleRate)) throw new RangeError(`Vonage streams at 8000 or 16000 Hz, not ${String(sampleRate)}`);
    this.audioFormats = { input: { sampleRate, encoding: 'pcm16' }, output: { sampleRate, encoding: 'pcm16' } };
  }

  decode(data: Buffer, isBinary: boolean): readonly MediaStreamEvent[] {
    if (isBinary) {
      if (data.length % 2 !== 0) throw new MediaStreamProtocolError('an audio frame of an odd number of bytes (16-bit PCM)');
      const samples = new Int16Array(data.length / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(i * 2);
      // No position: Vonage's frames carry none, so they are played in arrival order.
      return samples.length === 0 ? [] : [{ type: 'audio', samples }];
    }
    const message = parseJsonMessage(data, false, 'Vonage');
    switch (message.event) {
      case 'websocket:connected':
        return [];
      case 'websocket:dtmf':
        return typeof message.digit === 'string' ? [{ type: 'dtmf', digit: message.digit }] : [];
      default:
        return [{ type: 'message', message }];
    }
  }

  encodeAudio(chunk: Int16Array): Buffer {
    return pcm16Bytes(chunk);
  }

  encodeMark(): undefined {
    return undefined;
  }

  encodeClear(): undefined {
    return undefined;
  }

  encodeEnd(): undefined {
    return undefined;
  }
}
