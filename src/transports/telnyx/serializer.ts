// Telnyx media streaming, bidirectional RTP mode, as docs/carriers.md records it: JSON text frames, snake_case;
// caller audio in `media` events (base64 RTP payloads without headers, PCMU 8 kHz as our answer asks), ours in
// `media` events of the same codec, `mark` echoed when the media before it has played (at once when nothing is
// queued), `clear` to drop what Telnyx holds (queued marks come back then).
import { JsonStreamSerializer, type JsonStreamShape } from '../media-stream/json-serializer.js';
import { MediaStreamProtocolError, field, stringEntries, stringField } from '../media-stream/serializer.js';

export const TELNYX_STREAM_SHAPE: JsonStreamShape = {
  name: 'Telnyx',
  sampleRate: 8000,
  encoding: 'mulaw',
  events: { start: 'start', media: 'media', dtmf: 'dtmf', mark: 'mark', stop: 'stop', ignored: ['connected'], passed: ['error'] },
  readStart(message) {
    const start = message.start;
    const callControlId = stringField(start, 'call_control_id');
    const streamId = stringField(message, 'stream_id');
    if (callControlId === undefined || streamId === undefined) throw new MediaStreamProtocolError('a start without call_control_id or stream_id');
    const encoding = field(field(start, 'media_format'), 'encoding');
    if (encoding !== undefined && encoding !== 'PCMU') throw new MediaStreamProtocolError(`a stream in ${JSON.stringify(encoding)} where PCMU was asked for`);
    return {
      callId: callControlId,
      streamId,
      fromNumber: stringField(start, 'from'),
      toNumber: stringField(start, 'to'),
      customParameters: stringEntries(field(start, 'custom_parameters')),
    };
  },
  // `timestamp` read as ms, as in Twilio's protocol Telnyx's follows (Telnyx does not give its unit; frames may
  // arrive out of order, so a position is needed, and only differences between packets matter).
  readMedia: (message) => {
    const track = field(message.media, 'track');
    return { payload: field(message.media, 'payload'), atMs: field(message.media, 'timestamp'), inbound: track === undefined || track === 'inbound' };
  },
  readDtmf: (message) => field(message.dtmf, 'digit'),
  readMark: (message) => field(message.mark, 'name'),
  writeMedia: (payload) => ({ event: 'media', media: { payload } }),
  writeMark: (name) => ({ event: 'mark', mark: { name } }),
  writeClear: () => ({ event: 'clear' }),
};

export class TelnyxSerializer extends JsonStreamSerializer {
  constructor() {
    super(TELNYX_STREAM_SHAPE);
  }
}
