// Prints one plain closing line after vitest's own summary, `tests: N passed, N failed, N skipped`, so CI logs
// and scripts can read the result without parsing coloured output. `npm test` runs the fast suite and then the
// slow one (its own step): the fast run records its counts (`totals: 'write'`) and the slow run adds them
// (`totals: 'add'`), so the last line of `npm test` counts every test.
//
// A test process that dies (a native crash: SIGSEGV in a worker thread, an abort) leaves its file's tests without
// a result, and vitest reports only "Worker exited unexpectedly" without naming the file. This reporter names
// each such file on a `did not finish:` line and counts its unfinished tests as failed, and counts every
// unhandled error as a failure too, so a crash never reads as "0 failed".
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Reporter, SerializedError, TestModule } from 'vitest/node';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const TOTALS_FILE = join(process.cwd(), 'node_modules', '.vitest-totals.json');

export default class SummaryReporter implements Reporter {
  constructor(private readonly options: { totals?: 'write' | 'add' } = {}) {}

  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError> = []): void {
    const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
    const lines: string[] = [];
    for (const module of testModules) {
      let unfinished = 0;
      let all = 0;
      for (const test of module.children.allTests()) {
        all++;
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else if (state === 'pending') unfinished++;
        else counts.skipped++;
      }
      counts.failed += unfinished;
      if (unfinished > 0) {
        const file = relative(process.cwd(), module.moduleId);
        lines.push(`did not finish: ${file} (${unfinished} of ${all} tests have no result: its test process died or the run was cut short)`);
      }
      // A file that failed to load has no tests but must not read as a pass.
      if (module.state() === 'failed' && module.children.size === 0) counts.failed++;
    }
    for (const error of unhandledErrors) {
      counts.failed++;
      const cause = error.cause?.message;
      lines.push(`unhandled error: ${error.message}${cause === undefined ? '' : ` (${cause})`}`);
    }
    let total = counts;
    if (this.options.totals === 'write') {
      writeFileSync(TOTALS_FILE, JSON.stringify(counts));
    } else if (this.options.totals === 'add' && existsSync(TOTALS_FILE)) {
      const earlier = JSON.parse(readFileSync(TOTALS_FILE, 'utf8')) as Counts;
      total = {
        passed: earlier.passed + counts.passed,
        failed: earlier.failed + counts.failed,
        skipped: earlier.skipped + counts.skipped,
      };
      process.stdout.write(`\nslow: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
    }
    if (lines.length > 0) process.stdout.write(`\n${lines.join('\n')}\n`);
    process.stdout.write(`\ntests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
  }
}
