// OpenTelemetry traces of an Agent's calls, through @opentelemetry/api only: without an SDK installed and
// registered by the program, every span is a no-op. A program gives its own provider (`tracerProvider`) or registers
// a global one (the SDK's `register()` / NodeSDK); the Agent uses that.
import { SpanKind, SpanStatusCode, trace, type Span, type TracerProvider } from '@opentelemetry/api';
import { CallTraceObserver } from './call-trace-observer.js';
import type { CallEndReason } from './metrics.js';

export interface TracingOptions {
  /** Where spans go. Default: the globally registered provider (a no-op until an SDK registers one). */
  tracerProvider?: TracerProvider;
  /**
   * Put what people said and typed into spans: caller transcripts (`piopiy.transcript`), tool arguments and results.
   * Default false: those are personal data, and traces are often kept and shared more widely than call logs.
   */
  recordContent?: boolean;
}

export interface CallTrace {
  /** Undefined when the call's span is not recorded (no SDK, or sampled out): the call then pays nothing. */
  readonly observer: CallTraceObserver | undefined;
  /** Ends the call's span (and any still open inside it). */
  end(reason: CallEndReason): void;
}

const TRACER_NAME = 'piopiy-ai';

export class AgentTracing {
  constructor(
    private readonly options: TracingOptions,
    private readonly agentId: string,
  ) {}

  callStarted(call: { callId: string; roomName: string }): CallTrace {
    const tracer = (this.options.tracerProvider ?? trace.getTracerProvider()).getTracer(TRACER_NAME);
    const span: Span = tracer.startSpan('call', {
      kind: SpanKind.SERVER,
      attributes: { 'piopiy.call.id': call.callId, 'piopiy.agent.id': this.agentId, 'piopiy.room.name': call.roomName },
    });
    // An observer sees every hop of every frame (~2 µs per audio frame through a call's pipeline): only worth it
    // when the spans go somewhere.
    if (!span.isRecording()) return { observer: undefined, end: () => span.end() };
    const observer = new CallTraceObserver(tracer, span, this.options.recordContent ?? false);
    return {
      observer,
      end(reason) {
        observer.close(performance.now());
        span.setAttribute('piopiy.call.end_reason', reason);
        if (reason === 'failed' || reason === 'session-error') span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
        span.end();
      },
    };
  }
}
