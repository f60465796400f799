// Ending worker threads that run native (onnxruntime, koffi) or WebAssembly code.
//
// `Worker.terminate()` stops a thread wherever it is. When that is inside a native call or a WebAssembly run, the
// native code later returns into a torn-down environment and Node 20 can crash the whole process with SIGSEGV
// (nodejs/node#33377, #47748): every call served by the process would end. So this package never terminates such
// a thread. A thread is retired instead: it is sent a message asking it to leave, finishes the work it has in
// flight, releases what it holds and closes its port, and ends on its own. A retired thread that does not leave
// within the wait is abandoned, not killed: it is unref'd (it no longer keeps the process alive) and ends when its
// work does. See docs/architecture.md, "Threads and native code".
import type { Worker } from 'node:worker_threads';

/** How a retirement ended: the thread left, or it was still busy after the wait and was left to end on its own. */
export type WorkerRetirement = 'exited' | 'abandoned';

/** How long `retireWorker` waits by default for a thread to finish its work in flight and leave. */
export const DEFAULT_RETIRE_WAIT_MS = 5000;

/**
 * Asks `worker` to leave by posting `leaveMessage` (the thread's own protocol says what that is), and resolves
 * once it has exited, or with 'abandoned' after `waitMs` if it has not. Never calls `worker.terminate()`.
 */
export function retireWorker(worker: Worker, leaveMessage: unknown, waitMs = DEFAULT_RETIRE_WAIT_MS): Promise<WorkerRetirement> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (how: WorkerRetirement): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off('exit', onExit);
      resolve(how);
    };
    const onExit = (): void => settle('exited');
    const timer = setTimeout(() => {
      worker.unref();
      settle('abandoned');
    }, waitMs);
    timer.unref();
    worker.once('exit', onExit);
    // Held while it winds down: a process that exited now would stop the thread mid-work all the same.
    worker.ref();
    try {
      worker.postMessage(leaveMessage);
    } catch {
      // The thread has already gone (its port is closed): its 'exit' has fired or is about to.
    }
    if (worker.threadId === -1) settle('exited');
  });
}
