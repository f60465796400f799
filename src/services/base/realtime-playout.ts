// Where the caller's playback of a speech-to-speech model's audio stopped, read after the output transport.
//
// A realtime service puts a `tts-text` marker before each piece of a model item's audio, with the item as
// `contextId` and the audio of the item before it as `offsetMs`. The output transport passes a marker on once
// playback reaches it and, at an interruption, passes on the one playing with `playedMs` (how much of its audio had
// played). So at the interruption this tap knows to the chunk how much of the item the caller heard, and tells the
// service, which tells the model (OpenAI's `conversation.item.truncate`). It sits after the output transport of
// every transport alike, so no transport can skip the truncation (openai-agents-js#1184).
import type { Frame, FrameDirection } from '../../frames/index.js';
import { FrameProcessor } from '../../pipeline/index.js';

/** How far the caller's playback of one model item had got. */
export interface PlayoutPosition {
  readonly itemId: string;
  readonly playedMs: number;
}

export class RealtimePlayoutTap extends FrameProcessor {
  private position: PlayoutPosition | undefined;

  constructor(private readonly onCut: (position: PlayoutPosition | undefined) => void) {
    super({ name: 'realtime-playout' });
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === 'downstream') {
      if (frame.type === 'tts-text' && frame.contextId !== undefined) {
        const playedMs = (frame.offsetMs ?? 0) + (frame.unheard === undefined ? 0 : (frame.playedMs ?? 0));
        this.position = { itemId: frame.contextId, playedMs };
      } else if (frame.type === 'interruption') {
        // The output transport passed its cut marker on before the interruption (same synchronous pass).
        const position = this.position;
        this.position = undefined;
        this.onCut(position);
      }
    }
    return this.pushFrame(frame, direction);
  }
}
