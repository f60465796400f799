// The agent's voice through LiveKitTransport's real room driver (@livekit/rtc-node) and the LiveKit test server, at
// each output rate the pipeline may run at (the room is 48 kHz Opus; rtc-node's AudioSource converts).
import { afterEach, describe, expect, it } from 'vitest';
import { medianToneSnrDb, sineTone, steadyWindow } from '../../../src/testing/livekit-server/tone.js';
import { rtcCalls, speak, until } from './rtc-harness.js';

const rtc = rtcCalls();
afterEach(() => rtc.cleanup());
const call = rtc.call;

describe('LiveKitTransport output rates on @livekit/rtc-node', () => {
  it('speaks to the caller at 8, 16, 24 and 48 kHz', async () => {
    await rtc.start();
    const rates = [8000, 16000, 24000, 48000];
    const calls = await Promise.all(rates.map((rate) => call(`out-${rate}`, { outputSampleRate: rate })));
    await Promise.all(calls.map(({ agent }, i) => speak(agent, sineTone(440, rates[i]!, rates[i]! * 0.6), rates[i]!)));
    const windows = () => calls.map(({ caller }) => steadyWindow(caller.heardSamples('agent'), 48000, 100, 300));
    await until(() => windows().every((w) => w !== undefined), 8000, 'the agent’s tone at every caller');
    const snrs = windows().map((w) => medianToneSnrDb(w!, 440, 48000));
    console.log(`agent 440 Hz tone at the caller: ${rates.map((r, i) => `${r / 1000} kHz ${snrs[i]!.toFixed(1)} dB`).join(', ')}`);
    for (const snr of snrs) expect(snr).toBeGreaterThan(15);
  }, 20_000);
});
