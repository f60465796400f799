// LLM conformance entries: each service against its fake vendor server. The OpenAI-compatible presets share the
// OpenAI chat fake (they speak its protocol); a preset with a quirk gets the fake configured to reproduce it.
import { AnthropicLLMService } from '../../../src/services/anthropic/index.js';
import { BedrockLLMService } from '../../../src/services/aws/index.js';
import type { LLMService } from '../../../src/services/base/index.js';
import { GoogleLLMService, GoogleVertexLLMService } from '../../../src/services/google/index.js';
import {
  AzureOpenAILLMService,
  CerebrasLLMService,
  DeepSeekLLMService,
  FireworksLLMService,
  GroqLLMService,
  MistralLLMService,
  NvidiaLLMService,
  HuggingFaceLLMService,
  OllamaLLMService,
  OpenAILLMService,
  OpenRouterLLMService,
  PerplexityLLMService,
  QwenLLMService,
  SambaNovaLLMService,
  TogetherLLMService,
  XAILLMService,
  type OpenAILLMServiceOptions,
} from '../../../src/services/openai/index.js';
import { startFakeAnthropic, type FakeAnthropicResponse } from '../../../src/testing/fakes/anthropic.js';
import { startFakeBedrock, type FakeBedrockResponse } from '../../../src/testing/fakes/bedrock.js';
import { startFakeGemini, type FakeGemini, type FakeGeminiResponse } from '../../../src/testing/fakes/gemini.js';
import { startFakeOpenAIChat, type FakeChatResponse, type FakeOpenAIChatOptions } from '../../../src/testing/fakes/openai-chat.js';
import { CONFORMANCE_MODEL, REJECTED_KEY, type LLMEntry, type LLMHarness, type LLMStep } from './harness.js';

/** Events a few ms apart: an answer of a few dozen events lasts long enough to be interrupted. */
const EVENT_DELAY_MS = 3;

const modelOf = (body: unknown): string[] =>
  typeof body === 'object' && body !== null && typeof (body as { model?: unknown }).model === 'string' ? [(body as { model: string }).model] : [];

function openAIStep(step: LLMStep): FakeChatResponse {
  switch (step.kind) {
    case 'text':
      return { text: step.text, chunkSize: step.chunkSize ?? 4, ...(step.usage ? { usage: step.usage } : {}) };
    case 'error':
      return { error: step.status, ...(step.retryAfterSecs === undefined ? {} : { retryAfter: step.retryAfterSecs }) };
    case 'stall':
      return { stall: true };
    case 'drop':
      return { dropAfterChunks: step.afterEvents, text: step.text };
  }
}

type OpenAICompatibleClass = new (options: OpenAILLMServiceOptions) => LLMService;

/** An entry for a client of the OpenAI chat protocol: OpenAI itself or a preset. */
export function openAICompatibleEntry(
  name: string,
  Service: OpenAICompatibleClass,
  fakeOptions: FakeOpenAIChatOptions = {},
): LLMEntry {
  return {
    name,
    className: Service.name,
    importPath: 'piopiy-ai/services/openai',
    fake: `startFakeOpenAIChat()`,
    async start(): Promise<LLMHarness> {
      const fake = await startFakeOpenAIChat({ rejectKey: REJECTED_KEY, eventDelayMs: EVENT_DELAY_MS, ...fakeOptions });
      return {
        service: ({ apiKey, model }) => new Service({ apiKey, model, baseURL: fake.baseURL }),
        script: (...steps) => fake.enqueue(...steps.map(openAIStep)),
        models: () => fake.requests.flatMap((r) => modelOf(r.body)),
        close: () => fake.close(),
      };
    },
  };
}

/** A text step as the Anthropic and Bedrock fakes take it (their usage counts input and output tokens). */
function messagesText(step: Extract<LLMStep, { kind: 'text' }>): { text: string; chunkSize: number; usage?: { inputTokens: number; outputTokens: number } } {
  return {
    text: step.text,
    chunkSize: step.chunkSize ?? 4,
    ...(step.usage ? { usage: { inputTokens: step.usage.promptTokens, outputTokens: step.usage.completionTokens } } : {}),
  };
}

