import alawmulaw from 'alawmulaw';
import { describe, expect, it } from 'vitest';
import {
  alawToLinear,
  alawToPcm,
  linearToAlaw,
  linearToMulaw,
  mulawToLinear,
  mulawToPcm,
  pcmToAlaw,
  pcmToMulaw,
} from '../../src/audio/index.js';

// Reference G.191 (STL g711.c) formulas, written out per sample with plain arithmetic and no tables, to check the
// table-driven production code against.

function referenceMulawCompress(x: number): number {
  // G.191 takes the one's complement of negative inputs: ~x = −x − 1.
  const magnitude = x < 0 ? -x - 1 : x;
  const absno = Math.min(Math.floor(magnitude / 4) + 33, 0x1fff);
  let segno = 1;
  let rest = Math.floor(absno / 64);
  while (rest > 0) {
    segno += 1;
    rest = Math.floor(rest / 2);
  }
  const high = 8 - segno;
  const low = 15 - (Math.floor(absno / 2 ** segno) % 16);
  return high * 16 + low + (x >= 0 ? 0x80 : 0);
}

function referenceMulawExpand(code: number): number {
  const sign = code < 0x80 ? -1 : 1;
  const inverted = 255 - code;
  const exponent = Math.floor(inverted / 16) % 8;
  const mantissa = inverted % 16;
  const step = 4 * 2 ** (exponent + 1);
  // + 0 turns −0 (code 0x7F) into the integer 0 the C code returns.
  return sign * (128 * 2 ** exponent + step * mantissa + step / 2 - 4 * 33) + 0;
}

function referenceAlawCompress(x: number): number {
  let ix = x < 0 ? Math.floor((-x - 1) / 16) : Math.floor(x / 16);
  if (ix > 15) {
    let exponent = 1;
    while (ix > 16 + 15) {
      ix = Math.floor(ix / 2);
      exponent += 1;
    }
    ix = ix - 16 + exponent * 16;
  }
  if (x >= 0) ix += 0x80;
  return ix ^ 0x55;
}

function referenceAlawExpand(code: number): number {
  const ix = (code ^ 0x55) % 128;
  const exponent = Math.floor(ix / 16);
  let mantissa = ix % 16;
  if (exponent > 0) mantissa += 16;
  mantissa = mantissa * 16 + 8;
  if (exponent > 1) mantissa *= 2 ** (exponent - 1);
  return code > 127 ? mantissa : -mantissa;
}

const ALL_CODES = Uint8Array.from({ length: 256 }, (_, code) => code);
const ALL_SAMPLES = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);

