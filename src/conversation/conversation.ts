// Conversation: the owner of one call's conversational state. VoiceAgent creates one per call and hands it to the
// processors that need it; they report what they see and read what they need, and no copy of this state lives
// anywhere else:
// - the history (through ConversationHistory): the only writer of the call's LLMContext, in the order the caller
//   heard things; the LLM reads immutable snapshots of it;
// - who is speaking: the caller (from the VAD, via the user-turn aggregator) and the bot (from the output
//   transport's playback, via the assistant aggregator);
// - interruptions: whether the caller's speech over the bot is a barge-in (the interruption strategy, per caller
//   turn), the interruption itself (one interruption frame sent through the whole pipeline at once, through the
//   controls the pipeline's owner gave), and the false-interruption resume (what the bot had left unsaid).
import type { LLMContextSnapshot, LLMToolCall } from '../frames/index.js';
import { LLMContext } from '../llm/context.js';
import { getDefaultLogger, type Logger } from '../logging/index.js';
import { systemClock, type Clock, type ClockTimer } from '../runtime/clock.js';
import { BackchannelInterruptionStrategy } from '../turns/backchannels.js';
import type { InterruptionStrategy } from '../turns/interruption-strategies.js';
import { ConversationHistory, type ResponseId, type ToolResultEntry } from './history.js';

export interface ConversationOptions {
  /** The history to write to. Default: an empty context. */
  context?: LLMContext;
  allowInterruptions?: boolean;
  /**
   * Default: BackchannelInterruptionStrategy() (one word that is not a backchannel such as "uh-huh"); null interrupts as
   * soon as the caller's voice is heard.
   */
  interruptionStrategy?: InterruptionStrategy | null;
  /** Window after an interruption in which the caller's words must come, else the bot resumes. Default 1500 ms. */
  falseInterruptionMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Called with each user message added to the history. */
  onUserTurn?: (text: string) => void;
  /** Called with what the caller heard of each assistant turn. */
  onAssistantTurn?: (text: string, interrupted: boolean) => void;
}

/** How a conversation acts on its call; given by whoever runs the pipeline (VoiceAgent gives its task's). */
export interface ConversationControls {
  /** Stops the bot: one interruption through the whole pipeline, now. */
  interrupt(): void;
  /** Says a text (outside the LLM). */
  say(text: string): void;
}

export interface SpeakingChange {
  readonly who: 'user' | 'bot';
  readonly speaking: boolean;
}

export class Conversation {
  readonly context: LLMContext;
  private readonly history: ConversationHistory;
  private readonly allowInterruptions: boolean;
  private readonly strategy: InterruptionStrategy | null;
  private readonly falseInterruptionMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly onUserTurn: ((text: string) => void) | undefined;
  private readonly onAssistantTurn: ((text: string, interrupted: boolean) => void) | undefined;
  private controls: ConversationControls | undefined;
  private readonly speakingListeners = new Set<(change: SpeakingChange) => void>();

  private user = false;
  private bot = false;
  /** The bot was speaking when the caller's current turn began. */
  private spokeOverBot = false;
  /** The caller's current turn has interrupted the bot. */
  private interrupted = false;
  /** The caller's current turn's words so far. */
  private callerText = '';
  private heardSinceInterruption = false;
  private falseInterruptionTimer: ClockTimer | undefined;
  /** What the bot was about to say when it was last interrupted (cleared once it speaks again). */
  private unheard: string | undefined;
  /** Words heard of the current assistant turn (for `onAssistantTurn`). */
  private assistantTurn: string[] = [];

  constructor(options: ConversationOptions = {}) {
    this.context = options.context ?? new LLMContext();
    this.history = new ConversationHistory(this.context);
    this.allowInterruptions = options.allowInterruptions ?? true;
    this.strategy =
      options.interruptionStrategy === undefined ? new BackchannelInterruptionStrategy() : options.interruptionStrategy;
    this.falseInterruptionMs = options.falseInterruptionMs ?? 1500;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? getDefaultLogger();
    this.onUserTurn = options.onUserTurn;
    this.onAssistantTurn = options.onAssistantTurn;
  }

  /** Connects the conversation to its pipeline. Until then, interruptions only update the state. */
  bind(controls: ConversationControls): void {
    this.controls = controls;
  }

  /** An immutable copy of the history and tools, safe to hand to a model request. */
  snapshot(): LLMContextSnapshot {
    return this.history.snapshot();
  }

  // ---- who is speaking ----------------------------------------------------------------------------------------

  get userSpeaking(): boolean {
    return this.user;
  }

  get botSpeaking(): boolean {
    return this.bot;
  }

  /** What the bot had left to say when it was last interrupted, until it speaks again. */
  get unheardText(): string | undefined {
    return this.unheard;
  }

  /** Calls `listener` whenever the caller or the bot starts or stops speaking. Returns the unsubscribe. */
  onSpeakingChange(listener: (change: SpeakingChange) => void): () => void {
    this.speakingListeners.add(listener);
    return () => this.speakingListeners.delete(listener);
  }

  setUserSpeaking(speaking: boolean): void {
    if (this.user === speaking) return;
    this.user = speaking;
    this.notifySpeaking('user', speaking);
  }

  setBotSpeaking(speaking: boolean): void {
    if (this.bot === speaking) return;
    this.bot = speaking;
    this.notifySpeaking('bot', speaking);
  }

  // ---- the caller's side (reported by the user-turn aggregator) ---------------------------------------------

  /** A new caller turn begins (not the caller resuming a turn not yet committed). */
  beginCallerTurn(): void {
    this.spokeOverBot = this.bot;
    this.interrupted = false;
    this.callerText = '';
    this.strategy?.reset();
    if (this.allowInterruptions && this.strategy === null) this.interrupt();
  }

