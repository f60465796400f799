// The agent's echo and Silero: on a speakerphone the agent's first sentence, echoed into the microphone at -6 dB,
// is speech to Silero (a barge-in); through the echo canceller, from its first sample (nothing learnt yet), it is
// not, while the caller speaking over the agent's second sentence still is.
import { describe, expect, it } from 'vitest';
import { EchoCanceller } from '../../../src/audio/echo/index.js';
import { concatAudio, silence, synthesizeSpeech } from '../../../src/testing/speech.js';
import { speechStarts } from './echo-helpers.js';

const RATE = 16000;

function roomEcho(reference: Int16Array): Int16Array {
  const delay = (30 * RATE) / 1000;
  return Int16Array.from(reference, (_, i) => Math.round(0.5 * ((i >= delay ? reference[i - delay]! : 0) + 0.4 * (i >= 2 * delay ? reference[i - 2 * delay]! : 0))));
}


function cancel(mic: Int16Array, reference: Int16Array): Int16Array {
  const canceller = new EchoCanceller({ sampleRate: RATE });
  const chunk = RATE / 50;
  const out = new Int16Array(mic.length + canceller.latencySamples);
  const input = concatAudio(mic, new Int16Array(canceller.latencySamples));
  for (let i = 0; i < input.length; i += chunk) {
    canceller.pushReference(reference.subarray(i, i + chunk), (i * 1000) / RATE);
    const piece = input.subarray(i, i + chunk);
    out.set(canceller.process(piece, ((i + piece.length) * 1000) / RATE), i);
  }
  return out.subarray(canceller.latencySamples);
}

describe('echo cancellation before Silero', () => {
  it('the echo of the agent is not speech after it; the caller over the agent is', async () => {
    const first = await synthesizeSpeech('Hello, how can I help you today?', { sampleRate: RATE });
    const second = await synthesizeSpeech('It arrives on Tuesday.', { sampleRate: RATE });
    const caller = await synthesizeSpeech('I want to talk to a human', { sampleRate: RATE, voice: 'slt' });
    const reference = concatAudio(first, silence(500, RATE), second, silence(500, RATE));
    const echo = roomEcho(reference);
    const echoOnly = reference.length - second.length - RATE / 2;
    expect((await speechStarts(echo.subarray(0, first.length), RATE)).length).toBeGreaterThan(0);
    expect(await speechStarts(cancel(echo, reference), RATE)).toEqual([]);

    const callerAt = echoOnly + RATE / 2;
    const mic = Int16Array.from(echo, (v, i) => Math.max(-32768, Math.min(32767, v + (i >= callerAt && i < callerAt + caller.length ? caller[i - callerAt]! : 0))));
    const starts = await speechStarts(cancel(mic, reference), RATE);
    expect(starts).toHaveLength(1);
    expect(starts[0]).toBeGreaterThan(callerAt / RATE);
    expect(starts[0]).toBeLessThan(callerAt / RATE + 0.5);
  }, 30_000);
});
