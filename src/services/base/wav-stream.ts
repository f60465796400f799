// A WAV file read as it streams in: the header (RIFF, `fmt `, any other chunks) is taken off and checked, the
// samples after the `data` chunk's header are handed on as they arrive. For vendors that answer speech as WAV
// (Google's LINEAR16 and MULAW, Groq's `wav`): a streamed WAV often says 0 or 0xFFFFFFFF as its data size, so the
// size is not trusted and the data runs to the end of the body.

export interface WavStreamFormat {
  /** 1 PCM, 6 A-law, 7 μ-law (the WAVE format tags). */
  readonly formatTag: number;
  readonly channels: number;
  readonly sampleRate: number;
  readonly bitsPerSample: number;
}

/** Thrown for bytes that are not a WAV file; callers turn it into their vendor's `protocol` error. */
export class WavStreamError extends Error {}

export class WavStreamReader {
  private head: Uint8Array | undefined = new Uint8Array(0);
  private parsedFormat: WavStreamFormat | undefined;

  /** The format, once the header has been read. */
  get format(): WavStreamFormat | undefined {
    return this.parsedFormat;
  }

  /** The sample bytes in `bytes` (none while the header is still incomplete). */
  push(bytes: Uint8Array): Uint8Array {
    if (this.head === undefined) return bytes;
    const joined = new Uint8Array(this.head.length + bytes.length);
    joined.set(this.head);
    joined.set(bytes, this.head.length);
    const start = this.dataStart(joined);
    if (start === undefined) {
      if (joined.length > 64 * 1024) throw new WavStreamError('no data chunk in the first 64 KiB of the WAV');
      this.head = joined;
      return new Uint8Array(0);
    }
    this.head = undefined;
    return joined.subarray(start);
  }

  /** Where the samples begin, or undefined while the header is incomplete. */
  private dataStart(bytes: Uint8Array): number | undefined {
    if (bytes.length < 12) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const tag = (at: number): string => String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
    if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new WavStreamError('not a RIFF/WAVE file');
    let at = 12;
    while (at + 8 <= bytes.length) {
      const id = tag(at);
      const size = view.getUint32(at + 4, true);
      if (id === 'data') {
        if (this.parsedFormat === undefined) throw new WavStreamError('the WAV has no fmt chunk before its data');
        return at + 8;
      }
      if (at + 8 + size > bytes.length) return undefined;
      if (id === 'fmt ' && size >= 16) {
        this.parsedFormat = {
          formatTag: view.getUint16(at + 8, true),
          channels: view.getUint16(at + 10, true),
          sampleRate: view.getUint32(at + 12, true),
          bitsPerSample: view.getUint16(at + 22, true),
        };
      }
      at += 8 + size + (size % 2);
    }
    return undefined;
  }
}
