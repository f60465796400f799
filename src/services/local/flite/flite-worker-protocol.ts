// Messages between the Flite worker pool and its worker threads.
import type { FliteVoice } from './flite-engine.js';

export interface FliteWorkerRequest {
  id: number;
  text: string;
  voice: FliteVoice;
}

export type FliteWorkerReply =
  | { id: number; samples: Int16Array; sampleRate: number }
  /** `errorName` keeps RangeError/TypeError recognisable across the thread boundary. */
  | { id: number; error: string; errorName: string };
