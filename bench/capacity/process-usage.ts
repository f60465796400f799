// CPU time and resident memory of a process and every process under it, from /proc (Linux): with `--workers 2`
// the agent is a supervisor and its worker processes, and a figure per call has to count all of them.
import { readdirSync, readFileSync } from 'node:fs';
import { parseProcStat } from '../livekit/thread-cpu.js';

const PAGE_BYTES = 4096;

export interface ProcessUsage {
  /** user + system CPU seconds so far, summed over the tree */
  readonly cpuSecs: number;
  /** resident memory now, summed over the tree */
  readonly rssBytes: number;
  readonly processes: number;
}

interface Stat {
  readonly pid: number;
  readonly ppid: number;
  readonly cpuSecs: number;
  readonly rssBytes: number;
}

function readStat(pid: string): Stat | undefined {
  try {
    const { fields, cpuSecs } = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return { pid: Number(pid), ppid: Number(fields[1]), cpuSecs, rssBytes: Number(fields[21]) * PAGE_BYTES /* rss in pages */ };
  } catch {
    return undefined; // it ended while we read
  }
}

/** The process `rootPid` and its descendants, summed; zeros where /proc is not there. */
export function processTreeUsage(rootPid: number): ProcessUsage {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return { cpuSecs: 0, rssBytes: 0, processes: 0 };
  }
  const children = new Map<number, Stat[]>();
  let root: Stat | undefined;
  for (const pid of entries) {
    const stat = readStat(pid);
    if (stat === undefined) continue;
    if (stat.pid === rootPid) root = stat;
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(stat);
    children.set(stat.ppid, siblings);
  }
  if (root === undefined) return { cpuSecs: 0, rssBytes: 0, processes: 0 };
  let cpuSecs = 0;
  let rssBytes = 0;
  let processes = 0;
  const queue: Stat[] = [root];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    cpuSecs += next.cpuSecs;
    rssBytes += next.rssBytes;
    processes++;
    queue.push(...(children.get(next.pid) ?? []));
  }
  return { cpuSecs, rssBytes, processes };
}

/** Samples the tree's resident memory every `intervalMs` until stopped; returns the peak seen. */
export function watchPeakRss(rootPid: number, intervalMs = 250): { stop(): number } {
  let peak = processTreeUsage(rootPid).rssBytes;
  const timer = setInterval(() => {
    peak = Math.max(peak, processTreeUsage(rootPid).rssBytes);
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, processTreeUsage(rootPid).rssBytes);
    },
  };
}
