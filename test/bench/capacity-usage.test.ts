import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { processTreeUsage, watchPeakRss } from '../../bench/capacity/process-usage.js';

// A parent that starts a child which spins for 400 ms of its own CPU time (not wall time: the machine may be busy)
// and then waits: both stay alive until killed.
const PARENT = `
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, ['-e', 'while (process.cpuUsage().user < 400000); setInterval(() => {}, 1000); console.log("spun")'], { stdio: ['ignore', 'inherit', 'ignore'] });
process.on('SIGTERM', () => { child.kill('SIGKILL'); process.exit(0); });
setInterval(() => {}, 1000);
`;

describe.skipIf(process.platform !== 'linux')('processTreeUsage (the capacity bench reads /proc)', () => {
  it('sums CPU and resident memory over a process and its children', async () => {
    const parent = spawn(process.execPath, ['-e', PARENT], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await once(parent.stdout, 'data'); // the child has spun
      const usage = processTreeUsage(parent.pid!);
      expect(usage.processes).toBe(2);
      expect(usage.cpuSecs).toBeGreaterThanOrEqual(0.3); // the child's spin is counted under its parent
      expect(usage.rssBytes).toBeGreaterThan(2 * 10 * 2 ** 20); // two Node processes, each well over 10 MB
      const peak = watchPeakRss(parent.pid!, 20);
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(peak.stop()).toBeGreaterThanOrEqual(usage.rssBytes * 0.5);
    } finally {
      parent.kill('SIGTERM');
    }
  });

  it('is all zeros for a process that is not there', () => {
    expect(processTreeUsage(2 ** 22 + 7)).toEqual({ cpuSecs: 0, rssBytes: 0, processes: 0 });
  });
});
