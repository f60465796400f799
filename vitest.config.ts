import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

/** Test folders whose files keep no process-wide state (see `projects` below). */
export const SHARED_PROCESS = [
  'test/conversation/**/*.test.ts',
  'test/frames/**/*.test.ts',
  'test/llm/**/*.test.ts',
  'test/pipeline/**/*.test.ts',
  'test/runtime/**/*.test.ts',
  'test/services/!(local)/**/*.test.ts',
  'test/testing/**/*.test.ts',
  'test/transports/**/*.test.ts',
  'test/turns/**/*.test.ts',
  'test/voicemail/**/*.test.ts',
];

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
    // The files are the projects' below (a project extending this config would add to an `include` here). The slow
    // suites run on their own: vitest run -c vitest.slow.config.ts
    pool: 'forks',
    // Two files at a time on CI's two cores: most test time is waiting on real sockets and real-time audio, not CPU
    // (vitest's default, one fewer worker than cores, ran the suite one file at a time there: 463 s -> 238 s).
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Files that keep no process-wide state share their test processes (isolate: false): loading the sources once
    // per process instead of once per file saved a third of the suite's time. The rest keep a fresh process each:
    // they change process.env, mock modules, count the process's resources (soak, isolation), load native engines
    // or Silero once per process (prewarm), or spawn the CLI.
    projects: [
      { extends: true, test: { name: 'shared', include: SHARED_PROCESS, isolate: false } },
      {
        extends: true,
        test: { name: 'isolated', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/slow/**', ...SHARED_PROCESS] },
      },
    ],
    reporters: ['default', ['./test/support/summary-reporter.ts', { suite: 'fast' }]],
  },
});
