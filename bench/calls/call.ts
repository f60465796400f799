// One simulated call of the calls benchmark: a VoiceAgent on a MemoryTransport (real Silero VAD, ideal STT,
// scripted LLM, zero-latency TTS playing recorded speech) and a caller that talks to it in turns, measuring
// what the caller hears.
//
// The caller, like the peer harness's: 20 ms frames pushed in real time by a drift-corrected timer of its own
// (a late tick sends every frame that is due at once), digital silence between utterances; it says a line,
// waits for the agent's reply to finish playing, waits 500 ms, says the next line.
//
// The agent audio sink: our output transport paces the audio itself (it writes one 20 ms chunk per 20 ms and
// never sends ahead), so the sink is a player with no queue of its own: a chunk starts playing when it arrives,
// or when the previous one ends if that is later. A gap is an underrun inside a reply: a chunk arriving after
// the previous one finished playing. This is the peer's rule (its sink models RoomIO's AudioSource, which the
// runtime may fill up to 200 ms ahead); with nothing buffered ahead, ours turns any output timer late by more
// than 40 ms into a gap > 40 ms, where the peer's 200 ms queue would hide a stall of up to 200 ms: ours is
// the stricter test. Each call also records how late its chunks came against the reply's real-time schedule
// (first chunk + 20 ms per chunk): a receiver holding B ms of audio, like the peer's 200 ms queue, would hear a gap
// only where that lateness exceeds B.
import { SileroVADAnalyzer, type VADState } from '../../src/audio/vad/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { MemoryTransport, type ReceivedChunk } from '../../src/transports/memory/index.js';
import type { VoiceActivityDetector } from '../../src/turns/vad-processor.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';
import { FRAME_MS, REPLY_LINE, SAMPLE_RATE, type BenchAudio } from './audio.js';

/** The configuration both sides run with (see the peer README, "Exact configuration"). */
export const CALL_CONFIG = {
  /** The silence the VAD waits for before it ends a turn: subtracted from the voice-to-voice time. */
  configuredSilenceMs: 500,
  vad: {
    stopSecs: 0.5,
    confidence: 0.5,
    // The peer's minSpeechDuration is 50 ms; our VAD counts whole 32 ms windows, so 0.05 s rounds to 2 (64 ms).
    startSecs: 0.05,
    // Our VAD also requires a loudness floor by default (0.6); the peer's Silero has none, so it is off here and
    // both sides decide on the model's probability alone.
    minVolume: 0,
  },
  callerPauseMs: 500,
  replyTimeoutMs: 6000,
  sttTranscript: 'I need help with my order please.',
} as const;

/** One measured turn: times in ms from the caller's last speech frame. */
export interface TurnTiming {
  /** Last speech frame sent → first agent audio chunk received. */
  voiceToVoice: number;
  /** Last speech frame sent → the VAD's end-of-speech event (undefined if the VAD reported none). */
  vadEndOfSpeech: number | undefined;
  /** The VAD's end-of-speech event → first agent audio chunk. */
  runtime: number | undefined;
}

export interface CallStats {
  turns: TurnTiming[];
  gaps: number[];
  /** Largest lateness of a reply chunk against the reply's real-time schedule (measured replies only). */
  maxLateMs: number;
  missed: number;
  replies: number;
  unexpected: number;
}

type CallerState = 'before' | 'speaking' | 'waiting' | 'pausing' | 'done';

/** Wraps the Silero analyzer to note when the VAD declares the end of speech (the VADProcessor's own rule). */
class TimedVAD implements VoiceActivityDetector {
  private speaking = false;
  constructor(
    private readonly inner: SileroVADAnalyzer,
    private readonly onEndOfSpeech: (at: number) => void,
  ) {}

  get sampleRate(): number {
    return this.inner.sampleRate;
  }

  analyze(samples: Int16Array): Promise<VADState> {
    return this.inner.analyze(samples).then((state) => {
      if (state === 'speaking') this.speaking = true;
      else if (state === 'quiet' && this.speaking) {
        this.speaking = false;
        this.onEndOfSpeech(performance.now());
      }
      return state;
    });
  }

  reset(): void {
    this.speaking = false;
    this.inner.reset();
  }
}

export interface SimulatedCallOptions {
  audio: BenchAudio;
  /** Turns measured only when the caller's last speech frame is at or after this time (performance.now()). */
  measureFrom: number;
  maxTurns?: number;
  /** Which caller line to start with (calls rotate through the lines from different places). */
  firstLine?: number;
}

export class SimulatedCall {
  readonly stats: CallStats = { turns: [], gaps: [], maxLateMs: 0, missed: 0, replies: 0, unexpected: 0 };
  readonly transport = new MemoryTransport({ callerSampleRate: SAMPLE_RATE, keepHistory: false });
  readonly agent: VoiceAgent;
  private readonly audio: BenchAudio;
  private readonly measureFrom: number;
  private readonly maxTurns: number;
  private readonly silence = new Int16Array((SAMPLE_RATE * FRAME_MS) / 1000);
  private running: Promise<void> | undefined;

  private state: CallerState = 'before';
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private sent = 0;
  private nextStartAt = 0;
  private readonly firstLine: number;
  private turnsSaid = 0;
  private line: readonly Int16Array[] = [];
  private linePos = 0;
  private lastSpeechAt = 0;
  private endOfSpeechAt: number | undefined;
  private awaitingReply = false;
  /** Sink: whether a reply is playing, and when what it received so far ends playing. */
  private replyPlaying = false;
  private playEnd = 0;
  private replyStartAt = 0;
  private replyAudioMs = 0;

