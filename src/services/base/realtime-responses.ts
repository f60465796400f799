// The per-call state of a speech-to-speech model's responses (RealtimeService's working half): which response is
// running, the audio of each model item sent on and how much of it, the words waiting for their audio, tool calls
// and their run, lines waiting to be said, the interruption to report, and the response metrics. It turns what the
// vendor session reports (`RealtimeEvents`) into frames, and the pipeline's requests into vendor calls.
import { makeFrame, ttsAudioFrame, type Frame, type LLMToolCall, type MetricsData } from '../../frames/index.js';
import { CALL_ENDED, type ToolOutcome } from '../../llm/tools.js';
import type { Logger } from '../../logging/index.js';
import type { Clock } from '../../runtime/clock.js';
import type { PlayoutPosition } from './realtime-playout.js';
import type { RealtimeCallSetup, RealtimeEvents, RealtimeVendorSession } from './realtime-service.js';
import type { ServiceError } from './service-error.js';

export interface RealtimeResponsesOptions {
  setup: RealtimeCallSetup;
  processor: string;
  model: string;
  clock: () => Clock;
  logger: () => Logger;
  vendor: () => RealtimeVendorSession | undefined;
  push: (frame: Frame) => void | Promise<void>;
  pushError: (error: unknown) => void;
  pushMetrics: (...data: MetricsData[]) => void;
  sendDtmf: (digits: string) => void;
}

interface ItemAudio {
  readonly id: string;
  /** Audio sent on for this item, in ms (the position the next marker carries). */
  sentMs: number;
  /** Words received but not yet sent on (a word is sent once complete, before the audio that follows it). */
  words: string;
  done: boolean;
}

/** The line a model is told to say verbatim (OpenAI has no text-to-speech mode in a realtime session). */
export function verbatimInstructions(text: string): string {
  return `Say exactly: ${text}`;
}

export class RealtimeResponses {
  private readonly o: RealtimeResponsesOptions;
  /** A response is running, or has been asked for and not yet started. */
  private responseActive = false;
  private responseWanted = false;
  /** The id of the running response's `llm-response-start` frame (the conversation's response id). */
  private responseId = 0;
  /** After an interruption, the rest of the cut response is dropped until the next one starts. */
  private dropping = false;
  /** The caller's speech was detected by the server, which cancels its response itself. */
  private serverCut = false;
  private readonly items = new Map<string, ItemAudio>();
  private lastItem: ItemAudio | undefined;
  private pendingCut: ItemAudio | undefined;
  private toolCalls: LLMToolCall[] = [];
  private toolRun: AbortController | undefined;
  private readonly lines: string[] = [];
  private ttfbFrom = -1;
  private inputSecs = 0;
  private outputSecs = 0;
  private closed = false;

  constructor(options: RealtimeResponsesOptions) {
    this.o = options;
  }

  /** The events a vendor session reports to; `lost` goes to the service's reconnection. */
  events(lost: (error: ServiceError) => void): RealtimeEvents {
    return {
      speechStarted: () => this.callerStarted(true),
      speechStopped: (atMs) => this.callerStopped(atMs),
      userTranscript: (text) => this.o.setup.conversation.commitUserTurn(text),
      responseStarted: () => this.responseStarted(),
      audio: (itemId, samples, sampleRate) => this.audio(itemId, samples, sampleRate),
      transcriptDelta: (itemId, text) => {
        if (!this.dropping) this.item(itemId).words += text;
      },
      audioDone: (itemId) => this.audioDone(itemId),
      functionCall: (call) => {
        if (!this.dropping) this.toolCalls.push(call);
      },
      responseDone: (usage) => this.responseDone(usage),
      error: (error, fatal) => {
        this.o.logger().warn({ err: error }, 'the speech-to-speech model reported an error');
        if (fatal === true) this.o.pushError(error);
      },
      lost,
    };
  }

  countInput(seconds: number): void {
    this.inputSecs += seconds;
  }

  callerStarted(byServer: boolean): void {
    const { conversation } = this.o.setup;
    this.serverCut = byServer && this.o.vendor()?.serverInterrupts === true;
    conversation.setUserSpeaking(true);
    conversation.beginCallerTurn();
    this.serverCut = false;
    if (byServer) void this.o.push(makeFrame('user-started-speaking'));
  }

  callerStopped(atMs?: number): void {
    this.o.setup.conversation.setUserSpeaking(false);
    this.ttfbFrom = atMs ?? this.o.clock().now();
    void this.o.push(makeFrame('user-stopped-speaking'));
  }

  /** Asks the model for a response now, or once the running one is done. */
  requestResponse(): void {
    if (this.responseActive) {
      this.responseWanted = true;
      return;
    }
    this.responseActive = true;
    this.o.vendor()?.createResponse();
  }

  /** Says `text` (the greeting, `voice.say()`, a tool's `ctx.say()`) as the next response. */
  say(text: string): void {
    if (this.responseActive || this.toolRun !== undefined) {
      this.lines.push(text);
      return;
    }
    this.responseActive = true;
    this.o.vendor()?.createResponse(verbatimInstructions(text));
  }

  interrupted(): void {
    this.dropping = true;
    this.lines.length = 0;
    this.responseWanted = false;
    this.toolRun?.abort();
    if (this.responseActive && !this.serverCut) this.o.vendor()?.cancelResponse();
    // What the caller heard of the last item is known once the output transport has stopped (playoutCut).
    this.pendingCut = this.lastItem;
    this.lastItem = undefined;
  }

