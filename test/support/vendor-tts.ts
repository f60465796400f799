// What the tests of the WebSocket TTS vendors (Rime, LMNT, Fish Audio, ...) share: one fake server for the file,
// an LLM response said and collected, the client messages a fake recorded, and raw probes of what a fake refuses.
import { afterAll, beforeAll } from 'vitest';
import WebSocket from 'ws';
import type { FrameProcessor } from '../../src/pipeline/index.js';
import { runPipeline, type PipelineRun } from './pipeline.js';
import { waitUntil } from './wait.js';

/** Starts the fake once for the test file and closes it after; the getter returns it. */
export function useFake<F extends { close(): Promise<void> }>(start: () => Promise<F>): () => F {
  let fake: F | undefined;
  beforeAll(async () => {
    fake = await start();
  });
  afterAll(() => fake?.close());
  return () => {
    if (fake === undefined) throw new Error('the fake is not started yet');
    return fake;
  };
}

/** A fake's recorded client messages, read as JSON objects. */
export const records = (list: readonly unknown[]): Record<string, unknown>[] => list as Record<string, unknown>[];

/** Runs `tts`, has it say an LLM response given in `pieces`, and stops once the utterance is over. */
export async function sayResponse(tts: FrameProcessor, pieces: readonly string[], options: { audioOutSampleRate?: number } = {}): Promise<PipelineRun> {
  const run = runPipeline(tts, options);
  run.respond(pieces);
  await run.collector.waitFor((f) => f.type === 'llm-response-end');
  await waitUntil(() => run.collector.ofType('tts-stopped').length === 1, 5000);
  await run.stop();
  return run;
}

/** The HTTP status a handshake to `url` is answered with (101 when it upgrades). */
export function handshakeStatus(url: string, headers: Readonly<Record<string, string>> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', () => undefined);
  });
}

/** The first message the server at `url` answers `first` with (a text frame parsed as JSON, else the bytes). */
export function firstAnswer(
  url: string,
  first: string | Buffer,
  headers: Readonly<Record<string, string>> = {},
): Promise<{ json?: Record<string, unknown>; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => ws.send(first));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      resolve(isBinary ? { bytes: data } : { json: JSON.parse(data.toString('utf8')) as Record<string, unknown>, bytes: data });
      ws.close();
    });
    ws.on('error', reject);
  });
}
