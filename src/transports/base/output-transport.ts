// BaseOutputTransport: plays the agent's audio to the caller in real time and keeps the rest of the pipeline's
// view of "what was heard" honest.
//
// Audio (TTS or other output audio) is resampled to the output rate, cut into `chunkMs` chunks and put in a
// playback queue together with the frames that came between them, in order. A drift-corrected clock writes one
// chunk per `chunkMs` to the sink (`writeAudio`); frames queued behind audio are passed on only when the audio
// before them has played. So downstream (the assistant aggregator) receives `tts-text` when its words have been
// heard, and `llm-response-end` / `end` when the reply has finished playing. Nothing is buffered ahead of the
// sink: an interruption clears the queue and the caller stops hearing the bot within one chunk.
//
// At an interruption the text being played is trimmed to the share of its audio already played (per word when
// the TTS gave word timings, since each word is its own `tts-text`), and what was not heard is reported in
// `unheard` so the bot can resume after a false interruption. `bot-started-speaking` / `bot-stopped-speaking`
// are sent both ways when playback starts and when it has been idle for `botStopGraceMs`.
//
// Keys the agent presses (`output-dtmf`) play in the same order, spaced by a DtmfSender; a transport that can send
// tones overrides `writeDTMF` and `canSendDTMF`. An interruption drops the bot's audio but passes on at once the
// queued frames that survive it (keys a tool pressed, tool results, the end), and the end waits for the keys.
import { AudioChunker, StreamingResampler } from '../../audio/index.js';
import {
  isOutputAudioFrame,
  isSystemFrame,
  makeFrame,
  survivesInterruption,
  type DtmfDigit,
  type Frame,
  type FrameDirection,
  type TTSTextFrame,
} from '../../frames/index.js';
import { FrameProcessor, type FrameProcessorOptions } from '../../pipeline/index.js';
import type { ClockTimer } from '../../runtime/clock.js';
import { DtmfSender, type DtmfSenderOptions } from './dtmf-sender.js';
import { cutAtPlayback, type WrittenText } from './played-share.js';

export interface OutputTransportOptions extends Pick<FrameProcessorOptions, 'name'> {
  /** Size of the chunks written to the sink. Default 20 ms. */
  chunkMs?: number;
  /** Playback idle time after which the bot counts as stopped speaking. Default 200 ms. */
  botStopGraceMs?: number;
  /** Quiet after each key the agent presses. Default 300 ms. */
  dtmfGapMs?: DtmfSenderOptions['gapMs'];
  /**
   * How far ahead of real time audio may be written to a sink that buffers it (a carrier's stream). Default 0: one
   * chunk per `chunkMs`, for sinks that play what they get at once.
   */
  leadMs?: number;
}

type PlaybackEntry = Int16Array | Frame;

interface CurrentText {
  frame: TTSTextFrame;
  /** Milliseconds of its audio written to the sink so far (not all of it played yet: see `held`). */
  writtenMs: number;
}

export abstract class BaseOutputTransport extends FrameProcessor {
  readonly chunkMs: number;
  readonly leadMs: number;
  private readonly botStopGraceMs: number;
  /** When the sink will have played everything written so far (at the earliest: it may play later). */
  private playheadAt = 0;
  private entries: PlaybackEntry[] = [];
  private head = 0;
  /**
   * Frames that arrived while the chunker held part of a chunk: they belong inside that chunk's span, so they are
   * queued right after it is cut. Queued before it, a sentence's text would be released (as all heard) ahead of
   * its own audio whenever chunks are longer than the TTS's pieces (Exotel's 200 ms chunks).
   */
  private deferred: Frame[] = [];
  /**
   * Frames playback has passed whose audio before them the sink has not played yet (written ahead by `leadMs`):
   * each waits for `dueAt`, so a text counts as heard when it was played, not when it was written.
   */
  private held: { frame: Frame; dueAt: number; writtenMs: number }[] = [];
  private chunker: AudioChunker | undefined;
  private resamplers = new Map<number, StreamingResampler>();
  private tickTimer: ClockTimer | undefined;
  private pendingStart: ClockTimer | undefined;
  private nextTickAt = 0;
  private idleSince = -1;
  private speaking = false;
  private currentText: CurrentText | undefined;
  private closed = false;
  private readonly dtmf: DtmfSender;
  /**
   * Given every chunk written, with the clock time it starts playing (later than now when written ahead by
   * `leadMs`): the reference of an echo canceller on the input side (VoiceAgent's `echoCancellation` sets it).
   */
  echoReference: ((chunk: Int16Array, sampleRate: number, playsAtMs: number) => void) | undefined;

