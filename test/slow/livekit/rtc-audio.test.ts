// Audio through LiveKitTransport's real room driver (@livekit/rtc-node) and the LiveKit test server: the pipeline's
// input and output rates against the room's 48 kHz Opus, interruption, and two calls at once.
import { afterEach, describe, expect, it } from 'vitest';
import { medianToneSnrDb, sineTone, steadyWindow } from '../../../src/testing/livekit-server/tone.js';
import { agentHeard, makeFrame, rtcCalls, speak, until, type AgentSide } from './rtc-harness.js';

const rtc = rtcCalls();
afterEach(() => rtc.cleanup());
const call = rtc.call;

describe('LiveKitTransport audio on @livekit/rtc-node', () => {
  it('hears the caller at 8 and 16 kHz', async () => {
    await rtc.start();
    const calls = await Promise.all([call('in-8k', { inputSampleRate: 8000 }), call('in-16k', { inputSampleRate: 16000 })]);
    await Promise.all(calls.map(({ caller }) => caller.play(sineTone(440, 48000, 24000))));
    const rates = [8000, 16000];
    const windows = () => calls.map(({ agent }, i) => steadyWindow(agentHeard(agent).samples, rates[i]!, 60, 300));
    await until(() => windows().every((w) => w !== undefined), 5000, 'the tone at both agents');
    const snrs = windows().map((w, i) => medianToneSnrDb(w!, 440, rates[i]!));
    console.log(`caller 440 Hz tone at the agent: 8 kHz ${snrs[0]!.toFixed(1)} dB, 16 kHz ${snrs[1]!.toFixed(1)} dB SNR`);
    expect(calls.map(({ agent }) => agentHeard(agent).sampleRate)).toEqual(rates);
    for (const snr of snrs) expect(snr).toBeGreaterThan(15);
  }, 20_000);


  it('an interruption clears the AudioSource queue: the caller stops hearing the agent at once', async () => {
    await rtc.start();
    const { agent, caller } = await call('barge-in', { outputSampleRate: 16000 });
    await speak(agent, sineTone(440, 16000, 16000 * 3), 16000);
    await until(() => steadyWindow(caller.heardSamples('agent'), 48000, 200, 10) !== undefined, 5000, 'the agent speaking');
    const interruptedAt = performance.now();
    await agent.task.queueFrame(makeFrame('interruption'));
    expect(agent.clears()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 800));
    // The last chunk with the tone in it, by arrival time at the caller.
    const loud = caller.heard.filter((chunk) => chunk.identity === 'agent' && chunk.samples.some((s) => Math.abs(s) > 1000));
    const tailMs = loud.at(-1)!.atMs - interruptedAt;
    console.log(`interruption: the caller heard the agent for ${tailMs.toFixed(0)} ms more`);
    expect(tailMs).toBeLessThan(400);
  }, 20_000);

  it('carries two calls in two rooms at once, each hearing only its own caller', async () => {
    await rtc.start();
    const [first, second] = await Promise.all([call('call-a', {}), call('call-b', {})]);
    await Promise.all([first.caller.play(sineTone(440, 48000, 24000)), second.caller.play(sineTone(700, 48000, 24000))]);
    const window = (agent: AgentSide) => steadyWindow(agentHeard(agent).samples, 16000, 60, 300);
    await until(() => window(first.agent) !== undefined && window(second.agent) !== undefined, 5000, 'both tones');
    expect(medianToneSnrDb(window(first.agent)!, 440, 16000)).toBeGreaterThan(15);
    expect(medianToneSnrDb(window(first.agent)!, 700, 16000)).toBeLessThan(0);
    expect(medianToneSnrDb(window(second.agent)!, 700, 16000)).toBeGreaterThan(15);
    expect(medianToneSnrDb(window(second.agent)!, 440, 16000)).toBeLessThan(0);
    expect(rtc.server.roomNames().sort()).toEqual(['call-a', 'call-b']);
  }, 20_000);
});