function anthropicStep(step: LLMStep): FakeAnthropicResponse {
  switch (step.kind) {
    case 'text':
      return messagesText(step);
    case 'error':
      return { error: step.status, ...(step.retryAfterSecs === undefined ? {} : { retryAfter: step.retryAfterSecs }) };
    case 'stall':
      return { stall: true };
    case 'drop':
      return { dropAfterEvents: step.afterEvents, text: step.text };
  }
}

function bedrockStep(step: LLMStep): FakeBedrockResponse {
  switch (step.kind) {
    case 'text':
      return messagesText(step);
    case 'error':
      // Bedrock sends no Retry-After (the entry says so); a 401 is answered as AWS refuses a key: 403.
      return { error: step.status };
    case 'stall':
      return { stall: true };
    case 'drop':
      return { dropAfterEvents: step.afterEvents, text: step.text };
  }
}

function geminiStep(step: LLMStep): FakeGeminiResponse {
  switch (step.kind) {
    case 'text':
      return {
        text: step.text,
        chunkSize: step.chunkSize ?? 4,
        ...(step.usage ? { usage: { promptTokenCount: step.usage.promptTokens, candidatesTokenCount: step.usage.completionTokens } } : {}),
      };
    case 'error':
      // Gemini says when to retry in the body's RetryInfo, not in a header; it refuses a bad key with 400
      // API_KEY_INVALID (the fake's rejectKey), so a scripted 401 is sent as that 400.
      if (step.status === 401) return { error: 400, message: 'API key not valid. Please pass a valid API key.' };
      return { error: step.status, ...(step.retryAfterSecs === undefined ? {} : { retryDelaySecs: step.retryAfterSecs }) };
    case 'stall':
      return { stall: true };
    case 'drop':
      return { dropAfterChunks: step.afterEvents, text: step.text };
  }
}

/** The Gemini fake's harness; `service` points the entry's service (Gemini API or Vertex AI) at it. */
async function startGeminiHarness(service: (fake: FakeGemini, options: Parameters<LLMHarness['service']>[0]) => LLMService): Promise<LLMHarness> {
  const fake = await startFakeGemini({ rejectKey: REJECTED_KEY, eventDelayMs: EVENT_DELAY_MS });
  return {
    service: (options) => service(fake, options),
    script: (...steps) => fake.enqueue(...steps.map(geminiStep)),
    models: () => fake.requests.flatMap((r) => (r.model === undefined ? [] : [r.model])),
    close: () => fake.close(),
  };
}