  constructor(options: OutputTransportOptions = {}) {
    super(options);
    this.chunkMs = options.chunkMs ?? 20;
    this.leadMs = Math.max(0, options.leadMs ?? 0);
    this.botStopGraceMs = options.botStopGraceMs ?? 200;
    this.dtmf = new DtmfSender({
      write: (digit) => this.writeDTMF(digit),
      clock: () => this.clock,
      onError: (error) => this.pushError(error),
      gapMs: options.dtmfGapMs,
    });
  }

  /** The rate audio is written at (the StartFrame's output rate). */
  get sampleRate(): number {
    return this.startParams?.audioOutSampleRate ?? 8000;
  }

  /** Whether agent audio is playing (or was within the stop grace). */
  get botSpeaking(): boolean {
    return this.speaking;
  }

  /** Milliseconds of audio waiting to be played. */
  get queuedAudioMs(): number {
    let chunks = 0;
    for (let i = this.head; i < this.entries.length; i++) if (this.entries[i] instanceof Int16Array) chunks++;
    return chunks * this.chunkMs;
  }

  /** Sends one chunk (mono PCM16 at `sampleRate`, `chunkMs` long) to the caller. Called in real time. */
  protected abstract writeAudio(chunk: Int16Array, sampleRate: number): void;

  /** Called at an interruption, after the queue was cleared: drop audio the sink itself still holds. */
  protected onInterrupted(): void {}

  /**
   * Milliseconds of audio written to the sink that the caller has not heard yet, as far as the sink knows (a carrier
   * that acknowledges playback overrides this). At an interruption it counts as unheard. Default 0.
   */
  protected unplayedMs(): number {
    return 0;
  }

  /** Milliseconds of written audio that real time has not reached yet (the lead actually taken). */
  protected get writtenAheadMs(): number {
    return Math.max(0, this.playheadAt - this.clock.now());
  }

  /** Whether this transport can press keys on the call (it overrides `writeDTMF`). */
  get canSendDTMF(): boolean {
    return false;
  }

