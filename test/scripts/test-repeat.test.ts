// The crash hunt script (npm run test:repeat) on two fixture files: one always passes, one kills its own process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const logs = mkdtempSync(join(tmpdir(), 'piopiy-test-repeat-'));
afterAll(() => rmSync(logs, { recursive: true, force: true }));

function repeat(...args: string[]) {
  return spawnSync(
    process.execPath,
    ['scripts/test-repeat.mjs', ...args, '--config', 'test/support/fixtures/vitest.fixtures.config.ts', '--logs', logs],
    { cwd: root, encoding: 'utf8', timeout: 180_000 },
  );
}

describe('npm run test:repeat', () => {
  it('runs each file the given number of times in fresh processes and counts passes, crashes and failures', () => {
    const run = repeat('test/support/fixtures/passes.fixture.ts', 'test/support/fixtures/fork-crash.fixture.ts', '--times', '2', '--jobs', '2');
    expect(run.status).toBe(1);
    const lines = run.stdout.split('\n');
    const perFile = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(perFile).toEqual([
      { file: 'test/support/fixtures/passes.fixture.ts', runs: 2, passed: 2, failed: 0, crashed: 0, meanSeconds: expect.any(Number) as number },
      { file: 'test/support/fixtures/fork-crash.fixture.ts', runs: 2, passed: 0, failed: 0, crashed: 2, meanSeconds: expect.any(Number) as number },
    ]);
    expect(lines).toContain('test:repeat: 2 runs passed, 0 failed, 2 crashed');
    // Each crash names the log it left, and the log holds vitest's own report of the dead process.
    const crashLogs = lines.filter((line) => line.startsWith('crash: ')).map((line) => line.replace(/^.*, log /, ''));
    expect(crashLogs).toHaveLength(2);
    for (const log of crashLogs) expect(readFileSync(join(root, log), 'utf8')).toMatch(/did not finish: test\/support\/fixtures\/fork-crash/);
  });

  it('exits 0 when every run passed, and refuses a missing file or a bad count', () => {
    expect(repeat('test/support/fixtures/passes.fixture.ts', '--times', '1').status).toBe(0);
    const missing = repeat('test/support/fixtures/nope.fixture.ts', '--times', '1');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no such test file: test\/support\/fixtures\/nope\.fixture\.ts/);
    expect(repeat('test/support/fixtures/passes.fixture.ts', '--times', '0').stderr).toMatch(/--times takes a whole number >= 1/);
  });
});
