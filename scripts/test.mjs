#!/usr/bin/env node
// `npm test` after the bootstrap: the type-check, the lint, the fast suite and the slow suite, in two lanes
// (scripts/test-lanes.mjs):
//
//   shown live, one after another: the fast suite (vitest.config.ts), then the slow suite's real-time files
//           (calls, WebRTC, a browser, worker processes);
//   beside the fast suite, from the start: tsc, eslint and the slow suite's installs of the packed tarball (init,
//           pack-install), their output shown after the fast suite's.
//
// Why: tsc and eslint are one thread each and the installs wait on npm (the registry, the disk), while the fast
// suite waits on sockets and real-time audio half of the time; side by side they share CI's two cores. The slow
// suite's real-time files measure audio and timing, so they run last with nothing of ours beside them. They are
// all still the slow suite's files, run with its configuration (vitest.slow.config.ts).
//
//   PIOPIY_TEST_LANES=1 npm test    the steps one after the other, everything shown live.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTestLanes } from './test-lanes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
/** The slow files that install the packed tarball (they share one install: test/support/installed-tarball.ts). */
const INSTALLS = ['test/slow/init.test.ts', 'test/slow/pack-install.test.ts'];
// Where test/support/summary-reporter.ts leaves each suite's counts.
const totals = (suite) => join(root, 'node_modules', `.vitest-totals-${suite}.json`);

const code = await runTestLanes(
  {
    beside: [
      { name: 'typecheck', command: bin('tsc'), args: ['-p', 'tsconfig.json', '--noEmit'] },
      { name: 'lint', command: bin('eslint'), args: ['--max-warnings', '0', '.'] },
      {
        name: 'slow suite (installs)',
        command: bin('vitest'),
        args: ['run', '-c', 'vitest.slow.config.ts', ...INSTALLS],
        env: { PIOPIY_TEST_SUITE: 'slow-installs' },
      },
    ],
    live: [
      { name: 'fast suite', command: bin('vitest'), args: ['run'] },
      {
        name: 'slow suite (real time)',
        command: bin('vitest'),
        args: ['run', '-c', 'vitest.slow.config.ts', ...INSTALLS.flatMap((file) => ['--exclude', file])],
        env: { PIOPIY_TEST_SUITE: 'slow' },
      },
    ],
    totals: { fast: totals('fast'), 'slow (installs)': totals('slow-installs'), 'slow (real time)': totals('slow') },
  },
  { cwd: root, sequential: process.env.PIOPIY_TEST_LANES === '1' },
);
process.exit(code);
