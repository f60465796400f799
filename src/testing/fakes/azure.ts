// A local stand-in for Azure AI Speech's text-to-speech REST endpoint (`POST /cognitiveservices/v1`), over a real HTTP
// socket, so the production client is what gets tested. It checks requests as Azure documents them — the key in
// `Ocp-Apim-Subscription-Key` (or a bearer token; refused: 401 with the gateway's JSON error), `Content-Type:
// application/ssml+xml` (else 415), a known `X-Microsoft-OutputFormat` (the headerless `raw-*-16bit-mono-pcm` and
// `raw-8khz-8bit-mono-mulaw` are emulated; the others are refused as not emulated), a `User-Agent`, an SSML document
// with `xml:lang` and one `<voice name>` — and streams the audio back raw, in paced pieces. Scriptable failures: HTTP
// errors (with Retry-After), a stall after the headers, a connection dropped mid-answer. Facts: docs/vendors/azure.md.
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { encodeSamples, fakeVoiceTone } from './audio.js';
import { requestPath } from './http.js';
import { recordHeaders } from './sse.js';
import { pieces, samplesPerChunk, startFakeTTSHttpVendor, streamFakeAnswer, type FakeTTSHttpRequest, type FakeTTSHttpVendor, type FakeStreamFault, type FakeTTSHttp } from './tts-http.js';

/** Emulated output formats and their rate and encoding. */
const FORMATS: Readonly<Record<string, { rate: number; encoding: 's16le' | 'mulaw' }>> = {
  'raw-8khz-16bit-mono-pcm': { rate: 8000, encoding: 's16le' },
  'raw-16khz-16bit-mono-pcm': { rate: 16000, encoding: 's16le' },
  'raw-22050hz-16bit-mono-pcm': { rate: 22050, encoding: 's16le' },
  'raw-24khz-16bit-mono-pcm': { rate: 24000, encoding: 's16le' },
  'raw-44100hz-16bit-mono-pcm': { rate: 44100, encoding: 's16le' },
  'raw-48khz-16bit-mono-pcm': { rate: 48000, encoding: 's16le' },
  'raw-8khz-8bit-mono-mulaw': { rate: 8000, encoding: 'mulaw' },
};
/** Formats Azure accepts that this fake does not make (compressed or with a RIFF header). */
const NOT_EMULATED = /^(riff-|audio-|ogg-|webm-|amr-|raw-\d+khz-16bit-mono-truesilk|raw-8khz-8bit-mono-alaw)/;

export type FakeAzureFault =
  | { error: 400 | 401 | 429 | 500 | 502 | 503; message?: string; retryAfter?: number }
  | FakeStreamFault;

export interface FakeAzureRequest extends FakeTTSHttpRequest {
  readonly auth: { readonly present: boolean; readonly valid: boolean; readonly via?: 'key' | 'bearer' };
  /** What the SSML asked for, once it parsed. */
  ssml?: { readonly lang: string; readonly voice: string; readonly text: string };
  outputFormat?: string;
}

export interface FakeAzureOptions extends FakeKeyPolicy {
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per write. Default 40 ms. */
  chunkMs?: number;
  /** Pause between writes; 0 yields one event-loop turn. Default 2 ms. */
  chunkDelayMs?: number;
}

export type FakeAzure = FakeTTSHttp<FakeAzureRequest, FakeAzureFault>;

/** The fake's speech for `text` as PCM16: a tone of its own timbre, so another fake's audio differs. */
export function fakeAzureSpeech(text: string, options: { sampleRate: number; voice: string; msPerCharacter?: number }): Int16Array {
  const count = Math.round((text.length * (options.msPerCharacter ?? 60) * options.sampleRate) / 1000);
  return fakeVoiceTone(`${options.voice}@${text}`, count, options.sampleRate, {
    baseHz: 190, hzSpread: 90, amplitude: 8200, tremoloBase: 0.65, tremoloDepth: 0.35, tremoloHz: 3,
    rampStep: 7, rampPeriod: 41, rampOffset: 20,
  });
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescapeXml = (text: string): string =>
  text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, name: string) =>
    name.startsWith('#x') ? String.fromCodePoint(parseInt(name.slice(2), 16)) : name.startsWith('#') ? String.fromCodePoint(parseInt(name.slice(1), 10)) : (ENTITIES[name] ?? ''),
  );
const attribute = (tag: string, name: string): string | undefined => new RegExp(`\\s${name}\\s*=\\s*(?:'([^']*)'|"([^"]*)")`).exec(tag)?.slice(1).find((v) => v !== undefined);

