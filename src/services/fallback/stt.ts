// FallbackSTTService: speech-to-text services used in order. One of them (the active one) hears the call; when it
// fails, the next one takes over, and hears again what the caller said that had not been transcribed yet, so the
// sentence in progress is still understood.
//
// "Fails" is what a service reports upstream as an error frame: a connection it cannot establish or re-establish
// (Deepgram reconnects by itself and reports only when its attempts give up, or at once for a refused key), or a
// turn a request/response service could not transcribe. The error does not go on: the switch is logged instead
// (naming both services; the vendors' errors carry no key), unless no service is left.
//
// How a switch goes:
// - the failed service is cleaned up (its socket and timers go) and rests for `recoverAfterMs`; between two turns
//   after that, the first service in the list takes over again;
// - the next one is given the call's StartFrame, then the replay: the caller audio kept since the last final
//   transcript (at most `replayMs`; the last `replayMs` of it), bracketed by VAD frames so a per-turn service
//   transcribes it as a turn and a streaming one finalises it. These frames are the fallback's own: what the
//   service passes on of them is dropped, so nothing reaches the rest of the pipeline twice;
// - caller frames keep flowing: each is given to the active service, which passes it on with its transcripts.
//
// VAD frames are system frames, which overtake queued data frames in a processor's queue. Given right after a
// burst of audio (a replay), a VAD stop would reach a per-turn service before the audio it ends: so a VAD frame is
// held until the audio given before it has come out of the service.
import {
  inputAudioFrame,
  isSystemFrame,
  makeFrame,
  type ErrorFrame,
  type Frame,
  type FrameDirection,
  type StartFrame,
  type TranscriptionFrame,
} from '../../frames/index.js';
import type { Logger } from '../../logging/index.js';
import { FrameProcessor, type ProcessorSetup } from '../../pipeline/index.js';
import type { ClockTimer } from '../../runtime/clock.js';
import { STTService } from '../base/stt-service.js';
import { FallbackOrder, type FallbackOptions } from './order.js';

export interface FallbackSTTOptions extends FallbackOptions {
  /** Most caller audio replayed to the next service when one fails. Default 5000 ms. */
  replayMs?: number;
  /** Longest wait for a service to pass audio on before a VAD frame is given to it anyway. Default 2000 ms. */
  passTimeoutMs?: number;
}

/** Where a service's output goes: back to the fallback, which decides what passes on. */
class ServiceOutlet extends FrameProcessor {
  constructor(
    name: string,
    private readonly receive: (frame: Frame, direction: FrameDirection) => void | Promise<void>,
  ) {
    super({ name });
  }

  override queueFrame(frame: Frame, direction: FrameDirection = 'downstream'): void | Promise<void> {
    return this.receive(frame, direction);
  }
}

interface HeardAudio {
  readonly audio: Int16Array;
  readonly sampleRate: number;
  /** Where it starts on the call's clock (seconds of caller audio since the start). */
  readonly startSecs: number;
  readonly secs: number;
}

/** The caller audio not yet covered by a final transcript, at most `limitSecs` of it. */
class ReplayBuffer {
  private chunks: HeardAudio[] = [];
  private keptSecs = 0;
  /** Seconds of caller audio received since the start of the call. */
  clockSecs = 0;
  /** The caller began to speak (VAD) in the audio kept. */
  holdsSpeech = false;

  constructor(private readonly limitSecs: number) {}

  /** Keeps `audio` (not copied: frames are not modified once sent). */
  push(audio: Int16Array, sampleRate: number): void {
    const secs = audio.length / sampleRate;
    this.chunks.push({ audio, sampleRate, startSecs: this.clockSecs, secs });
    this.clockSecs += secs;
    this.keptSecs += secs;
    while (this.chunks.length > 1 && this.keptSecs - this.chunks[0]!.secs >= this.limitSecs) this.keptSecs -= this.chunks.shift()!.secs;
  }

  /** Forgets the audio that ends before `secs` on the call's clock. */
  dropBefore(secs: number): void {
    while (this.chunks.length > 0 && this.chunks[0]!.startSecs + this.chunks[0]!.secs <= secs) this.keptSecs -= this.chunks.shift()!.secs;
  }

  clear(): void {
    this.chunks = [];
    this.keptSecs = 0;
    this.holdsSpeech = false;
  }

  get audio(): readonly HeardAudio[] {
    return this.chunks;
  }
}

const isVadFrame = (frame: Frame): boolean => frame.type === 'user-started-speaking' || frame.type === 'user-stopped-speaking';

