// G.711 μ-law and A-law codecs with the exact semantics of the ITU-T G.191 reference software (STL g711.c), so that
// audio exchanged with carriers and other implementations matches bit for bit. The formulas run once at module load
// to fill lookup tables; per-sample work is then a shift, a mask and one table read.

/** Reference μ-law compression of one int16 sample (G.191 `ulaw_compress`). */
function compressMulaw(x: number): number {
  let absno = x < 0 ? (~x >> 2) + 33 : (x >> 2) + 33;
  if (absno > 0x1fff) absno = 0x1fff;
  // Segment number = 1 + bit length of (absno >> 6): 1 for values below 64, up to 8 for the top segment.
  let segno = 1;
  for (let rest = absno >> 6; rest !== 0; rest >>= 1) segno++;
  const high = 8 - segno;
  const low = 15 - ((absno >> segno) & 15);
  let code = (high << 4) | low;
  if (x >= 0) code |= 0x80;
  return code;
}

/** Reference μ-law expansion of one code (G.191 `ulaw_expand`). */
function expandMulaw(code: number): number {
  const sign = code < 0x80 ? -1 : 1;
  const inverted = ~code;
  const exponent = (inverted >> 4) & 7;
  const segment = exponent + 1;
  const mantissa = inverted & 15;
  const step = 4 << segment;
  return sign * ((0x80 << exponent) + step * mantissa + step / 2 - 4 * 33);
}

/** Reference A-law compression of one int16 sample (G.191 `alaw_compress`, 16-bit input). */
function compressAlaw(x: number): number {
  let ix = x < 0 ? ~x >> 4 : x >> 4;
  if (ix > 15) {
    let exponent = 1;
    while (ix > 16 + 15) {
      ix >>= 1;
      exponent++;
    }
    ix -= 16;
    ix += exponent << 4;
  }
  if (x >= 0) ix |= 0x80;
  return ix ^ 0x55;
}

/** Reference A-law expansion of one code (G.191 `alaw_expand`). */
function expandAlaw(code: number): number {
  const ix = (code ^ 0x55) & 0x7f;
  const exponent = ix >> 4;
  let mantissa = ix & 15;
  if (exponent > 0) mantissa += 16;
  mantissa = (mantissa << 4) + 8;
  if (exponent > 1) mantissa <<= exponent - 1;
  return code > 127 ? mantissa : -mantissa;
}

// μ-law compression only looks at x >> 2 and A-law at x >> 4 (complement commutes with an arithmetic shift), so a
// table indexed by the shifted sample covers all 65536 inputs exactly. The A-law table uses x >> 3 as specified,
// one bit more than needed, to keep both tables on the same pattern.
const MULAW_SHIFT = 2;
const MULAW_INDEX_MASK = 0x3fff;
const ALAW_SHIFT = 3;
const ALAW_INDEX_MASK = 0x1fff;

function buildEncodeTable(shift: number, indexMask: number, compress: (x: number) => number): Uint8Array {
  const size = indexMask + 1;
  const table = new Uint8Array(size);
  for (let index = 0; index < size; index++) {
    const shifted = index >= size / 2 ? index - size : index;
    table[index] = compress(shifted << shift);
  }
  return table;
}

function buildDecodeTable(expand: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let code = 0; code < 256; code++) table[code] = expand(code);
  return table;
}

const MULAW_ENCODE = buildEncodeTable(MULAW_SHIFT, MULAW_INDEX_MASK, compressMulaw);
const ALAW_ENCODE = buildEncodeTable(ALAW_SHIFT, ALAW_INDEX_MASK, compressAlaw);
const MULAW_DECODE = buildDecodeTable(expandMulaw);
const ALAW_DECODE = buildDecodeTable(expandAlaw);

function clampInt16(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

/** μ-law code of one sample; the input is truncated to an integer and clamped to the int16 range. */
export function linearToMulaw(sample: number): number {
  return MULAW_ENCODE[(clampInt16(sample) >> MULAW_SHIFT) & MULAW_INDEX_MASK]!;
}

/** Linear value of one μ-law code (only the low 8 bits of `code` are used). */
export function mulawToLinear(code: number): number {
  return MULAW_DECODE[code & 0xff]!;
}

/** A-law code of one sample; the input is truncated to an integer and clamped to the int16 range. */
export function linearToAlaw(sample: number): number {
  return ALAW_ENCODE[(clampInt16(sample) >> ALAW_SHIFT) & ALAW_INDEX_MASK]!;
}

/** Linear value of one A-law code (only the low 8 bits of `code` are used). */
export function alawToLinear(code: number): number {
  return ALAW_DECODE[code & 0xff]!;
}

function outputFor<T extends Uint8Array | Int16Array>(length: number, out: T | undefined, create: (n: number) => T): T {
  if (out === undefined) return create(length);
  if (out.length < length) {
    throw new RangeError(`output array too small: needs ${length} elements, has ${out.length}`);
  }
  return out;
}

function written<T extends Uint8Array | Int16Array>(out: T, length: number): T {
  return (out.length === length ? out : out.subarray(0, length)) as T;
}

/** Encodes PCM16 to μ-law. With `out` (at least `samples.length` long), writes there and returns the written part. */
export function pcmToMulaw(samples: Int16Array, out?: Uint8Array): Uint8Array {
  const codes = outputFor(samples.length, out, (n) => new Uint8Array(n));
  for (let i = 0; i < samples.length; i++) codes[i] = MULAW_ENCODE[(samples[i]! >> MULAW_SHIFT) & MULAW_INDEX_MASK]!;
  return written(codes, samples.length);
}

/** Decodes μ-law to PCM16. With `out` (at least `codes.length` long), writes there and returns the written part. */
export function mulawToPcm(codes: Uint8Array, out?: Int16Array): Int16Array {
  const samples = outputFor(codes.length, out, (n) => new Int16Array(n));
  for (let i = 0; i < codes.length; i++) samples[i] = MULAW_DECODE[codes[i]!]!;
  return written(samples, codes.length);
}

/** Encodes PCM16 to A-law. With `out` (at least `samples.length` long), writes there and returns the written part. */
export function pcmToAlaw(samples: Int16Array, out?: Uint8Array): Uint8Array {
  const codes = outputFor(samples.length, out, (n) => new Uint8Array(n));
  for (let i = 0; i < samples.length; i++) codes[i] = ALAW_ENCODE[(samples[i]! >> ALAW_SHIFT) & ALAW_INDEX_MASK]!;
  return written(codes, samples.length);
}

/** Decodes A-law to PCM16. With `out` (at least `codes.length` long), writes there and returns the written part. */
export function alawToPcm(codes: Uint8Array, out?: Int16Array): Int16Array {
  const samples = outputFor(codes.length, out, (n) => new Int16Array(n));
  for (let i = 0; i < codes.length; i++) samples[i] = ALAW_DECODE[codes[i]!]!;
  return written(samples, codes.length);
}
