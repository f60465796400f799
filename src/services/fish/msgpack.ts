// The subset of MessagePack (https://github.com/msgpack/msgpack/blob/master/spec.md) Fish Audio's live socket uses:
// maps with string keys, strings, binary, numbers, booleans, nil and arrays. Written here rather than taken from a
// package because this is all of it, and no MessagePack package is among the project's dependencies. Extension
// types (timestamps among them) are refused: neither side of Fish's protocol sends them.

/** A value this subset carries. */
export type PackValue = null | boolean | number | string | Uint8Array | readonly PackValue[] | { readonly [key: string]: PackValue | undefined };

class Writer {
  private buffer = Buffer.allocUnsafe(256);
  private length = 0;

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  byte(value: number): void {
    this.room(1);
    this.buffer[this.length++] = value;
  }

  /** A type byte then an unsigned big-endian length of 1, 2 or 4 bytes. */
  head(type: number, size: 1 | 2 | 4, value: number): void {
    this.room(1 + size);
    this.buffer[this.length++] = type;
    this.buffer.writeUIntBE(value, this.length, size);
    this.length += size;
  }

  bytes(data: Uint8Array): void {
    this.room(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  float64(value: number): void {
    this.room(9);
    this.buffer[this.length++] = 0xcb;
    this.buffer.writeDoubleBE(value, this.length);
    this.length += 8;
  }

  int64(type: 0xcf | 0xd3, value: number): void {
    this.room(9);
    this.buffer[this.length++] = type;
    if (type === 0xcf) this.buffer.writeBigUInt64BE(BigInt(value), this.length);
    else this.buffer.writeBigInt64BE(BigInt(value), this.length);
    this.length += 8;
  }

  done(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

function sized(w: Writer, length: number, fix: number | undefined, fixMax: number, types: readonly [number, number, number]): void {
  if (fix !== undefined && length <= fixMax) w.byte(fix | length);
  else if (length <= 0xff && types[0] !== 0) w.head(types[0], 1, length);
  else if (length <= 0xffff) w.head(types[1], 2, length);
  else w.head(types[2], 4, length);
}

function write(w: Writer, value: PackValue | undefined): void {
  if (value === null || value === undefined) return w.byte(0xc0);
  if (typeof value === 'boolean') return w.byte(value ? 0xc3 : 0xc2);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) return w.float64(value);
    if (value >= 0) {
      if (value < 0x80) return w.byte(value);
      if (value <= 0xff) return w.head(0xcc, 1, value);
      if (value <= 0xffff) return w.head(0xcd, 2, value);
      if (value <= 0xffffffff) return w.head(0xce, 4, value);
      return w.int64(0xcf, value);
    }
    if (value >= -32) return w.byte(value & 0xff);
    return w.int64(0xd3, value);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    sized(w, bytes.length, 0xa0, 31, [0xd9, 0xda, 0xdb]);
    return w.bytes(bytes);
  }
  if (value instanceof Uint8Array) {
    sized(w, value.length, undefined, 0, [0xc4, 0xc5, 0xc6]);
    return w.bytes(value);
  }
  if (Array.isArray(value)) {
    const items = value as readonly PackValue[];
    sized(w, items.length, 0x90, 15, [0, 0xdc, 0xdd]);
    for (const item of items) write(w, item);
    return;
  }
  // A key whose value is undefined is left out, as JSON.stringify does.
  const entries = Object.entries(value as Record<string, PackValue | undefined>).filter(([, v]) => v !== undefined);
  sized(w, entries.length, 0x80, 15, [0, 0xde, 0xdf]);
  for (const [key, item] of entries) {
    write(w, key);
    write(w, item);
  }
}

/** `value` as MessagePack bytes. */
export function packMessage(value: PackValue): Buffer {
  const w = new Writer();
  write(w, value);
  return w.done();
}

class Reader {
  offset = 0;
  constructor(private readonly data: Buffer) {}

  private need(bytes: number): void {
    if (this.offset + bytes > this.data.length) throw new RangeError('MessagePack: truncated data');
  }

  uint(size: 1 | 2 | 4): number {
    this.need(size);
    const value = this.data.readUIntBE(this.offset, size);
    this.offset += size;
    return value;
  }

  take(length: number): Buffer {
    this.need(length);
    const bytes = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return bytes;
  }

  value(): PackValue {
    const type = this.uint(1);
    if (type < 0x80) return type;
    if (type >= 0xe0) return type - 0x100;
    if (type >= 0x80 && type <= 0x8f) return this.map(type & 0x0f);
    if (type >= 0x90 && type <= 0x9f) return this.array(type & 0x0f);
    if (type >= 0xa0 && type <= 0xbf) return this.take(type & 0x1f).toString('utf8');
    switch (type) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return new Uint8Array(this.take(this.uint(1)));
      case 0xc5: return new Uint8Array(this.take(this.uint(2)));
      case 0xc6: return new Uint8Array(this.take(this.uint(4)));
      case 0xca: return this.take(4).readFloatBE(0);
      case 0xcb: return this.take(8).readDoubleBE(0);
      case 0xcc: return this.uint(1);
      case 0xcd: return this.uint(2);
      case 0xce: return this.uint(4);
      case 0xcf: return Number(this.take(8).readBigUInt64BE(0));
      case 0xd0: return this.take(1).readInt8(0);
      case 0xd1: return this.take(2).readInt16BE(0);
      case 0xd2: return this.take(4).readInt32BE(0);
      case 0xd3: return Number(this.take(8).readBigInt64BE(0));
      case 0xd9: return this.take(this.uint(1)).toString('utf8');
      case 0xda: return this.take(this.uint(2)).toString('utf8');
      case 0xdb: return this.take(this.uint(4)).toString('utf8');
      case 0xdc: return this.array(this.uint(2));
      case 0xdd: return this.array(this.uint(4));
      case 0xde: return this.map(this.uint(2));
      case 0xdf: return this.map(this.uint(4));
      default:
        throw new RangeError(`MessagePack: type 0x${type.toString(16)} is not supported`);
    }
  }

  private array(length: number): PackValue[] {
    const items: PackValue[] = [];
    for (let i = 0; i < length; i++) items.push(this.value());
    return items;
  }

  private map(length: number): Record<string, PackValue> {
    const out: Record<string, PackValue> = {};
    for (let i = 0; i < length; i++) {
      const key = this.value();
      if (typeof key !== 'string' && typeof key !== 'number') throw new RangeError('MessagePack: map keys must be strings or numbers');
      Object.defineProperty(out, String(key), { value: this.value(), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}

/** The one value `data` encodes; throws a RangeError on malformed, truncated or trailing bytes. */
export function unpackMessage(data: Uint8Array): PackValue {
  const reader = new Reader(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  const value = reader.value();
  if (reader.offset !== data.length) throw new RangeError('MessagePack: trailing bytes after the message');
  return value;
}
