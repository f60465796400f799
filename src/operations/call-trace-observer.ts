// One call's trace: a span for the call, one per caller turn, and inside them one per STT request (the caller's
// speech until its final transcript), per LLM response (GenAI semantic conventions), per TTS response and per tool
// call. Built by an observer from the frames, so no service knows about tracing. Spans carry ids, names, models,
// token counts and outcomes; never audio or keys; transcripts and tool arguments only with `recordContent`.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { Frame } from '../frames/index.js';
import type { FrameProcessor } from '../pipeline/frame-processor.js';
import type { FrameObserver, FramePushEvent } from '../pipeline/observer.js';
import { LLMService } from '../services/base/llm-service.js';
import { ServiceError } from '../services/base/service-error.js';
import { STTService } from '../services/base/stt-service.js';
import { TTSService } from '../services/base/tts-service.js';
import { BaseOutputTransport } from '../transports/base/output-transport.js';
import { VADProcessor } from '../turns/vad-processor.js';

interface OpenTurn {
  readonly span: Span;
  /** Whether the bot has started answering this turn (an LLM response began). */
  answered: boolean;
  userText: string;
}

export class CallTraceObserver implements FrameObserver {
  private turn: OpenTurn | undefined;
  private turns = 0;
  private stt: Span | undefined;
  /** Whether the caller has stopped speaking since the STT span began (a final after that ends it). */
  private userStopped = false;
  private llm: Span | undefined;
  private readonly tts = new Map<string, Span>();
  private readonly tools = new Map<string, Span>();
  private lastErrorId = -1;

  constructor(
    private readonly tracer: Tracer,
    private readonly callSpan: Span,
    private readonly recordContent: boolean,
  ) {}

  onPushFrame(event: FramePushEvent): void {
    const { frame, source } = event;
    const at = event.timestamp;
    switch (frame.type) {
      case 'user-started-speaking':
        if (source instanceof VADProcessor) this.onUserStarted(at);
        return;
      case 'user-stopped-speaking':
        if (source instanceof VADProcessor) this.userStopped = true;
        return;
      case 'transcription':
        if (frame.final && source instanceof STTService && event.direction === 'downstream') this.onFinalTranscript(frame.text, at);
        return;
      case 'transcription-complete':
        if (source instanceof STTService) this.endStt(at);
        return;
      case 'llm-response-start':
        if (source instanceof LLMService) this.onLLMStart(source, at);
        return;
      case 'llm-response-end':
        if (source instanceof LLMService) {
          this.llm?.end(at);
          this.llm = undefined;
        }
        return;
      case 'tts-started':
        if (source instanceof TTSService) this.onTTSStart(source, frame.contextId ?? '', at);
        return;
      case 'tts-stopped':
        if (source instanceof TTSService) this.endTTS(frame.contextId ?? '', at);
        return;
      case 'function-call-in-progress':
        if (source instanceof LLMService && event.direction === 'downstream') this.onToolStart(frame, at);
        return;
      case 'function-call-result':
        if (source instanceof LLMService && event.direction === 'downstream') this.onToolEnd(frame, at);
        return;
      case 'bot-stopped-speaking':
        // The bot has said its answer: the turn is over once nothing of it is still running.
        if (source instanceof BaseOutputTransport && event.direction === 'downstream' && this.turn?.answered === true && this.llm === undefined && this.tools.size === 0) {
          this.endTurn(at);
        }
        return;
      case 'interruption':
        if (this.turn !== undefined) this.turn.span.setAttribute('piopiy.turn.interrupted_bot', true);
        return;
      case 'error':
        this.onError(frame, source);
        return;
      case 'metrics':
        this.recordUsage(frame, source);
        return;
      default:
        return;
    }
  }

