// Human or answering machine, from the first seconds of an outbound call. The cues, strongest first:
//  - the carrier's own verdict where it has one (Twilio's `AnsweredBy`);
//  - a beep (only machines beep);
//  - words only a greeting says ("leave a message", "not available"), when an STT is present;
//  - cadence: a person answers with a short "Hello?" and waits for the caller; a machine talks on, 3 s or more,
//    pausing only briefly between its sentences.
// Time is the audio's: milliseconds of caller audio since the answer, so a test feeds a recording faster than real
// time and gets the decision time a real call would have.

export type AnsweringMachineReason =
  /** The carrier decided (Twilio AMD). */
  | 'carrier'
  | 'beep'
  | 'transcript'
  /** Speech ran on past `machineSpeechMs`. */
  | 'long-greeting'
  /** A short greeting followed by silence. */
  | 'short-greeting'
  /** Nobody spoke within `silenceTimeoutMs`: treated as a person (see below). */
  | 'silence'
  /** No decision within `maxDecisionMs`: treated as a person. */
  | 'timeout';

export interface AnsweringDecision {
  readonly answeredBy: 'human' | 'machine';
  readonly reason: AnsweringMachineReason;
  /** When it was decided, in ms of call audio since the answer. */
  readonly decidedAtMs: number;
  /** How long the callee spoke before the decision (ms of speech). */
  readonly speechMs: number;
  /** The words that decided it, for `transcript`; the carrier's value (`machine_start`, ...), for `carrier`. */
  readonly detail?: string;
}

export interface AnsweringMachineDetectorOptions {
  /** Speech running this long (pauses shorter than `humanSilenceMs` included) is a machine. Default 2600 ms. */
  machineSpeechMs?: number;
  /** Silence after a shorter greeting that makes it a person waiting for an answer. Default 1000 ms. */
  humanSilenceMs?: number;
  /** Nobody speaking this long after the answer. Default 5000 ms. */
  silenceTimeoutMs?: number;
  /** Latest decision. Default 10000 ms. */
  maxDecisionMs?: number;
  /** Words that only a voicemail greeting says. Default: `VOICEMAIL_PHRASES`. */
  phrases?: RegExp;
}

/** Phrases of voicemail greetings ("... is not available", "leave a message after the tone", ...). */
export const VOICEMAIL_PHRASES =
  /\b(leave (a|your|me a) (message|voicemail)|not available|unavailable|after the (tone|beep)|at the (tone|beep)|voice ?mail|mailbox|can'?t (come|get) to the phone|record your message|you have reached|you've reached)\b/i;

/**
 * Twilio's `AnsweredBy` values (Answering Machine Detection): the verdict, and whether the greeting is over (the
 * `machine_end_*` values come with `DetectMessageEnd`). `unknown` is no verdict: our own detection decides.
 */
export function carrierVerdict(answeredBy: string): { answeredBy: 'human' | 'machine'; greetingOver: boolean } | undefined {
  if (answeredBy === 'human') return { answeredBy: 'human', greetingOver: true };
  if (answeredBy === 'machine_start' || answeredBy === 'fax') return { answeredBy: 'machine', greetingOver: answeredBy === 'fax' };
  if (answeredBy.startsWith('machine_end_')) return { answeredBy: 'machine', greetingOver: true };
  return undefined;
}

export class AnsweringMachineDetector {
  private readonly machineSpeechMs: number;
  private readonly humanSilenceMs: number;
  private readonly silenceTimeoutMs: number;
  private readonly maxDecisionMs: number;
  private readonly phrases: RegExp;
  private nowMs = 0;
  private speakingSinceMs: number | undefined;
  /** The current run of speech: when it started, and when its last segment stopped (undefined: still speaking). */
  private runStartMs: number | undefined;
  private lastStopMs: number | undefined;
  private spokenMs = 0;
  private verdict: AnsweringDecision | undefined;

