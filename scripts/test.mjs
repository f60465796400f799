#!/usr/bin/env node
// `npm test` after the bootstrap: the type-check, the lint, the fast suite and the slow suite, in two lanes
// (scripts/test-lanes.mjs):
//
//   lane 1: tsc and eslint side by side (each is one thread), then the fast suite (vitest.config.ts), shown live;
//   lane 2: the slow suite (vitest.slow.config.ts) from the start, its output kept and shown after lane 1's.
//
// Why two lanes: the slow suite spends most of its time waiting (npm installs, calls in real time, a browser), so
// on CI's two cores it fits beside the CPU-bound checks and the fast suite; one after the other took about 15
// minutes. It is still its own vitest run with its own configuration and report, and its tests have the generous
// bounds of a shared machine (`npm run test:loaded` runs all of this under stress-ng on every core).
//
//   PIOPIY_TEST_LANES=1 npm test    the steps one after the other, everything shown live.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTestLanes } from './test-lanes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
// Where test/support/summary-reporter.ts leaves each suite's counts.
const totals = (suite) => join(root, 'node_modules', `.vitest-totals-${suite}.json`);

const code = await runTestLanes(
  {
    checks: [
      { name: 'typecheck', command: bin('tsc'), args: ['-p', 'tsconfig.json', '--noEmit'] },
      { name: 'lint', command: bin('eslint'), args: ['--max-warnings', '0', '.'] },
    ],
    fast: { name: 'fast suite', command: bin('vitest'), args: ['run'] },
    slow: { name: 'slow suite', command: bin('vitest'), args: ['run', '-c', 'vitest.slow.config.ts'] },
    totals: { fast: totals('fast'), slow: totals('slow') },
  },
  { cwd: root, sequential: process.env.PIOPIY_TEST_LANES === '1' },
);
process.exit(code);