export class FallbackSTTService extends STTService {
  protected readonly fallback: FallbackOrder<STTService>;
  private readonly replay: ReplayBuffer;
  private readonly passTimeoutMs: number;
  private readonly ownLogger: Logger | undefined;
  /** Frames made by the fallback for a service (a replay): what the service passes on of them goes no further. */
  private readonly ownFrames = new WeakSet<Frame>();
  private active: STTService | undefined;
  private startFrame: StartFrame | undefined;
  /** Where the active service's clock (its word times) starts on the call's clock. */
  private originSecs = 0;
  private callerSpeaking = false;
  /** Speech was heard (VAD start, an interim transcript) since the last final transcript. */
  private heardSinceFinal = false;
  /** The call is ending (end or cancel): a failure now is reported, not switched over. */
  private ending = false;
  /** A switch asked for by `preferService`, waiting for the end of the caller's turn. */
  private requested: STTService | undefined;
  /** Frames waiting to be given to the active service, in order (behind a replay, or a VAD frame held back). */
  private backlog: Frame[] = [];
  private pumping = false;
  /** The last data frame given to the active service that has not come out of it yet. */
  private inside: Frame | undefined;
  private insideOut: { resolve: () => void; timer: ClockTimer } | undefined;

  constructor(services: readonly STTService[], options: FallbackSTTOptions = {}) {
    super({ name: options.name ?? 'fallback-stt', model: services.map((s) => s.model ?? s.name).join(' | ') });
    this.fallback = new FallbackOrder(services, options.recoverAfterMs ?? 60_000, () => this.log, () => this.clock);
    this.replay = new ReplayBuffer((options.replayMs ?? 5000) / 1000);
    this.passTimeoutMs = options.passTimeoutMs ?? 2000;
    this.ownLogger = options.logger;
    for (const service of services) {
      const outlet = (frame: Frame, direction: FrameDirection): void | Promise<void> => this.fromService(service, frame, direction);
      new ServiceOutlet(`${this.name}:${service.name}:in`, outlet).link(service);
      service.link(new ServiceOutlet(`${this.name}:${service.name}:out`, outlet));
    }
  }

  private get log(): Logger {
    return this.ownLogger ?? this.logger;
  }

  /** The services' own `transcription-complete` frames pass on: only when every service sends them. */
  override get reportsTranscriptionComplete(): boolean {
    return this.fallback.services.every((service) => service.reportsTranscriptionComplete);
  }

  /** The service hearing the call now. */
  get current(): STTService | undefined {
    return this.active;
  }

  override setup(setup: ProcessorSetup): void {
    super.setup(setup);
    // The services' own hops are not reported to observers: the fallback's are, once.
    for (const service of this.fallback.services) service.setup({ ...setup, observers: [] });
  }

  override async cleanup(): Promise<void> {
    this.backlog = [];
    this.releaseInside();
    await super.cleanup();
    await Promise.allSettled(this.fallback.services.map((s) => s.cleanup()));
  }

  /** Unused: frames reach the services whole (processFrame), each service resampling them to its own rate. */
  protected override processAudio(): void {}

