// EspeakTTSService: offline text-to-speech with the espeak-ng program. espeak-ng is GPL, so it is only ever run
// as a separate process (never linked or bundled): Debian's `espeak-ng` package, or any binary at `binaryPath`.
//
// Each sentence is one run of `espeak-ng --stdout --stdin`: the text goes in on stdin (so text starting with '-'
// is never taken for an option), a streamed WAV comes out on stdout (its size fields are placeholders, as espeak
// cannot seek back to fill them in). Audio is passed on as it arrives, resampled from espeak's 22050 Hz to the
// requested rate, in 40 ms chunks; an interruption kills the process.
import { spawn } from 'node:child_process';
import { AudioChunker, StreamingResampler, bytesToInt16 } from '../../../audio/index.js';
import { ServiceError, TTSService, type SynthesizeOptions, type TTSChunk } from '../../base/index.js';

export interface EspeakTTSServiceOptions {
  /** An espeak-ng voice (`espeak-ng --voices` lists them). Default 'en-us'. */
  voice?: string;
  /** Speed in words per minute. Default 175. */
  rate?: number;
  /** 0 to 99; espeak's default is 50. */
  pitch?: number;
  /** Rate of the audio this service outputs; espeak speaks at 22050 Hz and is resampled. Default 16000. */
  sampleRate?: number;
  /** Default 'espeak-ng' (looked up on PATH). */
  binaryPath?: string;
  name?: string;
}

const CHUNK_MS = 40;
/** Enough of espeak's error output to explain a failure. */
const MAX_STDERR_CHARS = 2000;
const APT_HINT = 'install it with: apt-get install espeak-ng';

/** The parts of a streamed WAV header needed to read the samples after it. */
interface StreamFormat {
  sampleRate: number;
  /** Offset of the first sample byte in the stream. */
  dataStart: number;
}

function ascii(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
}

/**
 * Reads the header at the start of a streamed WAV: undefined while more bytes are needed. Only mono PCM16 (what
 * espeak-ng writes) is accepted; the data chunk's declared size is ignored, as streaming writers leave a dummy.
 */
function parseStreamHeader(bytes: Uint8Array): StreamFormat | undefined {
  if (bytes.length < 12) return undefined;
  if (ascii(bytes, 0) !== 'RIFF' || ascii(bytes, 8) !== 'WAVE') throw new Error('output is not a WAV stream');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let sampleRate: number | undefined;
  for (let offset = 12; offset + 8 <= bytes.length; ) {
    const id = ascii(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'data') {
      if (sampleRate === undefined) throw new Error('WAV stream has no fmt chunk before its data');
      return { sampleRate, dataStart: body };
    }
    if (body + size > bytes.length) return undefined;
    if (id === 'fmt ') {
      const format = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const bits = view.getUint16(body + 14, true);
      if (format !== 1 || channels !== 1 || bits !== 16) {
        throw new Error(`unexpected WAV format (code ${format}, ${channels} channels, ${bits} bits); expected mono PCM16`);
      }
      sampleRate = view.getUint32(body + 4, true);
    }
    offset = body + size + (size % 2);
  }
  return undefined;
}

