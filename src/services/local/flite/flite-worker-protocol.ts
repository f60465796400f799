// Messages between the Flite worker pool and its worker threads.
import type { FliteVoice } from './flite-engine.js';

export interface FliteWorkerRequest {
  type: 'synthesize';
  id: number;
  text: string;
  voice: FliteVoice;
}

export type FliteWorkerReply =
  /** The WAV file Flite wrote, moved (not copied) to the pool, which decodes it. */
  | { id: number; wav: Uint8Array }
  /** `errorName` keeps RangeError/TypeError recognisable across the thread boundary. */
  | { id: number; error: string; errorName: string };

/** Asks the worker to leave once its work in flight is done (see FliteWorkerPool.close). */
export interface FliteWorkerClose {
  type: 'close';
}

export type FliteWorkerMessage = FliteWorkerRequest | FliteWorkerClose;