/** The language, voice and text of an SSML document with one voice, or a message saying what is wrong. */
function parseSsml(ssml: string): { lang: string; voice: string; text: string } | string {
  const speak = /^\s*(?:<\?xml[^>]*\?>\s*)?<speak\b([^>]*)>([\s\S]*)<\/speak>\s*$/.exec(ssml);
  if (speak === null) return 'The SSML must be a <speak> document.';
  const lang = attribute(speak[1] ?? '', 'xml:lang');
  if (attribute(speak[1] ?? '', 'version') === undefined || lang === undefined) return 'The <speak> element needs version and xml:lang attributes.';
  const voice = /^\s*<voice\b([^>]*)>([\s\S]*)<\/voice>\s*$/.exec(speak[2] ?? '');
  const name = voice === null ? undefined : attribute(voice[1] ?? '', 'name');
  if (voice === null || name === undefined) return 'The SSML must name a voice: <voice name="...">.';
  if (!/^[a-z]{2,3}-[A-Z]{2,4}-\w+$/.test(name)) return `Unsupported voice ${name}.`;
  // Markup inside the voice (prosody, break...) is allowed by Azure; the fake says its text content.
  if (/<(?!\/?(prosody|break|emphasis|say-as|lang|phoneme|sub|s|p|mstts:[\w-]+)\b)/.test(voice[2] ?? '')) return 'The SSML has an element this fake does not know.';
  // An ampersand that starts no entity is what an unescaped `&` in the text leaves: not XML.
  if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(voice[2] ?? '')) return 'The SSML is not well-formed XML.';
  const text = unescapeXml((voice[2] ?? '').replace(/<[^>]*>/g, '')).trim();
  return { lang, voice: name, text };
}

class AzureError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

function speechAnswer(options: FakeAzureOptions): FakeTTSHttpVendor<FakeAzureRequest, FakeAzureFault, AzureError>['answer'] {
  return async (req, raw, record, res, takeFault) => {
    if (req.method !== 'POST' || record.path !== '/cognitiveservices/v1') throw new AzureError(404, `Resource not found: ${req.method ?? ''} ${record.path}`);
    if (!record.auth.valid) {
      throw new AzureError(401, 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.');
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/ssml+xml') throw new AzureError(415, `Unsupported media type ${JSON.stringify(contentType)}: use application/ssml+xml.`);
    const userAgent = req.headers['user-agent'];
    if (userAgent === undefined || userAgent === '' || userAgent.length >= 255) throw new AzureError(400, 'User-Agent is required (the application name, fewer than 255 characters).');
    const formatName = req.headers['x-microsoft-outputformat'];
    if (typeof formatName !== 'string' || formatName === '') throw new AzureError(400, 'X-Microsoft-OutputFormat is required.');
    record.outputFormat = formatName;
    const format = FORMATS[formatName];
    if (format === undefined) {
      throw new AzureError(400, NOT_EMULATED.test(formatName) ? `fake Azure server: ${formatName} is not emulated by this fake (the real API makes it)` : `Unsupported output format ${formatName}.`);
    }
    const parsed = parseSsml(raw.toString('utf8'));
    if (typeof parsed === 'string') throw new AzureError(400, parsed);
    record.ssml = parsed;
    const fault = takeFault();
    if (fault !== undefined && 'error' in fault) throw new AzureError(fault.error, fault.message ?? `Scripted ${fault.error}`, fault.retryAfter);
    const samples = fakeAzureSpeech(parsed.text, { sampleRate: format.rate, voice: parsed.voice, msPerCharacter: options.msPerCharacter });
    await streamFakeAnswer(res, record, {
      // The content type of the raw formats is not documented; the client does not read it.
      headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
      pieces: pieces(samples, samplesPerChunk(options.chunkMs, format.rate)).map((piece) => encodeSamples(piece, format.encoding)),
      fault,
      chunkDelayMs: options.chunkDelayMs,
    });
  };
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeAzure(options: FakeAzureOptions = {}): Promise<FakeAzure> {
  const { origin, requests, failSpeech, close } = await startFakeTTSHttpVendor({
    record: (req): FakeAzureRequest => {
      const subscription = req.headers['ocp-apim-subscription-key'];
      const bearer = /^Bearer\s+(.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const key = typeof subscription === 'string' ? subscription.trim() : bearer;
      return {
        path: requestPath(req),
        headers: recordHeaders(req, ['ocp-apim-subscription-key', 'authorization']),
        auth: { present: key !== undefined, valid: isAcceptedKey(key, options), ...(key === undefined ? {} : { via: typeof subscription === 'string' ? 'key' : 'bearer' }) },
        chunksSent: 0,
      };
    },
    answer: speechAnswer(options),
    refusal: AzureError,
    refuse: (res, error) => {
      const headers: Record<string, string | number> = { 'content-type': 'application/json' };
      if (error.retryAfter !== undefined) headers['retry-after'] = error.retryAfter;
      res.writeHead(error.status, headers).end(JSON.stringify({ error: { code: String(error.status), message: error.message } }));
    },
    sendFailure: (res) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: '500', message: 'fake failure' } })),
  });
  return { baseUrl: origin, requests, failSpeech, close };
}
