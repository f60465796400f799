// Runs simulated answers through what an outbound call runs: Silero VAD (the VoiceAgent's defaults, 8 kHz), the
// beep detector and the answering-machine detector, on 20 ms chunks in audio time (faster than real time).
import { SileroVADAnalyzer } from '../../src/audio/vad/index.js';
import { AnsweringMachineDetector, type AnsweringDecision, type AnsweringMachineDetectorOptions } from '../../src/voicemail/answering-machine-detector.js';
import { BeepDetector } from '../../src/voicemail/beep-detector.js';
import { RATE, type SimulatedAnswer } from './greetings.js';

export interface Outcome {
  answer: SimulatedAnswer;
  decision: AnsweringDecision | undefined;
  /** When a machine's beep was heard (ms since the answer), if it was. */
  beepAtMs: number | undefined;
}

const CHUNK = (RATE * 20) / 1000;

export async function classify(answer: SimulatedAnswer, vad: SileroVADAnalyzer, options: AnsweringMachineDetectorOptions = {}): Promise<Outcome> {
  vad.reset();
  const detector = new AnsweringMachineDetector(options);
  const beeps = new BeepDetector({ sampleRate: RATE });
  let speaking = false;
  let beepAtMs: number | undefined;
  for (let offset = 0; offset + CHUNK <= answer.audio.length; offset += CHUNK) {
    const chunk = answer.audio.subarray(offset, offset + CHUNK);
    const atMs = ((offset + CHUNK) * 1000) / RATE;
    const state = await vad.analyze(chunk);
    if (state === 'speaking' && !speaking) detector.speechStarted(atMs);
    if (state === 'quiet' && speaking) detector.speechStopped(atMs);
    speaking = state === 'speaking' ? true : state === 'quiet' ? false : speaking;
    const beep = beeps.push(chunk);
    if (beep !== undefined && beep.endMs === undefined) {
      beepAtMs ??= atMs;
      detector.beep(atMs, beep.frequencyHz);
    }
    detector.advance(atMs);
  }
  return { answer, decision: detector.decision, beepAtMs };
}

export function newVad(): SileroVADAnalyzer {
  return new SileroVADAnalyzer({ sampleRate: RATE });
}
