// UserTurnAggregator: turns what the caller says into user messages, and decides when the caller interrupts.
//
// A user turn runs from `user-started-speaking` to `user-stopped-speaking` (VAD). Its final transcripts form one
// user message, added to the context, and an `llm-context` frame asks the LLM to answer. When the turn is
// committed depends on the STT:
// - one that reports `transcription-complete` (`waitForTranscriptionComplete`, set by VoiceAgent): the turn ends
//   when the STT says the audio up to the VAD stop is transcribed, at most `finalTranscriptTimeoutMs` after the
//   stop (then with the latest interim). A final result in the middle of a sentence (Deepgram sends one every
//   few seconds of audio) does not end it, and caller speech resuming before then continues the same turn;
// - any other: the turn ends at VAD stop if a final result has come and no interim is pending, else on the next
//   final result (at most `finalTranscriptTimeoutMs` later, then with the latest interim).
//
// Interruptions (when allowed), following piopiy/Pipecat semantics:
// - with no strategy (`null`): the caller starting to speak interrupts at once;
// - with a strategy (default: at least one word): while the bot speaks, the caller interrupts when the strategy
//   says so; a turn spoken over the bot that never satisfied it is discarded (a cough, an "uh-huh");
// - when the bot is silent, the caller's speech is always taken.
// An interruption is requested from the whole pipeline (`interruption-task`). If no transcript follows it within
// `falseInterruptionMs`, it was a false alarm: the bot says the rest of what it was saying.
import { makeFrame, type Frame, type FrameDirection } from '../frames/index.js';
import type { LLMContext } from '../llm/context.js';
import { FrameProcessor, type FrameProcessorOptions } from '../pipeline/index.js';
import type { ClockTimer } from '../runtime/clock.js';
import { MinWordsInterruptionStrategy, type InterruptionStrategy } from './interruption-strategies.js';

export interface UserTurnAggregatorOptions extends Pick<FrameProcessorOptions, 'name'> {
  context: LLMContext;
  allowInterruptions?: boolean;
  /** Default: MinWordsInterruptionStrategy({ minWords: 1 }); null interrupts as soon as VAD hears speech. */
  interruptionStrategy?: InterruptionStrategy | null;
  /** Longest wait after VAD stop for the STT to finish the turn's transcript. Default 600 ms. */
  finalTranscriptTimeoutMs?: number;
  /** The STT before this sends `transcription-complete` after each VAD stop (see the top of this file). */
  waitForTranscriptionComplete?: boolean;
  /** Window after an interruption in which a transcript must arrive, else the bot resumes. Default 1500 ms. */
  falseInterruptionMs?: number;
  /** What the bot had left to say when it was interrupted (from the assistant side). */
  unheardText?: () => string | undefined;
  /** Called with each user message added to the context. */
  onUserTurn?: (text: string) => void;
}

export class UserTurnAggregator extends FrameProcessor {
  private readonly context: LLMContext;
  private readonly allowInterruptions: boolean;
  private readonly strategy: InterruptionStrategy | null;
  private readonly finalTranscriptTimeoutMs: number;
  private readonly waitForTranscriptionComplete: boolean;
  private readonly falseInterruptionMs: number;
  private readonly unheardText: (() => string | undefined) | undefined;
  private readonly onUserTurn: ((text: string) => void) | undefined;

  private userSpeaking = false;
  private botSpeaking = false;
  private finals: string[] = [];
  private interim = '';
  /** The bot was speaking when this turn began. */
  private spokeOverBot = false;
  /** This turn has interrupted the bot. */
  private interrupted = false;
  private waitingForFinal: ClockTimer | undefined;
  /** The VAD stop (its frame id) whose `transcription-complete` the ended turn waits for. */
  private awaitedStop: number | undefined;
  /** The latest VAD stop the STT has said is transcribed. */
  private completedThrough = 0;
  private falseInterruptionTimer: ClockTimer | undefined;
  private heardSinceInterruption = false;

  constructor(options: UserTurnAggregatorOptions) {
    super({ name: options.name ?? 'user-turns' });
    this.context = options.context;
    this.allowInterruptions = options.allowInterruptions ?? true;
    this.strategy =
      options.interruptionStrategy === undefined ? new MinWordsInterruptionStrategy({ minWords: 1 }) : options.interruptionStrategy;
    this.finalTranscriptTimeoutMs = options.finalTranscriptTimeoutMs ?? 600;
    this.waitForTranscriptionComplete = options.waitForTranscriptionComplete ?? false;
    this.falseInterruptionMs = options.falseInterruptionMs ?? 1500;
    this.unheardText = options.unheardText;
    this.onUserTurn = options.onUserTurn;
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    switch (frame.type) {
      case 'bot-started-speaking':
        this.botSpeaking = true;
        break;
      case 'bot-stopped-speaking':
        this.botSpeaking = false;
        break;
      case 'user-started-speaking':
        if (direction === 'downstream') this.onTurnStart();
        break;
      case 'user-stopped-speaking':
        if (direction === 'downstream') this.onTurnStop(frame.id);
        break;
      case 'input-audio':
        if (this.userSpeaking && this.strategy !== null) {
          this.strategy.appendAudio(frame.audio, frame.sampleRate);
          this.checkInterruption();
        }
        return; // caller audio is not needed past this point
      case 'transcription':
        this.onTranscription(frame.text, frame.final);
        return;
      case 'transcription-complete':
        this.onTranscriptionComplete(frame.stopFrameId);
        return;
      case 'end':
      case 'cancel':
        this.clearTimers();
        break;
      default:
        break;
    }
    return this.pushFrame(frame, direction);
  }

