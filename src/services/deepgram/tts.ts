// DeepgramTTSService: Deepgram Aura text-to-speech through the streaming REST endpoint (`POST /v1/speak`), raw
// audio (`container=none`) read from the body as it arrives, so the first audio plays while the rest is produced.
//
// REST, not the `/v1/speak` WebSocket: the TTS base hands this service one sentence at a time and needs to know
// where each sentence's audio ends. On the socket that takes a Flush per sentence, and Deepgram allows 20 flushes per
// 60 s (a Warning, and no audio, beyond it), which a talkative agent on a call reaches; each request, by contrast,
// is one sentence with a natural end, has no such budget, and an interruption is an aborted request (the audio stops
// with the connection; no audio from before a Clear to recognise and drop). Requests reuse kept-alive connections,
// so the per-sentence cost is one HTTP exchange. Plain `fetch` (Node 20's undici): the request is one POST; an SDK
// would add a dependency for nothing.
import { alawToPcm, bytesToInt16, mulawToPcm } from '../../audio/index.js';
import { TTSService, type SynthesizeOptions, type TTSChunk } from '../base/index.js';
import { streamHttpBody } from '../base/http-stream.js';
import { requireApiKey } from '../base/vendor-errors.js';
import { DEEPGRAM, httpServiceError } from './errors.js';

export type DeepgramTTSEncoding = 'linear16' | 'mulaw' | 'alaw';

/** Rates Aura produces for each raw encoding. */
export const DEEPGRAM_TTS_SAMPLE_RATES: Readonly<Record<DeepgramTTSEncoding, readonly number[]>> = {
  linear16: [8000, 16000, 24000, 32000, 48000],
  mulaw: [8000, 16000],
  alaw: [8000, 16000],
};

/** Longest text one request takes. */
export const DEEPGRAM_TTS_MAX_CHARS = 2000;

export interface DeepgramTTSServiceOptions {
  apiKey: string;
  /** The Aura model, which is also the voice (e.g. 'aura-2-andromeda-en'). Default 'aura-2-thalia-en'. */
  model?: string;
  /** Same as `model` (Aura names voices and models alike); `model` wins when both are given. */
  voice?: string;
  /** Default 24000 (Aura's native rate); 8000/16000 skip resampling on phone lines. */
  sampleRate?: number;
  /** Default 'linear16'. 'mulaw'/'alaw' (8 or 16 kHz) halve the bytes; the service decodes them to PCM16. */
  encoding?: DeepgramTTSEncoding;
  /** 0.7 to 1.5; Deepgram's default (1.0) when not set. */
  speed?: number;
  /** Opt out of Deepgram's model improvement program. */
  mipOptOut?: boolean;
  /** Label for Deepgram's usage reports. */
  tag?: string;
  /** Default 'https://api.deepgram.com'. */
  baseUrl?: string;
  /** Longest wait for the response, and then between two pieces of audio. Default 15 000 ms. */
  timeoutMs?: number;
  /** The processor's name in logs and metrics. */
  name?: string;
}

/** `https://host[:port]` from what a user may pass (a ws(s) URL, a trailing slash, the full `/v1/speak` path). */
export function deepgramHttpBase(url: string): string {
  return url
    .trim()
    .replace(/^ws(s?):\/\//i, 'http$1://')
    .replace(/\/+$/, '')
    .replace(/\/v1\/speak$/, '');
}

/** `text` cut into pieces of at most `maxChars` code points, at sentence or word boundaries when there are any. */
export function splitForDeepgramSpeak(text: string, maxChars = DEEPGRAM_TTS_MAX_CHARS): string[] {
  const pieces: string[] = [];
  let rest = [...text.trim()];
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars + 1).join('');
    const windowChars = [...window];
    let cut = -1;
    for (let i = windowChars.length - 2; i > maxChars / 2 && cut < 0; i--) {
      if (/[.!?]/.test(windowChars[i]!) && windowChars[i + 1] === ' ') cut = i + 1;
    }
    if (cut < 0) {
      const space = windowChars.lastIndexOf(' ');
      cut = space > 0 ? space : maxChars;
    }
    pieces.push(rest.slice(0, cut).join('').trim());
    rest = [...rest.slice(cut).join('').trim()];
  }
  if (rest.length > 0) pieces.push(rest.join(''));
  return pieces;
}

/** Turns the body's byte stream into PCM16 samples; a 16-bit sample split across two reads is carried over. */
class AudioDecoder {
  private carry: number | undefined;

