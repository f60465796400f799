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
import { REJECTED_KEY, type STTEntry } from './harness.js';
import { segmentedFaults } from './segmented-faults.js';

const stringOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export const STT_ENTRIES: readonly STTEntry[] = [
  {
    name: 'Deepgram STT',
    className: 'DeepgramSTTService',
    importPath: 'piopiy-ai/services/deepgram',
    fake: 'startFakeDeepgram()',
    language: 'hi',
    model: 'nova-3',
    kind: 'streaming',
    sendsRetryAfter: false,
    notApplicable: {
      stall: 'audio flows one way; a silent server is met by the turn aggregator’s finalTranscriptTimeoutMs',
    },
    caveats: {
      'rate-limit': 'no Retry-After from Deepgram: the refused handshake is retried on the reconnect back-off, unreported',
      server: 'retried on the reconnect back-off, unreported; the turn is still transcribed',
    },
    async start() {
      const fake = await startFakeDeepgram({ rejectKey: REJECTED_KEY, interimIntervalMs: 300 });
      return {
        service: ({ apiKey, language, model }) =>
          new DeepgramSTTService({
            apiKey,
            baseUrl: fake.url,
            ...(language ? { language } : {}),
            ...(model ? { model } : {}),
            reconnect: { initialDelayMs: 100, attemptsBeforeError: 2, slowDelayMs: 5000 },
          }),
        scriptTranscript: (text) => fake.scriptTranscripts(text),
        fail: (fault) => {
          if (fault.kind === 'error') fake.failNextConnections(fault.status, 1, '/v1/listen');
          else throw new Error(`the Deepgram entry drops with dropNow, and has no ${fault.kind}`);
        },
        dropNow: () => fake.dropConnections('/v1/listen'),
        received: () => {
          const query = fake.listenSessions.at(-1)?.request.query;
          return { language: stringOf(query?.language), model: stringOf(query?.model), requests: fake.listenSessions.length };
        },
        openSockets: () => fake.listenSessions.filter((s) => s.closed === undefined).length,
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Deepgram Flux STT',
    className: 'DeepgramFluxSTTService',
    importPath: 'piopiy-ai/services/deepgram',
    fake: 'startFakeDeepgramFlux()',
    model: 'flux-general-en',
    kind: 'streaming',
    sendsRetryAfter: false,
    notApplicable: {
      stall: 'audio flows one way; a silent server is met by the turn aggregator’s finalTranscriptTimeoutMs',
    },
    caveats: {
      options: 'no language parameter on flux-general-en; flux-general-multi takes `language_hint`s',
      streaming: 'Flux’s EndOfTurn ends the turn (one final per turn); a VAD stop waits for it (`endOfTurn: "flux"`)',
      'rate-limit': 'no Retry-After from Deepgram: the refused handshake is retried on the reconnect back-off, unreported',
      server: 'retried on the reconnect back-off, unreported; the turn is still transcribed',
    },
    async start() {
      const fake = await startFakeDeepgramFlux({ rejectKey: REJECTED_KEY });
      return {
        service: ({ apiKey, model }) =>
          new DeepgramFluxSTTService({
            apiKey,
            baseUrl: fake.url,
            ...(model ? { model } : {}),
            reconnect: { initialDelayMs: 100, attemptsBeforeError: 2, slowDelayMs: 5000 },
          }),
        scriptTranscript: (text) => fake.scriptTranscripts(text),
        fail: (fault) => {
          if (fault.kind === 'error') fake.failNextConnections(fault.status);
          else throw new Error(`the Deepgram Flux entry drops with dropNow, and has no ${fault.kind}`);
        },
        dropNow: () => fake.dropConnections(),
        received: () => ({ language: undefined, model: fake.sessions.at(-1)?.query.model, requests: fake.sessions.length }),
        openSockets: () => fake.sessions.filter((s) => s.closed === undefined).length,
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'AssemblyAI STT',
    className: 'AssemblyAISTTService',
    importPath: 'piopiy-ai/services/assemblyai',
    fake: 'startFakeAssemblyAI()',
    model: 'universal-streaming-multilingual',
    kind: 'streaming',
    sendsRetryAfter: false,
    notApplicable: {
      stall: 'audio flows one way; a silent server is met by the turn aggregator’s finalTranscriptTimeoutMs',
    },
    caveats: {
      options: 'no language parameter: the model (`speech_model`) decides; the multilingual one detects',
      auth: 'the key is checked after the upgrade: an `Error` frame and close 1008, read as `auth`',
      'rate-limit': 'too many sessions is close 3009, without Retry-After: retried on the reconnect back-off',
      server: 'close 3005 after the upgrade: retried on the reconnect back-off; the turn is still transcribed',
    },
    async start() {
      const fake = await startFakeAssemblyAI({ rejectKey: REJECTED_KEY });
      return {
        service: ({ apiKey, model }) =>
          new AssemblyAISTTService({
            apiKey,
            baseUrl: fake.url,
            ...(model ? { model } : {}),
            reconnect: { initialDelayMs: 100, attemptsBeforeError: 2, slowDelayMs: 5000 },
          }),
        scriptTranscript: (text) => fake.scriptTranscripts(text),
        fail: (fault) => {
          if (fault.kind === 'error') fake.failNextConnections(fault.status);
          else throw new Error(`the AssemblyAI entry drops with dropNow, and has no ${fault.kind}`);
        },
        dropNow: () => fake.dropConnections(),
        // Sessions accepted (refused ones end at once, like Deepgram's refused handshakes).
        received: () => {
          const accepted = fake.sessions.filter((s) => s.accepted);
          return { language: undefined, model: accepted.at(-1)?.query.speech_model, requests: accepted.length };
        },
        openSockets: () => fake.sessions.filter((s) => s.closed === undefined).length,
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Speechmatics STT',
    className: 'SpeechmaticsSTTService',
    importPath: 'piopiy-ai/services/speechmatics',
    fake: 'startFakeSpeechmatics()',
    language: 'hi',
    model: 'enhanced',
    kind: 'streaming',
    sendsRetryAfter: false,
    notApplicable: {
      stall: 'audio flows one way; a silent server is met by the turn aggregator’s finalTranscriptTimeoutMs',
    },
    caveats: {
      options: 'language and model (`operating_point`) travel in the `StartRecognition` message, not the URL',
      'rate-limit': 'too many sessions is an in-band `quota_exceeded` error, without Retry-After: retried on the reconnect back-off',
      server: 'an in-band `job_error`: retried on the reconnect back-off; the turn is still transcribed',
    },
    async start() {
      const fake = await startFakeSpeechmatics({ rejectKey: REJECTED_KEY });
      // Sessions whose recognition started (a fault ends the others at StartRecognition).
      const started = () => fake.sessions.filter((s) => s.startRecognition !== undefined);
      return {
        service: ({ apiKey, language, model }) =>
          new SpeechmaticsSTTService({
            apiKey,
            baseUrl: fake.url,
            ...(language ? { language } : {}),
            ...(model === 'standard' || model === 'enhanced' ? { model } : {}),
            reconnect: { initialDelayMs: 100, attemptsBeforeError: 2, slowDelayMs: 5000 },
          }),
        scriptTranscript: (text) => fake.scriptTranscripts(text),
        fail: (fault) => {
          if (fault.kind === 'error') fake.failNextConnections(fault.status);
          else throw new Error(`the Speechmatics entry drops with dropNow, and has no ${fault.kind}`);
        },
        dropNow: () => fake.dropConnections(),
        received: () => {
          const config = started().at(-1)?.startRecognition?.transcription_config as { language?: string; operating_point?: string } | undefined;
          return { language: config?.language, model: config?.operating_point, requests: started().length };
        },
        openSockets: () => fake.sessions.filter((s) => s.closed === undefined).length,
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Soniox STT',
    className: 'SonioxSTTService',
    importPath: 'piopiy-ai/services/soniox',
    fake: 'startFakeSoniox()',
    language: 'hi',
    model: 'stt-rt-v5',
    kind: 'streaming',
    sendsRetryAfter: false,
    notApplicable: {
      stall: 'audio flows one way; a silent server is met by the turn aggregator’s finalTranscriptTimeoutMs',
    },
    caveats: {
      options: 'the language is a hint (`language_hints`) in the first message; the model detects among 60+',
      auth: 'the key is refused in band (`error_code` 401 before the close)',
      'rate-limit': 'an in-band 429, without Retry-After: retried on the reconnect back-off',
      server: 'an in-band 503 “Cannot continue request”: retried on the reconnect back-off; the turn is still transcribed',
    },
    async start() {
      const fake = await startFakeSoniox({ rejectKey: REJECTED_KEY });
      // Sessions whose configuration was accepted (a fault ends the others at once).
      const accepted = () => fake.sessions.filter((s) => s.config !== undefined);
      return {
        service: ({ apiKey, language, model }) =>
          new SonioxSTTService({
            apiKey,
            baseUrl: fake.url,
            ...(language ? { languageHints: [language] } : {}),
            ...(model ? { model } : {}),
            reconnect: { initialDelayMs: 100, attemptsBeforeError: 2, slowDelayMs: 5000 },
          }),
        scriptTranscript: (text) => fake.scriptTranscripts(text),
        fail: (fault) => {
          if (fault.kind === 'error') fake.failNextConnections(fault.status);
          else throw new Error(`the Soniox entry drops with dropNow, and has no ${fault.kind}`);
        },
        dropNow: () => fake.dropConnections(),
        received: () => {
          const config = accepted().at(-1)?.config as { language_hints?: string[]; model?: string } | undefined;
          return { language: config?.language_hints?.[0], model: config?.model, requests: accepted().length };
        },
        openSockets: () => fake.sessions.filter((s) => s.closed === undefined).length,
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Gladia STT',
    className: 'GladiaSTTService',
    importPath: 'piopiy-ai/services/gladia',
    fake: 'startFakeGladia()',
    language: 'hi',
    model: 'solaria-1',
    kind: 'streaming',
    sendsRetryAfter: false,
    notApplicable: {
      stall: 'audio flows one way; a silent server is met by the turn aggregator’s finalTranscriptTimeoutMs',
    },
    caveats: {
      options: 'language (`language_config.languages`) and model travel in the session POST, before the socket',
      auth: 'the session POST is refused with 401; no socket is opened',
      'rate-limit': 'the session POST answers 429, without Retry-After: retried on the reconnect back-off',
      server: 'the session POST answers 500: retried on the reconnect back-off; the turn is still transcribed',
    },
    async start() {
      const fake = await startFakeGladia({ rejectKey: REJECTED_KEY });
      return {
        service: ({ apiKey, language, model }) =>
          new GladiaSTTService({
            apiKey,
            baseUrl: fake.url,
            ...(language ? { languages: [language] } : {}),
            ...(model ? { model } : {}),
            reconnect: { initialDelayMs: 100, attemptsBeforeError: 2, slowDelayMs: 5000 },
          }),
        scriptTranscript: (text) => fake.scriptTranscripts(text),
        fail: (fault) => {
          if (fault.kind === 'error') fake.failNextConnections(fault.status);
          else throw new Error(`the Gladia entry drops with dropNow, and has no ${fault.kind}`);
        },
        dropNow: () => fake.dropConnections(),
        // Sessions created (refused POSTs create none).
        received: () => {
          const config = fake.sessions.at(-1)?.config as { language_config?: { languages?: string[] }; model?: string } | undefined;
          return { language: config?.language_config?.languages?.[0], model: config?.model, requests: fake.sessions.length };
        },
        openSockets: () => fake.sessions.filter((s) => s.connected && s.closed === undefined).length,
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Cartesia Ink STT',
    className: 'CartesiaSTTService',
    importPath: 'piopiy-ai/services/cartesia',
    fake: 'startFakeCartesiaSTT()',
    language: 'hi',
    model: 'ink-whisper',
    kind: 'streaming',
    sendsRetryAfter: false,
    notApplicable: {
      stall: 'audio flows one way; a silent server is met by the turn aggregator’s finalTranscriptTimeoutMs',
    },
    caveats: {
      'rate-limit': 'the refused handshake (429) carries no Retry-After: retried on the reconnect back-off, unreported',
      server: 'retried on the reconnect back-off, unreported; the turn is still transcribed',
    },
    async start() {
      const fake = await startFakeCartesiaSTT({ rejectKey: REJECTED_KEY });
      return {
        service: ({ apiKey, language, model }) =>
          new CartesiaSTTService({
            apiKey,
            baseUrl: fake.url,
            ...(language ? { language } : {}),
            ...(model ? { model } : {}),
            reconnect: { initialDelayMs: 100, attemptsBeforeError: 2, slowDelayMs: 5000 },
          }),
        scriptTranscript: (text) => fake.scriptTranscripts(text),
        fail: (fault) => {
          if (fault.kind === 'error') fake.failNextConnections(fault.status);
          else throw new Error(`the Cartesia Ink entry drops with dropNow, and has no ${fault.kind}`);
        },
        dropNow: () => fake.dropConnections(),
        received: () => {
          const query = fake.sessions.at(-1)?.query;
          return { language: query?.language, model: query?.model, requests: fake.sessions.length };
        },
        openSockets: () => fake.sessions.filter((s) => s.closed === undefined).length,
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'OpenAI STT',
    className: 'OpenAISTTService',
    importPath: 'piopiy-ai/services/openai',
    fake: 'startFakeOpenAIAudio()',
    language: 'hi',
    model: 'gpt-4o-transcribe',
    kind: 'segmented',
    sendsRetryAfter: true,
    async start() {
      const fake = await startFakeOpenAIAudio({ rejectKey: REJECTED_KEY });
      const transcriptions = () => fake.requests.filter((r) => r.path.endsWith('/audio/transcriptions'));
      return {
        service: ({ apiKey, language, model, timeoutMs }) =>
          new OpenAISTTService({ apiKey, baseURL: fake.baseURL, timeoutMs, ...(language ? { language } : {}), ...(model ? { model } : {}) }),
        scriptTranscript: (text) => fake.enqueueTranscriptions(text),
        fail: (fault) => {
          if (fault.kind === 'error') {
            fake.enqueueTranscriptions({ error: fault.status, ...(fault.retryAfterSecs === undefined ? {} : { retryAfter: fault.retryAfterSecs }) });
          } else if (fault.kind === 'stall') fake.enqueueTranscriptions({ stall: true });
          else fake.enqueueTranscriptions({ drop: true });
        },
        dropNow: () => {
          throw new Error('a segmented STT holds no socket between turns');
        },
        received: () => {
          const fields = transcriptions().at(-1)?.fields;
          return { language: stringOf(fields?.language), model: stringOf(fields?.model), requests: transcriptions().length };
        },
        openSockets: () => 0,
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Sarvam STT',
    className: 'SarvamSTTService',
    importPath: 'piopiy-ai/services/sarvam',
    fake: 'startFakeSarvam()',
    language: 'hi-IN',
    model: 'saaras:v3',
    kind: 'segmented',
    sendsRetryAfter: true,
    caveats: {
      auth: 'Sarvam refuses a key with 403 `invalid_api_key_error`, not 401',
      streaming: 'REST, one request per VAD turn (the `/speech-to-text/ws` socket is `SarvamStreamingSTTService`)',
    },
    async start() {
      const fake = await startFakeSarvam({ rejectKey: REJECTED_KEY });
      const transcriptions = () => fake.requests.filter((r) => r.path === '/speech-to-text');
      return {
        service: ({ apiKey, language, model, timeoutMs }) =>
          new SarvamSTTService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...(language ? { language } : {}), ...(model ? { model } : {}) }),
        scriptTranscript: (text) => fake.enqueueTranscriptions(text),
        fail: (fault) => {
          if (fault.kind === 'error') {
            fake.enqueueTranscriptions({ error: fault.status === 401 ? 403 : fault.status, ...(fault.retryAfterSecs === undefined ? {} : { retryAfter: fault.retryAfterSecs }) });
          } else if (fault.kind === 'stall') fake.enqueueTranscriptions({ stall: true });
          else fake.enqueueTranscriptions({ drop: true });
        },
        dropNow: () => {
          throw new Error('a segmented STT holds no socket between turns');
        },
        received: () => {
          const fields = transcriptions().at(-1)?.fields;
          return { language: fields?.language_code, model: fields?.model, requests: transcriptions().length };
        },
        openSockets: () => 0,
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Sarvam streaming STT',
    className: 'SarvamStreamingSTTService',
    importPath: 'piopiy-ai/services/sarvam',
    fake: 'startFakeSarvamStream()',
    language: 'hi-IN',
    model: 'saaras:v3',
    kind: 'streaming',
    sendsRetryAfter: false,
    notApplicable: {
      stall: 'audio flows one way; a silent server is met by the turn aggregator’s finalTranscriptTimeoutMs',
    },
    caveats: {
      streaming: 'one final per utterance (the endpoint sends no interim results); `flush` at VAD stop',
      options: 'language (`language-code`) and model travel in the socket’s query',
      auth: 'Sarvam refuses a key with 403 `invalid_api_key_error`, not 401',
      'rate-limit': 'the handshake answers 429 `rate_limit_exceeded_error`, without Retry-After: retried on the reconnect back-off',
      server: 'the handshake answers 500: retried on the reconnect back-off; the turn is still transcribed',
    },
    async start() {
      const fake = await startFakeSarvamStream({ rejectKey: REJECTED_KEY });
      const accepted = () => fake.sessions.filter((s) => s.accepted);
      return {
        service: ({ apiKey, language, model }) =>
          new SarvamStreamingSTTService({
            apiKey,
            baseUrl: fake.url,
            ...(language ? { language } : {}),
            ...(model ? { model } : {}),
            reconnect: { initialDelayMs: 100, attemptsBeforeError: 2, slowDelayMs: 5000 },
          }),
        scriptTranscript: (text) => fake.scriptTranscripts(text),
        fail: (fault) => {
          if (fault.kind === 'error') fake.failNextConnections(fault.status === 401 ? 403 : fault.status);
          else throw new Error(`the Sarvam streaming entry drops with dropNow, and has no ${fault.kind}`);
        },
        dropNow: () => fake.dropConnections(),
        received: () => {
          const query = accepted().at(-1)?.query;
          return { language: query?.['language-code'], model: query?.model, requests: accepted().length };
        },
        openSockets: () => fake.sessions.filter((s) => s.accepted && s.closed === undefined).length,
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Groq STT',
    className: 'GroqSTTService',
    importPath: 'piopiy-ai/services/openai',
    fake: 'startFakeGroqSTT()',
    language: 'hi',
    model: 'whisper-large-v3',
    kind: 'segmented',
    sendsRetryAfter: true,
    caveats: { streaming: 'REST (OpenAI-compatible), one request per VAD turn; Groq bills each request as at least 10 s' },
    async start() {
      const fake = await startFakeGroqSTT({ rejectKey: REJECTED_KEY });
      const valid = () => fake.requests.filter((r) => r.auth.valid);
      return {
        service: ({ apiKey, language, model, timeoutMs }) =>
          new GroqSTTService({ apiKey, baseURL: fake.baseURL, timeoutMs, ...(language ? { language } : {}), ...(model ? { model } : {}) }),
        scriptTranscript: (text) => fake.enqueueTranscriptions(text),
        ...segmentedFaults((answer) => fake.enqueueTranscriptions(answer)),
        received: () => ({ language: valid().at(-1)?.options.language, model: valid().at(-1)?.options.model, requests: valid().length }),
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'ElevenLabs Scribe STT',
    className: 'ElevenLabsSTTService',
    importPath: 'piopiy-ai/services/elevenlabs',
    fake: 'startFakeElevenLabsSTT()',
    language: 'hi',
    model: 'scribe_v2',
    kind: 'segmented',
    sendsRetryAfter: true,
    caveats: { streaming: 'REST, one request per VAD turn (raw 16 kHz PCM upload); the realtime socket is `ElevenLabsRealtimeSTTService`' },
    async start() {
      const fake = await startFakeElevenLabsSTT({ rejectKey: REJECTED_KEY });
      const valid = () => fake.requests.filter((r) => r.auth.valid);
      return {
        service: ({ apiKey, language, model, timeoutMs }) =>
          new ElevenLabsSTTService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...(language ? { language } : {}), ...(model ? { model } : {}) }),
        scriptTranscript: (text) => fake.enqueueTranscriptions(text),
        ...segmentedFaults((answer) => fake.enqueueTranscriptions(answer)),
        received: () => ({ language: valid().at(-1)?.options.language_code, model: valid().at(-1)?.options.model_id, requests: valid().length }),
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'ElevenLabs Scribe realtime STT',
    className: 'ElevenLabsRealtimeSTTService',
    importPath: 'piopiy-ai/services/elevenlabs',
    fake: 'startFakeElevenLabsRealtime()',
    language: 'hi',
    model: 'scribe_v2_realtime',
    kind: 'streaming',
    sendsRetryAfter: false,
    notApplicable: {
      stall: 'audio flows one way; a silent server is met by the turn aggregator’s finalTranscriptTimeoutMs',
    },
    caveats: {
      streaming: 'partial transcripts while the caller speaks; a manual commit at VAD stop answers the turn’s final',
      options: 'language (`language_code`) and model (`model_id`) travel in the socket’s query',
      auth: 'the key is refused in band (`auth_error` before the close)',
      'rate-limit': 'an in-band `rate_limited`, without Retry-After: retried on the reconnect back-off',
      server: 'an in-band `transcriber_error`: retried on the reconnect back-off; the turn is still transcribed',
    },
    async start() {
      const fake = await startFakeElevenLabsRealtime({ rejectKey: REJECTED_KEY });
      const started = () => fake.sessions.filter((s) => s.started);
      return {
        service: ({ apiKey, language, model }) =>
          new ElevenLabsRealtimeSTTService({
            apiKey,
            baseUrl: fake.url,
            ...(language ? { language } : {}),
            ...(model ? { model } : {}),
            reconnect: { initialDelayMs: 100, attemptsBeforeError: 2, slowDelayMs: 5000 },
          }),
        scriptTranscript: (text) => fake.scriptTranscripts(text),
        fail: (fault) => {
          if (fault.kind === 'error') fake.failNextConnections(fault.status);
          else throw new Error(`the ElevenLabs realtime entry drops with dropNow, and has no ${fault.kind}`);
        },
        dropNow: () => fake.dropConnections(),
        received: () => {
          const query = started().at(-1)?.query;
          return { language: query?.language_code, model: query?.model_id, requests: started().length };
        },
        openSockets: () => fake.sessions.filter((s) => s.closed === undefined).length,
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Azure Speech STT',
    className: 'AzureSTTService',
    importPath: 'piopiy-ai/services/azure',
    fake: 'startFakeAzureSpeech()',
    language: 'hi-IN',
    kind: 'segmented',
    sendsRetryAfter: true,
    caveats: {
      streaming: 'REST for short audio, one request per VAD turn (16 kHz WAV); the Speech SDK’s streaming socket is not used',
      options: 'no model to choose on this endpoint: the locale is what reaches it',
    },
    async start() {
      const fake = await startFakeAzureSpeech({ rejectKey: REJECTED_KEY });
      const valid = () => fake.requests.filter((r) => r.auth.valid);
      return {
        service: ({ apiKey, language, timeoutMs }) => new AzureSTTService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...(language ? { language } : {}) }),
        scriptTranscript: (text) => fake.enqueueTranscriptions(text),
        ...segmentedFaults((answer) => fake.enqueueTranscriptions(answer)),
        received: () => ({ language: valid().at(-1)?.options.language, model: undefined, requests: valid().length }),
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Google Cloud Speech STT',
    className: 'GoogleSTTService',
    importPath: 'piopiy-ai/services/google',
    fake: 'startFakeGoogleSpeech()',
    language: 'hi-IN',
    model: 'telephony',
    kind: 'segmented',
    sendsRetryAfter: true,
    caveats: {
      streaming: 'v1 `speech:recognize` (REST), one request per VAD turn; streaming recognition is gRPC-only',
      auth: 'a bad API key is Google’s 400 INVALID_ARGUMENT / API_KEY_INVALID (read as `auth`); a bad bearer token is 401',
    },
    async start() {
      const fake = await startFakeGoogleSpeech({ rejectKey: REJECTED_KEY });
      const valid = () => fake.requests.filter((r) => r.auth.valid);
      return {
        service: ({ apiKey, language, model, timeoutMs }) =>
          new GoogleSTTService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...(language ? { language } : {}), ...(model ? { model } : {}) }),
        scriptTranscript: (text) => fake.enqueueTranscriptions(text),
        ...segmentedFaults((answer) => fake.enqueueTranscriptions(answer)),
        received: () => ({ language: valid().at(-1)?.options.languageCode, model: valid().at(-1)?.options.model, requests: valid().length }),
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Amazon Transcribe',
    className: 'TranscribeSTTService',
    importPath: 'piopiy-ai/services/aws',
    fake: 'startFakeTranscribe()',
    language: 'hi-IN',
    kind: 'streaming',
    sendsRetryAfter: false,
    notApplicable: {
      stall: 'audio flows one way; a silent server is met by the turn aggregator’s finalTranscriptTimeoutMs',
    },
    caveats: {
      options: 'no model parameter; the language travels as `language-code` in the presigned URL',
      auth: 'SigV4 presigned URL: the conformance key is the access key id; a refused one is a 403 on the handshake',
      'rate-limit': 'the handshake answers 429 `LimitExceededException`, without Retry-After: retried on the reconnect back-off',
      server: 'the handshake answers 500 `InternalFailureException`: retried on the reconnect back-off; the turn is still transcribed',
    },
    async start() {
      const fake = await startFakeTranscribe({ rejectKey: REJECTED_KEY, secretAccessKey: 'conformance-secret' });
      return {
        service: ({ apiKey, language }) =>
          new TranscribeSTTService({
            credentials: { accessKeyId: apiKey, secretAccessKey: 'conformance-secret' },
            region: 'ap-south-1',
            baseUrl: fake.baseUrl,
            ...(language ? { language } : {}),
            reconnect: { initialDelayMs: 100, attemptsBeforeError: 2, slowDelayMs: 5000 },
          }),
        scriptTranscript: (text) => fake.scriptTranscripts(text),
        fail: (fault) => {
          if (fault.kind === 'error' && fault.status !== 401) fake.failNextConnections(fault.status);
          else throw new Error(`the Transcribe entry refuses keys by rejectKey and drops with dropNow; no ${fault.kind} ${fault.kind === 'error' ? fault.status : ''}`);
        },
        dropNow: () => fake.dropConnections(),
        // Streams accepted (refused handshakes open none).
        received: () => {
          const accepted = fake.connections.filter((c) => c.status === 101);
          return { language: accepted.at(-1)?.query['language-code'], model: undefined, requests: accepted.length };
        },
        openSockets: () => fake.openSockets(),
        close: () => fake.close(),
      };
    },
  },
];
