// LlamaCppLLMService: a GGUF model run in this process by llama.cpp through node-llama-cpp (an optional peer
// dependency, imported when the service starts). No server, no network: the model file is the whole LLM.
//
// - Text streams token by token as the model writes it.
// - Tools: with `toolChoice: 'auto'` the model calls them in its chat template's own syntax (node-llama-cpp's
//   function calling) and the arguments are generated under a grammar made from the tool's JSON schema, so they are
//   valid JSON of the right shape; `'required'` constrains the whole first answer of a turn to one tool call.
// - The model is loaded once per process and shared; each service (one per call) has its own context (the KV cache
//   of its conversation), freed at cleanup. Generations on one context run one at a time: an interrupted one stops
//   at its next token and the next request waits for that.
import { basename } from 'node:path';
import type { Frame, FrameDirection, LLMContextSnapshot } from '../../frames/index.js';
import { LLMService, ServiceError, type LLMStreamEvent, type StreamCompletionOptions } from '../base/index.js';
import {
  LLAMA_CPP_SERVICE,
  loadModel,
  nodeLlamaCpp,
  type LlamaChat,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaCppGpu,
  type LlamaGrammar,
} from './binding.js';
import { toChatHistory } from './history.js';
import { EventChannel } from './event-channel.js';
import { dropOmittedOptionals, requiredCallSchema, toChatFunctions } from './tool-schema.js';

export type LlamaCppToolChoice = 'auto' | 'required' | 'none';

export interface LlamaCppLLMServiceOptions {
  /** Path of a GGUF model file (e.g. a Q4_K_M quantisation of a small instruct model). */
  modelPath: string;
  /** The processor's name in logs and metrics. */
  name?: string;
  /** Tokens of the conversation window (prompt and answer) per call. Default 4096, at most the model's own. */
  contextSize?: number;
  /**
   * CPU threads of this call's generations. Default 1: llama.cpp's threads wait for each other at every layer by
   * spinning, so on a busy machine more threads than free cores is catastrophic (measured on 2 loaded cores: 40 tokens
   * in 41 ms with 1 thread, 81 s with node-llama-cpp's default of 2), and `piopiy-ai start` already runs a worker per
   * core. Raise it on a machine with cores to spare for one call at a time.
   */
  threads?: number;
  /** GPU backend for the process's llama.cpp (the first service's choice holds for the process). Default 'auto'. */
  gpu?: LlamaCppGpu;
  /** Longest answer, in tokens. Default 512. */
  maxTokens?: number;
  /** Sampling temperature; 0 picks the likeliest token (deterministic). Default 0.7. */
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  /**
   * 'auto' (default): the model decides whether to call a tool. 'required': the first answer of each user turn is a
   * tool call (the answer after tool results is free, or the model would loop on tools). 'none': tools are not offered.
   */
  toolChoice?: LlamaCppToolChoice;
  /** Longest wait for the first token (includes loading the model when it was not prewarmed). Default 30000 ms. */
  responseTimeoutMs?: number;
}

/** The prewarm options: what loading a model depends on. */
export type LlamaCppPrewarmOptions = Pick<LlamaCppLLMServiceOptions, 'modelPath' | 'gpu'>;

interface Session {
  readonly context: LlamaContext;
  readonly sequence: LlamaContextSequence;
  readonly chat: LlamaChat;
  /** Compiled grammars of forced tool calls, by the tools' JSON. */
  readonly grammars: Map<string, Promise<LlamaGrammar>>;
}

const DEFAULT_CONTEXT_SIZE = 4096;

let nextCallId = 0;
const callId = (): string => `call_llama_${(++nextCallId).toString(36)}_${Date.now().toString(36)}`;

export class LlamaCppLLMService extends LLMService {
  readonly modelPath: string;
  private readonly options: LlamaCppLLMServiceOptions;
  private session: Promise<Session> | undefined;
  /** The generation running on this service's context, settled (never rejects); the next one waits for it. */
  private generating: Promise<void> = Promise.resolve();

  constructor(options: LlamaCppLLMServiceOptions) {
    if (typeof options.modelPath !== 'string' || options.modelPath.trim() === '') {
      throw new TypeError('LlamaCppLLMService: modelPath (a GGUF file) is required; set LLAMA_MODEL_PATH for the auto services');
    }
    super({ name: options.name, model: basename(options.modelPath), responseTimeoutMs: options.responseTimeoutMs ?? 30_000 });
    this.modelPath = options.modelPath;
    this.options = { ...options };
  }

  /**
   * Loads the model (and node-llama-cpp) for the process ahead of the first call: pass it to the Agent's `prewarm`.
   * Throws a ServiceError naming what is missing (the package, the file) or why the file is not a model.
   */
  static async prewarm(options: LlamaCppPrewarmOptions): Promise<void> {
    await loadModel(options.modelPath, options.gpu ?? 'auto');
  }

