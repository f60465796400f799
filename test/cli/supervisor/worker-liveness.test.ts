// The supervisor's ping loop on the virtual clock: a worker that stops answering is late after one interval and
// reported for killing past the timeout; one still starting is judged only by the start deadline. (Real processes and a real busy loop:
// test/slow/start-workers.test.ts.)
import { describe, expect, it } from 'vitest';
import { WorkerLiveness } from '../../../src/cli/supervisor/worker-liveness.js';
import type { WorkerProcess } from '../../../src/cli/supervisor/worker-process.js';
import { VirtualClock } from '../../../src/testing/virtual-clock.js';

/** The part of a WorkerProcess the liveness check uses; `hung` stops its answers. */
class FakeWorker {
  alive = true;
  unresponsive = false;
  served = true;
  hung = false;
  pings = 0;
  private since: number | undefined;
  constructor(readonly slot: number) {}
  ping(now: number): void {
    this.pings++;
    this.since ??= now;
    if (!this.hung) this.since = undefined; // answered at once
  }
  unansweredMs(now: number): number {
    return this.since === undefined ? 0 : now - this.since;
  }
}

function setUp(workers: FakeWorker[]): { clock: VirtualClock; liveness: WorkerLiveness; killed: Array<[number, number, string?]> } {
  const clock = new VirtualClock();
  const killed: Array<[number, number, string?]> = [];
  const liveness = new WorkerLiveness(
    { intervalMs: 1000, timeoutMs: 3000, startTimeoutMs: 20_000 },
    () => workers as unknown as WorkerProcess[],
    (worker, silentMs, reason) => {
      killed.push(reason === 'hung' ? [worker.slot, silentMs] : [worker.slot, silentMs, reason]);
      worker.unresponsive = true;
    },
    clock,
  );
  return { clock, liveness, killed };
}

describe('WorkerLiveness', () => {
  it('pings every interval; a worker silent past the timeout is reported once, the other stays responsive', async () => {
    const [a, b] = [new FakeWorker(0), new FakeWorker(1)];
    const { clock, liveness, killed } = setUp([a, b]);
    liveness.start();
    await clock.advance(2500);
    expect(a.pings).toBe(3);
    expect(liveness.health()).toEqual({ responsive: 2, late: [] });

    a.hung = true;
    await clock.advance(1000); // the ping at 3000 goes unanswered
    expect(liveness.health()).toEqual({ responsive: 2, late: [] });
    await clock.advance(1000); // owed for 1000 ms: not yet more than one interval
    await clock.advance(1);
    expect(liveness.health()).toEqual({ responsive: 1, late: [0] });
    expect(killed).toEqual([]);
    await clock.advance(2000); // the tick at 6000 finds it silent for 3000 ms
    expect(killed).toEqual([[0, 3000]]);
    await clock.advance(5000);
    expect(killed).toHaveLength(1); // not reported again while it dies
    expect(b.pings).toBe(12);
    liveness.stop();
  });

  it('does not judge a worker that has not served yet (an agent file may block its loop while loading)', async () => {
    const starting = new FakeWorker(0);
    starting.served = false;
    starting.hung = true;
    const { clock, liveness, killed } = setUp([starting]);
    liveness.start();
    await clock.advance(10_000);
    expect(killed).toEqual([]);
    expect(liveness.health()).toEqual({ responsive: 1, late: [] });
    starting.served = true; // it became ready and still owes an answer: from now on it is judged
    await clock.advance(1000);
    expect(killed).toHaveLength(1);
    liveness.stop();
  });

  it('kills a worker that has not started serving by the start deadline (an agent file that hangs while loading)', async () => {
    const stuck = new FakeWorker(0);
    stuck.served = false;
    const ready = new FakeWorker(1);
    const { clock, liveness, killed } = setUp([stuck, ready]);
    liveness.start();
    await clock.advance(19_999);
    expect(killed).toEqual([]); // it answers its pings (only its agent file waits): not hung, still starting
    await clock.advance(1);
    expect(killed).toEqual([[0, 20_000, 'start-timeout']]);
    await clock.advance(30_000);
    expect(killed).toHaveLength(1); // the serving one is never held to the start deadline
    liveness.stop();
  });
});
