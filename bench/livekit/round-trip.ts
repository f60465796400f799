// Audio round trip and tone quality on one media path: the simulated caller (16 kHz) says tone bursts to the echo
// agent (./echo-agent.ts) and records what comes back. Round trip = the tone's first sample at the caller's line →
// its first sample heard back, each placed inside its frame (send and receive stamps are per frame: a 20 ms frame
// leaves, and a frame arrives, at once). SNR = the echoed tone against the best-fitting 440 Hz sine (median over
// 100 ms blocks of its steady part): on LiveKit it has crossed Opus twice and rtc-node's resampling both ways
// (16 kHz → 48 kHz Opus → the agent's 16 kHz input; its 8 kHz output → 48 kHz Opus → the caller's 16 kHz).
import { startPiopiySimulator, type SimulatedCall, type TimedAudio } from '../../src/testing/simulator/index.js';
import { medianToneSnrDb, sineTone, steadyWindow } from '../../src/testing/livekit-server/tone.js';
import { startEchoAgent } from './echo-agent.js';

const TONE_HZ = 440;
const BURST_MS = 400;
/** Longer than any round trip seen (about 500 ms at load 17): each burst's echo is back before the next starts. */
const PAUSE_MS = 1500;
const THRESHOLD = 500;
const CALLER_RATE = 16000;

export interface RoundTripResult {
  media: 'stream' | 'livekit';
  roundTripMs: number[];
  /** The tone's first sample at the caller's line → the agent's pipeline receiving it (the inbound half). */
  inboundMs: number[];
  snrDb: number[];
  callerRate: number;
  agentOutputRate: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The first frame at or after `since` holding a sample above the threshold, and when that sample was on the line. */
function onset(frames: readonly TimedAudio[], since: number, rate: number): { index: number; at: number } | undefined {
  for (let index = 0; index < frames.length; index++) {
    const frame = frames[index]!;
    if (frame.at < since) continue;
    const sample = frame.audio.findIndex((s) => Math.abs(s) > THRESHOLD);
    if (sample >= 0) return { index, at: frame.at + (sample * 1000) / rate };
  }
  return undefined;
}

function concat(frames: readonly TimedAudio[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.audio.length, 0));
  let offset = 0;
  for (const frame of frames) {
    out.set(frame.audio, offset);
    offset += frame.audio.length;
  }
  return out;
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

export async function measureRoundTrip(media: 'stream' | 'livekit', bursts: number): Promise<RoundTripResult> {
  const sim = await startPiopiySimulator({ media });
  const env = sim.agentEnvironment();
  const echoes: number[] = [];
  const { agent } = await startEchoAgent({
    agentId: env.AGENT_ID,
    agentToken: env.AGENT_TOKEN,
    signalingUrl: sim.signalingUrl,
    onEcho: (at) => echoes.push(at),
  });
  const result: RoundTripResult = { media, roundTripMs: [], inboundMs: [], snrDb: [], callerRate: CALLER_RATE, agentOutputRate: 0 };
  let call: SimulatedCall | undefined;
  try {
    await sim.waitForAgent(env.AGENT_ID, 15_000);
    call = sim.placeCall({ agentId: env.AGENT_ID, sampleRate: CALLER_RATE });
    await call.answered;
    await sleep(1000); // the media settles (ICE, first packets) before the first burst
    const tone = sineTone(TONE_HZ, CALLER_RATE, (CALLER_RATE * BURST_MS) / 1000);
    for (let i = 0; i < bursts && !call.isEnded; i++) {
      const since = performance.now();
      await call.say(tone);
      const sent = onset(call.sent, since, CALLER_RATE);
      const heardOk = await waitFor(() => onset(call!.received, since, call!.agentSampleRate) !== undefined, 3000);
      await sleep(PAUSE_MS);
      const heard = onset(call.received, since, call.agentSampleRate);
      if (sent === undefined || !heardOk || heard === undefined) continue;
      result.roundTripMs.push(heard.at - sent.at);
      const echoed = echoes.find((at) => at >= since);
      if (echoed !== undefined) result.inboundMs.push(echoed - sent.at);
      const back = concat(call.received.slice(heard.index)).subarray(0, (call.agentSampleRate * BURST_MS) / 1000 + 2000);
      const window = steadyWindow(back, call.agentSampleRate, 60, 250, THRESHOLD);
      if (window !== undefined) result.snrDb.push(medianToneSnrDb(window, TONE_HZ, call.agentSampleRate));
    }
    result.agentOutputRate = call.agentSampleRate;
  } finally {
    call?.hangUp();
    await agent.shutdown({ drainMs: 0 }).catch(() => undefined);
    await sim.close();
  }
  return result;
}
