// PiperHttpTTSService: a Piper voice served by Piper's HTTP server (`python3 -m piper.http_server -m <voice>`, from
// the `piper-tts[http]` package): one `POST /synthesize` per sentence with a JSON body, answered with a WAV file at
// the voice's own rate (22050 Hz for most "medium" voices, 16000 for "low" ones), resampled here to the rate this
// service declares when the two differ. Facts and sources: docs/vendors/piper.md.
//
// Servers before piper-tts 1.5 synthesize on `POST /` instead (1.5 made `/` the browser page): a 404 from
// `/synthesize` is answered by trying `/` once, and the path that worked is kept. The server has no authentication
// and no rate limit: it runs next to the agent, or behind a proxy of the user's.
import { StreamingResampler } from '../../audio/resampler.js';
import { codeForStatus, ServiceError, TTSService, type SynthesizeOptions, type TTSChunk } from '../base/index.js';
import { streamHttpBody, type HttpFailure } from '../base/http-stream.js';
import { WavStreamError, WavStreamReader } from '../base/wav-stream.js';
import { WireAudioDecoder } from '../base/wire-audio.js';

const VENDOR = 'Piper';

export interface PiperHttpTTSServiceOptions {
  /** Where the server listens. Default `http://localhost:5000` (the server's default port). */
  baseUrl?: string;
  /** `voice`: a voice the server has downloaded, e.g. 'en_US-lessac-medium'. Default: the server's `-m` voice. */
  voice?: string;
  /** `speaker` of a multi-speaker voice, by name. */
  speaker?: string;
  /** `speaker_id` of a multi-speaker voice (overrides `speaker`). */
  speakerId?: number;
  /** `length_scale`: above 1 speaks slower, below 1 faster. Default: the voice's (1). */
  lengthScale?: number;
  /** `noise_scale`: speaking variability. Default: the voice's. */
  noiseScale?: number;
  /** `noise_w_scale`: phoneme width variability. Default: the voice's. */
  noiseWScale?: number;
  /** The rate this service yields: the voice's rate saves resampling. Default 22050 (Piper's "medium" voices). */
  sampleRate?: number;
  /** Longest wait for the first audio (the server answers once the whole sentence is made), then between pieces. Default 15 s. */
  timeoutMs?: number;
  name?: string;
}

/** The title of Flask's HTML error page, or the start of a plain body. */
function reasonOf(body: string): string {
  const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1]?.trim();
  if (title !== undefined) return title;
  const text = body.trim();
  return text.length <= 200 && !text.startsWith('<') ? text : '';
}

function positive(value: number | undefined, name: string, service: string): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new RangeError(`${service}: ${name} must be a positive number, got ${value}`);
}

export class PiperHttpTTSService extends TTSService {
  readonly voice: string | undefined;
  private readonly base: string;
  /** Where the server synthesizes: `/synthesize` until a 404 says it is a server before 1.5. */
  private path: '/synthesize' | '/' = '/synthesize';
  private readonly settings: Readonly<Record<string, unknown>>;
  private readonly timeoutMs: number;

