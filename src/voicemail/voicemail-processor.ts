// The answering-machine detection of one outbound call, in the pipeline right after the STT: it hears the callee's
// audio, the VAD's speech start/stop and the transcripts, decides human or machine, and until then keeps the
// callee's turns from the conversation (a machine's greeting must not be answered by the model, and a person's
// "Hello?" is answered by the agent's greeting, not by a model turn). After a "human" decision every frame passes;
// after "machine" none of the callee's turns ever do, and it waits for the greeting to end (the beep) so a message
// left is recorded whole.
import type { Frame, FrameDirection } from '../frames/index.js';
import { FrameProcessor } from '../pipeline/index.js';
import type { ClockTimer } from '../runtime/clock.js';
import {
  AnsweringMachineDetector,
  carrierVerdict,
  type AnsweringDecision,
  type AnsweringMachineDetectorOptions,
} from './answering-machine-detector.js';
import { BeepDetector } from './beep-detector.js';

/** Why a machine's greeting is taken to be over (the moment to leave a message). */
export type GreetingEnd = 'beep' | 'carrier' | 'silence' | 'timeout';

export interface VoicemailProcessorOptions extends AnsweringMachineDetectorOptions {
  /** The carrier's own verdict, if it made one (Twilio's `AnsweredBy`). */
  answeredBy?: string;
  /** After a machine decision with no beep heard: this much silence ends the greeting. Default 2000 ms. */
  greetingEndSilenceMs?: number;
  /** Longest wait for a machine's greeting to end after the decision. Default 20000 ms. */
  maxGreetingWaitMs?: number;
  onDecision(decision: AnsweringDecision): void;
  /** A machine's greeting is over: `atMs` is ms of call audio since the answer. */
  onGreetingEnd(end: GreetingEnd, atMs: number): void;
}

/** The callee's turn frames, held from the conversation until the callee is known to be a person. */
const TURN_FRAMES: ReadonlySet<Frame['type']> = new Set(['user-started-speaking', 'user-stopped-speaking', 'transcription', 'transcription-complete']);

export class VoicemailProcessor extends FrameProcessor {
  private readonly detector: AnsweringMachineDetector;
  private readonly options: VoicemailProcessorOptions;
  private readonly greetingEndSilenceMs: number;
  private readonly maxGreetingWaitMs: number;
  private beeps: BeepDetector | undefined;
  /** Milliseconds of callee audio heard: this detector's clock. */
  private audioMs = 0;
  private speaking = false;
  private quietSinceMs = 0;
  private greetingEnded = false;
  private timer: ClockTimer | undefined;

  constructor(options: VoicemailProcessorOptions) {
    super({ name: 'voicemail-detection' });
    this.options = options;
    this.detector = new AnsweringMachineDetector(options);
    this.greetingEndSilenceMs = options.greetingEndSilenceMs ?? 2000;
    this.maxGreetingWaitMs = options.maxGreetingWaitMs ?? 20_000;
  }

  get decision(): AnsweringDecision | undefined {
    return this.detector.decision;
  }

  override async cleanup(): Promise<void> {
    this.clock.clearTimeout(this.timer);
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction !== 'downstream') return this.pushFrame(frame, direction);
    switch (frame.type) {
      case 'start':
        this.onStart();
        break;
      case 'input-audio':
        this.onAudio(frame.audio, frame.sampleRate);
        break;
      case 'user-started-speaking':
        this.speaking = true;
        this.decided(this.detector.speechStarted(this.audioMs));
        break;
      case 'user-stopped-speaking':
        this.speaking = false;
        this.quietSinceMs = this.audioMs;
        this.decided(this.detector.speechStopped(this.audioMs));
        break;
      case 'transcription':
        this.decided(this.detector.transcript(frame.text, this.audioMs));
        break;
      default:
        break;
    }
    if (TURN_FRAMES.has(frame.type) && this.detector.decision?.answeredBy !== 'human') return;
    return this.pushFrame(frame, direction);
  }

  private onStart(): void {
    const answeredBy = this.options.answeredBy;
    if (answeredBy !== undefined) this.decided(this.detector.carrier(answeredBy, 0));
    // Audio time decides; the clock only guards against a line that delivers no audio at all.
    const maxMs = (this.options.maxDecisionMs ?? 10_000) + 1000;
    this.timer = this.clock.setTimeout(() => {
      if (this.detector.decision === undefined) this.decided(this.detector.advance(Math.max(this.audioMs, maxMs)));
    }, maxMs);
  }

  private onAudio(samples: Int16Array, sampleRate: number): void {
    this.audioMs += (samples.length * 1000) / sampleRate;
    const decision = this.detector.decision;
    if (decision?.answeredBy === 'human' || this.greetingEnded) return;
    if (this.beeps === undefined) this.beeps = new BeepDetector({ sampleRate });
    const beep = this.beeps.push(samples);
    if (beep !== undefined && beep.endMs === undefined) this.decided(this.detector.beep(this.audioMs, beep.frequencyHz));
    else if (beep?.endMs !== undefined && this.detector.decision?.answeredBy === 'machine') return this.endGreeting('beep');
    this.decided(this.detector.advance(this.audioMs));
    const machine = this.detector.decision;
    if (machine?.answeredBy !== 'machine') return;
    const toneRunning = this.beeps.beep !== undefined && this.beeps.beep.endMs === undefined;
    if (!this.speaking && !toneRunning && this.audioMs - this.quietSinceMs >= this.greetingEndSilenceMs) {
      this.endGreeting('silence');
    } else if (this.audioMs - machine.decidedAtMs >= this.maxGreetingWaitMs) {
      this.endGreeting('timeout');
    }
  }

  private decided(decision: AnsweringDecision | undefined): void {
    if (decision === undefined) return;
    this.clock.clearTimeout(this.timer);
    this.options.onDecision(decision);
    if (decision.answeredBy === 'machine' && decision.reason === 'carrier' && carrierVerdict(decision.detail ?? '')?.greetingOver === true) {
      this.endGreeting('carrier');
    }
  }

  private endGreeting(end: GreetingEnd): void {
    if (this.greetingEnded) return;
    this.greetingEnded = true;
    this.options.onGreetingEnd(end, this.audioMs);
  }
}