  constructor(options: AnsweringMachineDetectorOptions = {}) {
    this.machineSpeechMs = positive(options.machineSpeechMs ?? 2600, 'machineSpeechMs');
    this.humanSilenceMs = positive(options.humanSilenceMs ?? 1000, 'humanSilenceMs');
    this.silenceTimeoutMs = positive(options.silenceTimeoutMs ?? 5000, 'silenceTimeoutMs');
    this.maxDecisionMs = positive(options.maxDecisionMs ?? 10_000, 'maxDecisionMs');
    this.phrases = options.phrases ?? VOICEMAIL_PHRASES;
  }

  get decision(): AnsweringDecision | undefined {
    return this.verdict;
  }

  /** Call audio has advanced to `atMs` (since the answer); returns the decision when it is made now. */
  advance(atMs: number): AnsweringDecision | undefined {
    this.nowMs = Math.max(this.nowMs, atMs);
    if (this.verdict !== undefined) return undefined;
    const now = this.nowMs;
    if (this.runStartMs !== undefined) {
      const runEnd = this.lastStopMs ?? now;
      if (runEnd - this.runStartMs >= this.machineSpeechMs) return this.decide('machine', 'long-greeting');
      if (this.lastStopMs !== undefined && now - this.lastStopMs >= this.humanSilenceMs) return this.decide('human', 'short-greeting');
    } else if (now >= this.silenceTimeoutMs) {
      // Many people answer an unknown number and wait for the caller to speak first. Taking silence for a person is
      // the safe side: the agent then speaks to a machine now and then, but never hangs up on a person.
      return this.decide('human', 'silence');
    }
    if (now >= this.maxDecisionMs) return this.decide('human', 'timeout');
    return undefined;
  }

  speechStarted(atMs: number): AnsweringDecision | undefined {
    this.speakingSinceMs = atMs;
    // A pause shorter than humanSilenceMs continues the run: a machine's sentences, or "Hello? ... Hello?".
    if (this.runStartMs === undefined || (this.lastStopMs !== undefined && atMs - this.lastStopMs >= this.humanSilenceMs)) {
      this.runStartMs = atMs;
    }
    this.lastStopMs = undefined;
    return this.advance(atMs);
  }

  speechStopped(atMs: number): AnsweringDecision | undefined {
    if (this.speakingSinceMs !== undefined) this.spokenMs += atMs - this.speakingSinceMs;
    this.speakingSinceMs = undefined;
    if (this.runStartMs !== undefined) this.lastStopMs = atMs;
    return this.advance(atMs);
  }

  beep(atMs: number, frequencyHz: number): AnsweringDecision | undefined {
    this.advance(atMs);
    return this.verdict === undefined ? this.decide('machine', 'beep', `${frequencyHz} Hz`) : undefined;
  }

  transcript(text: string, atMs: number): AnsweringDecision | undefined {
    this.advance(atMs);
    if (this.verdict !== undefined) return undefined;
    const match = this.phrases.exec(text);
    return match === null ? undefined : this.decide('machine', 'transcript', match[0]);
  }

  /** The carrier's verdict (Twilio `AnsweredBy`); `unknown` and unrecognised values change nothing. */
  carrier(answeredBy: string, atMs: number): AnsweringDecision | undefined {
    this.advance(atMs);
    const verdict = carrierVerdict(answeredBy);
    if (this.verdict !== undefined || verdict === undefined) return undefined;
    return this.decide(verdict.answeredBy, 'carrier', answeredBy);
  }

  private decide(answeredBy: 'human' | 'machine', reason: AnsweringMachineReason, detail?: string): AnsweringDecision {
    const speechMs = this.spokenMs + (this.speakingSinceMs === undefined ? 0 : this.nowMs - this.speakingSinceMs);
    this.verdict = { answeredBy, reason, decidedAtMs: this.nowMs, speechMs, ...(detail === undefined ? {} : { detail }) };
    return this.verdict;
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`AnsweringMachineDetector: ${name} must be a number > 0, got ${value}`);
  return value;
}