  /** Caller audio of the current turn, for strategies that listen (only while the caller speaks). */
  callerAudio(samples: Int16Array, sampleRate: number): void {
    if (!this.user || this.strategy === null) return;
    this.strategy.appendAudio(samples, sampleRate);
    this.checkInterruption();
  }

  /** The current turn's transcript so far (finals and the latest interim). */
  callerWords(text: string): void {
    this.callerText = text;
    this.heardSinceInterruption = true;
    this.strategy?.setText(text);
    this.checkInterruption();
  }

  /**
   * Ends the caller's turn with `text`. Returns the history to answer from, or undefined when there is nothing to
   * answer: no words, or speech over the bot that never became an interruption (a cough, an "uh-huh").
   */
  commitUserTurn(text: string): LLMContextSnapshot | undefined {
    const discard = this.spokeOverBot && this.strategy !== null && this.allowInterruptions && !this.interrupted;
    this.spokeOverBot = false;
    this.callerText = '';
    const words = text.trim();
    if (words === '') return undefined;
    if (discard) {
      this.logger.debug({ text: words }, 'speech over the bot did not interrupt it; discarded');
      return undefined;
    }
    this.history.addUserMessage(words);
    this.call('onUserTurn', this.onUserTurn, words);
    return this.history.snapshot();
  }

  /** A note for the model that the caller does not hear (see VoiceAgent.addNote); returns the history with it. */
  addNote(text: string): LLMContextSnapshot {
    this.history.addNote(text);
    return this.history.snapshot();
  }

  /**
   * The caller pressed a key. A key is deliberate, never a cough or a backchannel, so it interrupts a speaking bot
   * at once (when interruptions are allowed, whatever the strategy) and counts as the caller's answer: the bot does
   * not resume its sentence as after a false interruption.
   */
  callerPressedKey(): void {
    if (this.allowInterruptions && this.bot) this.interrupt();
    this.heardSinceInterruption = true;
  }

  /**
   * A keypad entry is complete: `text` (what the model reads, e.g. "The caller pressed: 1 2 3") joins the history
   * as a user message. Returns the history to answer from, or undefined for empty text.
   */
  commitKeypadEntry(text: string): LLMContextSnapshot | undefined {
    const words = text.trim();
    if (words === '') return undefined;
    this.history.addUserMessage(words);
    this.call('onUserTurn', this.onUserTurn, words);
    return this.history.snapshot();
  }

  /** Stops the bot now (whatever the strategy says), and watches for a false interruption. */
  interrupt(): void {
    this.interrupted = true;
    // Read before interrupting: the interruption stops the bot's playback synchronously.
    const botWasSpeaking = this.bot;
    this.controls?.interrupt();
    if (!botWasSpeaking) return;
    // Words already heard in this turn count (a strategy on words interrupts on a transcript, perhaps the turn's
    // only one): without them the bot would resume its old sentence after a real barge-in.
    this.heardSinceInterruption = this.callerText !== '';
    this.clock.clearTimeout(this.falseInterruptionTimer);
    this.falseInterruptionTimer = this.clock.setTimeout(() => {
      this.falseInterruptionTimer = undefined;
      if (this.heardSinceInterruption || this.user) return;
      const unheard = this.unheard;
      if (unheard !== undefined && unheard.trim() !== '') {
        this.logger.debug('false interruption: resuming what the bot was saying');
        this.controls?.say(unheard);
      }
    }, this.falseInterruptionMs);
  }

  // ---- the bot's side (reported by the assistant aggregator, after playback) ---------------------------------

  /** The caller starts hearing model response `response`. */
  responseHeard(response: ResponseId): void {
    this.history.responseStarted(response);
  }

  /** Words the caller heard; `unheard` is what an interruption cut off after them. */
  heard(text: string, unheard?: string): void {
    const words = text.trim();
    if (words !== '') {
      this.assistantTurn.push(words);
      this.history.addHeard(words);
    }
    this.unheard = unheard;
    if (unheard !== undefined) this.endAssistantTurn(true);
  }

  /** The assistant's turn is over (finished playing, or interrupted). */
  endAssistantTurn(interrupted: boolean): void {
    if (this.assistantTurn.length === 0) return;
    const text = this.assistantTurn.join(' ');
    this.assistantTurn = [];
    this.call('onAssistantTurn', this.onAssistantTurn, text, interrupted);
  }

  // ---- the model's side (reported by the LLM service) --------------------------------------------------------

  toolCallsMade(response: ResponseId, toolCalls: readonly LLMToolCall[]): void {
    if (toolCalls.length !== 0) this.history.addToolCalls(response, toolCalls);
  }

  toolResultsReady(response: ResponseId, results: readonly ToolResultEntry[]): void {
    if (results.length !== 0) this.history.addToolResults(response, results);
  }

  /** The call is over: timers stop. */
  close(): void {
    this.clock.clearTimeout(this.falseInterruptionTimer);
    this.falseInterruptionTimer = undefined;
  }

  private checkInterruption(): void {
    if (!this.allowInterruptions || this.interrupted || this.strategy === null) return;
    if ((this.bot || this.spokeOverBot) && this.strategy.shouldInterrupt()) this.interrupt();
  }

  private notifySpeaking(who: 'user' | 'bot', speaking: boolean): void {
    for (const listener of this.speakingListeners) {
      try {
        listener({ who, speaking });
      } catch (error) {
        this.logger.warn({ err: error }, 'speaking-change listener threw; ignored');
      }
    }
  }

  private call<A extends unknown[]>(name: string, callback: ((...args: A) => void) | undefined, ...args: A): void {
    try {
      callback?.(...args);
    } catch (error) {
      this.logger.warn({ err: error }, `${name} callback threw; ignored`);
    }
  }
}
