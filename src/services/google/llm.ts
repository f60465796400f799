// GoogleLLMService: Gemini through the Gemini API's `streamGenerateContent?alt=sse`. It speaks the protocol
// directly (`fetch` and an SSE decoder): each event is a whole GenerateContentResponse and function calls arrive
// whole, so an SDK would only add its own retry and timeout policy, which must stay the LLMService's decision on
// a live call. The key travels in the `x-goog-api-key` header, never in the URL (URLs end up in logs).
import { randomUUID } from 'node:crypto';
import type { LLMContextSnapshot } from '../../frames/index.js';
import { toGeminiRequest, toGeminiTools, type GeminiContent } from '../../llm/adapters/gemini.js';
import {
  LLMService,
  ServiceError,
  type LLMServiceOptions,
  type LLMStreamEvent,
  type StreamCompletionOptions,
} from '../base/index.js';
import { streamServerSentEvents } from '../base/http-stream.js';
import { isRecord, parseJSONText } from '../base/json.js';
import { redactSecrets, requireApiKey } from '../base/vendor-errors.js';
import { GEMINI_SERVICE, geminiHttpError, geminiStreamError, readGoogleStatus } from './errors.js';

export type GeminiFunctionCallingMode = 'AUTO' | 'ANY' | 'NONE' | 'VALIDATED';

export interface GeminiSafetySetting {
  category: string;
  threshold: string;
}

export interface GoogleLLMServiceOptions
  extends Partial<Pick<LLMServiceOptions, 'responseTimeoutMs' | 'maxAttempts' | 'apology' | 'maxToolRounds'>> {
  apiKey: string;
  /** Default `gemini-2.5-flash`. A `models/` prefix is accepted. */
  model?: string;
  temperature?: number;
  maxOutputTokens?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  /**
   * Thinking tokens the model may spend before answering; 0 turns thinking off. Default 0 for the
   * `gemini-2.5-flash` family (thinking adds seconds of silence on a call), the model's own default otherwise
   * (2.5 Pro cannot turn it off).
   */
  thinkingBudget?: number;
  /** `toolConfig.functionCallingConfig.mode`, sent only when the context has tools. */
  functionCallingMode?: GeminiFunctionCallingMode;
  safetySettings?: GeminiSafetySetting[];
  /** Default `https://generativelanguage.googleapis.com/v1beta`. */
  baseURL?: string;
  /** Longest wait for the response headers, and then between two stream chunks. Default 30 s. */
  timeoutMs?: number;
  /**
   * The user turn put first when the conversation starts with the model (a greeting said before the caller
   * spoke) or has no turn yet: Gemini rejects empty contents, and a function call right at the start. Default
   * `(call connected)`.
   */
  leadingUserTurn?: string;
  /** More body fields, sent as given; they override the fields this service sets. */
  extra?: Record<string, unknown>;
  /** The processor's name in logs and metrics. */
  name?: string;
}

export const GEMINI_DEFAULT_MODEL = 'gemini-2.5-flash';
export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_LEADING_USER_TURN = '(call connected)';

/** Finish reasons with which the model withheld its answer: the caller should hear the apology instead. */
const WITHHELD_FINISH_REASONS = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'LANGUAGE',
  'OTHER',
]);

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * Where and how a Gemini request goes: the Gemini API with a key (this file), or Vertex AI with a bearer token
 * (vertex.ts). The request body and the stream are the same.
 */
export interface GeminiTransport {
  /** Names the vendor in errors. */
  readonly service: string;
  endpoint(model: string): string;
  /** The auth header for one request, and the secret in it (kept out of errors). */
  auth(): Promise<{ readonly headers: Readonly<Record<string, string>>; readonly secret: string }>;
}

export class GoogleLLMService extends LLMService {
  private readonly options: Readonly<Omit<GoogleLLMServiceOptions, 'apiKey'>>;
  private readonly transport: GeminiTransport;
  private readonly endpoint: string;
  private readonly timeoutMs: number;

