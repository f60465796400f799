// AWS event-stream framing (`application/vnd.amazon.eventstream`), written once for every AWS streaming API here:
// Transcribe's audio and transcripts (over a WebSocket) and Bedrock's ConverseStream answer (an HTTP body). Facts
// and sources: docs/vendors/aws.md. A message is
//
//   total length (u32 BE, the whole message) | headers length (u32 BE) | prelude CRC32 (of the 8 bytes before)
//   headers | payload | message CRC32 (of every byte before it)
//
// and a header is: name length (u8), name (UTF-8), value type (u8), value. Both CRCs are the gzip CRC32. Checked
// against AWS's published test vectors (test/services/aws/event-stream.test.ts).

/** A header's value with its wire type (the ten types AWS defines). */
export type EventStreamHeaderValue =
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'byte' | 'short' | 'integer'; readonly value: number }
  | { readonly type: 'long'; readonly value: bigint }
  | { readonly type: 'binary'; readonly value: Uint8Array }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'timestamp'; readonly value: Date }
  /** 32 hex digits. */
  | { readonly type: 'uuid'; readonly value: string };

export interface EventStreamMessage {
  readonly headers: Readonly<Record<string, EventStreamHeaderValue>>;
  readonly payload: Uint8Array;
}

/** A frame that is not a valid event-stream message (a bad CRC, lengths that disagree, an unknown header type). */
export class EventStreamError extends Error {
  override readonly name = 'EventStreamError';
}

const PRELUDE_BYTES = 12;
const OVERHEAD_BYTES = 16;
/** AWS's own limits: larger messages are refused, so a corrupt length cannot make us buffer without bound. */
export const EVENT_STREAM_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const MAX_HEADERS_BYTES = 128 * 1024;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The gzip (IEEE 802.3) CRC32 of `bytes`. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const TYPE_CODES = { boolean: -1, byte: 2, short: 3, integer: 4, long: 5, binary: 6, string: 7, timestamp: 8, uuid: 9 } as const;

function encodeHeader(name: string, header: EventStreamHeaderValue): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length === 0 || nameBytes.length > 255) throw new EventStreamError(`header name ${JSON.stringify(name)} must be 1 to 255 bytes`);
  let value: Buffer;
  switch (header.type) {
    case 'boolean':
      value = Buffer.from([header.value ? 0 : 1]);
      break;
    case 'byte':
      value = Buffer.from([TYPE_CODES.byte, 0]);
      value.writeInt8(header.value, 1);
      break;
    case 'short':
      value = Buffer.alloc(3);
      value[0] = TYPE_CODES.short;
      value.writeInt16BE(header.value, 1);
      break;
    case 'integer':
      value = Buffer.alloc(5);
      value[0] = TYPE_CODES.integer;
      value.writeInt32BE(header.value, 1);
      break;
    case 'long':
      value = Buffer.alloc(9);
      value[0] = TYPE_CODES.long;
      value.writeBigInt64BE(header.value, 1);
      break;
    case 'timestamp':
      value = Buffer.alloc(9);
      value[0] = TYPE_CODES.timestamp;
      value.writeBigInt64BE(BigInt(header.value.getTime()), 1);
      break;
    case 'binary':
    case 'string': {
      const bytes = header.type === 'string' ? Buffer.from(header.value, 'utf8') : Buffer.from(header.value);
      if (bytes.length > 0xffff) throw new EventStreamError(`header ${name} is over 65535 bytes`);
      value = Buffer.alloc(3 + bytes.length);
      value[0] = TYPE_CODES[header.type];
      value.writeUInt16BE(bytes.length, 1);
      bytes.copy(value, 3);
      break;
    }
    case 'uuid': {
      if (!/^[0-9a-f]{32}$/i.test(header.value.replace(/-/g, ''))) throw new EventStreamError(`header ${name}: ${header.value} is not a UUID`);
      value = Buffer.concat([Buffer.from([TYPE_CODES.uuid]), Buffer.from(header.value.replace(/-/g, ''), 'hex')]);
      break;
    }
  }
  return Buffer.concat([Buffer.from([nameBytes.length]), nameBytes, value]);
}

