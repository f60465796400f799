// The OpenAI-compatible presets' quirks, each against the OpenAI chat fake configured to reproduce its vendor.
import { afterEach, describe, expect, it } from 'vitest';
import {
  AzureOpenAILLMService,
  CEREBRAS_PROVIDER,
  FIREWORKS_PROVIDER,
  MISTRAL_PROVIDER,
  MistralLLMService,
  NVIDIA_PROVIDER,
  HUGGINGFACE_PROVIDER,
  PERPLEXITY_PROVIDER,
  PerplexityLLMService,
  QWEN_PROVIDER,
  SAMBANOVA_PROVIDER,
  XAI_PROVIDER,
} from '../../../src/services/openai/index.js';
import { startFakeOpenAIChat, type FakeOpenAIChat } from '../../../src/testing/fakes/openai-chat.js';
import { ask, collect, failure, textOf } from '../../support/llm-stream.js';

const KEY = 'preset-key-SECRET-0123456789';
let fake: FakeOpenAIChat | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('OpenAI-compatible presets', () => {
  it('Mistral: no stream_options and max_tokens (it refuses both OpenAI fields with 422); usage still reported', async () => {
    fake = await startFakeOpenAIChat({ dialect: { forbiddenFields: ['stream_options', 'max_completion_tokens'], alwaysUsage: true } });
    fake.enqueue({ text: 'Bonjour.', usage: { promptTokens: 12, completionTokens: 3 } });
    const llm = new MistralLLMService({ apiKey: KEY, baseURL: fake.baseURL, params: { maxCompletionTokens: 100 } });
    const events = await collect(llm, ask('Salut'));
    expect(textOf(events)).toBe('Bonjour.');
    expect(events.at(-1)).toMatchObject({ type: 'usage', promptTokens: 12, completionTokens: 3 });
    const body = fake.requests[0]!.body as Record<string, unknown>;
    expect(body.stream_options).toBeUndefined();
    expect(body.max_tokens).toBe(100);
    expect(body.max_completion_tokens).toBeUndefined();
  });

  it('the fake reproduces the quirk: an OpenAI-style body gets 422 from a Mistral-like server', async () => {
    fake = await startFakeOpenAIChat({ dialect: { forbiddenFields: ['stream_options'] } });
    const llm = new PerplexityLLMService({ apiKey: KEY, baseURL: fake.baseURL });
    const error = await failure(llm);
    expect(error.status).toBe(422);
    expect(error.code).toBe('bad-request');
  });

  it('Perplexity: served at the root (no /v1)', async () => {
    fake = await startFakeOpenAIChat({ dialect: { pathPrefix: '' } });
    const llm = new PerplexityLLMService({ apiKey: KEY, baseURL: fake.baseURL });
    expect(textOf(await collect(llm, ask('Hi')))).not.toBe('');
    expect(fake.requests[0]!.path).toBe('/chat/completions');
    expect(PERPLEXITY_PROVIDER.baseURL).toBe('https://api.perplexity.ai');
  });

  it('Azure OpenAI: the deployment URL, the api-key header (no Authorization) and the api-version query', async () => {
    fake = await startFakeOpenAIChat({
      dialect: { pathPrefix: '/openai/deployments/my-gpt', keyHeader: 'api-key', requiredQuery: { 'api-version': '2024-10-21' } },
    });
    const llm = new AzureOpenAILLMService({ apiKey: KEY, endpoint: `http://127.0.0.1:${fake.port}`, deployment: 'my-gpt' });
    expect(textOf(await collect(llm, ask('Hi')))).not.toBe('');
    const request = fake.requests[0]!;
    expect(request.path).toBe('/openai/deployments/my-gpt/chat/completions');
    expect(request.headers['api-key']).toBe('[redacted]');
    expect(request.headers.authorization).toBeUndefined();
    expect(request.auth.valid).toBe(true);
  });

  it('Azure OpenAI: a wrong api-version is refused (404), as Azure does', async () => {
    fake = await startFakeOpenAIChat({
      dialect: { pathPrefix: '/openai/deployments/my-gpt', keyHeader: 'api-key', requiredQuery: { 'api-version': '2024-10-21' } },
    });
    const llm = new AzureOpenAILLMService({ apiKey: KEY, endpoint: `http://127.0.0.1:${fake.port}`, deployment: 'my-gpt', apiVersion: '2023-01-01' });
    expect((await failure(llm)).status).toBe(404);
  });

  it('each provider names its vendor, base URL and key variable', () => {
    expect(
      [MISTRAL_PROVIDER, XAI_PROVIDER, CEREBRAS_PROVIDER, FIREWORKS_PROVIDER, SAMBANOVA_PROVIDER, PERPLEXITY_PROVIDER, QWEN_PROVIDER, NVIDIA_PROVIDER, HUGGINGFACE_PROVIDER].map(
        (p) => [p.vendor, p.baseURL, p.apiKeyEnv],
      ),
    ).toEqual([
      ['Mistral', 'https://api.mistral.ai/v1', 'MISTRAL_API_KEY'],
      ['xAI', 'https://api.x.ai/v1', 'XAI_API_KEY'],
      ['Cerebras', 'https://api.cerebras.ai/v1', 'CEREBRAS_API_KEY'],
      ['Fireworks', 'https://api.fireworks.ai/inference/v1', 'FIREWORKS_API_KEY'],
      ['SambaNova', 'https://api.sambanova.ai/v1', 'SAMBANOVA_API_KEY'],
      ['Perplexity', 'https://api.perplexity.ai', 'PERPLEXITY_API_KEY'],
      ['Qwen', 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1', 'DASHSCOPE_API_KEY'],
      ['NVIDIA NIM', 'https://integrate.api.nvidia.com/v1', 'NVIDIA_API_KEY'],
      ['Hugging Face', 'https://router.huggingface.co/v1', 'HF_TOKEN'],
    ]);
  });
});
