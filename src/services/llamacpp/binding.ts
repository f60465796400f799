// node-llama-cpp, loaded on demand: it is an optional peer dependency (a 35 MB package plus native builds), so it is
// imported by name only when a LlamaCppLLMService first needs it, and its types never reach our public .d.ts. The
// slice of its API we use is declared here structurally (node-llama-cpp 3.x).
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { getDefaultLogger } from '../../logging/index.js';
import { ServiceError } from '../base/service-error.js';

export const LLAMA_CPP_SERVICE = 'llama.cpp';
export const NODE_LLAMA_CPP_INSTALL = 'npm install node-llama-cpp@3';

/** Where the GPU backends come from; `false` runs on the CPU only. */
export type LlamaCppGpu = 'auto' | 'cuda' | 'vulkan' | 'metal' | false;

/** A JSON schema in the subset node-llama-cpp turns into a grammar (its `GbnfJsonSchema`). */
export type GrammarJsonSchema = { readonly [key: string]: unknown };

export interface ChatFunctionCallItem {
  readonly type: 'functionCall';
  readonly name: string;
  readonly params: unknown;
  readonly result: unknown;
}

export type ChatHistoryItem =
  | { readonly type: 'system'; readonly text: string }
  | { readonly type: 'user'; readonly text: string }
  | { readonly type: 'model'; readonly response: Array<string | ChatFunctionCallItem> };

export type ChatFunctions = Readonly<Record<string, { readonly description?: string; readonly params?: GrammarJsonSchema }>>;

/** A compiled grammar, opaque to us. */
export type LlamaGrammar = object;

export interface GenerateOptions {
  readonly signal: AbortSignal;
  readonly stopOnAbortSignal: boolean;
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly topK?: number;
  readonly seed?: number;
  readonly onTextChunk?: (text: string) => void;
  readonly grammar?: LlamaGrammar;
  readonly functions?: ChatFunctions;
}

export interface ChatResponse {
  readonly response: string;
  readonly functionCalls?: ReadonlyArray<{ readonly functionName: string; readonly params: unknown }>;
  readonly metadata: { readonly stopReason: string };
}

export interface LlamaChat {
  generateResponse(history: ChatHistoryItem[], options: GenerateOptions): Promise<ChatResponse>;
  dispose(): void;
}

export interface LlamaContextSequence {
  readonly tokenMeter: { getState(): { usedInputTokens: number; usedOutputTokens: number } };
}

export interface LlamaContext {
  getSequence(): LlamaContextSequence;
  dispose(): Promise<void>;
}

export interface LlamaModel {
  readonly trainContextSize: number;
  createContext(options: { contextSize: number; sequences: 1; threads: number }): Promise<LlamaContext>;
  dispose(): Promise<void>;
}

export interface Llama {
  loadModel(options: { modelPath: string }): Promise<LlamaModel>;
  createGrammarForJsonSchema(schema: GrammarJsonSchema): Promise<LlamaGrammar>;
}

type LogLevel = 'disabled' | 'fatal' | 'error' | 'warn' | 'info' | 'log' | 'debug';

export interface NodeLlamaCppModule {
  getLlama(options: {
    build: 'never';
    gpu: LlamaCppGpu;
    logLevel: LogLevel;
    logger: (level: LogLevel, message: string) => void;
  }): Promise<Llama>;
  LlamaChat: new (options: { contextSequence: LlamaContextSequence }) => LlamaChat;
}

export interface NodeLlamaCpp {
  readonly llama: Llama;
  readonly LlamaChat: NodeLlamaCppModule['LlamaChat'];
}

function setupError(message: string, cause?: unknown): ServiceError {
  // Not retryable: a missing package or model file does not appear by asking again.
  return new ServiceError(LLAMA_CPP_SERVICE, message, { code: 'bad-request', retryable: false, cause });
}

const PACKAGE = 'node-llama-cpp';

/**
 * Imports node-llama-cpp by name (a variable, so TypeScript does not resolve it: users without the package compile
 * too). Throws a ServiceError naming the package and its install command when it is missing.
 */
export async function importNodeLlamaCpp(specifier: string = PACKAGE): Promise<NodeLlamaCppModule> {
  try {
    return (await import(specifier)) as NodeLlamaCppModule;
  } catch (error) {
    throw setupError(`LlamaCppLLMService needs the optional package ${PACKAGE}, which is not installed (${NODE_LLAMA_CPP_INSTALL})`, error);
  }
}

let runtime: Promise<NodeLlamaCpp> | undefined;
/** GPU choice of the process's one `Llama` instance: node-llama-cpp loads one backend per process. */
let runtimeGpu: LlamaCppGpu | undefined;

async function loadRuntime(gpu: LlamaCppGpu): Promise<NodeLlamaCpp> {
  const module = await importNodeLlamaCpp();
  const logger = getDefaultLogger().child({ component: 'node-llama-cpp' });
  try {
    const llama = await module.getLlama({
      // Never compile llama.cpp at call time (minutes, and cmake downloads): the prebuilt binary or a clear error.
      build: 'never',
      gpu,
      logLevel: 'warn',
      logger: (level, message) => {
        const text = message.trim();
        if (text === '') return;
        if (level === 'fatal' || level === 'error') logger.error(text);
        else if (level === 'warn') logger.warn(text);
        else logger.debug(text);
      },
    });
    return { llama, LlamaChat: module.LlamaChat };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw setupError(`${PACKAGE} has no usable prebuilt binary for this machine (${reason}); see its docs to build one`, error);
  }
}

/** node-llama-cpp and its `Llama` instance, loaded once per process (the first caller's `gpu` choice wins). */
export function nodeLlamaCpp(gpu: LlamaCppGpu): Promise<NodeLlamaCpp> {
  if (runtime === undefined) {
    runtimeGpu = gpu;
    runtime = loadRuntime(gpu).catch((error: unknown) => {
      runtime = undefined;
      throw error;
    });
  } else if (gpu !== runtimeGpu) {
    getDefaultLogger().warn({ asked: gpu, using: runtimeGpu }, 'llama.cpp is already loaded with another gpu setting; keeping it');
  }
  return runtime;
}

/**
 * Loaded models by path, kept for the process: loading one takes seconds and its memory is the weights (shared
 * by every call's context), so the second call must not load it again. `unloadLlamaCppModels` frees them.
 */
const models = new Map<string, Promise<LlamaModel>>();

export async function loadModel(modelPath: string, gpu: LlamaCppGpu): Promise<LlamaModel> {
  const path = resolve(modelPath);
  let model = models.get(path);
  if (model === undefined) {
    model = openModel(path, gpu);
    models.set(path, model);
    model.catch(() => models.delete(path));
  }
  return model;
}

async function openModel(path: string, gpu: LlamaCppGpu): Promise<LlamaModel> {
  if (!existsSync(path)) throw setupError(`model file not found: ${path}`);
  if (!statSync(path).isFile()) throw setupError(`model path is not a file: ${path}`);
  const { llama } = await nodeLlamaCpp(gpu);
  try {
    return await llama.loadModel({ modelPath: path });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw setupError(`could not load ${path} as a GGUF model: ${reason}`, error);
  }
}

/** Frees every model loaded by LlamaCppLLMService in this process (contexts still using one must be closed first). */
export async function unloadLlamaCppModels(): Promise<void> {
  const loaded = [...models.values()];
  models.clear();
  await Promise.all(loaded.map((model) => model.then((m) => m.dispose(), () => undefined)));
}