  constructor(options: GoogleLLMServiceOptions);
  /** With a transport (Vertex AI): no API key, another endpoint and auth. */
  constructor(options: Omit<GoogleLLMServiceOptions, 'apiKey' | 'baseURL'>, transport: GeminiTransport);
  constructor(options: GoogleLLMServiceOptions | Omit<GoogleLLMServiceOptions, 'apiKey' | 'baseURL'>, transport?: GeminiTransport) {
    const apiKey = transport === undefined ? requireApiKey((options as GoogleLLMServiceOptions).apiKey, new.target.name, 'GOOGLE_API_KEY') : '';
    const model = (options.model ?? GEMINI_DEFAULT_MODEL).replace(/^models\//, '');
    super({
      name: options.name,
      model,
      responseTimeoutMs: options.responseTimeoutMs,
      maxAttempts: options.maxAttempts,
      apology: options.apology,
      maxToolRounds: options.maxToolRounds,
    });
    const { apiKey: _key, ...rest } = options as GoogleLLMServiceOptions;
    this.options = rest;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const base = ((options as GoogleLLMServiceOptions).baseURL ?? GEMINI_DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.transport = transport ?? {
      service: GEMINI_SERVICE,
      endpoint: (name) => `${base}/models/${encodeURIComponent(name)}:streamGenerateContent?alt=sse`,
      // The key travels in a header, never in the URL.
      auth: () => Promise.resolve({ headers: { 'x-goog-api-key': apiKey }, secret: apiKey }),
    };
    this.endpoint = this.transport.endpoint(model);
  }

  /** The generateContent body for `context` (exposed for tests and debugging; it holds no secret). */
  requestBody(context: LLMContextSnapshot): Record<string, unknown> {
    const o = this.options;
    const { systemInstruction, contents } = toGeminiRequest(context.messages);
    const body: Record<string, unknown> = { contents: this.userFirst(contents) };
    if (systemInstruction !== undefined) body.systemInstruction = systemInstruction;
    if (context.tools.length > 0) {
      body.tools = toGeminiTools(context.tools);
      if (o.functionCallingMode !== undefined) body.toolConfig = { functionCallingConfig: { mode: o.functionCallingMode } };
    }
    const generationConfig: Record<string, unknown> = {};
    if (o.temperature !== undefined) generationConfig.temperature = o.temperature;
    if (o.maxOutputTokens !== undefined) generationConfig.maxOutputTokens = o.maxOutputTokens;
    if (o.topP !== undefined) generationConfig.topP = o.topP;
    if (o.topK !== undefined) generationConfig.topK = o.topK;
    if (o.stopSequences !== undefined && o.stopSequences.length > 0) generationConfig.stopSequences = o.stopSequences;
    const thinkingBudget = o.thinkingBudget ?? (this.model.startsWith('gemini-2.5-flash') ? 0 : undefined);
    if (thinkingBudget !== undefined) generationConfig.thinkingConfig = { thinkingBudget };
    if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;
    if (o.safetySettings !== undefined) body.safetySettings = o.safetySettings;
    return Object.assign(body, o.extra);
  }

  private userFirst(contents: GeminiContent[]): GeminiContent[] {
    if (contents[0]?.role === 'user') return contents;
    return [{ role: 'user', parts: [{ text: this.options.leadingUserTurn ?? DEFAULT_LEADING_USER_TURN }] }, ...contents];
  }

  async *streamCompletion(context: LLMContextSnapshot, options: StreamCompletionOptions): AsyncGenerator<LLMStreamEvent> {
    const { signal } = options;
    const service = this.transport.service;
    const auth = await this.transport.auth();
    const secrets = [auth.secret];
    const events = streamServerSentEvents({
      service,
      url: this.endpoint,
      headers: { ...auth.headers, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: this.requestBody(context),
      signal,
      timeoutMs: this.timeoutMs,
      clock: this.clock,
      secrets,
      httpError: (failure) => geminiHttpError(failure, secrets, service),
    });
    let usage: LLMStreamEvent | undefined;
    let finishReason: string | undefined;
    let said = false;
    let callNumber = 0;

    for await (const sse of events) {
      const data = parseJSONText(sse.data);
      if (!isRecord(data)) {
        throw new ServiceError(service, `unreadable event: ${redactSecrets(sse.data.slice(0, 100), secrets)}`, {
          code: 'protocol',
        });
      }
      const error = readGoogleStatus(data);
      if (error !== undefined) throw geminiStreamError(error, secrets, service);
      const feedback = isRecord(data.promptFeedback) ? data.promptFeedback : undefined;
      if (typeof feedback?.blockReason === 'string') {
        // The prompt itself was refused: asking again with the same words is refused again.
        throw new ServiceError(service, `the prompt was blocked (${feedback.blockReason})`, {
          code: 'content-filtered',
          vendorCode: feedback.blockReason,
        });
      }
      // Every event carries the counts so far; the last one holds the totals.
      if (isRecord(data.usageMetadata)) usage = usageEvent(data.usageMetadata);
      const candidate = Array.isArray(data.candidates) && isRecord(data.candidates[0]) ? data.candidates[0] : undefined;
      if (candidate === undefined) continue;
      const content = isRecord(candidate.content) ? candidate.content : {};
      for (const part of Array.isArray(content.parts) ? (content.parts as unknown[]) : []) {
        if (!isRecord(part) || part.thought === true) continue; // thought summaries are not for the caller
        if (typeof part.text === 'string' && part.text !== '') {
          said = true;
          yield { type: 'text', text: part.text };
        }
        if (isRecord(part.functionCall) && typeof part.functionCall.name === 'string' && part.functionCall.name !== '') {
          const call = part.functionCall;
          callNumber += 1;
          said = true;
          // Calls arrive whole: each is complete as soon as its part is here.
          yield {
            type: 'tool-call',
            toolCall: {
              id: typeof call.id === 'string' && call.id !== '' ? call.id : `call_${callNumber}_${randomUUID().slice(0, 8)}`,
              name: call.name as string,
              arguments: isRecord(call.args) ? JSON.stringify(call.args) : '{}',
            },
          };
        }
      }
      if (typeof candidate.finishReason === 'string') finishReason = candidate.finishReason;
    }
    if (signal.aborted) return;
    if (!said && finishReason !== undefined && WITHHELD_FINISH_REASONS.has(finishReason)) {
      throw new ServiceError(service, `the model withheld its answer (finishReason ${finishReason})`, {
        code: 'content-filtered',
        vendorCode: finishReason,
      });
    }
    if (!said && finishReason === 'MALFORMED_FUNCTION_CALL') {
      // The model produced a call it could not express; sampling again usually gets a well-formed one.
      throw new ServiceError(service, 'the model produced a malformed function call', { code: 'protocol', vendorCode: finishReason });
    }
    if (usage !== undefined) yield usage;
  }
}

function usageEvent(meta: Record<string, unknown>): LLMStreamEvent {
  const cached = count(meta.cachedContentTokenCount);
  return {
    type: 'usage',
    // Includes cached tokens already; tool-use prompt tokens are input too.
    promptTokens: (count(meta.promptTokenCount) ?? 0) + (count(meta.toolUsePromptTokenCount) ?? 0),
    // Thinking tokens are generated (and billed) as output.
    completionTokens: (count(meta.candidatesTokenCount) ?? 0) + (count(meta.thoughtsTokenCount) ?? 0),
    ...(cached === undefined ? {} : { cachedTokens: cached }),
  };
}
