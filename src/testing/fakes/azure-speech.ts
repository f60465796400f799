// A local stand-in for Azure AI Speech's REST API for short audio,
// `POST /speech/recognition/{interactive|conversation|dictation}/cognitiveservices/v1`, as Microsoft documents it
// (docs/vendors/azure-speech.md): the key in `Ocp-Apim-Subscription-Key` (or a bearer token in `Authorization`),
// `language` required in the query, `format` simple|detailed, `profanity` masked|removed|raw, the body a 16 kHz mono
// PCM WAV declared as `audio/wav; codecs=audio/pcm; samplerate=16000`, at most 60 s. A refused key is 401 with the
// gateway's `{"error": {"code": "401", "message"}}`; the answer is `{"RecognitionStatus", "DisplayText", "Offset",
// "Duration"}` (100-ns units), and an empty transcript is answered `NoMatch`.
import type { IncomingMessage } from 'node:http';
import { bearerCredentials, type FakeKeyPolicy } from './auth.js';
import { FakeVendorRefusal, decodeWav, startFakeSegmentedSTT, type FakeSTTAnswer, type FakeSTTRequest } from './segmented-stt.js';

const MODES = ['interactive', 'conversation', 'dictation'];
const FORMATS = ['simple', 'detailed'];
const PROFANITY = ['masked', 'removed', 'raw'];
const CONTENT_TYPE = /^audio\/wav;\s*codecs="?audio\/pcm"?;\s*samplerate=16000$/i;

export interface FakeAzureSpeech {
  /** `http://127.0.0.1:<port>`, to pass as the service's `baseUrl`. */
  readonly baseUrl: string;
  readonly requests: readonly FakeSTTRequest[];
  /** Queues transcripts (or faults), one per valid request; '' is answered `NoMatch`. */
  enqueueTranscriptions(...answers: FakeSTTAnswer[]): void;
  close(): Promise<void>;
}

const badRequest = (message: string): FakeVendorRefusal => new FakeVendorRefusal(400, { error: { code: 'BadRequest', message } });
const TICKS_PER_SEC = 10_000_000;

function parse(req: IncomingMessage, url: URL, raw: Buffer): { options: Record<string, string>; audio: NonNullable<FakeSTTRequest['audio']> } {
  const options: Record<string, string> = {};
  for (const [name, value] of url.searchParams) options[name] = value;
  if (options.language === undefined || options.language === '') throw badRequest('Language parameter is missing.');
  if (!/^[a-z]{2,3}-[A-Z]{2,4}$/.test(options.language)) throw badRequest(`Unsupported language: ${options.language}`);
  if (options.format !== undefined && !FORMATS.includes(options.format)) throw badRequest(`Invalid format: ${options.format}`);
  if (options.profanity !== undefined && !PROFANITY.includes(options.profanity)) throw badRequest(`Invalid profanity option: ${options.profanity}`);
  const type = req.headers['content-type'] ?? '';
  if (!CONTENT_TYPE.test(type)) throw badRequest(`Unsupported Content-Type: ${type} (the fake takes 16 kHz PCM WAV only)`);
  const audio = decodeWav(raw);
  if (audio === undefined || audio.sampleRate !== 16000 || audio.channels !== 1) throw badRequest('Audio must be a 16 kHz mono PCM WAV.');
  if (audio.durationSecs > 60) throw badRequest('Audio longer than 60 seconds: use batch transcription.');
  return { options, audio };
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeAzureSpeech(policy: FakeKeyPolicy = {}): Promise<FakeAzureSpeech> {
  const fake = await startFakeSegmentedSTT(
    {
      keyOf: (req) => {
        const key = req.headers['ocp-apim-subscription-key'];
        if (typeof key === 'string') return key;
        return bearerCredentials(req.headers.authorization ?? '');
      },
      secretHeaders: ['ocp-apim-subscription-key', 'authorization'],
      routes: (method, path) => {
        const mode = /^\/speech\/recognition\/([a-z]+)\/cognitiveservices\/v1$/.exec(path)?.[1];
        return method === 'POST' && mode !== undefined && MODES.includes(mode);
      },
      notFound: () => new FakeVendorRefusal(404, { error: { code: '404', message: 'Resource not found' } }),
      refusedKey: () =>
        new FakeVendorRefusal(401, {
          error: {
            code: '401',
            message: 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
          },
        }),
      parse,
      scriptedError: (status, message, retryAfter) =>
        new FakeVendorRefusal(status, { error: { code: String(status), message: message ?? `Scripted ${status}.` } }, retryAfter === undefined ? {} : { 'retry-after': retryAfter }),
      answer: (text, request) => {
        const duration = Math.round((request.audio?.durationSecs ?? 0) * TICKS_PER_SEC);
        if (text.trim() === '') return { RecognitionStatus: 'NoMatch', Offset: duration, Duration: 0 };
        return { RecognitionStatus: 'Success', DisplayText: text, Offset: 3_000_000, Duration: Math.max(0, duration - 3_000_000) };
      },
    },
    policy,
  );
  return { baseUrl: fake.url, requests: fake.requests, enqueueTranscriptions: fake.enqueue, close: fake.close };
}