  override async cleanup(): Promise<void> {
    this.clearTimers();
  }

  private onTurnStart(): void {
    if (this.awaitedStop !== undefined) {
      // The caller goes on before the STT has finished the words before the pause: the same turn continues.
      this.clock.clearTimeout(this.waitingForFinal);
      this.waitingForFinal = undefined;
      this.awaitedStop = undefined;
      this.userSpeaking = true;
      return;
    }
    if (this.waitingForFinal !== undefined) this.commit(); // a new turn began before the last one's final result
    this.userSpeaking = true;
    this.spokeOverBot = this.botSpeaking;
    this.interrupted = false;
    this.strategy?.reset();
    if (this.allowInterruptions && this.strategy === null) this.interrupt();
  }

  private onTurnStop(stopFrameId: number): void {
    this.userSpeaking = false;
    if (this.waitForTranscriptionComplete) {
      this.awaitedStop = stopFrameId;
      if (this.completedThrough >= stopFrameId) {
        this.commit();
        return;
      }
      this.clock.clearTimeout(this.waitingForFinal);
      this.waitingForFinal = this.clock.setTimeout(() => this.commit(true), this.finalTranscriptTimeoutMs);
      return;
    }
    if (this.finals.length > 0 && this.interim === '') {
      this.commit();
      return;
    }
    // The final transcript is still on its way (or never comes): wait a little for it.
    this.clock.clearTimeout(this.waitingForFinal);
    this.waitingForFinal = this.clock.setTimeout(() => this.commit(true), this.finalTranscriptTimeoutMs);
  }

  private onTranscription(text: string, final: boolean): void {
    if (text.trim() === '') return;
    if (!this.userSpeaking && this.waitingForFinal === undefined && this.finals.length === 0 && this.interim === '') {
      // A transcript with no VAD turn in progress starts a turn of its own: like a VAD turn, it is spoken over the
      // bot if the bot is speaking now (without this, an "uh-huh" over the bot that did not satisfy the strategy
      // was taken as a user turn and answered, instead of being discarded).
      this.spokeOverBot = this.botSpeaking;
      this.interrupted = false;
      this.strategy?.reset();
    }
    this.heardSinceInterruption = true;
    if (final) {
      this.finals.push(text.trim());
      this.interim = '';
    } else {
      this.interim = text.trim();
    }
    this.strategy?.setText(this.turnText(true));
    this.checkInterruption();
    // A final result after VAD stop completes the turn, unless the STT will say when the turn is transcribed;
    // without VAD, a final result is a turn by itself.
    if (final && !this.userSpeaking && this.awaitedStop === undefined) this.commit();
  }

  private onTranscriptionComplete(stopFrameId: number): void {
    this.completedThrough = Math.max(this.completedThrough, stopFrameId);
    if (this.awaitedStop !== undefined && stopFrameId >= this.awaitedStop) this.commit();
  }

  private checkInterruption(): void {
    if (!this.allowInterruptions || this.interrupted || this.strategy === null) return;
    if ((this.botSpeaking || this.spokeOverBot) && this.strategy.shouldInterrupt()) this.interrupt();
  }

  private interrupt(): void {
    this.interrupted = true;
    // Read before pushing: the interruption propagates synchronously and the bot stops speaking during it.
    const botWasSpeaking = this.botSpeaking;
    void this.pushFrame(makeFrame('interruption-task'), 'upstream');
    if (!botWasSpeaking) return;
    // Watch for a false interruption: no words within the window means the bot should go on. Words already heard
    // in this turn count (a strategy on words interrupts on a transcript, possibly the turn's only final one);
    // resetting the flag here made the bot resume its old sentence after a real barge-in.
    this.heardSinceInterruption = this.turnText(true) !== '';
    this.clock.clearTimeout(this.falseInterruptionTimer);
    this.falseInterruptionTimer = this.clock.setTimeout(() => {
      this.falseInterruptionTimer = undefined;
      if (this.heardSinceInterruption || this.userSpeaking) return;
      const unheard = this.unheardText?.();
      if (unheard !== undefined && unheard.trim() !== '') {
        this.logger.debug('false interruption: resuming what the bot was saying');
        void this.pushFrame(makeFrame('speak', { text: unheard }));
      }
    }, this.falseInterruptionMs);
  }

  private turnText(withInterim: boolean): string {
    const parts = withInterim && this.interim !== '' ? [...this.finals, this.interim] : this.finals;
    return parts.join(' ').trim();
  }

  private commit(useInterim = false): void {
    this.clock.clearTimeout(this.waitingForFinal);
    this.waitingForFinal = undefined;
    this.awaitedStop = undefined;
    const text = this.turnText(useInterim);
    const discard = this.spokeOverBot && this.strategy !== null && this.allowInterruptions && !this.interrupted;
    this.finals = [];
    this.interim = '';
    this.spokeOverBot = false;
    if (text === '') return;
    if (discard) {
      this.logger.debug({ text }, 'speech over the bot did not interrupt it; discarded');
      return;
    }
    this.context.addUserMessage(text);
    try {
      this.onUserTurn?.(text);
    } catch (error) {
      this.logger.warn({ err: error }, 'onUserTurn callback threw; ignored');
    }
    void this.pushFrame(makeFrame('llm-context', { context: this.context }));
  }

  private clearTimers(): void {
    this.clock.clearTimeout(this.waitingForFinal);
    this.clock.clearTimeout(this.falseInterruptionTimer);
    this.waitingForFinal = undefined;
    this.awaitedStop = undefined;
    this.falseInterruptionTimer = undefined;
  }
}
