import { describe, expect, it } from 'vitest';
import { DEFAULT_CRITERIA, verdict, type TrialMeasure } from '../../bench/livekit/calls-verdict.js';
import { summariseProfile, type CpuProfile } from '../../bench/livekit/cpu-profile.js';
import { EchoTiming, firstLoudSent, inboundDelays } from '../../bench/livekit/echo-timing.js';
import { cpuByGroup, MAIN_THREAD, threadGroup } from '../../bench/livekit/thread-cpu.js';

const RATE = 16000;
const frame = (loud: boolean, loudFrom = 0): Int16Array => {
  const audio = new Int16Array(160);
  if (loud) audio.fill(3000, loudFrom);
  return audio;
};

describe('EchoTiming', () => {
  it('pairs each burst with the next echo onset, placing both inside their frames', () => {
    const timing = new EchoTiming(500, 200);
    timing.measuring = true;
    timing.sent(1000);
    timing.heard(frame(true, 80), 1500, RATE); // loud from 5 ms into the frame
    timing.heard(frame(true), 1510, RATE); // the same echo continuing: no new onset
    timing.sent(2000);
    timing.heard(frame(false), 2400, RATE);
    timing.heard(frame(true), 2600, RATE);
    expect(timing.take()).toEqual({ roundTripMs: [505, 600], unanswered: 0 });
    expect(timing.take()).toEqual({ roundTripMs: [], unanswered: 0 });
  });

  it('pairs an echo heard before its burst was reported sent', () => {
    const timing = new EchoTiming(500, 200);
    timing.measuring = true;
    timing.heard(frame(true), 1300, RATE);
    timing.sent(1000);
    expect(timing.take().roundTripMs).toEqual([300]);
  });

  it('counts a lost echo against the round trip (in order), and gives up on bursts 5 s overdue', () => {
    const timing = new EchoTiming(500, 200);
    timing.measuring = true;
    timing.sent(1000);
    timing.sent(2000);
    timing.heard(frame(true), 2500, RATE); // the first burst's echo was lost: paired with it, late
    timing.sent(3000);
    timing.heard(frame(true), 9000, RATE); // 7 s after the third burst was sent: second burst given up on
    expect(timing.take()).toEqual({ roundTripMs: [1500], unanswered: 2 });
  });

  it('ignores echoes before any burst and counts nothing while not measuring', () => {
    const timing = new EchoTiming(500, 200);
    timing.heard(frame(true), 500, RATE);
    timing.sent(1000);
    timing.heard(frame(true), 1400, RATE);
    expect(timing.take()).toEqual({ roundTripMs: [], unanswered: 0 });
  });

  it('finds the first loud sample sent from a frame index on', () => {
    const frames = [
      { audio: frame(true), at: 0 },
      { audio: frame(false), at: 10 },
      { audio: frame(true, 16), at: 20 },
    ];
    expect(firstLoudSent(frames, 1, RATE, 500)).toBe(21);
    expect(firstLoudSent(frames.slice(0, 2), 1, RATE, 500)).toBeUndefined();
  });
});

describe('inboundDelays', () => {
  it('pairs the bursts of each caller with what the agent heard of that caller, skipping the edges of the windows', () => {
    const sent = { a: [1000, 2000, 3000], b: [1500] };
    // a: 900 is the echo of a burst sent before the caller's window; 3000's onset fell after the agent's window.
    const heard = { a: [900, 1200, 2250], b: [1600], c: [5000] };
    expect(inboundDelays(sent, heard)).toEqual([200, 250, 100]);
    expect(inboundDelays({ a: [1000] }, { a: [7000] })).toEqual([]);
    // The agent dates an onset by its frame's arrival, the caller inside its frame: up to a frame earlier.
    expect(inboundDelays({ a: [1015, 2015] }, { a: [1000.5, 2001] })).toEqual([-14.5, -14]);
  });
});

describe('verdict', () => {
  const good: TrialMeasure = { n: 4, answered: true, sessions: 4, tickLatenessP99Ms: 5, roundTripP99Ms: 600, bursts: 80, unanswered: 0, loudFrames: 1000, dropoutFrames: 2 };
  it('passes a trial inside every bound and names the first bound a trial broke', () => {
    expect(verdict(good)).toEqual({ pass: true });
    expect(verdict({ ...good, sessions: 3 }).failed).toBe('3 of 4 calls up');
    expect(verdict({ ...good, tickLatenessP99Ms: DEFAULT_CRITERIA.tickLatenessP99LtMs }).failed).toMatch(/tick lateness/);
    expect(verdict({ ...good, roundTripP99Ms: 900 }).failed).toMatch(/round trip p99 900/);
    expect(verdict({ ...good, roundTripP99Ms: null }).failed).toBe('no echo came back');
    expect(verdict({ ...good, dropoutFrames: 20 }).failed).toMatch(/1\.96% of the echoed audio lost/);
    expect(verdict({ ...good, unanswered: 1 }).failed).toMatch(/1 bursts without an echo/);
    expect(verdict({ ...good, roundTripP99Ms: 900 }, { ...DEFAULT_CRITERIA, roundTripP99LtMs: 1000 }).pass).toBe(true);
  });
});

describe('summariseProfile', () => {
  it('sums self time per function and per origin (a sample lasts until the next), idle apart', () => {
    const node = (id: number, functionName: string, url: string, lineNumber = 0) => ({ id, callFrame: { functionName, url, lineNumber } });
    const profile: CpuProfile = {
      nodes: [
        node(1, '(idle)', ''),
        node(2, '(garbage collector)', ''),
        node(3, 'tick', 'file:///r/src/transports/base/output-transport.ts', 249),
        node(4, 'captureFrame', 'file:///r/node_modules/@livekit/rtc-node/dist/audio_source.js', 9),
        node(5, 'emit', 'node:events', 4),
      ],
      startTime: 0,
      endTime: 10_000,
      samples: [1, 3, 3, 4, 2, 5, 1],
      timeDeltas: [0, 1000, 2000, 1500, 500, 1000, 4000],
    };
    const summary = summariseProfile(profile, 3);
    expect(summary.wallMs).toBe(10);
    expect(summary.byOrigin).toEqual({ idle: 1, gc: 1, program: 0, ours: 3.5, 'rtc-node': 0.5, packages: 0, node: 4 });
    expect(summary.top).toEqual([
      { fn: 'emit node:events:5', origin: 'node', selfMs: 4 },
      { fn: 'tick output-transport.ts:250', origin: 'ours', selfMs: 3.5 },
      { fn: '(garbage collector)', origin: 'gc', selfMs: 1 },
    ]);
  });
});

describe('thread groups', () => {
  it('puts WebRTC and rtc-node threads in their groups and sums them', () => {
    expect(threadGroup(MAIN_THREAD)).toBe('js_main');
    expect(threadGroup('AudioEncoder')).toBe('opus_encode');
    expect(threadGroup('SyntheticAudioD')).toBe('playout_decode');
    expect(threadGroup('worker_thread #')).toBe('webrtc_network');
    expect(threadGroup('tokio-rt-worker')).toBe('rtc_node_ffi');
    expect(threadGroup('node')).toBe('node_other');
    expect(threadGroup('mystery')).toBe('other');
    expect(cpuByGroup({ [MAIN_THREAD]: 5, network_thread: 1.25, 'worker_thread #': 2.5, AudioEncoder: 3 })).toEqual({
      js_main: 5,
      webrtc_network: 3.8,
      opus_encode: 3,
    });
  });
});
