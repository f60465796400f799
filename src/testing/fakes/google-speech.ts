// A local stand-in for Google Cloud Speech-to-Text v1 synchronous recognition, `POST /v1/speech:recognize`, as
// Google documents it (docs/vendors/google-speech.md): an API key (`x-goog-api-key` header or `key` query; a bad
// key is **400** INVALID_ARGUMENT with ErrorInfo reason API_KEY_INVALID, not 401) or `Authorization: Bearer` (a bad
// token is 401 UNAUTHENTICATED); a JSON body `{"config": {...}, "audio": {"content": base64}}` whose LINEAR16
// config needs `sampleRateHertz` 8000–48000 and a `languageCode`; at most 1 minute of audio. Errors are
// google.rpc.Status bodies; the answer is `{"results": [{"alternatives": [{"transcript", "confidence"}],
// "resultEndTime", "languageCode"}], "totalBilledTime", "requestId"}`, and no results at all when nothing was said.
import { bytesToInt16 } from '../../audio/index.js';
import { bearerCredentials, type FakeKeyPolicy } from './auth.js';
import { isRecord, parseJSONBody } from './http.js';
import { FakeVendorRefusal, startFakeSegmentedSTT, type FakeSTTAnswer, type FakeSTTRequest } from './segmented-stt.js';

export const FAKE_GOOGLE_SPEECH_MODELS = ['default', 'command_and_search', 'phone_call', 'video', 'latest_long', 'latest_short', 'telephony', 'telephony_short', 'medical_dictation', 'medical_conversation'] as const;
const RPC_STATUS: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };

export interface FakeGoogleSpeech {
  /** `http://127.0.0.1:<port>`, to pass as the service's `baseUrl`. */
  readonly baseUrl: string;
  readonly requests: readonly FakeSTTRequest[];
  /** Queues transcripts (or faults), one per valid request; '' is answered with no results. */
  enqueueTranscriptions(...answers: FakeSTTAnswer[]): void;
  close(): Promise<void>;
}

const rpcError = (status: number, message: string, details: unknown[] = [], headers: Record<string, string | number> = {}): FakeVendorRefusal =>
  new FakeVendorRefusal(status, { error: { code: status, message, status: RPC_STATUS[status] ?? 'UNKNOWN', ...(details.length > 0 ? { details } : {}) } }, headers);
const invalid = (message: string): FakeVendorRefusal => rpcError(400, message);

function parse(raw: Buffer): { options: Record<string, string>; audio: NonNullable<FakeSTTRequest['audio']> } {
  const { body, parsed } = parseJSONBody(raw, false);
  if (!parsed || !isRecord(body)) throw invalid('Invalid JSON payload received.');
  const { config, audio } = body;
  if (!isRecord(config)) throw invalid('Invalid recognition \'config\': a config is required.');
  if (!isRecord(audio) || typeof audio.content !== 'string') throw invalid('RecognitionAudio not set.');
  const encoding = config.encoding;
  if (encoding !== 'LINEAR16') throw invalid(`Invalid recognition 'config': the fake decodes LINEAR16 only, got ${JSON.stringify(encoding)}.`);
  const rate = config.sampleRateHertz;
  if (typeof rate !== 'number' || rate < 8000 || rate > 48000) throw invalid("Invalid recognition 'config': sample_rate_hertz must be between 8000 and 48000 for LINEAR16.");
  const language = config.languageCode;
  if (typeof language !== 'string' || language === '') throw invalid("Invalid recognition 'config': language_code is required.");
  if (config.model !== undefined && !(FAKE_GOOGLE_SPEECH_MODELS as readonly unknown[]).includes(config.model)) {
    throw invalid(`Invalid recognition 'config': the model ${JSON.stringify(config.model)} does not exist.`);
  }
  const bytes = Buffer.from(audio.content, 'base64');
  if (bytes.length % 2 !== 0) throw invalid('Invalid audio content: LINEAR16 is 16-bit samples.');
  const samples = bytesToInt16(bytes);
  const durationSecs = samples.length / rate;
  if (durationSecs > 60) throw invalid('Sync input too long. For audio longer than 1 min use LongRunningRecognize with a \'uri\' parameter.');
  const options: Record<string, string> = { languageCode: language, sampleRateHertz: String(rate) };
  if (typeof config.model === 'string') options.model = config.model;
  if (typeof config.enableAutomaticPunctuation === 'boolean') options.enableAutomaticPunctuation = String(config.enableAutomaticPunctuation);
  return { options, audio: { sampleRate: rate, channels: 1, samples, durationSecs } };
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeGoogleSpeech(policy: FakeKeyPolicy = {}): Promise<FakeGoogleSpeech> {
  let usedBearer = false;
  const fake = await startFakeSegmentedSTT(
    {
      keyOf: (req, url) => {
        const token = bearerCredentials(req.headers.authorization ?? '');
        usedBearer = token !== undefined;
        const header = req.headers['x-goog-api-key'];
        return token ?? (typeof header === 'string' ? header : (url.searchParams.get('key') ?? undefined));
      },
      secretHeaders: ['x-goog-api-key', 'authorization'],
      secretQuery: ['key'],
      routes: (method, path) => method === 'POST' && path === '/v1/speech:recognize',
      notFound: (method, path) => rpcError(404, `The requested URL ${path} was not found on this server (${method}).`),
      refusedKey: (present) =>
        usedBearer
          ? rpcError(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.')
          : present
            ? rpcError(400, 'API key not valid. Please pass a valid API key.', [
                { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'speech.googleapis.com' } },
              ])
            : rpcError(403, 'Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.'),
      parse: (_req, _url, raw) => parse(raw),
      scriptedError: (status, message, retryAfter) =>
        rpcError(status, message ?? `Scripted ${RPC_STATUS[status] ?? status}.`, [], retryAfter === undefined ? {} : { 'retry-after': retryAfter }),
      answer: (text, request, sequence) => {
        const seconds = request.audio?.durationSecs ?? 0;
        const billed = `${Math.max(1, Math.ceil(seconds))}s`;
        if (text.trim() === '') return { totalBilledTime: billed, requestId: String(1000 + sequence) };
        return {
          results: [{ alternatives: [{ transcript: text, confidence: 0.93 }], resultEndTime: `${seconds.toFixed(3)}s`, languageCode: (request.options.languageCode ?? 'en-US').toLowerCase() }],
          totalBilledTime: billed,
          requestId: String(1000 + sequence),
        };
      },
    },
    policy,
  );
  return { baseUrl: fake.url, requests: fake.requests, enqueueTranscriptions: fake.enqueue, close: fake.close };
}
