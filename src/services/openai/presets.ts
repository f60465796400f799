// OpenAI-compatible providers: the same client with another base URL, default model and key variable.
import {
  OpenAILLMService,
  type OpenAICompatibleProvider,
  type OpenAILLMServiceOptions,
} from './llm.js';

export const GROQ_PROVIDER: OpenAICompatibleProvider = {
  vendor: 'Groq',
  baseURL: 'https://api.groq.com/openai/v1',
  defaultModel: 'llama-3.3-70b-versatile',
  apiKeyEnv: 'GROQ_API_KEY',
  maxTokensField: 'max_completion_tokens',
};

export const TOGETHER_PROVIDER: OpenAICompatibleProvider = {
  vendor: 'Together',
  baseURL: 'https://api.together.xyz/v1',
  defaultModel: 'meta-llama/Llama-3.3-70B-Instruct-Turbo',
  apiKeyEnv: 'TOGETHER_API_KEY',
  maxTokensField: 'max_tokens',
};

export const OLLAMA_PROVIDER: OpenAICompatibleProvider = {
  vendor: 'Ollama',
  baseURL: 'http://localhost:11434/v1',
  defaultModel: 'llama3.2',
  apiKeyEnv: 'OLLAMA_API_KEY',
  // Ollama ignores the key, but the OpenAI client insists on one.
  defaultApiKey: 'ollama',
  maxTokensField: 'max_tokens',
};

export const OPENROUTER_PROVIDER: OpenAICompatibleProvider = {
  vendor: 'OpenRouter',
  baseURL: 'https://openrouter.ai/api/v1',
  defaultModel: 'openai/gpt-4o-mini',
  apiKeyEnv: 'OPENROUTER_API_KEY',
  maxTokensField: 'max_tokens',
};

export const DEEPSEEK_PROVIDER: OpenAICompatibleProvider = {
  vendor: 'DeepSeek',
  baseURL: 'https://api.deepseek.com/v1',
  defaultModel: 'deepseek-chat',
  apiKeyEnv: 'DEEPSEEK_API_KEY',
  maxTokensField: 'max_tokens',
};

// The providers below: base URLs, key variables and quirks as their docs give them (docs/vendors/openai-compatible.md).

export const MISTRAL_PROVIDER: OpenAICompatibleProvider = {
  vendor: 'Mistral',
  baseURL: 'https://api.mistral.ai/v1',
  defaultModel: 'mistral-small-latest',
  apiKeyEnv: 'MISTRAL_API_KEY',
  // Mistral refuses both `max_completion_tokens` and `stream_options` with 422 extra_forbidden; it sends usage on
  // the last chunk without being asked.
  maxTokensField: 'max_tokens',
  streamOptions: false,
};

export const XAI_PROVIDER: OpenAICompatibleProvider = {
  vendor: 'xAI',
  baseURL: 'https://api.x.ai/v1',
  defaultModel: 'grok-3-mini',
  apiKeyEnv: 'XAI_API_KEY',
  maxTokensField: 'max_completion_tokens',
};

export const CEREBRAS_PROVIDER: OpenAICompatibleProvider = {
  vendor: 'Cerebras',
  baseURL: 'https://api.cerebras.ai/v1',
  defaultModel: 'llama3.1-8b',
  apiKeyEnv: 'CEREBRAS_API_KEY',
  maxTokensField: 'max_completion_tokens',
};

export const FIREWORKS_PROVIDER: OpenAICompatibleProvider = {
  vendor: 'Fireworks',
  baseURL: 'https://api.fireworks.ai/inference/v1',
  defaultModel: 'accounts/fireworks/models/llama-v3p3-70b-instruct',
  apiKeyEnv: 'FIREWORKS_API_KEY',
  maxTokensField: 'max_tokens',
};

export const SAMBANOVA_PROVIDER: OpenAICompatibleProvider = {
  vendor: 'SambaNova',
  baseURL: 'https://api.sambanova.ai/v1',
  defaultModel: 'Meta-Llama-3.3-70B-Instruct',
  apiKeyEnv: 'SAMBANOVA_API_KEY',
  maxTokensField: 'max_tokens',
};

export const PERPLEXITY_PROVIDER: OpenAICompatibleProvider = {
  vendor: 'Perplexity',
  // No `/v1`: Perplexity serves `/chat/completions` at its root.
  baseURL: 'https://api.perplexity.ai',
  defaultModel: 'sonar',
  apiKeyEnv: 'PERPLEXITY_API_KEY',
  maxTokensField: 'max_tokens',
};

export const QWEN_PROVIDER: OpenAICompatibleProvider = {
  vendor: 'Qwen',
  // DashScope's compatible mode, international region (mainland China: https://dashscope.aliyuncs.com/compatible-mode/v1).
  baseURL: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
  defaultModel: 'qwen-plus',
  apiKeyEnv: 'DASHSCOPE_API_KEY',
  maxTokensField: 'max_tokens',
};

