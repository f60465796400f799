import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WavFormatError, readWav, readWavFile, writeWav, writeWavFile } from '../../src/audio/index.js';

const hasSox = existsSync('/usr/bin/sox');

// Builders for WAV files assembled byte by byte, so each test controls every field.

function ascii(text: string): number[] {
  return Array.from(text, (ch) => ch.charCodeAt(0));
}

function u16(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff];
}

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

/** A chunk with its header; odd-sized bodies get the pad byte RIFF requires (not counted in the size). */
function chunk(id: string, body: readonly number[], declaredSize = body.length): number[] {
  return [...ascii(id), ...u32(declaredSize), ...body, ...(body.length % 2 === 1 ? [0] : [])];
}

function fmtBody(
  formatCode: number,
  channels: number,
  sampleRate: number,
  bitsPerSample: number,
  blockAlign?: number,
): number[] {
  const align = blockAlign ?? channels * Math.ceil(bitsPerSample / 8);
  const byteRate = sampleRate * align;
  return [
    ...u16(formatCode),
    ...u16(channels),
    ...u32(sampleRate),
    ...u32(byteRate),
    ...u16(align),
    ...u16(bitsPerSample),
  ];
}

const GUID_TAIL = [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

function extensibleFmtBody(
  subformat: number,
  channels: number,
  sampleRate: number,
  bitsPerSample: number,
  guidTail = GUID_TAIL,
): number[] {
  return [
    ...fmtBody(0xfffe, channels, sampleRate, bitsPerSample),
    ...u16(22), // cbSize
    ...u16(bitsPerSample), // valid bits
    ...u32(channels === 2 ? 0x3 : 0x4), // channel mask
    ...u32(subformat),
    ...guidTail,
  ];
}

function riff(chunks: readonly number[][], formType = 'WAVE'): Uint8Array {
  const body = [...ascii(formType), ...chunks.flat()];
  return Uint8Array.from([...ascii('RIFF'), ...u32(body.length), ...body]);
}

function pcm16Bytes(samples: readonly number[]): number[] {
  return samples.flatMap((s) => u16(s & 0xffff));
}

function float32Bytes(values: readonly number[]): number[] {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return Array.from(new Uint8Array(view.buffer));
}

function float64Bytes(values: readonly number[]): number[] {
  const view = new DataView(new ArrayBuffer(values.length * 8));
  values.forEach((v, i) => view.setFloat64(i * 8, v, true));
  return Array.from(new Uint8Array(view.buffer));
}

function samplesOf(bytes: Uint8Array): number[] {
  return Array.from(readWav(bytes).samples);
}

function expectWavError(bytes: Uint8Array, message: RegExp): void {
  let caught: unknown;
  try {
    readWav(bytes);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(WavFormatError);
  expect(caught).toBeInstanceOf(Error);
  expect((caught as WavFormatError).name).toBe('WavFormatError');
  expect((caught as WavFormatError).message).toMatch(message);
}

describe('writeWav / readWav round trip', () => {
  it('writes the canonical 44-byte PCM16 header and reads mono back unchanged', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234, -4321]);
    const file = writeWav({ sampleRate: 8000, channels: 1, samples });
    expect(file.length).toBe(44 + samples.length * 2);
    expect(file.toString('latin1', 0, 4)).toBe('RIFF');
    expect(file.readUInt32LE(4)).toBe(36 + samples.length * 2);
    expect(file.toString('latin1', 8, 16)).toBe('WAVEfmt ');
    expect(file.readUInt32LE(16)).toBe(16);
    expect(file.readUInt16LE(20)).toBe(1); // PCM
    expect(file.readUInt16LE(22)).toBe(1); // channels
    expect(file.readUInt32LE(24)).toBe(8000);
    expect(file.readUInt32LE(28)).toBe(16000); // byte rate
    expect(file.readUInt16LE(32)).toBe(2); // block align
    expect(file.readUInt16LE(34)).toBe(16);
    expect(file.toString('latin1', 36, 40)).toBe('data');
    expect(file.readUInt32LE(40)).toBe(samples.length * 2);
    expect(file.readInt16LE(44 + 2 * 3)).toBe(32767);

    const read = readWav(file);
    expect(read.sampleRate).toBe(8000);
    expect(read.channels).toBe(1);
    expect(Array.from(read.samples)).toEqual(Array.from(samples));
  });

  it('round-trips interleaved stereo', () => {
    const samples = Int16Array.from([100, -100, 200, -200, 300, -300]);
    const file = writeWav({ sampleRate: 48000, channels: 2, samples });
    expect(file.readUInt16LE(22)).toBe(2);
    expect(file.readUInt32LE(28)).toBe(48000 * 4);
    expect(file.readUInt16LE(32)).toBe(4);
    const read = readWav(file);
    expect(read).toMatchObject({ sampleRate: 48000, channels: 2 });
    expect(Array.from(read.samples)).toEqual(Array.from(samples));
  });

  it('reads a file held in a Buffer slice at an odd byte offset', () => {
    const file = writeWav({ sampleRate: 16000, channels: 1, samples: Int16Array.from([5, -6, 7]) });
    const padded = Buffer.alloc(file.length + 3);
    file.copy(padded, 1);
    expect(samplesOf(padded.subarray(1, 1 + file.length))).toEqual([5, -6, 7]);
  });

  it('rejects audio that cannot be written', () => {
    expect(() => writeWav({ sampleRate: 8000, channels: 2, samples: new Int16Array(3) })).toThrow(RangeError);
    expect(() => writeWav({ sampleRate: 0, channels: 1, samples: new Int16Array(2) })).toThrow(RangeError);
    expect(() => writeWav({ sampleRate: 8000, channels: 0, samples: new Int16Array(2) })).toThrow(RangeError);
  });

  it('writes and reads files on disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'piopiy-wav-'));
    try {
      const path = join(dir, 'tone.wav');
      const samples = Int16Array.from({ length: 800 }, (_, i) => Math.round(10000 * Math.sin(i / 5)));
      await writeWavFile(path, { sampleRate: 8000, channels: 1, samples });
      expect((await readFile(path)).length).toBe(44 + 1600);
      const read = await readWavFile(path);
      expect(read.sampleRate).toBe(8000);
      expect(Array.from(read.samples)).toEqual(Array.from(samples));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasSox)('writes files sox reads with the right rate, channels, length (needs /usr/bin/sox)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'piopiy-wav-'));
    try {
      const path = join(dir, 'stereo.wav');
      // 0.5 s of stereo at 16 kHz.
      await writeWavFile(path, { sampleRate: 16000, channels: 2, samples: new Int16Array(16000) });
      const info = (flag: string): string => {
        const result = spawnSync('/usr/bin/sox', ['--i', flag, path], { encoding: 'utf8' });
        expect(result.status, result.stderr).toBe(0);
        return result.stdout.trim();
      };
      expect(info('-r')).toBe('16000');
      expect(info('-c')).toBe('2');
      expect(Number(info('-D'))).toBeCloseTo(0.5, 6);
      expect(info('-s')).toBe('8000'); // samples per channel
      expect(info('-b')).toBe('16');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasSox)('reads 24-bit, float and 8-bit files sox converts ours to (needs /usr/bin/sox)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'piopiy-wav-'));
    try {
      const source = join(dir, 'source.wav');
      const samples = Int16Array.from({ length: 2000 }, (_, i) => Math.round(20000 * Math.sin(i / 7)));
      await writeWavFile(source, { sampleRate: 16000, channels: 2, samples });
      const convert = (name: string, args: string[]): string => {
        const target = join(dir, name);
        const result = spawnSync('/usr/bin/sox', [source, ...args, target], { encoding: 'utf8' });
        expect(result.status, result.stderr).toBe(0);
        return target;
      };
      // Widening is exact, so 24-bit and float come back sample for sample (sox writes 24-bit as EXTENSIBLE).
      for (const [name, args] of [
        ['s24.wav', ['-b', '24']],
        ['f32.wav', ['-e', 'floating-point', '-b', '32']],
      ] as const) {
        const read = await readWavFile(convert(name, [...args]));
        expect(read).toMatchObject({ sampleRate: 16000, channels: 2 });
        expect(Array.from(read.samples), name).toEqual(Array.from(samples));
      }
      // 8-bit keeps the top byte (sox rounds, so allow one step of 256).
      const u8 = await readWavFile(convert('u8.wav', ['-b', '8', '-D']));
      expect(u8.samples.length).toBe(samples.length);
      for (let i = 0; i < samples.length; i++) expect(Math.abs(u8.samples[i]! - samples[i]!)).toBeLessThanOrEqual(256);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('readWav: encodings', () => {
  it('converts unsigned 8-bit PCM', () => {
    const file = riff([chunk('fmt ', fmtBody(1, 1, 8000, 8)), chunk('data', [0, 128, 255, 1])]);
    expect(samplesOf(file)).toEqual([-32768, 0, 32512, -32512]);
  });

  it('keeps the top 16 bits of 24-bit PCM', () => {
    const data = [
      [0x56, 0x34, 0x12], // 0x123456 -> 0x1234
      [0x00, 0x00, 0x80], // most negative
      [0xff, 0xff, 0x7f], // most positive
      [0xff, 0xff, 0xff], // -1 -> -1 (truncation toward −∞)
      [0x00, 0x01, 0x00], // 256 -> 1
    ].flat();
    const file = riff([chunk('fmt ', fmtBody(1, 1, 48000, 24)), chunk('data', data)]);
    expect(samplesOf(file)).toEqual([0x1234, -32768, 32767, -1, 1]);
  });

  it('keeps the top 16 bits of 32-bit PCM', () => {
    const data = [...u32(0x7fffffff), ...u32(0x80000000), ...u32(0x00010000), ...u32(0xfffe0000)];
    const file = riff([chunk('fmt ', fmtBody(1, 1, 44100, 32)), chunk('data', data)]);
    expect(samplesOf(file)).toEqual([32767, -32768, 1, -2]);
  });

  it('scales, rounds and clamps 32-bit float, turning NaN into 0', () => {
    const file = riff([
      chunk('fmt ', fmtBody(3, 1, 24000, 32)),
      chunk('data', float32Bytes([0, 0.5, -0.5, -1, 1, 2, -3, 1 / 65536, Number.NaN])),
    ]);
    expect(samplesOf(file)).toEqual([0, 16384, -16384, -32768, 32767, 32767, -32768, 1, 0]);
  });

  it('reads 64-bit float', () => {
    const data = float64Bytes([0.25, -0.25, 0.999, -0.999]);
    const file = riff([chunk('fmt ', fmtBody(3, 2, 22050, 64)), chunk('data', data)]);
    const read = readWav(file);
    expect(read.channels).toBe(2);
    expect(Array.from(read.samples)).toEqual([8192, -8192, 32735, -32735]);
  });

  it('decodes A-law and μ-law with the G.711 expanders', () => {
    const alaw = riff([chunk('fmt ', fmtBody(6, 1, 8000, 8)), chunk('data', [0x55, 0xd5, 0x2a, 0xaa])]);
    expect(samplesOf(alaw)).toEqual([-8, 8, -32256, 32256]);
    const mulaw = riff([chunk('fmt ', fmtBody(7, 1, 8000, 8)), chunk('data', [0x00, 0x80, 0xff, 0x7f])]);
    expect(samplesOf(mulaw)).toEqual([-32124, 32124, 0, 0]);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE with PCM, float and μ-law subformats', () => {
    const pcmData = pcm16Bytes([1, -2, 300, -400]);
    const pcm = riff([chunk('fmt ', extensibleFmtBody(1, 2, 16000, 16)), chunk('data', pcmData)]);
    expect(readWav(pcm)).toMatchObject({ sampleRate: 16000, channels: 2 });
    expect(samplesOf(pcm)).toEqual([1, -2, 300, -400]);
    const float = riff([chunk('fmt ', extensibleFmtBody(3, 1, 48000, 32)), chunk('data', float32Bytes([0.5, -0.25]))]);
    expect(samplesOf(float)).toEqual([16384, -8192]);
    const mulaw = riff([chunk('fmt ', extensibleFmtBody(7, 1, 8000, 8)), chunk('data', [0x80])]);
    expect(samplesOf(mulaw)).toEqual([32124]);
  });
});

describe('readWav: chunk layout', () => {
  it('skips unknown chunks (LIST, fact) before and after fmt, honouring the pad byte of odd-sized ones', () => {
    const list = chunk('LIST', [...ascii('INFOISFT'), ...u32(3), ...ascii('ab'), 0]); // 15 bytes: odd, padded
    expect(list.length).toBe(8 + 16);
    const file = riff([
      list,
      chunk('fmt ', fmtBody(1, 1, 8000, 16)),
      chunk('fact', u32(3)),
      chunk('data', pcm16Bytes([7, 8, 9])),
    ]);
    expect(samplesOf(file)).toEqual([7, 8, 9]);
  });

  it('reads data that comes before fmt, and ignores chunks after data', () => {
    const file = riff([
      chunk('data', pcm16Bytes([1, 2])),
      chunk('fmt ', fmtBody(1, 1, 8000, 16)),
      chunk('LIST', ascii('INFO')),
    ]);
    expect(samplesOf(file)).toEqual([1, 2]);
  });

  it('reads an odd-sized 8-bit data chunk followed by its pad byte and another chunk', () => {
    const file = riff([
      chunk('fmt ', fmtBody(1, 1, 8000, 8)),
      chunk('data', [128, 129, 127]),
      chunk('LIST', ascii('INFO')),
    ]);
    expect(samplesOf(file)).toEqual([0, 256, -256]);
  });

  it('treats a data size of 0, 0xFFFFFFFF or past the end of the file as "to end of file"', () => {
    for (const declaredSize of [0, 0xffffffff, 1000]) {
      const data = chunk('data', pcm16Bytes([10, 20, 30]), declaredSize);
      const file = riff([chunk('fmt ', fmtBody(1, 1, 8000, 16)), data]);
      expect(samplesOf(file), `declared ${declaredSize}`).toEqual([10, 20, 30]);
    }
  });

  it('drops a trailing partial frame', () => {
    const file = riff([chunk('fmt ', fmtBody(1, 2, 8000, 16)), chunk('data', [...pcm16Bytes([1, 2, 3]), 0], 7)]);
    expect(samplesOf(file)).toEqual([1, 2]);
  });
});

describe('readWav: malformed input raises WavFormatError saying what is wrong', () => {
  const fmt = chunk('fmt ', fmtBody(1, 1, 8000, 16));
  const data = chunk('data', pcm16Bytes([1, 2]));

  it('not RIFF', () => {
    expectWavError(Uint8Array.from(ascii('RIFX....WAVE')), /not a RIFF file/);
    expectWavError(new Uint8Array(4), /not a RIFF file/);
  });

  it('not WAVE', () => {
    expectWavError(riff([fmt, data], 'AVI '), /not of type WAVE/);
  });

  it('no fmt chunk', () => {
    expectWavError(riff([data]), /no fmt chunk/);
  });

  it('no data chunk', () => {
    expectWavError(riff([fmt, chunk('LIST', ascii('INFO'))]), /no data chunk/);
  });

  it('unsupported format code', () => {
    expectWavError(riff([chunk('fmt ', fmtBody(2, 1, 8000, 4, 256)), data]), /unsupported format code 2\b/);
    expectWavError(riff([chunk('fmt ', fmtBody(0x55, 1, 8000, 16)), data]), /unsupported format code 85\b/);
  });

  it('unsupported bits per sample', () => {
    expectWavError(riff([chunk('fmt ', fmtBody(3, 1, 8000, 16)), data]), /bits per sample 16 for format code 3/);
    expectWavError(riff([chunk('fmt ', fmtBody(7, 1, 8000, 16)), data]), /bits per sample 16 for format code 7/);
    expectWavError(riff([chunk('fmt ', fmtBody(1, 1, 8000, 0, 2)), data]), /bits per sample 0/);
  });

  it('bad block align', () => {
    expectWavError(riff([chunk('fmt ', fmtBody(1, 2, 8000, 16, 2)), data]), /bad block align 2/);
    expectWavError(riff([chunk('fmt ', fmtBody(1, 1, 8000, 16, 0)), data]), /bad block align 0/);
  });

  it('fmt chunk too short or truncated', () => {
    expectWavError(riff([chunk('fmt ', fmtBody(1, 1, 8000, 16).slice(0, 14)), data]), /fmt chunk too short: 14 bytes/);
    const truncated = riff([chunk('fmt ', fmtBody(1, 1, 8000, 16))]).subarray(0, 12 + 8 + 10);
    expectWavError(truncated, /fmt chunk is truncated/);
  });

  it('zero channels or sample rate', () => {
    expectWavError(riff([chunk('fmt ', fmtBody(1, 0, 8000, 16, 0)), data]), /0 channels/);
    expectWavError(riff([chunk('fmt ', fmtBody(1, 1, 0, 16)), data]), /sample rate of 0/);
  });

  it('WAVE_FORMAT_EXTENSIBLE with a short extension or a foreign GUID', () => {
    const shortExtension = extensibleFmtBody(1, 1, 8000, 16).slice(0, 26);
    expectWavError(riff([chunk('fmt ', shortExtension), data]), /EXTENSIBLE fmt chunk too short/);
    const foreign = [...GUID_TAIL];
    foreign[11] = 0x72;
    expectWavError(riff([chunk('fmt ', extensibleFmtBody(1, 1, 8000, 16, foreign)), data]), /subformat GUID/);
    expectWavError(riff([chunk('fmt ', extensibleFmtBody(2, 1, 8000, 16)), data]), /unsupported format code 2\b/);
  });
});
