import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { concatInt16, dbfs } from '../../../../src/audio/index.js';
import { makeFrame, type ErrorFrame } from '../../../../src/frames/index.js';
import { silentLogger } from '../../../../src/logging/index.js';
import { Pipeline, PipelineTask } from '../../../../src/pipeline/index.js';
import { ServiceError } from '../../../../src/services/base/index.js';
import { EspeakTTSService } from '../../../../src/services/local/espeak/index.js';
import { FrameCollector } from '../../../../src/testing/frame-collector.js';

const hasEspeak = spawnSync('espeak-ng', ['--version']).status === 0;
const needs = hasEspeak ? '' : ' [skipped: needs espeak-ng — apt-get install espeak-ng]';

const SENTENCE = 'Please hold the line while I connect you to an agent.';
const scratch = mkdtempSync(join(tmpdir(), 'piopiy-espeak-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const live = (): AbortSignal => new AbortController().signal;

async function speak(tts: EspeakTTSService, text: string, signal = live()): Promise<Int16Array[]> {
  const chunks: Int16Array[] = [];
  for await (const chunk of tts.synthesize(text, { contextId: 'c', signal })) {
    if (chunk.type === 'audio') chunks.push(chunk.audio);
  }
  return chunks;
}

async function failure(tts: EspeakTTSService, text = 'Hello.'): Promise<ServiceError> {
  const error = await speak(tts, text).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ServiceError);
  return error as ServiceError;
}

function seconds(chunks: Int16Array[], rate: number): number {
  return chunks.reduce((n, c) => n + c.length, 0) / rate;
}

describe('EspeakTTSService', () => {
  it('validates its options', () => {
    expect(new EspeakTTSService().sampleRate).toBe(16000);
    expect(new EspeakTTSService({ sampleRate: 8000 }).sampleRate).toBe(8000);
    expect(() => new EspeakTTSService({ pitch: 120 })).toThrow(/pitch must be a number from 0 to 99/);
    expect(() => new EspeakTTSService({ rate: 0 })).toThrow(/rate/);
    expect(() => new EspeakTTSService({ sampleRate: 0 })).toThrow(/sampleRate/);
  });

  it('names the apt package when the binary is missing', async () => {
    const error = await failure(new EspeakTTSService({ binaryPath: join(scratch, 'no-such-espeak'), name: 'espeak' }));
    expect(error.message).toMatch(/^espeak: espeak-ng not found: cannot run '.*no-such-espeak'; install it with: apt-get install espeak-ng$/);
    expect(error.retryable).toBe(false);
  });

  it.skipIf(!hasEspeak)(`speaks a sentence in 40 ms chunks at 16 kHz${needs}`, async () => {
    const chunks = await speak(new EspeakTTSService(), SENTENCE);
    expect(chunks.slice(0, -1).every((c) => c.length === 640)).toBe(true);
    expect(chunks.at(-1)!.length).toBeLessThanOrEqual(640);
    // Measured: 3.3 s for these ten words at 175 words per minute (with espeak's final pause).
    expect(seconds(chunks, 16000)).toBeGreaterThan(2.5);
    expect(seconds(chunks, 16000)).toBeLessThan(4.5);
    expect(dbfs(concatInt16(chunks))).toBeGreaterThan(-30);
  });

  it.skipIf(!hasEspeak)(`resamples espeak's 22050 Hz to the requested rate, same duration${needs}`, async () => {
    const native = seconds(await speak(new EspeakTTSService({ sampleRate: 22050 }), SENTENCE), 22050);
    const narrow = seconds(await speak(new EspeakTTSService({ sampleRate: 8000 }), SENTENCE), 8000);
    const direct = spawnSync('espeak-ng', ['--stdout', '--stdin', '-v', 'en-us'], { input: SENTENCE }).stdout;
    // The samples after the 44-byte header of a direct run: the passed-through 22050 Hz audio has exactly as many.
    expect(native).toBeCloseTo((direct.length - 44) / 2 / 22050, 6);
    expect(Math.abs(narrow - native)).toBeLessThan(0.001);
  });

  it.skipIf(!hasEspeak)(`speaks faster at a higher rate and differently at another pitch${needs}`, async () => {
    const slow = seconds(await speak(new EspeakTTSService({ rate: 120 }), SENTENCE), 16000);
    const fast = seconds(await speak(new EspeakTTSService({ rate: 300 }), SENTENCE), 16000);
    expect(fast).toBeLessThan(slow * 0.6);
    const low = concatInt16(await speak(new EspeakTTSService({ pitch: 10 }), 'Hello.'));
    const high = concatInt16(await speak(new EspeakTTSService({ pitch: 90 }), 'Hello.'));
    expect(low).not.toEqual(high);
  });

  it.skipIf(!hasEspeak)(`reads the text from stdin: a leading dash is spoken, not taken as an option${needs}`, async () => {
    const chunks = await speak(new EspeakTTSService(), '-v is not an option here');
    expect(seconds(chunks, 16000)).toBeGreaterThan(1);
  });

  it.skipIf(!hasEspeak)(`reports espeak's own error with its exit code${needs}`, async () => {
    const error = await failure(new EspeakTTSService({ voice: 'nosuchvoice', name: 'espeak' }));
    expect(error.message).toBe('espeak: espeak-ng exited with code 1: Error: The specified espeak-ng voice does not exist.');
  });

  it.skipIf(!hasEspeak)(`kills the process when aborted${needs}`, async () => {
    // A wrapper that records espeak's pid, so the test can check the process is gone.
    const pidFile = join(scratch, 'espeak.pid');
    const wrapper = join(scratch, 'espeak-wrapper.sh');
    writeFileSync(wrapper, `#!/bin/sh\necho $$ > ${pidFile}\nexec espeak-ng "$@"\n`);
    chmodSync(wrapper, 0o755);
    const abort = new AbortController();
    const tts = new EspeakTTSService({ binaryPath: wrapper });
    const long = Array.from({ length: 40 }, () => SENTENCE).join(' ');
    let received = 0;
    for await (const chunk of tts.synthesize(long, { contextId: 'c', signal: abort.signal })) {
      if (chunk.type === 'audio') received++;
      if (received === 2) abort.abort();
    }
    expect(received).toBe(2);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it.skipIf(!hasEspeak)(`speaks a speak frame in a pipeline${needs}`, async () => {
    const tts = new EspeakTTSService({ sampleRate: 8000 });
    const collector = new FrameCollector();
    const errors: ErrorFrame[] = [];
    const task = new PipelineTask(new Pipeline([tts, collector]), { logger: silentLogger, onError: (f) => errors.push(f) });
    const running = task.run();
    void task.queueFrame(makeFrame('speak', { text: 'Hello there. How can I help you today?' }));
    await collector.waitFor((f) => f.type === 'tts-stopped');
    task.stopWhenDone();
    await running;
    expect(errors).toEqual([]);
    expect(collector.ofType('tts-text').map((f) => f.text)).toEqual(['Hello there.', 'How can I help you today?']);
    const frames = collector.ofType('tts-audio');
    expect(frames.every((f) => f.sampleRate === 8000 && f.audio.length <= 320)).toBe(true);
    expect(seconds(frames.map((f) => f.audio), 8000)).toBeGreaterThan(2);
  });
});
