// Commands run the way a user runs them in a terminal, for the slow tests that install the packed tarball: a clean
// environment (none of the npm, vitest or repository settings this test process inherited), timed.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** This process's environment without what npm scripts and vitest add, plus `extra`. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(npm_|onnxruntime|VITEST|TEST$|NODE_ENV$|NODE_OPTIONS$|INIT_CWD$)/i.test(name)) continue;
    // A developer's keys would swap the offline engines for vendors (and the network): never in these tests.
    if (/_API_KEY$|^OLLAMA_/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Runs a command to its end (killed after `timeoutMs`, default 120 s); never rejects on a non-zero exit. */
export function run(command: string, args: string[], options: RunOptions): Promise<CommandResult> {
  const started = performance.now();
  const child = start(command, args, options);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => stop(child, 'SIGKILL'), options.timeoutMs ?? 120_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Math.round(performance.now() - started) });
    });
  });
}

/** Starts a long-running command (a server) in its own process group, so stop() reaches npm's children too. */
export function start(command: string, args: string[], options: RunOptions): ChildProcessWithoutNullStreams {
  const child = spawn(command, args, { cwd: options.cwd, env: userEnv(options.env), detached: true });
  // A command that cannot start (no such folder, say) reports it to waitForOutput and the exit listeners.
  child.on('error', () => undefined);
  return child;
}

/** Signals the command's whole process group (npm, npx and tsx each run the next program as a child). */
export function stop(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** Waits until a started command's stdout matches `pattern`; rejects if it exits or `timeoutMs` pass first. */
export function waitForOutput(child: ChildProcessWithoutNullStreams, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const match = pattern.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before printing ${pattern}:\n${output}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Step timings, printed as one line per step at the end of a test file. */
export class Timings {
  private readonly steps: [string, number][] = [];

  add(step: string, ms: number): void {
    this.steps.push([step, ms]);
  }

  async time<T extends { ms: number }>(step: string, work: Promise<T>): Promise<T> {
    const result = await work;
    this.add(step, result.ms);
    return result;
  }

  report(title: string): string {
    return [`${title}:`, ...this.steps.map(([step, ms]) => `  ${step.padEnd(52)} ${(ms / 1000).toFixed(1)} s`)].join('\n');
  }
}
