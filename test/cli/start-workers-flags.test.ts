// `piopiy-ai start --workers` and `--worker-memory-mb`: defaults and clear errors (the processes themselves:
// test/slow/start-workers.test.ts).
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseWorkerFlags, usableCores } from '../../src/cli/start-workers.js';
import { CliError } from '../../src/cli/errors.js';

describe('piopiy-ai start --workers', () => {
  it('takes the flag, else PIOPIY_WORKERS, else the usable cores; a memory limit in whole megabytes', () => {
    expect(parseWorkerFlags({ workers: '3', workerMemoryMb: '512' }, { PIOPIY_WORKERS: '5' })).toEqual({ workers: 3, workerMemoryMb: 512 });
    expect(parseWorkerFlags({}, { PIOPIY_WORKERS: '5' }).workers).toBe(5);
    expect(parseWorkerFlags({}, {})).toEqual({ workers: usableCores(), workerMemoryMb: undefined });
    expect(parseWorkerFlags({ workers: '1' }, {})).toEqual({ workers: 1, workerMemoryMb: undefined });
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
