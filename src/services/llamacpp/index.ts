// `piopiy-ai/services/llamacpp`: a local GGUF model in-process through node-llama-cpp (optional peer dependency).
export * from './llm.js';
export { unloadLlamaCppModels, NODE_LLAMA_CPP_INSTALL, type LlamaCppGpu } from './binding.js';
