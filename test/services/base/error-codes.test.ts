// Every vendor client, HTTP and WebSocket, gives a refused key, a rate limit and a server failure the same stable
// code, driven against its fake vendor server: an application can branch on `error.code` whoever the vendor is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFrame, type ErrorFrame } from '../../../src/frames/index.js';
import { silentLogger } from '../../../src/logging/index.js';
import { Pipeline, PipelineTask } from '../../../src/pipeline/index.js';
import { AnthropicLLMService } from '../../../src/services/anthropic/index.js';
import {
  isRetryableCode,
  SERVICE_ERROR_CODES,
  ServiceError,
  type ServiceErrorCode,
  type TTSService,
} from '../../../src/services/base/index.js';
import { CartesiaTTSService } from '../../../src/services/cartesia/index.js';
import { DeepgramSTTService, DeepgramTTSService } from '../../../src/services/deepgram/index.js';
import { ElevenLabsTTSService } from '../../../src/services/elevenlabs/index.js';
import { GoogleLLMService } from '../../../src/services/google/index.js';
import { OpenAILLMService, OpenAISTTService, OpenAITTSService } from '../../../src/services/openai/index.js';
import { speechTone } from '../../../src/testing/energy-vad.js';
import {
  startFakeAnthropic,
  startFakeCartesia,
  startFakeDeepgram,
  startFakeElevenLabs,
  startFakeGemini,
  startFakeOpenAIAudio,
  startFakeOpenAIChat,
  type FakeAnthropic,
  type FakeCartesia,
  type FakeDeepgram,
  type FakeElevenLabs,
  type FakeGemini,
  type FakeOpenAIAudio,
  type FakeOpenAIChat,
} from '../../../src/testing/index.js';
import { failure } from '../../support/llm-stream.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'test-key-0123456789';
const REJECTED = 'rejected-key-0123456789';

let openaiChat: FakeOpenAIChat;
let openaiAudio: FakeOpenAIAudio;
let anthropic: FakeAnthropic;
let gemini: FakeGemini;
let deepgram: FakeDeepgram;
let cartesia: FakeCartesia;
let elevenlabs: FakeElevenLabs;

beforeAll(async () => {
  [openaiChat, openaiAudio, anthropic, gemini, deepgram, cartesia, elevenlabs] = await Promise.all([
    startFakeOpenAIChat(),
    startFakeOpenAIAudio(),
    startFakeAnthropic(),
    startFakeGemini({ rejectKey: REJECTED }),
    startFakeDeepgram(),
    startFakeCartesia(),
    startFakeElevenLabs(),
  ]);
});
afterAll(async () => {
  await Promise.all([openaiChat, openaiAudio, anthropic, gemini, deepgram, cartesia, elevenlabs].map((fake) => fake.close()));
});

type Status = 401 | 429 | 500;

/** The ServiceError one synthesis fails with. */
async function synthesisFailure(tts: TTSService): Promise<ServiceError> {
  try {
    for await (const chunk of tts.synthesize('Hello there.', { contextId: 'c1', signal: new AbortController().signal })) void chunk;
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    return error as ServiceError;
  } finally {
    await tts.cleanup();
  }
  throw new Error('expected the synthesis to fail');
}

/** The error Deepgram STT reports in a pipeline when its stream cannot open (at once when final, else after one retry). */
async function deepgramSTTFailure(): Promise<ServiceError> {
  const stt = new DeepgramSTTService({
    apiKey: KEY,
    baseUrl: deepgram.url,
    reconnect: { initialDelayMs: 1, attemptsBeforeError: 1, slowDelayMs: 60_000 },
  });
  const errors: ErrorFrame[] = [];
  const task = new PipelineTask(new Pipeline([stt]), { logger: silentLogger, onError: (frame) => errors.push(frame) });
  const running = task.run();
  await task.queueFrame(makeFrame('input-audio', { audio: speechTone(100), sampleRate: 16000, channels: 1 }));
  await waitUntil(() => errors.length > 0, 5000);
  task.cancel('test over');
  await running;
  expect(errors[0]!.error).toBeInstanceOf(ServiceError);
  return errors[0]!.error as ServiceError;
}

const clients: Record<string, (status: Status) => Promise<ServiceError>> = {
  'OpenAI LLM': (status) => {
    openaiChat.enqueue({ error: status });
    return failure(new OpenAILLMService({ apiKey: KEY, baseURL: openaiChat.baseURL }));
  },
  'OpenAI STT': async (status) => {
    openaiAudio.enqueueTranscriptions({ error: status });
    const stt = new OpenAISTTService({ apiKey: KEY, baseURL: openaiAudio.baseURL });
    try {
      await (stt as unknown as { transcribe(a: Int16Array, r: number): Promise<string> }).transcribe(speechTone(500), 16000);
    } catch (error) {
      return error as ServiceError;
    }
    throw new Error('expected the transcription to fail');
  },
  'OpenAI TTS': (status) => {
    openaiAudio.enqueueSpeech({ error: status });
    return synthesisFailure(new OpenAITTSService({ apiKey: KEY, baseURL: openaiAudio.baseURL }));
  },
  Anthropic: (status) => {
    anthropic.enqueue({ error: status });
    return failure(new AnthropicLLMService({ apiKey: KEY, baseURL: anthropic.baseURL }));
  },
  // Gemini refuses a bad key with 400 API_KEY_INVALID, not 401.
  Gemini: (status) => {
    if (status !== 401) gemini.enqueue({ error: status, retryDelaySecs: 1 });
    return failure(new GoogleLLMService({ apiKey: status === 401 ? REJECTED : KEY, baseURL: gemini.baseURL }));
  },
  'Deepgram STT': (status) => {
    deepgram.failNextConnections(status, 1, '/v1/listen');
    return deepgramSTTFailure();
  },
  'Deepgram TTS': (status) => {
    deepgram.enqueueSpeak({ error: status });
    return synthesisFailure(new DeepgramTTSService({ apiKey: KEY, baseUrl: deepgram.httpUrl }));
  },
  Cartesia: (status) => {
    cartesia.failHandshake({ status, retryAfter: 1 });
    return synthesisFailure(new CartesiaTTSService({ apiKey: KEY, baseUrl: cartesia.baseUrl }));
  },
  ElevenLabs: (status) => {
    elevenlabs.failHandshake({ status, retryAfter: 1 });
    return synthesisFailure(new ElevenLabsTTSService({ apiKey: KEY, baseUrl: elevenlabs.baseUrl, voiceId: 'voice-1' }));
  },
};

const expected: Record<Status, ServiceErrorCode> = { 401: 'auth', 429: 'rate-limited', 500: 'server' };

describe('ServiceError.code is the same for every vendor', () => {
  for (const [client, fail] of Object.entries(clients)) {
    it.each([401, 429, 500] as const)(`${client}: %i`, async (status) => {
      const error = await fail(status);
      expect(SERVICE_ERROR_CODES).toContain(error.code);
      expect(error.code).toBe(expected[status]);
      expect(error.retryable).toBe(isRetryableCode(error.code));
    });
  }
});
