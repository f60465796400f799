// The fault plumbing every segmented (REST) STT entry shares: its fake answers one queued answer per request, so a
// fault is queued like a transcript; no socket is held between turns.
import type { FakeSTTAnswer } from '../../../src/testing/fakes/segmented-stt.js';
import type { STTHarness } from './harness.js';

export function segmentedFaults(enqueue: (answer: FakeSTTAnswer) => void): Pick<STTHarness, 'fail' | 'dropNow' | 'openSockets'> {
  return {
    fail: (fault) => {
      if (fault.kind === 'error') enqueue({ error: fault.status, ...(fault.retryAfterSecs === undefined ? {} : { retryAfter: fault.retryAfterSecs }) });
      else if (fault.kind === 'stall') enqueue({ stall: true });
      else enqueue({ drop: true });
    },
    dropNow: () => {
      throw new Error('a segmented STT holds no socket between turns');
    },
    openSockets: () => 0,
  };
}
