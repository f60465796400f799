// ConversationSimulation: a whole call — caller speech in, agent audio out — run in simulated time. One
// VirtualClock drives everything: the caller's line, the VAD, the STT, the LLM, the TTS, the output pacing and
// every timer of the conversation (turns, idle reprompts, fillers, false interruptions, tool timeouts). A
// minute-long conversation runs in a fraction of a second and gives the same transcript on every run, however
// busy the machine is.
//
// The simulation supplies the caller's side and the services that hear them: `transport`, `clock`, `vad` (an
// EnergyVAD) and `stt` (a scripted STT that "recognises" exactly what `say()` was given). The agent's brain and
// voice are yours: any LLMService whose work stays in this thread (ScriptedLLMService, or your own) and a TTS
// such as FakeTTSService. Vendor fakes over real sockets finish in real time and do not belong here.
import type { VoiceAgent } from '../voice-agent/index.js';
import { MemoryTransport, type MemoryTransportOptions } from '../transports/memory/index.js';
import { EnergyVAD, speechTone } from './energy-vad.js';
import { ScriptedSTTService } from './fake-services.js';
import { VirtualClock } from './virtual-clock.js';

export interface ConversationSimulationOptions {
  /** How long the caller takes per word. Default 300 ms. */
  msPerWord?: number;
  /** The STT sends the whole sentence as an interim result after this much speech. Default 250 ms. */
  interimAfterMs?: number;
  /** Sample rate of the caller's audio. Default 16000. */
  callerSampleRate?: number;
  /** Longest simulated wait of any one step before it fails. Default 5 minutes. */
  stepLimitMs?: number;
  /** The caller is on a speakerphone: the agent's audio echoes into the line (see MemoryTransportOptions). */
  echo?: MemoryTransportOptions['echo'];
}

/** One line of the conversation, in the order it happened; `atMs` is simulated time since the call began. */
export type SimulationEvent =
  | { readonly atMs: number; readonly kind: 'caller'; readonly text: string }
  | { readonly atMs: number; readonly kind: 'agent'; readonly text: string; readonly interrupted: boolean }
  | {
      readonly atMs: number;
      readonly kind: 'tool';
      readonly name: string;
      readonly arguments: unknown;
      readonly result: unknown;
      readonly error: string | undefined;
    };

export class ConversationSimulation {
  readonly clock: VirtualClock;
  readonly transport: MemoryTransport;
  /** Hears the caller: a voice detector on the loudness of the line (the caller's speech is a loud tone). */
  readonly vad: EnergyVAD;
  /** "Recognises" what the caller said: each turn's transcript is the text given to `say()`. */
  readonly stt: ScriptedSTTService;
  /** Everything said and done, in order (what the agent said is what the caller heard of it). */
  readonly events: SimulationEvent[] = [];
  private readonly msPerWord: number;
  private readonly callerSampleRate: number;
  private readonly stepLimitMs: number;
  private readonly spokenTurns: string[] = [];
  private running: Promise<void> | undefined;
  private ended = false;
  private failure: unknown;

  constructor(options: ConversationSimulationOptions = {}) {
    this.clock = new VirtualClock();
    this.msPerWord = options.msPerWord ?? 300;
    this.callerSampleRate = options.callerSampleRate ?? 16000;
    this.stepLimitMs = options.stepLimitMs ?? 300_000;
    this.transport = new MemoryTransport({ callerSampleRate: this.callerSampleRate, clock: this.clock, echo: options.echo });
    this.vad = new EnergyVAD({ sampleRate: 16000 });
    this.stt = new ScriptedSTTService({
      transcripts: (turn) => this.spokenTurns[turn] ?? '',
      interimAfterMs: options.interimAfterMs ?? 250,
    });
  }

  /** What to give `voice.action()` besides the LLM and TTS: `{ ...sim.services, llm, tts }`. */
  get services(): { transport: MemoryTransport; clock: VirtualClock; vad: EnergyVAD; stt: ScriptedSTTService } {
    return { transport: this.transport, clock: this.clock, vad: this.vad, stt: this.stt };
  }

  /** Simulated milliseconds since the simulation began. */
  get nowMs(): number {
    return this.clock.now();
  }

