// Exotel's Voicebot applet stream (AgentStream, bidirectional), as docs/carriers.md records it: JSON text frames
// with snake_case fields; caller audio in `media` events (base64 raw 16-bit little-endian PCM, 8 kHz unless the
// stream URL asks for 16 or 24 kHz, about 100 ms per message), ours in `media` events of the same format, `mark`
// echoed when the audio before it has played, `clear` to drop what Exotel holds.
import { JsonStreamSerializer, type JsonStreamShape } from '../media-stream/json-serializer.js';
import { MediaStreamProtocolError, field, stringEntries, stringField } from '../media-stream/serializer.js';

/** The rates the Voicebot applet streams at (its `sample-rate` URL parameter). */
export const EXOTEL_SAMPLE_RATES = [8000, 16000, 24000] as const;
export type ExotelSampleRate = (typeof EXOTEL_SAMPLE_RATES)[number];

/** Exotel's protocol at `sampleRate` (the rate the applet's URL asked for). */
export function exotelStreamShape(sampleRate: ExotelSampleRate): JsonStreamShape {
  return {
    name: 'Exotel',
    sampleRate,
    encoding: 'pcm16',
    events: { start: 'start', media: 'media', dtmf: 'dtmf', mark: 'mark', stop: 'stop', ignored: ['connected'] },
    readStart(message) {
      const start = message.start;
      const streamSid = stringField(start, 'stream_sid') ?? stringField(message, 'stream_sid');
      const callSid = stringField(start, 'call_sid');
      if (streamSid === undefined || callSid === undefined) throw new MediaStreamProtocolError('a start without stream_sid or call_sid');
      const rate = field(field(start, 'media_format'), 'sample_rate');
      if (rate !== undefined && Number(rate) !== sampleRate) {
        // The rate comes from the URL the applet was given; a start that disagrees would play at the wrong speed.
        throw new MediaStreamProtocolError(`a stream at ${JSON.stringify(rate)} Hz where ${sampleRate} Hz was asked for`);
      }
      return {
        callId: callSid,
        streamId: streamSid,
        fromNumber: stringField(start, 'from'),
        toNumber: stringField(start, 'to'),
        customParameters: stringEntries(field(start, 'custom_parameters')),
      };
    },
    // `timestamp` is in ms from the stream's start in Exotel's example (chunk "2" at "200" for 100 ms chunks).
    readMedia: (message) => ({ payload: field(message.media, 'payload'), atMs: field(message.media, 'timestamp'), inbound: true }),
    readDtmf: (message) => field(message.dtmf, 'digit'),
    readMark: (message) => field(message.mark, 'name'),
    readStop: (message) => {
      const reason = stringField(message.stop, 'reason');
      return `Exotel stopped the stream${reason === undefined ? '' : ` (${reason})`}`;
    },
    writeMedia: (payload, stream_sid) => ({ event: 'media', stream_sid, media: { payload } }),
    writeMark: (name, stream_sid) => ({ event: 'mark', stream_sid, mark: { name } }),
    writeClear: (stream_sid) => ({ event: 'clear', stream_sid }),
  };
}

export class ExotelSerializer extends JsonStreamSerializer {
  constructor(readonly sampleRate: ExotelSampleRate = 8000) {
    if (!EXOTEL_SAMPLE_RATES.includes(sampleRate)) throw new RangeError(`Exotel streams at 8000, 16000 or 24000 Hz, not ${String(sampleRate)}`);
    super(exotelStreamShape(sampleRate));
  }
}