  /** Presses one key on the call (a DTMF tone or RFC 4733 event). Errors become non-fatal error frames. */
  protected writeDTMF(_digit: DtmfDigit): void | Promise<void> {
    throw new Error(`${this.name}: sending DTMF tones is not supported by this transport`);
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === 'upstream') return this.pushFrame(frame, direction);
    if (isOutputAudioFrame(frame)) {
      this.enqueueAudio(frame.audio, frame.sampleRate);
      return;
    }
    switch (frame.type) {
      case 'start':
        this.chunker = new AudioChunker({ sampleRate: frame.audioOutSampleRate, frameMs: this.chunkMs });
        return this.pushFrame(frame, direction);
      case 'interruption': {
        const kept = this.interrupt();
        const pushed = this.pushFrame(frame, direction);
        for (const survivor of kept) {
          if (survivor.type === 'end') this.stop();
          void this.passOn(survivor);
        }
        return pushed;
      }
      case 'cancel':
        // The call is over, but the words already played were heard: without this the history (and the turn
        // reported to listeners) loses the sentence playing when the caller was transferred or hung up.
        this.releasePlayedShare();
        this.clearPlayback();
        this.stop();
        this.dtmf.close();
        return this.pushFrame(frame, direction);
      case 'tts-stopped':
      case 'llm-response-end':
      case 'end':
        // The end of an utterance: play its last partial chunk (padded) before what follows.
        this.flushChunker();
        break;
      default:
        break;
    }
    if (isSystemFrame(frame)) return this.pushFrame(frame, direction);
    const audioHeld = (this.chunker?.pendingSamples ?? 0) > 0;
    if (this.head === this.entries.length && !audioHeld && this.held.length === 0 && frame.type !== 'tts-text') {
      if (frame.type === 'end') this.stop();
      return this.passOn(frame);
    }
    if (audioHeld) {
      this.deferred.push(frame);
      return;
    }
    this.entries.push(frame);
    // A frame alone does not start playback at once: the audio it precedes (a tts-text's words) is pushed by
    // the TTS right after it, and playing the frame first would report words as heard before their audio.
    if (this.tickTimer === undefined && this.pendingStart === undefined) {
      this.pendingStart = this.clock.setTimeout(() => {
        this.pendingStart = undefined;
        this.startClock();
      }, 0);
    }
  }

  override async cleanup(): Promise<void> {
    this.stop();
    this.clearPlayback();
    this.dtmf.close();
  }

  private enqueueAudio(audio: Int16Array, sampleRate: number): void {
    if (this.closed || this.chunker === undefined) return;
    let samples = audio;
    if (sampleRate !== this.sampleRate) {
      let resampler = this.resamplers.get(sampleRate);
      if (resampler === undefined) {
        resampler = new StreamingResampler({ inputRate: sampleRate, outputRate: this.sampleRate });
        this.resamplers.set(sampleRate, resampler);
      }
      samples = resampler.process(audio);
    }
    this.chunker.push(samples, this.queueChunk);
    this.startClock();
  }

  /** Queues one cut chunk, then the frames that arrived while it was being filled. */
  private readonly queueChunk = (chunk: Int16Array): void => {
    this.entries.push(chunk);
    if (this.deferred.length === 0) return;
    for (const frame of this.deferred) this.entries.push(frame);
    this.deferred = [];
  };

  private flushChunker(): void {
    for (const resampler of this.resamplers.values()) {
      const tail = resampler.flush();
      if (tail.length > 0) this.chunker?.push(tail, this.queueChunk);
    }
    this.chunker?.flush(this.queueChunk, { pad: true });
    this.startClock();
  }

  private startClock(): void {
    if (this.tickTimer !== undefined || this.closed || this.head === this.entries.length) return;
    this.nextTickAt = this.clock.now();
    this.tick();
  }

  private tick(): void {
    this.tickTimer = undefined;
    this.releaseDue();
    if (this.closed) return;
    // One chunk per tick, and more while the sink holds no more than `leadMs` ahead of real time.
    while (this.playNext() && this.writtenAheadMs <= this.leadMs - this.chunkMs && !this.closed);
    if (this.closed) return;
    const hasMore = this.head < this.entries.length || this.held.length > 0;
    if (!hasMore && !this.speaking) return; // idle: no timer while nothing plays
    this.nextTickAt += this.chunkMs;
    const delay = Math.max(0, this.nextTickAt - this.clock.now());
    this.tickTimer = this.clock.setTimeout(() => this.tick(), delay);
  }

  /** Releases queued frames up to the next audio chunk and writes that chunk; true when a chunk was written. */
  private playNext(): boolean {
    while (this.head < this.entries.length) {
      const entry = this.entries[this.head]!;
      this.entries[this.head++] = undefined as unknown as PlaybackEntry;
      if (entry instanceof Int16Array) {
        if (!this.speaking) this.setSpeaking(true);
        this.idleSince = -1;
        if (this.currentText !== undefined) this.currentText.writtenMs += this.chunkMs;
        this.playheadAt = Math.max(this.playheadAt, this.clock.now()) + this.chunkMs;
        try {
          this.writeAudio(entry, this.sampleRate);
          this.echoReference?.(entry, this.sampleRate, this.playheadAt - this.chunkMs);
        } catch (error) {
          this.pushError(error);
        }
        this.compact();
        return true;
      }
      this.releaseMarker(entry);
      if (this.closed) return false;
    }
    // Nothing left to play: the current text has been heard once playback has really stopped (a gap between
    // two sentences of a slow TTS does not count), or at once when no audio is playing at all.
    this.compact();
    const now = this.clock.now();
    // Idle from when the sink runs dry, not from the last write (it may hold a lead).
    if (this.idleSince < 0) this.idleSince = Math.max(now, this.playheadAt);
    // Audio the chunker is still gathering belongs to the current text: it is not heard yet (chunks longer than
    // the TTS's pieces, as Exotel's 200 ms ones, leave it there between two pieces).
    const audioComing = (this.chunker?.pendingSamples ?? 0) > 0;
    if (!this.speaking) {
      if (!audioComing) this.releaseCurrentText();
    } else if (now - this.idleSince >= this.botStopGraceMs) {
      if (!audioComing) this.releaseCurrentText();
      this.setSpeaking(false);
    }
    return false;
  }

  private releaseMarker(frame: Frame): void {
    this.releaseCurrentText();
    if (frame.type === 'tts-text') {
      this.currentText = { frame, writtenMs: 0 };
      return;
    }
    this.hold(frame, 0);
  }

  /** Passes `frame` on once the audio written before it has played. */
  private hold(frame: Frame, writtenMs: number): void {
    const dueAt = this.playheadAt;
    if (this.held.length === 0 && dueAt <= this.clock.now()) {
      this.deliver(frame);
      return;
    }
    this.held.push({ frame, dueAt, writtenMs });
  }

  private releaseDue(): void {
    const now = this.clock.now();
    while (this.held.length > 0 && this.held[0]!.dueAt <= now && !this.closed) this.deliver(this.held.shift()!.frame);
  }

  private deliver(frame: Frame): void {
    if (frame.type === 'end') this.stop();
    void this.passOn(frame);
  }

  /** Passes a released frame on; a key is pressed first, and the end waits until every key has been pressed. */
  private passOn(frame: Frame): void | Promise<void> {
    if (frame.type === 'output-dtmf') this.dtmf.send(frame.digit);
    if (frame.type === 'end' && this.dtmf.busy) return this.dtmf.drained().then(() => this.pushFrame(frame, 'downstream'));
    return this.pushFrame(frame, 'downstream');
  }

  private releaseCurrentText(): void {
    const current = this.currentText;
    if (current === undefined) return;
    this.currentText = undefined;
    this.hold(current.frame, current.writtenMs);
  }

  /** Stops playback; returns the queued frames that survive an interruption, in order, to pass on. */
  private interrupt(): Frame[] {
    this.releaseDue();
    const kept: Frame[] = [];
    for (const { frame } of this.held) if (frame.type !== 'tts-text' && survivesInterruption(frame)) kept.push(frame);
    for (let i = this.head; i < this.entries.length; i++) {
      const entry = this.entries[i]!;
      if (!(entry instanceof Int16Array) && survivesInterruption(entry)) kept.push(entry);
    }
    for (const frame of this.deferred) if (survivesInterruption(frame)) kept.push(frame);
    const { heard, cut } = this.cutPlayback();
    for (const frame of heard) void this.pushFrame(frame, 'downstream');
    if (cut !== undefined) {
      const { frame, playedMs } = cut;
      const marker = makeFrame('tts-text', { text: cut.heard, contextId: frame.contextId, offsetMs: frame.offsetMs, unheard: cut.unheard, playedMs });
      void this.pushFrame(marker, 'downstream');
    }
    this.clearPlayback();
    try {
      this.onInterrupted();
    } catch (error) {
      this.pushError(error);
    }
    if (this.speaking) this.setSpeaking(false);
    return kept;
  }

  /** At a cancel: the texts and words already played, as heard (nothing will resume, so no `unheard`). */
  private releasePlayedShare(): void {
    const { heard, cut } = this.cutPlayback();
    for (const frame of heard) void this.pushFrame(frame, 'downstream');
    if (cut === undefined || cut.heard === '') return;
    void this.pushFrame(makeFrame('tts-text', { text: cut.heard, contextId: cut.frame.contextId, offsetMs: cut.frame.offsetMs }), 'downstream');
  }

  /** Where playback stands in the texts written so far (held ones and the current one); takes them. */
  private cutPlayback(): ReturnType<typeof cutAtPlayback> {
    const written: WrittenText[] = [];
    for (const { frame, writtenMs } of this.held) if (frame.type === 'tts-text') written.push({ frame, writtenMs });
    const current = this.currentText;
    this.currentText = undefined;
    if (current !== undefined) written.push({ frame: current.frame, writtenMs: current.writtenMs });
    this.held = this.held.filter(({ frame }) => frame.type !== 'tts-text');
    const last = written.at(-1);
    if (last === undefined) return { heard: [] };
    // Audio of the last text still queued, and the texts queued after it in the same utterance.
    let queuedMs = 0;
    const laterTexts: string[] = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const entry = this.entries[i]!;
      if (entry instanceof Int16Array) {
        if (laterTexts.length === 0) queuedMs += this.chunkMs;
      } else if (entry.type === 'tts-text' && entry.contextId === last.frame.contextId) {
        laterTexts.push(entry.text);
      } else if (entry.type !== 'tts-text' && laterTexts.length === 0) {
        break;
      }
    }
    // Audio the chunker still holds, and texts that arrived while it did (see `deferred`).
    if (laterTexts.length === 0) queuedMs += ((this.chunker?.pendingSamples ?? 0) * 1000) / this.sampleRate;
    for (const frame of this.deferred) {
      if (frame.type === 'tts-text' && frame.contextId === last.frame.contextId) laterTexts.push(frame.text);
    }
    return cutAtPlayback(written, queuedMs, laterTexts, this.unplayedMs());
  }

  private clearPlayback(): void {
    this.entries = [];
    this.deferred = [];
    this.held = [];
    this.head = 0;
    this.currentText = undefined;
    this.chunker?.reset();
    for (const resampler of this.resamplers.values()) resampler.reset();
    this.clock.clearTimeout(this.tickTimer);
    this.tickTimer = undefined;
    // The sink dropped what it held (onInterrupted) or the call is over: the next audio starts a new lead.
    this.playheadAt = 0;
  }

  private stop(): void {
    this.closed = true;
    this.clock.clearTimeout(this.pendingStart);
    this.pendingStart = undefined;
    this.clock.clearTimeout(this.tickTimer);
    this.tickTimer = undefined;
  }

  private setSpeaking(speaking: boolean): void {
    this.speaking = speaking;
    const type = speaking ? 'bot-started-speaking' : 'bot-stopped-speaking';
    void this.pushFrame(makeFrame(type), 'upstream');
    void this.pushFrame(makeFrame(type), 'downstream');
  }

  private compact(): void {
    if (this.head > 256 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
