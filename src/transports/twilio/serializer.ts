// Twilio Media Streams, bidirectional (`<Connect><Stream>`), as docs/carriers.md records it: JSON text frames;
// caller audio in `media` events (base64 μ-law 8 kHz, `timestamp` in ms since the stream started), ours in `media`
// events of the same format, `mark` echoed when the audio before it has played, `clear` to drop what Twilio holds.
import { mulawToPcm, pcmToMulaw } from '../../audio/index.js';
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

const SAMPLE_RATE = 8000;
const SAMPLES_PER_MS = SAMPLE_RATE / 1000;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class TwilioSerializer implements MediaStreamSerializer {
  readonly carrier = 'twilio';
  readonly audioFormats: TransportAudioFormats = {
    input: { sampleRate: SAMPLE_RATE, encoding: 'mulaw' },
    output: { sampleRate: SAMPLE_RATE, encoding: 'mulaw' },
  };
  readonly acknowledgesPlayback = true;
  readonly startsImmediately = false;
  private streamSid: string | undefined;

  decode(data: Buffer, isBinary: boolean): readonly MediaStreamEvent[] {
    const message = parseJsonMessage(data, isBinary, 'Twilio');
    switch (message.event) {
      case 'start':
        return [{ type: 'start', start: this.decodeStart(message) }];
      case 'media':
        return this.decodeMedia(message);
      case 'stop':
        return [{ type: 'stop', reason: 'Twilio stopped the stream' }];
      default:
        return decodeCommonEvent(message);
    }
  }

  encodeAudio(chunk: Int16Array): string {
    const payload = Buffer.from(pcmToMulaw(chunk)).toString('base64');
    return JSON.stringify({ event: 'media', streamSid: this.requireSid(), media: { payload } });
  }

  encodeMark(name: string): string {
    return JSON.stringify({ event: 'mark', streamSid: this.requireSid(), mark: { name } });
  }

  encodeClear(): string {
    return JSON.stringify({ event: 'clear', streamSid: this.requireSid() });
  }

  encodeEnd(): undefined {
    return undefined; // closing the socket ends <Connect><Stream>; Twilio has no goodbye message
  }

  private requireSid(): string {
    // Nothing is sent before the start (the output starts with the pipeline, after it): a bug if it happens.
    if (this.streamSid === undefined) throw new Error('twilio stream: no streamSid yet (nothing may be sent before start)');
    return this.streamSid;
  }

  private decodeStart(message: Record<string, unknown>): MediaStreamStart {
    const start = message.start;
    const streamSid = field(start, 'streamSid') ?? message.streamSid;
    const callSid = field(start, 'callSid');
    if (typeof streamSid !== 'string' || typeof callSid !== 'string') {
      throw new MediaStreamProtocolError('a start without streamSid or callSid');
    }
    const format = field(start, 'mediaFormat');
    const encoding = field(format, 'encoding');
    if (encoding !== undefined && encoding !== 'audio/x-mulaw') {
      throw new MediaStreamProtocolError(`an unsupported media format ${JSON.stringify(encoding)}`);
    }
    this.streamSid = streamSid;
    const customParameters = stringEntries(field(start, 'customParameters'));
    return {
      callId: callSid,
      streamId: streamSid,
      fromNumber: customParameters.From,
      toNumber: customParameters.To,
      customParameters,
    };
  }

  private decodeMedia(message: Record<string, unknown>): readonly MediaStreamEvent[] {
    const media = message.media;
    const payload = field(media, 'payload');
    if (typeof payload !== 'string' || !BASE64.test(payload)) throw new MediaStreamProtocolError('a media event without a base64 payload');
    const track = field(media, 'track');
    if (track !== undefined && track !== 'inbound') return []; // only the caller's track is ours to hear
    const samples = mulawToPcm(new Uint8Array(Buffer.from(payload, 'base64')));
    const timestamp = Number(field(media, 'timestamp'));
    const position = Number.isFinite(timestamp) && timestamp >= 0 ? Math.round(timestamp * SAMPLES_PER_MS) : undefined;
    return samples.length === 0 ? [] : [{ type: 'audio', samples, position }];
  }
}
