// The runner behind `npm test` (scripts/test.mjs): the `live` steps one after another, shown as they run, while the
// `beside` steps run side by side from the start, their output kept and shown once the first live step is done.
// Every step runs to its end, so one failure does not hide another. Plain JavaScript: it runs before anything is
// compiled.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * @typedef {{ name: string, command: string, args: string[], env?: Record<string, string> }} Step
 * @typedef {{ beside: Step[], live: Step[], totals: Record<string, string> }} Plan
 *   `totals`: per suite name, the file its summary reporter leaves its counts in.
 */

/** Runs one step; `live` shows its output as it comes, otherwise it is kept and shown by `show()`. */
function runStep({ name, command, args, env }, { cwd, live, logDir, out }) {
  const started = Date.now();
  const logPath = join(logDir, `${name.replace(/\W+/g, '-')}.log`);
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: live && out === process.stdout ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
  let written = Promise.resolve();
  if (child.stdout !== null) {
    const sink = live ? out : createWriteStream(logPath);
    child.stdout.pipe(sink, { end: false });
    child.stderr.pipe(sink, { end: false });
    if (!live) written = new Promise((resolve) => child.on('close', () => sink.end(resolve)));
  }
  return new Promise((resolve) => {
    let startError;
    child.on('error', (error) => (startError = error));
    child.on('close', async (code, signal) => {
      await written;
      const seconds = Math.round((Date.now() - started) / 1000);
      if (startError !== undefined) out.write(`[test] ${name}: could not start ${command}: ${startError.message}\n`);
      resolve({
        name,
        code: startError !== undefined ? 1 : (code ?? 128),
        seconds,
        show() {
          if (live) return;
          out.write(`\n──── ${name} (${seconds} s, exit ${code ?? signal}) ────\n`);
          if (existsSync(logPath)) out.write(readFileSync(logPath, 'utf8'));
        },
      });
    });
  });
}

/**
 * Runs the plan; resolves to the exit code for `npm test` (0 only when every step passed and every suite left its
 * counts). The last line written counts every test of both suites.
 * @param {Plan} plan
 * @param {{ cwd: string, sequential?: boolean, out?: NodeJS.WritableStream }} options
 */
export async function runTestLanes(plan, { cwd, sequential = false, out = process.stdout }) {
  const logDir = mkdtempSync(join(tmpdir(), 'piopiy-test-'));
  for (const path of Object.values(plan.totals)) rmSync(path, { force: true });
  const run = (step, live) => runStep(step, { cwd, live, logDir, out });
  let results;
  try {
    if (sequential) {
      results = [];
      for (const step of [...plan.beside, ...plan.live]) results.push(await run(step, true));
    } else {
      const names = (steps) => steps.map((step) => step.name).join(', ');
      out.write(`[test] ${names(plan.live)}, one after another; beside them from now on: ${names(plan.beside)}\n`);
      const beside = plan.beside.map((step) => run(step, false));
      const [first, ...rest] = plan.live;
      results = [await run(first, true)];
      for (const done of await Promise.all(beside)) {
        done.show();
        results.push(done);
      }
      for (const step of rest) results.push(await run(step, true));
    }
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }

  out.write('\n');
  for (const { name, code, seconds } of results) out.write(`[test] ${name}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${seconds} s\n`);
  const total = { passed: 0, failed: 0, skipped: 0 };
  let missing = false;
  for (const [suite, path] of Object.entries(plan.totals)) {
    if (!existsSync(path)) {
      missing = true; // a suite that left no counts did not run to its end
      out.write(`${suite}: no result\n`);
      continue;
    }
    const counts = JSON.parse(readFileSync(path, 'utf8'));
    out.write(`${suite}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
    for (const key of Object.keys(total)) total[key] += counts[key];
  }
  out.write(`\ntests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
  return missing || results.some((r) => r.code !== 0) ? 1 : 0;
}
