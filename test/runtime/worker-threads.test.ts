import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { retireWorker } from '../../src/runtime/worker-threads.js';

/** A thread that, asked to leave, first finishes `workMs` of work in flight (a timer: no native code needed). */
function startWorker(workMs: number): Worker {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const work = new Promise((resolve) => setTimeout(resolve, workerData.workMs));
    parentPort.on('message', (message) => {
      if (message === 'leave') work.then(() => parentPort.close());
    });
    parentPort.postMessage('started');
  `;
  return new Worker(source, { eval: true, execArgv: [], workerData: { workMs } });
}

function started(worker: Worker): Promise<void> {
  return new Promise((resolve) => worker.once('message', () => resolve()));
}

function exited(worker: Worker): Promise<number> {
  return new Promise((resolve) => worker.once('exit', resolve));
}

describe('retireWorker', () => {
  const terminate = vi.spyOn(Worker.prototype, 'terminate');
  afterEach(() => expect(terminate).not.toHaveBeenCalled());

  it('asks the thread to leave and resolves once it has ended on its own', async () => {
    const worker = startWorker(50);
    await started(worker);
    const exit = exited(worker);
    expect(await retireWorker(worker, 'leave')).toBe('exited');
    expect(await exit).toBe(0);
  });

  it('abandons a thread still busy after the wait: never terminated, it ends once its work is done', async () => {
    // Real time, with a wide margin: the work (1.5 s) is fifteen times the wait (0.1 s).
    const worker = startWorker(1500);
    await started(worker);
    const exit = exited(worker);
    expect(await retireWorker(worker, 'leave', 100)).toBe('abandoned');
    expect(worker.threadId).toBeGreaterThan(0);
    expect(await exit).toBe(0);
  });

  it('resolves at once for a thread that has already ended', async () => {
    const worker = startWorker(0);
    await started(worker);
    worker.postMessage('leave');
    await exited(worker);
    expect(await retireWorker(worker, 'leave', 60_000)).toBe('exited');
  });
});

describe('no thread that may run native or WebAssembly code is terminated', () => {
  it('src/ never calls terminate() in a file that starts worker threads', () => {
    const root = join(import.meta.dirname, '../../src');
    const offenders: string[] = [];
    for (const entry of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
      if (!entry.endsWith('.ts')) continue;
      const text = readFileSync(join(root, entry), 'utf8');
      // Code only: the comments explaining why are allowed to name the call.
      const code = text
        .split('\n')
        .filter((line) => !/^\s*(\/\/|\/?\*)/.test(line))
        .join('\n');
      if (/node:worker_threads/.test(code) && /\.terminate\(/.test(code)) offenders.push(entry);
    }
    expect(offenders).toEqual([]);
  });
});
