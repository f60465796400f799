// Which words the caller heard when playback was cut: the output transport knows how much of each text's audio it
// wrote, the sink knows how much of what was written it has not played yet (a carrier's buffer, a lead), and the
// newest audio is the unplayed one. Kept apart from the transport's clock so it can be read (and tested) alone.
import type { TTSTextFrame } from '../../frames/index.js';

/** A text whose audio was written, oldest first; the last one may still have audio queued (`queuedMs`). */
export interface WrittenText {
  readonly frame: TTSTextFrame;
  readonly writtenMs: number;
}

export interface PlaybackCut {
  /** Texts heard in full, oldest first. */
  readonly heard: TTSTextFrame[];
  /** The text playing when the cut came: its heard words, the rest of the utterance, and its played ms. */
  readonly cut?: { frame: TTSTextFrame; heard: string; unheard: string; playedMs: number };
}

/**
 * Splits `written` at the point the caller had heard: `unplayedMs` of the newest written audio was not heard,
 * `queuedMs` more of the last text never left, and `laterTexts` (queued after it) were not reached.
 */
export function cutAtPlayback(written: readonly WrittenText[], queuedMs: number, laterTexts: readonly string[], unplayedMs: number): PlaybackCut {
  if (written.length === 0) return { heard: [] };
  // Unplayed audio is the newest: hand it out from the last text back.
  const unplayed = written.map(() => 0);
  let budget = Math.max(0, unplayedMs);
  for (let i = written.length - 1; i >= 0 && budget > 0; i--) {
    unplayed[i] = Math.min(written[i]!.writtenMs, budget);
    budget -= unplayed[i]!;
  }
  // The first text not fully played is where the cut falls; with nothing unplayed, it is the last one.
  let at = unplayed.findIndex((ms) => ms > 0);
  if (at < 0) at = written.length - 1;
  const text = written[at]!;
  const playedMs = text.writtenMs - unplayed[at]!;
  const totalMs = text.writtenMs + (at === written.length - 1 ? queuedMs : 0);
  const words = text.frame.text.split(/\s+/).filter((w) => w !== '');
  const heardWords = totalMs === 0 ? 0 : Math.floor((words.length * playedMs) / totalMs);
  const unheard = [words.slice(heardWords).join(' '), ...written.slice(at + 1).map((w) => w.frame.text), ...laterTexts];
  return {
    heard: written.slice(0, at).map((w) => w.frame),
    cut: {
      frame: text.frame,
      heard: words.slice(0, heardWords).join(' '),
      unheard: unheard.filter((t) => t !== '').join(' '),
      playedMs,
    },
  };
}
