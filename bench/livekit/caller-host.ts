// The far side of the LiveKit calls benchmark, in a process of its own so the agent's process carries only the
// agent: the local Piopiy simulator with `media: 'livekit'` (signaling, the LiveKit test server on werift) and N
// simulated callers, each a @livekit/rtc-node participant saying 400 ms tone bursts (pitches cycling) with 600 ms pauses to the echo
// agent. Driven over IPC by ../livekit-media.bench.ts:
//   → { kind: 'place', n }     ← { kind: 'placed', answered, setupMs }
//   → { kind: 'measure', ms }  ← { kind: 'measured', loudFrames, dropoutFrames, roundTripMs, unanswered,
//                                 sentOnsets, cpuPercentOfOneCore }
// The round trip of a burst: its first loud sample on the caller's line → the first loud sample of its echo heard
// (./echo-timing.ts pairs them). A dropout is a silent 10 ms frame between two loud ones less than 200 ms apart: inside one echoed burst (bursts
// are 600 ms apart), where the agent's audio should have been continuous.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startPiopiySimulator, type SimulatedCall } from '../../src/testing/simulator/index.js';
import { sineTone } from '../../src/testing/livekit-server/tone.js';
import { EchoTiming, firstLoudSent, machineMs, TAG_HZ, type TaggedOnset } from './echo-timing.js';
import { traceHops } from './hop-trace.js';

const RATE = 16000;
// One burst per pitch: a caller cycles through them, so each echo names its burst (./echo-timing.ts).
const TONES = TAG_HZ.map((hz) => sineTone(hz, RATE, (RATE * 400) / 1000));
const PAUSE_MS = 600;
const LOUD = 500;
const MAX_SILENT_RUN_FRAMES = 20;

const send = (message: object): void => void process.send?.(message);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const fromNumber = (i: number): string => `91900000${String(i).padStart(4, '0')}`;

// The media is the first argument: 'livekit' (default) or 'stream', to compare the two under the same load. A second
// argument 'trace-hops' times each hop of the inbound direction (./hop-trace.ts).
const hops = process.argv[3] === 'trace-hops' ? traceHops(await import('@livekit/rtc-node')) : undefined;
const sim = await startPiopiySimulator({ media: process.argv[2] === 'stream' ? 'stream' : 'livekit' });
const env = sim.agentEnvironment();
const calls: SimulatedCall[] = [];
const timings: EchoTiming[] = [];
/** Per caller number, the bursts' onsets sent while measuring, in machineMs (the agent's process reports its side). */
let sentOnsets: Record<string, TaggedOnset[]> = {};
let measuring = false;
let loudFrames = 0;
let dropoutFrames = 0;

function watch(call: SimulatedCall, timing: EchoTiming): void {
  let silentRun = 0;
  let inBurst = false;
  call.onAgentAudio(({ audio, at }) => {
    timing.heard(audio, at, call.agentSampleRate);
    const loud = audio.some((s) => Math.abs(s) > LOUD);
    if (loud) {
      if (measuring) {
        loudFrames++;
        if (inBurst && silentRun > 0 && silentRun < MAX_SILENT_RUN_FRAMES) dropoutFrames += silentRun;
      }
      inBurst = true;
      silentRun = 0;
    } else if (inBurst) {
      silentRun++;
      if (silentRun >= MAX_SILENT_RUN_FRAMES) inBurst = false;
    }
  });
}

async function talk(call: SimulatedCall, from: string, timing: EchoTiming): Promise<void> {
  await sleep(Math.random() * 1000); // callers out of step, as real ones are
  for (let burst = 0; !call.isEnded; burst++) {
    const tag = burst % TONES.length;
    const firstFrame = call.sent.length;
    await call.say(TONES[tag]!).catch(() => undefined);
    const onset = firstLoudSent(call.sent, firstFrame, RATE, LOUD);
    if (onset !== undefined) {
      timing.sent(onset, tag);
      if (measuring) (sentOnsets[from] ??= []).push({ at: machineMs(onset), tag });
    }
    // What was sent and heard is not kept: on a long run of many calls it would only grow.
    call.sent.length = 0;
    call.received.length = 0;
    await sleep(PAUSE_MS);
  }
}

process.on('message', (raw) => {
  const message = raw as { kind: 'place'; n: number } | { kind: 'measure'; ms: number } | { kind: 'stop' };
  if (message.kind === 'place') {
    void (async () => {
      await sim.waitForAgent(env.AGENT_ID, 30_000);
      const started = performance.now();
      for (let i = 0; i < message.n; i++) {
        calls.push(sim.placeCall({ agentId: env.AGENT_ID, sampleRate: RATE, from: fromNumber(i) }));
      }
      const answered = await Promise.race([
        Promise.all(calls.map((call) => call.answered)).then(() => true),
        sleep(120_000).then(() => false),
      ]);
      calls.forEach((call, i) => {
        const timing = new EchoTiming(LOUD, MAX_SILENT_RUN_FRAMES * 10);
        timings.push(timing);
        watch(call, timing);
        void talk(call, fromNumber(i), timing);
      });
      send({ kind: 'placed', answered, setupMs: performance.now() - started });
    })();
  } else if (message.kind === 'measure') {
    void (async () => {
      const cpu = process.cpuUsage();
      // The callers' event loop also forwards every packet of the test server: its stalls delay both directions.
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const started = performance.now();
      measuring = true;
      sentOnsets = {};
      for (const timing of timings) timing.measuring = true;
      await sleep(message.ms);
      measuring = false;
      const used = process.cpuUsage(cpu);
      loop.disable();
      const lateMs = (ns: number): number => Math.max(0, ns / 1e6 - 10);
      const cpuPercentOfOneCore = ((used.user + used.system) / 1000 / (performance.now() - started)) * 100;
      const echoes = timings.map((timing) => ((timing.measuring = false), timing.take()));
      send({
        kind: 'measured',
        loudFrames,
        dropoutFrames,
        roundTripMs: echoes.flatMap((e) => e.roundTripMs),
        unanswered: echoes.reduce((sum, e) => sum + e.unanswered, 0),
        sentOnsets,
        cpuPercentOfOneCore,
        eventLoopDelayMs: { p50: lateMs(loop.percentile(50)), p99: lateMs(loop.percentile(99)), max: lateMs(loop.max) },
        ...(hops !== undefined ? { hops: hops.take() } : {}),
      });
    })();
  } else {
    for (const call of calls) if (!call.isEnded) call.hangUp();
    void sleep(500).then(() => sim.close()).finally(() => process.exit(0));
  }
});

send({ kind: 'ready', agentId: env.AGENT_ID, agentToken: env.AGENT_TOKEN, signalingUrl: sim.signalingUrl });
