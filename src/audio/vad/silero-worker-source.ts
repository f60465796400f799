// The body of a Silero inference thread, plain CommonJS source run with `new Worker(source, { eval: true })` so it
// runs the same from TypeScript sources and from the build (see silero-worker.ts). It loads the model with the
// session options the main thread uses and answers each batch with its outputs, one batch at a time.
//
// The thread is never terminated from outside (src/runtime/worker-threads.ts): asked to leave, it finishes the
// batch in flight, releases its ONNX session and closes its port, and so ends with no native work running.
// Messages follow SileroWorkerMessage / SileroWorkerReply in silero-worker.ts.
export const SILERO_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.runtimePath);
// As on the main thread (silero-runtime.ts): onnxruntime-web must not start threads of its own.
if (workerData.runtimeName === 'onnxruntime-web') ort.env.wasm.numThreads = 1;

const sessionReady = ort.InferenceSession.create(workerData.modelPath, workerData.sessionOptions);
const sr = new ort.Tensor('int64', BigInt64Array.of(BigInt(workerData.sampleRate)), []);

function messageOf(error) {
  return String((error && error.message) || error);
}

// The work in flight: loading the model, then each batch in turn. Leaving waits for it.
let busy = sessionReady.then(
  () => parentPort.postMessage({ kind: 'ready' }),
  (error) => {
    parentPort.postMessage({ kind: 'failed', message: messageOf(error) });
    parentPort.close();
  },
);

// Faults a test asks for (WorkerSileroSession.injectFault); none is ever set otherwise.
let fault;

async function runBatch({ input, state, size }) {
  if (fault !== undefined) {
    const injected = fault;
    fault = undefined;
    if (injected.kind === 'exit') {
      // An uncaught error ends the thread as a crash of its own code would, between native calls.
      setImmediate(() => {
        throw new Error('injected fault: the worker exits');
      });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, injected.stallMs));
  }
  try {
    const session = await sessionReady;
    const outputs = await session.run({
      input: new ort.Tensor('float32', input, [size, input.length / size]),
      state: new ort.Tensor('float32', state, [2, size, workerData.stateWidth]),
      sr,
    });
    const output = outputs.output && outputs.output.data;
    const stateN = outputs.stateN && outputs.stateN.data;
    if (!(output instanceof Float32Array) || !(stateN instanceof Float32Array)) {
      parentPort.postMessage({ kind: 'failed', message: 'unexpected outputs' });
      return;
    }
    parentPort.postMessage({ kind: 'result', output, stateN }, [output.buffer, stateN.buffer]);
  } catch (error) {
    parentPort.postMessage({ kind: 'failed', message: messageOf(error) });
  }
}

// Chained after the work in flight (see the message handler), so it runs once that is done.
async function leave() {
  const session = await sessionReady.catch(() => undefined);
  await (session && session.release().catch(() => undefined));
  parentPort.close();
}

parentPort.on('message', (message) => {
  if (message.kind === 'run') busy = busy.then(() => runBatch(message));
  else if (message.kind === 'leave') busy = busy.then(leave);
  else if (message.kind === 'fault') fault = message.fault;
});
`;
