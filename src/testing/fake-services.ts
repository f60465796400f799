// Fake STT and TTS services with zero (or chosen) latency, for tests and benchmarks of everything around them.
// They are real services as far as the pipeline can tell: they extend the same bases as the vendors' clients.
import { TTSService, type SynthesizeOptions, type TTSChunk } from '../services/base/tts-service.js';
import { STTService } from '../services/base/stt-service.js';
import { sleep } from '../runtime/clock.js';

export interface ScriptedSTTOptions {
  /** The text of each user turn in order (a function: of the turn's index); '' means the turn has no words. */
  transcripts: readonly string[] | ((turn: number) => string);
  /** After this much speech in a turn, an interim transcript with the whole text is sent. Undefined: none. */
  interimAfterMs?: number;
  /** Delay between VAD stop and the final transcript. Default 0 (an ideal recogniser). */
  finalDelayMs?: number;
  name?: string;
}

/** An STT that "recognises" a known script: one transcript per VAD turn. */
export class ScriptedSTTService extends STTService {
  private readonly transcripts: readonly string[] | ((turn: number) => string);
  private readonly interimAfterMs: number | undefined;
  private readonly finalDelayMs: number;
  private turn = -1;
  private turnSpeechMs = 0;
  private interimSent = false;
  private inTurn = false;

  constructor(options: ScriptedSTTOptions) {
    super({ name: options.name ?? 'scripted-stt' });
    this.transcripts = options.transcripts;
    this.interimAfterMs = options.interimAfterMs;
    this.finalDelayMs = options.finalDelayMs ?? 0;
  }

  /** How many user turns it has heard. */
  get turns(): number {
    return this.turn + 1;
  }

  private textOf(turn: number): string {
    return typeof this.transcripts === 'function' ? this.transcripts(turn) : (this.transcripts[turn] ?? '');
  }

  protected override processAudio(audio: Int16Array): void {
    if (!this.inTurn) return;
    this.turnSpeechMs += (audio.length * 1000) / this.sampleRate;
    if (this.interimAfterMs !== undefined && !this.interimSent && this.turnSpeechMs >= this.interimAfterMs) {
      this.interimSent = true;
      this.pushTranscription(this.textOf(this.turn), false);
    }
  }

  protected override onUserStartedSpeaking(): void {
    this.turn++;
    this.inTurn = true;
    this.turnSpeechMs = 0;
    this.interimSent = false;
  }

  /** A turn's transcript is pushed before `onUserStoppedSpeaking` returns. */
  protected override get completesOnReturn(): boolean {
    return true;
  }

  protected override async onUserStoppedSpeaking(): Promise<void> {
    this.inTurn = false;
    const text = this.textOf(this.turn);
    if (this.finalDelayMs > 0) await sleep(this.clock, this.finalDelayMs);
    this.pushTranscription(text, true);
  }
}

export interface FakeTTSOptions {
  /** Rate of the audio it makes. Default 24000 (a typical vendor rate, so resampling is exercised). */
  sampleRate?: number;
  /** Speech duration per character. Default 50 ms. */
  msPerCharacter?: number;
  /** Time before the first audio of each text. Default 0. */
  latencyMs?: number;
  /** Yield word timings like vendors with timestamps do. Default false. */
  wordTimestamps?: boolean;
  /** Size of the audio chunks it yields. Default 40 ms. */
  chunkMs?: number;
  /**
   * Recorded speech (at `sampleRate`) to say instead of the tone: every text is spoken as this whole audio,
   * whatever its length (`msPerCharacter` is then unused). Yielded as views of it, without copying.
   */
  audio?: Int16Array;
  name?: string;
}

/**
 * A TTS whose "speech" is a quiet 220 Hz tone as long as the text would take to say (or the recording given as
 * `audio`): deterministic, instant, and easy to tell from silence in the received audio.
 */
export class FakeTTSService extends TTSService {
  /** Every text it was asked to say, in order. */
  readonly spoken: string[] = [];
  private readonly msPerCharacter: number;
  private readonly latencyMs: number;
  private readonly wordTimestamps: boolean;
  private readonly chunkMs: number;
  private readonly audio: Int16Array | undefined;
  /** The utterance being synthesised: sentences of one context arrive one after another. */
  private utterance = { contextId: '', offsetMs: 0 };

  constructor(options: FakeTTSOptions = {}) {
    super({ sampleRate: options.sampleRate ?? 24000, name: options.name ?? 'fake-tts', model: 'fake' });
    this.msPerCharacter = options.msPerCharacter ?? 50;
    this.latencyMs = options.latencyMs ?? 0;
    this.wordTimestamps = options.wordTimestamps ?? false;
    this.chunkMs = options.chunkMs ?? 40;
    this.audio = options.audio;
  }

  /** Duration of the audio this service makes for `text`. */
  durationMs(text: string): number {
    if (this.audio !== undefined) return (this.audio.length * 1000) / this.sampleRate;
    return text.length * this.msPerCharacter;
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    this.spoken.push(text);
    if (this.latencyMs > 0) await sleep(this.clock, this.latencyMs, options.signal);
    if (options.signal.aborted) return;
    // Like a vendor, word offsets count from the start of the utterance (all sentences of one context).
    if (this.utterance.contextId !== options.contextId) this.utterance = { contextId: options.contextId, offsetMs: 0 };
    const utteranceStartMs = this.utterance.offsetMs;
    this.utterance.offsetMs += this.durationMs(text);
    if (this.wordTimestamps) {
      for (const match of text.matchAll(/\S+/g)) {
        const charMs = this.audio === undefined ? this.msPerCharacter : this.durationMs(text) / Math.max(1, text.length);
        yield { type: 'word', text: match[0], offsetMs: utteranceStartMs + (match.index ?? 0) * charMs };
      }
    }
    const chunk = Math.round((this.chunkMs * this.sampleRate) / 1000);
    const recorded = this.audio;
    if (recorded !== undefined) {
      for (let start = 0; start < recorded.length; start += chunk) {
        if (options.signal.aborted) return;
        yield { type: 'audio', audio: recorded.subarray(start, start + chunk) };
      }
      return;
    }
    const total = Math.round((this.durationMs(text) * this.sampleRate) / 1000);
    for (let start = 0; start < total; start += chunk) {
      if (options.signal.aborted) return;
      const audio = new Int16Array(Math.min(chunk, total - start));
      for (let i = 0; i < audio.length; i++) {
        audio[i] = Math.round(3000 * Math.sin((2 * Math.PI * 220 * (start + i)) / this.sampleRate));
      }
      yield { type: 'audio', audio };
    }
  }
}
