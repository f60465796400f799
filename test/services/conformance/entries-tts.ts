// TTS conformance entries: each service against its fake vendor server.
import { CartesiaTTSService } from '../../../src/services/cartesia/index.js';
import { DeepgramTTSService } from '../../../src/services/deepgram/index.js';
import { ElevenLabsTTSService } from '../../../src/services/elevenlabs/index.js';
import { EspeakTTSService, FliteTTSService } from '../../../src/services/local/index.js';
import { GroqTTSService, OpenAITTSService } from '../../../src/services/openai/index.js';
import { FishAudioTTSService } from '../../../src/services/fish/index.js';
import { HumeTTSService } from '../../../src/services/hume/index.js';
import { InworldTTSService } from '../../../src/services/inworld/index.js';
import { LmntTTSService } from '../../../src/services/lmnt/index.js';
import { MiniMaxTTSService } from '../../../src/services/minimax/index.js';
import { RimeTTSService } from '../../../src/services/rime/index.js';
import { SarvamTTSService } from '../../../src/services/sarvam/index.js';
import { startFakeCartesia } from '../../../src/testing/fakes/cartesia.js';
import { startFakeDeepgram } from '../../../src/testing/fakes/deepgram.js';
import { startFakeElevenLabs } from '../../../src/testing/fakes/elevenlabs.js';
import { startFakeOpenAIAudio } from '../../../src/testing/fakes/openai-audio.js';
import { startFakeFish } from '../../../src/testing/fakes/fish.js';
import { startFakeHume } from '../../../src/testing/fakes/hume.js';
import { startFakeInworld } from '../../../src/testing/fakes/inworld.js';
import { startFakeLmnt, type FakeLmntErrorType } from '../../../src/testing/fakes/lmnt.js';
import { startFakeMiniMax } from '../../../src/testing/fakes/minimax.js';
import { startFakeRime } from '../../../src/testing/fakes/rime.js';
import { startFakeSarvam } from '../../../src/testing/fakes/sarvam.js';
import { startFakeGroqTTS } from '../../../src/testing/fakes/groq-tts.js';
import { PollyTTSService } from '../../../src/services/aws/index.js';
import { startFakePolly } from '../../../src/testing/fakes/polly.js';
import { AzureTTSService } from '../../../src/services/azure/index.js';
import { startFakeAzure } from '../../../src/testing/fakes/azure.js';
import { GoogleTTSService } from '../../../src/services/google/index.js';
import { startFakeGoogleTTS } from '../../../src/testing/fakes/google-tts.js';
import { GradiumTTSService } from '../../../src/services/gradium/index.js';
import { startFakeGradium } from '../../../src/testing/fakes/gradium.js';
import { NeuphonicTTSService } from '../../../src/services/neuphonic/index.js';
import { startFakeNeuphonic } from '../../../src/testing/fakes/neuphonic.js';
import { SpeechmaticsTTSService } from '../../../src/services/speechmatics/index.js';
import { startFakeSpeechmaticsTTS } from '../../../src/testing/fakes/speechmatics-tts.js';
import { PiperHttpTTSService } from '../../../src/services/piper/index.js';
import { startFakePiper } from '../../../src/testing/fakes/piper.js';
import { spawnSync } from 'node:child_process';
import type { TTSService } from '../../../src/services/base/index.js';
import { httpTTSEntry, socketTTSEntry, speechFault, stringField } from './builders-tts.js';
import { REJECTED_KEY, type CheckId, type TTSEntry, type TTSFault } from './harness.js';

/** HTTP faults as the OpenAI-audio and Deepgram fakes script them (a drop after some audio). */
function httpFault(fault: TTSFault) {
  switch (fault.kind) {
    case 'error':
      return { error: fault.status, ...(fault.retryAfterSecs === undefined ? {} : { retryAfter: fault.retryAfterSecs }) };
    case 'stall':
      return { stall: true as const };
    case 'drop':
      return { drop: true as const, afterBytes: 4000 };
  }
}

const POLLY_SECRET = 'conformance-aws-secret';
const LMNT_ERROR_TYPES: Record<number, FakeLmntErrorType> = { 401: 'authentication_error', 429: 'rate_limit_error', 500: 'internal_server_error' };

