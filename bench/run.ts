// `npm run bench [-- --only <substring>] [-- --peers] [-- --duration=S] [-- --turns=N]`: runs every bench/*.bench.ts
// in its own process and passes through the JSON lines they print. A benchmark that fails is reported as a JSON line
// with "error" and makes the run exit non-zero, after the others have run.
//
// `--peers` first installs and runs the peer harness (LiveKit Agents for Node, ../shared/peers/livekit-agents) in
// this same invocation, so every side-by-side figure compares two measurements taken minutes apart on the same
// machine; our benches then read the peer's lines (PIOPIY_BENCH_PEER_RESULTS) and print them beside ours. Every line
// of both is also written to .bench/results.jsonl, and the concurrency plot to bench/out/concurrency.svg.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { derivedFigures } from './derived.js';
import { preparePeer, peerArguments, PEER_RESULTS_FILE } from './peers.js';
import { writeConcurrencyPlot } from './plot.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const resultsFile = join(root, '.bench', 'results.jsonl');
const plotFile = join(benchDir, 'out', 'concurrency.svg');

const args = process.argv.slice(2);
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
const withPeers = args.includes('--peers');
const passThrough = (onlyIndex >= 0 ? [...args.slice(0, onlyIndex), ...args.slice(onlyIndex + 2)] : args).filter(
  (a) => a !== '--peers',
);

const lines: string[] = [];

/** Runs a child process, forwarding its stdout lines (and keeping the JSON ones); resolves with its exit status. */
function runForwarding(command: string, commandArgs: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { ...options, stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: child.stdout }).on('line', (line) => {
      process.stdout.write(`${line}\n`);
      if (line.startsWith('{')) lines.push(line);
    });
    child.on('close', (code, signal) => resolve(code === 0 ? 'ok' : `exited with ${code ?? signal}`));
    child.on('error', (error) => resolve(`could not start: ${error.message}`));
  });
}

let failed = 0;
const env: NodeJS.ProcessEnv = { ...process.env };

if (withPeers) {
  const peer = await preparePeer(root);
  if (peer.ok) {
    const before = lines.length;
    const status = await runForwarding(process.execPath, [join(peer.dir, 'bench.mjs'), ...peerArguments(passThrough)], { cwd: peer.dir });
    mkdirSync(dirname(PEER_RESULTS_FILE(root)), { recursive: true });
    writeFileSync(PEER_RESULTS_FILE(root), lines.slice(before).map((l) => `${l}\n`).join(''));
    env.PIOPIY_BENCH_PEER_RESULTS = PEER_RESULTS_FILE(root);
    if (status !== 'ok') {
      failed++;
      process.stdout.write(`${JSON.stringify({ name: 'peer:livekit-agents', error: status })}\n`);
    }
  } else {
    failed++;
    process.stdout.write(`${JSON.stringify({ name: 'peer:livekit-agents', error: peer.error })}\n`);
  }
}

const files = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only === undefined || f.includes(only))
  .sort();

for (const file of files) {
  const status = await runForwarding(process.execPath, ['--expose-gc', '--import', 'tsx', join(benchDir, file), ...passThrough], { env });
  if (status !== 'ok') {
    failed++;
    const line = JSON.stringify({ name: file, error: status });
    lines.push(line);
    process.stdout.write(`${line}\n`);
  }
}

for (const figure of derivedFigures(lines)) {
  const line = JSON.stringify(figure);
  lines.push(line);
  process.stdout.write(`${line}\n`);
}

mkdirSync(dirname(resultsFile), { recursive: true });
writeFileSync(resultsFile, lines.map((l) => `${l}\n`).join(''));
if (writeConcurrencyPlot(lines, plotFile)) process.stderr.write(`[bench] concurrency plot written to ${plotFile}\n`);
process.exit(failed === 0 ? 0 : 1);
