// A WorkerProcess around a real child process (a small script in place of the worker's entry): messages written
// while the child dies must not throw in the supervisor, and its exit is reported once with the calls it held.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerProcess, type WorkerEvent } from '../../../src/cli/supervisor/worker-process.js';
import { VirtualClock } from '../../../src/testing/virtual-clock.js';

const dir = mkdtempSync(join(tmpdir(), 'worker-process-'));
// Stays alive with its IPC channel open and answers nothing, like a worker still loading its agent file.
const SILENT_CHILD = join(dir, 'silent.mjs');
writeFileSync(SILENT_CHILD, "process.on('message', () => {});\nsetInterval(() => {}, 1000);\n");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function startSilentWorker(events: WorkerEvent[]): WorkerProcess {
  return new WorkerProcess(0, 'agent.mjs', 'start agent.mjs', (_, event) => events.push(event), () =>
    fork(SILENT_CHILD, [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], execArgv: [] }),
  );
}

function exitOf(events: WorkerEvent[]): Promise<Extract<WorkerEvent, { type: 'exit' }>> {
  return new Promise((done) => {
    const poll = (): void => {
      const exit = events.find((e): e is Extract<WorkerEvent, { type: 'exit' }> => e.type === 'exit');
      if (exit === undefined) setTimeout(poll, 10);
      else done(exit);
    };
    poll();
  });
}

/** Blocks this thread, so the child's death is not yet seen by the event loop when we write to it. */
function sleepBlocking(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('WorkerProcess', () => {
  it('writes to a worker that died before the event loop noticed without throwing; reports one exit with its calls', async () => {
    const events: WorkerEvent[] = [];
    const worker = startSilentWorker(events);
    worker.invite('room-1', { room_name: 'room-1' });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      worker.kill('SIGKILL');
      sleepBlocking(300); // dead by now; the IPC channel still looks connected to this process
      const clock = new VirtualClock();
      const metrics = worker.requestMetrics(clock, 2_000);
      worker.ping(0);
      worker.invite('room-2', { room_name: 'room-2' });
      const exit = await exitOf(events);
      expect(exit.signal).toBe('SIGKILL');
      expect([...exit.lostRooms].sort()).toEqual(['room-1', 'room-2']);
      expect(await metrics).toBeUndefined(); // answered by the exit, not left waiting for the timeout
      await new Promise((r) => setTimeout(r, 50));
      expect(uncaught).toEqual([]);
      expect(worker.lastError).toMatchObject({ code: 'EPIPE' });
      expect(events.filter((e) => e.type === 'exit')).toHaveLength(1);
      expect(worker.alive).toBe(false);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('a process that cannot start is an exit, not a worker waited on forever', async () => {
    const events: WorkerEvent[] = [];
    const worker = new WorkerProcess(0, 'agent.mjs', 'start agent.mjs', (_, event) => events.push(event), () =>
      fork(join(dir, 'silent.mjs'), [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], execPath: join(dir, 'no-such-node') }),
    );
    const exit = await exitOf(events);
    expect(exit).toMatchObject({ code: null, signal: null });
    expect(worker.lastError).toMatchObject({ code: 'ENOENT' });
    expect(worker.alive).toBe(false);
  });
});
