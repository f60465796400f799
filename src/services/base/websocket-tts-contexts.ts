// The per-utterance context bookkeeping of a WebSocketTTSService. One vendor context per utterance of the
// TTSService base (one per LLM response or speak frame), reused by its sentences while the vendor's protocol says
// it can take more, replaced by a fresh one (word offsets carrying on from the audio already said) when it cannot:
// lost with its socket, ended by the server, or expired. The context is finished when the base stops the
// utterance, cancelled on an interruption or when its sentence was cut short; a context left open by an utterance
// that failed is closed when the next utterance begins.
import type { SentenceStream } from './tts-sentence-stream.js';
import type { TTSConnection } from './websocket-tts-connection.js';
import { randomUUID } from 'node:crypto';
import { WireAudioDecoder } from './wire-audio.js';

/** One vendor context: all or part of one utterance of the TTSService base. */
export interface TTSSocketContext {
  /** The context id on the wire. */
  readonly id: string;
  /** The base class's utterance id. */
  readonly utterance: string;
  readonly connection: TTSConnection;
  /** Audio of the utterance said in earlier contexts (after an expiry or a reconnect), for word offsets. */
  readonly offsetMs: number;
  /** Audio received in this context. */
  audioMs: number;
  /** Closed by us or by the server: it takes no more input. */
  ended: boolean;
  sentence: SentenceStream | undefined;
  readonly decoder: WireAudioDecoder;
}

/** A context with nothing said yet, under a random wire id; `decoder` defaults to headerless PCM16. */
export function newSocketContext(utterance: string, connection: TTSConnection, offsetMs: number, decoder = new WireAudioDecoder('s16le')): TTSSocketContext {
  return { id: randomUUID(), utterance, connection, offsetMs, audioMs: 0, ended: false, sentence: undefined, decoder };
}

/** A context whose vendor times words from the start of each sentence (Gradium, Rime, LMNT). */
export interface SentenceTimedContext extends TTSSocketContext {
  /** The context's audio when the sentence in flight was sent: its word timings count from there. */
  sentenceStartMs: number;
}

/** A context that sends each sentence as its own request, `<context id>:<count>` (Gradium, Rime). */
export interface SentenceRequestContext extends SentenceTimedContext {
  /** Sentences sent in this context; the one in flight is request `<id>:<sentences>`. */
  sentences: number;
}

export function newSentenceRequestContext(utterance: string, connection: TTSConnection, offsetMs: number): SentenceRequestContext {
  return { ...newSocketContext(utterance, connection, offsetMs), sentences: 0, sentenceStartMs: 0 };
}

/** The wire id of the sentence in flight. */
export function sentenceRequestId(context: SentenceRequestContext): string {
  return `${context.id}:${context.sentences}`;
}

/** Counts a new sentence in flight, its word timings from the audio so far; returns its wire id. */
export function beginSentenceRequest(context: SentenceRequestContext): string {
  context.sentences += 1;
  context.sentenceStartMs = context.audioMs;
  return sentenceRequestId(context);
}

/** A word `startSecs` into the sentence in flight, as an offset in the utterance (ms, to the microsecond). */
export function sentenceWordOffsetMs(context: SentenceTimedContext, startSecs: number): number {
  const offsetMs = context.offsetMs + context.sentenceStartMs + startSecs * 1000;
  return Math.round(offsetMs * 1000) / 1000;
}

/** What the bookkeeping asks of the vendor's protocol (the service's hooks). */
export interface ContextProtocol<C extends TTSSocketContext> {
  /** A new context for `utterance` on `connection`, its word offsets starting at `offsetMs`. */
  newContext(utterance: string, connection: TTSConnection, offsetMs: number): C;
  /** Whether the next sentence of its utterance may still go into `context`. */
  canContinue(context: C): boolean;
  /** Tells the vendor to stop generating for `context`, if there is anything to tell it. */
  sendCancel(context: C): void;
  /** The utterance of `context` is over: no more input goes into it. */
  finish(context: C): void;
}

export class UtteranceContexts<C extends TTSSocketContext> {
  /** The context of the utterance being said, if any. */
  current: C | undefined;

  constructor(private readonly protocol: ContextProtocol<C>) {}

  /** The context the next sentence of `utterance` goes into: the utterance's own, unless it can take no more. */
  contextFor(utterance: string, connection: TTSConnection): C {
    let context = this.current;
    if (context !== undefined && context.utterance !== utterance) {
      // The previous utterance was not closed through tts-stopped (it failed, say): close it now.
      this.endUtterance(context.utterance);
      context = undefined;
    }
    if (context === undefined) {
      context = this.protocol.newContext(utterance, connection, 0);
    } else if (context.connection !== connection || context.ended || !this.protocol.canContinue(context)) {
      // Lost with its socket, ended, or expired: the rest of the utterance gets a fresh context, its word offsets
      // carrying on from the audio already said.
      this.cancel(context);
      context = this.protocol.newContext(utterance, connection, context.offsetMs + context.audioMs);
    }
    this.current = context;
    return context;
  }

  /** The base class stopped utterance `utterance`: no more input goes into its context. */
  endUtterance(utterance: string): void {
    const context = this.current;
    if (context === undefined || context.utterance !== utterance) return;
    this.current = undefined;
    this.protocol.finish(context);
  }

  /** The vendor stops generating for the context; anything still arriving for it is dropped. */
  cancel(context: C): void {
    context.sentence?.stop();
    if (!context.ended) this.protocol.sendCancel(context);
    context.ended = true;
  }

  /** `context` is cancelled, and no longer the current one if it was. */
  drop(context: C): void {
    if (this.current === context) this.current = undefined;
    this.cancel(context);
  }

  /** Barge-in: the utterance in progress is over. */
  cancelCurrent(): void {
    const context = this.current;
    this.current = undefined;
    if (context !== undefined) this.cancel(context);
  }

  /** The service is closing: the sentence in flight yields nothing more. */
  clear(): void {
    this.current?.sentence?.stop();
    this.current = undefined;
  }
}