  playoutCut(position: PlayoutPosition | undefined): void {
    const cut = this.pendingCut;
    this.pendingCut = undefined;
    if (cut === undefined) return;
    const sentMs = Math.floor(cut.sentMs);
    const heardMs = position?.itemId === cut.id ? Math.min(sentMs, Math.round(position.playedMs)) : 0;
    if (cut.done && heardMs >= sentMs) return; // heard in full: nothing to forget
    this.o.logger().debug({ itemId: cut.id, audioEndMs: heardMs, sentMs }, 'telling the model how much of its answer was heard');
    this.o.vendor()?.truncate(cut.id, heardMs);
  }

  /** The socket dropped: what was running is gone with it. */
  lost(): void {
    this.responseActive = false;
    this.responseWanted = false;
    this.toolCalls = [];
    this.items.clear();
    this.lastItem = undefined;
  }

  close(reason?: string): void {
    this.closed = true;
    this.toolRun?.abort(reason ?? CALL_ENDED);
  }

  private item(id: string): ItemAudio {
    let item = this.items.get(id);
    if (item === undefined) {
      item = { id, sentMs: 0, words: '', done: false };
      this.items.set(id, item);
    }
    return item;
  }

  private responseStarted(): void {
    this.responseActive = true;
    this.dropping = false;
    this.toolCalls = [];
    this.items.clear();
    this.outputSecs = 0;
    const start = makeFrame('llm-response-start');
    this.responseId = start.id;
    void this.o.push(start);
  }

  private audio(itemId: string, samples: Int16Array, sampleRate: number): void {
    if (this.dropping || this.closed) return;
    if (this.ttfbFrom >= 0) {
      this.o.pushMetrics({ kind: 'ttfb', processor: this.o.processor, valueMs: this.o.clock().now() - this.ttfbFrom });
      this.ttfbFrom = -1;
    }
    const item = this.item(itemId);
    // Complete words go before the audio that follows them; a word still being received waits.
    const cut = item.words.search(/\s\S*$/);
    const words = cut < 0 ? '' : item.words.slice(0, cut + 1);
    item.words = item.words.slice(words.length);
    void this.o.push(makeFrame('tts-text', { text: words, contextId: itemId, offsetMs: item.sentMs }));
    void this.o.push(ttsAudioFrame(samples, sampleRate, itemId));
    const ms = (samples.length * 1000) / sampleRate;
    item.sentMs += ms;
    this.outputSecs += ms / 1000;
    this.lastItem = item;
  }

  private audioDone(itemId: string): void {
    if (this.dropping || this.closed) return;
    const item = this.item(itemId);
    // The last words, at the end of the audio: the caller has heard them once playback gets here.
    void this.o.push(makeFrame('tts-text', { text: item.words, contextId: itemId, offsetMs: item.sentMs }));
    item.words = '';
    item.done = true;
  }

  private responseDone(usage: { inputTokens: number; outputTokens: number; cachedTokens?: number } | undefined): void {
    this.responseActive = false;
    void this.o.push(makeFrame('llm-response-end'));
    const { processor, model } = this.o;
    if (usage !== undefined) {
      this.o.pushMetrics({ kind: 'llm-usage', processor, model, promptTokens: usage.inputTokens, completionTokens: usage.outputTokens, cachedTokens: usage.cachedTokens });
    }
    this.o.pushMetrics({ kind: 'realtime-audio', processor, model, inputAudioSeconds: this.inputSecs, outputAudioSeconds: this.outputSecs });
    this.inputSecs = 0;
    const calls = this.dropping ? [] : this.toolCalls;
    this.toolCalls = [];
    if (calls.length > 0) {
      void this.runTools(calls, this.responseId);
      return;
    }
    this.next();
  }

  /** After a response: the response asked for meanwhile, else the next line to say. */
  private next(): void {
    if (this.closed || this.responseActive || this.toolRun !== undefined) return;
    if (this.responseWanted) {
      this.responseWanted = false;
      this.requestResponse();
      return;
    }
    const line = this.lines.shift();
    if (line !== undefined) this.say(line);
  }

  private async runTools(calls: readonly LLMToolCall[], responseId: number): Promise<void> {
    const { setup } = this.o;
    const run = new AbortController();
    this.toolRun = run;
    setup.conversation.toolCallsMade(responseId, calls);
    for (const call of calls) {
      void this.o.push(makeFrame('function-call-in-progress', { toolCallId: call.id, name: call.name, arguments: call.arguments }));
    }
    const outcomes = await Promise.all(
      calls.map((call) =>
        setup.tools.execute(call, {
          call: setup.call,
          interruption: run.signal,
          say: (text) => this.say(text),
          sendDtmf: setup.canSendDtmf ? this.o.sendDtmf : undefined,
          clock: this.o.clock(),
        }),
      ),
    );
    this.toolRun = undefined;
    for (const outcome of outcomes) this.reportTool(outcome);
    setup.conversation.toolResultsReady(responseId, outcomes.map((o) => ({ toolCallId: o.toolCallId, name: o.name, content: o.content })));
    if (this.closed) return;
    // The outputs are sent even when interrupted: the model's conversation must hold every call's output.
    this.o.vendor()?.sendToolOutputs(outcomes.map((o) => ({ callId: o.toolCallId, output: o.content })));
    if (!run.signal.aborted && outcomes.some((o) => o.runLLM)) this.responseWanted = true;
    this.next();
  }

  private reportTool(outcome: ToolOutcome): void {
    try {
      this.o.setup.onToolResult?.(outcome);
    } catch (error) {
      this.o.logger().warn({ err: error }, 'onToolResult threw; ignored');
    }
    void this.o.push(
      makeFrame('function-call-result', {
        toolCallId: outcome.toolCallId,
        name: outcome.name,
        arguments: outcome.arguments,
        result: outcome.result,
        error: outcome.error,
        runLLM: outcome.runLLM,
      }),
    );
  }
}