  constructor(private readonly encoding: DeepgramTTSEncoding) {}

  get pendingByte(): boolean {
    return this.carry !== undefined;
  }

  push(bytes: Uint8Array): Int16Array {
    if (this.encoding === 'mulaw') return mulawToPcm(bytes);
    if (this.encoding === 'alaw') return alawToPcm(bytes);
    if (bytes.length === 0) return new Int16Array(0);
    const held = this.carry === undefined ? 0 : 1;
    const whole = (bytes.length + held) & ~1;
    if (whole === 0) {
      this.carry = bytes[0];
      return new Int16Array(0);
    }
    // A fresh, even-aligned copy: the stream may reuse its buffer, and an Int16Array cannot start at an odd offset.
    const aligned = new Uint8Array(whole);
    if (this.carry !== undefined) aligned[0] = this.carry;
    aligned.set(bytes.subarray(0, whole - held), held);
    this.carry = whole - held < bytes.length ? bytes[bytes.length - 1] : undefined;
    return bytesToInt16(aligned);
  }
}

export class DeepgramTTSService extends TTSService {
  override readonly model: string;
  readonly encoding: DeepgramTTSEncoding;
  readonly speed: number | undefined;
  private readonly apiKey: string;
  private readonly endpointBase: string;
  private readonly params: URLSearchParams;
  private readonly timeoutMs: number;

  constructor(options: DeepgramTTSServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'DEEPGRAM_API_KEY');
    const encoding = options.encoding ?? 'linear16';
    const rates = DEEPGRAM_TTS_SAMPLE_RATES[encoding];
    if (rates === undefined) {
      throw new TypeError(`${new.target.name}: encoding must be linear16, mulaw or alaw, got ${String(options.encoding)}`);
    }
    const sampleRate = options.sampleRate ?? (encoding === 'linear16' ? 24000 : 8000);
    if (!rates.includes(sampleRate)) {
      throw new RangeError(`${new.target.name}: ${encoding} audio comes at ${rates.join(', ')} Hz, not ${sampleRate}`);
    }
    if (options.speed !== undefined && !(options.speed >= 0.7 && options.speed <= 1.5)) {
      throw new RangeError(`${new.target.name}: speed must be between 0.7 and 1.5, got ${options.speed}`);
    }
    const model = options.model ?? options.voice ?? 'aura-2-thalia-en';
    // Aura makes each encoding at several rates: a call's own output rate unless the user chose one.
    super({ name: options.name, sampleRate, sampleRates: rates, fixedSampleRate: options.sampleRate !== undefined, model });
    this.model = model;
    this.encoding = encoding;
    this.speed = options.speed;
    this.apiKey = apiKey;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    const params = new URLSearchParams({ model, encoding, container: 'none' });
    if (options.speed !== undefined) params.set('speed', String(options.speed));
    if (options.mipOptOut !== undefined) params.set('mip_opt_out', String(options.mipOptOut));
    if (options.tag !== undefined) params.set('tag', options.tag);
    this.params = params;
    this.endpointBase = `${deepgramHttpBase(options.baseUrl ?? 'https://api.deepgram.com')}/v1/speak`;
  }

  /** The request URL for the current sample rate. */
  private endpoint(): string {
    const params = new URLSearchParams(this.params);
    params.set('sample_rate', String(this.sampleRate));
    return `${this.endpointBase}?${params.toString()}`;
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    for (const piece of splitForDeepgramSpeak(text)) {
      if (options.signal.aborted) return;
      yield* this.synthesizePiece(piece, options.signal);
    }
  }

  private async *synthesizePiece(text: string, signal: AbortSignal): AsyncGenerator<TTSChunk> {
    const decoder = new AudioDecoder(this.encoding);
    const body = streamHttpBody({
      service: DEEPGRAM,
      url: this.endpoint(),
      headers: { Authorization: `Token ${this.apiKey}`, 'Content-Type': 'application/json' },
      body: { text },
      signal,
      timeoutMs: this.timeoutMs,
      secrets: [this.apiKey],
      httpError: (failure) => httpServiceError(failure.status, failure.headers, failure.body, this.apiKey, 'speak request'),
      clock: this.clock,
      silence: 'audio',
    });
    for await (const bytes of body) {
      const audio = decoder.push(bytes);
      if (audio.length > 0) yield { type: 'audio', audio };
    }
    if (decoder.pendingByte && !signal.aborted) this.logger.warn('Deepgram audio ended on half a sample; the last byte was dropped');
  }
}