  protected override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (direction === 'upstream') return this.pushFrame(frame, direction);
    switch (frame.type) {
      case 'start':
        this.startFrame = frame;
        this.active = this.fallback.order()[0];
        this.originSecs = this.replay.clockSecs;
        break;
      case 'input-audio':
        this.replay.push(frame.audio, frame.sampleRate);
        break;
      case 'user-started-speaking':
        this.callerSpeaking = true;
        this.heardSinceFinal = true;
        this.replay.holdsSpeech = true;
        break;
      case 'user-stopped-speaking':
        this.callerSpeaking = false;
        break;
      case 'end':
        this.ending = true;
        break;
      case 'cancel':
        this.ending = true;
        this.backlog = [];
        break;
      default:
        break;
    }
    await this.enter(frame);
    // The turn's final transcript came before VAD stop (the service's own endpointing): the turn is transcribed.
    if (frame.type === 'user-stopped-speaking' && !this.heardSinceFinal && !this.callerSpeaking) this.turnTranscribed();
  }

  // ---- giving frames to the active service, in order ----------------------------------------------------------

  private enter(frame: Frame): void | Promise<void> {
    // Other system frames overtake, as everywhere in a pipeline.
    if (isSystemFrame(frame) && !isVadFrame(frame)) return this.pass(frame);
    if (this.pumping || this.backlog.length > 0 || (isVadFrame(frame) && this.inside !== undefined)) {
      this.backlog.push(frame);
      void this.pump();
      return;
    }
    return this.pass(frame);
  }

  private pass(frame: Frame): void | Promise<void> {
    const service = this.active;
    if (service === undefined) return this.pushFrame(frame);
    if (!isSystemFrame(frame)) this.inside = frame;
    return service.queueFrame(frame, 'downstream');
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let frame = this.backlog[0]; frame !== undefined; frame = this.backlog[0]) {
        if (isVadFrame(frame) && this.inside !== undefined) {
          await this.untilInsideOut();
          continue;
        }
        this.backlog.shift();
        const wait = this.pass(frame);
        if (wait !== undefined) await wait;
      }
    } finally {
      this.pumping = false;
    }
  }

  private untilInsideOut(): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.log.debug({ service: this.active?.name }, 'audio did not come out of the STT service in time; going on');
        this.releaseInside();
      }, this.passTimeoutMs);
      this.insideOut = { resolve, timer };
    });
  }

  private releaseInside(): void {
    this.inside = undefined;
    const waiter = this.insideOut;
    this.insideOut = undefined;
    if (waiter === undefined) return;
    this.clock.clearTimeout(waiter.timer);
    waiter.resolve();
  }

  // ---- what the services send -----------------------------------------------------------------------------------

  private fromService(service: STTService, frame: Frame, direction: FrameDirection): void | Promise<void> {
    const active = service === this.active;
    if (direction === 'upstream') {
      if (frame.type === 'error') {
        if (active) this.onServiceError(service, frame);
        else this.log.debug({ err: frame.error, service: service.name }, 'error from a retired STT service; ignored');
        return;
      }
      return active ? this.pushFrame(frame, direction) : undefined;
    }
    if (active && frame === this.inside) this.releaseInside();
    if (this.ownFrames.has(frame)) return;
    if (active) {
      if (frame.type === 'transcription') {
        if (frame.final) this.onFinal(service, frame);
        else this.heardSinceFinal = true;
      }
      return this.pushFrame(frame);
    }
    // A retired service still passes on the call's frames it was given before the switch; what it produces is late.
    if (frame.type === 'transcription' || frame.type === 'transcription-complete' || frame.type === 'metrics') return;
    return this.pushFrame(frame);
  }

  private onFinal(service: STTService, frame: TranscriptionFrame): void {
    this.fallback.succeeded(service);
    this.heardSinceFinal = false;
    if (!this.callerSpeaking) {
      this.turnTranscribed();
      return;
    }
    // Mid-utterance: the audio up to the last word is transcribed (when the service gives word times).
    const last = frame.words?.at(-1);
    if (last !== undefined) this.replay.dropBefore(this.originSecs + last.end);
  }

  /** The caller's turn is over and transcribed: nothing is left to replay. */
  private turnTranscribed(): void {
    this.replay.clear();
    // Between two turns, a service whose rest is over takes its place back at the head of the list.
    const service = this.active;
    const preferred = this.fallback.order()[0];
    if (service === undefined || preferred === undefined || preferred === service || this.ending) return;
    if (this.fallback.isResting(preferred)) return;
    const requested = this.requested === preferred;
    this.requested = undefined;
    const message = requested ? `switching from ${service.name} to ${preferred.name} as requested` : `${preferred.name} rested; switching back to it`;
    this.log.info({ from: service.name, to: preferred.name }, message);
    this.handOver(preferred, service);
  }

  /**
   * Makes `service` the first choice (a switcher's request). Between two turns it takes over at once; while the
   * caller speaks, or before their turn is transcribed, once the turn is: a sentence is never split between two
   * services. Either way it hears the caller audio not yet transcribed, so nothing said during the switch is lost.
   */
  protected preferService(service: STTService): void {
    this.fallback.prefer(service);
    const active = this.active;
    // Before the call starts, the StartFrame picks the first choice.
    if (active === undefined || active === service || this.ending) return;
    this.requested = service;
    if (this.callerSpeaking || this.heardSinceFinal || this.fallback.isResting(service)) return;
    this.requested = undefined;
    this.log.info({ from: active.name, to: service.name }, `switching from ${active.name} to ${service.name} as requested`);
    this.handOver(service, active);
  }

  private onServiceError(service: STTService, frame: ErrorFrame): void {
    if (this.ending) {
      void this.pushFrame(frame, 'upstream');
      return;
    }
    // Only to a service not resting: going back and forth between two that fail at once would never stop.
    const next = this.fallback.order().find((s) => s !== service && !this.fallback.isResting(s));
    this.fallback.failed(service, frame.error, next);
    if (next === undefined) {
      void this.pushFrame(frame, 'upstream');
      return;
    }
    this.handOver(next, service);
  }

  /** `next` takes over from `previous`, and hears the audio not yet transcribed. */
  private handOver(next: STTService, previous: STTService): void {
    this.active = next;
    this.releaseInside();
    // Cleaned up once its own handling of the failure is over (a service reports, then schedules its next attempt).
    queueMicrotask(() => {
      previous.cleanup().catch((error: unknown) => this.log.warn({ err: error, service: previous.name }, 'STT service cleanup failed'));
    });
    // Frames held for the previous service go on without a service: their audio is in the replay, and the caller's
    // VAD state is replayed as it is now.
    for (const held of this.backlog.splice(0)) void this.pushFrame(held);
    const replay: Frame[] = [];
    if (this.startFrame !== undefined) replay.push({ ...this.startFrame });
    const heard = this.replay.audio;
    this.originSecs = heard[0]?.startSecs ?? this.replay.clockSecs;
    const speech = this.callerSpeaking || this.replay.holdsSpeech;
    if (speech) replay.push(makeFrame('user-started-speaking'));
    for (const chunk of heard) replay.push(inputAudioFrame(chunk.audio, chunk.sampleRate));
    if (speech && !this.callerSpeaking) replay.push(makeFrame('user-stopped-speaking'));
    for (const frame of replay) this.ownFrames.add(frame);
    if (heard.length > 0) {
      this.log.info({ service: next.name, replayedMs: Math.round((this.replay.clockSecs - this.originSecs) * 1000) }, 'replaying caller audio to the next STT service');
    }
    this.backlog.push(...replay);
    void this.pump();
  }
}
