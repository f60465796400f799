// UserTurnAggregator: turns what the caller says into user turns. It moves text; the call's Conversation owns the
// state: who is speaking, whether speech over the bot interrupts it, and the history the turn is added to.
//
// A user turn runs from `user-started-speaking` to `user-stopped-speaking` (VAD). Its final transcripts form one
// user message, committed to the conversation, and an `llm-context` frame with the resulting history asks the LLM
// to answer. When the turn is committed depends on the STT:
// - one that reports `transcription-complete` (`waitForTranscriptionComplete`, set by VoiceAgent): the turn ends
//   when the STT says the audio up to the VAD stop is transcribed, at most `finalTranscriptTimeoutMs` after the
//   stop (then with the latest interim). A final result in the middle of a sentence (Deepgram sends one every
//   few seconds of audio) does not end it, and caller speech resuming before then continues the same turn;
// - any other: the turn ends at VAD stop if a final result has come and no interim is pending, else on the next
//   final result (at most `finalTranscriptTimeoutMs` later, then with the latest interim).
// A transcript with no VAD turn in progress starts a turn of its own (STTs that work without a VAD).
import { makeFrame, type Frame, type FrameDirection } from '../frames/index.js';
import { FrameProcessor, type FrameProcessorOptions } from '../pipeline/index.js';
import type { ClockTimer } from '../runtime/clock.js';
import type { Conversation } from './conversation.js';

export interface UserTurnAggregatorOptions extends Pick<FrameProcessorOptions, 'name'> {
  /** The call's conversation: it decides interruptions and takes the turns. */
  conversation: Conversation;
  /** Longest wait after VAD stop for the STT to finish the turn's transcript. Default 600 ms. */
  finalTranscriptTimeoutMs?: number;
  /** The STT before this sends `transcription-complete` after each VAD stop (see the top of this file). */
  waitForTranscriptionComplete?: boolean;
}

export class UserTurnAggregator extends FrameProcessor {
  private readonly conversation: Conversation;
  private readonly finalTranscriptTimeoutMs: number;
  private readonly waitForTranscriptionComplete: boolean;

  private finals: string[] = [];
  private interim = '';
  private waitingForFinal: ClockTimer | undefined;
  /** The VAD stop (its frame id) whose `transcription-complete` the ended turn waits for. */
  private awaitedStop: number | undefined;
  /** The latest VAD stop the STT has said is transcribed. */
  private completedThrough = 0;

  constructor(options: UserTurnAggregatorOptions) {
    super({ name: options.name ?? 'user-turns' });
    this.conversation = options.conversation;
    this.finalTranscriptTimeoutMs = options.finalTranscriptTimeoutMs ?? 600;
    this.waitForTranscriptionComplete = options.waitForTranscriptionComplete ?? false;
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    switch (frame.type) {
      case 'user-started-speaking':
        if (direction === 'downstream') this.onTurnStart();
        break;
      case 'user-stopped-speaking':
        if (direction === 'downstream') this.onTurnStop(frame.id);
        break;
      case 'input-audio':
        this.conversation.callerAudio(frame.audio, frame.sampleRate);
        return; // caller audio is not needed past this point
      case 'transcription':
        this.onTranscription(frame.text, frame.final);
        return;
      case 'transcription-complete':
        this.onTranscriptionComplete(frame.stopFrameId);
        return;
      case 'end':
      case 'cancel':
        this.clearTimer();
        break;
      default:
        break;
    }
    return this.pushFrame(frame, direction);
  }

  override async cleanup(): Promise<void> {
    this.clearTimer();
  }

  private onTurnStart(): void {
    if (this.awaitedStop !== undefined) {
      // The caller goes on before the STT has finished the words before the pause: the same turn continues.
      this.clearTimer();
      this.conversation.setUserSpeaking(true);
      return;
    }
    if (this.waitingForFinal !== undefined) this.commit(); // a new turn began before the last one's final result
    this.conversation.setUserSpeaking(true);
    this.conversation.beginCallerTurn();
  }

  private onTurnStop(stopFrameId: number): void {
    this.conversation.setUserSpeaking(false);
    if (this.waitForTranscriptionComplete) {
      this.awaitedStop = stopFrameId;
      if (this.completedThrough >= stopFrameId) {
        this.commit();
        return;
      }
      this.waitForFinal();
      return;
    }
    if (this.finals.length > 0 && this.interim === '') {
      this.commit();
      return;
    }
    this.waitForFinal(); // the final transcript is still on its way (or never comes)
  }

  private onTranscription(text: string, final: boolean): void {
    if (text.trim() === '') return;
    if (!this.conversation.userSpeaking && this.waitingForFinal === undefined && this.finals.length === 0 && this.interim === '') {
      // Words with no VAD turn in progress start a turn of their own; like a VAD turn, it is spoken over the bot
      // if the bot is speaking now (so an "uh-huh" that does not interrupt is discarded, not answered).
      this.conversation.beginCallerTurn();
    }
    if (final) {
      this.finals.push(text.trim());
      this.interim = '';
    } else {
      this.interim = text.trim();
    }
    this.conversation.callerWords(this.turnText(true));
    // A final result after VAD stop completes the turn, unless the STT will say when the turn is transcribed;
    // without VAD, a final result is a turn by itself.
    if (final && !this.conversation.userSpeaking && this.awaitedStop === undefined) this.commit();
  }

  private onTranscriptionComplete(stopFrameId: number): void {
    this.completedThrough = Math.max(this.completedThrough, stopFrameId);
    if (this.awaitedStop !== undefined && stopFrameId >= this.awaitedStop) this.commit();
  }

  private waitForFinal(): void {
    this.clock.clearTimeout(this.waitingForFinal);
    this.waitingForFinal = this.clock.setTimeout(() => this.commit(true), this.finalTranscriptTimeoutMs);
  }

  private turnText(withInterim: boolean): string {
    const parts = withInterim && this.interim !== '' ? [...this.finals, this.interim] : this.finals;
    return parts.join(' ').trim();
  }

  private commit(useInterim = false): void {
    this.clearTimer();
    const text = this.turnText(useInterim);
    this.finals = [];
    this.interim = '';
    const context = this.conversation.commitUserTurn(text);
    if (context !== undefined) void this.pushFrame(makeFrame('llm-context', { context }));
  }

  private clearTimer(): void {
    this.clock.clearTimeout(this.waitingForFinal);
    this.waitingForFinal = undefined;
    this.awaitedStop = undefined;
  }
}
