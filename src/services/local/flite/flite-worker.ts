// The body of a Flite worker thread (see flite-worker-pool.ts): runs one synthesis at a time, off the thread that
// carries the calls' audio, and hands back the samples without copying them.
import { parentPort } from 'node:worker_threads';
import { synthesizeWithFlite } from './flite-engine.js';
import type { FliteWorkerReply, FliteWorkerRequest } from './flite-worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('flite-worker must be started as a worker thread');

port.on('message', (request: FliteWorkerRequest) => {
  void synthesizeWithFlite(request.text, { voice: request.voice }).then(
    (audio) => {
      const reply: FliteWorkerReply = { id: request.id, samples: audio.samples, sampleRate: audio.sampleRate };
      // The samples are fresh from the WAV decode and used nowhere else here: moved, not copied.
      port.postMessage(reply, [audio.samples.buffer as ArrayBuffer]);
    },
    (error: unknown) => {
      const reply: FliteWorkerReply = {
        id: request.id,
        error: error instanceof Error ? error.message : String(error),
        errorName: error instanceof Error ? error.name : 'Error',
      };
      port.postMessage(reply);
    },
  );
});
