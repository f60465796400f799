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
