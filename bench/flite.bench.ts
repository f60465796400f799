// Flite first-audio latency: from FliteTTSService.synthesize() being called with a ten-word sentence to its first
// 40 ms audio chunk, with the worker thread already started and Flite loaded in it (as after a pipeline's start).
// Covers the hop to the worker, the whole-sentence WASI synthesis, the WAV decode and the hop back.
import { emit, percentile, round } from './lib.js';
import { FliteTTSService, FliteWorkerPool } from '../src/services/local/flite/index.js';

const SENTENCE = 'Please hold the line while I connect you to an agent.';
const WARM_UP_RUNS = 3;
const RUNS = 20;

const pool = new FliteWorkerPool({ maxWorkers: 1 });
const tts = new FliteTTSService({ voice: 'kal16', pool });

async function firstAudioMs(): Promise<number> {
  const started = performance.now();
  const abort = new AbortController();
  for await (const chunk of tts.synthesize(SENTENCE, { contextId: 'bench', signal: abort.signal })) {
    if (chunk.type === 'audio') {
      const elapsed = performance.now() - started;
      abort.abort();
      return elapsed;
    }
  }
  throw new Error('flite produced no audio');
}

await pool.warmUp('kal16');
for (let i = 0; i < WARM_UP_RUNS; i++) await firstAudioMs();
const times: number[] = [];
for (let i = 0; i < RUNS; i++) times.push(await firstAudioMs());
times.sort((a, b) => a - b);
const p50 = round(percentile(times, 50));
emit({ name: 'flite_first_audio_ms', value: p50, unit: 'ms', p50, p99: round(percentile(times, 99)), runs: RUNS });
await pool.close();
