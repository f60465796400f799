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
    // One call at a time: four at once (eight rtc-node participants and the server in one process) starve each
    // other on a loaded 2-core machine, and the figure would measure that, not the rates.
    const snrs: number[] = [];
    for (const rate of [8000, 16000, 24000, 48000]) {
      const { agent, caller } = await call(`out-${rate}`, { outputSampleRate: rate });
      await speak(agent, sineTone(440, rate, rate * 0.6), rate);
      const window = () => steadyWindow(caller.heardSamples('agent'), 48000, 100, 300);
      await until(() => window() !== undefined, 8000, `the agent’s tone at ${rate / 1000} kHz`);
      snrs.push(medianToneSnrDb(window()!, 440, 48000));
      await caller.leave();
      await agent.stop();
    }
    console.log(`agent 440 Hz tone at the caller: ${snrs.map((snr, i) => `${[8, 16, 24, 48][i]} kHz ${snr.toFixed(1)} dB`).join(', ')}`);
    for (const snr of snrs) expect(snr).toBeGreaterThan(15);
  }, 40_000);
});