  /** Ends every span still open, then the call's (the Agent does that with the call's end reason). */
  close(at: number): void {
    this.endStt(at);
    this.llm?.end(at);
    this.llm = undefined;
    for (const id of [...this.tts.keys()]) this.endTTS(id, at);
    for (const span of this.tools.values()) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'the call ended first' });
      span.end(at);
    }
    this.tools.clear();
    this.endTurn(at);
  }

  private parent(): ReturnType<typeof trace.setSpan> {
    return trace.setSpan(ROOT_CONTEXT, this.turn?.span ?? this.callSpan);
  }

  private onUserStarted(at: number): void {
    // Speech resuming before the bot answered continues the turn; after, it is the next turn (a barge-in, or a reply).
    if (this.turn?.answered === true) this.endTurn(at);
    if (this.turn === undefined) {
      const parent = trace.setSpan(ROOT_CONTEXT, this.callSpan);
      this.turns++;
      const span = this.tracer.startSpan('turn', { startTime: at, attributes: { 'piopiy.turn.index': this.turns } }, parent);
      this.turn = { span, answered: false, userText: '' };
    }
    this.userStopped = false;
    this.stt ??= this.tracer.startSpan('stt', { kind: SpanKind.CLIENT, startTime: at }, this.parent());
  }

  private onFinalTranscript(text: string, at: number): void {
    if (this.turn !== undefined) this.turn.userText = this.turn.userText === '' ? text : `${this.turn.userText} ${text}`;
    if (this.userStopped) this.endStt(at);
  }

  private endStt(at: number): void {
    const span = this.stt;
    if (span === undefined) return;
    this.stt = undefined;
    if (this.recordContent && this.turn !== undefined) span.setAttribute('piopiy.transcript', this.turn.userText);
    span.end(at);
  }

  private onLLMStart(llm: LLMService, at: number): void {
    this.endStt(at);
    if (this.turn !== undefined) this.turn.answered = true;
    this.llm?.end(at);
    const provider = providerOf(llm);
    this.llm = this.tracer.startSpan(
      `chat ${llm.model}`,
      {
        kind: SpanKind.CLIENT,
        startTime: at,
        attributes: {
          'gen_ai.operation.name': 'chat',
          // Both spellings: gen_ai.system until semconv 1.36, gen_ai.provider.name since 1.37.
          'gen_ai.system': provider,
          'gen_ai.provider.name': provider,
          'gen_ai.request.model': llm.model,
          'piopiy.service': llm.name,
        },
      },
      this.parent(),
    );
  }

  private onTTSStart(tts: TTSService, contextId: string, at: number): void {
    this.endTTS(contextId, at);
    this.tts.set(contextId, this.tracer.startSpan('tts', { kind: SpanKind.CLIENT, startTime: at, attributes: { 'piopiy.service': tts.name } }, this.parent()));
  }

  private endTTS(contextId: string, at: number): void {
    this.tts.get(contextId)?.end(at);
    this.tts.delete(contextId);
  }

  private onToolStart(frame: Extract<Frame, { type: 'function-call-in-progress' }>, at: number): void {
    const attributes: Record<string, string> = {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': frame.name,
      'gen_ai.tool.call.id': frame.toolCallId,
      'gen_ai.tool.type': 'function',
    };
    if (this.recordContent) attributes['gen_ai.tool.call.arguments'] = safeJson(frame.arguments);
    const span = this.tracer.startSpan(`execute_tool ${frame.name}`, { kind: SpanKind.INTERNAL, startTime: at, attributes }, this.parent());
    this.tools.set(frame.toolCallId, span);
  }

  private onToolEnd(frame: Extract<Frame, { type: 'function-call-result' }>, at: number): void {
    const span = this.tools.get(frame.toolCallId);
    if (span === undefined) return;
    this.tools.delete(frame.toolCallId);
    if (frame.error !== undefined) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: frame.error });
      span.setAttribute('error.type', 'tool_error');
    } else if (this.recordContent) {
      span.setAttribute('gen_ai.tool.call.result', safeJson(frame.result));
    }
    span.end(at);
  }

  private onError(frame: Extract<Frame, { type: 'error' }>, source: FrameProcessor): void {
    if (frame.id <= this.lastErrorId) return; // the same error, passed on upstream
    this.lastErrorId = frame.id;
    const code = frame.error instanceof ServiceError ? frame.error.code : 'unknown';
    const span = source instanceof LLMService ? this.llm : source instanceof STTService ? this.stt : undefined;
    const target = span ?? this.turn?.span ?? this.callSpan;
    // The message of a ServiceError names the vendor and what failed; clients redact keys from it (redactSecrets).
    target.addEvent('error', { 'error.type': code, 'piopiy.service': source.name, 'piopiy.error.fatal': frame.fatal });
    if (span !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: code });
  }

  private endTurn(at: number): void {
    const turn = this.turn;
    if (turn === undefined) return;
    this.turn = undefined;
    this.endStt(at);
    if (this.recordContent) turn.span.setAttribute('piopiy.transcript', turn.userText);
    turn.span.end(at);
  }

  /** Token usage arrives as a metrics frame from the LLM while its span is open. */
  private recordUsage(frame: Extract<Frame, { type: 'metrics' }>, source: FrameProcessor): void {
    for (const data of frame.data) {
      if (data.processor !== source.name) continue;
      if (data.kind === 'llm-usage' && this.llm !== undefined) {
        this.llm.setAttributes({ 'gen_ai.usage.input_tokens': data.promptTokens, 'gen_ai.usage.output_tokens': data.completionTokens });
        if (data.model !== undefined) this.llm.setAttribute('gen_ai.response.model', data.model);
      }
    }
  }
}

/** The GenAI provider name of an LLM service, from its class (OpenAI-compatible servers report as `openai`). */
function providerOf(llm: LLMService): string {
  const name = llm.constructor.name.toLowerCase();
  if (name.startsWith('openai')) return 'openai';
  if (name.startsWith('anthropic')) return 'anthropic';
  if (name.startsWith('google') || name.startsWith('gemini')) return 'gcp.gemini';
  return name.replace(/llmservice$/, '') || 'unknown';
}

function safeJson(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  } catch {
    return '[unserialisable]';
  }
}
