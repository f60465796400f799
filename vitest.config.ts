import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  // Examples import the package by its name, as users do; in the repository that is the source.
  resolve: {
    alias: [
      { find: /^piopiy-ai$/, replacement: src('index.ts') },
      { find: /^piopiy-ai\/testing$/, replacement: src('testing/index.ts') },
      { find: /^piopiy-ai\/services\/(.+)$/, replacement: src('services/$1/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // The slow suites run on their own: vitest run -c vitest.slow.config.ts
    exclude: [...configDefaults.exclude, 'test/slow/**'],
    pool: 'forks',
    // Two files at a time on CI's two cores: most test time is waiting on real sockets and real-time audio, not CPU
    // (vitest's default, one fewer worker than cores, ran the suite one file at a time there: 463 s -> 238 s).
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ['default', ['./test/support/summary-reporter.ts', { suite: 'fast' }]],
  },
});
