#!/usr/bin/env node
// `npm test` after the bootstrap (runner: scripts/test-lanes.mjs): eslint with tsc beside it (each is one thread,
// neither runs a test), then the fast suite (vitest.config.ts), then the slow suite (vitest.slow.config.ts), each
// alone and shown live. Every step runs to its end, so one failure does not hide another; the last line counts every
// test.
//
// Why the suites do not overlap: measured on CI's two cores, running tsc, eslint and the slow suite's npm installs
// beside the fast suite cut `npm test` from ~14 to ~12.5 minutes on a quiet machine, but with every core also kept
// busy (npm run test:loaded) two real-time tests of the fast suite (a carrier demo call, a stalled Silero worker)
// timed out. The suites' real-time bounds are set for a loaded machine, not for our own steps competing with them.
//
//   PIOPIY_TEST_LANES=1 npm test    every step one after the other.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTestLanes } from './test-lanes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
// Where test/support/summary-reporter.ts leaves each suite's counts.
const totals = (suite) => join(root, 'node_modules', `.vitest-totals-${suite}.json`);

const code = await runTestLanes(
  {
    beside: [{ name: 'typecheck', command: bin('tsc'), args: ['-p', 'tsconfig.json', '--noEmit'] }],
    live: [
      { name: 'lint', command: bin('eslint'), args: ['--max-warnings', '0', '.'] },
      { name: 'fast suite', command: bin('vitest'), args: ['run'] },
      { name: 'slow suite', command: bin('vitest'), args: ['run', '-c', 'vitest.slow.config.ts'] },
    ],
    totals: { fast: totals('fast'), slow: totals('slow') },
  },
  { cwd: root, sequential: process.env.PIOPIY_TEST_LANES === '1' },
);
process.exit(code);
