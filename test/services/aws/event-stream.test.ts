// The event-stream codec against AWS's published test vectors (aws-c-event-stream's generator, shipped as
// testdata in aws-sdk-go-v2 `aws/protocol/eventstream/testdata` and as TestVectors in aws-sdk-js-v3's
// eventstream-codec): the bytes are AWS's, not ours.
import { describe, expect, it } from 'vitest';
import {
  crc32,
  decodeEventStreamMessage,
  encodeEventStreamMessage,
  EventStreamDecoder,
  EventStreamError,
  stringHeader,
} from '../../../src/services/aws/event-stream.js';

const hex = (text: string): Buffer => Buffer.from(text, 'hex');
const PAYLOAD = Buffer.from("{'foo':'bar'}");

const VECTORS = {
  empty_message: hex('000000100000000005c248eb7d98c8ff'),
  payload_no_headers: hex('0000001d00000000fd528c5a7b27666f6f273a27626172277dc3653936'),
  payload_one_str_header: hex('0000003d0000002007fd83960c636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e7b27666f6f273a27626172277d8d9c08b1'),
  int32_header: hex('0000002d0000001041c424b80a6576656e742d74797065040000a00c7b27666f6f273a27626172277d36f480a0'),
};

describe('event-stream: AWS test vectors', () => {
  it('encodes an empty message, a payload without headers and one with a string header byte for byte', () => {
    expect(encodeEventStreamMessage({})).toEqual(VECTORS.empty_message);
    expect(encodeEventStreamMessage({}, PAYLOAD)).toEqual(VECTORS.payload_no_headers);
    expect(encodeEventStreamMessage({ 'content-type': 'application/json' }, PAYLOAD)).toEqual(VECTORS.payload_one_str_header);
    expect(encodeEventStreamMessage({ 'event-type': { type: 'integer', value: 0xa00c } }, PAYLOAD)).toEqual(VECTORS.int32_header);
  });

  it('decodes them', () => {
    expect(decodeEventStreamMessage(VECTORS.empty_message)).toEqual({ headers: {}, payload: new Uint8Array(0) });
    const one = decodeEventStreamMessage(VECTORS.payload_one_str_header);
    expect(stringHeader(one, 'content-type')).toBe('application/json');
    expect(Buffer.from(one.payload)).toEqual(PAYLOAD);
    expect(decodeEventStreamMessage(VECTORS.int32_header).headers).toEqual({ 'event-type': { type: 'integer', value: 40972 } });
  });

  it('refuses the corrupted vectors: a changed length, header length, header or payload', () => {
    const corrupt = (at: number, change: (bytes: Buffer) => void): Buffer => {
      const bytes = Buffer.from(VECTORS.payload_one_str_header);
      change(bytes);
      return bytes.subarray(0, at);
    };
    const whole = VECTORS.payload_one_str_header.length;
    expect(() => decodeEventStreamMessage(corrupt(whole, (b) => b.writeUInt32BE(whole + 1, 0)))).toThrow(/prelude checksum mismatch/);
    expect(() => decodeEventStreamMessage(corrupt(whole, (b) => b.writeUInt32BE(0x21, 4)))).toThrow(/prelude checksum mismatch/);
    expect(() => decodeEventStreamMessage(corrupt(whole, (b) => (b[14] = 0x61)))).toThrow(/message checksum mismatch/);
    expect(() => decodeEventStreamMessage(corrupt(whole, (b) => (b[whole - 6] = 0x7e)))).toThrow(EventStreamError);
  });

  it('crc32 is the gzip CRC32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

describe('event-stream: every header type round-trips', () => {
  it('boolean, byte, short, integer, long, binary, string, timestamp, uuid', () => {
    const headers = {
      yes: { type: 'boolean', value: true },
      no: { type: 'boolean', value: false },
      b: { type: 'byte', value: -2 },
      s: { type: 'short', value: -300 },
      i: { type: 'integer', value: 70000 },
      l: { type: 'long', value: -5n },
      bin: { type: 'binary', value: new Uint8Array([1, 2, 3]) },
      str: { type: 'string', value: 'नमस्ते' },
      t: { type: 'timestamp', value: new Date('2026-12-07T12:00:00.123Z') },
      u: { type: 'uuid', value: '0123456789abcdef0123456789abcdef' },
    } as const;
    const decoded = decodeEventStreamMessage(encodeEventStreamMessage(headers, Buffer.from('x')));
    expect(decoded.headers).toEqual(headers);
  });
});

describe('EventStreamDecoder', () => {
  const stream = Buffer.concat([VECTORS.int32_header, VECTORS.payload_one_str_header, VECTORS.empty_message]);

  it('finds the messages whatever the chunking, one byte at a time included', () => {
    for (const size of [1, 3, 7, 16, 29, stream.length]) {
      const decoder = new EventStreamDecoder();
      const messages = [];
      for (let at = 0; at < stream.length; at += size) messages.push(...decoder.push(stream.subarray(at, at + size)));
      expect(messages.map((m) => Object.keys(m.headers))).toEqual([['event-type'], ['content-type'], []]);
      expect(decoder.pendingBytes).toBe(0);
    }
  });

  it('keeps a partial message until it is whole', () => {
    const decoder = new EventStreamDecoder();
    expect(decoder.push(VECTORS.payload_no_headers.subarray(0, 20))).toEqual([]);
    expect(decoder.pendingBytes).toBe(20);
    expect(decoder.push(VECTORS.payload_no_headers.subarray(20))).toHaveLength(1);
  });

  it('throws at a bad prelude instead of waiting for a length that cannot be trusted', () => {
    const bad = Buffer.from(VECTORS.payload_no_headers);
    bad.writeUInt32BE(0x7fffffff, 0);
    expect(() => new EventStreamDecoder().push(bad.subarray(0, 12))).toThrow(/prelude checksum mismatch/);
  });
});
