// RealtimeService: the base of every speech-to-speech model (OpenAI Realtime, Gemini Live) used as a VoiceAgent's
// brain, in place of STT + LLM + TTS. A subclass speaks its vendor's protocol (`RealtimeVendorSession`); this class
// does the rest for every vendor alike:
// - the socket's life: opened at the start, reopened after a drop (the Reconnector's policy) with the history
//   replayed and an apology said, the call ended (a fatal error) when it cannot be reopened;
// - caller turns: the model's own VAD (`turnDetection: 'server'`) or ours (the VAD processor's frames commit the
//   turn); the caller's words as user turns in the Conversation;
// - the model's audio as `tts-audio` behind `tts-text` markers (its words, the item, the item's audio before them)
//   between `llm-response-start` / `llm-response-end`, so the output transport, the assistant aggregator and the
//   playout tap treat it like a TTS's;
// - barge-in: the response is cancelled, the rest of its audio dropped, and the model told how much was heard
//   (`truncate`, from the playout tap: what was played, never what was received);
// - tools through the VoiceAgent's ToolRegistry (validation, timeouts, abort on interruption), their outputs sent
//   back and the model run again; `say()` and the greeting as responses the model is told to say verbatim;
// - metrics: TTFB (end of the caller's speech to the first audio), tokens, audio seconds.
import { makeFrame, parseDtmfSequence, type Frame, type FrameDirection, type LLMToolCall } from '../../frames/index.js';
import type { Conversation } from '../../conversation/conversation.js';
import { CALL_ENDED, type CallInfo, type ToolOutcome, type ToolRegistry } from '../../llm/tools.js';
import type { LLMContext } from '../../llm/context.js';
import { FrameProcessor, type FrameProcessorOptions } from '../../pipeline/index.js';
import { RealtimeResponses } from './realtime-responses.js';
import type { PlayoutPosition } from './realtime-playout.js';
import { Reconnector } from './vendor-socket.js';
import { ServiceError } from './service-error.js';

/** What the VoiceAgent gives its realtime service for one call. */
export interface RealtimeCallSetup {
  readonly instructions: string;
  readonly tools: ToolRegistry;
  readonly conversation: Conversation;
  /** The call's history (read when the session is reopened, to tell the new one what was said). */
  readonly context: LLMContext;
  readonly call?: CallInfo;
  /** 'server': the model's VAD takes turns; 'local': the pipeline's VAD frames do. */
  readonly turnDetection: 'server' | 'local';
  readonly canSendDtmf: boolean;
  readonly onToolResult?: (outcome: ToolOutcome) => void;
}

/** The pipeline's audio rates, which a vendor session matches where its vendor can. */
export interface RealtimeAudioRates {
  readonly inputSampleRate: number;
  readonly outputSampleRate: number;
}

/** Usage of one response, as the vendor reports it. */
export interface RealtimeUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cachedTokens?: number;
}

/** One vendor's protocol on one socket; it reports what the server says through the `RealtimeEvents` given. */
export interface RealtimeVendorSession {
  /** Opens the socket and configures the session; `history` (a reopened session) is replayed as items. */
  open(history: readonly { role: 'user' | 'assistant'; text: string }[]): Promise<void>;
  close(): Promise<void>;
  sendAudio(samples: Int16Array, sampleRate: number): void;
  /** Local turn detection: the caller started speaking (a vendor that needs to be told, e.g. Gemini's activityStart). */
  startInput?(): void;
  /** Local turn detection: the caller's turn is over. */
  commitInput(): void;
  /** Asks for a response; `instructions` only for this one (a verbatim line). */
  createResponse(instructions?: string): void;
  cancelResponse(): void;
  /** The caller heard `audioEndMs` of item `itemId`'s audio. */
  truncate(itemId: string, audioEndMs: number): void;
  sendToolOutputs(outputs: readonly { callId: string; output: string }[]): void;
  /** Whether the server cancels its response itself when the caller starts speaking. */
  readonly serverInterrupts: boolean;
}

