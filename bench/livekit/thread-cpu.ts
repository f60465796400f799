// CPU per thread of this process, from /proc (Linux): a V8 CPU profile sees only the JavaScript thread, while
// @livekit/rtc-node encodes, decodes and resamples on native threads of its own (tokio workers, WebRTC's worker and
// network threads). Grouped by thread name, digits dropped (libuv's workers are all "libuv-worker").
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SEC = 100; // USER_HZ on Linux

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
      const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
      // The name is in parentheses and may hold spaces; the fields after it are space-separated.
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close).replace(/[\d]+/g, '#');
      const fields = stat.slice(close + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
      byName.set(name, (byName.get(name) ?? 0) + ticks / TICKS_PER_SEC);
    } catch {
      // the thread ended while we read
    }
  }
  return byName;
}

/** Percent of one core per thread name between two readings, largest first. */
export function threadCpuPercent(before: Map<string, number>, after: Map<string, number>, elapsedMs: number): Record<string, number> {
  const rows = [...after].map(([name, secs]) => [name, ((secs - (before.get(name) ?? 0)) * 100_000) / elapsedMs] as const);
  return Object.fromEntries(rows.filter(([, pct]) => pct >= 0.5).sort((a, b) => b[1] - a[1]).map(([name, pct]) => [name, Math.round(pct * 10) / 10]));
}