export const NVIDIA_PROVIDER: OpenAICompatibleProvider = {
  vendor: 'NVIDIA NIM',
  baseURL: 'https://integrate.api.nvidia.com/v1',
  defaultModel: 'meta/llama-3.3-70b-instruct',
  apiKeyEnv: 'NVIDIA_API_KEY',
  maxTokensField: 'max_tokens',
};

export const HUGGINGFACE_PROVIDER: OpenAICompatibleProvider = {
  vendor: 'Hugging Face',
  // Inference Providers' router: one token, models hosted by Hugging Face's partner providers.
  baseURL: 'https://router.huggingface.co/v1',
  defaultModel: 'openai/gpt-oss-120b',
  apiKeyEnv: 'HF_TOKEN',
  maxTokensField: 'max_tokens',
};

export class GroqLLMService extends OpenAILLMService {
  constructor(options: OpenAILLMServiceOptions) {
    super(options, GROQ_PROVIDER);
  }
}

export class TogetherLLMService extends OpenAILLMService {
  constructor(options: OpenAILLMServiceOptions) {
    super(options, TOGETHER_PROVIDER);
  }
}

export type OllamaLLMServiceOptions = Omit<OpenAILLMServiceOptions, 'apiKey'> & { apiKey?: string };

export class OllamaLLMService extends OpenAILLMService {
  constructor(options: OllamaLLMServiceOptions = {}) {
    super({ ...options, apiKey: options.apiKey ?? '' }, OLLAMA_PROVIDER);
  }
}

export class OpenRouterLLMService extends OpenAILLMService {
  constructor(options: OpenAILLMServiceOptions) {
    super(options, OPENROUTER_PROVIDER);
  }
}

export class DeepSeekLLMService extends OpenAILLMService {
  constructor(options: OpenAILLMServiceOptions) {
    super(options, DEEPSEEK_PROVIDER);
  }
}

export class MistralLLMService extends OpenAILLMService {
  constructor(options: OpenAILLMServiceOptions) {
    super(options, MISTRAL_PROVIDER);
  }
}

export class XAILLMService extends OpenAILLMService {
  constructor(options: OpenAILLMServiceOptions) {
    super(options, XAI_PROVIDER);
  }
}

export class CerebrasLLMService extends OpenAILLMService {
  constructor(options: OpenAILLMServiceOptions) {
    super(options, CEREBRAS_PROVIDER);
  }
}

export class FireworksLLMService extends OpenAILLMService {
  constructor(options: OpenAILLMServiceOptions) {
    super(options, FIREWORKS_PROVIDER);
  }
}

export class SambaNovaLLMService extends OpenAILLMService {
  constructor(options: OpenAILLMServiceOptions) {
    super(options, SAMBANOVA_PROVIDER);
  }
}

export class PerplexityLLMService extends OpenAILLMService {
  constructor(options: OpenAILLMServiceOptions) {
    super(options, PERPLEXITY_PROVIDER);
  }
}

export class QwenLLMService extends OpenAILLMService {
  constructor(options: OpenAILLMServiceOptions) {
    super(options, QWEN_PROVIDER);
  }
}

export class NvidiaLLMService extends OpenAILLMService {
  constructor(options: OpenAILLMServiceOptions) {
    super(options, NVIDIA_PROVIDER);
  }
}

export interface AzureOpenAILLMServiceOptions extends Omit<OpenAILLMServiceOptions, 'baseURL' | 'model'> {
  /** The resource's endpoint, e.g. `https://my-resource.openai.azure.com` (`baseURL` in tests). */
  endpoint: string;
  /** The deployment's name: Azure routes on it (`/openai/deployments/<deployment>/chat/completions`), not on a model. */
  deployment: string;
  /** The `api-version` query every request carries. Default '2024-10-21' (the GA version with `stream_options`). */
  apiVersion?: string;
}

export class AzureOpenAILLMService extends OpenAILLMService {
  constructor(options: AzureOpenAILLMServiceOptions) {
    const { endpoint, deployment, apiVersion, ...rest } = options;
    super(
      { ...rest, model: deployment, baseURL: endpoint },
      {
        vendor: 'Azure OpenAI',
        baseURL: endpoint,
        defaultModel: deployment,
        apiKeyEnv: 'AZURE_OPENAI_API_KEY',
        maxTokensField: 'max_completion_tokens',
        azure: { deployment, apiVersion: apiVersion ?? '2024-10-21' },
      },
    );
  }
}

/** Hugging Face Inference Providers (the router): `model` is a Hub id, optionally `:provider` to pin a provider. */
export class HuggingFaceLLMService extends OpenAILLMService {
  constructor(options: OpenAILLMServiceOptions) {
    super(options, HUGGINGFACE_PROVIDER);
  }
}