  constructor(options: PiperHttpTTSServiceOptions = {}) {
    const service = new.target.name;
    const rate = options.sampleRate ?? 22050;
    if (!(Number.isInteger(rate) && rate >= 8000 && rate <= 48000)) throw new RangeError(`${service}: sampleRate must be an integer from 8000 to 48000, got ${rate}`);
    if (options.speakerId !== undefined && !(Number.isInteger(options.speakerId) && options.speakerId >= 0)) {
      throw new RangeError(`${service}: speakerId must be a whole number, got ${options.speakerId}`);
    }
    positive(options.lengthScale, 'lengthScale', service);
    positive(options.noiseScale, 'noiseScale', service);
    positive(options.noiseWScale, 'noiseWScale', service);
    const base = (options.baseUrl ?? 'http://localhost:5000').replace(/\/+$/, '');
    if (!/^https?:\/\//.test(base)) throw new RangeError(`${service}: baseUrl must be an http(s) URL, got ${JSON.stringify(options.baseUrl)}`);
    super({ name: options.name, sampleRate: rate, fixedSampleRate: true });
    this.base = base;
    this.voice = options.voice?.trim() || undefined;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.settings = {
      ...(this.voice === undefined ? {} : { voice: this.voice }),
      ...(options.speaker === undefined ? {} : { speaker: options.speaker }),
      ...(options.speakerId === undefined ? {} : { speaker_id: options.speakerId }),
      ...(options.lengthScale === undefined ? {} : { length_scale: options.lengthScale }),
      ...(options.noiseScale === undefined ? {} : { noise_scale: options.noiseScale }),
      ...(options.noiseWScale === undefined ? {} : { noise_w_scale: options.noiseWScale }),
    };
  }

  private httpError(failure: HttpFailure, path: string): ServiceError {
    const reason = reasonOf(failure.body);
    const text = `speech request to ${this.base}${path} refused with ${failure.status}${reason === '' ? '' : `: ${reason}`}`;
    return new ServiceError(VENDOR, text, { status: failure.status, code: codeForStatus(failure.status) });
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    if (options.signal.aborted) return;
    const path = this.path;
    const body = this.request(text, path, options.signal);
    let first: IteratorResult<Uint8Array>;
    try {
      first = await body.next();
    } catch (error) {
      if (!(path === '/synthesize' && error instanceof ServiceError && error.status === 404)) throw error;
      // A server before piper-tts 1.5: it synthesizes on `/`.
      this.path = '/';
      yield* this.audioOf(this.request(text, '/', options.signal), undefined, options.signal);
      return;
    }
    yield* this.audioOf(body, first, options.signal);
  }

  private request(text: string, path: string, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    return streamHttpBody({
      service: VENDOR,
      url: `${this.base}${path}`,
      headers: { 'Content-Type': 'application/json' },
      body: { text, ...this.settings },
      signal,
      timeoutMs: this.timeoutMs,
      secrets: [],
      httpError: (failure) => this.httpError(failure, path),
      clock: this.clock,
      silence: 'audio',
    });
  }

  /** The samples of a WAV body, at this service's rate. */
  private async *audioOf(body: AsyncGenerator<Uint8Array>, first: IteratorResult<Uint8Array> | undefined, signal: AbortSignal): AsyncGenerator<TTSChunk> {
    const wav = new WavStreamReader();
    const decoder = new WireAudioDecoder('s16le');
    let resampler: StreamingResampler | undefined;
    const samplesOf = (bytes: Uint8Array): Int16Array => {
      const hadFormat = wav.format !== undefined;
      let data: Uint8Array;
      try {
        data = wav.push(bytes);
      } catch (error) {
        if (error instanceof WavStreamError) throw new ServiceError(VENDOR, `answer is not a WAV file: ${error.message}`, { code: 'protocol' });
        throw error;
      }
      const format = wav.format;
      if (!hadFormat && format !== undefined) {
        if (format.formatTag !== 1 || format.bitsPerSample !== 16 || format.channels !== 1) {
          throw new ServiceError(VENDOR, `answer is not 16-bit mono PCM (${JSON.stringify(format)})`, { code: 'protocol' });
        }
        resampler = new StreamingResampler({ inputRate: format.sampleRate, outputRate: this.sampleRate });
      }
      const samples = decoder.decode(data);
      return resampler === undefined || samples.length === 0 ? samples : resampler.process(samples);
    };
    if (first !== undefined && first.done !== true) {
      const audio = samplesOf(first.value);
      if (audio.length > 0) yield { type: 'audio', audio };
    }
    if (first?.done !== true) {
      for await (const bytes of body) {
        const audio = samplesOf(bytes);
        if (audio.length > 0) yield { type: 'audio', audio };
      }
    }
    if (signal.aborted) return;
    const tail = resampler?.flush();
    if (tail !== undefined && tail.length > 0) yield { type: 'audio', audio: tail };
    if (wav.format === undefined) throw new ServiceError(VENDOR, 'answer ended before its WAV header', { code: 'protocol' });
  }
}
