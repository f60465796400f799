// A crashed test process must fail `npm test` and be named: vitest alone says only "Worker exited unexpectedly".
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');

describe('the closing summary of npm test', () => {
  it('names a test file whose process died, counts its unfinished tests as failed, and the run exits non-zero', () => {
    const vitest = join(root, 'node_modules/vitest/vitest.mjs');
    const run = spawnSync(process.execPath, [vitest, 'run', '-c', 'test/support/fixtures/vitest.fixtures.config.ts', 'test/support/fixtures/fork-crash.fixture.ts'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      timeout: 120_000,
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/Worker exited unexpectedly/);
    expect(run.stdout).toMatch(
      /^did not finish: test\/support\/fixtures\/fork-crash\.fixture\.ts \(2 of 2 tests have no result: its test process died/m,
    );
    // The two unfinished tests and vitest's own error about the dead process.
    expect(run.stdout).toMatch(/^tests: 0 passed, 3 failed, 0 skipped$/m);
  });
});
