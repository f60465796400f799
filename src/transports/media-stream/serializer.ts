// What a carrier's media-stream protocol looks like to the shared transport: one serializer per carrier (and per
// connection: a protocol may keep state, such as the stream id from its start message) turns the carrier's messages
// into events and our audio, marks and clears into the carrier's messages.
import type { TransportAudioFormats } from '../base/transport.js';

/** Metadata of a stream, from its start message (or the connection request when the protocol has none). */
export interface MediaStreamStart {
  /** The carrier's id of the call (Twilio's CallSid). */
  readonly callId: string;
  /** The carrier's id of this stream (Twilio's streamSid). */
  readonly streamId: string;
  readonly fromNumber?: string;
  readonly toNumber?: string;
  /** Key/value pairs the call's markup attached to the stream (Twilio's `<Parameter>`s). */
  readonly customParameters: Readonly<Record<string, string>>;
}

/** One thing a carrier's message said. */
export type MediaStreamEvent =
  | { readonly type: 'start'; readonly start: MediaStreamStart }
  /** Caller audio, mono PCM16 at the input rate; `position` is its first sample's index in the carrier's count. */
  | { readonly type: 'audio'; readonly samples: Int16Array; readonly position?: number }
  | { readonly type: 'dtmf'; readonly digit: string }
  /** The carrier played the audio sent before our mark `name`. */
  | { readonly type: 'mark'; readonly name: string }
  | { readonly type: 'stop'; readonly reason: string }
  /** Anything else the carrier sent that the agent may want (reported as a transport `message`). */
  | { readonly type: 'message'; readonly message: unknown };

/** A message to send: text (JSON) or binary. */
export type MediaStreamMessage = string | Buffer;

export interface MediaStreamSerializer {
  /** The carrier's name, for logs. */
  readonly carrier: string;
  /** Wire formats (the pipeline runs at these rates). */
  readonly audioFormats: TransportAudioFormats;
  /** Whether the carrier echoes marks once the audio before them has played. */
  readonly acknowledgesPlayback: boolean;
  /** Whether the stream is live at once (no start message to wait for). */
  readonly startsImmediately: boolean;
  /**
   * The events in one message. Throws a `MediaStreamProtocolError` for a message the protocol does not allow
   * (the transport logs it and carries on: one bad message must not end a call).
   */
  decode(data: Buffer, isBinary: boolean): readonly MediaStreamEvent[];
  /** One chunk of agent audio (mono PCM16 at the output rate). */
  encodeAudio(chunk: Int16Array): MediaStreamMessage;
  /** A mark named `name` after the audio sent so far (only when `acknowledgesPlayback`). */
  encodeMark(name: string): MediaStreamMessage | undefined;
  /** Drop the audio the carrier holds and has not played yet. */
  encodeClear(): MediaStreamMessage | undefined;
  /** The last message before the agent closes the stream, if the protocol has one. */
  encodeEnd(): MediaStreamMessage | undefined;
}

/** A message a carrier's protocol does not allow (or one we cannot read). */
export class MediaStreamProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaStreamProtocolError';
  }
}

/** A carrier's JSON text message as an object; throws a `MediaStreamProtocolError` for anything else. */
export function parseJsonMessage(data: Buffer, isBinary: boolean, carrier: string): Record<string, unknown> {
  if (isBinary) throw new MediaStreamProtocolError(`a binary frame (${carrier} sends JSON text)`);
  let message: unknown;
  try {
    message = JSON.parse(data.toString('utf8'));
  } catch {
    throw new MediaStreamProtocolError('a text frame that is not JSON');
  }
  if (typeof message !== 'object' || message === null) throw new MediaStreamProtocolError('a JSON value that is not an object');
  return message as Record<string, unknown>;
}

/** The string-valued entries of a JSON object (a start message's custom parameters); empty for anything else. */
export function stringEntries(value: unknown): Record<string, string> {
  const entries: Record<string, string> = {};
  if (typeof value === 'object' && value !== null) {
    for (const [key, entry] of Object.entries(value)) if (typeof entry === 'string') entries[key] = entry;
  }
  return entries;
}

/** A property of a JSON value, when it is an object. */
export function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** A JSON value when it is a string. */
export function stringField(value: unknown, key: string): string | undefined {
  const found = field(value, key);
  return typeof found === 'string' ? found : undefined;
}
