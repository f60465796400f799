// Prints one plain closing line after vitest's own summary, `tests: N passed, N failed, N skipped`, so CI logs
// and scripts can read the result without parsing coloured output. `npm test` runs the fast suite and the slow one
// (each its own vitest run, side by side: scripts/test.mjs); each run leaves its counts in
// node_modules/.vitest-totals-<suite>.json, and scripts/test.mjs closes with the line counting every test.
//
// A test process that dies (a native crash: SIGSEGV in a worker thread, an abort) leaves its file's tests without
// a result, and vitest reports only "Worker exited unexpectedly" without naming the file. This reporter names
// each such file on a `did not finish:` line and counts its unfinished tests as failed, and counts every
// unhandled error as a failure too, so a crash never reads as "0 failed".
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Reporter, SerializedError, TestModule } from 'vitest/node';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

export default class SummaryReporter implements Reporter {
  /** `suite` names the file the counts are left in for scripts/test.mjs. */
  constructor(private readonly options: { suite?: string } = {}) {}

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
    if (this.options.suite !== undefined) {
      writeFileSync(join(process.cwd(), 'node_modules', `.vitest-totals-${this.options.suite}.json`), JSON.stringify(counts));
    }
    if (lines.length > 0) process.stdout.write(`\n${lines.join('\n')}\n`);
    process.stdout.write(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
