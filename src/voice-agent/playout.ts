// PlayoutTracker: tells when what the bot has been given to say so far has been played to the caller. A marker
// frame enters the pipeline at the TTS (behind every word the LLM has already sent it) and comes out at the end
// of the pipeline only after the audio before it has played: the TTS keeps frames behind its pending speech, and
// the output transport releases queued frames once the audio before them has played. An interruption drops the
// marker on its way (with the speech it followed), so markers older than an interruption settle as
// `interrupted`; the end of the call settles the rest as `ended`.
import { makeFrame, type Frame, type FrameDirection, type TextFrame } from '../frames/index.js';
import { FrameProcessor } from '../pipeline/index.js';

/** How the bot's pending speech ended: all played, cut by the caller, or the call ended first. */
export type SpeechPlayout = 'played' | 'interrupted' | 'ended';

/** The last processor of a VoiceAgent's pipeline: it consumes the markers and settles their promises. */
export class PlayoutTracker extends FrameProcessor {
  private readonly markers = new Map<number, (playout: SpeechPlayout) => void>();
  private over = false;

  constructor() {
    super({ name: 'playout-tracker' });
  }

  /**
   * A marker to queue at the TTS, and the promise it settles. (The marker is an empty `text` frame: no processor
   * says or shows `text` frames, so it moves through untouched.)
   */
  mark(): { marker: TextFrame; played: Promise<SpeechPlayout> } {
    const marker = makeFrame('text', { text: '' });
    if (this.over) return { marker, played: Promise.resolve('ended') };
    const played = new Promise<SpeechPlayout>((resolve) => this.markers.set(marker.id, resolve));
    return { marker, played };
  }

  /** The call is over (the pipeline stopped): every pending marker settles as `ended`. */
  finish(): void {
    this.over = true;
    this.settleMarkers(() => true, 'ended');
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === 'downstream') {
      if (frame.type === 'text' && this.markers.has(frame.id)) {
        this.settleMarkers((id) => id === frame.id, 'played');
        return;
      }
      // Frame ids grow: a marker made before the interruption was dropped by it; one made after is still coming.
      if (frame.type === 'interruption') this.settleMarkers((id) => id < frame.id, 'interrupted');
      if (frame.type === 'end' || frame.type === 'cancel') this.finish();
    }
    return this.pushFrame(frame, direction);
  }

  private settleMarkers(which: (id: number) => boolean, playout: SpeechPlayout): void {
    for (const [id, resolve] of this.markers) {
      if (!which(id)) continue;
      this.markers.delete(id);
      resolve(playout);
    }
  }
}
