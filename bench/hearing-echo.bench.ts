// Echo cancellation: echo return loss enhancement (ERLE, dB: echo energy in the microphone over what is left of it
// after the canceller) and CPU, at 8 and 16 kHz, for the TypeScript canceller (src/audio/echo). Conditions:
// - `noise`: white noise played, echoed 30 ms later at -6 dB with a reflection (the easy case), after 2 s;
// - `speech`: a Flite sentence played twice, the echo alone, over the second time;
// - `double-talk`: the same with a caller (another voice) speaking over the second time, 18 dB above the echo:
//   `hearing_echo_erle` is then the echo plus the caller's distortion left (out - caller), and
//   `hearing_echo_caller_sdr` the caller's level over that.
// - `noise-400ms`, `speech-400ms`, `speech-600ms`: the same behind a long line (the echo 400 or 600 ms late, its
//   reflection 30 ms after it), beyond the adaptive filter's 250 ms: the bulk delay estimator has to find it;
// - `cold-no-echo`: no echo at all, a caller talking over the agent from its first sample (both start together):
//   `hearing_echo_cold_caller_loss` is the caller's level lost over that first second (dB; 0 is untouched) and
//   `hearing_echo_caller_sdr` the caller's level over what the canceller changed.
// `hearing_echo_cpu` is the canceller's CPU per second of caller audio (ms/s; /1000 = real-time factor).
// Usage: tsx bench/hearing-echo.bench.ts
import { createSeededRandom } from '../src/testing/random.js';
import { concatAudio, synthesizeSpeech, type SpeechSampleRate } from '../src/testing/speech.js';
import { cancelEchoOffline, energyRatioDb, roomEcho } from './hearing/echo.js';
import { emit, round } from './lib.js';

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const toInt16 = (x: ArrayLike<number>): Int16Array => Int16Array.from({ length: x.length }, (_, i) => Math.max(-32768, Math.min(32767, Math.round(x[i]!))));

for (const rate of [8000, 16000] as SpeechSampleRate[]) {
  const random = createSeededRandom(11);
  const noise = Int16Array.from({ length: rate * 6 }, () => Math.round((random() * 2 - 1) * 4000));
  const agent = await synthesizeSpeech('Thank you for calling. Your order number is four five six seven and it will arrive on Tuesday. Is there anything else I can help you with today?', { sampleRate: rate });
  const caller = await synthesizeSpeech('Please tell me the balance of my account and the date of the last payment.', { sampleRate: rate, voice: 'slt' });
  const speech = concatAudio(agent, agent);
  const cases = [
    { condition: 'noise', reference: noise, near: undefined, from: rate * 2, delayMs: 30 },
    { condition: 'speech', reference: speech, near: undefined, from: agent.length, delayMs: 30 },
    { condition: 'double-talk', reference: speech, near: { audio: caller, at: agent.length + rate / 2 }, from: agent.length + rate / 2, delayMs: 30 },
    { condition: 'noise-400ms', reference: noise, near: undefined, from: rate * 4, delayMs: 400 },
    { condition: 'speech-400ms', reference: speech, near: undefined, from: agent.length, delayMs: 400 },
    { condition: 'speech-600ms', reference: speech, near: undefined, from: agent.length, delayMs: 600 },
  ];
  for (const { condition, reference, near, from, delayMs } of cases) {
    const echo = roomEcho(reference, reference.length, delayMs, 0.5, rate, 30);
    const nearAudio = new Float64Array(reference.length);
    if (near !== undefined) nearAudio.set(near.audio, near.at);
    const mic = toInt16(Float64Array.from(echo, (v, i) => v + nearAudio[i]!));
    const before = cpuMs();
    const out = cancelEchoOffline(mic, reference, rate);
    const cpu = cpuMs() - before;
    const to = near === undefined ? reference.length : near.at + near.audio.length;
    const left = Float64Array.from(out, (v, i) => v - nearAudio[i]!);
    emit({ name: 'hearing_echo_erle', value: round(energyRatioDb(echo, left, from, to), 1), unit: 'dB', condition, sampleRate: rate });
    if (near !== undefined) emit({ name: 'hearing_echo_caller_sdr', value: round(energyRatioDb(nearAudio, left, from, to), 1), unit: 'dB', condition, sampleRate: rate });
    emit({ name: 'hearing_echo_cpu', value: round(cpu / (mic.length / rate), 1), unit: 'ms/s', condition, sampleRate: rate });
  }
  // Cold, no echo: the caller over the agent's first words, which the start-up guard used to attenuate.
  const mic = new Int16Array(agent.length);
  mic.set(caller.subarray(0, agent.length));
  const out = cancelEchoOffline(mic, agent, rate);
  const changed = Float64Array.from(out, (v, i) => v - mic[i]!);
  emit({ name: 'hearing_echo_cold_caller_loss', value: round(energyRatioDb(mic, out, 0, rate), 2), unit: 'dB', condition: 'cold-no-echo', sampleRate: rate });
  emit({ name: 'hearing_echo_caller_sdr', value: round(Math.min(99, energyRatioDb(mic, changed, 0, rate)), 1), unit: 'dB', condition: 'cold-no-echo', sampleRate: rate });
}
