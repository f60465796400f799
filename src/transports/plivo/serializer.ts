// Plivo Audio Streams, bidirectional (`<Stream bidirectional="true">`), as docs/carriers.md records it: JSON text
// frames, camelCase; caller audio in `media` events (base64 μ-law 8 kHz or 16-bit PCM at 8/16 kHz, as the XML's
// contentType asked), ours in `playAudio` events, `checkpoint` answered by `playedStream` once the audio before it
// has played, `clearAudio` (answered by `clearedAudio`) to drop what Plivo holds. Plivo's start carries no numbers:
// the server knows them from the answer webhook and passes them in.
import { JsonStreamSerializer, type JsonStreamShape } from '../media-stream/json-serializer.js';
import { MediaStreamProtocolError, field, stringField } from '../media-stream/serializer.js';

/** The formats Plivo streams in (the `<Stream contentType>`). */
export const PLIVO_CONTENT_TYPES = ['audio/x-mulaw;rate=8000', 'audio/x-l16;rate=8000', 'audio/x-l16;rate=16000'] as const;
export type PlivoContentType = (typeof PLIVO_CONTENT_TYPES)[number];

/** `extra_headers` ("a=1,b=2"; Plivo's example also uses ";") as key/value pairs. */
export function parsePlivoExtraHeaders(value: unknown): Record<string, string> {
  const entries: Record<string, string> = {};
  if (typeof value !== 'string') return entries;
  for (const pair of value.split(/[,;]/)) {
    const at = pair.indexOf('=');
    if (at > 0) entries[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return entries;
}

export function plivoStreamShape(contentType: PlivoContentType = 'audio/x-mulaw;rate=8000', numbers: { fromNumber?: string; toNumber?: string } = {}): JsonStreamShape {
  const mulaw = contentType.startsWith('audio/x-mulaw');
  const sampleRate = contentType.endsWith('16000') ? 16000 : 8000;
  const mimeType = mulaw ? 'audio/x-mulaw' : 'audio/x-l16';
  return {
    name: 'Plivo',
    sampleRate,
    encoding: mulaw ? 'mulaw' : 'pcm16',
    events: { start: 'start', media: 'media', dtmf: 'dtmf', mark: 'playedStream', stop: 'stop', ignored: ['clearedAudio', 'connected'] },
    readStart(message) {
      const start = message.start;
      const callId = stringField(start, 'callId');
      const streamId = stringField(start, 'streamId') ?? stringField(message, 'streamId');
      if (callId === undefined || streamId === undefined) throw new MediaStreamProtocolError('a start without callId or streamId');
      const encoding = field(field(start, 'mediaFormat'), 'encoding');
      if (encoding !== undefined && encoding !== mimeType) {
        throw new MediaStreamProtocolError(`a stream in ${JSON.stringify(encoding)} where ${mimeType} was asked for`);
      }
      return { callId, streamId, ...numbers, customParameters: parsePlivoExtraHeaders(message.extra_headers) };
    },
    // `timestamp` is Unix time in ms of the packet: only differences between packets matter to the jitter buffer.
    readMedia: (message) => {
      const track = field(message.media, 'track');
      return { payload: field(message.media, 'payload'), atMs: field(message.media, 'timestamp'), inbound: track === undefined || track === 'inbound' };
    },
    readDtmf: (message) => field(message.dtmf, 'digit') ?? message.digit,
    readMark: (message) => message.name,
    writeMedia: (payload) => ({ event: 'playAudio', media: { contentType: mimeType, sampleRate, payload } }),
    writeMark: (name, streamId) => ({ event: 'checkpoint', streamId, name }),
    writeClear: (streamId) => ({ event: 'clearAudio', streamId }),
  };
}

export class PlivoSerializer extends JsonStreamSerializer {
  constructor(contentType?: PlivoContentType, numbers?: { fromNumber?: string; toNumber?: string }) {
    super(plivoStreamShape(contentType, numbers));
  }
}
