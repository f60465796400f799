// The body of a Flite worker thread, as plain JavaScript source text run with `new Worker(source, { eval: true })`
// (see flite-worker-pool.ts). It does one thing per request: run Flite's WASI program with the already checked and
// prepared text, and move the WAV bytes back to the pool. Keeping it free of TypeScript and of the package's own
// modules means no module loader runs inside the worker. Messages follow flite-worker-protocol.ts.
//
// Every run needs a fresh WebAssembly instance (Flite's globals are not reset between runs), and instantiating the
// 21 MB module takes about 12 ms. So the worker instantiates the next run's instance while it is idle, right after
// answering: its WASI imports forward to a WASI object set only when a request arrives (the arguments, which carry
// the text, are fixed when a WASI object is made), taking instantiation off the time to first audio.
export const FLITE_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { mkdtemp, open, readFile, rm } = require('node:fs/promises');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

// Node prints an ExperimentalWarning when node:wasi loads; only that one is kept quiet.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const text = typeof warning === 'string' ? warning : (warning && warning.message) || '';
  if (/WASI is an experimental feature/.test(text)) return;
  return emitWarning.call(process, warning, ...rest);
};
const { WASI } = require('node:wasi');
process.emitWarning = emitWarning;

let compiled;
let prepared;

/** An instance whose WASI imports call the WASI object put in its slot later; resolves to { instance, slot }. */
function prepare(module) {
  const slot = { wasi: undefined };
  const imports = {};
  for (const entry of WebAssembly.Module.imports(module)) {
    if (entry.module !== 'wasi_snapshot_preview1' || entry.kind !== 'function') return undefined;
    const name = entry.name;
    imports[name] = (...args) => slot.wasi.wasiImport[name](...args);
  }
  return WebAssembly.instantiate(module, { wasi_snapshot_preview1: imports }).then((instance) => ({ instance, slot }));
}

/** Instantiates the next run's instance ahead of time (when idle: after a reply has been posted). */
function prepareNext() {
  if (compiled === undefined) return;
  prepared = compiled.then(prepare);
  // A failure here is only a missed head start: the next request instantiates for itself.
  prepared.catch(() => (prepared = undefined));
}

async function synthesize(text, voice) {
  compiled ??= readFile(workerData.wasmPath).then((bytes) => WebAssembly.compile(bytes));
  const module = await compiled;
  const ready = prepared !== undefined ? await prepared.catch(() => undefined) : undefined;
  prepared = undefined;
  const directory = await mkdtemp(join(tmpdir(), 'piopiy-flite-'));
  try {
    const logPath = join(directory, 'flite.log');
    const log = await open(logPath, 'w');
    let exitCode;
    try {
      const wasi = new WASI({
        version: 'preview1',
        args: ['flite', '-voice', voice, '-t', text, '-o', '/out/speech.wav'],
        env: {},
        preopens: { '/out': directory },
        returnOnExit: true,
        stdout: log.fd,
        stderr: log.fd,
      });
      let instance;
      if (ready !== undefined) {
        ready.slot.wasi = wasi;
        instance = ready.instance;
      } else {
        instance = await WebAssembly.instantiate(module, wasi.getImportObject());
      }
      exitCode = wasi.start(instance);
    } catch (error) {
      throw new Error('flite (voice ' + voice + ') crashed: ' + (error && error.message));
    } finally {
      await log.close();
    }
    const messages = (await readFile(logPath, 'utf8').catch(() => '')).trim();
    if (exitCode !== 0) throw new Error('flite (voice ' + voice + ') exited with code ' + exitCode + (messages ? ': ' + messages : ''));
    let wav;
    try {
      wav = await readFile(join(directory, 'speech.wav'));
    } catch {
      // Flite reports a failed write on stderr but still exits with 0.
      throw new Error('flite (voice ' + voice + ') wrote no audio' + (messages ? ': ' + messages : ''));
    }
    return new Uint8Array(wav.buffer.slice(wav.byteOffset, wav.byteOffset + wav.byteLength));
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

// The work in flight (a synthesis, then the next instance's preparation): a close waits for it.
let busy = Promise.resolve();

parentPort.on('message', (request) => {
  if (request.type === 'close') {
    // Leave on our own once idle: terminating a thread in the middle of WebAssembly work can crash Node.
    busy.then(() => (prepared ?? Promise.resolve()).catch(() => undefined)).then(() => parentPort.close());
    return;
  }
  busy = synthesize(request.text, request.voice)
    .then(
      (wav) => parentPort.postMessage({ id: request.id, wav }, [wav.buffer]),
      (error) =>
        parentPort.postMessage({
          id: request.id,
          error: error instanceof Error ? error.message : String(error),
          errorName: error instanceof Error ? error.name : 'Error',
        }),
    )
    .then(prepareNext);
});
`;
