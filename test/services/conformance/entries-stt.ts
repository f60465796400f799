// STT conformance entries: each service against its fake vendor server.
import { AssemblyAISTTService } from '../../../src/services/assemblyai/index.js';
import { TranscribeSTTService } from '../../../src/services/aws/index.js';
import { AzureSTTService } from '../../../src/services/azure/index.js';
import { CartesiaSTTService } from '../../../src/services/cartesia/index.js';
import { DeepgramFluxSTTService, DeepgramSTTService } from '../../../src/services/deepgram/index.js';
import { ElevenLabsRealtimeSTTService, ElevenLabsSTTService } from '../../../src/services/elevenlabs/index.js';
import { GladiaSTTService } from '../../../src/services/gladia/index.js';
import { GoogleSTTService } from '../../../src/services/google/index.js';
import { GroqSTTService, OpenAISTTService } from '../../../src/services/openai/index.js';
import { SarvamStreamingSTTService, SarvamSTTService } from '../../../src/services/sarvam/index.js';
import { SonioxSTTService } from '../../../src/services/soniox/index.js';
import { SpeechmaticsSTTService } from '../../../src/services/speechmatics/index.js';
import { startFakeAssemblyAI } from '../../../src/testing/fakes/assemblyai.js';
import { startFakeAzureSpeech } from '../../../src/testing/fakes/azure-speech.js';
import { startFakeCartesiaSTT } from '../../../src/testing/fakes/cartesia-stt.js';
import { startFakeDeepgramFlux } from '../../../src/testing/fakes/deepgram-flux.js';
import { startFakeDeepgram } from '../../../src/testing/fakes/deepgram.js';
import { startFakeElevenLabsRealtime } from '../../../src/testing/fakes/elevenlabs-stt-realtime.js';
import { startFakeElevenLabsSTT } from '../../../src/testing/fakes/elevenlabs-stt.js';
import { startFakeGladia } from '../../../src/testing/fakes/gladia.js';
import { startFakeGoogleSpeech } from '../../../src/testing/fakes/google-speech.js';
import { startFakeGroqSTT } from '../../../src/testing/fakes/groq.js';
import { startFakeOpenAIAudio } from '../../../src/testing/fakes/openai-audio.js';
import { startFakeSarvamStream } from '../../../src/testing/fakes/sarvam-stt-stream.js';
import { startFakeSarvam } from '../../../src/testing/fakes/sarvam.js';
import { startFakeSoniox } from '../../../src/testing/fakes/soniox.js';
import { startFakeSpeechmatics } from '../../../src/testing/fakes/speechmatics.js';
import { startFakeTranscribe } from '../../../src/testing/fakes/transcribe.js';
import { given, receivedFrom, segmentedSTTEntry, streamingSTTEntry } from './builders-stt.js';
import { REJECTED_KEY, type STTEntry } from './harness.js';

const stringOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export const STT_ENTRIES: readonly STTEntry[] = [
  streamingSTTEntry(
    {
      name: 'Deepgram STT',
      className: 'DeepgramSTTService',
      importPath: 'piopiy-ai/services/deepgram',
      fake: 'startFakeDeepgram()',
      language: 'hi',
      model: 'nova-3',
      caveats: {
        'rate-limit': 'no Retry-After from Deepgram: the refused handshake is retried on the reconnect back-off, unreported',
        server: 'retried on the reconnect back-off, unreported; the turn is still transcribed',
      },
    },
    {
      start: () => startFakeDeepgram({ rejectKey: REJECTED_KEY, interimIntervalMs: 300 }),
      service: (fake, { apiKey, language, model, reconnect }) => new DeepgramSTTService({ apiKey, baseUrl: fake.url, ...given({ language, model }), reconnect }),
      failHandshake: (fake, status) => fake.failNextConnections(status, 1, '/v1/listen'),
      dropNow: (fake) => fake.dropConnections('/v1/listen'),
      received: (fake) => receivedFrom(fake.listenSessions, (s) => ({ language: stringOf(s.request.query.language), model: stringOf(s.request.query.model) })),
      openSockets: (fake) => fake.listenSessions.filter((s) => s.closed === undefined).length,
    },
  ),
  streamingSTTEntry(
    {
      name: 'Deepgram Flux STT',
      className: 'DeepgramFluxSTTService',
      importPath: 'piopiy-ai/services/deepgram',
      fake: 'startFakeDeepgramFlux()',
      model: 'flux-general-en',
      caveats: {
        options: 'no language parameter on flux-general-en; flux-general-multi takes `language_hint`s',
        streaming: 'Flux’s EndOfTurn ends the turn (one final per turn); a VAD stop waits for it (`endOfTurn: "flux"`)',
        'rate-limit': 'no Retry-After from Deepgram: the refused handshake is retried on the reconnect back-off, unreported',
        server: 'retried on the reconnect back-off, unreported; the turn is still transcribed',
      },
    },
    {
      start: () => startFakeDeepgramFlux({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, model, reconnect }) => new DeepgramFluxSTTService({ apiKey, baseUrl: fake.url, ...given({ model }), reconnect }),
      received: (fake) => receivedFrom(fake.sessions, (s) => ({ model: s.query.model })),
      openSockets: (fake) => fake.sessions.filter((s) => s.closed === undefined).length,
    },
  ),
  streamingSTTEntry(
    {
      name: 'AssemblyAI STT',
      className: 'AssemblyAISTTService',
      importPath: 'piopiy-ai/services/assemblyai',
      fake: 'startFakeAssemblyAI()',
      model: 'universal-streaming-multilingual',
      caveats: {
        options: 'no language parameter: the model (`speech_model`) decides; the multilingual one detects',
        auth: 'the key is checked after the upgrade: an `Error` frame and close 1008, read as `auth`',
        'rate-limit': 'too many sessions is close 3009, without Retry-After: retried on the reconnect back-off',
        server: 'close 3005 after the upgrade: retried on the reconnect back-off; the turn is still transcribed',
      },
    },
    {
      start: () => startFakeAssemblyAI({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, model, reconnect }) => new AssemblyAISTTService({ apiKey, baseUrl: fake.url, ...given({ model }), reconnect }),
      // Sessions accepted (refused ones end at once, like Deepgram's refused handshakes).
      received: (fake) => receivedFrom(fake.sessions.filter((s) => s.accepted), (s) => ({ model: s.query.speech_model })),
      openSockets: (fake) => fake.sessions.filter((s) => s.closed === undefined).length,
    },
  ),
  streamingSTTEntry(
    {
      name: 'Speechmatics STT',
      className: 'SpeechmaticsSTTService',
      importPath: 'piopiy-ai/services/speechmatics',
      fake: 'startFakeSpeechmatics()',
      language: 'hi',
      model: 'enhanced',
      caveats: {
        options: 'language and model (`operating_point`) travel in the `StartRecognition` message, not the URL',
        'rate-limit': 'too many sessions is an in-band `quota_exceeded` error, without Retry-After: retried on the reconnect back-off',
        server: 'an in-band `job_error`: retried on the reconnect back-off; the turn is still transcribed',
      },
    },
    {
      start: () => startFakeSpeechmatics({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, language, model, reconnect }) =>
        new SpeechmaticsSTTService({ apiKey, baseUrl: fake.url, ...given({ language }), ...(model === 'standard' || model === 'enhanced' ? { model } : {}), reconnect }),
      // Sessions whose recognition started (a fault ends the others at StartRecognition).
      received: (fake) =>
        receivedFrom(fake.sessions.filter((s) => s.startRecognition !== undefined), (s) => {
          const config = s.startRecognition?.transcription_config as { language?: string; operating_point?: string } | undefined;
          return { language: config?.language, model: config?.operating_point };
        }),
      openSockets: (fake) => fake.sessions.filter((s) => s.closed === undefined).length,
    },
  ),
  streamingSTTEntry(
    {
      name: 'Soniox STT',
      className: 'SonioxSTTService',
      importPath: 'piopiy-ai/services/soniox',
      fake: 'startFakeSoniox()',
      language: 'hi',
      model: 'stt-rt-v5',
      caveats: {
        options: 'the language is a hint (`language_hints`) in the first message; the model detects among 60+',
        auth: 'the key is refused in band (`error_code` 401 before the close)',
        'rate-limit': 'an in-band 429, without Retry-After: retried on the reconnect back-off',
        server: 'an in-band 503 “Cannot continue request”: retried on the reconnect back-off; the turn is still transcribed',
      },
    },
    {
      start: () => startFakeSoniox({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, language, model, reconnect }) =>
        new SonioxSTTService({ apiKey, baseUrl: fake.url, ...(language ? { languageHints: [language] } : {}), ...given({ model }), reconnect }),
      // Sessions whose configuration was accepted (a fault ends the others at once).
      received: (fake) =>
        receivedFrom(fake.sessions.filter((s) => s.config !== undefined), (s) => {
          const config = s.config as { language_hints?: string[]; model?: string } | undefined;
          return { language: config?.language_hints?.[0], model: config?.model };
        }),
      openSockets: (fake) => fake.sessions.filter((s) => s.closed === undefined).length,
    },
  ),
  streamingSTTEntry(
    {
      name: 'Gladia STT',
      className: 'GladiaSTTService',
      importPath: 'piopiy-ai/services/gladia',
      fake: 'startFakeGladia()',
      language: 'hi',
      model: 'solaria-1',
      caveats: {
        options: 'language (`language_config.languages`) and model travel in the session POST, before the socket',
        auth: 'the session POST is refused with 401; no socket is opened',
        'rate-limit': 'the session POST answers 429, without Retry-After: retried on the reconnect back-off',
        server: 'the session POST answers 500: retried on the reconnect back-off; the turn is still transcribed',
      },
    },
    {
      start: () => startFakeGladia({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, language, model, reconnect }) =>
        new GladiaSTTService({ apiKey, baseUrl: fake.url, ...(language ? { languages: [language] } : {}), ...given({ model }), reconnect }),
      // Sessions created (refused POSTs create none).
      received: (fake) =>
        receivedFrom(fake.sessions, (s) => {
          const config = s.config as { language_config?: { languages?: string[] }; model?: string } | undefined;
          return { language: config?.language_config?.languages?.[0], model: config?.model };
        }),
      openSockets: (fake) => fake.sessions.filter((s) => s.connected && s.closed === undefined).length,
    },
  ),
  streamingSTTEntry(
    {
      name: 'Cartesia Ink STT',
      className: 'CartesiaSTTService',
      importPath: 'piopiy-ai/services/cartesia',
      fake: 'startFakeCartesiaSTT()',
      language: 'hi',
      model: 'ink-whisper',
      caveats: {
        'rate-limit': 'the refused handshake (429) carries no Retry-After: retried on the reconnect back-off, unreported',
        server: 'retried on the reconnect back-off, unreported; the turn is still transcribed',
      },
    },
    {
      start: () => startFakeCartesiaSTT({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, language, model, reconnect }) => new CartesiaSTTService({ apiKey, baseUrl: fake.url, ...given({ language, model }), reconnect }),
      received: (fake) => receivedFrom(fake.sessions, (s) => ({ language: s.query.language, model: s.query.model })),
      openSockets: (fake) => fake.sessions.filter((s) => s.closed === undefined).length,
    },
  ),
  segmentedSTTEntry(
    {
      name: 'OpenAI STT',
      className: 'OpenAISTTService',
      importPath: 'piopiy-ai/services/openai',
      fake: 'startFakeOpenAIAudio()',
      language: 'hi',
      model: 'gpt-4o-transcribe',
    },
    {
      start: () => startFakeOpenAIAudio({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, language, model, timeoutMs }) => new OpenAISTTService({ apiKey, baseURL: fake.baseURL, timeoutMs, ...given({ language, model }) }),
      received: (fake) =>
        receivedFrom(fake.requests.filter((r) => r.path.endsWith('/audio/transcriptions')), (r) => ({ language: stringOf(r.fields?.language), model: stringOf(r.fields?.model) })),
    },
  ),
  segmentedSTTEntry(
    {
      name: 'Sarvam STT',
      className: 'SarvamSTTService',
      importPath: 'piopiy-ai/services/sarvam',
      fake: 'startFakeSarvam()',
      language: 'hi-IN',
      model: 'saaras:v3',
      caveats: {
        auth: 'Sarvam refuses a key with 403 `invalid_api_key_error`, not 401',
        streaming: 'REST, one request per VAD turn (the `/speech-to-text/ws` socket is `SarvamStreamingSTTService`)',
      },
    },
    {
      start: () => startFakeSarvam({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, language, model, timeoutMs }) => new SarvamSTTService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...given({ language, model }) }),
      status: (status) => (status === 401 ? 403 : status),
      received: (fake) => receivedFrom(fake.requests.filter((r) => r.path === '/speech-to-text'), (r) => ({ language: r.fields?.language_code, model: r.fields?.model })),
    },
  ),
  streamingSTTEntry(
    {
      name: 'Sarvam streaming STT',
      className: 'SarvamStreamingSTTService',
      importPath: 'piopiy-ai/services/sarvam',
      fake: 'startFakeSarvamStream()',
      language: 'hi-IN',
      model: 'saaras:v3',
      caveats: {
        streaming: 'one final per utterance (the endpoint sends no interim results); `flush` at VAD stop',
        options: 'language (`language-code`) and model travel in the socket’s query',
        auth: 'Sarvam refuses a key with 403 `invalid_api_key_error`, not 401',
        'rate-limit': 'the handshake answers 429 `rate_limit_exceeded_error`, without Retry-After: retried on the reconnect back-off',
        server: 'the handshake answers 500: retried on the reconnect back-off; the turn is still transcribed',
      },
    },
    {
      start: () => startFakeSarvamStream({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, language, model, reconnect }) => new SarvamStreamingSTTService({ apiKey, baseUrl: fake.url, ...given({ language, model }), reconnect }),
      failHandshake: (fake, status) => fake.failNextConnections(status === 401 ? 403 : status),
      received: (fake) => receivedFrom(fake.sessions.filter((s) => s.accepted), (s) => ({ language: s.query['language-code'], model: s.query.model })),
      openSockets: (fake) => fake.sessions.filter((s) => s.accepted && s.closed === undefined).length,
    },
  ),
  segmentedSTTEntry(
    {
      name: 'Groq STT',
      className: 'GroqSTTService',
      importPath: 'piopiy-ai/services/openai',
      fake: 'startFakeGroqSTT()',
      language: 'hi',
      model: 'whisper-large-v3',
      caveats: { streaming: 'REST (OpenAI-compatible), one request per VAD turn; Groq bills each request as at least 10 s' },
    },
    {
      start: () => startFakeGroqSTT({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, language, model, timeoutMs }) => new GroqSTTService({ apiKey, baseURL: fake.baseURL, timeoutMs, ...given({ language, model }) }),
      received: (fake) => receivedFrom(fake.requests.filter((r) => r.auth.valid), (r) => ({ language: r.options.language, model: r.options.model })),
    },
  ),
  segmentedSTTEntry(
    {
      name: 'ElevenLabs Scribe STT',
      className: 'ElevenLabsSTTService',
      importPath: 'piopiy-ai/services/elevenlabs',
      fake: 'startFakeElevenLabsSTT()',
      language: 'hi',
      model: 'scribe_v2',
      caveats: { streaming: 'REST, one request per VAD turn (raw 16 kHz PCM upload); the realtime socket is `ElevenLabsRealtimeSTTService`' },
    },
    {
      start: () => startFakeElevenLabsSTT({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, language, model, timeoutMs }) => new ElevenLabsSTTService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...given({ language, model }) }),
      received: (fake) => receivedFrom(fake.requests.filter((r) => r.auth.valid), (r) => ({ language: r.options.language_code, model: r.options.model_id })),
    },
  ),
  streamingSTTEntry(
    {
      name: 'ElevenLabs Scribe realtime STT',
      className: 'ElevenLabsRealtimeSTTService',
      importPath: 'piopiy-ai/services/elevenlabs',
      fake: 'startFakeElevenLabsRealtime()',
      language: 'hi',
      model: 'scribe_v2_realtime',
      caveats: {
        streaming: 'partial transcripts while the caller speaks; a manual commit at VAD stop answers the turn’s final',
        options: 'language (`language_code`) and model (`model_id`) travel in the socket’s query',
        auth: 'the key is refused in band (`auth_error` before the close)',
        'rate-limit': 'an in-band `rate_limited`, without Retry-After: retried on the reconnect back-off',
        server: 'an in-band `transcriber_error`: retried on the reconnect back-off; the turn is still transcribed',
      },
    },
    {
      start: () => startFakeElevenLabsRealtime({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, language, model, reconnect }) => new ElevenLabsRealtimeSTTService({ apiKey, baseUrl: fake.url, ...given({ language, model }), reconnect }),
      received: (fake) => receivedFrom(fake.sessions.filter((s) => s.started), (s) => ({ language: s.query.language_code, model: s.query.model_id })),
      openSockets: (fake) => fake.sessions.filter((s) => s.closed === undefined).length,
    },
  ),
  segmentedSTTEntry(
    {
      name: 'Azure Speech STT',
      className: 'AzureSTTService',
      importPath: 'piopiy-ai/services/azure',
      fake: 'startFakeAzureSpeech()',
      language: 'hi-IN',
      caveats: {
        streaming: 'REST for short audio, one request per VAD turn (16 kHz WAV); the Speech SDK’s streaming socket is not used',
        options: 'no model to choose on this endpoint: the locale is what reaches it',
      },
    },
    {
      start: () => startFakeAzureSpeech({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, language, timeoutMs }) => new AzureSTTService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...given({ language }) }),
      received: (fake) => receivedFrom(fake.requests.filter((r) => r.auth.valid), (r) => ({ language: r.options.language })),
    },
  ),
  segmentedSTTEntry(
    {
      name: 'Google Cloud Speech STT',
      className: 'GoogleSTTService',
      importPath: 'piopiy-ai/services/google',
      fake: 'startFakeGoogleSpeech()',
      language: 'hi-IN',
      model: 'telephony',
      caveats: {
        streaming: 'v1 `speech:recognize` (REST), one request per VAD turn; streaming recognition is gRPC-only',
        auth: 'a bad API key is Google’s 400 INVALID_ARGUMENT / API_KEY_INVALID (read as `auth`); a bad bearer token is 401',
      },
    },
    {
      start: () => startFakeGoogleSpeech({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, language, model, timeoutMs }) => new GoogleSTTService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...given({ language, model }) }),
      received: (fake) => receivedFrom(fake.requests.filter((r) => r.auth.valid), (r) => ({ language: r.options.languageCode, model: r.options.model })),
    },
  ),
  streamingSTTEntry(
    {
      name: 'Amazon Transcribe',
      className: 'TranscribeSTTService',
      importPath: 'piopiy-ai/services/aws',
      fake: 'startFakeTranscribe()',
      language: 'hi-IN',
      caveats: {
        options: 'no model parameter; the language travels as `language-code` in the presigned URL',
        auth: 'SigV4 presigned URL: the conformance key is the access key id; a refused one is a 403 on the handshake',
        'rate-limit': 'the handshake answers 429 `LimitExceededException`, without Retry-After: retried on the reconnect back-off',
        server: 'the handshake answers 500 `InternalFailureException`: retried on the reconnect back-off; the turn is still transcribed',
      },
    },
    {
      start: () => startFakeTranscribe({ rejectKey: REJECTED_KEY, secretAccessKey: 'conformance-secret' }),
      service: (fake, { apiKey, language, reconnect }) =>
        new TranscribeSTTService({ credentials: { accessKeyId: apiKey, secretAccessKey: 'conformance-secret' }, region: 'ap-south-1', baseUrl: fake.baseUrl, ...given({ language }), reconnect }),
      failHandshake: (fake, status) => {
        if (status === 401) throw new Error('the Transcribe entry refuses keys by rejectKey; no error 401');
        fake.failNextConnections(status);
      },
      // Streams accepted (refused handshakes open none).
      received: (fake) => receivedFrom(fake.connections.filter((c) => c.status === 101), (c) => ({ language: c.query['language-code'] })),
      openSockets: (fake) => fake.openSockets(),
    },
  ),
];