describe('G.711 μ-law', () => {
  it('decodes all 256 codes as the G.191 expand formula does', () => {
    const decoded = mulawToPcm(ALL_CODES);
    for (let code = 0; code < 256; code++) {
      expect(decoded[code], `code 0x${code.toString(16)}`).toBe(referenceMulawExpand(code));
      expect(mulawToLinear(code)).toBe(referenceMulawExpand(code));
    }
  });

  it('decodes the extreme and zero codes to the known G.191 values', () => {
    expect(mulawToLinear(0x00)).toBe(-32124);
    expect(mulawToLinear(0x80)).toBe(32124);
    expect(mulawToLinear(0xff)).toBe(0);
    expect(mulawToLinear(0x7f)).toBe(0);
  });

  it('encodes all 65536 int16 inputs as the G.191 compress formula does', () => {
    const encoded = pcmToMulaw(ALL_SAMPLES);
    let mismatches = 0;
    for (let i = 0; i < ALL_SAMPLES.length; i++) {
      const x = ALL_SAMPLES[i]!;
      const expected = referenceMulawCompress(x);
      if (encoded[i] !== expected || linearToMulaw(x) !== expected) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(linearToMulaw(0)).toBe(0xff);
    expect(linearToMulaw(-1)).toBe(0x7f);
    expect(linearToMulaw(32767)).toBe(0x80);
    expect(linearToMulaw(-32768)).toBe(0x00);
  });

  it('round-trips every code except 0x7F, whose negative zero decodes to 0 and re-encodes as 0xFF', () => {
    for (let code = 0; code < 256; code++) {
      if (code === 0x7f) continue;
      expect(linearToMulaw(mulawToLinear(code)), `code 0x${code.toString(16)}`).toBe(code);
    }
    expect(mulawToLinear(0x7f)).toBe(0);
    expect(linearToMulaw(mulawToLinear(0x7f))).toBe(0xff);
  });

  it('decodes like the alawmulaw package for all 256 codes', () => {
    // alawmulaw's encoders are not G.191: they negate negative inputs (−x) where G.191 takes the one's complement
    // (~x = −x − 1), so they differ at 127 negative decision boundaries (μ-law −4, −12, …; A-law −16, −32, …), and
    // its μ-law encodeSample(−32768) returns −256 instead of a byte. Its decoders agree with G.191 exactly.
    expect(Array.from(mulawToPcm(ALL_CODES))).toEqual(Array.from(alawmulaw.mulaw.decode(ALL_CODES)));
  });
});

describe('G.711 A-law', () => {
  it('decodes all 256 codes as the G.191 expand formula does', () => {
    const decoded = alawToPcm(ALL_CODES);
    for (let code = 0; code < 256; code++) {
      expect(decoded[code], `code 0x${code.toString(16)}`).toBe(referenceAlawExpand(code));
      expect(alawToLinear(code)).toBe(referenceAlawExpand(code));
    }
  });

  it('decodes the smallest and largest codes to the known G.191 values', () => {
    expect(alawToLinear(0x55)).toBe(-8);
    expect(alawToLinear(0xd5)).toBe(8);
    expect(alawToLinear(0x2a)).toBe(-32256);
    expect(alawToLinear(0xaa)).toBe(32256);
  });

  it('encodes all 65536 int16 inputs as the G.191 compress formula does', () => {
    const encoded = pcmToAlaw(ALL_SAMPLES);
    let mismatches = 0;
    for (let i = 0; i < ALL_SAMPLES.length; i++) {
      const x = ALL_SAMPLES[i]!;
      const expected = referenceAlawCompress(x);
      if (encoded[i] !== expected || linearToAlaw(x) !== expected) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(linearToAlaw(-1)).toBe(0x55);
    expect(linearToAlaw(32767)).toBe(0xaa);
    expect(linearToAlaw(-32768)).toBe(0x2a);
  });

  it('round-trips all 256 codes', () => {
    for (let code = 0; code < 256; code++) {
      expect(linearToAlaw(alawToLinear(code)), `code 0x${code.toString(16)}`).toBe(code);
    }
  });

  it('decodes like the alawmulaw package for all 256 codes', () => {
    expect(Array.from(alawToPcm(ALL_CODES))).toEqual(Array.from(alawmulaw.alaw.decode(ALL_CODES)));
  });
});

describe('G.711 output buffers', () => {
  const samples = Int16Array.from([0, 1000, -1000, 32767, -32768]);

  it('writes into a larger out buffer and returns the written part, sharing its memory', () => {
    for (const encode of [pcmToMulaw, pcmToAlaw]) {
      const out = new Uint8Array(8).fill(0x33);
      const codes = encode(samples, out);
      expect(codes.length).toBe(samples.length);
      expect(codes.buffer).toBe(out.buffer);
      expect(Array.from(codes)).toEqual(Array.from(encode(samples)));
      expect(out[5]).toBe(0x33);
    }
    for (const decode of [mulawToPcm, alawToPcm]) {
      const codes = Uint8Array.from([0x00, 0x55, 0x80, 0xff]);
      const out = new Int16Array(6).fill(77);
      const decoded = decode(codes, out);
      expect(decoded.length).toBe(codes.length);
      expect(decoded.buffer).toBe(out.buffer);
      expect(Array.from(decoded)).toEqual(Array.from(decode(codes)));
      expect(out[4]).toBe(77);
    }
  });

  it('returns the out buffer itself when it has exactly the needed length', () => {
    const out = new Uint8Array(samples.length);
    expect(pcmToMulaw(samples, out)).toBe(out);
  });

  it('throws a RangeError when out is too small', () => {
    expect(() => pcmToMulaw(samples, new Uint8Array(4))).toThrow(RangeError);
    expect(() => pcmToAlaw(samples, new Uint8Array(4))).toThrow(RangeError);
    expect(() => mulawToPcm(new Uint8Array(3), new Int16Array(2))).toThrow(RangeError);
    expect(() => alawToPcm(new Uint8Array(3), new Int16Array(2))).toThrow(/needs 3/);
  });

  it('clamps and truncates out-of-range scalar inputs', () => {
    expect(linearToMulaw(40000)).toBe(linearToMulaw(32767));
    expect(linearToMulaw(-40000)).toBe(linearToMulaw(-32768));
    expect(linearToAlaw(100.9)).toBe(linearToAlaw(100));
  });
});
