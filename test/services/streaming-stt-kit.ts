// What the streaming-STT unit tests share: a test tone, caller audio fed through a service run on the virtual clock
// in 20 ms frames, and the final transcriptions a run produced.
import { inputAudioFrame, type Frame } from '../../src/frames/index.js';
import type { ConformanceRun } from './conformance/run.js';

/** Lets the sockets and the service's queued work move on by one turn of the event loop. */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A 440 Hz tone, loud enough to count as speech. */
export function tone(ms: number, sampleRate = 16000): Int16Array {
  const out = new Int16Array((sampleRate * ms) / 1000);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / sampleRate));
  return out;
}

/** Sends `audio` into the run as 20 ms input frames, one event-loop turn apart. */
export async function send(run: ConformanceRun, audio: Int16Array, sampleRate = 16000): Promise<void> {
  const step = (sampleRate * 20) / 1000;
  for (let at = 0; at < audio.length; at += step) {
    await run.task.queueFrame(inputAudioFrame(audio.slice(at, at + step), sampleRate));
    await tick();
  }
}

/** The final transcriptions among `frames`. */
export const finals = (frames: readonly Frame[]) => frames.flatMap((f) => (f.type === 'transcription' && f.final ? [f] : []));