function checkNumber(name: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`espeak: ${name} must be a number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

export class EspeakTTSService extends TTSService {
  readonly voice: string;
  readonly rate: number;
  readonly pitch: number | undefined;
  readonly binaryPath: string;

  constructor(options: EspeakTTSServiceOptions = {}) {
    const sampleRate = options.sampleRate ?? 16000;
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
      throw new RangeError(`espeak: sampleRate must be a positive integer, got ${String(sampleRate)}`);
    }
    const voice = options.voice ?? 'en-us';
    super({ name: options.name, sampleRate, model: `espeak-ng-${voice}` });
    this.voice = voice;
    this.rate = Math.round(checkNumber('rate', options.rate ?? 175, 1, 1000));
    this.pitch = options.pitch === undefined ? undefined : Math.round(checkNumber('pitch', options.pitch, 0, 99));
    this.binaryPath = options.binaryPath ?? 'espeak-ng';
  }

  /** The command-line arguments of one synthesis. */
  private arguments(): string[] {
    const args = ['--stdout', '--stdin', '-b', '1', '-v', this.voice, '-s', String(this.rate)];
    if (this.pitch !== undefined) args.push('-p', String(this.pitch));
    return args;
  }

  override async *synthesize(text: string, { signal }: SynthesizeOptions): AsyncIterable<TTSChunk> {
    if (text.trim() === '' || signal.aborted) return;
    const child = spawn(this.binaryPath, this.arguments(), { stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, error }));
      child.once('close', (code) => resolve({ code }));
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (data: string) => {
      if (stderr.length < MAX_STDERR_CHARS) stderr += data;
    });
    // A process that dies early closes its stdin: the write error is reported through the exit code instead.
    child.stdin.on('error', () => {});
    child.stdin.end(text, 'utf8');
    const kill = (): void => {
      child.kill('SIGKILL');
    };
    signal.addEventListener('abort', kill, { once: true });

    const chunker = new AudioChunker({ sampleRate: this.sampleRate, frameMs: CHUNK_MS });
    let resampler: StreamingResampler | undefined;
    let header: Buffer | undefined = Buffer.alloc(0);
    /** An odd byte left at the end of a read, completing the next read's first sample. */
    let carry: Buffer | undefined;
    const ready: Int16Array[] = [];
    const collect = (frame: Int16Array): void => {
      ready.push(frame);
    };
    try {
      try {
        for await (const data of child.stdout as AsyncIterable<Buffer>) {
          if (signal.aborted) return;
          let bytes = data;
          if (header !== undefined) {
            header = Buffer.concat([header, bytes]);
            let format: StreamFormat | undefined;
            try {
              format = parseStreamHeader(header);
            } catch (error) {
              throw this.failure(error instanceof Error ? error.message : String(error), error);
            }
            if (format === undefined) continue;
            resampler = new StreamingResampler({ inputRate: format.sampleRate, outputRate: this.sampleRate });
            bytes = header.subarray(format.dataStart);
            header = undefined;
          }
          if (carry !== undefined) {
            bytes = Buffer.concat([carry, bytes]);
            carry = undefined;
          }
          if (bytes.length % 2 !== 0) {
            carry = bytes.subarray(bytes.length - 1);
            bytes = bytes.subarray(0, bytes.length - 1);
          }
          chunker.push(resampler!.process(bytesToInt16(bytes)), collect);
          for (let frame = ready.shift(); frame !== undefined; frame = ready.shift()) {
            yield { type: 'audio', audio: frame };
            if (signal.aborted) return;
          }
        }
      } catch (error) {
        // A read error on a process that failed to start or was killed: the exit status below says which.
        if (signal.aborted) return;
        if (error instanceof ServiceError) throw error;
        const { error: spawnError } = await exited;
        if (spawnError === undefined) throw this.failure(`reading its output failed: ${String(error)}`, error);
      }
      const { code, error } = await exited;
      if (signal.aborted) return;
      if (error !== undefined) throw this.startFailure(error);
      if (code !== 0) {
        throw this.failure(`exited with code ${String(code)}${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`);
      }
      if (resampler === undefined) throw this.failure('wrote no WAV audio');
      chunker.push(resampler.flush(), collect);
      chunker.flush(collect, { pad: false });
      for (const frame of ready.splice(0)) {
        if (signal.aborted) return;
        yield { type: 'audio', audio: frame };
      }
    } finally {
      signal.removeEventListener('abort', kill);
      // Also reached when the consumer stops iterating early: the process must not outlive its synthesis.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }

  private failure(message: string, cause?: unknown): ServiceError {
    return new ServiceError(this.name, `espeak-ng ${message}`, { retryable: false, cause });
  }

  private startFailure(error: Error): ServiceError {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      return this.failure(`not found: cannot run '${this.binaryPath}'; ${APT_HINT}`, error);
    }
    return this.failure(`could not be started (${this.binaryPath}): ${error.message}; ${APT_HINT}`, error);
  }
}
