// `piopiy-ai start --workers` and `--worker-memory-mb`: defaults and clear errors (the processes themselves:
// test/slow/start-workers.test.ts).
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseWorkerFlags, usableCores } from '../../src/cli/start-workers.js';
import { CliError } from '../../src/cli/errors.js';

describe('piopiy-ai start --workers', () => {
  it('takes the flag, else PIOPIY_WORKERS, else the usable cores; a memory limit in whole megabytes', () => {
    const liveness = { intervalMs: 5000, timeoutMs: 15_000, startTimeoutMs: 120_000 };
    expect(parseWorkerFlags({ workers: '3', workerMemoryMb: '512' }, { PIOPIY_WORKERS: '5' })).toEqual({ workers: 3, workerMemoryMb: 512, liveness });
    expect(parseWorkerFlags({}, { PIOPIY_WORKERS: '5' }).workers).toBe(5);
    expect(parseWorkerFlags({}, {})).toEqual({ workers: usableCores(), workerMemoryMb: undefined, liveness });
    expect(parseWorkerFlags({ workers: '1' }, {})).toEqual({ workers: 1, workerMemoryMb: undefined, liveness });
  });

  it('takes the ping interval and timeout in milliseconds; the timeout spans at least two pings', () => {
    expect(parseWorkerFlags({ workerPingMs: '200', workerTimeoutMs: '1000' }, {}).liveness).toEqual({ intervalMs: 200, timeoutMs: 1000, startTimeoutMs: 120_000 });
    expect(parseWorkerFlags({ workerStartTimeoutMs: '30000' }, {}).liveness.startTimeoutMs).toBe(30_000);
    expect(parseWorkerFlags({ workerPingMs: '10000' }, {}).liveness).toEqual({ intervalMs: 10_000, timeoutMs: 20_000, startTimeoutMs: 120_000 });
    expect(() => parseWorkerFlags({ workerPingMs: '1s' }, {})).toThrow(/--worker-ping-ms must be a whole number of milliseconds \(at least 50\), got 1s/);
    expect(() => parseWorkerFlags({ workerPingMs: '1000', workerTimeoutMs: '1500' }, {})).toThrow(/--worker-timeout-ms \(1500\) must be at least twice --worker-ping-ms \(1000\)/);
  });

  it('refuses what is not a count of processes or megabytes, naming the flag', () => {
    expect(() => parseWorkerFlags({ workers: '0' }, {})).toThrow(CliError);
    expect(() => parseWorkerFlags({ workers: 'two' }, {})).toThrow(/--workers \(or PIOPIY_WORKERS\) must be a number of processes \(1 to 256\), got two/);
    expect(() => parseWorkerFlags({}, { PIOPIY_WORKERS: '-1' })).toThrow(/got -1/);
    expect(() => parseWorkerFlags({ workers: '2', workerMemoryMb: '1.5GB' }, {})).toThrow(/--worker-memory-mb must be a whole number of megabytes/);
    expect(() => parseWorkerFlags({ workers: '1', workerMemoryMb: '512' }, {})).toThrow(/--worker-memory-mb needs worker processes to replace/);
  });

  it("caps the cores by a container's cgroup CPU quota, never below one", () => {
    const cores = availableParallelism();
    expect(usableCores('max 100000')).toBe(cores);
    expect(usableCores('100000 100000')).toBe(1);
    expect(usableCores('50000 100000')).toBe(1);
    expect(usableCores(`${(cores + 4) * 100000} 100000`)).toBe(cores);
    expect(usableCores(undefined)).toBe(cores);
  });
});