  constructor(options: SimulatedCallOptions) {
    this.audio = options.audio;
    this.measureFrom = options.measureFrom;
    this.maxTurns = options.maxTurns ?? Number.POSITIVE_INFINITY;
    this.firstLine = options.firstLine ?? 0;
    this.agent = new VoiceAgent({ instructions: 'You are a test agent.', idleTimeoutSecs: 0, logger: silentLogger });
  }

  /** Builds the pipeline and connects the caller; the caller starts talking `startDelayMs` later. */
  async start(startDelayMs: number): Promise<void> {
    const silero = await SileroVADAnalyzer.load({ sampleRate: SAMPLE_RATE, params: CALL_CONFIG.vad });
    const text = CALL_CONFIG.sttTranscript;
    await this.agent.action({
      vad: new TimedVAD(silero, (at) => this.onEndOfSpeech(at)),
      stt: new ScriptedSTTService({ transcripts: () => text }),
      llm: new ScriptedLLMService({ rules: [], fallback: REPLY_LINE }),
      tts: new FakeTTSService({ sampleRate: SAMPLE_RATE, audio: this.audio.reply, chunkMs: FRAME_MS }),
      transport: this.transport,
      audioInSampleRate: SAMPLE_RATE,
      audioOutSampleRate: SAMPLE_RATE,
    });
    this.agent.events.on('assistant-turn', () => this.onReplyFinished());
    this.transport.caller.onAudio((chunk) => this.onAgentAudio(chunk));
    this.running = this.agent.start();
    // Audio is taken once the StartFrame has reached the input transport.
    while (!this.transport.input.accepting) await new Promise((r) => setImmediate(r));
    this.transport.caller.connect({ autoSend: false });
    this.t0 = performance.now();
    this.nextStartAt = this.t0 + startDelayMs;
    this.tick();
  }

  /** Whether the caller has said all its turns and heard (or given up on) the last reply. */
  get finished(): boolean {
    return this.state === 'done';
  }

  async stop(): Promise<void> {
    this.state = 'done';
    clearTimeout(this.timer);
    this.timer = undefined;
    this.transport.caller.hangUp();
    await this.running;
  }

  private tick(): void {
    this.timer = undefined;
    if (this.state === 'done') return;
    const due = Math.floor((performance.now() - this.t0) / FRAME_MS) + 1;
    while (this.sent < due) {
      this.sendNext(performance.now());
      this.sent++;
    }
    this.timer = setTimeout(() => this.tick(), this.t0 + this.sent * FRAME_MS - performance.now());
  }

  private sendNext(now: number): void {
    if (this.state === 'waiting' && this.awaitingReply && now - this.lastSpeechAt > CALL_CONFIG.replyTimeoutMs) {
      this.awaitingReply = false;
      if (this.lastSpeechAt >= this.measureFrom) this.stats.missed++;
      this.afterReply(now);
    }
    if ((this.state === 'before' || this.state === 'pausing') && now >= this.nextStartAt) {
      if (this.turnsSaid >= this.maxTurns) {
        this.state = 'done';
        return;
      }
      const lines = this.audio.callerFrames;
      this.line = lines[(this.firstLine + this.turnsSaid) % lines.length]!;
      this.linePos = 0;
      this.turnsSaid++;
      this.state = 'speaking';
    }
    if (this.state === 'speaking') {
      const frame = this.line[this.linePos++]!;
      this.transport.caller.send(frame);
      if (this.linePos >= this.line.length) {
        this.lastSpeechAt = performance.now();
        this.endOfSpeechAt = undefined;
        this.awaitingReply = true;
        this.state = 'waiting';
      }
      return;
    }
    this.transport.caller.send(this.silence);
  }

  private onEndOfSpeech(at: number): void {
    if (this.awaitingReply && this.endOfSpeechAt === undefined) this.endOfSpeechAt = at;
  }

  private onAgentAudio(chunk: ReceivedChunk): void {
    const now = chunk.at;
    const durationMs = (chunk.audio.length * 1000) / chunk.sampleRate;
    if (!this.replyPlaying) {
      this.replyPlaying = true;
      this.playEnd = now;
      this.replyStartAt = now;
      this.replyAudioMs = 0;
      this.onFirstAudio(now);
    } else if (now >= this.measureFrom) {
      if (now > this.playEnd) this.stats.gaps.push(now - this.playEnd);
      const late = now - (this.replyStartAt + this.replyAudioMs);
      if (late > this.stats.maxLateMs) this.stats.maxLateMs = late;
    }
    this.playEnd = Math.max(now, this.playEnd) + durationMs;
    this.replyAudioMs += durationMs;
  }

  private onFirstAudio(at: number): void {
    if (!this.awaitingReply) {
      this.stats.unexpected++;
      return;
    }
    this.awaitingReply = false;
    this.stats.replies++;
    if (this.lastSpeechAt < this.measureFrom) return;
    const eos = this.endOfSpeechAt;
    this.stats.turns.push({
      voiceToVoice: at - this.lastSpeechAt,
      vadEndOfSpeech: eos === undefined ? undefined : eos - this.lastSpeechAt,
      runtime: eos === undefined ? undefined : at - eos,
    });
  }

  /** The reply has been played (the agent's assistant turn ends when its last chunk was written). */
  private onReplyFinished(): void {
    this.replyPlaying = false;
    if (this.state === 'waiting' && !this.awaitingReply) this.afterReply(Math.max(performance.now(), this.playEnd));
  }

  private afterReply(playedUntil: number): void {
    if (this.turnsSaid >= this.maxTurns) {
      this.state = 'done';
      return;
    }
    this.state = 'pausing';
    this.nextStartAt = playedUntil + CALL_CONFIG.callerPauseMs;
  }
}