  /** Whether the agent's `start()` has finished (the call is over). */
  get callEnded(): boolean {
    return this.ended;
  }

  /** Starts the agent (after `action()`) and picks up the call; resolves once the greeting, if any, has begun. */
  async start(voice: VoiceAgent): Promise<void> {
    if (this.running !== undefined) throw new Error('ConversationSimulation.start: already started');
    voice.events.on('user-turn', (text) => this.events.push({ atMs: this.nowMs, kind: 'caller', text }));
    voice.events.on('assistant-turn', (text, interrupted) =>
      this.events.push({ atMs: this.nowMs, kind: 'agent', text, interrupted }),
    );
    voice.events.on('tool-call', (call) =>
      this.events.push({
        atMs: this.nowMs,
        kind: 'tool',
        name: call.name,
        arguments: call.arguments,
        result: call.result,
        error: call.error,
      }),
    );
    this.running = voice.start().then(
      () => {
        this.ended = true;
      },
      (error: unknown) => {
        this.ended = true;
        this.failure = error;
      },
    );
    this.transport.caller.connect();
    await this.clock.settle();
  }

  /** The caller says `text` (speech as long as its words take); resolves when the last of it has been sent. */
  async say(text: string): Promise<void> {
    const words = text.split(/\s+/).filter((w) => w !== '').length;
    this.spokenTurns.push(text);
    let sent = false;
    void this.transport.caller
      .say(speechTone(Math.max(1, words) * this.msPerWord, this.callerSampleRate))
      .then(() => (sent = true));
    await this.runUntil(() => sent, `the caller to finish saying ${JSON.stringify(text)}`);
  }

  /**
   * The caller presses keys on the keypad ("123#"; `w` waits half a second); resolves once the last key is pressed.
   * Throws a RangeError for anything but 0-9, *, #, A-D and w.
   */
  async pressKeys(digits: string): Promise<void> {
    let outcome: { error?: Error } | undefined;
    void this.transport.caller.pressKeys(digits).then(
      () => (outcome = {}),
      (error: unknown) => (outcome = { error: error instanceof Error ? error : new Error(String(error)) }),
    );
    await this.runUntil(() => outcome !== undefined, `the caller to press ${JSON.stringify(digits)}`);
    if (outcome?.error !== undefined) throw outcome.error;
  }

  /** Lets `ms` of the call pass. */
  async wait(ms: number): Promise<void> {
    await this.clock.advance(ms);
    this.throwIfFailed();
  }

  /** Runs the call until `condition()` holds (fails after the step limit of simulated time). */
  async runUntil(condition: () => boolean, description = 'the condition'): Promise<void> {
    await this.clock.runUntil(() => condition() || this.failure !== undefined, { limitMs: this.stepLimitMs, description });
    this.throwIfFailed();
  }

  /** Runs until the agent has said something matching `pattern` (a line the caller heard), and returns it. */
  async waitForAgent(pattern: RegExp | string): Promise<string> {
    const matches = (text: string): boolean => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
    const from = this.events.length;
    let found: string | undefined;
    await this.runUntil(() => {
      for (let i = from; i < this.events.length && found === undefined; i++) {
        const event = this.events[i]!;
        if (event.kind === 'agent' && matches(event.text)) found = event.text;
      }
      return found !== undefined;
    }, `the agent to say ${String(pattern)}`);
    return found!;
  }

  /** Runs until the agent is speaking (its audio is reaching the caller). */
  async waitForAgentSpeech(): Promise<void> {
    await this.runUntil(() => this.transport.output.botSpeaking, 'the agent to speak');
  }

  /** Runs until the call is over (the agent ended it, or after `hangUp`). */
  async waitForEnd(): Promise<void> {
    await this.runUntil(() => this.ended, 'the call to end');
  }

  /** The caller hangs up; resolves once the agent has finished with the call. */
  async hangUp(): Promise<void> {
    this.transport.caller.hangUp();
    await this.waitForEnd();
  }

  private throwIfFailed(): void {
    if (this.failure === undefined) return;
    throw this.failure instanceof Error ? this.failure : new Error("the agent's start() failed", { cause: this.failure });
  }
}