  protected override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    // Load while the call starts, not when the caller has finished their first sentence.
    if (frame.type === 'start') {
      this.openSession().catch((error: unknown) => this.logger.warn({ err: error }, 'llama.cpp model not loaded'));
    }
    await super.processFrame(frame, direction);
  }

  override async cleanup(): Promise<void> {
    await super.cleanup(); // aborts the generation in flight
    const session = this.session;
    this.session = undefined;
    if (session === undefined) return;
    await this.generating;
    const opened = await session.catch(() => undefined);
    if (opened === undefined) return;
    opened.chat.dispose();
    await opened.context.dispose();
  }

  private openSession(): Promise<Session> {
    this.session ??= this.createSession().catch((error: unknown) => {
      this.session = undefined;
      throw error;
    });
    return this.session;
  }

  private async createSession(): Promise<Session> {
    const gpu = this.options.gpu ?? 'auto';
    const model = await loadModel(this.modelPath, gpu);
    const { LlamaChat } = await nodeLlamaCpp(gpu);
    const contextSize = Math.min(this.options.contextSize ?? DEFAULT_CONTEXT_SIZE, model.trainContextSize);
    let context: LlamaContext;
    try {
      context = await model.createContext({ contextSize, sequences: 1, threads: this.options.threads ?? 1 });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ServiceError(LLAMA_CPP_SERVICE, `could not create a ${contextSize}-token context: ${reason}`, { code: 'server', retryable: false, cause: error });
    }
    const sequence = context.getSequence();
    return { context, sequence, chat: new LlamaChat({ contextSequence: sequence }), grammars: new Map() };
  }

  async *streamCompletion(context: LLMContextSnapshot, options: StreamCompletionOptions): AsyncGenerator<LLMStreamEvent> {
    const { signal } = options;
    if (signal.aborted) return;
    const session = await this.openSession();
    const channel = new EventChannel<LLMStreamEvent>();
    // One generation at a time per context, in request order; an aborted one ends at its next token.
    this.generating = this.generating.then(() => (signal.aborted ? channel.end() : this.generate(session, context, signal, channel)));
    yield* channel;
  }

  /** Runs one generation, feeding `channel`; never rejects (errors end the channel). */
  private async generate(session: Session, context: LLMContextSnapshot, signal: AbortSignal, channel: EventChannel<LLMStreamEvent>): Promise<void> {
    const before = session.sequence.tokenMeter.getState();
    const history = toChatHistory(context.messages);
    const o = this.options;
    const sampling = {
      signal,
      stopOnAbortSignal: true,
      maxTokens: o.maxTokens ?? 512,
      temperature: o.temperature ?? 0.7,
      ...(o.topP === undefined ? {} : { topP: o.topP }),
      ...(o.topK === undefined ? {} : { topK: o.topK }),
      ...(o.seed === undefined ? {} : { seed: o.seed }),
    };
    try {
      const choice = this.toolChoiceFor(context);
      if (choice === 'required') {
        const grammar = await this.grammarFor(session, context);
        const response = await session.chat.generateResponse(history, { ...sampling, grammar });
        if (signal.aborted) return;
        channel.push({ type: 'tool-call', toolCall: this.parseForcedCall(context, response.response) });
      } else {
        const functions = choice === 'auto' ? toChatFunctions(context.tools) : undefined;
        const response = await session.chat.generateResponse(history, {
          ...sampling,
          ...(functions === undefined ? {} : { functions }),
          onTextChunk: (text) => {
            if (!signal.aborted && text !== '') channel.push({ type: 'text', text });
          },
        });
        if (signal.aborted) return;
        for (const call of response.functionCalls ?? []) {
          const tool = context.tools.find((t) => t.name === call.functionName);
          const params = tool === undefined ? call.params : dropOmittedOptionals(call.params, tool.parameters);
          channel.push({ type: 'tool-call', toolCall: { id: callId(), name: call.functionName, arguments: JSON.stringify(params ?? {}) } });
        }
      }
      const after = session.sequence.tokenMeter.getState();
      // Tokens evaluated for this answer: a prefix already in the context from the previous turn is not evaluated
      // again and is not counted.
      channel.push({ type: 'usage', promptTokens: after.usedInputTokens - before.usedInputTokens, completionTokens: after.usedOutputTokens - before.usedOutputTokens });
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ServiceError) channel.fail(error);
      else {
        const reason = error instanceof Error ? error.message : String(error);
        // A local engine failing on this input fails again: not retryable, the caller hears the apology at once.
        channel.fail(new ServiceError(LLAMA_CPP_SERVICE, `generation failed: ${reason}`, { code: 'server', retryable: false, cause: error }));
      }
    } finally {
      channel.end();
    }
  }

  /** 'required' holds for the first answer of a user turn only: after tool results the model must be free to speak. */
  private toolChoiceFor(context: LLMContextSnapshot): LlamaCppToolChoice {
    if (context.tools.length === 0) return 'none';
    const choice = this.options.toolChoice ?? 'auto';
    if (choice === 'required' && context.messages.at(-1)?.role === 'tool') return 'auto';
    return choice;
  }

  private grammarFor(session: Session, context: LLMContextSnapshot): Promise<LlamaGrammar> {
    const key = JSON.stringify(context.tools);
    let grammar = session.grammars.get(key);
    if (grammar === undefined) {
      const schema = requiredCallSchema(context.tools);
      grammar = nodeLlamaCpp(this.options.gpu ?? 'auto').then(({ llama }) => llama.createGrammarForJsonSchema(schema));
      session.grammars.set(key, grammar);
      grammar.catch(() => session.grammars.delete(key));
    }
    return grammar;
  }

  private parseForcedCall(context: LLMContextSnapshot, text: string): { id: string; name: string; arguments: string } {
    let call: { name?: unknown; arguments?: unknown };
    try {
      call = JSON.parse(text) as { name?: unknown; arguments?: unknown };
    } catch {
      // The grammar only allows complete JSON, so this is an answer cut by maxTokens.
      throw new ServiceError(LLAMA_CPP_SERVICE, `the tool call was cut short at ${this.options.maxTokens ?? 512} tokens (maxTokens)`, { code: 'server', retryable: false });
    }
    const tool = context.tools.find((t) => t.name === call.name);
    if (tool === undefined) throw new ServiceError(LLAMA_CPP_SERVICE, `the model called an unknown tool ${JSON.stringify(call.name)}`, { code: 'protocol', retryable: false });
    return { id: callId(), name: tool.name, arguments: JSON.stringify(dropOmittedOptionals(call.arguments, tool.parameters) ?? {}) };
  }
}
