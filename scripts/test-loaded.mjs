#!/usr/bin/env node
// `npm test` while other processes keep every core busy, as on CI's shared machine: a check for developers, not
// part of CI. The load is `stress-ng --cpu <cores>` where Debian's stress-ng is installed, otherwise one Node busy
// loop per core. Exits with npm test's exit code.
//
//   npm run test:loaded [-- --times 3]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const timesIndex = process.argv.indexOf('--times');
const times = timesIndex >= 0 ? Number(process.argv[timesIndex + 1]) : 1;
if (!Number.isInteger(times) || times < 1) {
  process.stderr.write('usage: npm run test:loaded [-- --times N]\n');
  process.exit(2);
}

function startLoad(cores) {
  if (existsSync('/usr/bin/stress-ng')) {
    return [spawn('/usr/bin/stress-ng', ['--cpu', String(cores), '--quiet'], { stdio: 'ignore' })];
  }
  return Array.from({ length: cores }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

const cores = availableParallelism();
const load = startLoad(cores);
const stopLoad = () => {
  for (const child of load) child.kill('SIGKILL');
};
process.on('exit', stopLoad);
process.stderr.write(`[test:loaded] ${load.length === 1 ? 'stress-ng' : 'busy loops'} on ${cores} cores; npm test x ${times}\n`);
let worst = 0;
for (let run = 1; run <= times; run++) {
  const started = Date.now();
  const { status } = spawnSync('npm', ['test'], { cwd: root, stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  process.stderr.write(`[test:loaded] run ${run} of ${times}: exit ${status} in ${seconds} s\n`);
  if (status !== 0) worst = status ?? 1;
}
stopLoad();
process.exit(worst);