/** What a vendor session reports, in the order its server says it. */
export interface RealtimeEvents {
  speechStarted(): void;
  /** `atMs` (clock time): when the speech ended, for a vendor that learns it late (Gemini); default now. */
  speechStopped(atMs?: number): void;
  userTranscript(text: string): void;
  responseStarted(): void;
  audio(itemId: string, samples: Int16Array, sampleRate: number): void;
  transcriptDelta(itemId: string, text: string): void;
  audioDone(itemId: string): void;
  functionCall(call: LLMToolCall): void;
  responseDone(usage: RealtimeUsage | undefined): void;
  /** A vendor error event; the session stays open unless `fatal`. */
  error(error: ServiceError, fatal?: boolean): void;
  /** The socket dropped (not closed by us). */
  lost(error: ServiceError): void;
}

export interface RealtimeServiceOptions extends Pick<FrameProcessorOptions, 'name'> {
  model: string;
  /** Said after the vendor socket dropped and was reopened. */
  reconnectApology?: string;
  /** Attempts to reopen a dropped socket before the call is ended. Default 3. */
  maxReconnectAttempts?: number;
}

const DEFAULT_RECONNECT_APOLOGY = 'Sorry, I lost the line for a moment. Could you repeat the last thing you said?';

export abstract class RealtimeService extends FrameProcessor {
  readonly model: string;
  private callSetup: RealtimeCallSetup | undefined;
  private vendor: RealtimeVendorSession | undefined;
  private responses: RealtimeResponses | undefined;
  private readonly reconnectApology: string;
  private readonly maxReconnectAttempts: number;
  private readonly reconnector: Reconnector;
  private closing = false;

  constructor(options: RealtimeServiceOptions) {
    super({ name: options.name });
    this.model = options.model;
    this.reconnectApology = options.reconnectApology ?? DEFAULT_RECONNECT_APOLOGY;
    this.maxReconnectAttempts = options.maxReconnectAttempts ?? 3;
    this.reconnector = new Reconnector(() => this.clock, { initialDelayMs: 200, maxDelayMs: 2000, attemptsBeforeError: this.maxReconnectAttempts, slowDelayMs: 2000 });
  }

  /** The vendor's session for one socket, reporting to `events`. */
  protected abstract createVendorSession(events: RealtimeEvents, rates: RealtimeAudioRates): RealtimeVendorSession;

  /** Gives the service the call it serves (the VoiceAgent does, before the pipeline starts). */
  configure(setup: RealtimeCallSetup): void {
    this.callSetup = setup;
  }

  /** The call's setup (for a subclass building its vendor session). */
  protected callSettings(): RealtimeCallSetup {
    if (this.callSetup === undefined) throw new Error(`${this.name}: configure() was not called: give the service to VoiceAgent.action({ realtime })`);
    return this.callSetup;
  }

  /** Where the caller's playback stopped at an interruption (from the RealtimePlayoutTap). */
  playoutCut(position: PlayoutPosition | undefined): void {
    this.responses?.playoutCut(position);
  }