/** One message's bytes. A header given as a string is a string header (what AWS's `:`-headers are). */
export function encodeEventStreamMessage(headers: Readonly<Record<string, string | EventStreamHeaderValue>>, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const headerBytes = Buffer.concat(
    Object.entries(headers).map(([name, value]) => encodeHeader(name, typeof value === 'string' ? { type: 'string', value } : value)),
  );
  const total = OVERHEAD_BYTES + headerBytes.length + payload.length;
  if (total > EVENT_STREAM_MAX_MESSAGE_BYTES) throw new EventStreamError(`a message of ${total} bytes is over the ${EVENT_STREAM_MAX_MESSAGE_BYTES} AWS takes`);
  const message = Buffer.alloc(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(headerBytes.length, 4);
  message.writeUInt32BE(crc32(message, 0, 8), 8);
  headerBytes.copy(message, PRELUDE_BYTES);
  message.set(payload, PRELUDE_BYTES + headerBytes.length);
  message.writeUInt32BE(crc32(message, 0, total - 4), total - 4);
  return message;
}

function decodeHeaders(bytes: Buffer): Record<string, EventStreamHeaderValue> {
  const headers: Record<string, EventStreamHeaderValue> = {};
  let at = 0;
  const need = (count: number): void => {
    if (at + count > bytes.length) throw new EventStreamError('a header runs past the headers section');
  };
  while (at < bytes.length) {
    need(1);
    const nameLength = bytes[at]!;
    need(1 + nameLength + 1);
    const name = bytes.toString('utf8', at + 1, at + 1 + nameLength);
    at += 1 + nameLength;
    const type = bytes[at]!;
    at += 1;
    let header: EventStreamHeaderValue;
    switch (type) {
      case 0:
      case 1:
        header = { type: 'boolean', value: type === 0 };
        break;
      case 2:
        need(1);
        header = { type: 'byte', value: bytes.readInt8(at) };
        at += 1;
        break;
      case 3:
        need(2);
        header = { type: 'short', value: bytes.readInt16BE(at) };
        at += 2;
        break;
      case 4:
        need(4);
        header = { type: 'integer', value: bytes.readInt32BE(at) };
        at += 4;
        break;
      case 5:
      case 8: {
        need(8);
        const value = bytes.readBigInt64BE(at);
        header = type === 5 ? { type: 'long', value } : { type: 'timestamp', value: new Date(Number(value)) };
        at += 8;
        break;
      }
      case 6:
      case 7: {
        need(2);
        const length = bytes.readUInt16BE(at);
        need(2 + length);
        const start = at + 2;
        header = type === 7 ? { type: 'string', value: bytes.toString('utf8', start, start + length) } : { type: 'binary', value: new Uint8Array(bytes.subarray(start, start + length)) };
        at = start + length;
        break;
      }
      case 9:
        need(16);
        header = { type: 'uuid', value: bytes.toString('hex', at, at + 16) };
        at += 16;
        break;
      default:
        throw new EventStreamError(`unknown header value type ${type} (header ${name})`);
    }
    headers[name] = header;
  }
  return headers;
}

/** Decodes one whole message (exactly its bytes); throws EventStreamError when it is not valid. */
export function decodeEventStreamMessage(bytes: Uint8Array): EventStreamMessage {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < OVERHEAD_BYTES) throw new EventStreamError(`a message of ${buffer.length} bytes is shorter than the 16 of an empty one`);
  const total = buffer.readUInt32BE(0);
  const headersLength = buffer.readUInt32BE(4);
  if (buffer.readUInt32BE(8) !== crc32(buffer, 0, 8)) throw new EventStreamError('prelude checksum mismatch');
  if (total !== buffer.length) throw new EventStreamError(`the prelude says ${total} bytes, the message has ${buffer.length}`);
  if (headersLength > total - OVERHEAD_BYTES || headersLength > MAX_HEADERS_BYTES) throw new EventStreamError(`headers length ${headersLength} does not fit the message`);
  if (buffer.readUInt32BE(total - 4) !== crc32(buffer, 0, total - 4)) throw new EventStreamError('message checksum mismatch');
  const headers = decodeHeaders(buffer.subarray(PRELUDE_BYTES, PRELUDE_BYTES + headersLength));
  const payload = new Uint8Array(buffer.subarray(PRELUDE_BYTES + headersLength, total - 4));
  return { headers, payload };
}

/**
 * Cuts a byte stream (an HTTP body, whatever its chunking) into messages. A prelude whose CRC fails or whose
 * length is out of bounds throws at once: after it, no boundary in the stream can be trusted.
 */
export class EventStreamDecoder {
  private pending: Buffer = Buffer.alloc(0);

  /** Bytes received that do not make a whole message yet. */
  get pendingBytes(): number {
    return this.pending.length;
  }

  /** Forgets a partial message (a new stream begins). */
  reset(): void {
    this.pending = Buffer.alloc(0);
  }

  push(chunk: Uint8Array): EventStreamMessage[] {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.pending = this.pending.length === 0 ? bytes : Buffer.concat([this.pending, bytes]);
    const messages: EventStreamMessage[] = [];
    while (this.pending.length >= PRELUDE_BYTES) {
      const total = this.pending.readUInt32BE(0);
      if (this.pending.readUInt32BE(8) !== crc32(this.pending, 0, 8)) throw new EventStreamError('prelude checksum mismatch');
      if (total < OVERHEAD_BYTES || total > EVENT_STREAM_MAX_MESSAGE_BYTES) throw new EventStreamError(`message length ${total} is out of bounds`);
      if (this.pending.length < total) break;
      messages.push(decodeEventStreamMessage(this.pending.subarray(0, total)));
      this.pending = this.pending.subarray(total);
    }
    // What is left is copied out of the (possibly large) chunk it came in, so that chunk is not kept alive.
    if (this.pending.length > 0 && this.pending.byteOffset > 0) this.pending = Buffer.from(this.pending);
    return messages;
  }
}

/** The value of a string header, or undefined. */
export function stringHeader(message: EventStreamMessage, name: string): string | undefined {
  const header = message.headers[name];
  return header?.type === 'string' ? header.value : undefined;
}