export const LLM_ENTRIES: readonly LLMEntry[] = [
  openAICompatibleEntry('OpenAI', OpenAILLMService),
  openAICompatibleEntry('Groq', GroqLLMService),
  openAICompatibleEntry('Together', TogetherLLMService),
  openAICompatibleEntry('Ollama', OllamaLLMService),
  // OpenRouter sends `: OPENROUTER PROCESSING` comments while the model thinks.
  openAICompatibleEntry('OpenRouter', OpenRouterLLMService, { keepAliveComments: true }),
  openAICompatibleEntry('DeepSeek', DeepSeekLLMService),
  // Mistral refuses `stream_options` and `max_completion_tokens` (422) and sends usage unasked.
  openAICompatibleEntry('Mistral', MistralLLMService, { dialect: { forbiddenFields: ['stream_options', 'max_completion_tokens'], alwaysUsage: true } }),
  openAICompatibleEntry('xAI Grok', XAILLMService),
  openAICompatibleEntry('Cerebras', CerebrasLLMService),
  openAICompatibleEntry('Fireworks', FireworksLLMService, { dialect: { pathPrefix: '/inference/v1' } }),
  openAICompatibleEntry('SambaNova', SambaNovaLLMService),
  openAICompatibleEntry('Perplexity', PerplexityLLMService, { dialect: { pathPrefix: '' } }),
  openAICompatibleEntry('Qwen (DashScope)', QwenLLMService, { dialect: { pathPrefix: '/compatible-mode/v1' } }),
  openAICompatibleEntry('NVIDIA NIM', NvidiaLLMService),
  openAICompatibleEntry('Hugging Face', HuggingFaceLLMService),
  {
    name: 'Azure OpenAI',
    className: 'AzureOpenAILLMService',
    importPath: 'piopiy-ai/services/openai',
    fake: "startFakeOpenAIChat({ dialect: { keyHeader: 'api-key', ... } })",
    caveats: { options: 'the model is the deployment, named in the URL path (`/openai/deployments/<deployment>`)' },
    async start() {
      const fake = await startFakeOpenAIChat({
        rejectKey: REJECTED_KEY,
        eventDelayMs: EVENT_DELAY_MS,
        dialect: { pathPrefix: `/openai/deployments/${CONFORMANCE_MODEL}`, keyHeader: 'api-key', requiredQuery: { 'api-version': '2024-10-21' } },
      });
      return {
        service: ({ apiKey, model }) => new AzureOpenAILLMService({ apiKey, deployment: model, endpoint: `http://127.0.0.1:${fake.port}` }),
        script: (...steps) => fake.enqueue(...steps.map(openAIStep)),
        models: () => fake.requests.flatMap((r) => (r.path.startsWith(`/openai/deployments/${CONFORMANCE_MODEL}/`) ? modelOf(r.body) : [])),
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Anthropic',
    className: 'AnthropicLLMService',
    importPath: 'piopiy-ai/services/anthropic',
    fake: 'startFakeAnthropic()',
    async start() {
      const fake = await startFakeAnthropic({ rejectKey: REJECTED_KEY, eventDelayMs: EVENT_DELAY_MS });
      return {
        service: ({ apiKey, model }) => new AnthropicLLMService({ apiKey, model, baseURL: fake.baseURL }),
        script: (...steps) => fake.enqueue(...steps.map(anthropicStep)),
        models: () => fake.requests.flatMap((r) => modelOf(r.body)),
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Google Gemini',
    className: 'GoogleLLMService',
    importPath: 'piopiy-ai/services/google',
    fake: 'startFakeGemini()',
    start: () => startGeminiHarness((fake, { apiKey, model }) => new GoogleLLMService({ apiKey, model, baseURL: fake.baseURL })),
  },
  {
    name: 'Google Vertex AI',
    className: 'GoogleVertexLLMService',
    importPath: 'piopiy-ai/services/google',
    fake: 'startFakeGemini() (its `/v1/projects/…` path)',
    caveats: { auth: 'a bearer token from `getAccessToken()` (here it returns the key); a refused token is 401 UNAUTHENTICATED' },
    start: () =>
      startGeminiHarness(
        (fake, { apiKey, model }) =>
          new GoogleVertexLLMService({ project: 'conformance-project', location: 'asia-south1', getAccessToken: () => apiKey, model, baseURL: fake.origin }),
      ),
  },
  {
    name: 'Amazon Bedrock',
    className: 'BedrockLLMService',
    importPath: 'piopiy-ai/services/aws',
    fake: 'startFakeBedrock()',
    sendsRetryAfter: false,
    caveats: {
      auth: 'SigV4: the conformance key is the access key id; a refused one is 403 `UnrecognizedClientException`',
      'rate-limit': 'no Retry-After from Bedrock: the 429 `ThrottlingException` is retried on the base back-off',
      options: 'the model id is in the URL path (`/model/{modelId}/converse-stream`)',
    },
    async start() {
      const fake = await startFakeBedrock({ rejectKey: REJECTED_KEY, eventDelayMs: EVENT_DELAY_MS, secretAccessKey: 'conformance-secret' });
      return {
        service: ({ apiKey, model }) =>
          new BedrockLLMService({ credentials: { accessKeyId: apiKey, secretAccessKey: 'conformance-secret' }, region: 'ap-south-1', model, baseUrl: fake.baseUrl }),
        script: (...steps) => fake.enqueue(...steps.map(bedrockStep)),
        models: () => fake.requests.flatMap((r) => (r.auth.valid ? [r.model] : [])),
        close: () => fake.close(),
      };
    },
  },
];
