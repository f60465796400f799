// Runs an example through `piopiy-ai demo` as a user would: the CLI in a child process, offline engines
// (PIOPIY_OFFLINE=1), `--json`, the summary parsed from the last line of stdout. Shared by the example tests.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DemoResult } from '../../src/cli/demo.js';

/** The offline STT needs Debian's pocketsphinx-en-us model; without it the example tests are skipped. */
export const hasPocketsphinx = existsSync('/usr/share/pocketsphinx/model/en-us/en-us.lm.bin');

export interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The JSON summary (the last line of stdout). */
  result: DemoResult;
  /** Wall time of the whole run, in ms. */
  durationMs: number;
}

export function runExampleDemo(agentFile: string, options: { env?: Record<string, string | undefined>; args?: string[] } = {}): Promise<DemoRun> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'piopiy-example-test-'));
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      // The stream path: these test the examples' behaviour; the WebRTC path (the CLI's default) has its own tests.
      ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--agent', agentFile, '--media', 'stream', '--json', '--recording-dir', dir, ...(options.args ?? [])],
      // No local model unless the test starts one: a developer's OLLAMA_BASE_URL must not leak into the run.
      { env: { ...process.env, OLLAMA_BASE_URL: undefined, PIOPIY_OFFLINE: '1', ...options.env } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let result: DemoResult;
      try {
        result = JSON.parse(last) as DemoResult;
      } catch {
        const how = signal === null ? `exit code ${code}` : `killed by ${signal}`;
        reject(new Error(`the demo printed no JSON summary (${how}):\n${stderr}`));
        return;
      }
      resolve({ code, stdout, stderr, result, durationMs: Math.round(performance.now() - started) });
    });
  });
}

/**
 * The conversation as [role, text]: what the caller was scripted to say for a user turn (what the agent heard of it
 * is rough offline dictation, see `heard`), what the caller heard for an assistant turn.
 */
export function scriptedTurns(result: DemoResult): [string, string | null][] {
  return result.turns.map((t) => [t.role, t.role === 'user' ? t.said : t.text]);
}
