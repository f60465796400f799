// A V8 CPU profile (`node --cpu-prof`) summarised: the JavaScript thread's time by function (self time, top N) and
// by origin (our src/, @livekit/rtc-node's JS, other packages, Node's internals, GC, idle). The profile sees only
// that one thread: rtc-node's native threads are in ./thread-cpu.ts.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export type Origin = 'idle' | 'gc' | 'program' | 'ours' | 'rtc-node' | 'packages' | 'node';

export interface ProfileSummary {
  wallMs: number;
  byOrigin: Record<Origin, number>;
  top: { fn: string; origin: Origin; selfMs: number }[];
}

export function originOf(frame: ProfileNode['callFrame']): Origin {
  if (frame.functionName === '(idle)') return 'idle';
  if (frame.functionName === '(garbage collector)') return 'gc';
  if (frame.url === '' || frame.functionName === '(program)') return 'program';
  if (frame.url.includes('/node_modules/@livekit/rtc-node/')) return 'rtc-node';
  if (frame.url.includes('/node_modules/')) return 'packages';
  if (frame.url.startsWith('node:')) return 'node';
  return 'ours';
}

/** Self time per function, largest first (`topN` of them), and the whole profile's time by origin, in ms. */
export function summariseProfile(profile: CpuProfile, topN = 10): ProfileSummary {
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, { origin: Origin; us: number }>();
  const byOrigin: Record<Origin, number> = { idle: 0, gc: 0, program: 0, ours: 0, 'rtc-node': 0, packages: 0, node: 0 };
  // timeDeltas[i] is the time from sample i-1 to sample i: the time of sample i is the next delta.
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byNode.get(profile.samples[i]!);
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (node === undefined || us <= 0) continue;
    const frame = node.callFrame;
    const origin = originOf(frame);
    byOrigin[origin] += us;
    const file = frame.url.slice(frame.url.lastIndexOf('/') + 1);
    const key = file === '' ? frame.functionName : `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    const entry = selfUs.get(key) ?? { origin, us: 0 };
    entry.us += us;
    selfUs.set(key, entry);
  }
  const ms = (us: number): number => Math.round(us / 100) / 10;
  const top = [...selfUs]
    .filter(([, e]) => e.origin !== 'idle')
    .sort((a, b) => b[1].us - a[1].us)
    .slice(0, topN)
    .map(([fn, e]) => ({ fn, origin: e.origin, selfMs: ms(e.us) }));
  const origins = Object.fromEntries(Object.entries(byOrigin).map(([k, us]) => [k, ms(us)])) as Record<Origin, number>;
  return { wallMs: ms(profile.endTime - profile.startTime), byOrigin: origins, top };
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}
