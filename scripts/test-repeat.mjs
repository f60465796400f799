#!/usr/bin/env node
// The crash hunt: runs chosen test files many times, each run in a fresh process, and counts crashes and failures.
//
//   npm run test:repeat -- <test files...> --times 30 [--jobs 2] [--logs <dir>] [--config <vitest config>]
//
// Each run is `vitest run <file>` on its own (files under test/slow/ with the slow suite's configuration, unless
// --config names one). A run
// counts as a crash when its test process died (the summary reporter's `did not finish:` line, vitest's
// "Worker exited unexpectedly", a signal, or a Node diagnostic report written for a fatal error), as a failure
// when it exited non-zero otherwise. Every run's output is kept under the logs folder, and each crashed or failed
// run's log is named at the end. Exits 1 when any run crashed or failed.
//
// Node is started with --report-on-fatalerror so a V8 fatal error (out of memory, a failed internal check)
// leaves a JSON report in the run's folder; a SIGSEGV leaves none (see the README's troubleshooting section).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function usage(message) {
  process.stderr.write(`${message}\nusage: npm run test:repeat -- <test files...> --times N [--jobs J] [--logs DIR] [--config FILE]\n`);
  process.exit(2);
}

function parseArguments(argv) {
  const files = [];
  let times = 10;
  let jobs = 1;
  let logs = join(root, '.test-repeat', new Date().toISOString().replace(/[:.]/g, '-'));
  let config;
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) usage(`${argument} needs a value`);
      return next;
    };
    if (argument === '--times') times = Number(value());
    else if (argument === '--jobs') jobs = Number(value());
    else if (argument === '--logs') logs = resolve(value());
    else if (argument === '--config') config = relative(root, resolve(value()));
    else if (argument.startsWith('--')) usage(`unknown option ${argument}`);
    else files.push(relative(root, resolve(argument)));
  }
  if (files.length === 0) usage('name at least one test file');
  if (!Number.isInteger(times) || times < 1) usage('--times takes a whole number >= 1');
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > availableParallelism() * 2) usage('--jobs takes a whole number from 1 to twice the cores');
  for (const file of files) if (!existsSync(join(root, file))) usage(`no such test file: ${file}`);
  if (config !== undefined && !existsSync(join(root, config))) usage(`no such configuration: ${config}`);
  return { files, times, jobs, logs, config };
}

const CRASH = /^did not finish: |Worker exited unexpectedly|Segmentation fault|SIGSEGV|SIGABRT|FATAL ERROR|core dumped/m;

/** Runs one file once in a fresh vitest process; resolves to its outcome. */
function runOnce(file, round, logs, chosenConfig) {
  const folder = join(logs, `${file.replace(/[\\/]/g, '_')}.${round}`);
  mkdirSync(folder, { recursive: true });
  const config = chosenConfig ?? (file.startsWith('test/slow/') ? 'vitest.slow.config.ts' : 'vitest.config.ts');
  const vitest = join(root, 'node_modules/vitest/vitest.mjs');
  const nodeOptions = [process.env.NODE_OPTIONS ?? '', '--report-on-fatalerror', `--report-directory=${folder}`].join(' ').trim();
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, [vitest, 'run', '-c', config, file], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: nodeOptions, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code, signal) => {
      const log = join(folder, 'output.log');
      writeFileSync(log, output);
      const reports = readdirSync(folder).filter((name) => name.startsWith('report.'));
      const crashed = signal !== null || reports.length > 0 || CRASH.test(output);
      const outcome = crashed ? 'crash' : code === 0 ? 'pass' : 'fail';
      done({ file, round, outcome, code, signal, reports: reports.length, seconds: (Date.now() - started) / 1000, log });
    });
  });
}

async function main() {
  const { files, times, jobs, logs, config } = parseArguments(process.argv.slice(2));
  const queue = [];
  for (let round = 1; round <= times; round++) for (const file of files) queue.push({ file, round });
  const tally = new Map(files.map((file) => [file, { pass: 0, fail: 0, crash: 0, seconds: 0 }]));
  const bad = [];
  process.stderr.write(`[test:repeat] ${files.length} file(s) x ${times} runs, ${jobs} at a time; logs in ${relative(root, logs)}\n`);
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const result = await runOnce(next.file, next.round, logs, config);
      const counts = tally.get(result.file);
      counts[result.outcome]++;
      counts.seconds += result.seconds;
      if (result.outcome !== 'pass') bad.push(result);
      process.stderr.write(`[test:repeat] ${result.outcome.padEnd(5)} ${result.file} #${result.round} (${result.seconds.toFixed(1)} s)\n`);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  for (const [file, counts] of tally) {
    const line = { file, runs: times, passed: counts.pass, failed: counts.fail, crashed: counts.crash, meanSeconds: +(counts.seconds / times).toFixed(1) };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  for (const result of bad) process.stdout.write(`${result.outcome}: ${result.file} run ${result.round}, log ${relative(root, result.log)}\n`);
  const sum = (key) => [...tally.values()].reduce((total, counts) => total + counts[key], 0);
  process.stdout.write(`test:repeat: ${sum('pass')} runs passed, ${sum('fail')} failed, ${sum('crash')} crashed\n`);
  process.exit(bad.length > 0 ? 1 : 0);
}

await main();
