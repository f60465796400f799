// The demo's caller script: its lines, when each one starts (after the agent has finished speaking, or over the
// agent after some of its speech), and the agent's voice on the line as the caller hears it.
import type { SimulatedCall, TimedAudio } from '../testing/simulator/index.js';

/**
 * One line of the demo's caller. A plain string is said once the agent has finished speaking. With
 * `afterAgentSpeechMs`, the line starts once the agent has been speaking for that long (its greeting, or its
 * answer to the previous line): the caller talks over the agent, as someone barging in does.
 */
export type DemoLine = string | { text: string; afterAgentSpeechMs?: number };

/** What an agent file may export to script its own demo call. */
export interface DemoScenario {
  say: DemoLine[];
  /** Whether the call must end in a transfer. Default false (and then a transfer fails the demo). */
  expectTransfer?: boolean;
  /** Whether the caller must interrupt the agent at least once (an assistant turn cut short). Default false. */
  expectInterruption?: boolean;
  /**
   * The agent places the call (`piopiy.ai.call` to any number, with `agentId: process.env.AGENT_ID`) instead of
   * receiving one: the demo waits for that call and says the lines as the callee. Default false.
   */
  outbound?: boolean;
}

export interface ScriptLine {
  text: string;
  /** Undefined: after the agent has finished speaking. */
  afterAgentSpeechMs: number | undefined;
}

export function scriptLine(line: DemoLine): ScriptLine {
  if (typeof line === 'string') return { text: line, afterAgentSpeechMs: undefined };
  if (typeof line?.text !== 'string' || line.text.trim() === '') throw new TypeError('demoScenario.say: each line needs a text');
  const ms = line.afterAgentSpeechMs;
  if (ms !== undefined && !(Number.isFinite(ms) && ms >= 0)) {
    throw new TypeError(`demoScenario.say: afterAgentSpeechMs must be a number of milliseconds >= 0, got ${String(ms)}`);
  }
  return { text: line.text, afterAgentSpeechMs: ms };
}

/**
 * Whether a caller line asks for a person: such a line expects a transfer unless told otherwise. The words are
 * the ones the transfer example's scripted rule answers to.
 */
export function asksForHuman(text: string): boolean {
  return /\b(human|person|someone|representative|operator|agent|transfer)\b/i.test(text);
}

/** The caller's lines by default: a request for a human (so the call must end in a transfer). */
export const DEFAULT_LINES = ['I want to talk to a human please'];

export interface DemoPlan {
  lines: ScriptLine[];
  /** What makes the run a success besides the agent answering. */
  expected: { transfer: boolean; interruption: boolean };
}

/**
 * The lines and the expected outcome. `say` lines (--say) replace the scenario's and expect a transfer when one of
 * them asks for a person; the scenario's lines expect what it says; the default line expects a transfer.
 * `expectTransfer` (--expect-transfer / --no-expect-transfer) overrides the transfer either way.
 */
export function planDemo(say: readonly string[] | undefined, scenario: DemoScenario | undefined, expectTransfer: boolean | undefined): DemoPlan {
  if (say === undefined && scenario !== undefined) {
    return {
      lines: scenario.say.map(scriptLine),
      expected: { transfer: expectTransfer ?? scenario.expectTransfer ?? false, interruption: scenario.expectInterruption ?? false },
    };
  }
  const lines = (say ?? DEFAULT_LINES).map(scriptLine);
  return { lines, expected: { transfer: expectTransfer ?? lines.some((line) => asksForHuman(line.text)), interruption: false } };
}

/** Lower case, letters, digits and apostrophes only, single spaces: how two transcripts are compared. */
export function normalizeWords(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const SPEECH_THRESHOLD = 500;
const POLL_MS = 20;

export function isSpeech(frame: TimedAudio): boolean {
  for (let i = 0; i < frame.audio.length; i++) if (Math.abs(frame.audio[i]!) > SPEECH_THRESHOLD) return true;
  return false;
}

/** The agent's voice on the line: when each audible frame arrived (`performance.now()`), in order. */
export class AgentVoice {
  private readonly speech: number[] = [];
  private readonly off: () => void;

  constructor(private readonly call: SimulatedCall) {
    for (const frame of call.received) if (isSpeech(frame)) this.speech.push(frame.at);
    this.off = call.onAgentAudio((frame) => {
      if (isSpeech(frame)) this.speech.push(frame.at);
    });
  }

  close(): void {
    this.off();
  }

  /** The first audible frame after `since`. */
  firstAfter(since: number): number | undefined {
    return this.speech.find((at) => at > since);
  }

  /** Resolves once the agent has spoken after `since` and then been silent for `silenceMs` (true), else false. */
  async finished(since: number, silenceMs: number, timeoutMs: number): Promise<boolean> {
    return this.poll(timeoutMs, () => {
      const last = this.speech.at(-1);
      return last !== undefined && last > since && performance.now() - last >= silenceMs;
    });
  }

  /** Resolves once the agent has been speaking for `ms` since its first audible frame after `since`. */
  async spokeFor(since: number, ms: number, timeoutMs: number): Promise<boolean> {
    return this.poll(timeoutMs, () => {
      const first = this.firstAfter(since);
      return first !== undefined && performance.now() - first >= ms;
    });
  }

  /**
   * The first audible frame after `since` that follows at least `gapMs` of agent silence: the start of a reply
   * when `since` is the moment the caller's turn was taken (frames of speech the caller talked over, still on
   * their way when the agent stopped, are not one).
   */
  async replyAfter(since: number, gapMs: number, timeoutMs: number): Promise<number | undefined> {
    let reply: number | undefined;
    await this.poll(timeoutMs, () => {
      for (let i = this.speech.length - 1; i >= 0 && this.speech[i]! > since; i--) {
        const previous = this.speech[i - 1];
        if (previous === undefined || this.speech[i]! - previous >= gapMs) reply = this.speech[i];
      }
      return reply !== undefined;
    });
    return reply;
  }

  private async poll(timeoutMs: number, done: () => boolean): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (done()) return true;
      if (this.call.isEnded || performance.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
