// Twilio Media Streams, bidirectional (`<Connect><Stream>`), as docs/carriers.md records it: JSON text frames;
// caller audio in `media` events (base64 μ-law 8 kHz, `timestamp` in ms since the stream started), ours in `media`
// events of the same format, `mark` echoed when the audio before it has played, `clear` to drop what Twilio holds.
import { JsonStreamSerializer, type JsonStreamShape } from '../media-stream/json-serializer.js';
import { MediaStreamProtocolError, field, stringEntries, stringField } from '../media-stream/serializer.js';

export const TWILIO_STREAM_SHAPE: JsonStreamShape = {
  name: 'Twilio',
  sampleRate: 8000,
  encoding: 'mulaw',
  events: { start: 'start', media: 'media', dtmf: 'dtmf', mark: 'mark', stop: 'stop', ignored: ['connected'] },
  readStart(message) {
    const start = message.start;
    const streamSid = stringField(start, 'streamSid') ?? stringField(message, 'streamSid');
    const callSid = stringField(start, 'callSid');
    if (streamSid === undefined || callSid === undefined) throw new MediaStreamProtocolError('a start without streamSid or callSid');
    const encoding = field(field(start, 'mediaFormat'), 'encoding');
    if (encoding !== undefined && encoding !== 'audio/x-mulaw') {
      throw new MediaStreamProtocolError(`an unsupported media format ${JSON.stringify(encoding)}`);
    }
    const customParameters = stringEntries(field(start, 'customParameters'));
    return { callId: callSid, streamId: streamSid, fromNumber: customParameters.From, toNumber: customParameters.To, customParameters };
  },
  readMedia: (message) => {
    const track = field(message.media, 'track');
    return { payload: field(message.media, 'payload'), atMs: field(message.media, 'timestamp'), inbound: track === undefined || track === 'inbound' };
  },
  readDtmf: (message) => field(message.dtmf, 'digit'),
  readMark: (message) => field(message.mark, 'name'),
  writeMedia: (payload, streamSid) => ({ event: 'media', streamSid, media: { payload } }),
  writeMark: (name, streamSid) => ({ event: 'mark', streamSid, mark: { name } }),
  writeClear: (streamSid) => ({ event: 'clear', streamSid }),
};

export class TwilioSerializer extends JsonStreamSerializer {
  constructor() {
    super(TWILIO_STREAM_SHAPE);
  }
}
