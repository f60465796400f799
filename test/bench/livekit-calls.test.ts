import { describe, expect, it } from 'vitest';
import { DEFAULT_CRITERIA, verdict, type TrialMeasure } from '../../bench/livekit/calls-verdict.js';
import { summariseProfile, type CpuProfile } from '../../bench/livekit/cpu-profile.js';
import { EchoTiming, firstLoudSent, inboundDelays, TAG_HZ, toneTag } from '../../bench/livekit/echo-timing.js';
import { sineTone } from '../../src/testing/livekit-server/tone.js';
import { cpuByGroup, MAIN_THREAD, threadGroup } from '../../bench/livekit/thread-cpu.js';

const RATE = 8000;
/** 10 ms of TAG_HZ[tag] at 8 kHz, silent before sample `loudFrom`; or silence. */
const frame = (tag: number | undefined, loudFrom = 0): Int16Array => {
  const audio = new Int16Array(80);
  if (tag !== undefined) audio.set(sineTone(TAG_HZ[tag]!, RATE, 80 - loudFrom).map((s) => s / 2), loudFrom);
  return audio;
};
/** Round trips to the ms (a sine's first loud sample is a fraction of a ms into it). */
const taken = (timing: EchoTiming) => {
  const { roundTripMs, unanswered } = timing.take();
  return { roundTripMs: roundTripMs.map(Math.round), unanswered };
};
/** An echo of pitch `tag` heard from `at`: its onset frame and 40 ms more. */
const echo = (timing: EchoTiming, tag: number, at: number, loudFrom = 0): void => {
  timing.heard(frame(tag, loudFrom), at, RATE);
  for (let t = 10; t <= 40; t += 10) timing.heard(frame(tag), at + t, RATE);
};

describe('toneTag', () => {
  it('names the pitch of a 10 ms frame at 8 and 16 kHz, with noise', () => {
    for (const rate of [8000, 16000]) {
      TAG_HZ.forEach((hz, tag) => {
        const noisy = sineTone(hz, rate, rate / 100).map((s, i) => s / 4 + ((i * 7919) % 2000) - 1000);
        expect(toneTag(noisy, rate)).toBe(tag);
      });
    }
  });
});

describe('EchoTiming', () => {
  it('pairs each burst with the echo of its pitch, placing the onset inside its frame', () => {
    const timing = new EchoTiming(500, 200);
    timing.measuring = true;
    timing.sent(1000, 0);
    echo(timing, 0, 1500, 40); // loud from 5 ms into the frame
    timing.heard(frame(0), 1550, RATE); // the same echo continuing
    timing.sent(2000, 1);
    timing.heard(frame(undefined), 2400, RATE);
    echo(timing, 1, 2600);
    expect(taken(timing)).toEqual({ roundTripMs: [505, 600], unanswered: 0 });
    expect(taken(timing)).toEqual({ roundTripMs: [], unanswered: 0 });
  });

  it('pairs an echo heard before its burst was reported sent', () => {
    const timing = new EchoTiming(500, 200);
    timing.measuring = true;
    echo(timing, 2, 1300);
    timing.sent(1000, 2);
    expect(taken(timing).roundTripMs).toEqual([300]);
  });

  it('counts a lost echo as unanswered without shifting the later pairs', () => {
    const timing = new EchoTiming(500, 200);
    timing.measuring = true;
    timing.sent(1000, 0);
    timing.sent(2000, 1);
    echo(timing, 1, 2500); // the first burst's echo was lost
    timing.sent(3000, 2);
    echo(timing, 2, 4200); // later than the bursts' period: still its own burst
    expect(taken(timing)).toEqual({ roundTripMs: [500, 1200], unanswered: 1 });
  });

  it('reads the pitch past a stale chunk of the previous echo that arrives just ahead of the new one', () => {
    const timing = new EchoTiming(500, 200);
    timing.measuring = true;
    timing.sent(1000, 1);
    timing.heard(frame(0), 1400, RATE); // 20 ms left over from the echo of the burst before (pitch 0)
    timing.heard(frame(0), 1410, RATE);
    for (let t = 1420; t <= 1460; t += 10) timing.heard(frame(1), t, RATE);
    expect(taken(timing)).toEqual({ roundTripMs: [400], unanswered: 0 });
  });

  it('drops an echo no burst claims, and counts nothing while not measuring', () => {
    const timing = new EchoTiming(500, 200);
    echo(timing, 3, 500); // before any burst
    timing.sent(1000, 0);
    echo(timing, 0, 1400);
    expect(taken(timing)).toEqual({ roundTripMs: [], unanswered: 0 });
    timing.measuring = true;
    timing.sent(2000, 1);
    echo(timing, 1, 2400);
    expect(taken(timing)).toEqual({ roundTripMs: [400], unanswered: 0 });
  });

  it('finds the first loud sample sent from a frame index on', () => {
    const frames = [
      { audio: frame(0), at: 0 },
      { audio: frame(undefined), at: 10 },
      { audio: frame(0, 16), at: 20 },
    ];
    expect(firstLoudSent(frames, 1, RATE, 500)).toBeCloseTo(22, 0);
    expect(firstLoudSent(frames.slice(0, 2), 1, RATE, 500)).toBeUndefined();
  });
});

describe('inboundDelays', () => {
  it('pairs the bursts of each caller with the same pitch the agent heard of that caller, skipping the edges of the windows', () => {
    const t = (at: number, tag: number) => ({ at, tag });
    const sent = { a: [t(1000, 0), t(2000, 1), t(3000, 2)], b: [t(1500, 4)] };
    // a: 900 is the echo of a burst sent before the caller's window; 3000's onset fell after the agent's window.
    const heard = { a: [t(900, 5), t(1200, 0), t(2250, 1)], b: [t(1600, 4)], c: [t(5000, 0)] };
    expect(inboundDelays(sent, heard)).toEqual([200, 250, 100]);
    expect(inboundDelays({ a: [t(1000, 0)] }, { a: [t(7000, 0)] })).toEqual([]);
    // An inbound delay longer than the bursts' period still finds its own burst.
    expect(inboundDelays({ a: [t(1000, 0), t(2000, 1)] }, { a: [t(2300, 0), t(3300, 1)] })).toEqual([1300, 1300]);
    // The agent dates an onset by its frame's arrival, the caller inside its frame: up to a frame earlier.
    expect(inboundDelays({ a: [t(1015, 0), t(2015, 1)] }, { a: [t(1000.5, 0), t(2001, 1)] })).toEqual([-14.5, -14]);
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
    expect(verdict({ ...good, unanswered: 1 }).failed).toBe('1 of 81 bursts unanswered');
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
