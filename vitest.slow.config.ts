// The slow suites (test/slow/**: a real browser, whole calls in real time), run on their own:
// `vitest run -c vitest.slow.config.ts`. Same aliases and pool as vitest.config.ts; its closing line adds the fast suite's counts; longer timeouts,
// one file at a time. (Not mergeConfig: it would concatenate `include`/`exclude` with the fast suite's.)
import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/slow/**/*.test.ts'],
    exclude: [...configDefaults.exclude],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    // scripts/test.mjs runs the slow files in two parts, each leaving its counts under its own name.
    reporters: ['default', ['./test/support/summary-reporter.ts', { suite: process.env.PIOPIY_TEST_SUITE ?? 'slow' }]],
  },
});
