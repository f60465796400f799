// CPU per thread of this process, from /proc (Linux): a V8 CPU profile sees only the JavaScript thread, while
// @livekit/rtc-node encodes, decodes and resamples on native threads of its own (tokio workers, WebRTC's worker and
// network threads). Grouped by thread name, digits dropped (libuv's workers are all "libuv-worker"); the main thread
// (the JavaScript one: its id is the process id) is "node (main)", the other threads named "node" are V8's
// platform workers (GC, compilers) and the like.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SEC = 100; // USER_HZ on Linux
export const MAIN_THREAD = 'node (main)';

/** A /proc `stat` line: the command name (in parentheses, may hold spaces) and the space-separated fields after it. */
export function parseProcStat(stat: string): { name: string; fields: string[]; cpuSecs: number } {
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  // utime, stime: fields 14 and 15 of stat
  return { name: stat.slice(stat.indexOf('(') + 1, close), fields, cpuSecs: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SEC };
}

/** CPU seconds so far per thread name; empty where /proc is not there. */
export function threadCpuSecs(): Map<string, number> {
  const byName = new Map<string, number>();
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return byName;
  }
  for (const task of tasks) {
    try {
      const stat = parseProcStat(readFileSync(`/proc/self/task/${task}/stat`, 'utf8'));
      const name = task === String(process.pid) ? MAIN_THREAD : stat.name.replace(/[\d]+/g, '#').trim();
      byName.set(name, (byName.get(name) ?? 0) + stat.cpuSecs);
    } catch {
      // the thread ended while we read
    }
  }
  return byName;
}

/** Percent of one core per thread name between two readings, largest first; those under `minPercent` left out. */
export function threadCpuPercent(before: Map<string, number>, after: Map<string, number>, elapsedMs: number, minPercent = 0.5): Record<string, number> {
  const rows = [...after].map(([name, secs]) => [name, ((secs - (before.get(name) ?? 0)) * 100_000) / elapsedMs] as const);
  return Object.fromEntries(rows.filter(([, pct]) => pct >= minPercent && pct > 0).sort((a, b) => b[1] - a[1]).map(([name, pct]) => [name, Math.round(pct * 10) / 10]));
}

/**
 * What each thread does, as far as its name tells (names are cut at 15 characters by Linux). WebRTC's threads are
 * inside rtc-node's native library: its encoder queue encodes the agent's Opus; the synthetic audio device pulls the
 * received audio at playout pace (jitter buffer, Opus decode, mixing); the AudioSource's capture thread takes what
 * the agent wrote; the network and worker threads carry RTP/SRTP/ICE; tokio runs rtc-node's Rust FFI (frames to
 * and from JavaScript, its resampling).
 */
export type ThreadGroup = 'js_main' | 'opus_encode' | 'playout_decode' | 'capture' | 'webrtc_network' | 'rtc_node_ffi' | 'node_other' | 'other';

export function threadGroup(name: string): ThreadGroup {
  if (name === MAIN_THREAD) return 'js_main';
  if (name.startsWith('AudioEncoder')) return 'opus_encode';
  if (name.startsWith('SyntheticAudio') || name.startsWith('DecodingQueue')) return 'playout_decode';
  if (name.startsWith('AudioSourceCap')) return 'capture';
  if (/^(network_thread|worker_thread|signaling_threa)/.test(name)) return 'webrtc_network';
  if (/^(tokio|livekit|rtc-low-prio)/.test(name)) return 'rtc_node_ffi';
  if (name === 'node' || name.startsWith('libuv')) return 'node_other';
  return 'other';
}

/** Percent of one core per group (rounded to 0.1), from `threadCpuPercent`'s rows (give it minPercent 0). */
export function cpuByGroup(byThread: Record<string, number>): Partial<Record<ThreadGroup, number>> {
  const groups: Partial<Record<ThreadGroup, number>> = {};
  for (const [name, pct] of Object.entries(byThread)) {
    const group = threadGroup(name);
    groups[group] = Math.round(((groups[group] ?? 0) + pct) * 10) / 10;
  }
  return groups;
}
