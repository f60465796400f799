// WAV (RIFF/WAVE) reading and writing. Reading accepts what recorders, TTS engines and telephony platforms produce
// (integer PCM of any common width, float, G.711, WAVE_FORMAT_EXTENSIBLE, streamed files with unknown data size) and
// converts it to PCM16; writing always produces the plain 44-byte-header PCM16 form every tool reads.
import { readFile, writeFile } from 'node:fs/promises';
import { alawToLinear, mulawToLinear } from './g711.js';
import { int16ToBytes } from './pcm.js';

export interface WavAudio {
  sampleRate: number;
  channels: number;
  /** Interleaved PCM16 samples. */
  samples: Int16Array;
}

/** The input is not a WAV file this module can read; the message says what is wrong. */
export class WavFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WavFormatError';
  }
}

const FORMAT_PCM = 1;
const FORMAT_IEEE_FLOAT = 3;
const FORMAT_ALAW = 6;
const FORMAT_MULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;

/** Bytes 4..15 of every KSDATAFORMAT_SUBTYPE GUID that wraps a classic format code (bytes 0..3 hold the code). */
const SUBFORMAT_GUID_TAIL = [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

/** Data chunk sizes that streaming writers leave when they cannot seek back to fill in the real size. */
const UNKNOWN_SIZE = 0xffffffff;

interface WavFormat {
  formatCode: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
}

function chunkId(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
}

function parseFormat(view: DataView, bytes: Uint8Array, offset: number, size: number): WavFormat {
  if (size < 16) throw new WavFormatError(`fmt chunk too short: ${size} bytes, needs at least 16`);
  let formatCode = view.getUint16(offset, true);
  const channels = view.getUint16(offset + 2, true);
  const sampleRate = view.getUint32(offset + 4, true);
  const blockAlign = view.getUint16(offset + 12, true);
  const bitsPerSample = view.getUint16(offset + 14, true);

  if (formatCode === FORMAT_EXTENSIBLE) {
    if (size < 40) {
      throw new WavFormatError(`WAVE_FORMAT_EXTENSIBLE fmt chunk too short: ${size} bytes, needs 40`);
    }
    const guid = offset + 24;
    const tailMatches = SUBFORMAT_GUID_TAIL.every((byte, i) => bytes[guid + 4 + i] === byte);
    const subformat = view.getUint32(guid, true);
    if (!tailMatches || subformat > 0xffff) {
      throw new WavFormatError('unsupported WAVE_FORMAT_EXTENSIBLE subformat GUID');
    }
    formatCode = subformat;
  }

  if (channels === 0) throw new WavFormatError('fmt chunk declares 0 channels');
  if (sampleRate === 0) throw new WavFormatError('fmt chunk declares a sample rate of 0');
  return { formatCode, channels, sampleRate, blockAlign, bitsPerSample };
}

/** Bytes per sample the format stores, after checking the format is one this module decodes. */
function checkSampleLayout({ formatCode, channels, blockAlign, bitsPerSample }: WavFormat): number {
  let supported: boolean;
  switch (formatCode) {
    case FORMAT_PCM:
      // Widths such as 12 or 20 bits sit left-justified in a whole-byte container, so reading the container works.
      supported = bitsPerSample >= 1 && bitsPerSample <= 32;
      break;
    case FORMAT_IEEE_FLOAT:
      supported = bitsPerSample === 32 || bitsPerSample === 64;
      break;
    case FORMAT_ALAW:
    case FORMAT_MULAW:
      supported = bitsPerSample === 8;
      break;
    default:
      throw new WavFormatError(`unsupported format code ${formatCode}`);
  }
  if (!supported) {
    throw new WavFormatError(`unsupported bits per sample ${bitsPerSample} for format code ${formatCode}`);
  }
  const bytesPerSample = Math.ceil(bitsPerSample / 8);
  if (blockAlign !== channels * bytesPerSample) {
    throw new WavFormatError(
      `bad block align ${blockAlign}: ${channels} channels of ${bytesPerSample}-byte samples ` +
        `need ${channels * bytesPerSample}`,
    );
  }
  return bytesPerSample;
}

function clampToInt16(value: number): number {
  const rounded = Math.round(value * 32768);
  // NaN fails both comparisons and becomes 0 when stored in the Int16Array.
  return rounded > 32767 ? 32767 : rounded < -32768 ? -32768 : rounded;
}

function decodeSamples(
  view: DataView,
  bytes: Uint8Array,
  start: number,
  count: number,
  format: WavFormat,
  bytesPerSample: number,
): Int16Array {
  const samples = new Int16Array(count);
  const { formatCode } = format;
  if (formatCode === FORMAT_ALAW || formatCode === FORMAT_MULAW) {
    const expand = formatCode === FORMAT_ALAW ? alawToLinear : mulawToLinear;
    for (let i = 0; i < count; i++) samples[i] = expand(bytes[start + i]!);
  } else if (formatCode === FORMAT_IEEE_FLOAT) {
    if (bytesPerSample === 4) {
      for (let i = 0; i < count; i++) samples[i] = clampToInt16(view.getFloat32(start + 4 * i, true));
    } else {
      for (let i = 0; i < count; i++) samples[i] = clampToInt16(view.getFloat64(start + 8 * i, true));
    }
  } else if (bytesPerSample === 1) {
    // 8-bit WAV is unsigned with its zero at 128.
    for (let i = 0; i < count; i++) samples[i] = (bytes[start + i]! - 128) << 8;
  } else {
    // Wider integers keep their two most significant bytes (truncation, as most converters do).
    const skip = bytesPerSample - 2;
    for (let i = 0, at = start + skip; i < count; i++, at += bytesPerSample) samples[i] = view.getInt16(at, true);
  }
  return samples;
}

/** Parses a WAV file held in memory. Throws WavFormatError when it is malformed or uses an unsupported encoding. */
export function readWav(bytes: Uint8Array): WavAudio {
  if (bytes.length < 12 || chunkId(bytes, 0) !== 'RIFF') throw new WavFormatError('not a RIFF file');
  if (chunkId(bytes, 8) !== 'WAVE') throw new WavFormatError('RIFF file is not of type WAVE');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  let format: WavFormat | undefined;
  let dataStart = -1;
  let dataLength = 0;
  for (let offset = 12; offset + 8 <= bytes.length; ) {
    const id = chunkId(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (body + size > bytes.length) throw new WavFormatError('fmt chunk is truncated');
      format = parseFormat(view, bytes, body, size);
    } else if (id === 'data') {
      dataStart = body;
      const toEnd = size === 0 || size === UNKNOWN_SIZE || body + size > bytes.length;
      dataLength = toEnd ? bytes.length - body : size;
      if (toEnd) break;
    }
    // Chunks are padded to an even size; the pad byte is not counted in `size`.
    offset = body + size + (size & 1);
  }

  if (format === undefined) throw new WavFormatError('no fmt chunk');
  if (dataStart < 0) throw new WavFormatError('no data chunk');
  const bytesPerSample = checkSampleLayout(format);
  // A trailing partial frame (a truncated file) is dropped so every channel keeps the same length.
  const frames = Math.floor(dataLength / format.blockAlign);
  const samples = decodeSamples(view, bytes, dataStart, frames * format.channels, format, bytesPerSample);
  return { sampleRate: format.sampleRate, channels: format.channels, samples };
}

/** Encodes PCM16 audio as a WAV file with the canonical 44-byte header. */
export function writeWav(audio: WavAudio): Buffer {
  const { sampleRate, channels, samples } = audio;
  if (!Number.isInteger(channels) || channels < 1 || channels > 0xffff) {
    throw new RangeError(`channels must be an integer from 1 to 65535, got ${channels}`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 0xffffffff) {
    throw new RangeError(`sampleRate must be a positive integer, got ${sampleRate}`);
  }
  if (samples.length % channels !== 0) {
    throw new RangeError(`${samples.length} samples is not a whole number of ${channels}-channel frames`);
  }
  const dataBytes = samples.length * 2;
  if (dataBytes + 36 > 0xffffffff) throw new RangeError('audio too long for a WAV file (over 4 GiB)');

  const file = Buffer.alloc(44 + dataBytes);
  file.write('RIFF', 0, 'latin1');
  file.writeUInt32LE(36 + dataBytes, 4);
  file.write('WAVE', 8, 'latin1');
  file.write('fmt ', 12, 'latin1');
  file.writeUInt32LE(16, 16);
  file.writeUInt16LE(FORMAT_PCM, 20);
  file.writeUInt16LE(channels, 22);
  file.writeUInt32LE(sampleRate, 24);
  file.writeUInt32LE(sampleRate * channels * 2, 28);
  file.writeUInt16LE(channels * 2, 32);
  file.writeUInt16LE(16, 34);
  file.write('data', 36, 'latin1');
  file.writeUInt32LE(dataBytes, 40);
  file.set(int16ToBytes(samples), 44);
  return file;
}

export async function readWavFile(path: string): Promise<WavAudio> {
  return readWav(await readFile(path));
}

export async function writeWavFile(path: string, audio: WavAudio): Promise<void> {
  await writeFile(path, writeWav(audio));
}