  protected override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    const responses = this.responses;
    switch (frame.type) {
      case 'start':
        await this.pushFrame(frame, direction);
        await this.start();
        return;
      case 'input-audio':
        if (direction === 'downstream') {
          this.vendor?.sendAudio(frame.audio, frame.sampleRate);
          responses?.countInput(frame.audio.length / frame.sampleRate);
          if (this.callSetup?.conversation.userSpeaking === true) this.callSetup.conversation.callerAudio(frame.audio, frame.sampleRate);
          return;
        }
        break;
      case 'speak':
        responses?.say(frame.text);
        return;
      case 'user-started-speaking':
        if (this.callSetup?.turnDetection === 'local') {
          this.vendor?.startInput?.();
          responses?.callerStarted(false);
        }
        break;
      case 'user-stopped-speaking':
        if (this.callSetup?.turnDetection === 'local') {
          responses?.callerStopped();
          this.vendor?.commitInput();
          responses?.requestResponse();
        }
        break;
      case 'interruption':
        responses?.interrupted();
        break;
      case 'text':
        // A playout marker (VoiceAgent.speechPlayed) goes where the model's audio goes: behind what it said so far.
        await this.pushFrame(frame, direction);
        return;
      case 'end':
      case 'cancel':
        responses?.close(frame.type === 'cancel' ? CALL_ENDED : undefined);
        await this.stopVendor();
        break;
      default:
        break;
    }
    await this.pushFrame(frame, direction);
  }

  override async cleanup(): Promise<void> {
    this.responses?.close(CALL_ENDED);
    await this.stopVendor();
  }

  private async start(): Promise<void> {
    const setup = this.callSetup;
    if (setup === undefined) throw new Error(`${this.name}: configure() was not called: give the service to VoiceAgent.action({ realtime })`);
    this.responses = new RealtimeResponses({
      setup,
      processor: this.name,
      model: this.model,
      clock: () => this.clock,
      logger: () => this.logger,
      vendor: () => this.vendor,
      push: (frame) => this.pushFrame(frame, 'downstream'),
      pushError: (error) => this.pushError(error),
      pushMetrics: (...data) => (this.metricsEnabled ? this.pushMetrics(...data) : undefined),
      sendDtmf: (digits) => {
        for (const digit of parseDtmfSequence(digits, { allowPauses: true })) void this.pushFrame(makeFrame('output-dtmf', { digit }), 'downstream');
      },
    });
    await this.openVendor([]);
  }

  private async openVendor(history: readonly { role: 'user' | 'assistant'; text: string }[]): Promise<boolean> {
    const responses = this.responses!;
    const rates = { inputSampleRate: this.startParams?.audioInSampleRate ?? 16000, outputSampleRate: this.startParams?.audioOutSampleRate ?? 8000 };
    const vendor = this.createVendorSession(responses.events((error) => this.onLost(error)), rates);
    try {
      await vendor.open(history);
    } catch (error) {
      this.onOpenFailed(error);
      return false;
    }
    if (this.closing) {
      await vendor.close();
      return false;
    }
    this.vendor = vendor;
    this.reconnector.succeeded();
    return true;
  }

  private onOpenFailed(error: unknown): void {
    const cause = error instanceof ServiceError ? error : new ServiceError(this.name, String(error), { code: 'connection-failed', cause: error });
    if (this.closing) return;
    const plan = this.reconnector.failedAttempts + 1 >= this.maxReconnectAttempts ? undefined : this.reconnector.schedule(cause, true, () => void this.reopen());
    if (plan === undefined) {
      this.logger.error({ err: cause }, 'the speech-to-speech model cannot be reached: ending the call');
      this.pushError(cause, true);
    }
  }

  private onLost(error: ServiceError): void {
    if (this.closing) return;
    this.vendor = undefined;
    this.logger.warn({ err: error }, 'the speech-to-speech model socket dropped: reopening');
    this.responses?.lost();
    const plan = this.reconnector.schedule(error, false, () => void this.reopen());
    if (plan === undefined) this.pushError(error, true);
  }

  private async reopen(): Promise<void> {
    if (this.closing || this.callSetup === undefined) return;
    // A new session knows nothing: it is told what was said (as text), then says the apology.
    const history = this.callSetup.context.messages.flatMap((m) =>
      (m.role === 'user' || m.role === 'assistant') && typeof m.content === 'string' && m.content.trim() !== '' ? [{ role: m.role, text: m.content }] : [],
    );
    if (await this.openVendor(history)) this.responses?.say(this.reconnectApology);
  }

  private async stopVendor(): Promise<void> {
    this.closing = true;
    this.reconnector.cancel();
    const vendor = this.vendor;
    this.vendor = undefined;
    await vendor?.close().catch((error: unknown) => this.logger.debug({ err: error }, 'closing the realtime socket failed'));
  }
}