/** The checks an offline engine cannot meet: there is no vendor, key or socket. */
const OFFLINE: Partial<Record<CheckId, string>> = {
  options: 'offline engine: no vendor receives options (its voices are tested in test/services/local)',
  drop: 'offline engine: no socket',
  auth: 'offline engine: no key',
  'rate-limit': 'offline engine: no vendor',
  server: 'offline engine: no vendor',
  stall: 'offline engine: no vendor',
  secrets: 'offline engine: no key',
};

function offlineEntry(name: string, className: string, make: () => TTSService, fake: string, missing?: string): TTSEntry {
  return {
    name,
    ...(missing === undefined ? {} : { missing }),
    className,
    importPath: 'piopiy-ai/services/local',
    fake,
    sendsRetryAfter: false,
    onDrop: 'fails',
    notApplicable: OFFLINE,
    start() {
      return Promise.resolve({
        service: make,
        fail: () => {
          throw new Error(`${name} has no vendor to fail`);
        },
        received: () => ({ requests: 0 }),
        openSockets: () => 0,
        close: () => Promise.resolve(),
      });
    },
  };
}

export const TTS_ENTRIES: readonly TTSEntry[] = [
  socketTTSEntry(
    { name: 'Cartesia', className: 'CartesiaTTSService', importPath: 'piopiy-ai/services/cartesia', fake: 'startFakeCartesia()', voice: 'conformance-voice', language: 'hi', sendsRetryAfter: true },
    {
      start: () => startFakeCartesia({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, voice, language, timeoutMs }) =>
        new CartesiaTTSService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...(voice ? { voiceId: voice } : {}), ...(language ? { language } : {}) }),
      failSynthesis: (fake, fault) => fake.failGeneration(fault),
      received: (fake) => {
        const last = fake.messages().filter((m) => stringField(m, 'transcript') !== undefined).at(-1);
        const voice = (last as { voice?: unknown } | undefined)?.voice;
        return { voice: stringField(voice, 'id'), language: stringField(last, 'language'), requests: fake.contexts.length };
      },
    },
  ),
  socketTTSEntry(
    { name: 'ElevenLabs', className: 'ElevenLabsTTSService', importPath: 'piopiy-ai/services/elevenlabs', fake: 'startFakeElevenLabs()', voice: 'conformance-voice', language: 'hi', sendsRetryAfter: true },
    {
      start: () => startFakeElevenLabs({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, voice, language, timeoutMs }) =>
        new ElevenLabsTTSService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, voiceId: voice ?? 'voice-1', ...(language ? { language } : {}) }),
      failSynthesis: (fake, fault) => fake.failGeneration(fault),
      received: (fake) => {
        const last = fake.connections.at(-1);
        return { voice: last?.voiceId, language: last?.query.language_code, requests: fake.contexts.length };
      },
    },
  ),
  {
    name: 'OpenAI TTS',
    className: 'OpenAITTSService',
    importPath: 'piopiy-ai/services/openai',
    fake: 'startFakeOpenAIAudio()',
    voice: 'coral',
    sendsRetryAfter: true,
    onDrop: 'fails',
    caveats: { options: 'no language option (the model reads the text in its language): the voice is checked' },
    async start() {
      const fake = await startFakeOpenAIAudio({ rejectKey: REJECTED_KEY });
      return {
        service: ({ apiKey, voice, timeoutMs }) => new OpenAITTSService({ apiKey, baseURL: fake.baseURL, timeoutMs, ...(voice ? { voice } : {}) }),
        fail: (fault) => fake.enqueueSpeech(httpFault(fault)),
        received: () => {
          const speech = fake.requests.filter((r) => r.path.endsWith('/audio/speech'));
          return { voice: stringField(speech.at(-1)?.body, 'voice'), requests: speech.length };
        },
        openSockets: () => 0,
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Deepgram Aura',
    className: 'DeepgramTTSService',
    importPath: 'piopiy-ai/services/deepgram',
    fake: 'startFakeDeepgram()',
    voice: 'aura-2-andromeda-en',
    sendsRetryAfter: false,
    onDrop: 'fails',
    caveats: {
      options: 'the voice is the model (`aura-2-<voice>-<lang>`), no separate language: the voice is checked',
      'rate-limit': 'Deepgram sends no Retry-After: the code and retryability are checked',
    },
    async start() {
      const fake = await startFakeDeepgram({ rejectKey: REJECTED_KEY });
      return {
        service: ({ apiKey, voice, timeoutMs }) => new DeepgramTTSService({ apiKey, baseUrl: fake.httpUrl, timeoutMs, ...(voice ? { voice } : {}) }),
        fail: (fault) => fake.enqueueSpeak(httpFault(fault)),
        received: () => {
          const speak = fake.requests.filter((r) => r.path === '/v1/speak');
          const model = speak.at(-1)?.query.model;
          return { voice: typeof model === 'string' ? model : undefined, requests: speak.length };
        },
        openSockets: () => 0,
        close: () => fake.close(),
      };
    },
  },
  httpTTSEntry(
    {
      name: 'Sarvam TTS',
      className: 'SarvamTTSService',
      importPath: 'piopiy-ai/services/sarvam',
      fake: 'startFakeSarvam()',
      voice: 'priya',
      language: 'ta-IN',
      sendsRetryAfter: true,
      caveats: { auth: 'Sarvam refuses a key with 403 `invalid_api_key_error`, not 401' },
    },
    {
      start: () => startFakeSarvam({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, voice, language, timeoutMs }) =>
        new SarvamTTSService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...(voice ? { speaker: voice } : {}), ...(language ? { language } : {}) }),
      fault: (fault) => {
        if (fault.kind === 'error') return { error: fault.status === 401 ? 403 : fault.status, ...(fault.retryAfterSecs === undefined ? {} : { retryAfter: fault.retryAfterSecs }) };
        return fault.kind === 'stall' ? { stall: true } : { drop: true, afterBytes: 4000 };
      },
      syntheses: (fake) => fake.requests.filter((r) => r.path === '/text-to-speech/stream'),
      sent: (last) => ({ voice: stringField(last?.body, 'speaker'), language: stringField(last?.body, 'target_language_code') }),
    },
  ),
  socketTTSEntry(
    { name: 'Rime', className: 'RimeTTSService', importPath: 'piopiy-ai/services/rime', fake: 'startFakeRime()', voice: 'astra', language: 'hin', sendsRetryAfter: true },
    {
      start: () => startFakeRime({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, voice, language, timeoutMs }) =>
        new RimeTTSService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, speaker: voice ?? 'astra', ...(language ? { language } : {}) }),
      failSynthesis: (fake, fault) => fake.failSynthesis(fault),
      received: (fake) => {
        const query = fake.connections.filter((c) => c.status === 101).at(-1)?.query;
        return { voice: query?.speaker, language: query?.lang, requests: fake.syntheses.length };
      },
    },
  ),
  socketTTSEntry(
    {
      name: 'LMNT',
      className: 'LmntTTSService',
      importPath: 'piopiy-ai/services/lmnt',
      fake: 'startFakeLmnt()',
      voice: 'leah',
      language: 'hi',
      sendsRetryAfter: false,
      caveats: {
        auth: 'the key goes in the `init` message: a refused key is an in-band `authentication_error`, not an HTTP 401',
        'rate-limit': 'an in-band `rate_limit_error`, without Retry-After: the code and retryability are checked',
        server: 'an in-band `internal_server_error`',
      },
    },
    {
      start: () => startFakeLmnt({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, voice, language, timeoutMs }) =>
        new LmntTTSService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, voice: voice ?? 'leah', ...(language ? { language } : {}) }),
      failSynthesis: (fake, fault) => fake.failSynthesis(fault),
      failError: (fake, fault) => fake.failSynthesis({ error: LMNT_ERROR_TYPES[fault.status] ?? 'internal_server_error' }),
      received: (fake) => {
        const init = fake.connections.filter((c) => c.init !== undefined).at(-1)?.init;
        return { voice: stringField(init, 'voice'), language: stringField(init, 'language'), requests: fake.syntheses.length };
      },
    },
  ),
  httpTTSEntry(
    { name: 'Inworld', className: 'InworldTTSService', importPath: 'piopiy-ai/services/inworld', fake: 'startFakeInworld()', voice: 'Dennis', language: 'hi-IN', sendsRetryAfter: true },
    {
      start: () => startFakeInworld({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, voice, language, timeoutMs }) =>
        new InworldTTSService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...(voice ? { voice } : {}), ...(language ? { language } : {}) }),
      syntheses: (fake) => fake.requests.filter((r) => r.path === '/tts/v1/voice:stream'),
      sent: (last) => ({ voice: stringField(last?.body, 'voiceId'), language: stringField(last?.body, 'language') }),
    },
  ),
  socketTTSEntry(
    {
      name: 'Fish Audio',
      className: 'FishAudioTTSService',
      importPath: 'piopiy-ai/services/fish',
      fake: 'startFakeFish()',
      voice: 'conformance-voice',
      sendsRetryAfter: true,
      caveats: {
        options: 'no language option (Fish reads the text in its language): the voice (`reference_id`) is checked',
        drop: 'no word timings: the cut sentence is said again whole on a new socket',
      },
    },
    {
      start: () => startFakeFish({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, voice, timeoutMs }) => new FishAudioTTSService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...(voice ? { voice } : {}) }),
      failSynthesis: (fake, fault) => fake.failSynthesis(fault),
      received: (fake) => ({ voice: stringField(fake.connections.filter((c) => c.start !== undefined).at(-1)?.start, 'reference_id'), requests: fake.syntheses.length }),
    },
  ),
  httpTTSEntry(
    {
      name: 'Hume',
      className: 'HumeTTSService',
      importPath: 'piopiy-ai/services/hume',
      fake: 'startFakeHume()',
      voice: 'Conformance Voice',
      sendsRetryAfter: true,
      caveats: { options: 'no language option (Octave reads the text in its language): the voice is checked' },
    },
    {
      start: () => startFakeHume({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, voice, timeoutMs }) => new HumeTTSService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, voice: voice ?? 'Conformance Voice' }),
      syntheses: (fake) => fake.requests.filter((r) => r.path === '/v0/tts/stream/json'),
      sent: (last) => ({ voice: stringField((last?.body as { utterances?: { voice?: unknown }[] } | undefined)?.utterances?.[0]?.voice, 'name') }),
    },
  ),
  httpTTSEntry(
    {
      name: 'MiniMax',
      className: 'MiniMaxTTSService',
      importPath: 'piopiy-ai/services/minimax',
      fake: 'startFakeMiniMax()',
      voice: 'English_Graceful_Lady',
      language: 'Hindi',
      // MiniMax says "rate limit" in the body (HTTP 200, base_resp 1002), with no Retry-After.
      sendsRetryAfter: false,
    },
    {
      start: () => startFakeMiniMax({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, voice, language, timeoutMs }) =>
        new MiniMaxTTSService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...(voice ? { voice } : {}), ...(language ? { language } : {}) }),
      // MiniMax's own refusals come in the body (HTTP 200); a 500 is the gateway's.
      fault: (fault) => (fault.kind !== 'error' ? speechFault(fault) : fault.status === 429 ? { baseResp: 1002, message: 'rate limit' } : fault.status === 401 ? { baseResp: 1004 } : { error: 500 }),
      syntheses: (fake) => fake.requests.filter((r) => r.path === '/v1/t2a_v2'),
      sent: (last) => {
        const body = last?.body;
        const voiceSetting = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).voice_setting : undefined;
        return { voice: stringField(voiceSetting, 'voice_id'), language: stringField(body, 'language_boost') };
      },
    },
  ),
  httpTTSEntry(
    { name: 'Azure Speech TTS', className: 'AzureTTSService', importPath: 'piopiy-ai/services/azure', fake: 'startFakeAzure()', voice: 'hi-IN-SwaraNeural', language: 'hi-IN', sendsRetryAfter: true },
    {
      start: () => startFakeAzure({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, voice, language, timeoutMs }) =>
        new AzureTTSService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...(voice ? { voice } : {}), ...(language ? { language } : {}) }),
      syntheses: (fake) => fake.requests.filter((r) => r.path === '/cognitiveservices/v1'),
      sent: (last) => ({ voice: last?.ssml?.voice, language: last?.ssml?.lang }),
    },
  ),
  httpTTSEntry(
    {
      name: 'Google Cloud TTS',
      className: 'GoogleTTSService',
      importPath: 'piopiy-ai/services/google',
      fake: 'startFakeGoogleTTS()',
      voice: 'hi-IN-Wavenet-A',
      language: 'hi-IN',
      sendsRetryAfter: true,
      caveats: {
        streaming: 'v1 REST answers a sentence whole (one JSON): the first audio waits for all of it, then goes on in 40 ms pieces',
        auth: 'Google refuses a bad API key with 400 INVALID_ARGUMENT whose ErrorInfo reason is API_KEY_INVALID',
        'rate-limit': 'the wait is the body\'s RetryInfo `retryDelay`, not a header',
      },
    },
    {
      start: () => startFakeGoogleTTS({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, voice, language, timeoutMs }) =>
        new GoogleTTSService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...(voice ? { voice } : {}), ...(language ? { language } : {}) }),
      fault: (fault) =>
        fault.kind === 'error' ? { error: fault.status, ...(fault.retryAfterSecs === undefined ? {} : { retryDelaySecs: fault.retryAfterSecs }) } : speechFault(fault),
      syntheses: (fake) => fake.requests.filter((r) => r.path === '/v1/text:synthesize'),
      sent: (last) => {
        const voice = (last?.body as { voice?: unknown } | undefined)?.voice;
        return { voice: stringField(voice, 'name'), language: stringField(voice, 'languageCode') };
      },
    },
  ),
  httpTTSEntry(
    {
      name: 'Groq TTS',
      className: 'GroqTTSService',
      importPath: 'piopiy-ai/services/openai',
      fake: 'startFakeGroqTTS()',
      voice: 'daniel',
      sendsRetryAfter: true,
      caveats: { options: 'no language option (the model is the language: orpheus-v1-english, orpheus-arabic-saudi): the voice is checked' },
    },
    {
      start: () => startFakeGroqTTS({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, voice, timeoutMs }) => new GroqTTSService({ apiKey, baseURL: fake.baseURL, timeoutMs, ...(voice ? { voice } : {}) }),
      syntheses: (fake) => fake.requests.filter((r) => r.path === '/openai/v1/audio/speech'),
      sent: (last) => ({ voice: stringField(last?.body, 'voice') }),
    },
  ),
  httpTTSEntry(
    {
      name: 'Amazon Polly',
      className: 'PollyTTSService',
      importPath: 'piopiy-ai/services/aws',
      fake: 'startFakePolly()',
      voice: 'Kajal',
      language: 'hi-IN',
      sendsRetryAfter: false,
      caveats: {
        auth: 'the key is the access key id, the request SigV4-signed (the fake checks the signature); refused: 403 UnrecognizedClientException',
        'rate-limit': 'Polly throttles with 400 ThrottlingException, without Retry-After: the code and retryability are checked',
      },
    },
    {
      start: () => startFakePolly({ rejectKey: REJECTED_KEY, secretAccessKey: POLLY_SECRET }),
      service: (fake, { apiKey, voice, language, timeoutMs }) =>
        new PollyTTSService({ credentials: { accessKeyId: apiKey, secretAccessKey: POLLY_SECRET }, region: 'ap-south-1', baseUrl: fake.baseUrl, timeoutMs, ...(voice ? { voice } : {}), ...(language ? { language } : {}) }),
      fault: (fault) => (fault.kind === 'error' ? { error: fault.status } : speechFault(fault)),
      syntheses: (fake) => fake.requests.filter((r) => r.path === '/v1/speech'),
      sent: (last) => ({ voice: stringField(last?.body, 'VoiceId'), language: stringField(last?.body, 'LanguageCode') }),
    },
  ),
  socketTTSEntry(
    {
      name: 'Gradium',
      className: 'GradiumTTSService',
      importPath: 'piopiy-ai/services/gradium',
      fake: 'startFakeGradium()',
      voice: 'conformance-voice',
      sendsRetryAfter: true,
      caveats: {
        options: 'no language option (the voice sets it): the voice (`voice_id`) is checked',
        interruption: 'no cancel message exists: the interrupted request is left to finish and its audio dropped by `client_req_id`',
      },
    },
    {
      start: () => startFakeGradium({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, voice, timeoutMs }) => new GradiumTTSService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...(voice ? { voice } : {}) }),
      failSynthesis: (fake, fault) => fake.failSynthesis(fault),
      received: (fake) => ({ voice: stringField(fake.syntheses.at(-1)?.setup, 'voice_id'), requests: fake.syntheses.length }),
    },
  ),
  httpTTSEntry(
    {
      name: 'Neuphonic',
      className: 'NeuphonicTTSService',
      importPath: 'piopiy-ai/services/neuphonic',
      fake: 'startFakeNeuphonic()',
      voice: 'e564ba7e-aa8d-46a2-96a8-8dffedade48f',
      language: 'hi',
      sendsRetryAfter: true,
    },
    {
      start: () => startFakeNeuphonic({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, voice, language, timeoutMs }) =>
        new NeuphonicTTSService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...(voice ? { voice } : {}), ...(language ? { language } : {}) }),
      syntheses: (fake) => fake.requests.filter((r) => r.language !== undefined),
      sent: (last) => ({ voice: stringField(last?.body, 'voice_id'), language: last?.language }),
    },
  ),
  httpTTSEntry(
    {
      name: 'Speechmatics TTS',
      className: 'SpeechmaticsTTSService',
      importPath: 'piopiy-ai/services/speechmatics',
      fake: 'startFakeSpeechmaticsTTS()',
      voice: 'theo',
      sendsRetryAfter: true,
      caveats: { options: 'no language option (the preview\'s four voices are English): the voice (in the path) is checked' },
    },
    {
      start: () => startFakeSpeechmaticsTTS({ rejectKey: REJECTED_KEY }),
      service: (fake, { apiKey, voice, timeoutMs }) => new SpeechmaticsTTSService({ apiKey, baseUrl: fake.baseUrl, timeoutMs, ...(voice ? { voice } : {}) }),
      syntheses: (fake) => fake.requests.filter((r) => r.voice !== undefined),
      sent: (last) => ({ voice: last?.voice }),
    },
  ),
  httpTTSEntry(
    {
      name: 'Piper (HTTP server)',
      className: 'PiperHttpTTSService',
      importPath: 'piopiy-ai/services/piper',
      fake: 'startFakePiper()',
      voice: 'hi_IN-pratham-medium',
      sendsRetryAfter: false,
      notApplicable: {
        auth: 'Piper\'s server has no authentication (run it next to the agent, or behind a proxy of your own)',
        'rate-limit': 'a local server: no rate limit, no 429',
        secrets: 'no key is sent',
      },
      caveats: {
        streaming: 'the server answers once the whole sentence is made (one WAV with its length); it is yielded as its bytes arrive',
        options: 'no language option (the voice sets it): the voice is checked',
      },
    },
    {
      start: () => startFakePiper({ voices: { 'en_US-lessac-medium': { sampleRate: 22050 }, 'hi_IN-pratham-medium': { sampleRate: 22050 } } }),
      service: (fake, { voice, timeoutMs }) => new PiperHttpTTSService({ baseUrl: fake.baseUrl, timeoutMs, ...(voice ? { voice } : {}) }),
      fault: (fault) => (fault.kind === 'error' ? { error: 500 } : speechFault(fault)),
      syntheses: (fake) => fake.requests.filter((r) => r.method === 'POST'),
      sent: (last) => ({ voice: stringField(last?.body, 'voice') }),
    },
  ),
  offlineEntry('Flite', 'FliteTTSService', () => new FliteTTSService(), 'offline (WebAssembly on worker threads)'),
  offlineEntry(
    'espeak-ng',
    'EspeakTTSService',
    () => new EspeakTTSService(),
    'offline (the espeak-ng program, installed separately)',
    spawnSync('espeak-ng', ['--version']).status === 0 ? undefined : 'needs espeak-ng (apt-get install espeak-ng)',
  ),
];
